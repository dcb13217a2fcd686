package feed

import (
	"net/http/httptest"
	"testing"
	"time"
)

func TestAcceptsGzip(t *testing.T) {
	tests := []struct {
		header string
		want   bool
	}{
		{"", false},
		{"gzip", true},
		{"deflate, gzip;q=0.5", true},
		{"GZIP", true},
		{"gzip;q=0", false},
		{"gzip; q=0.000", false},
		{"br, identity", false},
		{"x-gzip", false},
	}
	for _, tt := range tests {
		r := httptest.NewRequest("GET", "/feed.xml", nil)
		r.Header.Set("Accept-Encoding", tt.header)
		if got := acceptsGzip(r); got != tt.want {
			t.Errorf("Accept-Encoding %q: %v, want %v", tt.header, got, tt.want)
		}
	}
}

func TestNotModified(t *testing.T) {
	mod := time.Date(2026, 11, 20, 8, 0, 0, 0, time.UTC)
	out := &Output{ETag: `"abc"`, Modified: mod}
	tests := []struct {
		name, inm, ims string
		want           bool
	}{
		{"none", "", "", false},
		{"etag", `"abc"`, "", true},
		{"gzip etag", `"abc-gz"`, "", true},
		{"weak", `W/"abc"`, "", true},
		{"list", `"x", "abc"`, "", true},
		{"star", `*`, "", true},
		{"other etag", `"x"`, "", false},
		{"same date", "", mod.Format(timeFormat), true},
		{"later date", "", mod.Add(time.Hour).Format(timeFormat), true},
		{"earlier date", "", mod.Add(-time.Second).Format(timeFormat), false},
		{"bad date", "", "yesterday", false},
		{"etag wins over date", `"x"`, mod.Format(timeFormat), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest("GET", "/feed.xml", nil)
			if tt.inm != "" {
				r.Header.Set("If-None-Match", tt.inm)
			}
			if tt.ims != "" {
				r.Header.Set("If-Modified-Since", tt.ims)
			}
			if got := notModified(r, out); got != tt.want {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
}

const timeFormat = "Mon, 02 Jan 2006 15:04:05 GMT"

func TestTagSlug(t *testing.T) {
	tests := map[string]string{
		"City":         "city",
		"New York":     "new-york",
		"Ελλάδα":       "ελλάδα",
		"C++":          "c++",
		"a/b%c?d#e":    "a-b-c-d-e",
		"  spaced  ":   "spaced",
		"日本語":          "日本語",
		"!!!":          "",
		"snake_case":   "snake_case",
		"Café au lait": "café-au-lait",
	}
	for in, want := range tests {
		if got := TagSlug(in); got != want {
			t.Errorf("TagSlug(%q) = %q, want %q", in, got, want)
		}
	}
}
