package main

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"
)

func TestCLI_Run(t *testing.T) {
	dir := t.TempDir()
	content := filepath.Join(dir, "content")
	writeFile(t, content, "a.md", "# Harbour reopens\n\nShips are back.\n")
	db := filepath.Join(dir, "t.db")
	cfg := writeFile(t, dir, "tidings.toml", fmt.Sprintf("[database]\npath = %q\n[content]\ndirs = [%q]\n[feeds]\noutput_dir = %q\n[smtp]\noutbox_dir = %q\n",
		db, content, filepath.Join(dir, "public"), filepath.Join(dir, "outbox")))
	env := map[string]string{"TIDINGS_CONFIG": cfg}

	out, errs, code := run(t, env, "run")
	if code != 0 || strings.Count(out, "\n") != 1 ||
		!strings.HasPrefix(out, "run: articles added 1, updated 0, removed 0, rejected 0; upstream 0; feeds written 3; editions 0; sent 0") {
		t.Fatalf("first run (%d):\n%s%s", code, out, errs)
	}
	writeFile(t, content, "broken.md", "---\ntitle: x\n")
	if out, errs, code := run(t, env, "run"); code != 1 || !strings.Contains(out, "rejected 1") || !strings.Contains(errs, "broken.md") {
		t.Errorf("run with a broken file (%d):\n%s%s", code, out, errs)
	}

	// Not while serve holds the database.
	lock, err := lockInstance(DatabaseConfig{Path: db}, "serve")
	if err != nil {
		t.Fatal(err)
	}
	defer lock.release()
	if _, errs, code := run(t, env, "run"); code != 1 || !strings.Contains(errs, "another tidings is running on this database (tidings serve, pid") {
		t.Errorf("run beside serve (%d): %s", code, errs)
	}
}
