package web

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestFallback_OurAnswersForUnknownRoutes(t *testing.T) {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /feed.xml", func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("feed")) })
	mux.HandleFunc("GET /dir/", func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("dir")) })
	rd, err := NewRenderer(Options{Shell: Shell{Site: struct{ Title, Description, Language string }{"Example News", "", "en"}, Home: "/"}})
	if err != nil {
		t.Fatal(err)
	}
	h := Fallback(mux, rd)
	tests := []struct {
		method, path, accept string
		status               int
		body, allow, ctype   string
	}{
		{"GET", "/feed.xml", "", 200, "feed", "", ""},
		{"GET", "/nope", "text/html", 404, "There is no page at /nope.", "", "text/html"},
		{"GET", "/nope", "application/json", 404, `"error":"There is no page at /nope."`, "", "application/json"},
		{"POST", "/feed.xml", "text/html", 405, "POST is not allowed here", "GET, HEAD", "text/html"},
		{"GET", "/dir", "", 307, "/dir/", "", ""}, // the mux's redirect to /dir/ stays
	}
	for _, tt := range tests {
		t.Run(tt.method+" "+tt.path+" "+tt.accept, func(t *testing.T) {
			req := httptest.NewRequest(tt.method, tt.path, nil)
			if tt.accept != "" {
				req.Header.Set("Accept", tt.accept)
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if rec.Code != tt.status || !strings.Contains(rec.Body.String(), tt.body) {
				t.Errorf("%d %q, want %d with %q", rec.Code, rec.Body.String(), tt.status, tt.body)
			}
			if tt.allow != "" && rec.Header().Get("Allow") != tt.allow {
				t.Errorf("Allow %q, want %q", rec.Header().Get("Allow"), tt.allow)
			}
			if tt.ctype != "" && !strings.HasPrefix(rec.Header().Get("Content-Type"), tt.ctype) {
				t.Errorf("Content-Type %q, want %s", rec.Header().Get("Content-Type"), tt.ctype)
			}
		})
	}
}
