package mail

import (
	"context"
	"testing"
	"time"

	"github.com/tidings/tidings/mail/inbound"
	"github.com/tidings/tidings/subscribers"
)

// oneReader is an AddressTokens that takes only the token "good", for
// subscriber id.
type oneReader int64

func (r oneReader) CheckAddress(_ subscribers.Purpose, token string, _ subscribers.NonceFunc) (int64, error) {
	if token != "good" {
		return 0, subscribers.ErrTokenInvalid
	}
	return int64(r), nil
}

// The inbound log keeps what came in newest first, filters the unmatched,
// forgets a subscriber's rows with them and prunes what is older than
// its retention; a mailto unsubscribe counts once against the reader's
// latest sent delivery, which editions show reads through Returns.
func TestLedger_InboundLog(t *testing.T) {
	e := newLedgerEnv(t)
	ctx := context.Background()
	ids := e.addSubscribers(t, 2)
	e.addArticle(t, "a", ledgerStart)
	ed := e.plan(t, dailyDigest(), ledgerStart)
	if _, err := e.db.Write.ExecContext(ctx, `UPDATE deliveries SET state = 'sent', sent_at = ? WHERE edition_id = ?`, ledgerStart.UnixNano(), ed.ID); err != nil {
		t.Fatal(err)
	}
	lim := BounceLimits{Hard: 1, Soft: 3, SoftWindow: 30 * 24 * time.Hour}
	keep := 90 * 24 * time.Hour
	hear := func(res inbound.Result, source string) Heard {
		t.Helper()
		h, err := e.ledger.Hear(ctx, res, e.subs, oneReader(ids[0]), lim)
		if err != nil {
			t.Fatal(err)
		}
		if err := e.ledger.LogInbound(ctx, source, res, h, keep); err != nil {
			t.Fatal(err)
		}
		e.clock.Advance(time.Minute)
		return h
	}
	unsub := inbound.Result{Kind: inbound.KindUnsubscribe, To: []string{"unsubscribe+good@in.example.org"}, Recipient: "r0@example.com", Provider: "mailto"}
	h := hear(unsub, "imap")
	if want := e.delivery(t, ed.ID, ids[0]).ID; h.Action != "unsubscribed" || h.Delivery != want {
		t.Fatalf("unsubscribe by mail: %+v, want delivery %d", h, want)
	}
	hear(unsub, "smtp") // the same reader writes again
	hear(inbound.Result{Kind: inbound.KindBounce, Permanent: true, Status: "5.1.1", Diagnostic: "user unknown",
		MessageID: "<nobody@example.org>", Provider: "dsn"}, "pipe")
	hear(inbound.Result{Kind: inbound.KindAutoReply, Provider: "rfc3834"}, "imap")

	if r, err := e.ledger.Returns(ctx, ed.ID); err != nil || r["unsubscribe"] != 1 {
		t.Errorf("returns %v (%v), want one unsubscribe by mail", r, err)
	}
	all, err := e.ledger.InboundLog(ctx, false, 0)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, x := range all {
		got = append(got, x.Source+" "+string(x.Kind)+" "+x.Action)
	}
	want := []string{"imap auto_reply ignored", "pipe bounce unmatched", "smtp unsubscribe unsubscribed", "imap unsubscribe unsubscribed"}
	if len(got) != len(want) {
		t.Fatalf("log %q, want %q", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("log[%d] = %q, want %q", i, got[i], want[i])
		}
	}
	if b := all[1]; b.Status != "5.1.1" || b.Diagnostic != "user unknown" || b.MessageID != "<nobody@example.org>" || b.Provider != "dsn" || b.Delivery != 0 {
		t.Errorf("unmatched bounce logged as %+v", b)
	}
	if u := all[3]; u.Subscriber != ids[0] || u.Recipient != "r0@example.com" || u.Delivery == 0 {
		t.Errorf("unsubscribe logged as %+v", u)
	}
	if un, err := e.ledger.InboundLog(ctx, true, 0); err != nil || len(un) != 1 || un[0].Kind != inbound.KindBounce {
		t.Errorf("--unmatched: %+v, %v", un, err)
	}
	if two, err := e.ledger.InboundLog(ctx, false, 2); err != nil || len(two) != 2 || two[0].ID != all[0].ID {
		t.Errorf("limit 2: %+v, %v", two, err)
	}

	// Erasing the reader takes their rows.
	if err := e.subs.Forget(ctx, "sub1@s1.example", subscribers.Meta{Route: "cli"}); err != nil {
		t.Fatal(err)
	}
	if left, err := e.ledger.InboundLog(ctx, false, 0); err != nil || len(left) != 2 {
		t.Errorf("after forget: %+v, %v, want the bounce and the auto-reply", left, err)
	}
	// Past the retention the rest go on the next write.
	e.clock.Advance(keep + 2*time.Hour)
	hear(inbound.Result{Kind: inbound.KindDelivered, Provider: "dsn"}, "pipe")
	if left, err := e.ledger.InboundLog(ctx, false, 0); err != nil || len(left) != 1 || left[0].Kind != inbound.KindDelivered {
		t.Errorf("after retention: %+v, %v", left, err)
	}
}
