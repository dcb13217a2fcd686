package content

import (
	"testing"
	"time"
)

// Spaces an editor leaves after a fence do not change what the file is.
func TestParseFile_FenceSpaces(t *testing.T) {
	r, _ := NewRenderer("https://news.example.org/")
	for _, tt := range []struct{ name, src, title, text string }{
		{"yaml", "---\ntitle: Harbour\n---\nBody.\n", "Harbour", "Body.\n"},
		{"yaml, space after opening", "--- \ntitle: Harbour\n---\nBody.\n", "Harbour", "Body.\n"},
		{"yaml, tab and spaces after both", "---\t \ntitle: Harbour\n---  \nBody.\n", "Harbour", "Body.\n"},
		{"toml, space after opening", "+++ \ntitle = \"Harbour\"\n+++\nBody.\n", "Harbour", "Body.\n"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			d, err := ParseFile("post.md", []byte(tt.src), r, time.UTC)
			if err != nil {
				t.Fatal(err)
			}
			if d.Title != tt.title || d.Text != tt.text {
				t.Errorf("title %q text %q; want %q, %q", d.Title, d.Text, tt.title, tt.text)
			}
		})
	}
	for _, src := range []string{"----\ntitle: x\n----\nBody.\n", "--- title: x\n---\nBody.\n", " ---\ntitle: x\n---\nBody.\n"} {
		if format, _, body, err := splitFrontMatter(src); format != "" || body != src || err != nil {
			t.Errorf("%q: format %q, body %q, err %v; want no front matter", src, format, body, err)
		}
	}
}
