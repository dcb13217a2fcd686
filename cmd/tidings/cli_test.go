package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// run runs the command line as a user would, in the current directory.
func run(t *testing.T, env map[string]string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	var out, errb bytes.Buffer
	code = Run(context.Background(), args, &out, &errb, func(k string) string { return env[k] })
	return out.String(), errb.String(), code
}

func TestCLI_Help(t *testing.T) {
	out, _, code := run(t, nil, "help")
	if code != 0 {
		t.Fatalf("help exited %d", code)
	}
	for _, c := range []string{"init", "serve", "run", "ingest", "articles list", "articles show", "feeds build", "config check", "version", "subscribers add", "digest send", "editions retry", "status", "db copy"} {
		if !strings.Contains(out, "  "+c) {
			t.Errorf("help does not list %q", c)
		}
	}
	out, _, code = run(t, nil, "help", "ingest")
	if code != 0 || !strings.Contains(out, "Usage: tidings ingest") || !strings.Contains(out, "Example:") ||
		!strings.Contains(out, "\n  --config string\n") || strings.Contains(out, "\n  -config") {
		t.Errorf("help ingest (%d), want its flags written --config as the README does:\n%s", code, out)
	}
	out, _, code = run(t, nil, "articles", "show", "-h")
	if code != 0 || !strings.Contains(out, "Usage: tidings articles show [flags] ID") {
		t.Errorf("articles show -h (%d):\n%s", code, out)
	}
	if _, errs, code := run(t, nil, "frobnicate"); code != 2 || !strings.Contains(errs, `unknown command "frobnicate"`) {
		t.Errorf("unknown command: %d %q", code, errs)
	}
	if out, _, code := run(t, nil, "version"); code != 0 || !strings.HasPrefix(out, "tidings ") || !strings.Contains(out, "commit") {
		t.Errorf("version: %d %q", code, out)
	}
}

// A new operator's path: init, ingest, list, show.
func TestCLI_InitIngestArticles(t *testing.T) {
	t.Chdir(t.TempDir())
	out, errs, code := run(t, nil, "init")
	if code != 0 {
		t.Fatalf("init: %d %s", code, errs)
	}
	if !strings.Contains(out, "wrote   tidings.toml") {
		t.Errorf("init output: %s", out)
	}
	if info, err := os.Stat("tidings.toml"); err != nil || info.Mode().Perm() != 0o600 {
		t.Errorf("init wrote tidings.toml with mode %v (%v), want 0600: it may hold secrets", info.Mode().Perm(), err)
	}
	// init never overwrites.
	os.WriteFile("tidings.toml", []byte("[site]\ntitle = \"Mine\"\n"), 0o644)
	if out, _, _ := run(t, nil, "init"); !strings.Contains(out, "kept    tidings.toml") {
		t.Errorf("second init: %s", out)
	}
	if b, _ := os.ReadFile("tidings.toml"); !strings.Contains(string(b), "Mine") {
		t.Error("init overwrote tidings.toml")
	}

	out, errs, code = run(t, nil, "ingest")
	if code != 0 || !strings.HasPrefix(out, "added 1, updated 0, unchanged 0, removed 0, rejected 0") {
		t.Fatalf("ingest (%d): %s %s", code, out, errs)
	}
	out, _, _ = run(t, nil, "ingest")
	if !strings.HasPrefix(out, "added 0, updated 0, unchanged 1") {
		t.Errorf("second ingest: %s", out)
	}
	os.WriteFile(filepath.Join("content", "broken.md"), []byte("---\ntitle: x\n"), 0o644)
	out, _, code = run(t, nil, "ingest")
	if code != 1 || !strings.Contains(out, "rejected 1") || !strings.Contains(out, "rejected content/broken.md: bad front matter") {
		t.Errorf("ingest with a broken file (%d): %s", code, out)
	}

	out, _, code = run(t, nil, "articles", "list")
	if code != 0 || !strings.Contains(out, "welcome") || !strings.Contains(out, "Welcome to tidings") || !strings.Contains(out, "published") {
		t.Errorf("articles list (%d): %s", code, out)
	}
	out, _, code = run(t, nil, "articles", "show", "welcome")
	if code != 0 || !strings.Contains(out, "Tags:       news, tidings") || !strings.Contains(out, "--- HTML ---") || !strings.Contains(out, "<h2") || !strings.Contains(out, "--- Text ---") {
		t.Errorf("articles show (%d): %s", code, out)
	}
	if _, errs, code := run(t, nil, "articles", "show", "nope"); code != 1 || !strings.Contains(errs, `"nope": article not found`) {
		t.Errorf("show missing: %d %s", code, errs)
	}
}

// The repository's example content ingests whole, and the plain-text news
// article reads like the page it came from.
func TestCLI_ExampleContent(t *testing.T) {
	content, err := filepath.Abs("../../testdata/content")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	cfg := writeFile(t, dir, "tidings.toml", `
[site]
base_url = "https://gazette.example.org"
[database]
path = "`+filepath.Join(dir, "db", "t.db")+`"
[content]
dirs = ["`+content+`"]
[feeds]
output_dir = "`+filepath.Join(dir, "public")+`"
`)
	env := map[string]string{"TIDINGS_CONFIG": cfg}
	out, errs, code := run(t, env, "ingest")
	if code != 0 || !strings.HasPrefix(out, "added 4, updated 0, unchanged 0, removed 0, rejected 0") {
		t.Fatalf("ingest (%d): %s\n%s", code, out, errs)
	}
	out, _, _ = run(t, env, "articles", "show", "2026/harbour-dredging")
	for _, want := range []string{
		"Title:      Harbour Dredging Plan Approved After Four-Hour Council Debate",
		"Author:     Tomas Lindqvist",
		"Published:  2026-11-24T18:30:00Z",
		"<h2>Why the Harbour Needs Dredging</h2>", "<h2>Did You Know?</h2>", "<h2>Frequently Asked Questions</h2>",
		"<table>", "<th>Date</th>", "<ul>", "<li><strong>Will the ferry timetable change?</strong>",
		"<p><strong>Pro Tip:</strong>",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("harbour article lacks %q", want)
		}
	}
	for _, unwanted := range []string{"Table of Contents", "Share this article", "Published November"} {
		if strings.Contains(out, unwanted) {
			t.Errorf("harbour article still has %q", unwanted)
		}
	}
	out, _, _ = run(t, env, "articles", "show", "lighthouse-reopens")
	if !strings.Contains(out, "Image:      https://gazette.example.org/images/lighthouse.jpg") || !strings.Contains(out, `href="https://gazette.example.org/visit/lighthouse"`) {
		t.Errorf("lighthouse links not absolute:\n%s", out)
	}
	out, _, code = run(t, env, "feeds", "build")
	if code != 0 || !strings.Contains(out, "written 15") {
		t.Errorf("feeds build (%d): %s", code, out)
	}
	for _, p := range []string{"feed.xml", "atom.xml", "feed.json", "tags/culture/feed.xml", "tags/news/atom.xml"} {
		if _, err := os.Stat(filepath.Join(dir, "public", filepath.FromSlash(p))); err != nil {
			t.Error(err)
		}
	}
}

func TestCLI_ConfigCheck(t *testing.T) {
	dir := t.TempDir()
	cfg := writeFile(t, dir, "t.toml", "[smtp]\npassword = \"hunter2\"\n")
	out, _, code := run(t, map[string]string{"TIDINGS_ADMIN_TOKEN": "tok-secret"}, "--config", cfg, "config", "check")
	if code != 0 || !strings.Contains(out, cfg+": OK") || strings.Contains(out, "hunter2") || strings.Contains(out, "tok-secret") || !strings.Contains(out, "********") {
		t.Errorf("config check (%d):\n%s", code, out)
	}
	bad := writeFile(t, dir, "bad.toml", "[content]\nmax_bytes = -1\nbogus = 1\n")
	_, errs, code := run(t, nil, "config", "check", "--config", bad)
	if code != 1 || !strings.Contains(errs, "line 3: unknown key content.bogus") {
		t.Errorf("bad config (%d): %s", code, errs)
	}
}
