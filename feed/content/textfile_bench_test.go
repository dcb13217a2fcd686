package content

import (
	"path/filepath"
	"testing"
)

// BenchmarkParseText parses every plain-text fixture once per iteration:
// the head (title, date and byline lines) and the blocks below it.
func BenchmarkParseText(b *testing.B) {
	files, err := filepath.Glob(filepath.Join("testdata", "text", "*.txt"))
	if err != nil || len(files) == 0 {
		b.Fatalf("no fixtures: %v", err)
	}
	var srcs []string
	var size int64
	for _, p := range files {
		s := readTextFixture(b, filepath.Base(p))
		srcs = append(srcs, s)
		size += int64(len(s))
	}
	b.SetBytes(size)
	b.ReportAllocs()
	for b.Loop() {
		for _, s := range srcs {
			if _, err := parseText(s, textLoc); err != nil {
				b.Fatal(err)
			}
		}
	}
}
