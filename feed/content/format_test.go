package content

import "testing"

func TestFormatOf(t *testing.T) {
	for name, want := range map[string]Format{
		"post.md": Markdown, "POST.MD": Markdown, "a/b.Markdown": Markdown,
		"note.txt": Text, "Note.TXT": Text,
		"page.html": HTML, "PAGE.HTM": HTML,
		"image.png": Unknown, "md": Unknown, "post.md.bak": Unknown, "": Unknown,
	} {
		if got := FormatOf(name); got != want {
			t.Errorf("FormatOf(%q) = %v, want %v", name, got, want)
		}
	}
}
