package feed

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

func TestAssetRel(t *testing.T) {
	for _, tc := range []struct {
		dir, ref, want string
		err            error
	}{
		{"posts", "img/harbor.jpg", "posts/img/harbor.jpg", nil},
		{"posts", "./img/./harbor.jpg", "posts/img/harbor.jpg", nil},
		{"posts", "../shared/map.png", "shared/map.png", nil}, // still inside the content folder
		{"", "harbor.jpg", "harbor.jpg", nil},
		{"posts", "img/../../../tidings.jpg", "", errAssetOutside},
		{"posts", "../../tidings.toml", "", errAssetOutside},
		{"", "../x.jpg", "", errAssetOutside},
		{"posts", "/etc/x.jpg", "", errAssetOutside},
		{"posts", "", "", errAssetOutside},
		{"posts", "a\x00.jpg", "", errAssetOutside},
		{"posts", ".git/x.jpg", "", errAssetHidden},
		{"posts", "img/.hidden.jpg", "", errAssetHidden},
		{".drafts", "x.jpg", "", errAssetHidden},
	} {
		got, err := assetRel(tc.dir, tc.ref)
		if got != tc.want || !errors.Is(err, tc.err) {
			t.Errorf("assetRel(%q, %q) = %q, %v; want %q, %v", tc.dir, tc.ref, got, err, tc.want, tc.err)
		}
	}
}

func TestAssetName(t *testing.T) {
	const h = "3f2a9c1e5b7d0a42"
	for _, tc := range []struct{ base, ext, want string }{
		{"harbor.jpg", "jpg", "harbor." + h + ".jpg"},
		{"Harbor View.JPG", "jpg", "harbor-view." + h + ".jpg"},
		{"2026_map (final).png", "png", "2026_map-final." + h + ".png"},
		{"ελλάδα.svg", "svg", "asset." + h + ".svg"},
		{"a.b.c.pdf", "pdf", "a-b-c." + h + ".pdf"},
		{strings.Repeat("x", 100) + ".mp3", "mp3", strings.Repeat("x", 60) + "." + h + ".mp3"},
	} {
		got := assetName(tc.base, tc.ext, h)
		if got != tc.want {
			t.Errorf("assetName(%q) = %q, want %q", tc.base, got, tc.want)
		}
		if hash, _, ok := parseAssetName(got); !ok || hash != h {
			t.Errorf("parseAssetName(%q) = %q, %v: refuses a name assetName makes", got, hash, ok)
		}
	}
	for _, name := range []string{"", "harbor.jpg", "harbor." + h + ".html", "Harbor." + h + ".jpg", "harbor." + h[:8] + ".jpg",
		"harbor.3F2A9C1E5B7D0A42.jpg", "../x." + h + ".jpg", "." + h + ".jpg", "harbor." + h + ".jpg.toml"} {
		if _, _, ok := parseAssetName(name); ok {
			t.Errorf("parseAssetName(%q) accepts a name assetName never makes", name)
		}
	}
}

// FuzzAssetRel: whatever an article writes, an accepted reference names a
// file inside the content folder, through no hidden folder.
func FuzzAssetRel(f *testing.F) {
	for _, s := range []string{"img/harbor.jpg", "../../tidings.toml", "..", "a/../../b.jpg", "./.git/x.png", "//x/y.jpg", "img\\..\\..\\x.jpg", "\x00"} {
		f.Add("posts", s)
	}
	f.Fuzz(func(t *testing.T, dir, ref string) {
		if d, err := assetRel("", dir); err != nil || path.Clean(d) != dir {
			return // the walk gives clean folders below the root
		}
		rel, err := assetRel(dir, ref)
		if err != nil {
			return
		}
		if !filepath.IsLocal(rel) || strings.HasPrefix(rel, "/") {
			t.Fatalf("assetRel(%q, %q) = %q: outside the content folder", dir, ref, rel)
		}
		for _, seg := range strings.Split(rel, "/") {
			if seg == ".." || strings.HasPrefix(seg, ".") {
				t.Fatalf("assetRel(%q, %q) = %q: through %q", dir, ref, rel, seg)
			}
		}
		if name := assetName(path.Base(rel), "jpg", "0123456789abcdef"); !validName(name) {
			t.Fatalf("assetName(%q) = %q, which serve refuses", path.Base(rel), name)
		}
	})
}

func validName(name string) bool { _, _, ok := parseAssetName(name); return ok }

// assetEnv is a content folder whose scans publish assets, logging to log.
func assetEnv(t *testing.T) (*ingestEnv, *bytes.Buffer) {
	t.Helper()
	e := newIngestEnv(t)
	var log bytes.Buffer
	e.in.Logger = slog.New(slog.NewTextHandler(&log, nil))
	e.in.AssetDir = AssetDir(filepath.Join(filepath.Dir(e.dir), "public"))
	return e, &log
}

func articleHTML(t *testing.T, e *ingestEnv) string {
	t.Helper()
	as, err := e.store.List(context.Background(), ListOptions{All: true})
	if err != nil || len(as) != 1 {
		t.Fatalf("%d articles, %v; want 1", len(as), err)
	}
	return as[0].ContentHTML + "\nimage: " + as[0].Image
}

// The edges of what is published: links inside the folder and out of it,
// too big a file, other kinds of file, hidden ones, fragments.
func TestIngest_AssetEdges(t *testing.T) {
	for _, follow := range []bool{false, true} {
		t.Run(fmt.Sprintf("follow_symlinks=%v", follow), func(t *testing.T) { testAssetEdges(t, follow) })
	}
}

func testAssetEdges(t *testing.T, follow bool) {
	e, log := assetEnv(t)
	e.in.MaxBytes = 1 << 10
	e.in.FollowSymlinks = follow
	outside := filepath.Join(filepath.Dir(e.dir), "outside.jpg")
	if err := os.WriteFile(outside, []byte("outside"), 0o644); err != nil {
		t.Fatal(err)
	}
	e.write(t, "posts/img/big.png", strings.Repeat("x", 2<<10))
	e.write(t, "posts/img/ok.gif", "GIF89a")
	e.write(t, "posts/.secret/x.jpg", "hidden")
	e.write(t, "posts/notes.txt", "Notes\n\nnot an asset, an article of its own")
	for link, target := range map[string]string{"posts/img/link.jpg": outside, "posts/img/alias.gif": "ok.gif"} {
		if err := os.Symlink(target, filepath.Join(e.dir, filepath.FromSlash(link))); err != nil {
			t.Fatal(err)
		}
	}
	e.write(t, "posts/bridge.md", "---\ntitle: Bridge\nimage: img/missing.png\n---\n\n"+
		"![](img/link.jpg) ![](img/big.png) ![](img/ok.gif) ![](img/ok.gif) ![](.secret/x.jpg) ![](img/alias.gif)\n\n"+
		"[doc](img/ok.gif#top) [notes](notes.txt) [far](https://example.com/x.jpg) [site](/x.jpg) [anchor](#x)\n")
	res := e.scan(t)
	if res.Added != 2 {
		t.Fatalf("added %d, want 2: %+v", res.Added, res.Rejected)
	}
	as, err := e.store.List(context.Background(), ListOptions{All: true})
	if err != nil {
		t.Fatal(err)
	}
	var html, image string
	for _, a := range as {
		if a.Title == "Bridge" {
			html, image = a.ContentHTML, a.Image
		}
	}
	gif := regexp.MustCompile(`https://news\.example\.org/assets/ok\.[0-9a-f]{16}\.gif`).FindString(html)
	if gif == "" {
		t.Fatalf("the GIF is not published:\n%s", html)
	}
	alias := `src="https://news.example.org/img/alias.gif"` // a link inside the folder: refused unless followed
	if follow {
		alias = `src="` + strings.Replace(gif, "/ok.", "/alias.", 1) + `"` // the same bytes under the name it is shown by
	}
	for _, want := range []string{
		alias,
		`src="https://news.example.org/img/link.jpg"`,  // a link out of the folder: refused
		`src="https://news.example.org/img/big.png"`,   // too big
		`src="https://news.example.org/.secret/x.jpg"`, // hidden
		`href="` + gif + `#top"`,                       // the fragment kept
		`href="https://news.example.org/notes.txt"`,    // no asset
		`href="https://example.com/x.jpg"`, `href="https://news.example.org/x.jpg"`, `href="#x"`,
	} {
		if !strings.Contains(html, want) {
			t.Errorf("article HTML lacks %s:\n%s", want, html)
		}
	}
	if image != "https://news.example.org/img/missing.png" {
		t.Errorf("a missing front-matter image is %q, want it made absolute as before", image)
	}
	entries, _ := os.ReadDir(e.in.AssetDir)
	if want := 1 + btoi(follow); len(entries) != want {
		t.Errorf("assets folder holds %v, want %d files", entries, want)
	}
	wants := []string{
		`asset \"img/big.png\" not published: file too large`,
		`asset \".secret/x.jpg\" not published: it names a hidden file or folder`,
		`image \"img/missing.png\" not published: no such file`,
	}
	if follow {
		wants = append(wants, `asset \"img/link.jpg\" not published: it points outside the article's content folder: posts/img/link.jpg is a link to `)
	} else {
		wants = append(wants, `asset \"img/link.jpg\" not published: symbolic link not followed: content.follow_symlinks is off`,
			`asset \"img/alias.gif\" not published: symbolic link not followed`)
	}
	for _, want := range wants {
		if !strings.Contains(log.String(), want) {
			t.Errorf("log lacks %s:\n%s", want, log)
		}
	}
	if n := strings.Count(log.String(), `img/ok.gif`); n != 0 {
		t.Errorf("a published asset is warned of %d times:\n%s", n, log)
	}
	if res := e.scan(t); res.Unchanged != 2 {
		t.Errorf("a second scan: %+v, want 2 unchanged: refused assets make the article look changed", res)
	}
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

// The front matter's image, a file next to the article, is published as
// one in the body is; a missing one that appears later is taken up by
// the next scan though the article did not change.
func TestIngest_AssetImageAppears(t *testing.T) {
	e, _ := assetEnv(t)
	e.write(t, "bridge.md", "---\ntitle: Bridge\nimage: cover.webp\n---\n\nText.\n")
	e.scan(t)
	if got := articleHTML(t, e); !strings.HasSuffix(got, "image: https://news.example.org/cover.webp") {
		t.Fatalf("missing image: %s", got)
	}
	if res := e.scan(t); res.Unchanged != 1 {
		t.Errorf("a scan with nothing changed: %+v, want 1 unchanged", res)
	}
	e.write(t, "cover.webp", "RIFF....WEBP")
	if res := e.scan(t); res.Updated != 1 {
		t.Errorf("the image appeared: %+v, want 1 updated", res)
	}
	if got := articleHTML(t, e); !regexp.MustCompile(`image: https://news\.example\.org/assets/cover\.[0-9a-f]{16}\.webp$`).MatchString(got) {
		t.Errorf("the image that appeared is not the article's: %s", got)
	}
	if res := e.scan(t); res.Unchanged != 1 {
		t.Errorf("a scan with nothing changed since: %+v, want 1 unchanged", res)
	}
}

// An SVG may carry script: served on its own it is sandboxed.
func TestServeAsset_Headers(t *testing.T) {
	pub, h := newServeEnv(t)
	dir := AssetDir(pub.OutputDir)
	name := "logo.0123456789abcdef.svg"
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, name), []byte(`<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>`), 0o644); err != nil {
		t.Fatal(err)
	}
	w := serveGet(h, "/assets/"+name)
	if w.Code != http.StatusOK {
		t.Fatalf("GET %s: %d", name, w.Code)
	}
	for k, want := range map[string]string{
		"Content-Type":            "image/svg+xml",
		"Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; sandbox",
		"X-Content-Type-Options":  "nosniff",
		"ETag":                    `"0123456789abcdef"`,
		"Cache-Control":           "public, max-age=31536000, immutable",
	} {
		if got := w.Header().Get(k); got != want {
			t.Errorf("%s: %q, want %q", k, got, want)
		}
	}
	if w := serveGet(h, "/assets/"+name, "If-None-Match", `"0123456789abcdef"`); w.Code != http.StatusNotModified {
		t.Errorf("with its ETag: %d, want 304", w.Code)
	}
	if w := serveGet(h, "/assets/"+name, "Range", "bytes=0-3"); w.Code != http.StatusPartialContent || w.Body.String() != "<svg" {
		t.Errorf("a range: %d %q, want 206 \"<svg\"", w.Code, w.Body)
	}
	for _, p := range []string{"/assets/logo.0123456789abcdef.png", "/assets/x", "/assets/"} {
		if w := serveGet(h, p); w.Code != http.StatusNotFound {
			t.Errorf("GET %s: %d, want 404", p, w.Code)
		}
	}
}
