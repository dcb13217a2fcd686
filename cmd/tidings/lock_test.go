package main

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

func TestInstanceLock(t *testing.T) {
	db := filepath.Join(t.TempDir(), "t.db")
	first, err := lockInstance(DatabaseConfig{Path: db}, "serve")
	if err != nil {
		t.Fatal(err)
	}
	_, err = lockInstance(DatabaseConfig{Path: db}, "run")
	if !errors.Is(err, errLocked) || !strings.Contains(err.Error(), "tidings serve, pid") {
		t.Fatalf("second lock: %v", err)
	}
	first.release()
	second, err := lockInstance(DatabaseConfig{Path: db}, "run")
	if err != nil {
		t.Fatalf("after release: %v", err)
	}
	second.release()
}

// A lock held by a process that was killed is taken over.
func TestInstanceLock_StaleTakenOver(t *testing.T) {
	if os.Getenv("TIDINGS_LOCK_CHILD") != "" {
		if _, err := lockInstance(DatabaseConfig{Path: os.Getenv("TIDINGS_LOCK_CHILD")}, "serve"); err != nil {
			os.Exit(3)
		}
		os.Stdout.WriteString("locked\n")
		select {} // hold it until killed
	}
	db := filepath.Join(t.TempDir(), "t.db")
	cmd := exec.Command(os.Args[0], "-test.run=^TestInstanceLock_StaleTakenOver$")
	cmd.Env = append(os.Environ(), "TIDINGS_LOCK_CHILD="+db)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 7)
	if _, err := out.Read(buf); err != nil || string(buf) != "locked\n" {
		t.Fatalf("child: %q %v", buf, err)
	}
	if _, err := lockInstance(DatabaseConfig{Path: db}, "run"); !errors.Is(err, errLocked) {
		t.Fatalf("while the child holds it: %v", err)
	}
	cmd.Process.Kill() // SIGKILL: no chance to clean up
	cmd.Wait()
	l, err := lockInstance(DatabaseConfig{Path: db}, "serve")
	if err != nil {
		t.Fatalf("stale lock not taken over: %v", err)
	}
	l.release()
}

// With a database URL (PostgreSQL) several instances run at once: no lock
// file is made, even beside a path that is also set.
func TestInstanceLock_NoneForADatabaseURL(t *testing.T) {
	db := filepath.Join(t.TempDir(), "t.db")
	cfg := DatabaseConfig{Path: db, URL: "postgres://tidings@127.0.0.1/news"}
	for range 2 {
		l, err := lockInstance(cfg, "serve")
		if err != nil || l != nil {
			t.Fatalf("lock = %v, %v; want none", l, err)
		}
		l.release()
	}
	if _, err := os.Stat(db + ".lock"); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a lock file was made: %v", err)
	}
}
