package main

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestProcess_SymlinkToTheConfigIsNotPublished plants content/x.txt, a
// link to tidings.toml with its admin token, and runs the binary as an
// operator would: ingest names the link and fails, feeds build and serve's
// pages carry the real article and never the token.
func TestProcess_SymlinkToTheConfigIsNotPublished(t *testing.T) {
	bin := buildTidings(t)
	dir := t.TempDir()
	content := filepath.Join(dir, "content")
	writeFile(t, content, "bridge.md", "---\ntitle: Bridge opens\ndate: 2026-01-20 08:30\n---\n\nThe new bridge opened on Friday.\n")
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
admin_token = "planted-admin-token-0123456789"
`, filepath.Join(dir, "data", "t.db"), content, public))
	if err := os.Symlink(cfg, filepath.Join(content, "x.txt")); err != nil {
		t.Fatal(err)
	}
	tidings := func(want int, args ...string) string {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		cmd := exec.CommandContext(ctx, bin, args...)
		cmd.Env = append(os.Environ(), "TIDINGS_CONFIG="+cfg)
		out, _ := cmd.CombinedOutput()
		if cmd.ProcessState == nil || cmd.ProcessState.ExitCode() != want {
			t.Fatalf("tidings %s: %v, want exit %d:\n%s", strings.Join(args, " "), cmd.ProcessState, want, out)
		}
		return string(out)
	}

	out := tidings(1, "ingest")
	if !strings.Contains(out, "x.txt: symbolic link not followed") || !strings.Contains(out, "added 1") {
		t.Errorf("ingest does not name the refused link:\n%s", out)
	}
	tidings(0, "feeds", "build")
	found := 0
	err := filepath.WalkDir(public, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		if strings.Contains(string(b), "planted-admin-token") {
			t.Errorf("%s publishes the admin token", p)
		}
		if strings.Contains(string(b), "Bridge opens") {
			found++
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if found == 0 {
		t.Errorf("no file in %s carries the real article: the test would pass with nothing built", public)
	}
}
