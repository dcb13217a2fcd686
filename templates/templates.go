package templates

import (
	"embed"
	"errors"
	"fmt"
	htmltemplate "html/template"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	texttemplate "text/template"
)

//go:embed pages mail admin
var embedded embed.FS

// Pages parses pages/layout.html and the named pages (index.html, ...)
// into one set. Each file is the embedded default unless dir holds a file
// at the same path (dir/pages/index.html). A template that fails to parse
// is an error naming its file and line.
func Pages(dir string, funcs htmltemplate.FuncMap, names ...string) (*htmltemplate.Template, error) {
	root := htmltemplate.New("pages").Funcs(funcs)
	for _, name := range append([]string{"layout.html"}, names...) {
		src, from, err := read(dir, path.Join("pages", name))
		if err != nil {
			return nil, err
		}
		if _, err := root.New(name).Parse(src); err != nil {
			return nil, fmt.Errorf("template %s: %w", from, err)
		}
	}
	return root, nil
}

// Admin parses every embedded admin page (admin/*.html but layout.html)
// with admin/layout.html, one set per page, keyed by the page's file name
// ("dashboard.html"). A page defines the templates the layout calls
// ("main"); each file is overridable from dir like the pages
// (dir/admin/dashboard.html). A template that fails to parse is an error
// naming its file and line.
func Admin(dir string, funcs htmltemplate.FuncMap) (map[string]*htmltemplate.Template, error) {
	layoutSrc, from, err := read(dir, "admin/layout.html")
	if err != nil {
		return nil, err
	}
	layout, err := htmltemplate.New("layout.html").Funcs(funcs).Parse(layoutSrc)
	if err != nil {
		return nil, fmt.Errorf("template %s: %w", from, err)
	}
	entries, err := embedded.ReadDir("admin")
	if err != nil {
		return nil, fmt.Errorf("templates: %w", err)
	}
	out := map[string]*htmltemplate.Template{}
	for _, e := range entries {
		name := e.Name()
		if name == "layout.html" || path.Ext(name) != ".html" {
			continue
		}
		src, from, err := read(dir, path.Join("admin", name))
		if err != nil {
			return nil, err
		}
		t, err := layout.Clone()
		if err != nil {
			return nil, fmt.Errorf("template %s: %w", from, err)
		}
		if _, err := t.New(name).Parse(src); err != nil {
			return nil, fmt.Errorf("template %s: %w", from, err)
		}
		out[name] = t
	}
	return out, nil
}

// AdminFile returns admin/NAME (the stylesheet), the override in dir if
// there is one.
func AdminFile(dir, name string) ([]byte, error) {
	src, _, err := read(dir, path.Join("admin", name))
	return []byte(src), err
}

// Mail parses the text and HTML parts of the mail called name:
// mail/NAME.txt and mail/NAME.html, each overridable like the pages.
func Mail(dir, name string, funcs map[string]any) (*texttemplate.Template, *htmltemplate.Template, error) {
	txtSrc, from, err := read(dir, path.Join("mail", name+".txt"))
	if err != nil {
		return nil, nil, err
	}
	txt, err := texttemplate.New(name + ".txt").Funcs(funcs).Parse(txtSrc)
	if err != nil {
		return nil, nil, fmt.Errorf("template %s: %w", from, err)
	}
	htmlSrc, from, err := read(dir, path.Join("mail", name+".html"))
	if err != nil {
		return nil, nil, err
	}
	html, err := htmltemplate.New(name + ".html").Funcs(funcs).Parse(htmlSrc)
	if err != nil {
		return nil, nil, fmt.Errorf("template %s: %w", from, err)
	}
	return txt, html, nil
}

// read returns the override from dir if there is one, else the default.
func read(dir, rel string) (src, from string, err error) {
	if dir != "" {
		p := filepath.Join(dir, filepath.FromSlash(rel))
		b, err := os.ReadFile(p)
		if err == nil {
			return string(b), p, nil
		}
		if !errors.Is(err, fs.ErrNotExist) {
			return "", p, fmt.Errorf("template %s: %w", p, err)
		}
	}
	b, err := embedded.ReadFile(rel)
	if err != nil {
		return "", "embedded " + rel, fmt.Errorf("template %s: %w", rel, err)
	}
	return string(b), "embedded " + rel, nil
}

// File returns the bytes of a file that is not a template (the pages'
// style.css, favicon.svg), overridable like the pages: dir/rel when it
// exists, else the embedded default. from names where it was read.
func File(dir, rel string) (b []byte, from string, err error) {
	src, from, err := read(dir, rel)
	return []byte(src), from, err
}
