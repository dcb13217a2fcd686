package feed

import (
	"context"
	"fmt"
	"log/slog"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/tidings/tidings/feed/content"
	"github.com/tidings/tidings/internal/gcboost"
)

// Ingester scans content folders into the store.
type Ingester struct {
	Store    *Store
	Dirs     []string
	MaxBytes int64
	// FollowSymlinks lets a link with a content file's name be read when
	// it points at a regular file inside a content folder; otherwise
	// links are refused.
	FollowSymlinks bool
	// Private are files never read, wherever a link points: the config
	// and the database.
	Private []string
	// AssetDir is where the images and files that articles name next to
	// them are published (see AssetDir); "" publishes none, and their
	// references are only made absolute.
	AssetDir string
	BaseURL  string
	Location *time.Location
	Logger   *slog.Logger
	Now      func() time.Time

	mu     sync.Mutex
	logged map[string]rejection // by path: the rejections logged, so that each is logged once per change of its file
}

// rejection is a rejected file as logged: its size and modification time
// (-1 for a file the walk could not stat) and the reason.
type rejection struct {
	size, mtime int64
	reason      string
}

// ScanResult counts what one scan did.
type ScanResult struct {
	Added, Updated, Unchanged, Removed int
	Rejected                           []*FileError
}

// Changed reports whether the set of articles changed, so that feeds need
// building again.
func (r ScanResult) Changed() bool { return r.Added+r.Updated+r.Removed > 0 }

// contentSource is the source of articles from content files.
const contentSource = "content"

// Scan walks every content folder once. Unchanged files (same size and
// modification time) are not read. A file that cannot be read or parsed is
// reported and skipped; what the store already holds for it is kept. Only
// files that are gone unpublish their articles, and never because a folder
// could not be read.
//
// Scans may run at once, in one process or in several on one database:
// each write is decided on the row as its own transaction sees it, so
// both succeed and each article is stored once.
func (in *Ingester) Scan(ctx context.Context) (ScanResult, error) {
	var res ScanResult
	// Milliseconds are enough, and keep feed dates short.
	now := in.now().Truncate(time.Millisecond)
	r, err := content.NewRenderer(in.BaseURL)
	if err != nil {
		return res, err
	}
	byFile, err := in.Store.index(ctx)
	if err != nil {
		return res, err
	}
	var deps map[string][]assetDep
	if in.AssetDir != "" {
		if deps, err = in.Store.assetDeps(ctx); err != nil {
			return res, err
		}
	}

	var found []candidate
	var unreadable []fileKey // folders whose files must not be taken as deleted
	roots := realDirs(in.Dirs)
	for _, dir := range in.Dirs {
		cs, errs, bad := walkDir(dir, in.FollowSymlinks, roots)
		found = append(found, cs...)
		res.Rejected = append(res.Rejected, errs...)
		unreadable = append(unreadable, bad...)
	}

	present := make(map[fileKey]bool, len(found))
	claims := map[string]fileKey{} // id -> the file that holds it in this scan
	var toParse []candidate
	for _, c := range found {
		present[c.key()] = true
		if s, ok := byFile[c.key()]; ok && !s.removed && s.size == c.size && s.mtime == c.mtime && !in.assetsChanged(c, deps[s.id]) {
			res.Unchanged++
			claims[s.id] = c.key()
			continue
		}
		if c.size > in.MaxBytes {
			res.Rejected = append(res.Rejected, &FileError{Path: c.path(),
				Err: fmt.Errorf("%w: %d bytes, content.max_bytes is %d", ErrTooLarge, c.size, in.MaxBytes)})
			continue
		}
		toParse = append(toParse, c)
	}

	// Articles are written while later files are still being parsed, in
	// the walk's order, so that which of two files claiming one id is "the
	// second" does not depend on timing.
	w := in.Store.newWriter(now)
	defer w.rollback()
	// Parsing an article makes some forty times its size in garbage that
	// is dead by the next one: a large scan parses with the collector's
	// target raised.
	if len(toParse) >= gcBoostFiles {
		defer gcboost.Raise()()
	}
	var repaired []parseResult
	var gone []string
	err = in.parseAll(ctx, toParse, r, privateFiles(in.Private), func(pr parseResult) error {
		if pr.err != nil {
			res.Rejected = append(res.Rejected, &FileError{Path: pr.c.path(), Err: pr.err})
			return nil
		}
		if len(pr.p.Warnings) > 0 {
			repaired = append(repaired, parseResult{c: pr.c, p: content.Doc{Warnings: pr.p.Warnings}})
		}
		id := pr.p.ID
		if other, ok := claims[id]; ok {
			res.Rejected = append(res.Rejected, &FileError{Path: pr.c.path(),
				Err: fmt.Errorf("%w: %q is already the id of %s", ErrDuplicateID, id, other.path())})
			return nil
		}
		// The row as it is now, not as the index was: another scan may
		// have written it meanwhile.
		prev, err := w.find(ctx, id)
		if err != nil {
			return fmt.Errorf("save article %s: %w", pr.c.path(), err)
		}
		// An id held by another file that still exists stays with it; the
		// newcomer is the second claimant whatever the walk order.
		if prev != nil && !prev.removed && prev.file != pr.c.key() && (prev.source != contentSource || present[prev.file]) {
			owner := prev.source
			if prev.source == contentSource {
				owner = prev.file.path()
			}
			res.Rejected = append(res.Rejected, &FileError{Path: pr.c.path(),
				Err: fmt.Errorf("%w: %q is already the id of %s", ErrDuplicateID, id, owner)})
			return nil
		}
		claims[id] = pr.c.key()
		// A file that now names another id leaves its old article behind.
		if s, ok := byFile[pr.c.key()]; ok && !s.removed && s.id != id {
			gone = append(gone, s.id)
		}
		pr.p.Source = contentSource
		out, err := w.put(ctx, entry{doc: &pr.p, dir: pr.c.dir, size: pr.c.size, mtime: pr.c.mtime}, prev)
		if err != nil {
			return fmt.Errorf("save article %s: %w", pr.c.path(), err)
		}
		if in.AssetDir != "" {
			if err := w.setAssets(ctx, id, pr.assets, deps[id]); err != nil {
				return err
			}
		}
		res.count(out)
		return nil
	})
	if err != nil {
		return ScanResult{Rejected: res.Rejected}, err
	}

	for key, s := range byFile {
		if s.removed || present[key] || under(key, unreadable) {
			continue
		}
		gone = append(gone, s.id)
	}
	sort.Strings(gone)
	for _, id := range gone {
		if _, ok := claims[id]; ok {
			continue // another file holds it now: a file renamed, or two that swapped ids
		}
		removed, err := w.remove(ctx, id)
		if err != nil {
			return ScanResult{Rejected: res.Rejected}, fmt.Errorf("unpublish article %s: %w", id, err)
		}
		if removed {
			res.Removed++
		}
	}
	if err := w.commit(); err != nil {
		return ScanResult{Rejected: res.Rejected}, fmt.Errorf("save articles: %w", err)
	}
	in.report(repaired, res, found)
	return res, nil
}

// count adds one write's outcome.
func (r *ScanResult) count(o outcome) {
	switch o {
	case added:
		r.Added++
	case updated:
		r.Updated++
	default:
		r.Unchanged++
	}
}

func (in *Ingester) now() time.Time {
	if in.Now != nil {
		return in.Now()
	}
	return time.Now()
}

// report logs one line per repaired file and per rejected one, unless
// that rejection was logged before.
func (in *Ingester) report(results []parseResult, res ScanResult, found []candidate) {
	log := in.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler) // the rejections are still kept, for Rejections
	}
	for _, pr := range results {
		if pr.err == nil && len(pr.p.Warnings) > 0 {
			log.Warn("content file repaired", "path", pr.c.path(), "reason", strings.Join(pr.p.Warnings, "; "))
		}
	}
	// A file rejected on every poll is logged when it is first rejected
	// and again when it changes or is rejected for another reason: each
	// scan's result lists them all.
	stat := make(map[string]candidate, len(found))
	for _, c := range found {
		stat[c.path()] = c
	}
	in.mu.Lock()
	defer in.mu.Unlock()
	logged := make(map[string]rejection, len(res.Rejected))
	for _, fe := range res.Rejected {
		r := rejection{size: -1, mtime: -1, reason: fe.Err.Error()}
		if c, ok := stat[fe.Path]; ok {
			r.size, r.mtime = c.size, c.mtime
		}
		logged[fe.Path] = r
		if prev, ok := in.logged[fe.Path]; ok && prev == r {
			continue
		}
		log.Warn("content file rejected", "path", fe.Path, "reason", r.reason)
	}
	in.logged = logged
}

// Rejection is a content file the last scan rejected, and why.
type Rejection struct{ Path, Reason string }

// Rejections are the files the last scan rejected, by path: what `tidings
// ingest` reports, kept for the admin to show.
func (in *Ingester) Rejections() []Rejection {
	in.mu.Lock()
	defer in.mu.Unlock()
	out := make([]Rejection, 0, len(in.logged))
	for p, r := range in.logged {
		out = append(out, Rejection{Path: p, Reason: r.reason})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Path < out[j].Path })
	return out
}

// gcBoostFiles is how many files a scan must parse to raise the
// collector's target: a poll that finds a few changed files is over
// before it would matter.
const gcBoostFiles = 256
