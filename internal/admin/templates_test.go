package admin

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A page in templates.dir/admin overrides the embedded one; a broken one
// stops New, naming its file and line.
func TestTemplates_Override(t *testing.T) {
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "admin"), 0o755)
	page := filepath.Join(dir, "admin", "settings.html")
	os.WriteFile(page, []byte(`{{define "main"}}<p>Our own settings page</p>{{end}}`), 0o644)
	ta := newTestAdmin(t, Options{TemplateDir: dir})
	b := ta.browser(t)
	b.login(ownerEmail, ownerPW, "")
	if p := b.get("/admin/settings"); !strings.Contains(p.body, "Our own settings page") || !strings.Contains(p.body, `aria-current="page">Settings`) {
		t.Errorf("override not used, or not in the layout: %s", p.body)
	}

	os.WriteFile(page, []byte("{{define \"main\"}}\n{{.Nope}\n{{end}}"), 0o644)
	_, err := New(Options{DB: openDB(t), TemplateDir: dir})
	if err == nil || !strings.Contains(err.Error(), page) || !strings.Contains(err.Error(), ":2:") {
		t.Errorf("broken override: %v, want an error naming %s line 2", err, page)
	}

	// One html/template can parse but not escape: an attribute left open.
	os.WriteFile(page, []byte(`{{define "main"}}<a href="{{if .Data}}x{{end}}>y</a>{{end}}`), 0o644)
	if _, err := New(Options{DB: openDB(t), TemplateDir: dir}); err == nil || !strings.Contains(err.Error(), "settings.html") {
		t.Errorf("unescapable override: %v, want an error naming settings.html", err)
	}
}
