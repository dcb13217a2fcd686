package feed

import (
	"path/filepath"
	"testing"
)

// Rejections keep the last scan's rejected files, logger or not, and
// forget a file once it is fixed.
func TestIngester_Rejections(t *testing.T) {
	e := newIngestEnv(t)
	e.write(t, "good.md", goodMD)
	bad := e.write(t, "broken.md", "---\ntitle: [unclosed\n---\nBody.\n")
	if got := e.in.Rejections(); len(got) != 0 {
		t.Fatalf("before a scan: %v", got)
	}
	e.scan(t)
	got := e.in.Rejections()
	if len(got) != 1 || got[0].Path != bad || got[0].Reason == "" {
		t.Fatalf("rejections %+v, want %s with a reason", got, filepath.Base(bad))
	}
	e.write(t, "broken.md", goodMD)
	e.scan(t)
	if got := e.in.Rejections(); len(got) != 0 {
		t.Errorf("after the fix: %+v", got)
	}
}
