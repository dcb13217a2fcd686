package watch

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/fsnotify/fsnotify"
)

// ErrTooManyFolders is returned by Run when the folders to watch are more
// than MaxFolders.
var ErrTooManyFolders = errors.New("too many folders to watch")

// Defaults of the Watcher's fields.
const (
	DefaultQuiet    = 250 * time.Millisecond
	DefaultMaxDelay = time.Second
)

// Watcher watches Dirs and every folder below them. Hidden files and
// folders (".git", an editor's ".name.swp") are passed over, as the
// content walk passes over them, and so are links to folders.
type Watcher struct {
	Dirs []string
	// Quiet is how long no further event must come before a burst of
	// events is told (DefaultQuiet): 100 files copied at once are one
	// change, not 100.
	Quiet time.Duration
	// MaxDelay bounds the wait after a burst's first event
	// (DefaultMaxDelay), so that a folder written to without pause is
	// still rescanned.
	MaxDelay time.Duration
	// MaxFolders, when positive, is the most folders watched; past it Run
	// returns ErrTooManyFolders.
	MaxFolders int
	// Match, when set, says which file names matter (content files):
	// the database, an editor's backup or a feed written inside a content
	// folder then wakes no one. Folders always matter.
	Match  func(name string) bool
	Logger *slog.Logger // nil: none
}

// Run watches the folders until ctx ends, calling changed (on Run's own
// goroutine, so one call at a time) once when the watches are in place
// and then after each burst of changes. It returns nil when ctx ends, or
// the reason watching cannot go on, having closed what it opened; it
// starts no goroutine that outlives it.
func (w *Watcher) Run(ctx context.Context, changed func()) error {
	fw, err := fsnotify.NewWatcher()
	if err != nil {
		return fmt.Errorf("watch content folders: %w", err)
	}
	defer fw.Close()
	t := &tree{fw: fw, max: w.MaxFolders, match: w.Match, dirs: map[string]bool{}, parents: map[string]bool{}}
	for _, d := range w.Dirs {
		abs, err := filepath.Abs(d)
		if err != nil {
			return fmt.Errorf("watch %s: %w", d, err)
		}
		t.roots = append(t.roots, abs)
	}
	if err := t.addRoots(); err != nil {
		return err
	}
	w.log().Info("watching content folders", "folders", len(t.dirs))
	// What changed before the watches were in place (after the caller's
	// last scan, or while they were being set up) only a scan finds.
	changed()

	quiet, maxDelay := w.Quiet, w.MaxDelay
	if quiet <= 0 {
		quiet = DefaultQuiet
	}
	if maxDelay <= 0 {
		maxDelay = DefaultMaxDelay
	}
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	defer timer.Stop()
	var first time.Time // of the burst being coalesced; zero: none
	for {
		select {
		case <-ctx.Done():
			return nil
		case ev, ok := <-fw.Events:
			if !ok {
				return errors.New("watch content folders: the watcher closed")
			}
			relevant, err := t.handle(ev)
			if err != nil {
				return err
			}
			if !relevant {
				continue
			}
			now := time.Now()
			if first.IsZero() {
				first = now
			}
			timer.Reset(min(quiet, first.Add(maxDelay).Sub(now)))
		case err, ok := <-fw.Errors:
			if !ok {
				return errors.New("watch content folders: the watcher closed")
			}
			if !errors.Is(err, fsnotify.ErrEventOverflow) {
				return fmt.Errorf("watch content folders: %w", err)
			}
			// Events were lost: whatever they were, a rescan finds it,
			// and a walk the folders made meanwhile.
			if err := t.rewalk(); err != nil {
				return err
			}
			if first.IsZero() {
				first = time.Now()
			}
			timer.Reset(0)
		case <-timer.C:
			first = time.Time{}
			changed()
		}
	}
}

func (w *Watcher) log() *slog.Logger {
	if w.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return w.Logger
}

// tree is what Run watches: every folder below the roots, and for a root
// that does not exist yet, its nearest existing parent.
type tree struct {
	fw      *fsnotify.Watcher
	max     int
	match   func(name string) bool
	roots   []string
	dirs    map[string]bool // folders inside a root, watched
	parents map[string]bool // parents watched for a root to appear
}

// addRoots watches every root that exists, and the nearest existing
// parent of each that does not.
func (t *tree) addRoots() error {
	for _, r := range t.roots {
		if t.dirs[r] {
			continue
		}
		info, err := os.Stat(r)
		switch {
		case err == nil && info.IsDir():
			if err := t.addTree(r); err != nil {
				return err
			}
		case err == nil || errors.Is(err, fs.ErrNotExist):
			if err := t.addParent(r); err != nil {
				return err
			}
		default:
			return fmt.Errorf("watch %s: %w", r, err)
		}
	}
	return nil
}

// rewalk watches the folders whose events were lost.
func (t *tree) rewalk() error {
	for _, r := range t.roots {
		if t.dirs[r] {
			if err := t.addTree(r); err != nil {
				return err
			}
		}
	}
	return t.addRoots()
}

// addParent watches the nearest existing folder above root, to learn when
// root is made.
func (t *tree) addParent(root string) error {
	for p := filepath.Dir(root); ; p = filepath.Dir(p) {
		if info, err := os.Stat(p); err == nil && info.IsDir() {
			if t.parents[p] || t.dirs[p] {
				return nil
			}
			if err := t.fw.Add(p); err != nil {
				return fmt.Errorf("watch %s: %w", p, err)
			}
			t.parents[p] = true
			return nil
		}
		if filepath.Dir(p) == p {
			return nil // nothing exists: the poll will find it
		}
	}
}

// addTree watches dir and every folder below it that the content walk
// enters. A folder that cannot be read is left to the scan, which
// reports it. A root given as a link is walked where it points, as the
// scan walks it, and watched by its own name.
func (t *tree) addTree(dir string) error {
	real := dir
	if t.isRoot(dir) {
		var err error
		if real, err = filepath.EvalSymlinks(dir); err != nil {
			return t.addParent(dir) // gone again: its parent tells when it is back
		}
	}
	return filepath.WalkDir(real, func(p string, d fs.DirEntry, err error) error {
		p = dir + strings.TrimPrefix(p, real)
		if err != nil {
			if p == dir && !errors.Is(err, fs.ErrNotExist) && !errors.Is(err, fs.ErrPermission) {
				return fmt.Errorf("watch %s: %w", p, err)
			}
			return nil
		}
		if !d.IsDir() {
			return nil
		}
		if p != dir && hidden(p) {
			return fs.SkipDir
		}
		if t.dirs[p] {
			return nil
		}
		if t.max > 0 && len(t.dirs) >= t.max {
			return fmt.Errorf("%w: more than %d below %s", ErrTooManyFolders, t.max, strings.Join(t.roots, ", "))
		}
		if err := t.fw.Add(p); err != nil {
			if errors.Is(err, fs.ErrNotExist) || errors.Is(err, fs.ErrPermission) {
				return fs.SkipDir
			}
			// ENOSPC here is the user's inotify watches used up.
			return fmt.Errorf("watch %s: %w", p, err)
		}
		t.dirs[p] = true
		return nil
	})
}

// forget drops dir and the folders below it: it was removed or moved
// away (the watcher has dropped their watches, or will).
func (t *tree) forget(dir string) {
	for p := range t.dirs {
		if p == dir || strings.HasPrefix(p, dir+string(filepath.Separator)) {
			_ = t.fw.Remove(p) // gone already, mostly
			delete(t.dirs, p)
		}
	}
}

// handle keeps the watches up to date with one event and reports whether
// it changed something a scan would see.
func (t *tree) handle(ev fsnotify.Event) (bool, error) {
	dir := filepath.Dir(ev.Name)
	inTree := t.dirs[dir] || t.dirs[ev.Name]
	if t.parents[dir] && !inTree {
		// Something appeared or went next to a missing root's path: the
		// root itself, or a folder on the way to it.
		if !ev.Has(fsnotify.Create) && !ev.Has(fsnotify.Rename) {
			return false, nil
		}
		had := len(t.dirs)
		if err := t.addRoots(); err != nil {
			return false, err
		}
		return len(t.dirs) > had, nil
	}
	if !inTree || (hidden(ev.Name) && !t.isRoot(ev.Name)) {
		return false, nil
	}
	folder := t.dirs[ev.Name]
	switch {
	case ev.Has(fsnotify.Create):
		// A link to a folder is not walked (Lstat), as the scan does not.
		if info, err := os.Lstat(ev.Name); err == nil && info.IsDir() {
			folder = true
			if err := t.addTree(ev.Name); err != nil {
				return false, err
			}
		}
	case folder && (ev.Has(fsnotify.Remove) || ev.Has(fsnotify.Rename)):
		t.forget(ev.Name)
		if t.isRoot(ev.Name) {
			if err := t.addRoots(); err != nil {
				return false, err
			}
		}
	}
	return folder || t.match == nil || t.match(filepath.Base(ev.Name)), nil
}

func (t *tree) isRoot(p string) bool {
	for _, r := range t.roots {
		if r == p {
			return true
		}
	}
	return false
}

// hidden reports whether a path's last element is hidden, as the content
// walk judges it.
func hidden(p string) bool { return strings.HasPrefix(filepath.Base(p), ".") }
