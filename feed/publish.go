package feed

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"sync/atomic"
	"time"
)

// Output is one built feed: its bytes and what HTTP needs to serve them.
type Output struct {
	Path        string // below the site root: "feed.xml", "tags/{slug}/atom.xml"
	ContentType string
	Body        []byte
	ETag        string // strong, of Body; the gzip variant appends "-gz"
	Modified    time.Time

	onDisk bool // written to the output folder; a failed write is retried on the next build

	gzipOnce sync.Once
	gzip     []byte
}

// Gzip returns Body gzipped, for clients that accept it. It is compressed
// on the first call and kept as long as the feed is unchanged: a build
// would otherwise spend most of its time compressing the feeds of every
// tag, most of which no client asks for compressed before they change.
func (o *Output) Gzip() []byte {
	o.gzipOnce.Do(func() {
		var gz bytes.Buffer
		gz.Grow(len(o.Body)/4 + 64)                  // feeds compress to about a fifth
		zw, _ := gzip.NewWriterLevel(&gz, gzipLevel) // the level is valid
		zw.Write(o.Body)                             // writes to a bytes.Buffer do not fail
		zw.Close()
		o.gzip = gz.Bytes()
	})
	return o.gzip
}

// formats are the three feeds of every channel. Each writes straight to
// w as it encodes, item by item.
var formats = []struct {
	name, contentType string
	write             func(w io.Writer, s *Site, ch *channel, generator string) error
}{
	{"feed.xml", "application/rss+xml; charset=utf-8", writeRSS},
	{"atom.xml", "application/atom+xml; charset=utf-8", writeAtom},
	{"feed.json", "application/feed+json; charset=utf-8", func(w io.Writer, s *Site, c *channel, _ string) error { return writeJSONFeed(w, s, c) }},
}

// gzipLevel is gzip's default, 6. A feed is compressed once per change and
// served many times, and the first client to ask waits for it: level 9
// takes about twice as long for bodies 0.3% smaller, and level 1 makes
// every response 20 to 45% larger.
const gzipLevel = gzip.DefaultCompression

// sizeHint guesses the largest of a channel's three feeds, the JSON Feed
// with the full content: its HTML and text plus a kilobyte of markup, ids,
// links and dates per item. A buffer grown to it once is not grown, and
// copied, again and again while an encoder writes.
func sizeHint(s *Site, ch *channel) int {
	n := 4 << 10
	for _, a := range ch.Articles {
		n += 1<<10 + 2*len(a.Title) + 3*len(a.Summary)
		if s.FullContent {
			n += len(a.ContentHTML) + len(a.ContentText)
		}
	}
	return n
}

// Publisher builds every feed, writes the changed ones to the output
// folder and keeps them in memory for the HTTP handler.
type Publisher struct {
	Store     *Store
	Site      Site
	OutputDir string
	Generator string // "tidings v1.2.3", in RSS and Atom
	Logger    *slog.Logger
	Now       func() time.Time
	// Changed, if set, is told the URLs of feeds whose bytes changed (for
	// WebSub). It must not block.
	Changed func(urls []string)

	mu      sync.Mutex // one build at a time
	current atomic.Pointer[map[string]*Output]
}

// BuildResult counts what a build did.
type BuildResult struct {
	Written, Unchanged, Removed int
}

// Lookup returns the built feed at path ("feed.xml", "tags/x/atom.xml"),
// or nil.
func (p *Publisher) Lookup(path string) *Output {
	m := p.current.Load()
	if m == nil {
		return nil
	}
	return (*m)[path]
}

// Build builds the site feeds and one set per tag. A feed is written, by
// temp file and rename, only when its bytes changed; the feeds of tags
// that are gone are removed. The in-memory set is replaced even when
// writing to disk fails, so HTTP serves the current feeds regardless.
func (p *Publisher) Build(ctx context.Context) (BuildResult, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	var res BuildResult
	now := p.Now()
	chans, err := p.channels(ctx, now)
	if err != nil {
		return res, err
	}
	prev := map[string]*Output{}
	if m := p.current.Load(); m != nil {
		prev = *m
	}
	next := make(map[string]*Output, len(chans)*len(formats))
	var changedURLs []string
	var errs []error
	// One buffer for every feed of the build, grown once to the largest:
	// fresh memory is slow to touch.
	var buf bytes.Buffer
	for i, ch := range chans {
		buf.Reset()
		buf.Grow(sizeHint(&p.Site, ch))
		for _, f := range formats {
			buf.Reset()
			if err := f.write(&buf, &p.Site, ch, p.Generator); err != nil {
				return res, fmt.Errorf("build %s%s: %w", ch.Dir, f.name, err)
			}
			path := ch.Dir + f.name
			out, changed, err := p.settle(path, f.contentType, buf.Bytes(), prev[path], now)
			if err != nil {
				errs = append(errs, err)
			}
			next[path] = out
			if changed {
				res.Written++
				changedURLs = append(changedURLs, p.Site.URL(path))
			} else {
				res.Unchanged++
			}
		}
		chans[i] = nil // its articles and model are no longer needed
	}
	p.current.Store(&next)
	removed, err := p.removeStale(next)
	res.Removed = removed
	if err != nil {
		errs = append(errs, err)
	}
	if len(changedURLs) > 0 && p.Changed != nil {
		p.Changed(changedURLs)
	}
	return res, errors.Join(errs...)
}

// channels lists the site channel and one per tag slug.
func (p *Publisher) channels(ctx context.Context, now time.Time) ([]*channel, error) {
	site, err := p.Store.List(ctx, ListOptions{Limit: p.Site.Items, Now: now, MaxContent: p.Site.MaxItemBytes})
	if err != nil {
		return nil, err
	}
	for _, a := range site {
		p.Site.cutContent(a)
	}
	srcs, err := p.Store.Sources(ctx)
	if err != nil {
		return nil, err
	}
	urls := make(map[string]string, len(srcs))
	for _, st := range srcs {
		urls[st.Name] = st.URL
	}
	chans := []*channel{{Title: p.Site.Title, Articles: site, Sources: urls}}
	tags, err := p.Store.Tags(ctx, now)
	if err != nil {
		return nil, err
	}
	bySlug := map[string][]string{}
	var slugs []string
	for _, t := range tags {
		s := TagSlug(t)
		if s == "" {
			continue
		}
		if bySlug[s] == nil {
			slugs = append(slugs, s)
		}
		bySlug[s] = append(bySlug[s], t)
	}
	sort.Strings(slugs)
	for _, s := range slugs {
		as, err := p.Store.List(ctx, ListOptions{Tags: bySlug[s], Limit: p.Site.Items, Now: now, MaxContent: p.Site.MaxItemBytes})
		if err != nil {
			return nil, err
		}
		for _, a := range as {
			p.Site.cutContent(a)
		}
		chans = append(chans, &channel{Title: p.Site.Title + ": " + bySlug[s][0], Dir: TagPath(s), Articles: as, Sources: urls})
	}
	return chans, nil
}

// settle compares fresh bytes with what was served and written before, and
// writes the file when they differ. After a restart the file on disk is the
// previous version: equal bytes keep its modification time.
func (p *Publisher) settle(path, contentType string, body []byte, prev *Output, now time.Time) (*Output, bool, error) {
	if prev != nil && prev.onDisk && bytes.Equal(prev.Body, body) {
		return prev, false, nil
	}
	file := filepath.Join(p.OutputDir, filepath.FromSlash(path))
	if prev == nil {
		if old, err := os.ReadFile(file); err == nil && bytes.Equal(old, body) {
			if fi, err := os.Stat(file); err == nil {
				out := newOutput(path, contentType, old, fi.ModTime())
				out.onDisk = true
				return out, false, nil
			}
		}
	}
	changed := prev == nil || !bytes.Equal(prev.Body, body)
	out := prev
	if changed {
		out = newOutput(path, contentType, bytes.Clone(body), now)
	}
	if err := writeAtomic(file, out.Body); err != nil {
		return out, changed, fmt.Errorf("write feed %s: %w", file, err)
	}
	out.onDisk = true
	return out, changed, nil
}

func newOutput(path, contentType string, body []byte, modified time.Time) *Output {
	sum := sha256.Sum256(body)
	return &Output{
		Path: path, ContentType: contentType, Body: body,
		ETag:     `"` + hex.EncodeToString(sum[:16]) + `"`,
		Modified: modified.UTC().Truncate(time.Second),
	}
}

// writeAtomic writes data to a temp file beside path and renames it over
// path, so a reader (or a web server serving the folder) never sees half.
func writeAtomic(path string, data []byte) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name()) // a no-op after the rename
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}

// removeStale deletes the feed files of tags that no longer have one, and
// their folders once empty. It touches no file tidings does not write.
func (p *Publisher) removeStale(current map[string]*Output) (int, error) {
	root := filepath.Join(p.OutputDir, "tags")
	entries, err := os.ReadDir(root)
	if errors.Is(err, fs.ErrNotExist) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("remove old tag feeds: %w", err)
	}
	removed := 0
	var errs []error
	for _, e := range entries {
		if !e.IsDir() || current[TagPath(e.Name())+formats[0].name] != nil {
			continue
		}
		dir := filepath.Join(root, e.Name())
		for _, f := range formats {
			err := os.Remove(filepath.Join(dir, f.name))
			if err == nil {
				removed++
			} else if !errors.Is(err, fs.ErrNotExist) {
				errs = append(errs, err)
			}
		}
		if rest, _ := os.ReadDir(dir); len(rest) == 0 {
			os.Remove(dir)
		}
	}
	return removed, errors.Join(errs...)
}

// Paths lists the paths of every built feed, sorted.
func (p *Publisher) Paths() []string {
	m := p.current.Load()
	if m == nil {
		return nil
	}
	paths := make([]string, 0, len(*m))
	for k := range *m {
		paths = append(paths, k)
	}
	sort.Strings(paths)
	return paths
}
