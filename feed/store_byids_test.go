package feed

import (
	"context"
	"testing"
)

func TestStore_ByIDsKeepsOrderAndRemoved(t *testing.T) {
	e := newIngestEnv(t)
	e.write(t, "a.md", "---\ntitle: A\n---\n\nA body.\n")
	e.write(t, "b.md", "---\ntitle: B\n---\n\nB body.\n")
	e.write(t, "c.md", "---\ntitle: C\ndraft: true\n---\n\nC body.\n")
	e.scanClean(t)
	as, err := e.store.ByIDs(context.Background(), []string{"c", "missing", "a", "b"})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, a := range as {
		got = append(got, a.ID)
	}
	if len(got) != 3 || got[0] != "c" || got[1] != "a" || got[2] != "b" {
		t.Fatalf("ByIDs = %v, want [c a b]", got)
	}
}
