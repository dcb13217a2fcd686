package subscribers

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/tidings/tidings/internal/database"
	"github.com/tidings/tidings/internal/database/databasetest"
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
	path := databasetest.Where(t)
	db, err := database.Open(ctx, path)
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
	if db, err = database.Open(ctx, path); err != nil {
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

// At the token level: after forget, none of the forgotten person's tokens
// checks, so none names the next subscriber.
func TestTokens_OldTokensAfterForget(t *testing.T) {
	ctx := context.Background()
	e := newStoreEnv(t)
	tk := NewTokens(testSecret, e.clock.Now)
	nonceOf := func(id int64) (uint64, error) { return e.store.TokenNonce(ctx, id) }
	ana := e.signUp(t, "ana@example.org")
	toks := map[Purpose]string{
		PurposeConfirm:     tk.Make(PurposeConfirm, ana.ID, ana.Nonce, 72*time.Hour),
		PurposeUnsubscribe: tk.Make(PurposeUnsubscribe, ana.ID, ana.Nonce, 0),
		PurposePreferences: tk.Make(PurposePreferences, ana.ID, ana.Nonce, 0),
	}
	for p, tok := range toks {
		if id, err := tk.Check(p, tok, nonceOf); err != nil || id != ana.ID {
			t.Fatalf("ana's purpose %d token before forget: %d, %v", p, id, err)
		}
	}
	if err := e.store.Forget(ctx, ana.Email, operatorMeta); err != nil {
		t.Fatal(err)
	}
	ben := e.signUp(t, "ben@example.org")
	for p, tok := range toks {
		if id, err := tk.Check(p, tok, nonceOf); !errors.Is(err, ErrTokenInvalid) {
			t.Errorf("ana's purpose %d token after forget: %d, %v (ben is %d); want ErrTokenInvalid", p, id, err, ben.ID)
		}
	}
}

// The nonce is renewed when a person's earlier links must stop working
// (a new sign-up after leaving, a confirmation) and kept when they must go
// on (leaving, which the preferences link can undo; a second request
// while pending, whose first mail is still good; preferences).
func TestStore_TokenNonce(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name  string
		from  Status
		do    func(e *storeEnv, s *Subscriber) error
		renew bool
	}{
		{"confirm", StatusPending, func(e *storeEnv, s *Subscriber) error {
			_, err := e.store.Confirm(ctx, s.ID, s.Nonce, linkMeta)
			return err
		}, true},
		{"confirm when confirmed already", StatusConfirmed, func(e *storeEnv, s *Subscriber) error {
			_, err := e.store.Confirm(ctx, s.ID, s.Nonce, linkMeta)
			return err
		}, false},
		{"sign-up while pending", StatusPending, func(e *storeEnv, s *Subscriber) error {
			_, err := e.store.SignUp(ctx, s.Email, "", nil, false, 0, formMeta)
			return err
		}, false},
		{"sign-up while pending, confirmed at once", StatusPending, func(e *storeEnv, s *Subscriber) error {
			_, err := e.store.SignUp(ctx, s.Email, "", nil, true, 0, formMeta)
			return err
		}, true},
		{"sign-up while confirmed", StatusConfirmed, func(e *storeEnv, s *Subscriber) error {
			_, err := e.store.SignUp(ctx, s.Email, "", nil, false, 0, formMeta)
			return err
		}, false},
		{"unsubscribe", StatusConfirmed, func(e *storeEnv, s *Subscriber) error {
			_, err := e.store.Unsubscribe(ctx, s.ID, linkMeta)
			return err
		}, false},
		{"preferences", StatusConfirmed, func(e *storeEnv, s *Subscriber) error {
			_, err := e.store.SetPreferences(ctx, s.ID, "Jane", []string{"daily"}, linkMeta)
			return err
		}, false},
		{"back on the preferences page", StatusUnsubscribed, func(e *storeEnv, s *Subscriber) error {
			_, err := e.store.SetPreferences(ctx, s.ID, "", []string{"daily"}, linkMeta)
			return err
		}, false},
	}
	for _, from := range []Status{StatusUnsubscribed, StatusBounced, StatusComplained} {
		for _, now := range []bool{false, true} {
			tests = append(tests, struct {
				name  string
				from  Status
				do    func(e *storeEnv, s *Subscriber) error
				renew bool
			}{fmt.Sprintf("sign-up again when %s, confirmed at once %v", from, now), from, func(e *storeEnv, s *Subscriber) error {
				_, err := e.store.SignUp(ctx, s.Email, "", nil, now, 0, formMeta)
				return err
			}, true})
		}
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newStoreEnv(t)
			s := e.withStatus(t, "jane@example.org", tt.from)
			if n, err := e.store.TokenNonce(ctx, s.ID); err != nil || n != s.Nonce {
				t.Fatalf("TokenNonce = %d, %v; Get says %d", n, err, s.Nonce)
			}
			if err := tt.do(e, s); err != nil {
				t.Fatal(err)
			}
			after := e.get(t, s.ID)
			if renewed := after.Nonce != s.Nonce; renewed != tt.renew {
				t.Errorf("nonce %d -> %d: renewed %v, want %v", s.Nonce, after.Nonce, renewed, tt.renew)
			}
		})
	}
}

// A confirmation link works once, and not after the person signed up anew.
func TestStore_ConfirmWithAnOldNonce(t *testing.T) {
	ctx := context.Background()
	e := newStoreEnv(t)
	s := e.signUp(t, "jane@example.org")
	if _, err := e.store.Confirm(ctx, s.ID, s.Nonce+1, linkMeta); !errors.Is(err, ErrTokenInvalid) {
		t.Errorf("a nonce never given: %v", err)
	}
	if _, err := e.store.Confirm(ctx, s.ID, s.Nonce, linkMeta); err != nil {
		t.Fatal(err)
	}
	before := e.snapshot(t)
	if _, err := e.store.Confirm(ctx, s.ID, s.Nonce, linkMeta); !errors.Is(err, ErrTokenInvalid) {
		t.Errorf("the same link again: %v", err)
	}
	if e.snapshot(t) != before {
		t.Error("a refused confirmation changed the store")
	}
	// Gone: the id is refused as not found whatever the nonce.
	if err := e.store.Forget(ctx, s.Email, operatorMeta); err != nil {
		t.Fatal(err)
	}
	if _, err := e.store.TokenNonce(ctx, s.ID); !errors.Is(err, ErrNotFound) {
		t.Errorf("TokenNonce after forget: %v", err)
	}
}

// Every insert path gives a new row its own nonce, and the mail sender's
// Deliverable carries it, for the links in each message.
func TestStore_NewRowsHaveNonces(t *testing.T) {
	ctx := context.Background()
	e := newStoreEnv(t)
	a := e.signUp(t, "a@example.org")
	b, err := e.store.Add(ctx, "b@example.org", "", nil, "", operatorMeta)
	if err != nil {
		t.Fatal(err)
	}
	e.importCSV(t, "email\nc@example.org\nd@example.org\n", true)
	seen := map[uint64]string{}
	for _, s := range []*Subscriber{a, b, e.byEmail(t, "c@example.org"), e.byEmail(t, "d@example.org")} {
		if other, dup := seen[s.Nonce]; dup || s.Nonce == 0 {
			t.Errorf("%s has nonce %d (as has %q)", s.Email, s.Nonce, other)
		}
		seen[s.Nonce] = s.Email
	}
	d, err := e.store.Deliverable(ctx, b.ID, "daily")
	if err != nil || d == nil || d.Nonce != b.Nonce {
		t.Errorf("Deliverable = %+v, %v; want nonce %d", d, err, b.Nonce)
	}
}
