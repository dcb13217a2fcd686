package content

import (
	"path"
	"strings"
)

// Format is the kind of a content file, told by its name's extension.
type Format int

// The formats tidings reads; Unknown is any other file.
const (
	Unknown Format = iota
	Markdown
	Text
	HTML
)

// formats maps the file endings tidings reads to their format.
var formats = map[string]Format{
	".md": Markdown, ".markdown": Markdown,
	".txt":  Text,
	".html": HTML, ".htm": HTML,
}

// FormatOf returns the format of the file named name. The extension's
// case does not matter: POST.MD is Markdown, Note.TXT plain text.
func FormatOf(name string) Format { return formats[strings.ToLower(path.Ext(name))] }
