package mail

import (
	"strings"
	"testing"

	"github.com/tidings/tidings/feed/content"
)

func testBroadcastRenderer(t testing.TB) *content.Renderer {
	t.Helper()
	r, err := content.NewRenderer("https://news.example.org/")
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestParseBroadcast(t *testing.T) {
	r := testBroadcastRenderer(t)
	good := []struct{ name, src, subject, preheader, inHTML string }{
		{"yaml", "---\nsubject: We are moving\npreheader: From May\n---\n\nTo **Pier 4**. [Map](/map)\n", "We are moving", "From May", `href="https://news.example.org/map"`},
		{"toml, CRLF, BOM", "\ufeff+++\r\nsubject = \"Hours\"\r\n+++\r\nClosed.\r\n", "Hours", "", "Closed."},
		{"script removed", "---\nsubject: x\n---\n<script>alert(1)</script>Hi\n", "x", "", "Hi"},
	}
	for _, tt := range good {
		t.Run(tt.name, func(t *testing.T) {
			b, err := ParseBroadcast("f.md", []byte(tt.src), r)
			if err != nil {
				t.Fatal(err)
			}
			if b.Subject != tt.subject || b.Preheader != tt.preheader || !strings.Contains(b.HTML, tt.inHTML) || strings.Contains(b.HTML, "<script") || b.Text == "" || b.Hash == "" {
				t.Errorf("%+v", b)
			}
		})
	}
	bad := []struct{ name, src, want string }{
		{"no head", "Just text\n", "starts with front matter"},
		{"never closed", "---\nsubject: x\n", "never closed"},
		{"no subject", "---\npreheader: y\n---\nBody\n", "no subject"},
		{"unknown key", "---\nsubject: x\ncolour: red\n---\nBody\n", "colour"},
		{"empty body", "---\nsubject: x\n---\n\n", "nothing follows"},
	}
	for _, tt := range bad {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseBroadcast("f.md", []byte(tt.src), r)
			if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.HasPrefix(err.Error(), "f.md: ") {
				t.Errorf("err = %v, want one naming the file and saying %q", err, tt.want)
			}
		})
	}
}

func FuzzParseBroadcast(f *testing.F) {
	for _, s := range []string{"---\nsubject: x\n---\nBody\n", "+++\nsubject = \"y\"\n+++\n# Hi\n", "---\n---\n", "---\nsubject: [\n---\nx"} {
		f.Add(s)
	}
	r := testBroadcastRenderer(f)
	f.Fuzz(func(t *testing.T, src string) {
		b, err := ParseBroadcast("f.md", []byte(src), r)
		if err != nil {
			return
		}
		if b.Subject == "" || strings.ContainsAny(b.Subject, "\r\n") || strings.Contains(strings.ToLower(b.HTML), "<script") {
			t.Fatalf("accepted %q as %+v", src, b)
		}
	})
}
