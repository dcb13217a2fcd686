package feed

import "testing"

func TestIsAsset(t *testing.T) {
	for name, want := range map[string]bool{"harbor.jpg": true, "MAP.PNG": true, "report.pdf": true, "post.md": false, "tidings.toml": false, "x": false, ".jpg": true} {
		if got := IsAsset(name); got != want {
			t.Errorf("IsAsset(%q) = %v, want %v", name, got, want)
		}
	}
}
