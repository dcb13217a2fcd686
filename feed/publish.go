package feed

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Output is one built feed: what HTTP needs to serve it. A small current
// feed is held in memory; a large one, and every archive page, is served
// from its file in the output folder, so that a build's memory does not
// grow with the feeds' size.
type Output struct {
	Path        string // below the site root: "feed.xml", "tags/{slug}/atom.xml"
	ContentType string
	Body        []byte // nil when the feed is served from File
	File        string // the feed's file in the output folder
	Size        int64
	ETag        string // strong, of the bytes; the gzip variant appends "-gz"
	Modified    time.Time
	Archive     bool // an RFC 5005 archive page: stable once full

	onDisk bool     // written to the output folder; a failed write is retried on the next build
	sum    [32]byte // of the inputs it was built from: equal sums, equal bytes

	gzipOnce sync.Once
	gzip     []byte
	gzipErr  error
}

// Bytes returns the feed's bytes, from memory or from its file.
func (o *Output) Bytes() ([]byte, error) {
	if o.Body != nil {
		return o.Body, nil
	}
	return os.ReadFile(o.File)
}

// Gzip returns the feed gzipped, for clients that accept it. It is
// compressed on the first call and kept as long as the feed is unchanged:
// a build would otherwise spend most of its time compressing the feeds of
// every tag, most of which no client asks for compressed before they
// change.
func (o *Output) Gzip() ([]byte, error) {
	o.gzipOnce.Do(func() {
		body, err := o.Bytes()
		if err != nil {
			o.gzipErr = err
			return
		}
		var gz bytes.Buffer
		gz.Grow(len(body)/4 + 64)                    // feeds compress to about a fifth
		zw, _ := gzip.NewWriterLevel(&gz, gzipLevel) // the level is valid
		zw.Write(body)                               // writes to a bytes.Buffer do not fail
		zw.Close()
		o.gzip = gz.Bytes()
	})
	return o.gzip, o.gzipErr
}

// inMemory is the largest current feed held in memory to be served.
const inMemory = 2 << 20

// formats are the three feeds of every channel. Each writes straight to
// w as it encodes, item by item.
// item renders one article's item in the format, the same in every
// feed. archived formats have RFC 5005 archive pages; JSON Feed has no
// such thing. Only formats with text carry an article's plain text, so
// only their builds read it.
var formats = []struct {
	name, contentType string
	write             func(w io.Writer, s *Site, ch *channel, generator string) error
	item              func(ib *itemBuf, s *Site, ch *channel, a *Article) ([]byte, error)
	archived, text    bool
}{
	{"feed.xml", "application/rss+xml; charset=utf-8", writeRSS, renderRSSItem, true, false},
	{"atom.xml", "application/atom+xml; charset=utf-8", writeAtom, renderAtom, true, false},
	{"feed.json", "application/feed+json; charset=utf-8", func(w io.Writer, s *Site, c *channel, _ string) error { return writeJSONFeed(w, s, c) },
		func(ib *itemBuf, s *Site, _ *channel, a *Article) ([]byte, error) { return renderJSONItem(ib, s, a) }, false, true},
}

// gzipLevel is gzip's default, 6. A feed is compressed once per change and
// served many times, and the first client to ask waits for it: level 9
// takes about twice as long for bodies 0.3% smaller, and level 1 makes
// every response 20 to 45% larger.
const gzipLevel = gzip.DefaultCompression

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

	mu      sync.Mutex        // one build at a time
	sources map[string]string // upstream feed URLs by name, of the build under way
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

// Build builds the site feeds, one set per tag, and the archive pages of
// each (RFC 5005). A feed whose inputs (its articles' ids, hashes and
// dates, the site settings) are those it was last built from is not
// built again; one that is, is streamed to a temp file and renamed over
// the old one only when its bytes changed; the feeds of tags that are
// gone are removed. Each item is rendered once per format and shared by
// every feed that carries it. The served set is replaced even when
// writing to disk fails: a feed whose file could not be written is served
// from memory when it is small, else as it was before.
func (p *Publisher) Build(ctx context.Context) (BuildResult, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	var res BuildResult
	now := p.Now()
	docs, err := p.documents(ctx, now)
	if err != nil {
		return res, err
	}
	prev := map[string]*Output{}
	if m := p.current.Load(); m != nil {
		prev = *m
	}
	next := make(map[string]*Output, len(docs)*len(formats))
	sums := articleSums(docs)
	settings := fmt.Sprintf("%s\x00%+v", p.Generator, p.Site)
	var changedURLs []string
	var errs []error
	for _, f := range formats {
		// What is to be built in this format, and the articles they carry.
		var todo []*channel
		var todoSums [][32]byte
		need := map[string]*Article{}
		for _, ch := range docs {
			if ch.Page != "" && !f.archived {
				continue
			}
			path := ch.path(f.name)
			sum := p.docSum(ch, f.name, settings, sums)
			if old := prev[path]; old != nil && old.onDisk && old.sum == sum {
				next[path] = old
				res.Unchanged++
				continue
			}
			todo = append(todo, ch)
			todoSums = append(todoSums, sum)
			for _, a := range ch.Articles {
				need[a.ID] = a
			}
		}
		if len(todo) == 0 {
			continue
		}
		cache := &itemCache{}
		if err := p.renderItems(ctx, f.name, f.text, f.item, need, cache); err != nil {
			return res, err
		}
		for i, w := range p.writeAll(todo, cache, f.name, f.contentType, f.write, prev, now) {
			ch, out, changed, err := todo[i], w.out, w.changed, w.err
			path := ch.path(f.name)
			if err != nil {
				errs = append(errs, err)
			}
			if out == nil {
				continue
			}
			out.sum = todoSums[i]
			next[path] = out
			if changed {
				res.Written++
				if ch.Page == "" {
					changedURLs = append(changedURLs, p.Site.URL(path))
				}
			} else {
				res.Unchanged++
			}
		}
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

// written is what write did with one document.
type written struct {
	out     *Output
	changed bool
	err     error
}

// writeAll writes the documents of one format, on every core: each is
// its own file, and most of a build of large feeds is spent copying their
// bytes to the kernel and hashing them. The results come back in the
// order of chs.
func (p *Publisher) writeAll(chs []*channel, cache *itemCache, name, contentType string, enc func(io.Writer, *Site, *channel, string) error, prev map[string]*Output, now time.Time) []written {
	res := make([]written, len(chs))
	next := make(chan int)
	var wg sync.WaitGroup
	for range min(runtime.GOMAXPROCS(0), len(chs)) {
		wg.Go(func() {
			for i := range next {
				ch := chs[i]
				ch.items = cache
				out, changed, err := p.write(ch, name, contentType, enc, prev[ch.path(name)], now)
				ch.items = nil // this format's items are let go before the next's are rendered
				res[i] = written{out, changed, err}
			}
		})
	}
	for i := range chs {
		next <- i
	}
	close(next)
	wg.Wait()
	return res
}

// renderItems renders the items of the articles in need in one format
// into cache (with their plain text read only when the format has text), their content loaded a batch at a time and let go once
// rendered: the cache of one format is the most a build holds. The next
// batch is read while the one before it is rendered on every core, so
// that the database and the encoders work at once.
func (p *Publisher) renderItems(ctx context.Context, format string, text bool, render func(*itemBuf, *Site, *channel, *Article) ([]byte, error), need map[string]*Article, cache *itemCache) error {
	ids := make([]string, 0, len(need))
	for id := range need {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	ctx, cancel := context.WithCancel(ctx)
	ch := &channel{items: cache, Sources: p.sources} // the same sources for every channel of a build
	const batch = 500
	batches := make(chan []*Article, 1)
	var readErr error
	var reader sync.WaitGroup
	reader.Go(func() {
		defer close(batches)
		for i := 0; i < len(ids); i += batch {
			full, err := p.Store.contents(ctx, ids[i:min(i+batch, len(ids))], p.Site.MaxItemBytes, text)
			if err != nil {
				readErr = err
				return
			}
			select {
			case batches <- full:
			case <-ctx.Done():
				return
			}
		}
	})
	defer func() {
		cancel() // stops the reading when rendering failed
		reader.Wait()
	}()
	for full := range batches {
		// Items are independent, and the cache takes them in any order.
		workers := min(runtime.GOMAXPROCS(0), len(full))
		errs := make([]error, workers)
		var wg sync.WaitGroup
		for w := range workers {
			wg.Go(func() {
				var ib itemBuf
				for j := w; j < len(full); j += workers {
					c := full[j]
					a := *c                                       // the whole row
					idx := need[c.ID]                             // as the index had it
					a.Tags, a.Published = idx.Tags, idx.Published // the same, unless an edit came in between
					a.Updated = idx.Updated
					p.Site.cutContent(&a)
					if _, _, err := ch.item(format, &a, &ib, true, func(ib *itemBuf) ([]byte, error) { return render(ib, &p.Site, ch, &a) }); err != nil {
						errs[w] = fmt.Errorf("build %s item %s: %w", format, a.ID, err)
						return
					}
				}
			})
		}
		wg.Wait()
		if err := errors.Join(errs...); err != nil {
			return err
		}
	}
	reader.Wait()
	return readErr
}

// documents lists the site channel, one per tag slug, and the archive
// pages of each, their articles as the index has them (no title or
// content: renderItems loads those).
func (p *Publisher) documents(ctx context.Context, now time.Time) ([]*channel, error) {
	all, err := p.Store.feedIndex(ctx, now, p.Site.MaxItemBytes)
	if err != nil {
		return nil, err
	}
	srcs, err := p.Store.Sources(ctx)
	if err != nil {
		return nil, err
	}
	p.sources = make(map[string]string, len(srcs))
	for _, st := range srcs {
		p.sources[st.Name] = st.URL
	}
	tags := tagsOf(all)
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
	// Each tag's articles, newest first as all is: an article is in the
	// feed of every slug one of its tags folds into.
	members := map[string][]*Article{}
	for _, a := range all {
		var seen []string
		for _, t := range a.Tags {
			s := TagSlug(t)
			if s == "" || bySlug[s] == nil || slices.Contains(seen, s) {
				continue
			}
			seen = append(seen, s)
			members[s] = append(members[s], a)
		}
	}
	docs := pages(&channel{Title: p.Site.Title, Articles: all, Sources: p.sources}, p.Site.Items)
	for _, s := range slugs {
		docs = append(docs, pages(&channel{Title: p.Site.Title + ": " + bySlug[s][0], Dir: TagPath(s), Articles: members[s], Sources: p.sources}, p.Site.Items)...)
	}
	return docs, nil
}

// tagsOf is what Store.Tags returns, from the articles in hand: every
// tag, each spelled as its smallest spelling (MIN), sorted and told apart
// case-insensitively as SQLite's NOCASE does (ASCII letters only).
func tagsOf(as []*Article) []string {
	spelling := map[string]string{}
	for _, a := range as {
		for _, t := range a.Tags {
			k := asciiLower(t)
			if old, ok := spelling[k]; !ok || t < old {
				spelling[k] = t
			}
		}
	}
	keys := make([]string, 0, len(spelling))
	for k := range spelling {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	tags := make([]string, len(keys))
	for i, k := range keys {
		tags[i] = spelling[k]
	}
	return tags
}

func asciiLower(s string) string {
	return strings.Map(func(r rune) rune {
		if 'A' <= r && r <= 'Z' {
			return r + 'a' - 'A'
		}
		return r
	}, s)
}

// pages cuts a channel of all its articles, newest first, into its
// current feed, the newest n, and its archive pages (RFC 5005): the
// articles counted from the oldest, n to a page, only full pages. Page
// 1 holds the oldest n. An article added at the top never moves one
// already archived, so a full page stays as it is; the current feed may
// carry some articles of the newest page too.
func pages(ch *channel, n int) []*channel {
	all := ch.Articles
	if n <= 0 || len(all) <= n {
		return []*channel{ch}
	}
	cur := *ch
	cur.Articles = all[:n]
	full := len(all) / n
	cur.Prev = archiveDir(ch.Dir, full)
	docs := []*channel{&cur}
	for k := 1; k <= full; k++ {
		pg := *ch
		pg.Articles = all[len(all)-k*n : len(all)-(k-1)*n]
		pg.Page = archiveDir(ch.Dir, k)
		if k > 1 {
			pg.Prev = archiveDir(ch.Dir, k-1)
		}
		// The next page is linked before it is full, so that this one does
		// not change when it is; until then it leads to the current feed.
		pg.Next = archiveDir(ch.Dir, k+1)
		docs = append(docs, &pg)
	}
	return docs
}

// archiveDir is the folder of a channel's archive page k.
func archiveDir(dir string, k int) string { return dir + "history/" + strconv.Itoa(k) + "/" }

// articleSums sums what of each article goes into its items.
func articleSums(docs []*channel) map[string][32]byte {
	sums := map[string][32]byte{}
	h := sha256.New()
	var buf []byte
	for _, ch := range docs {
		for _, a := range ch.Articles {
			if _, ok := sums[a.ID]; ok {
				continue
			}
			buf = buf[:0]
			for _, f := range [...]string{a.ID, a.Slug, a.Source, a.Path, a.Title, a.Author, a.Summary, a.Image, a.ContentHash} {
				buf = binary.AppendUvarint(buf, uint64(len(f)))
				buf = append(buf, f...)
			}
			buf = binary.AppendVarint(buf, a.Published.UnixNano())
			buf = binary.AppendVarint(buf, a.Updated.UnixNano())
			if a.ContentCut {
				buf = append(buf, 1)
			}
			buf = binary.AppendUvarint(buf, uint64(len(a.Tags)))
			for _, t := range a.Tags {
				buf = binary.AppendUvarint(buf, uint64(len(t)))
				buf = append(buf, t...)
			}
			h.Reset()
			h.Write(buf)
			sums[a.ID] = [32]byte(h.Sum(nil))
		}
	}
	return sums
}

// docSum sums the inputs of one document in one format: when it is what
// the served one was built from, the bytes would be the same. settings
// is the build's: the generator and the site.
func (p *Publisher) docSum(ch *channel, format, settings string, sums map[string][32]byte) [32]byte {
	h := sha256.New()
	fmt.Fprintf(h, "%s\x00%s\x00%q %q %q %q %q\x00", format, settings, ch.Title, ch.Dir, ch.Page, ch.Prev, ch.Next)
	for _, a := range ch.Articles {
		s := sums[a.ID]
		h.Write(s[:])
		if a.Syndicated() {
			io.WriteString(h, p.sources[a.Source]+"\x00")
		}
	}
	return [32]byte(h.Sum(nil))
}

// write streams one document to a temp file beside its path, hashing it
// as it goes, and renames it over the old file when its bytes differ.
// After a restart the file on disk is the previous version: equal bytes
// keep its modification time.
func (p *Publisher) write(ch *channel, name, contentType string, enc func(io.Writer, *Site, *channel, string) error, prev *Output, now time.Time) (*Output, bool, error) {
	path := ch.path(name)
	file := filepath.Join(p.OutputDir, filepath.FromSlash(path))
	if err := os.MkdirAll(filepath.Dir(file), 0o755); err != nil {
		return prev, false, fmt.Errorf("write feed %s: %w", file, err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(file), "."+filepath.Base(file)+".tmp*")
	if err != nil {
		return prev, false, fmt.Errorf("write feed %s: %w", file, err)
	}
	defer os.Remove(tmp.Name()) // a no-op after the rename
	sk := &sink{keep: ch.Page == "" && ch.itemBytes(name) <= inMemory}
	sk.w = bufio.NewWriterSize(io.MultiWriter(tmp, sk), 256<<10)
	sum := newDocHash()
	if err := enc(&hashedWriter{Writer: sk.w, sum: sum}, &p.Site, ch, p.Generator); err != nil {
		tmp.Close()
		return nil, false, fmt.Errorf("build %s: %w", path, err)
	}
	if err := sk.w.Flush(); err != nil {
		tmp.Close()
		return prev, false, fmt.Errorf("write feed %s: %w", file, err)
	}
	if sum.n != sk.n {
		tmp.Close()
		return nil, false, fmt.Errorf("build %s: %d of its %d bytes written past its ETag's sum", path, sk.n-sum.n, sk.n)
	}
	etag := sum.etag()
	out := &Output{Path: path, ContentType: contentType, Body: sk.mem, File: file, Size: sk.n, ETag: etag,
		Modified: now.UTC().Truncate(time.Second), Archive: ch.Page != ""}
	if !sk.keep {
		out.Body = nil
	}
	if prev != nil && prev.onDisk && prev.ETag == etag {
		tmp.Close()
		return prev, false, nil // served as it is: handlers may be reading it
	}
	if prev == nil && sameFile(file, tmp.Name(), sk.n) {
		tmp.Close()
		if fi, err := os.Stat(file); err == nil {
			out.Modified, out.onDisk = fi.ModTime().UTC().Truncate(time.Second), true
			return out, false, nil
		}
	}
	// No fsync: a feed is derived data, and the first build after a
	// restart compares every file with what it should hold (sameFile) and
	// rewrites one that a crash left short. Syncing each of them made a
	// build of large feeds wait on the disk for most of its time.
	err = tmp.Close()
	if err == nil {
		err = os.Chmod(tmp.Name(), 0o644)
	}
	if err == nil {
		err = os.Rename(tmp.Name(), file)
	}
	if err != nil {
		if out.Body == nil && prev != nil {
			return prev, false, fmt.Errorf("write feed %s: %w", file, err)
		}
		return out, true, fmt.Errorf("write feed %s: %w", file, err)
	}
	out.onDisk = true
	return out, true, nil
}

// itemBytes is the size of the rendered items of ch in format, as far as
// they are rendered already: a lower bound on the document's size.
func (ch *channel) itemBytes(format string) int {
	if ch.items == nil {
		return 0
	}
	ch.items.mu.Lock()
	defer ch.items.mu.Unlock()
	n := 0
	for _, a := range ch.Articles {
		n += len(ch.items.m[format][a.ID].b)
	}
	return n
}

// sameFile reports whether the file at path holds the size bytes that
// the file at written does: the feed as it is built now. (An ETag is
// of a feed's parts, which a file does not tell apart.)
func sameFile(path, written string, size int64) bool {
	f, err := os.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	if fi, err := f.Stat(); err != nil || fi.Size() != size {
		return false
	}
	g, err := os.Open(written)
	if err != nil {
		return false
	}
	defer g.Close()
	a, b := make([]byte, 256<<10), make([]byte, 256<<10)
	for {
		n, errA := io.ReadFull(f, a)
		m, errB := io.ReadFull(g, b)
		if n != m || !bytes.Equal(a[:n], b[:m]) {
			return false
		}
		if errA == io.EOF || errA == io.ErrUnexpectedEOF {
			return errB == errA
		}
		if errA != nil || errB != nil {
			return false
		}
	}
}

// sink counts what a feed's writer writes, and keeps a copy while it is
// small enough to be served from memory.
type sink struct {
	w    *bufio.Writer
	n    int64
	mem  []byte
	keep bool
}

func (s *sink) Write(b []byte) (int, error) {
	s.n += int64(len(b))
	if s.keep {
		if len(s.mem)+len(b) > inMemory {
			s.keep, s.mem = false, nil
		} else {
			s.mem = append(s.mem, b...)
		}
	}
	return len(b), nil
}

// removeStale deletes the feed files no longer built: those of tags that
// are gone and archive pages past the last, and their folders once
// empty. It touches no file tidings does not write: only feed file names
// below tags/ and history/.
func (p *Publisher) removeStale(current map[string]*Output) (int, error) {
	removed := 0
	var errs []error
	var dirs []string
	for _, top := range []string{"tags", "history"} {
		root := filepath.Join(p.OutputDir, top)
		err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				if errors.Is(err, fs.ErrNotExist) {
					return nil
				}
				return err
			}
			if d.IsDir() {
				dirs = append(dirs, path)
				return nil
			}
			if !isFeedFile(d.Name()) {
				return nil
			}
			rel, err := filepath.Rel(p.OutputDir, path)
			if err != nil || current[filepath.ToSlash(rel)] != nil {
				return nil
			}
			if err := os.Remove(path); err != nil {
				errs = append(errs, err)
			} else {
				removed++
			}
			return nil
		})
		if err != nil {
			errs = append(errs, fmt.Errorf("remove old feeds: %w", err))
		}
	}
	// Deepest first, so that a folder emptied of folders goes too.
	for i := len(dirs) - 1; i >= 0; i-- {
		if rest, err := os.ReadDir(dirs[i]); err == nil && len(rest) == 0 {
			os.Remove(dirs[i])
		}
	}
	return removed, errors.Join(errs...)
}

func isFeedFile(name string) bool {
	for _, f := range formats {
		if name == f.name {
			return true
		}
	}
	return false
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
