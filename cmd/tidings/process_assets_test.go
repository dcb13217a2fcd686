package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// TestProcess_AssetsNextToAnArticle runs the binary as an operator
// would, on an article with an image beside it: ingest publishes the
// image under a hashed name, the feeds carry its absolute URL, serve
// answers it with long-cache headers, a missing image is named in the
// log, nothing outside the content folder is published, and a new image
// under the old name is a new URL.
func TestProcess_AssetsNextToAnArticle(t *testing.T) {
	bin := buildTidings(t)
	dir := t.TempDir()
	content := filepath.Join(dir, "content")
	posts := filepath.Join(content, "posts")
	harbor := []byte("\xff\xd8\xff\xe0 not really a JPEG, but bytes of one's own")
	writeFile(t, posts, "img/harbor.jpg", string(harbor))
	writeFile(t, posts, "files/plan.pdf", "%PDF-1.4 the timetable")
	writeFile(t, dir, "secret.jpg", "bytes outside the content folder")
	writeFile(t, posts, "bridge.md", "---\ntitle: Bridge opens\ndate: 2026-01-20 08:30\nimage: img/harbor.jpg\n---\n\n"+
		"The new bridge opened on Friday.\n\n![The harbour](img/harbor.jpg)\n\n![Gone](img/missing.jpg)\n\n"+
		"[The timetable](files/plan.pdf), [the config](../../tidings.toml), [a secret](../../secret.jpg).\n")
	public := filepath.Join(dir, "public")
	cfg := writeFile(t, dir, "tidings.toml", fmt.Sprintf(`
[site]
title = "The Harbour Gazette"
base_url = "http://127.0.0.1:8080"
email = "news@gazette.example.org"
[database]
path = %q
[content]
dirs = [%q]
[feeds]
output_dir = %q
[http]
listen = "127.0.0.1:0"
admin_token = "planted-admin-token-0123456789"
[smtp]
outbox_dir = %q
`, filepath.Join(dir, "data", "t.db"), content, public, filepath.Join(dir, "outbox")))
	env := append(os.Environ(), "TIDINGS_CONFIG="+cfg)
	tidings := func(want int, args ...string) string {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		cmd := exec.CommandContext(ctx, bin, args...)
		cmd.Env = env
		out, _ := cmd.CombinedOutput()
		if cmd.ProcessState == nil || cmd.ProcessState.ExitCode() != want {
			t.Fatalf("tidings %s: %v, want exit %d:\n%s", strings.Join(args, " "), cmd.ProcessState, want, out)
		}
		return string(out)
	}
	hashed := func(name string, data []byte) string {
		sum := sha256.Sum256(data)
		return name + "." + hex.EncodeToString(sum[:])[:16]
	}

	out := tidings(0, "ingest")
	article := filepath.Join(posts, "bridge.md")
	if !regexp.MustCompile(`path=\S*` + regexp.QuoteMeta(article) + `\S* .*img/missing.jpg.*not published: no such file`).MatchString(out) {
		t.Errorf("ingest does not warn of the missing image, naming the article and the reference:\n%s", out)
	}
	if !strings.Contains(out, `secret.jpg\" not published: it points outside the article's content folder`) {
		t.Errorf("ingest does not warn of the reference outside the content folder:\n%s", out)
	}
	tidings(0, "feeds", "build")

	imgURL := "http://127.0.0.1:8080/assets/" + hashed("harbor", harbor) + ".jpg"
	pdfURL := "http://127.0.0.1:8080/assets/" + hashed("plan", []byte("%PDF-1.4 the timetable")) + ".pdf"
	rss, err := os.ReadFile(filepath.Join(public, "feed.xml"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		`src="` + imgURL + `"`,                        // the body's image
		`href="` + pdfURL + `"`,                       // the linked file
		`src="http://127.0.0.1:8080/img/missing.jpg"`, // missing: made absolute as before
		`href="http://127.0.0.1:8080/tidings.toml"`,   // no asset: a link, as before
		`href="http://127.0.0.1:8080/secret.jpg"`,     // outside: a link, as before
		`<enclosure url="` + imgURL + `"`,             // the front matter's image
	} {
		if !strings.Contains(string(rss), want) {
			t.Errorf("feed.xml lacks %s:\n%s", want, rss)
		}
	}
	entries, err := os.ReadDir(filepath.Join(public, "assets"))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	if want := []string{hashed("harbor", harbor) + ".jpg", hashed("plan", []byte("%PDF-1.4 the timetable")) + ".pdf"}; fmt.Sprint(names) != fmt.Sprint(want) {
		t.Errorf("%s/assets holds %v, want only %v", public, names, want)
	}

	if mail := tidings(0, "digest", "preview", "daily", "--format", "html"); !strings.Contains(mail, `src="`+imgURL+`"`) {
		t.Errorf("the digest's HTML does not show the image at %s:\n%s", imgURL, mail)
	}

	srv := startTidings(t, bin, env, "serve")
	base := srv.logged(t, regexp.MustCompile(`msg=serving .*url=(http://\S+)`), 10*time.Second)
	resp, body := httpGet(t, base+"/assets/"+hashed("harbor", harbor)+".jpg", "")
	if resp.StatusCode != 200 || body != string(harbor) {
		t.Fatalf("GET the image: %d, %d bytes, want 200 and the file's %d", resp.StatusCode, len(body), len(harbor))
	}
	for k, want := range map[string]string{
		"Content-Type":   "image/jpeg",
		"Cache-Control":  "public, max-age=31536000, immutable",
		"ETag":           `"` + strings.TrimPrefix(hashed("", harbor), ".") + `"`,
		"Content-Length": fmt.Sprint(len(harbor)),
	} {
		if got := resp.Header.Get(k); got != want {
			t.Errorf("image %s: %q, want %q", k, got, want)
		}
	}
	if resp, _ := httpGet(t, base+"/assets/"+hashed("harbor", harbor)+".jpg", resp.Header.Get("ETag")); resp.StatusCode != http.StatusNotModified {
		t.Errorf("GET the image with its ETag: %d, want 304", resp.StatusCode)
	}
	if resp, _ := httpGet(t, base+"/assets/"+hashed("plan", []byte("%PDF-1.4 the timetable"))+".pdf", ""); resp.Header.Get("Content-Type") != "application/pdf" {
		t.Errorf("the PDF is served as %q", resp.Header.Get("Content-Type"))
	}
	for _, p := range []string{"/assets/harbor.0000000000000000.jpg", "/assets/tidings.toml", "/assets/..%2ftidings.toml", "/assets/" + hashed("secret", []byte("bytes outside the content folder")) + ".jpg"} {
		if resp, body := httpGet(t, base+p, ""); resp.StatusCode != http.StatusNotFound || strings.Contains(body, "planted-admin-token") {
			t.Errorf("GET %s: %d, want 404", p, resp.StatusCode)
		}
	}
	if resp, body := httpGet(t, base+"/", ""); resp.StatusCode != 200 {
		t.Errorf("front page: %d", resp.StatusCode)
	} else if m := regexp.MustCompile(`href="(http://127.0.0.1:8080/articles/[^"]+)"`).FindStringSubmatch(body); m == nil {
		t.Errorf("front page links no article:\n%s", body)
	} else if _, page := httpGet(t, base+strings.TrimPrefix(m[1], "http://127.0.0.1:8080"), ""); !strings.Contains(page, `src="`+imgURL+`"`) {
		t.Errorf("the article's page does not show the image at %s:\n%s", imgURL, page)
	}
	srv.cmd.Process.Signal(os.Interrupt)
	srv.exitsCleanly(t, 10*time.Second)

	// A new image under the old name, the article untouched: a new URL,
	// and the old file kept for the mails that show it.
	harbor2 := []byte("\xff\xd8\xff\xe0 the harbour at night")
	writeFile(t, posts, "img/harbor.jpg", string(harbor2))
	if out := tidings(0, "ingest"); !strings.Contains(out, "updated 1") {
		t.Errorf("ingest after the image changed does not update the article:\n%s", out)
	}
	tidings(0, "feeds", "build")
	rss, err = os.ReadFile(filepath.Join(public, "feed.xml"))
	if err != nil {
		t.Fatal(err)
	}
	newURL := "http://127.0.0.1:8080/assets/" + hashed("harbor", harbor2) + ".jpg"
	if !strings.Contains(string(rss), `src="`+newURL+`"`) || strings.Contains(string(rss), imgURL) {
		t.Errorf("after the image changed, feed.xml does not show it at %s alone:\n%s", newURL, rss)
	}
	for _, name := range []string{hashed("harbor", harbor) + ".jpg", hashed("harbor", harbor2) + ".jpg"} {
		if _, err := os.Stat(filepath.Join(public, "assets", name)); err != nil {
			t.Error(err)
		}
	}

	// An emptied output folder is filled again by the next ingest.
	if err := os.RemoveAll(public); err != nil {
		t.Fatal(err)
	}
	tidings(0, "ingest")
	if b, err := os.ReadFile(filepath.Join(public, "assets", hashed("harbor", harbor2)+".jpg")); err != nil || string(b) != string(harbor2) {
		t.Errorf("after the output folder was emptied, ingest does not publish the image again: %v", err)
	}
}

// httpGet GETs url, with If-None-Match when etag is set.
func httpGet(t *testing.T, url, etag string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest("GET", url, nil)
	if err != nil {
		t.Fatal(err)
	}
	if etag != "" {
		req.Header.Set("If-None-Match", etag)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, string(b)
}
