package content

import (
	"errors"
	"net/url"
	"strings"
	"testing"
)

// fakeAssets publishes every .jpg under /assets/, fails for "gone.jpg",
// and records what it was asked.
type fakeAssets struct{ asked []string }

func (f *fakeAssets) publish(ref string) (string, error) {
	f.asked = append(f.asked, ref)
	switch {
	case strings.HasSuffix(ref, "gone.jpg"):
		return "", errors.New("no such file")
	case strings.HasSuffix(ref, ".jpg"):
		return "https://cdn.example.org/assets/" + url.PathEscape(strings.ReplaceAll(ref, "/", "_")), nil
	}
	return "", ErrNotAsset
}

func TestRenderer_Assets(t *testing.T) {
	r, err := NewRenderer("https://news.example.org/")
	if err != nil {
		t.Fatal(err)
	}
	fa := &fakeAssets{}
	ra := r.WithAssets(fa.publish)
	d, err := ra.Normalize(Doc{ID: "x", Title: "X", Image: "img/cover.jpg", HTML: `<p>
		<img src="img/a.jpg"> <img src="img/my%20harbor.jpg"> <a href="img/a.jpg#top">a</a>
		<img src="gone.jpg"> <img src="gone.jpg"> <a href="page.html">p</a>
		<img src="https://example.com/b.jpg"> <img src="//example.com/c.jpg"> <img src="/site/d.jpg">
		<a href="#frag">f</a> <a href="mailto:a@example.org">m</a> <a href="?q=1.jpg">q</a></p>`})
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		`src="https://cdn.example.org/assets/img_a.jpg"`,
		`src="https://cdn.example.org/assets/img_my%20harbor.jpg"`, // the file's name unescaped, asked once
		`href="https://cdn.example.org/assets/img_a.jpg#top"`,
		`src="https://news.example.org/gone.jpg"`,   // not published: made absolute as before
		`href="https://news.example.org/page.html"`, // no asset
		`src="https://example.com/b.jpg"`, `src="https://example.com/c.jpg"`, `src="https://news.example.org/site/d.jpg"`,
		`href="#frag"`, `href="mailto:a@example.org"`,
	} {
		if !strings.Contains(d.HTML, want) {
			t.Errorf("HTML lacks %s:\n%s", want, d.HTML)
		}
	}
	if d.Image != "https://cdn.example.org/assets/img_cover.jpg" {
		t.Errorf("image %q, want the asset's URL", d.Image)
	}
	want := "img/a.jpg|img/my harbor.jpg|img/a.jpg|gone.jpg|gone.jpg|page.html|img/cover.jpg"
	if got := strings.Join(fa.asked, "|"); got != want {
		t.Errorf("asked for %q, want %q (no absolute, site or scheme reference)", got, want)
	}
	if n := strings.Count(strings.Join(d.Warnings, "\n"), `asset "gone.jpg" not published: no such file`); n != 1 {
		t.Errorf("warnings %q: want the missing asset named once", d.Warnings)
	}
	// Without assets, nothing is asked and references are only made absolute.
	d2, _ := r.Normalize(Doc{ID: "x", Title: "X", HTML: `<img src="img/a.jpg">`})
	if !strings.Contains(d2.HTML, `src="https://news.example.org/img/a.jpg"`) {
		t.Errorf("without assets: %s", d2.HTML)
	}
	if img, ok := ra.ImageURL("gone.jpg"); !ok || img != "https://news.example.org/gone.jpg" {
		t.Errorf("ImageURL of a missing asset: %q, %v; want it made absolute, taken", img, ok)
	}
}

// FuzzRenderer_Assets: whatever the HTML, the asset function is asked
// only about relative paths, and what it answers is what the page links.
func FuzzRenderer_Assets(f *testing.F) {
	for _, s := range []string{`<img src="img/a.jpg">`, `<a href="../../tidings.toml">`, `<img src="//x/y.jpg">`,
		`<img src="javascript:a.jpg">`, `<video poster="p.jpg" src="v.mp4">`, `<img src="%zz.jpg">`, `<img src=" \t a.jpg#x">`} {
		f.Add(s)
	}
	r, err := NewRenderer("https://news.example.org/")
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, html string) {
		ra := r.WithAssets(func(ref string) (string, error) {
			if ref == "" || strings.HasPrefix(ref, "/") {
				t.Fatalf("asked about %q, not a relative path", ref)
			}
			if u, err := url.Parse(ref); err == nil && (u.Scheme != "" || u.Host != "") {
				t.Fatalf("asked about %q, which names a scheme or host", ref)
			}
			return "https://news.example.org/assets/x.0123456789abcdef.jpg", nil
		})
		ra.clean(html)
	})
}
