package feed

import "errors"

// Errors a scan rejects a file with besides content's (a file that cannot
// be parsed); a FileError wraps one of them or the parse error.
var (
	ErrTooLarge    = errors.New("file too large")
	ErrDuplicateID = errors.New("duplicate id")
	ErrSymlink     = errors.New("symbolic link not followed")
	ErrPrivate     = errors.New("tidings' own file (config or database), never published")
)

// FileError is a content file that could not be ingested, and why.
type FileError struct {
	Path string
	Err  error
}

func (e *FileError) Error() string { return e.Path + ": " + e.Err.Error() }
func (e *FileError) Unwrap() error { return e.Err }
