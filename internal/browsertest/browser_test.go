package browsertest

import (
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The harness against a two-page site: a form posts, the next page
// shows what was typed; a screenshot lands in the folder; axe finds the
// unlabelled field of a broken page and not on a good one.
func TestBrowser_FormScreenshotAxe(t *testing.T) {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Security-Policy", "default-src 'none'; form-action 'self'")
		io.WriteString(w, `<!doctype html><html lang="en"><head><title>Form</title></head><body><main><h1>Form</h1>
<form method="post" action="/done"><label for="q">Word</label> <input id="q" name="q"><button>Send</button></form></main></body></html>`)
	})
	mux.HandleFunc("GET /favicon.ico", func(w http.ResponseWriter, r *http.Request) {})
	mux.HandleFunc("POST /done", func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, `<!doctype html><html lang="en"><head><title>Done</title></head><body><main><h1>Done</h1><p id="got">`+r.FormValue("q")+`</p></main></body></html>`)
	})
	mux.HandleFunc("GET /bad", func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, `<!doctype html><html lang="en"><head><title>Bad</title></head><body><main><input name="x"></main></body></html>`)
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()
	shots := t.TempDir()
	t.Setenv("TIDINGS_SCREENSHOTS", shots)

	b := New(t)
	b.Navigate(srv.URL + "/")
	b.Fill("#q", "harbour")
	b.ClickAndWait("button")
	if got := b.Text("#got"); got != "harbour" {
		t.Errorf("after the form: %q", got)
	}
	if !strings.HasSuffix(b.URL(), "/done") {
		t.Errorf("URL after the form: %s", b.URL())
	}
	b.Screenshot("done page")
	for _, w := range []string{"390", "1280"} {
		if fi, err := os.Stat(filepath.Join(shots, "done-page-"+w+".png")); err != nil || fi.Size() < 1000 {
			t.Errorf("screenshot at %s px: %v", w, err)
		}
	}
	if m := b.Messages(); len(m) != 0 {
		t.Errorf("console: %q", m)
	}
	if AxePath() == "" {
		t.Log(AxeMissing)
		return
	}
	b.Navigate(srv.URL + "/")
	if v := b.Axe(); len(v) != 0 {
		t.Errorf("a labelled form has violations: %v", v)
	}
	b.Navigate(srv.URL + "/bad")
	var ids []string
	for _, v := range b.Axe() {
		ids = append(ids, v.ID)
	}
	if !strings.Contains(strings.Join(ids, " "), "label") {
		t.Errorf("an unlabelled field: violations %q, want label", ids)
	}
}
