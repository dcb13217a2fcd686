package feed

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// symlinkSite is a content folder beside a config holding a secret, with
// links of every kind planted in it: to the config (named like a text
// article), to an article in the folder, to a folder outside, to itself.
type symlinkSite struct {
	*ingestEnv
	config, outside string
}

const planted = "admin_token = \"s3cret-token\"\n"

func newSymlinkSite(t *testing.T) symlinkSite {
	t.Helper()
	e := newIngestEnv(t)
	root := filepath.Dir(e.dir)
	s := symlinkSite{ingestEnv: e, config: filepath.Join(root, "tidings.toml"), outside: filepath.Join(root, "elsewhere")}
	if err := os.WriteFile(s.config, []byte("# Config\n\n"+planted), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(s.outside, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(s.outside, "leak.md"), []byte("# Leak\n\n"+planted), 0o644); err != nil {
		t.Fatal(err)
	}
	e.write(t, "real.md", "# Real\n\nThe real article.\n")
	for link, target := range map[string]string{
		"x.txt":       s.config,
		"deep/y.md":   filepath.Join("..", "..", "tidings.toml"),
		"alias.md":    "real.md",
		"elsewhere":   s.outside,
		"loop.md":     "loop.md",
		"outside.txt": filepath.Join(s.outside, "leak.md"),
	} {
		p := filepath.Join(e.dir, filepath.FromSlash(link))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.Symlink(target, p); err != nil {
			t.Fatal(err)
		}
	}
	return s
}

// leaked fails the test when any stored article, published or not, holds
// the planted secret.
func (s symlinkSite) leaked(t *testing.T) {
	t.Helper()
	as, err := s.store.List(context.Background(), ListOptions{All: true})
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range as {
		if strings.Contains(a.ContentText+a.ContentHTML+a.Title, "s3cret") {
			t.Errorf("article %s (%s) holds the config's secret", a.ID, a.Path)
		}
	}
}

func rejectedFor(res ScanResult) map[string]error {
	m := map[string]error{}
	for _, r := range res.Rejected {
		m[filepath.Base(r.Path)] = r.Err
	}
	return m
}

func TestScan_SymlinksAreNotFollowed(t *testing.T) {
	s := newSymlinkSite(t)
	res := s.scan(t)
	if res.Added != 1 {
		t.Errorf("added %d, want only real.md", res.Added)
	}
	got := rejectedFor(res)
	for _, name := range []string{"x.txt", "y.md", "alias.md", "loop.md", "outside.txt"} {
		if err := got[name]; !errors.Is(err, ErrSymlink) || !strings.Contains(err.Error(), "content.follow_symlinks") {
			t.Errorf("%s: rejected with %v, want ErrSymlink naming the setting", name, err)
		}
	}
	if len(got) != 5 {
		t.Errorf("rejected %v; the link to a folder is passed over, not walked or rejected", res.Rejected)
	}
	s.leaked(t)
}

func TestScan_FollowedSymlinksStayInsideTheFolders(t *testing.T) {
	s := newSymlinkSite(t)
	s.in.FollowSymlinks = true
	res := s.scan(t)
	if res.Added != 2 {
		t.Errorf("added %d, want real.md and its alias", res.Added)
	}
	got := rejectedFor(res)
	for _, name := range []string{"x.txt", "y.md", "outside.txt"} {
		if err := got[name]; !errors.Is(err, ErrSymlink) || !strings.Contains(err.Error(), "outside the content folders") {
			t.Errorf("%s: rejected with %v, want ErrSymlink for a target outside", name, err)
		}
	}
	if err := got["loop.md"]; err == nil {
		t.Error("a link to itself was not rejected")
	}
	if _, ok := got["alias.md"]; ok {
		t.Errorf("alias.md, a link to a file in the folder, was rejected: %v", got["alias.md"])
	}
	s.leaked(t)

	// The config, once inside a content folder, is still never read.
	if err := os.Remove(filepath.Join(s.dir, "x.txt")); err != nil {
		t.Fatal(err)
	}
	inside := filepath.Join(s.dir, "tidings.md")
	if err := os.Rename(s.config, inside); err != nil {
		t.Fatal(err)
	}
	s.in.Private = []string{inside}
	if err := os.Symlink("tidings.md", filepath.Join(s.dir, "x.txt")); err != nil {
		t.Fatal(err)
	}
	got = rejectedFor(s.scan(t))
	for _, name := range []string{"x.txt", "tidings.md"} {
		if !errors.Is(got[name], ErrPrivate) {
			t.Errorf("%s: rejected with %v, want ErrPrivate", name, got[name])
		}
	}
	s.leaked(t)
}

// A link swapped in after the walk listed a plain file still cannot
// reach outside the folder: files are opened through it.
func TestRead_ALinkSwappedInCannotLeaveTheFolder(t *testing.T) {
	s := newSymlinkSite(t)
	p := s.write(t, "late.md", "# Late\n\nText.\n")
	c := candidate{dir: s.dir, rel: "late.md", readDir: s.dir, readRel: "late.md"}
	if err := os.Remove(p); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(s.config, p); err != nil {
		t.Fatal(err)
	}
	// Alone, and through the folder a scan keeps open for its reads.
	roots := &rootSet{}
	defer roots.close()
	for _, rs := range []*rootSet{nil, roots} {
		data, err := s.in.read(c, nil, rs)
		if err == nil || strings.Contains(string(data), "s3cret") {
			t.Fatalf("read %q, %v; want the escape refused", data, err)
		}
	}
}

// A content folder that is itself a link is walked where it points.
func TestScan_ContentFolderGivenAsALink(t *testing.T) {
	e := newIngestEnv(t)
	e.write(t, "a.md", goodMD)
	link := filepath.Join(filepath.Dir(e.dir), "content-link")
	if err := os.Symlink(e.dir, link); err != nil {
		t.Fatal(err)
	}
	e.in.Dirs = []string{link}
	if res := e.scan(t); res.Added != 1 || len(res.Rejected) != 0 {
		t.Fatalf("counts %v, rejected %v", counts(res), res.Rejected)
	}
}
