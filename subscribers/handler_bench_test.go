package subscribers

import (
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
)

// BenchmarkSignUp measures sign-up requests through the handler: form
// parsing, the store's transaction with its event and caps, the
// confirmation mail queued (here composed at once), and the thank-you page.
func BenchmarkSignUp(b *testing.B) {
	e := newHandlerEnv(b, "")
	e.h.perIP = newLimiter(1<<30, 1, e.clock.Now)
	e.store.SetSignUpCaps(Caps{})
	mux := http.NewServeMux()
	e.h.Routes(mux)
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		r := httptest.NewRequest("POST", "/subscribe", strings.NewReader("email=reader"+strconv.Itoa(i)+"%40example.org&name=Reader&digests=daily"))
		r.Header.Set("Content-Type", formType)
		w := httptest.NewRecorder()
		mux.ServeHTTP(w, r)
		if w.Code != 200 {
			b.Fatalf("status %d", w.Code)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "signups/s")
}
