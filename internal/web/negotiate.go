package web

import (
	"mime"
	"net/http"
	"strconv"
	"strings"
)

// WantsJSON reports whether an answer to r is JSON rather than a page:
// always under /api/; else when Accept prefers application/json to
// text/html; else, when Accept names neither (absent, */*), when the
// request's own body is JSON.
func WantsJSON(r *http.Request) bool {
	if strings.HasPrefix(r.URL.Path, "/api/") {
		return true
	}
	switch preferred(r.Header.Get("Accept")) {
	case "json":
		return true
	case "html":
		return false
	}
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	return ct == "application/json"
}

// preferred reads an Accept header: "json" or "html" for the one it ranks
// higher (by q, then by order), "" when it names neither.
func preferred(accept string) string {
	best, bestQ := "", 0.0
	for _, part := range strings.Split(accept, ",") {
		typ, params, _ := strings.Cut(part, ";")
		var kind string
		switch strings.ToLower(strings.TrimSpace(typ)) {
		case "application/json":
			kind = "json"
		case "text/html", "application/xhtml+xml":
			kind = "html"
		default:
			continue
		}
		q := 1.0
		for _, p := range strings.Split(params, ";") {
			if v, ok := strings.CutPrefix(strings.TrimSpace(p), "q="); ok {
				if f, err := strconv.ParseFloat(v, 64); err == nil {
					q = f
				}
			}
		}
		if q > bestQ {
			best, bestQ = kind, q
		}
	}
	return best
}
