package database

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestCheck_NoticesRemovedReplacedAndReadOnly(t *testing.T) {
	tests := []struct {
		name   string
		change func(t *testing.T, path string)
		want   string
	}{
		{"removed", func(t *testing.T, p string) { must(t, os.Remove(p)) }, "was removed"},
		{"replaced", func(t *testing.T, p string) {
			must(t, os.Rename(p, p+".old"))
			must(t, os.WriteFile(p, nil, 0o600))
		}, "replaced"},
		{"read-only", func(t *testing.T, p string) { must(t, os.Chmod(p, 0o444)) }, "no longer writable"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "tidings.db")
			db, err := Open(context.Background(), path)
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			if err := db.Check(); err != nil {
				t.Fatalf("Check on a healthy database = %v", err)
			}
			tt.change(t, path)
			err = db.Check()
			if !errors.Is(err, ErrGone) || !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), path) {
				t.Errorf("Check = %v, want ErrGone saying %q and naming %s", err, tt.want, path)
			}
		})
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
