package feed

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// sameFile decides whether a restart keeps a feed's file: only when it
// holds the very bytes just built, not merely as many of them (a crash
// can leave a file of the right size with other bytes, as no feed is
// synced).
func TestSameFile(t *testing.T) {
	dir := t.TempDir()
	big := bytes.Repeat([]byte("<item>harbour</item>\n"), 40000) // past one 256 KB read
	write := func(name string, b []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	built := write("built", big)
	otherEnd := bytes.Clone(big)
	otherEnd[len(otherEnd)-2] = 'X'
	for _, tc := range []struct {
		name string
		old  []byte
		want bool
	}{
		{"equal", big, true},
		{"same size, last bytes differ", otherEnd, false},
		{"shorter", big[:len(big)-1], false},
		{"empty", nil, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			old := write("old", tc.old)
			if got := sameFile(old, built, int64(len(big))); got != tc.want {
				t.Errorf("sameFile = %v, want %v", got, tc.want)
			}
		})
	}
	if sameFile(filepath.Join(dir, "missing"), built, int64(len(big))) {
		t.Error("a missing file is the same")
	}
}
