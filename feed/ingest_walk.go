package feed

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/tidings/tidings/feed/content"
)

// candidate is one content file found by the walk.
type candidate struct {
	dir, rel string // rel uses forward slashes
	size     int64
	mtime    int64

	// readDir and readRel name the file that is read: where a followed
	// link points (a content folder, resolved), else dir and rel.
	readDir, readRel string
}

func (c candidate) key() fileKey { return fileKey{c.dir, c.rel} }
func (c candidate) path() string { return filepath.Join(c.dir, filepath.FromSlash(c.rel)) }
func (c candidate) readPath() string {
	return filepath.Join(c.readDir, filepath.FromSlash(c.readRel))
}

type fileKey struct{ dir, rel string }

func (k fileKey) path() string { return filepath.Join(k.dir, filepath.FromSlash(k.rel)) }

// under reports whether key lies in one of the given folders.
func under(key fileKey, dirs []fileKey) bool {
	for _, d := range dirs {
		if key.dir == d.dir && (d.rel == "" || key.rel == d.rel || strings.HasPrefix(key.rel, d.rel+"/")) {
			return true
		}
	}
	return false
}

// walkDir lists the content files below dir. Hidden files and folders
// (editors' swap files, .git) are passed over, and so are links to
// folders. A link with a content file's name is refused unless follow is
// set and it points at a regular file inside one of roots (the content
// folders, links resolved): a folder is not a window onto the disk.
func walkDir(dir string, follow bool, roots []string) (found []candidate, rejected []*FileError, unreadable []fileKey) {
	// A content folder given as a link is walked where it points; only
	// links inside it are judged.
	real, err := filepath.EvalSymlinks(dir)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, nil, []fileKey{{dir, ""}} // no content yet: not an error
		}
		return nil, []*FileError{{Path: dir, Err: err}}, []fileKey{{dir, ""}}
	}
	err = filepath.WalkDir(real, func(p string, d fs.DirEntry, err error) error {
		rel, _ := filepath.Rel(real, p)
		rel = filepath.ToSlash(rel)
		if rel == "." {
			rel = ""
		}
		p = filepath.Join(dir, filepath.FromSlash(rel))
		if err != nil {
			unreadable = append(unreadable, fileKey{dir, rel})
			rejected = append(rejected, &FileError{Path: p, Err: err})
			if d != nil && d.IsDir() {
				return fs.SkipDir
			}
			return nil
		}
		name := d.Name()
		if rel != "" && strings.HasPrefix(name, ".") {
			if d.IsDir() {
				return fs.SkipDir
			}
			return nil
		}
		if d.IsDir() || content.FormatOf(name) == content.Unknown {
			return nil
		}
		c := candidate{dir: dir, rel: rel, readDir: real, readRel: rel}
		if d.Type()&fs.ModeSymlink != 0 {
			if !follow {
				rejected = append(rejected, &FileError{Path: p, Err: fmt.Errorf("%w: content.follow_symlinks is off", ErrSymlink)})
				return nil
			}
			target, err := filepath.EvalSymlinks(filepath.Join(real, filepath.FromSlash(rel)))
			if err != nil {
				unreadable = append(unreadable, fileKey{dir, rel})
				rejected = append(rejected, &FileError{Path: p, Err: err})
				return nil
			}
			if c.readDir, c.readRel = inside(target, roots); c.readDir == "" {
				rejected = append(rejected, &FileError{Path: p, Err: fmt.Errorf("%w: it points at %s, outside the content folders", ErrSymlink, target)})
				return nil
			}
		}
		info, err := os.Stat(c.readPath())
		if err != nil {
			unreadable = append(unreadable, fileKey{dir, rel})
			rejected = append(rejected, &FileError{Path: p, Err: err})
			return nil
		}
		if !info.Mode().IsRegular() {
			return nil
		}
		c.size, c.mtime = info.Size(), info.ModTime().UnixNano()
		found = append(found, c)
		return nil
	})
	if err != nil {
		rejected = append(rejected, &FileError{Path: dir, Err: err})
		unreadable = append(unreadable, fileKey{dir, ""})
	}
	return found, rejected, unreadable
}

// realDirs resolves the links in the content folders' own paths.
func realDirs(dirs []string) []string {
	var out []string
	for _, d := range dirs {
		if r, err := filepath.EvalSymlinks(d); err == nil {
			if a, err := filepath.Abs(r); err == nil {
				out = append(out, a)
			}
		}
	}
	return out
}

// inside returns the root of roots that holds target (a resolved path)
// and target's path below it, or "" when none does.
func inside(target string, roots []string) (root, rel string) {
	target, err := filepath.Abs(target)
	if err != nil {
		return "", ""
	}
	for _, r := range roots {
		if rel, err := filepath.Rel(r, target); err == nil && rel != "." && filepath.IsLocal(rel) {
			return r, filepath.ToSlash(rel)
		}
	}
	return "", ""
}
