package subscribers

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tidings/tidings/internal/database"
	"github.com/tidings/tidings/internal/database/databasetest"
)

// testClock is a settable Now.
type testClock struct{ t time.Time }

func (c *testClock) Now() time.Time          { return c.t }
func (c *testClock) Advance(d time.Duration) { c.t = c.t.Add(d) }

type storeEnv struct {
	db    *database.DB
	store *Store
	clock *testClock
}

var testDigests = []string{"weekly", "daily"}

func newStoreEnv(t testing.TB) *storeEnv {
	t.Helper()
	db := databasetest.Open(t)
	clock := &testClock{t: time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)}
	return &storeEnv{db: db, store: NewStore(db, testDigests, clock.Now), clock: clock}
}

var (
	formMeta     = Meta{IP: "192.0.2.7", UserAgent: "Mozilla/5.0 (test)", Route: "form"}
	linkMeta     = Meta{IP: "198.51.100.9", UserAgent: "MailClient/1.0", Route: "link"}
	operatorMeta = Meta{Route: "cli"}
)

// signUp adds a pending subscriber and fails the test on error.
func (e *storeEnv) signUp(t testing.TB, email string, digests ...string) *Subscriber {
	t.Helper()
	res, err := e.store.SignUp(context.Background(), email, "", digests, false, time.Hour, formMeta)
	if err != nil {
		t.Fatal(err)
	}
	return res.Subscriber
}

// withStatus makes a subscriber of any status the way the program would.
func (e *storeEnv) withStatus(t testing.TB, email string, st Status) *Subscriber {
	t.Helper()
	ctx := context.Background()
	sub := e.signUp(t, email)
	var err error
	switch st {
	case StatusConfirmed:
		_, err = e.store.Confirm(ctx, sub.ID, sub.Nonce, linkMeta)
	case StatusUnsubscribed:
		_, err = e.store.Unsubscribe(ctx, sub.ID, linkMeta)
	case StatusBounced:
		err = e.store.RecordBounce(ctx, sub.ID, true, "550 no such user", 1)
	case StatusComplained:
		err = e.store.RecordComplaint(ctx, sub.ID, "abuse report")
	}
	if err != nil {
		t.Fatal(err)
	}
	return e.get(t, sub.ID)
}

func (e *storeEnv) get(t testing.TB, id int64) *Subscriber {
	t.Helper()
	sub, err := e.store.Get(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return sub
}

func (e *storeEnv) events(t testing.TB, id int64) []Event {
	t.Helper()
	evs, err := e.store.Events(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return evs
}

// count returns the number of rows in a table.
func (e *storeEnv) count(t testing.TB, table string) int {
	t.Helper()
	var n int
	if err := e.db.Read.QueryRowContext(context.Background(), `SELECT COUNT(*) FROM `+table).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// snapshot is everything stored, to show that a refused request changed
// nothing.
func (e *storeEnv) snapshot(t testing.TB) string {
	t.Helper()
	var b strings.Builder
	for _, q := range []string{
		`SELECT id, email, name, status, route, created_at, COALESCE(confirmed_at, 0), COALESCE(unsubscribed_at, 0),
			COALESCE(confirm_sent_at, 0), bounce_count, complaint_count, token_nonce FROM subscribers ORDER BY id`,
		`SELECT subscriber_id, digest, '', '', '', '', '', '', '', '', '', '' FROM subscriber_digests ORDER BY 1, 2`,
		`SELECT id, COALESCE(subscriber_id, 0), COALESCE(email_hash, ''), kind, at, ip, user_agent, route, detail, '', '', '' FROM subscriber_events ORDER BY id`,
		`SELECT email_hash, at, reason, '', '', '', '', '', '', '', '', '' FROM suppressions ORDER BY 1`,
	} {
		rows, err := e.db.Read.Query(q)
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			vals := make([]any, 12)
			ptrs := make([]any, 12)
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			if err := rows.Scan(ptrs...); err != nil {
				t.Fatal(err)
			}
			fmt.Fprintln(&b, vals...)
		}
		rows.Close()
	}
	return b.String()
}

// checkEvent asserts the kind and who-asked fields of an event.
func checkEvent(t testing.TB, ev Event, kind EventKind, m Meta, detail string) {
	t.Helper()
	if ev.Kind != kind || ev.Route != m.Route || ev.IP != m.IP || ev.UserAgent != m.UserAgent || !strings.Contains(ev.Detail, detail) {
		t.Errorf("event = %+v, want kind %s, meta %+v, detail with %q", ev, kind, m, detail)
	}
}

func kinds(evs []Event) []EventKind {
	var ks []EventKind
	for _, e := range evs {
		ks = append(ks, e.Kind)
	}
	return ks
}

func fieldOf(err error) string {
	var fe *FieldError
	if errors.As(err, &fe) {
		return fe.Field
	}
	return ""
}

func TestStore_GetNotFound(t *testing.T) {
	e := newStoreEnv(t)
	ctx := context.Background()
	if _, err := e.store.Get(ctx, 42); !errors.Is(err, ErrNotFound) {
		t.Errorf("Get = %v, want ErrNotFound", err)
	}
	if _, err := e.store.GetByEmail(ctx, "nobody@example.org"); !errors.Is(err, ErrNotFound) {
		t.Errorf("GetByEmail = %v, want ErrNotFound", err)
	}
	if _, err := e.store.GetByEmail(ctx, "not an address"); !errors.Is(err, ErrInvalidAddress) {
		t.Errorf("GetByEmail = %v, want ErrInvalidAddress", err)
	}
	if _, err := e.store.Events(ctx, 42); !errors.Is(err, ErrNotFound) {
		t.Errorf("Events = %v, want ErrNotFound", err)
	}
}

func TestStore_GetByEmailNormalizes(t *testing.T) {
	e := newStoreEnv(t)
	sub := e.signUp(t, "Jane.Doe@Bücher.Example")
	if sub.Email != "Jane.Doe@xn--bcher-kva.example" {
		t.Fatalf("stored %q", sub.Email)
	}
	for _, q := range []string{" Jane.Doe@BÜCHER.example ", "jane.doe@xn--bcher-kva.example", "JANE.DOE@XN--BCHER-KVA.EXAMPLE"} {
		got, err := e.store.GetByEmail(context.Background(), q)
		if err != nil || got.ID != sub.ID {
			t.Errorf("GetByEmail(%q) = %v, %v", q, got, err)
		}
	}
}

func TestStore_ConfirmedForAndDeliverable(t *testing.T) {
	e := newStoreEnv(t)
	ctx := context.Background()
	a := e.withStatus(t, "a@example.org", StatusConfirmed) // daily, weekly
	b := e.signUp(t, "b@example.org", "daily")
	e.store.Confirm(ctx, b.ID, b.Nonce, linkMeta)
	e.signUp(t, "pending@example.org", "daily")
	e.withStatus(t, "gone@example.org", StatusUnsubscribed)
	e.withStatus(t, "bounced@example.org", StatusBounced)

	ids := func(digest string) []int64 {
		subs, err := e.store.ConfirmedFor(ctx, digest)
		if err != nil {
			t.Fatal(err)
		}
		var out []int64
		for _, s := range subs {
			out = append(out, s.ID)
			if len(s.Digests) == 0 {
				t.Errorf("subscriber %d loaded without digests", s.ID)
			}
		}
		return out
	}
	if got := ids("daily"); !slices.Equal(got, []int64{a.ID, b.ID}) {
		t.Errorf("daily = %v, want %v", got, []int64{a.ID, b.ID})
	}
	if got := ids("weekly"); !slices.Equal(got, []int64{a.ID}) {
		t.Errorf("weekly = %v", got)
	}
	tests := []struct {
		id     int64
		digest string
		want   bool
	}{{a.ID, "daily", true}, {a.ID, "weekly", true}, {b.ID, "weekly", false}, {b.ID + 1, "daily", false}, {999, "daily", false}}
	for _, tt := range tests {
		if got, err := isDeliverable(ctx, e.store, tt.id, tt.digest); err != nil || got != tt.want {
			t.Errorf("IsDeliverable(%d, %s) = %v, %v; want %v", tt.id, tt.digest, got, err, tt.want)
		}
	}
	// A queued delivery is stopped by an unsubscribe in between.
	if _, err := e.store.Unsubscribe(ctx, a.ID, Meta{Route: "one-click"}); err != nil {
		t.Fatal(err)
	}
	if ok, _ := isDeliverable(ctx, e.store, a.ID, "daily"); ok {
		t.Error("still deliverable after unsubscribe")
	}
	if got := ids("daily"); !slices.Equal(got, []int64{b.ID}) {
		t.Errorf("daily after unsubscribe = %v", got)
	}
}

// isDeliverable asks Deliverable the yes-or-no question.
func isDeliverable(ctx context.Context, s *Store, id int64, digest string) (bool, error) {
	sub, err := s.Deliverable(ctx, id, digest)
	if errors.Is(err, ErrNotFound) {
		return false, nil
	}
	return sub != nil, err
}

func TestStore_DeliverableAll(t *testing.T) {
	e := newStoreEnv(t)
	ctx := context.Background()
	a := e.withStatus(t, "a@example.org", StatusConfirmed)
	b := e.withStatus(t, "b@example.org", StatusUnsubscribed)
	c := e.withStatus(t, "c@example.org", StatusConfirmed)
	if _, err := e.store.Update(ctx, c.ID, nil, []string{"weekly"}, nil, operatorMeta); err != nil {
		t.Fatal(err)
	}
	got, err := e.store.DeliverableAll(ctx, []int64{a.ID, b.ID, c.ID, 999}, "daily")
	if err != nil {
		t.Fatal(err)
	}
	if got[a.ID] == nil || got[a.ID].Nonce != a.Nonce || got[b.ID] != nil || got[c.ID] != nil {
		t.Errorf("DeliverableAll = %v", got)
	}
	if _, ok := got[999]; ok {
		t.Error("an id nobody has is in the map")
	}
	if _, ok := got[b.ID]; !ok {
		t.Error("a subscriber who left is missing from the map (it must map to nil)")
	}
	// Each agrees with Deliverable.
	for _, id := range []int64{a.ID, b.ID, c.ID} {
		one, err := e.store.Deliverable(ctx, id, "daily")
		if err != nil || (one == nil) != (got[id] == nil) {
			t.Errorf("subscriber %d: Deliverable %v, %v; DeliverableAll %v", id, one, err, got[id])
		}
	}
}
