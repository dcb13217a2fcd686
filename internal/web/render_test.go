package web

import (
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func writeOverride(t *testing.T, dir, name, src string) {
	t.Helper()
	p := filepath.Join(dir, "pages", name)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
}

// A broken override stops tidings at start with its file and line.
func TestNewRenderer_FailsFast(t *testing.T) {
	tests := []struct {
		name, file, src string
		want            []string
	}{
		{"does not parse", "message.html", "{{template \"head\" .}}\n<p>{{.Title</p>\n", []string{"pages/message.html", ":2:"}},
		{"cannot be escaped", "message.html", "{{template \"head\" .}}\n\n{{if .Title}}<a href=\"{{end}}x\">\n{{template \"foot\" .}}\n", []string{"pages/message.html", ":3:"}},
		{"a layout that does not parse", "layout.html", "{{define \"head\"}}\n{{.Title{{end}}{{define \"foot\"}}{{end}}", []string{"pages/layout.html", ":2:"}},
		{"a layout that cannot be escaped", "layout.html", "{{define \"head\"}}\n\n{{if .Title}}<a href=\"{{end}}x\">{{end}}{{define \"foot\"}}{{end}}", []string{"layout.html:3:"}},
		{"an unknown function", "error.html", "{{template \"head\" .}}{{nope .}}{{template \"foot\" .}}", []string{"pages/error.html", "nope"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			writeOverride(t, dir, tt.file, tt.src)
			_, err := NewRenderer(Options{TemplateDir: dir, Pages: []string{"message.html"}})
			if err == nil {
				t.Fatal("no error")
			}
			for _, want := range tt.want {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q does not name %q", err, want)
				}
			}
		})
	}
}

func TestRenderer_OverrideBySamePath(t *testing.T) {
	dir := t.TempDir()
	writeOverride(t, dir, "error.html", `{{template "head" .}}<p class="oops">{{.Message}}</p>{{template "foot" .}}`)
	rd, err := NewRenderer(Options{TemplateDir: dir, Shell: Shell{Site: testSite{Title: "T"}}})
	if err != nil {
		t.Fatal(err)
	}
	w := serve(rd, "GET", "/nope", &Problem{Kind: NotFound, Message: "Gone fishing."})
	if w.Code != 404 || !strings.Contains(w.Body.String(), `<p class="oops">Gone fishing.</p>`) {
		t.Errorf("override not used: %d\n%s", w.Code, w.Body)
	}
}

func TestRenderer_Render(t *testing.T) {
	log := &recordLog{}
	rd := newTestRenderer(t, log)
	data := map[string]any{"Site": testSite{Title: "T", Language: "de"}, "Title": "Hallo", "Paragraphs": []string{"<b>Welt</b>"}}
	w := httptest.NewRecorder()
	rd.Render(w, httptest.NewRequest("GET", "/x", nil), 201, "message.html", data)
	if w.Code != 201 || w.Header().Get("Content-Type") != "text/html; charset=utf-8" ||
		!strings.Contains(w.Body.String(), `<html lang="de">`) || !strings.Contains(w.Body.String(), "<p>&lt;b&gt;Welt&lt;/b&gt;</p>") {
		t.Errorf("%d %s\n%s", w.Code, w.Header(), w.Body)
	}
	w = httptest.NewRecorder()
	rd.Render(w, httptest.NewRequest("HEAD", "/x", nil), 200, "message.html", data)
	if w.Code != 200 || w.Body.Len() != 0 {
		t.Errorf("HEAD: %d with %d bytes", w.Code, w.Body.Len())
	}
	// A page that fails while rendering is an internal error, logged,
	// and nothing of the half-written page goes out.
	w = httptest.NewRecorder()
	rd.Render(w, httptest.NewRequest("GET", "/x", nil), 200, "no-such.html", data)
	if w.Code != 500 || !strings.Contains(w.Body.String(), "<h1>Something went wrong</h1>") || len(log.take()) != 1 {
		t.Errorf("failed render: %d\n%s", w.Code, w.Body)
	}
}
