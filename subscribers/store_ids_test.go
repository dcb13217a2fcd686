package subscribers

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tidings/tidings/internal/sqlite"
)

// TestStore_IDsNeverReused forgets the newest subscriber and adds another
// through each insert path: SQLite alone would give the next one the
// forgotten id, and with it the old person's links.
func TestStore_IDsNeverReused(t *testing.T) {
	ctx := context.Background()
	paths := []struct {
		name string
		add  func(t *testing.T, e *storeEnv, email string) int64
	}{
		{"sign-up", func(t *testing.T, e *storeEnv, email string) int64 {
			return e.signUp(t, email).ID
		}},
		{"operator", func(t *testing.T, e *storeEnv, email string) int64 {
			s, err := e.store.Add(ctx, email, "", nil, "", operatorMeta)
			if err != nil {
				t.Fatal(err)
			}
			return s.ID
		}},
		{"import", func(t *testing.T, e *storeEnv, email string) int64 {
			e.importCSV(t, "email\n"+email+"\n", true)
			return e.byEmail(t, email).ID
		}},
	}
	for _, first := range paths {
		for _, next := range paths {
			t.Run(first.name+" then "+next.name, func(t *testing.T) {
				e := newStoreEnv(t)
				first.add(t, e, "old@example.org")
				gone := first.add(t, e, "gone@example.org")
				if err := e.store.Forget(ctx, "gone@example.org", operatorMeta); err != nil {
					t.Fatal(err)
				}
				if id := next.add(t, e, "new@example.org"); id <= gone {
					t.Errorf("new subscriber got id %d, not above the forgotten %d", id, gone)
				}
			})
		}
	}
}

// TestImport_IDsNeverReusedInBatch imports a batch after forgetting the
// newest rows: every id in it is above every id given out before, and the
// next batch's above those.
func TestImport_IDsNeverReusedInBatch(t *testing.T) {
	ctx := context.Background()
	e := newStoreEnv(t)
	var csv strings.Builder
	csv.WriteString("email\n")
	for i := range 5 {
		fmt.Fprintf(&csv, "a%d@example.org\n", i)
	}
	e.importCSV(t, csv.String(), true)
	high := e.byEmail(t, "a4@example.org").ID
	for i := 2; i < 5; i++ {
		if err := e.store.Forget(ctx, fmt.Sprintf("a%d@example.org", i), operatorMeta); err != nil {
			t.Fatal(err)
		}
	}
	e.importCSV(t, "email\nb0@example.org\nb1@example.org\nb2@example.org\n", true)
	seen := map[int64]bool{}
	for i := range 3 {
		id := e.byEmail(t, fmt.Sprintf("b%d@example.org", i)).ID
		if id <= high || seen[id] {
			t.Errorf("b%d got id %d (forgotten up to %d, seen %v)", i, id, high, seen)
		}
		seen[id] = true
		high = max(high, id)
	}
	// The mark survives reopening the database.
	path := filepath.Join(t.TempDir(), "reopen.db")
	db, err := sqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	s := NewStore(db, testDigests, e.clock.Now)
	a, err := s.Add(ctx, "x@example.org", "", nil, "", operatorMeta)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Forget(ctx, "x@example.org", operatorMeta); err != nil {
		t.Fatal(err)
	}
	db.Close()
	if db, err = sqlite.Open(ctx, path); err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	b, err := NewStore(db, testDigests, e.clock.Now).Add(ctx, "y@example.org", "", nil, "", operatorMeta)
	if err != nil {
		t.Fatal(err)
	}
	if b.ID <= a.ID {
		t.Errorf("after reopening: id %d, not above the forgotten %d", b.ID, a.ID)
	}
}
