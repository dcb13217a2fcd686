package feed

import (
	"context"
	"slices"
	"testing"
)

// Tags are one tag whatever the case of their ASCII letters, and only of
// those, as SQLite's NOCASE has it, on either database: the tags page,
// the tag feeds (tagsOf) and the API's ?tag= agree.
func TestStore_TagsFoldASCIIOnly(t *testing.T) {
	e := newIngestEnv(t)
	e.write(t, "a.md", "---\ntitle: A\ntags: [Go, Éclair]\n---\nA.\n")
	e.write(t, "b.md", "---\ntitle: B\ntags: [go, éclair]\n---\nB.\n")
	e.write(t, "c.md", "---\ntitle: C\ntags: [Zebra, apple]\n---\nC.\n")
	e.scanClean(t)
	ctx := context.Background()
	want := []string{"apple", "Go", "Zebra", "Éclair", "éclair"}
	got, err := e.store.Tags(ctx, e.clock.Now())
	if err != nil {
		t.Fatal(err)
	}
	all := e.list(t, ListOptions{Now: e.clock.Now()})
	if !slices.Equal(got, want) || !slices.Equal(tagsOf(all), want) {
		t.Errorf("Tags = %q, tagsOf = %q, want %q", got, tagsOf(all), want)
	}
	ids := func(as []*Article) []string {
		var out []string
		for _, a := range as {
			out = append(out, a.ID)
		}
		slices.Sort(out)
		return out
	}
	for _, tt := range []struct {
		tag  string
		want []string
	}{
		{"GO", []string{"a", "b"}},
		{"ÉCLAIR", []string{"a"}}, // É is not an ASCII letter: only Éclair
		{"éclair", []string{"b"}},
		{"ZEBRA", []string{"c"}},
		{"zebr", nil},
	} {
		listed := ids(e.list(t, ListOptions{Now: e.clock.Now(), Tags: []string{tt.tag, "none"}}))
		api, err := e.store.listAPI(ctx, tt.tag, 10)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(listed, tt.want) || !slices.Equal(ids(api), tt.want) {
			t.Errorf("tag %q: List %v, listAPI %v, want %v", tt.tag, listed, ids(api), tt.want)
		}
	}
}
