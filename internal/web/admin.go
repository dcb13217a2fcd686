package web

import (
	"crypto/subtle"
	"net/http"
	"strings"
)

// Admin guards h, a route of the API called name, with the admin token.
// Without a token configured the API is not there at all (404, saying how
// to turn it on); a missing or wrong bearer token is a 401. The token is
// compared in constant time, and the request body is limited to maxBody
// bytes. Its errors are answered by Error, in JSON under /api/.
func Admin(token string, maxBody int64, name string, h http.HandlerFunc) http.Handler {
	var rd *Renderer // no pages, and nothing to log: every answer here is a 4xx
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if token == "" {
			rd.Error(w, r, Errorf(NotFound, "the %s is off: set http.admin_token or TIDINGS_ADMIN_TOKEN", name))
			return
		}
		got, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if !ok || subtle.ConstantTimeCompare([]byte(got), []byte(token)) != 1 {
			w.Header().Set("WWW-Authenticate", `Bearer realm="tidings"`)
			rd.Error(w, r, Errorf(Unauthorized, "missing or wrong bearer token"))
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, maxBody)
		h(w, r)
	})
}
