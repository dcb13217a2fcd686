package subscribers

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/tidings/tidings/internal/web"
)

// FuzzSubscribeForm posts arbitrary bodies, as form data or JSON, to the
// sign-up handler: it never fails with a 5xx, never echoes markup, and
// stores a subscriber only when it answers with success.
func FuzzSubscribeForm(f *testing.F) {
	for _, seed := range []struct{ ct, body string }{
		{formType, "email=ana%40example.org&name=Ana&digests=daily"},
		{formType, "email=ana%40example.org%0D%0ABcc%3A+x%40y.z"},
		{formType, "email=%E9%E9&name=%FF"},
		{formType, "email=a%40b.c&digests=hourly&digests=daily"},
		{formType, "website=spam&email=bot%40example.org"},
		{formType, "%%%&&&==="},
		{"application/json", `{"email":"ana@example.org","digests":["weekly"]}`},
		{"application/json", `{"email":"<script>@x.org","name":"\"quoted\""}`},
		{"application/json", `{"email":1}`},
		{"application/json", `[`},
		{"text/plain", "email=ana%40example.org"},
		{"application/x-www-form-urlencoded", "email=tz%40example.org&timezone=..%2F..%2Fetc%2Fpasswd"},
		{"application/json", `{"email":"tz@example.org","timezone":"Mars/Olympus"}`},
	} {
		f.Add(seed.ct, seed.body)
	}
	e := newHandlerEnv(f, "")
	f.Fuzz(func(t *testing.T, ct, body string) {
		before := e.count(t, "subscribers")
		r := httptest.NewRequest("POST", "/subscribe", strings.NewReader(body))
		r.Header.Set("Content-Type", ct)
		r.RemoteAddr = "203.0.113.9:1234"
		w := httptest.NewRecorder()
		e.h.perIP = newLimiter(1<<30, 1, e.clock.Now) // the fuzzer is one very busy client
		e.store.SetSignUpCaps(Caps{})
		mux := http.NewServeMux()
		e.h.Routes(mux)
		mux.ServeHTTP(w, r)
		if w.Code >= 500 {
			t.Fatalf("status %d for %q %q:\n%s", w.Code, ct, body, w.Body)
		}
		// The one script the form carries is web.TimeZoneScript, which the
		// security policy allows by its hash; any other is an echo.
		page := strings.Replace(w.Body.String(), "<script>"+string(web.TimeZoneScript)+"</script>", "", 1)
		if strings.Contains(page, "<script") {
			t.Fatalf("markup echoed for %q", body)
		}
		// Counted, not listed: a list stops at its limit, and the fuzzer
		// signs up many thousands.
		if after := e.count(t, "subscribers"); w.Code >= 400 && after != before {
			t.Fatalf("status %d but the list grew from %d to %d", w.Code, before, after)
		}
	})
}
