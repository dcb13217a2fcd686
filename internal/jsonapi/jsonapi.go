// Package jsonapi holds what tidings' JSON APIs share: the admin bearer
// token check and the shape of JSON answers and errors.
package jsonapi

import (
	"crypto/subtle"
	"encoding/json"
	"net/http"
	"strings"
)

// Admin guards h with the admin token. Without a token configured the API
// is not there at all (404, saying how to turn it on); a missing or wrong
// bearer token is a 401. The token is compared in constant time, and the
// request body is limited to maxBody bytes.
func Admin(token string, maxBody int64, name string, h http.HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if token == "" {
			Error(w, http.StatusNotFound, "", "the "+name+" is off: set http.admin_token or TIDINGS_ADMIN_TOKEN")
			return
		}
		got, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if !ok || subtle.ConstantTimeCompare([]byte(got), []byte(token)) != 1 {
			w.Header().Set("WWW-Authenticate", `Bearer realm="tidings"`)
			Error(w, http.StatusUnauthorized, "", "missing or wrong bearer token")
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, maxBody)
		h(w, r)
	})
}

// JSON writes v as the answer.
func JSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v) // the client may be gone; nothing to do then
}

// Error writes {"error": msg, "field": field}; field is left out when empty.
func Error(w http.ResponseWriter, status int, field, msg string) {
	body := map[string]string{"error": msg}
	if field != "" {
		body["field"] = field
	}
	JSON(w, status, body)
}
