package mail

import (
	"context"
	"testing"

	"github.com/tidings/tidings/subscribers"
)

func TestNoticeKindsAreTheSubscribersOnes(t *testing.T) {
	for _, k := range [][2]string{{KindConfirm, subscribers.NoticeConfirm}, {KindSubscribed, subscribers.NoticeSubscribed},
		{KindWelcome, subscribers.NoticeWelcome}} {
		if k[0] != k[1] {
			t.Errorf("mail kind %q is subscribers' %q", k[0], k[1])
		}
	}
}

// fakeNotices composes a notice for pending subscribers only, as a
// confirmation does.
type fakeNotices struct{ subs *subscribers.Store }

func (f fakeNotices) ComposeNotice(ctx context.Context, kind string, id int64) (*subscribers.Mail, error) {
	s, err := f.subs.Get(ctx, id)
	if err != nil {
		return nil, err
	}
	if s.Status != subscribers.StatusPending {
		return nil, nil
	}
	return &subscribers.Mail{ToEmail: s.Email, Subject: "Confirm", Text: "open the link\n"}, nil
}

// A notice goes through the ledger like an edition's mail; one whose
// moment passed (the person confirmed meanwhile) is skipped, not sent.
func TestSender_Notices(t *testing.T) {
	e := newSendEnv(t, 2)
	ctx := context.Background()
	e.sender.Notices = fakeNotices{e.subs}
	e.sender.From.Address = "news@example.org"
	pending := e.withPending(t, "new@example.org")
	done := e.withPending(t, "done@example.org")
	for _, id := range []int64{pending, done} {
		s, _ := e.subs.Get(ctx, id)
		if _, err := e.ledger.QueueNotice(ctx, KindConfirm, id, s.Email, "example.org"); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := e.subs.Update(ctx, done, nil, nil, ptr(subscribers.StatusConfirmed), subscribers.Meta{Route: "cli"}); err != nil {
		t.Fatal(err)
	}
	rep := e.run(t)
	if rep.Sent != 3 || rep.Skipped != 1 { // 2 of the edition + 1 notice; the other skipped
		t.Fatalf("report %+v, want 3 sent (2 edition, 1 notice) and 1 skipped", rep)
	}
	if got := e.srv.copies("new@example.org"); len(got) != 1 {
		t.Errorf("the pending address got %d confirmations", len(got))
	}
	if got := e.srv.copies("done@example.org"); len(got) != 0 {
		t.Errorf("a confirmation went to an address confirmed meanwhile")
	}
}

func ptr[T any](v T) *T { return &v }

// withPending adds a pending subscriber of daily and returns its id.
func (e *ledgerEnv) withPending(t *testing.T, email string) int64 {
	t.Helper()
	s, err := e.subs.Add(context.Background(), email, "", []string{"daily"}, subscribers.StatusPending, subscribers.Meta{Route: "cli"})
	if err != nil {
		t.Fatal(err)
	}
	return s.ID
}
