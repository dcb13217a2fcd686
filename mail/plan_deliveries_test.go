package mail

import (
	"context"
	"errors"
	"github.com/tidings/tidings/internal/database/databasetest"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tidings/tidings/internal/database"
	"github.com/tidings/tidings/subscribers"
)

var errCut = errors.New("planner killed here")

// deliveriesBySubscriber counts edition id's deliveries per subscriber.
func (e *ledgerEnv) deliveriesBySubscriber(t *testing.T, id int64) map[int64]int {
	t.Helper()
	rows, err := e.db.Read.Query(`SELECT subscriber_id, COUNT(*) FROM deliveries WHERE edition_id = ? GROUP BY subscriber_id`, id)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	out := map[int64]int{}
	for rows.Next() {
		var s int64
		var n int
		if err := rows.Scan(&s, &n); err != nil {
			t.Fatal(err)
		}
		out[s] = n
	}
	return out
}

// A plan cut short between two chunks, by an error or by its context
// ending (as a killed process stops), is left planning, and the sender
// leaves it alone; the next planner (the same command again, or another
// process's scheduler pass) goes on from the cursor: everyone confirmed
// gets one delivery, nobody two. Who confirmed meanwhile with an id above
// the cursor is in; a pending address below it that confirmed meanwhile
// is not, as with confirming after an edition was made.
func TestPlan_CutShortResumesWhereItStopped(t *testing.T) {
	for _, tc := range []struct {
		name   string
		kind   string // digest or broadcast
		cancel bool   // cut by the context rather than an error
		resume string // "again": the same call; "process": another process's scheduler pass
	}{
		{"digest, error, planned again", EditionDigest, false, "again"},
		{"digest, context ended, next process's scheduler", EditionDigest, true, "process"},
		{"broadcast, error, sent again", EditionBroadcast, false, "again"},
		{"broadcast, context ended, next process's scheduler", EditionBroadcast, true, "process"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "tidings.db")
			e := openLedgerEnv(t, path, ledgerStart)
			ctx := context.Background()
			late, err := e.subs.SignUp(ctx, "late@example.org", "", []string{"daily"}, false, 0, subscribers.Meta{Route: "form"})
			if err != nil {
				t.Fatal(err)
			}
			ids := e.addSubscribers(t, 22)
			e.addArticle(t, "a1", ledgerStart.Add(-time.Hour))
			e.ledger.planChunk = 4

			const cutAfter = 3
			planCtx, cancel := context.WithCancel(ctx)
			defer cancel()
			e.ledger.chunkPlanned = func(chunk, _ int, _ time.Duration) error {
				if chunk < cutAfter {
					return nil
				}
				if tc.cancel {
					cancel()
					return nil
				}
				return errCut
			}
			d := dailyDigest()
			b := Broadcast{Subject: "News", HTML: "<p>News</p>", Text: "News", Hash: "h1"}
			plan := func(ctx context.Context, l *Ledger) (*Edition, error) {
				if tc.kind == EditionBroadcast {
					return l.PlanBroadcast(ctx, b, d, time.Time{}, false)
				}
				ed, _, err := l.Plan(ctx, d, ledgerStart)
				return ed, err
			}
			if _, err := plan(planCtx, e.ledger); err == nil || (!tc.cancel && !errors.Is(err, errCut)) {
				t.Fatalf("cut plan: %v; want it to fail", err)
			}
			eds, err := e.ledger.Editions(ctx, "", 0)
			if err != nil || len(eds) != 1 {
				t.Fatalf("editions %v, %v; want the one cut short", eds, err)
			}
			ed := eds[0]
			if ed.State != EditionPlanning {
				t.Errorf("edition cut short is %q, want %q", ed.State, EditionPlanning)
			}
			if got := len(e.deliveriesBySubscriber(t, ed.ID)); got != cutAfter*4 {
				t.Errorf("%d deliveries queued before the cut, want %d", got, cutAfter*4)
			}

			// The sender leaves an edition being planned alone.
			srv := newFaultServer(t)
			sender := &Sender{Ledger: e.ledger, Transport: srv.transport(t, 2), Composer: &testComposer{}, Workers: 2,
				MaxAttempts: 5, Backoff: testBackoff, BatchSize: 3}
			if rep, err := sender.SendDue(ctx); err != nil || rep.Sent != 0 {
				t.Errorf("send during planning: %+v, %v; want nothing sent", rep, err)
			}
			if ed, err := e.ledger.Edition(ctx, ed.ID); err != nil || ed.State != EditionPlanning {
				t.Errorf("after a send pass the edition is %v, %v; want still planning", ed, err)
			}

			// Meanwhile: one more subscriber (a higher id), and the
			// pending one, below the cursor, confirms.
			newer := e.addSubscribers(t, 1)
			if _, err := e.subs.Confirm(ctx, late.Subscriber.ID, late.Subscriber.Nonce, subscribers.Meta{Route: "link"}); err != nil {
				t.Fatal(err)
			}

			e.ledger.chunkPlanned = nil
			l := e.ledger
			switch tc.resume {
			case "again":
				if _, err := plan(ctx, l); err != nil {
					t.Fatalf("planned again: %v", err)
				}
			case "process":
				next := openLedgerEnv(t, path, ledgerStart)
				next.ledger.planChunk = 4
				sched, err := NewScheduler(next.ledger, []Digest{{Name: "weekly", Schedule: "0 7 * * 1", From: d.From}}, time.UTC, nil)
				if err != nil {
					t.Fatal(err)
				}
				if _, err := sched.PlanDue(ctx); err != nil {
					t.Fatalf("scheduler pass: %v", err)
				}
				l = next.ledger
			}
			if ed, err := l.Edition(ctx, ed.ID); err != nil || ed.State != EditionSending {
				t.Fatalf("resumed edition is %v, %v; want sending", ed, err)
			}
			got := e.deliveriesBySubscriber(t, ed.ID)
			want := append(append([]int64{}, ids...), newer...)
			for _, id := range want {
				if got[id] != 1 {
					t.Errorf("subscriber %d has %d deliveries, want 1", id, got[id])
				}
			}
			if got[late.Subscriber.ID] != 0 || len(got) != len(want) {
				t.Errorf("deliveries %v; want one each for %v and none for %d (confirmed below the cursor)", got, want, late.Subscriber.ID)
			}
			if rep, err := sender.SendDue(ctx); err != nil || rep.Sent != len(want) {
				t.Errorf("send after planning: %+v, %v; want %d sent", rep, err, len(want))
			}
			for i := 1; i <= len(want); i++ { // sub2@ on: late@ was the first
				if n := len(srv.copies(email(i))); n != 1 {
					t.Errorf("%s received %d copies, want 1", email(i), n)
				}
			}
			if n := len(srv.copies("late@example.org")); n != 0 {
				t.Errorf("late@example.org received %d copies, want none", n)
			}
		})
	}
}

// holdingRecipients calls during before the read that the chunk numbered
// at makes inside its write transaction.
type holdingRecipients struct {
	Recipients
	calls  atomic.Int32
	at     int32
	during func()
}

func (h *holdingRecipients) ConfirmedAfterQuery(digest string, after int64, limit int) (string, []any) {
	if h.calls.Add(1) == h.at {
		h.during()
	}
	return h.Recipients.ConfirmedAfterQuery(digest, after, limit)
}

// A sign-up that comes while a chunk holds the writer waits for that
// chunk only: it commits before the next chunk begins. (Planning in one
// transaction, it would wait for the whole list.) Its subscriber, with an
// id above the cursor, is in the edition.
func TestPlan_SignUpWaitsForOneChunk(t *testing.T) {
	if databasetest.Postgres() {
		t.Skip("counts waits for SQLite's one write connection; on PostgreSQL writers wait on the writer lock in the server")
	}
	e := newLedgerEnv(t)
	ctx := context.Background()
	e.addSubscribers(t, 30)
	e.addArticle(t, "a1", ledgerStart.Add(-time.Hour))
	e.ledger.planChunk = 5

	signedUp := make(chan int64, 1)
	var chunks atomic.Int32
	h := &holdingRecipients{Recipients: e.ledger.Recipients, at: 2}
	h.during = func() {
		waits := e.db.Write.Stats().WaitCount
		go func() {
			res, err := e.subs.SignUp(ctx, "during@example.org", "", []string{"daily"}, true, 0, subscribers.Meta{Route: "form"})
			if err != nil {
				t.Error(err)
				signedUp <- 0
				return
			}
			signedUp <- res.Subscriber.ID
		}()
		// On until the sign-up waits for the write connection.
		for deadline := time.Now().Add(10 * time.Second); e.db.Write.Stats().WaitCount == waits; {
			if time.Now().After(deadline) {
				t.Fatal("the sign-up never asked for the write connection")
			}
			time.Sleep(time.Millisecond)
		}
	}
	e.ledger.Recipients = h
	var during int64
	e.ledger.chunkPlanned = func(chunk, _ int, _ time.Duration) error {
		chunks.Add(1)
		if chunk == 2 {
			// The next chunk has not begun: the sign-up must be in.
			select {
			case during = <-signedUp:
			case <-time.After(10 * time.Second):
				return errors.New("the sign-up did not commit between two chunks")
			}
		}
		return nil
	}
	ed := e.plan(t, dailyDigest(), ledgerStart)
	if during == 0 {
		t.Fatal("no sign-up between chunks")
	}
	if n := chunks.Load(); n < 3 {
		t.Fatalf("%d chunks; the test needs the sign-up to land before the last", n)
	}
	got := e.deliveriesBySubscriber(t, ed.ID)
	if len(got) != 31 || got[during] != 1 {
		t.Errorf("%d subscribers with deliveries, the one who signed up during planning has %d; want 31 and 1",
			len(got), got[during])
	}
}

// The chunk size follows the time a chunk takes: a plan with no size set
// starts at firstChunk and never leaves minChunk..maxChunk.
func TestPlan_ChunkSizeStaysInBounds(t *testing.T) {
	e := newLedgerEnv(t)
	seedSubscribers(t, e, 3*firstChunk+7)
	e.addArticle(t, "a1", ledgerStart.Add(-time.Hour))
	var sizes []int
	e.ledger.chunkPlanned = func(_, n int, _ time.Duration) error {
		sizes = append(sizes, n)
		return nil
	}
	ed := e.plan(t, dailyDigest(), ledgerStart)
	total := 0
	for i, n := range sizes {
		total += n
		if i == 0 && n != firstChunk || n > maxChunk || n < minChunk && i != len(sizes)-1 {
			t.Errorf("chunk %d queued %d (sizes %v)", i+1, n, sizes)
		}
	}
	if c := e.counts(t, ed.ID); total != 3*firstChunk+7 || c[DeliveryQueued] != total {
		t.Errorf("chunks queued %d, the edition has %v; want %d", total, c, 3*firstChunk+7)
	}
}

// A write from another connection (another process: the CLI, the
// inbound pipe) while an edition is planned gets in between two chunks
// rather than after the last, though SQLite makes it poll for the lock.
func TestPlan_OtherProcessWritesBetweenChunks(t *testing.T) {
	path := filepath.Join(t.TempDir(), "tidings.db")
	e := openLedgerEnv(t, path, ledgerStart)
	other := openLedgerEnv(t, path, ledgerStart)
	ctx := context.Background()
	seedSubscribers(t, e, 3000)
	e.addArticle(t, "a1", ledgerStart.Add(-time.Hour))
	e.ledger.planChunk = 10

	var chunks atomic.Int32
	var atCommit atomic.Int32
	started := make(chan struct{})
	e.ledger.chunkPlanned = func(chunk, _ int, _ time.Duration) error {
		chunks.Store(int32(chunk))
		if chunk == 1 {
			close(started)
		}
		return nil
	}
	wrote := make(chan error, 1)
	go func() {
		<-started
		_, err := other.subs.SignUp(ctx, "other@example.org", "", []string{"daily"}, true, 0, subscribers.Meta{Route: "cli"})
		atCommit.Store(chunks.Load())
		wrote <- err
	}()
	ed := e.plan(t, dailyDigest(), ledgerStart)
	if err := <-wrote; err != nil {
		t.Fatalf("the other process's write: %v", err)
	}
	total := chunks.Load()
	if at := atCommit.Load(); at >= total {
		t.Errorf("the other process's write committed after chunk %d of %d: it waited for the whole plan", at, total)
	}
	if c := e.counts(t, ed.ID); c[DeliveryQueued] < 3000 {
		t.Errorf("edition counts %v, want at least 3000 queued", c)
	}
}

// Planning turns the write connection's automatic checkpoints off only
// while it runs: after a plan, finished or cut short, they are back, or
// the WAL would grow without end.
func TestPlan_AutomaticCheckpointsComeBack(t *testing.T) {
	if databasetest.Postgres() {
		t.Skip("about SQLite's WAL checkpoints")
	}
	e := newLedgerEnv(t)
	e.addSubscribers(t, 12)
	e.addArticle(t, "a1", ledgerStart.Add(-time.Hour))
	e.addArticle(t, "a2", ledgerStart.Add(-time.Hour))
	e.ledger.planChunk = 5
	pages := func() int {
		var n int
		if err := e.db.Write.QueryRow(`PRAGMA wal_autocheckpoint`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	before := pages()
	var during int
	e.ledger.chunkPlanned = func(chunk, _ int, _ time.Duration) error {
		during = pages()
		if chunk == 2 {
			return errCut
		}
		return nil
	}
	d := dailyDigest()
	d.MaxArticles = 1
	if _, _, err := e.ledger.Plan(context.Background(), d, ledgerStart); !errors.Is(err, errCut) {
		t.Fatalf("cut plan: %v", err)
	}
	if during != 0 || pages() != before || before == 0 {
		t.Errorf("wal_autocheckpoint %d before, %d while planning, %d after a cut plan; want it off only while planning",
			before, during, pages())
	}
	e.ledger.chunkPlanned = nil
	e.plan(t, d, ledgerStart.Add(time.Hour))
	if pages() != before {
		t.Errorf("wal_autocheckpoint %d after a plan, want %d", pages(), before)
	}
}

// While planning, the WAL is checkpointed between chunks about as often
// as the automatic checkpoints would: it stays a few megabytes however
// long the list (without checkpoints it would hold every delivery).
func TestPlan_WALStaysSmall(t *testing.T) {
	path := filepath.Join(t.TempDir(), "tidings.db")
	e := openLedgerEnv(t, path, ledgerStart)
	seedSubscribers(t, e, 60000)
	e.addArticle(t, "a1", ledgerStart.Add(-time.Hour))
	if _, err := e.db.Write.Exec(`PRAGMA wal_checkpoint(TRUNCATE)`); err != nil {
		t.Fatal(err)
	}
	e.ledger.planChunk = 1000
	e.plan(t, dailyDigest(), ledgerStart)
	fi, err := os.Stat(path + "-wal")
	if err != nil {
		t.Fatal(err)
	}
	var pageSize, pages int64
	if err := e.db.Read.QueryRow(`SELECT * FROM pragma_page_size(), pragma_page_count()`).Scan(&pageSize, &pages); err != nil {
		t.Fatal(err)
	}
	// 1,000 pages between checkpoints (SQLite's default), and a chunk over.
	if limit := 1500 * pageSize; fi.Size() > limit {
		t.Errorf("WAL grew to %d bytes planning 60,000 (database %d bytes); want under %d", fi.Size(), pageSize*pages, limit)
	}
}

// Planning's chunks run without SQLite's foreign-key checks (their rows
// refer to what the chunk itself read): after a plan, finished or cut
// short, the write connection checks them again, and erasing a
// subscriber takes their planned deliveries with it.
func TestPlan_ForeignKeysComeBack(t *testing.T) {
	e := newLedgerEnv(t)
	if e.db.Dialect != database.SQLite {
		t.Skip("a SQLite connection setting")
	}
	ids := e.addSubscribers(t, 12)
	e.addArticle(t, "a1", ledgerStart.Add(-time.Hour))
	e.addArticle(t, "a2", ledgerStart.Add(-time.Hour))
	e.ledger.planChunk = 5
	on := func() bool {
		var n int
		if err := e.db.Write.QueryRow(`PRAGMA foreign_keys`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n == 1
	}
	var during int
	e.ledger.chunkPlanned = func(chunk, _ int, _ time.Duration) error {
		if !on() {
			during++
		}
		if chunk == 2 {
			return errCut
		}
		return nil
	}
	d := dailyDigest()
	d.MaxArticles = 1
	if _, _, err := e.ledger.Plan(context.Background(), d, ledgerStart); !errors.Is(err, errCut) {
		t.Fatalf("cut plan: %v", err)
	}
	if during != 0 || !on() {
		t.Errorf("foreign keys off between chunks %d times, on after a cut plan %v; want on outside the chunks", during, on())
	}
	e.ledger.chunkPlanned = nil
	if err := e.ledger.finishPlans(context.Background(), ""); err != nil {
		t.Fatal(err)
	}
	e.plan(t, d, ledgerStart.Add(time.Hour))
	if !on() {
		t.Error("foreign keys off after a finished plan")
	}
	if err := e.subs.Forget(context.Background(), email(0), subscribers.Meta{Route: "cli"}); err != nil {
		t.Fatal(err)
	}
	var left, all int
	if err := e.db.Read.QueryRow(`SELECT COUNT(*) FROM deliveries WHERE subscriber_id = ?`, ids[0]).Scan(&left); err != nil {
		t.Fatal(err)
	}
	if err := e.db.Read.QueryRow(`SELECT COUNT(*) FROM deliveries`).Scan(&all); err != nil {
		t.Fatal(err)
	}
	if left != 0 || all != 2*11 {
		t.Errorf("after forgetting %s: %d of their deliveries left, %d in all; want 0 and %d", email(0), left, all, 2*11)
	}
}
