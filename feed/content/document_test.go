package content

import (
	"strings"
	"testing"
)

// An image is shown on pages and in feeds: only http(s), or a path on the
// site made absolute, is taken; anything else is dropped with a warning.
func TestNormalize_ImageOnlyHTTP(t *testing.T) {
	r, err := NewRenderer("https://news.example.org/blog/")
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct{ in, want string }{
		{"https://cdn.example.org/x.png", "https://cdn.example.org/x.png"},
		{"http://cdn.example.org/x.png", "http://cdn.example.org/x.png"},
		{"/img/x.png", "https://news.example.org/img/x.png"},
		{"img/x.png", "https://news.example.org/blog/img/x.png"},
		{"//cdn.example.org/x.png", "https://cdn.example.org/x.png"},
		{"  https://cdn.example.org/x.png ", "https://cdn.example.org/x.png"},
		{"", ""},
		{"javascript:alert(1)", ""},
		{"JavaScript:alert(1)", ""},
		{"data:image/png;base64,iVBORw0KGgo=", ""},
		{"file:///etc/passwd", ""},
		{"ftp://cdn.example.org/x.png", ""},
		{"https:///x.png", ""},
		{"#top", ""},
	} {
		d, err := r.Normalize(Doc{ID: "a", Title: "T", HTML: "<p>x</p>", Image: tt.in})
		if err != nil {
			t.Fatal(err)
		}
		if d.Image != tt.want {
			t.Errorf("image %q became %q, want %q", tt.in, d.Image, tt.want)
		}
		warned := strings.Contains(strings.Join(d.Warnings, "\n"), "image")
		if dropped := tt.want == "" && strings.TrimSpace(tt.in) != ""; warned != dropped {
			t.Errorf("image %q: warnings %q; a dropped image is named, a kept one is not", tt.in, d.Warnings)
		}
	}
}
