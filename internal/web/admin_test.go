package web

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestAdmin(t *testing.T) {
	ok := func(w http.ResponseWriter, r *http.Request) {
		b, err := io.ReadAll(r.Body)
		if err != nil {
			w.WriteHeader(http.StatusRequestEntityTooLarge)
			return
		}
		JSON(w, 200, map[string]int{"read": len(b)})
	}
	tests := []struct {
		name, token, auth, body string
		want                    int
		wantError               string
	}{
		{"off", "", "Bearer ", "", 404, "the thing API is off: set http.admin_token or TIDINGS_ADMIN_TOKEN"},
		{"no header", "tok", "", "", 401, "missing or wrong bearer token"},
		{"wrong token", "tok", "Bearer nope", "", 401, "missing or wrong bearer token"},
		{"a prefix of it", "tok", "Bearer to", "", 401, "missing or wrong bearer token"},
		{"basic scheme", "tok", "Basic tok", "", 401, "missing or wrong bearer token"},
		{"right token", "tok", "Bearer tok", "abc", 200, ""},
		{"body over the limit", "tok", "Bearer tok", strings.Repeat("a", 11), 413, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest("POST", "/api/v1/things", strings.NewReader(tt.body))
			if tt.auth != "" {
				r.Header.Set("Authorization", tt.auth)
			}
			r.Header.Set("Accept", "text/html") // the API answers JSON all the same
			w := httptest.NewRecorder()
			Admin(tt.token, 10, "thing API", ok).ServeHTTP(w, r)
			if w.Code != tt.want {
				t.Fatalf("%d, want %d: %s", w.Code, tt.want, w.Body)
			}
			if tt.wantError == "" {
				return
			}
			var body map[string]string
			if err := json.Unmarshal(w.Body.Bytes(), &body); err != nil || body["error"] != tt.wantError {
				t.Errorf("body %s (%v)", w.Body, err)
			}
			if tt.want == 401 && w.Header().Get("WWW-Authenticate") != `Bearer realm="tidings"` {
				t.Errorf("401 without WWW-Authenticate: %v", w.Header())
			}
		})
	}
}
