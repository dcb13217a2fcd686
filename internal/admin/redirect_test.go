package admin

import (
	"strings"
	"testing"
)

func TestSafeNext(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"/admin/ok", "/admin/ok"},
		{"/admin/subscribers?q=ana&page=2", "/admin/subscribers?q=ana&page=2"},
		{"/admin/", "/admin/"},
		{"/admin", "/admin"},
		{"", home},
		{"//evil.com", home},
		{"//evil.com/admin/", home},
		{"/\\evil.com", home},
		{"/admin\\..\\..\\evil", home},
		{"https://x", home},
		{"https://x/admin/ok", home},
		{"http:/admin/ok", home},
		{"javascript:alert(1)", home},
		{"admin/ok", home},
		{"/admin/../feed.xml", home},
		{"/admin/..%2F..%2Fx", home},
		{"/administrator", home},
		{"/\t/evil.com", home},
		{"/admin/\n/x", home},
		{"/admin/login", home},
		{"/admin/login?next=//evil.com", home},
		{"/admin/./settings", "/admin/settings"},
		{"/admin?0", "/admin?0"},
	} {
		if got := safeNext(tt.in); got != tt.want {
			t.Errorf("safeNext(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func FuzzSafeNext(f *testing.F) {
	for _, s := range []string{"/admin/ok", "//evil.com", "/\\evil", "https://x", "/admin/../x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, next string) {
		got := safeNext(next)
		if got != home && (got[0] != '/' || len(got) > 1 && (got[1] == '/' || got[1] == '\\')) {
			t.Fatalf("safeNext(%q) = %q leaves the site", next, got)
		}
		// "/admin?page=2" is the admin too.
		if p, _, _ := strings.Cut(got, "?"); p != "/admin" && !strings.HasPrefix(p, "/admin/") {
			t.Fatalf("safeNext(%q) = %q leaves the admin", next, got)
		}
	})
}
