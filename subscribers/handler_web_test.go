package subscribers

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
)

// The security headers of web.Secure are on the pages, the API's answers
// and the error pages; a page whose URL holds a token sends no Referer,
// and none of this package's pages is cached.
func TestHandler_SecurityHeaders(t *testing.T) {
	e := newHandlerEnv(t, "s3cret-token")
	s := e.withStatus(t, "bo@example.org", StatusConfirmed)
	for _, tc := range []struct {
		name, method, url, referrer string
		header                      []string
		status                      int
		noStore                     bool
	}{
		{"sign-up form", "GET", e.srv.URL + "/subscribe", "strict-origin-when-cross-origin", nil, 200, true},
		{"unsubscribe page", "GET", e.h.links.UnsubscribeURL(s), "no-referrer", nil, 200, true},
		{"preferences page", "GET", e.h.links.PreferencesURL(s), "no-referrer", nil, 200, true},
		{"error page", "GET", e.srv.URL + "/preferences?token=garbage", "no-referrer", nil, 400, true},
		{"API answer", "GET", e.srv.URL + "/api/v1/subscribers", "strict-origin-when-cross-origin",
			[]string{"Authorization", "Bearer s3cret-token"}, 200, false},
		{"API error", "GET", e.srv.URL + "/api/v1/subscribers/999", "strict-origin-when-cross-origin",
			[]string{"Authorization", "Bearer s3cret-token"}, 404, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, _ := do(t, tc.method, tc.url, "", "", tc.header...)
			hd := resp.Header
			if resp.StatusCode != tc.status {
				t.Errorf("status %d, want %d", resp.StatusCode, tc.status)
			}
			csp := hd.Get("Content-Security-Policy")
			script := "script-src 'none'"
			if tc.name == "sign-up form" {
				script = "script-src 'sha256-" // web.TimeZoneScript only: see TestSignUp_TimeZoneScript
			}
			if !strings.Contains(csp, script) || strings.Count(csp, "script-src") != 1 || !strings.Contains(csp, "frame-ancestors 'none'") ||
				!strings.Contains(csp, "form-action 'self' "+e.srv.URL+";") {
				t.Errorf("CSP %q", csp)
			}
			if hd.Get("X-Frame-Options") != "DENY" || hd.Get("X-Content-Type-Options") != "nosniff" {
				t.Errorf("headers %v", hd)
			}
			if got := hd.Get("Referrer-Policy"); got != tc.referrer {
				t.Errorf("Referrer-Policy %q, want %q", got, tc.referrer)
			}
			if tc.noStore && hd.Get("Cache-Control") != "no-store" {
				t.Errorf("Cache-Control %q on a subscriber's page", hd.Get("Cache-Control"))
			}
		})
	}
}

// A link for a sign-up whose address left the list since: 409, in the
// shell's error page with its own title.
func TestHandler_ConfirmAfterLeaving(t *testing.T) {
	e := newHandlerEnv(t, "")
	do(t, "POST", e.srv.URL+"/subscribe", formType, "email=ana%40example.org")
	if len(e.mailer.sent) != 1 {
		t.Fatalf("%d mails", len(e.mailer.sent))
	}
	link := confirmURL(t, e.mailer.sent[0].Text)
	s, err := e.store.GetByEmail(t.Context(), "ana@example.org")
	if err != nil {
		t.Fatal(err)
	}
	if resp, _ := do(t, "POST", e.h.links.UnsubscribeURL(s), formType, ""); resp.StatusCode != 200 {
		t.Fatalf("unsubscribe %d", resp.StatusCode)
	}
	resp, page := do(t, "POST", link, formType, "")
	if resp.StatusCode != 409 || !strings.Contains(page, "<h1>This link was for an earlier sign-up</h1>") ||
		!strings.Contains(page, "sign up anew") {
		t.Errorf("confirm after leaving: %d\n%s", resp.StatusCode, page)
	}
}

// The same refusals answer a program in JSON: by Accept, or because it
// posted JSON.
func TestHandler_ErrorsInJSON(t *testing.T) {
	e := newHandlerEnv(t, "")
	tests := []struct {
		name, method, url, ctype, body string
		header                         []string
		status                         int
		field                          string
	}{
		{"bad link", "GET", e.srv.URL + "/unsubscribe?token=garbage", "", "", []string{"Accept", "application/json"}, 400, ""},
		{"one-click with a bad link", "POST", e.srv.URL + "/unsubscribe?token=garbage", formType, "List-Unsubscribe=One-Click",
			[]string{"Accept", "application/json"}, 400, ""},
		{"bad address", "POST", e.srv.URL + "/subscribe", "application/json", `{"email":"nope"}`, nil, 422, "email"},
		{"not JSON", "POST", e.srv.URL + "/subscribe", "application/json", `{"email":`, nil, 400, "form"},
		{"form asking JSON", "POST", e.srv.URL + "/subscribe", formType, "email=nope", []string{"Accept", "application/json"}, 422, "email"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, body := do(t, tt.method, tt.url, tt.ctype, tt.body, tt.header...)
			var got map[string]string
			if err := json.Unmarshal([]byte(body), &got); err != nil || resp.StatusCode != tt.status {
				t.Fatalf("%d %q", resp.StatusCode, body)
			}
			if got["error"] == "" || got["field"] != tt.field {
				t.Errorf("body %v, want an error naming field %q", got, tt.field)
			}
		})
	}
	// Too many sign-ups from one address: 429 with Retry-After, in JSON
	// for a JSON client.
	var resp *http.Response
	var body string
	for i := range 11 {
		resp, body = do(t, "POST", e.srv.URL+"/subscribe", "application/json", `{"email":"same`+itoa(i)+`@example.org"}`)
	}
	if resp.StatusCode != 429 || resp.Header.Get("Retry-After") == "" || !strings.Contains(body, `"error":"Too many sign-up requests`) {
		t.Errorf("11th sign-up within a minute: %d %q %s", resp.StatusCode, resp.Header.Get("Retry-After"), body)
	}
}
