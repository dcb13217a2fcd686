package web

import (
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// The security headers are on every kind of answer: a page, a JSON
// answer, a feed and an error page.
func TestSecure_EveryAnswer(t *testing.T) {
	rd := newTestRenderer(t, &recordLog{})
	mux := http.NewServeMux()
	mux.HandleFunc("GET /page", func(w http.ResponseWriter, r *http.Request) {
		rd.Render(w, r, 200, "message.html", map[string]any{"Site": testSite{Title: "T"}, "Title": "Hi"})
	})
	mux.Handle("GET /api/v1/things", Admin("tok", 1<<10, "thing API", func(w http.ResponseWriter, r *http.Request) {
		JSON(w, 200, map[string]int{"things": 0})
	}))
	mux.HandleFunc("GET /atom.xml", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/atom+xml; charset=utf-8")
		w.Write([]byte(`<?xml version="1.0" encoding="UTF-8"?><feed xmlns="http://www.w3.org/2005/Atom"></feed>`))
	})
	mux.HandleFunc("GET /missing", func(w http.ResponseWriter, r *http.Request) {
		rd.Error(w, r, &Problem{Kind: NotFound})
	})
	h := Secure(mux, "https://news.example.org/base/")
	for _, tc := range []struct{ path, auth, ctype string }{
		{"/page", "", "text/html"},
		{"/api/v1/things", "Bearer tok", "application/json"},
		{"/api/v1/things", "", "application/json"}, // the guard's 401
		{"/atom.xml", "", "application/atom+xml"},
		{"/missing", "", "text/html"},
	} {
		r := httptest.NewRequest("GET", tc.path, nil)
		if tc.auth != "" {
			r.Header.Set("Authorization", tc.auth)
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		hd := w.Header()
		if !strings.HasPrefix(hd.Get("Content-Type"), tc.ctype) {
			t.Errorf("%s: Content-Type %q", tc.path, hd.Get("Content-Type"))
		}
		csp := hd.Get("Content-Security-Policy")
		for _, want := range []string{"default-src 'none'", "script-src 'none'", "style-src 'self';", "frame-ancestors 'none'",
			"form-action 'self' https://news.example.org;", "base-uri 'none'"} {
			if !strings.Contains(csp, want) {
				t.Errorf("%s (%d): CSP %q lacks %s", tc.path, w.Code, csp, want)
			}
		}
		if strings.Contains(csp, "'unsafe-inline'") || strings.Contains(csp, "'unsafe-eval'") {
			t.Errorf("%s: CSP lets scripts in: %q", tc.path, csp)
		}
		if hd.Get("X-Frame-Options") != "DENY" || hd.Get("X-Content-Type-Options") != "nosniff" ||
			hd.Get("Referrer-Policy") != "strict-origin-when-cross-origin" {
			t.Errorf("%s (%d): %v", tc.path, w.Code, hd)
		}
	}
}

// HSTS is sent when the public URL is https (behind a TLS proxy the
// server itself may speak http), and never for an http site: a browser
// told so would refuse the site until the header expired.
func TestSecure_HSTS(t *testing.T) {
	for base, want := range map[string]string{
		"https://news.example.org/":     "max-age=31536000",
		"HTTPS://news.example.org":      "max-age=31536000",
		"http://news.example.org":       "",
		"http://127.0.0.1:8080":         "",
		"":                              "",
		"https://news.example.org/news": "max-age=31536000",
	} {
		w := httptest.NewRecorder()
		Secure(http.NotFoundHandler(), base).ServeHTTP(w, httptest.NewRequest("GET", "/", nil))
		if got := w.Header().Get("Strict-Transport-Security"); got != want {
			t.Errorf("base %q: Strict-Transport-Security %q, want %q", base, got, want)
		}
	}
}

// A URL that holds a token is never sent on as a Referer.
func TestSecure_NoReferrerForTokens(t *testing.T) {
	h := Secure(http.NotFoundHandler(), "https://news.example.org")
	for path, want := range map[string]string{
		"/unsubscribe?token=abc":         "no-referrer",
		"/preferences?x=1&token=abc":     "no-referrer",
		"/subscribe":                     "strict-origin-when-cross-origin",
		"/articles/token-economics?page": "strict-origin-when-cross-origin",
	} {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest("GET", path, nil))
		if got := w.Header().Get("Referrer-Policy"); got != want {
			t.Errorf("%s: Referrer-Policy %q, want %q", path, got, want)
		}
	}
}

func TestAllowTimeZoneScript(t *testing.T) {
	h := Secure(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/form" {
			AllowTimeZoneScript(w)
		}
	}), "https://news.example")
	for path, want := range map[string]string{"/form": scriptHash(), "/other": "'none'"} {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest("GET", path, nil))
		csp := w.Header().Get("Content-Security-Policy")
		if !strings.Contains(csp, "script-src "+want+";") || strings.Count(csp, "script-src") != 1 {
			t.Errorf("%s: CSP %q, want script-src %s", path, csp, want)
		}
	}
	sum := sha256.Sum256([]byte(`try{document.getElementById("timezone").value=Intl.DateTimeFormat().resolvedOptions().timeZone||""}catch(e){}`))
	if want := "'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'"; scriptHash() != want {
		t.Errorf("hash %s, want %s", scriptHash(), want)
	}
}
