package templates

import (
	"embed"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"os"
	"path"
	"path/filepath"
)

//go:embed pages
var embedded embed.FS

// Pages parses the page templates: the embedded defaults, each replaced by
// the file of the same name in dir when dir has one. A template that fails
// to parse is an error naming its file and line.
func Pages(dir string, funcs template.FuncMap) (*template.Template, error) {
	root := template.New("pages").Funcs(funcs)
	names, err := fs.Glob(embedded, "pages/*.html")
	if err != nil {
		return nil, err
	}
	for _, name := range names {
		base := path.Base(name)
		src, from, err := read(dir, base)
		if err != nil {
			return nil, err
		}
		if _, err := root.New(base).Parse(src); err != nil {
			return nil, fmt.Errorf("template %s: %w", from, err)
		}
	}
	return root, nil
}

// read returns the override from dir if there is one, else the default.
func read(dir, base string) (src, from string, err error) {
	if dir != "" {
		p := filepath.Join(dir, base)
		b, err := os.ReadFile(p)
		if err == nil {
			return string(b), p, nil
		}
		if !errors.Is(err, fs.ErrNotExist) {
			return "", p, fmt.Errorf("template %s: %w", p, err)
		}
	}
	b, err := embedded.ReadFile("pages/" + base)
	return string(b), "embedded pages/" + base, err
}
