package feed

import (
	"errors"
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
}

func (c candidate) key() fileKey { return fileKey{c.dir, c.rel} }
func (c candidate) path() string { return filepath.Join(c.dir, filepath.FromSlash(c.rel)) }

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
// (editors' swap files, .git) are passed over.
func walkDir(dir string) (found []candidate, rejected []*FileError, unreadable []fileKey) {
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		rel, _ := filepath.Rel(dir, p)
		rel = filepath.ToSlash(rel)
		if rel == "." {
			rel = ""
		}
		if err != nil {
			unreadable = append(unreadable, fileKey{dir, rel})
			if rel == "" && errors.Is(err, fs.ErrNotExist) {
				return fs.SkipAll // no content yet: not an error
			}
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
		info, err := os.Stat(p) // follows a symlinked file
		if err != nil {
			unreadable = append(unreadable, fileKey{dir, rel})
			rejected = append(rejected, &FileError{Path: p, Err: err})
			return nil
		}
		if !info.Mode().IsRegular() {
			return nil
		}
		found = append(found, candidate{dir: dir, rel: rel, size: info.Size(), mtime: info.ModTime().UnixNano()})
		return nil
	})
	if err != nil {
		rejected = append(rejected, &FileError{Path: dir, Err: err})
		unreadable = append(unreadable, fileKey{dir, ""})
	}
	return found, rejected, unreadable
}
