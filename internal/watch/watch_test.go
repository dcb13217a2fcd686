package watch

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"go.uber.org/goleak"
)

// started runs a Watcher over dirs and returns the channel its changes
// arrive on; the watcher is stopped, and proven to leave no goroutine,
// when the test ends.
func started(t *testing.T, w *Watcher) <-chan struct{} {
	t.Helper()
	before := goleak.IgnoreCurrent()
	ctx, cancel := context.WithCancel(context.Background())
	changes := make(chan struct{}, 100)
	done := make(chan error, 1)
	go func() { done <- w.Run(ctx, func() { changes <- struct{}{} }) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run = %v", err)
		}
		goleak.VerifyNone(t, before)
	})
	// Run tells once that its watches are in place.
	select {
	case <-changes:
	case <-time.After(10 * time.Second):
		t.Fatal("the watches were not set up within 10 s")
	}
	return changes
}

// expect waits up to 2 s for n changes, then makes sure no more come
// within the quiet period after.
func expect(t *testing.T, changes <-chan struct{}, n int, what string) {
	t.Helper()
	for i := 0; i < n; i++ {
		select {
		case <-changes:
		case <-time.After(2 * time.Second):
			t.Fatalf("%s: %d change(s) within 2 s, want %d", what, i, n)
		}
	}
	select {
	case <-changes:
		t.Fatalf("%s: more than %d change(s)", what, n)
	case <-time.After(2 * DefaultQuiet):
	}
}

func write(t *testing.T, path, text string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestWatcher_AddChangeRemove(t *testing.T) {
	dir := t.TempDir()
	changes := started(t, &Watcher{Dirs: []string{dir}})
	p := filepath.Join(dir, "harbour.md")
	write(t, p, "# Harbour\n")
	expect(t, changes, 1, "added")
	write(t, p, "# Harbour reopens\n")
	expect(t, changes, 1, "changed")
	os.Remove(p)
	expect(t, changes, 1, "removed")
}

// 100 files written at once, among 10,000 that stay, are one change.
func TestWatcher_BurstIsOneChange(t *testing.T) {
	dir := t.TempDir()
	for i := range 10000 {
		write(t, filepath.Join(dir, fmt.Sprintf("old/%02d/a%05d.md", i%100, i)), "# Old\n")
	}
	changes := started(t, &Watcher{Dirs: []string{dir}})
	for i := range 100 {
		write(t, filepath.Join(dir, fmt.Sprintf("new%03d.md", i)), "# New\n")
	}
	expect(t, changes, 1, "100 files at once")
}

// A folder made after the start is watched, and so is one inside it; a
// content folder that did not exist yet is waited for.
func TestWatcher_NewFolders(t *testing.T) {
	base := t.TempDir()
	root := filepath.Join(base, "site", "content")
	changes := started(t, &Watcher{Dirs: []string{root}})
	if err := os.MkdirAll(root, 0o755); err != nil {
		t.Fatal(err)
	}
	expect(t, changes, 1, "content folder made")
	write(t, filepath.Join(root, "a.md"), "# A\n")
	expect(t, changes, 1, "file in the new content folder")

	os.MkdirAll(filepath.Join(root, "2026", "12"), 0o755)
	expect(t, changes, 1, "subfolders made")
	write(t, filepath.Join(root, "2026", "12", "b.md"), "# B\n")
	expect(t, changes, 1, "file in a new subfolder")

	// Removed and made again, the content folder is watched again.
	if err := os.RemoveAll(root); err != nil {
		t.Fatal(err)
	}
	expect(t, changes, 1, "content folder removed")
	write(t, filepath.Join(root, "c.md"), "# C\n")
	// The folder and the file may come as one burst or two.
	select {
	case <-changes:
	case <-time.After(2 * time.Second):
		t.Fatal("content folder made again: no change")
	}
	time.Sleep(2 * DefaultQuiet)
	for len(changes) > 0 {
		<-changes
	}
	write(t, filepath.Join(root, "d.md"), "# D\n")
	expect(t, changes, 1, "file in the content folder made again")
}

// What the scan passes over does not wake it: hidden files and folders,
// files that Match refuses, and what happens next to a missing content
// folder.
func TestWatcher_Ignored(t *testing.T) {
	base := t.TempDir()
	root := filepath.Join(base, "content")
	os.MkdirAll(filepath.Join(root, ".git"), 0o755)
	md := func(name string) bool { return filepath.Ext(name) == ".md" }
	changes := started(t, &Watcher{Dirs: []string{root, filepath.Join(base, "missing")}, Match: md})
	write(t, filepath.Join(root, ".harbour.md.swp"), "x")
	write(t, filepath.Join(root, ".git", "index"), "x")
	write(t, filepath.Join(root, "tidings.db"), "x")
	write(t, filepath.Join(root, "harbour.md~"), "x")
	write(t, filepath.Join(base, "tidings.db"), "x")
	expect(t, changes, 0, "hidden files, files Match refuses and a file beside a missing folder")

	// Folders matter whatever their name: made, and removed.
	os.Mkdir(filepath.Join(root, "2026"), 0o755)
	expect(t, changes, 1, "a folder made")
	os.Remove(filepath.Join(root, "2026"))
	expect(t, changes, 1, "a folder removed")
	write(t, filepath.Join(root, "harbour.md"), "x")
	expect(t, changes, 1, "a content file")
}

func TestWatcher_TooManyFolders(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	dir := t.TempDir()
	for _, d := range []string{"a", "b", "c"} {
		os.MkdirAll(filepath.Join(dir, d), 0o755)
	}
	w := &Watcher{Dirs: []string{dir}, MaxFolders: 3}
	err := w.Run(context.Background(), func() {})
	if !errors.Is(err, ErrTooManyFolders) {
		t.Errorf("Run over 4 folders, MaxFolders 3 = %v, want ErrTooManyFolders", err)
	}
}
