package web

import (
	"bytes"
	"net/http"
)

// Fallback serves mux, and answers what mux has no route for through rd,
// as every other error: a path nobody serves is NotFound, a known path
// asked with another method is MethodNotAllowed with the mux's Allow
// header. The mux's own plain-text answers never reach the client.
func Fallback(mux *http.ServeMux, rd *Renderer) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h, pattern := mux.Handler(r)
		if pattern != "" {
			mux.ServeHTTP(w, r)
			return
		}
		// No route: ask the mux what it would have said (404, or 405 and
		// which methods the path takes, or a redirect to a cleaned path),
		// then say it our way.
		rec := &recorder{header: http.Header{}, code: http.StatusOK}
		h.ServeHTTP(rec, r)
		switch rec.code {
		case http.StatusMethodNotAllowed:
			if allow := rec.header.Get("Allow"); allow != "" {
				w.Header().Set("Allow", allow)
			}
			rd.Error(w, r, Errorf(MethodNotAllowed, "%s is not allowed here", r.Method))
		case http.StatusNotFound:
			rd.Error(w, r, Errorf(NotFound, "There is no page at %s.", r.URL.Path))
		default:
			for k, v := range rec.header {
				w.Header()[k] = v
			}
			w.WriteHeader(rec.code)
			w.Write(rec.body.Bytes())
		}
	})
}

// recorder keeps what the mux's own fallback handler writes.
type recorder struct {
	header http.Header
	code   int
	body   bytes.Buffer
}

func (r *recorder) Header() http.Header         { return r.header }
func (r *recorder) WriteHeader(code int)        { r.code = code }
func (r *recorder) Write(b []byte) (int, error) { return r.body.Write(b) }
