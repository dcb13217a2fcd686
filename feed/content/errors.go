package content

import "errors"

// Errors a document is refused with. Callers wrap them with what they know
// of the source, such as a file's path.
var (
	ErrEmptyFile      = errors.New("empty file")
	ErrBinaryFile     = errors.New("not a text file")
	ErrNoTitle        = errors.New("no title")
	ErrBadFrontMatter = errors.New("bad front matter")
)
