package subscribers

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestStore_SignUpNew(t *testing.T) {
	tests := []struct {
		name        string
		digests     []string
		confirmNow  bool
		wantDigests []string
		wantStatus  Status
		wantKinds   []EventKind
	}{
		{name: "all digests when none chosen", wantDigests: []string{"daily", "weekly"}, wantStatus: StatusPending,
			wantKinds: []EventKind{EventSubscribed}},
		{name: "chosen digests, any case, repeated", digests: []string{"Weekly", " weekly "}, wantDigests: []string{"weekly"},
			wantStatus: StatusPending, wantKinds: []EventKind{EventSubscribed}},
		{name: "double opt-in off", confirmNow: true, wantDigests: []string{"daily", "weekly"}, wantStatus: StatusConfirmed,
			wantKinds: []EventKind{EventSubscribed, EventConfirmed}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newStoreEnv(t)
			res, err := e.store.SignUp(context.Background(), "  Jane@Example.ORG ", " Jane \"JD\" Doe ", tt.digests, tt.confirmNow, time.Hour, formMeta)
			if err != nil {
				t.Fatal(err)
			}
			sub := res.Subscriber
			if !res.Created || res.SendConfirmation == tt.confirmNow {
				t.Errorf("Created %v SendConfirmation %v", res.Created, res.SendConfirmation)
			}
			if sub.Email != "Jane@example.org" || sub.Name != `Jane "JD" Doe` || sub.Status != tt.wantStatus || sub.Route != "form" ||
				!slices.Equal(sub.Digests, tt.wantDigests) || !sub.CreatedAt.Equal(e.clock.Now()) {
				t.Errorf("subscriber = %+v", sub)
			}
			if (sub.ConfirmedAt != nil) != tt.confirmNow || sub.ConfirmSentAt != nil || sub.UnsubscribedAt != nil {
				t.Errorf("times: confirmed %v sent %v unsubscribed %v", sub.ConfirmedAt, sub.ConfirmSentAt, sub.UnsubscribedAt)
			}
			evs := e.events(t, sub.ID)
			if !slices.Equal(kinds(evs), tt.wantKinds) {
				t.Fatalf("events %v, want %v", kinds(evs), tt.wantKinds)
			}
			checkEvent(t, evs[0], EventSubscribed, formMeta, "digests: "+strings.Join(tt.wantDigests, ", "))
			if tt.confirmNow {
				checkEvent(t, evs[1], EventConfirmed, formMeta, "double opt-in off")
			}
			if !evs[0].At.Equal(e.clock.Now()) || evs[0].SubscriberID != sub.ID {
				t.Errorf("event at %v for %d", evs[0].At, evs[0].SubscriberID)
			}
			if got := e.get(t, sub.ID); got.Status != sub.Status || !slices.Equal(got.Digests, sub.Digests) {
				t.Errorf("stored %+v, returned %+v", got, sub)
			}
		})
	}
}

func TestStore_SignUpPendingResend(t *testing.T) {
	tests := []struct {
		name     string
		sent     bool          // a confirmation went out after the first sign-up
		wait     time.Duration // before signing up again
		wantSend bool
	}{
		{name: "never sent", sent: false, wait: time.Minute, wantSend: true},
		{name: "sent just now", sent: true, wait: time.Minute, wantSend: false},
		{name: "sent inside the window", sent: true, wait: 9*time.Minute + 59*time.Second, wantSend: false},
		{name: "sent at the window's end", sent: true, wait: 10 * time.Minute, wantSend: true},
		{name: "sent long ago", sent: true, wait: 48 * time.Hour, wantSend: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newStoreEnv(t)
			ctx := context.Background()
			first, err := e.store.SignUp(ctx, "jane@example.org", "Jane", []string{"daily"}, false, 10*time.Minute, formMeta)
			if err != nil {
				t.Fatal(err)
			}
			if tt.sent {
				if err := e.store.MarkConfirmationSent(ctx, first.Subscriber.ID, formMeta); err != nil {
					t.Fatal(err)
				}
			}
			e.clock.Advance(tt.wait)
			again := Meta{IP: "203.0.113.5", UserAgent: "Other/2", Route: "json"}
			res, err := e.store.SignUp(ctx, "JANE@example.org", "", []string{"weekly"}, false, 10*time.Minute, again)
			if err != nil {
				t.Fatal(err)
			}
			sub := res.Subscriber
			if res.Created || res.SendConfirmation != tt.wantSend || sub.ID != first.Subscriber.ID {
				t.Errorf("Created %v SendConfirmation %v (want %v) id %d", res.Created, res.SendConfirmation, tt.wantSend, sub.ID)
			}
			if sub.Status != StatusPending || sub.Name != "Jane" || !slices.Equal(sub.Digests, []string{"weekly"}) {
				t.Errorf("after a second sign-up: %+v (the name stays when none is given, digests follow)", sub)
			}
			evs := e.events(t, sub.ID)
			checkEvent(t, evs[len(evs)-1], EventSubscribed, again, "again while pending")
			if e.count(t, "subscribers") != 1 {
				t.Error("a second sign-up made a second row")
			}
		})
	}
}

func TestStore_SignUpConfirmedChangesNothing(t *testing.T) {
	e := newStoreEnv(t)
	ctx := context.Background()
	sub := e.withStatus(t, "jane@example.org", StatusConfirmed)
	before := e.snapshot(t)
	e.clock.Advance(time.Hour)
	for _, confirmNow := range []bool{false, true} {
		res, err := e.store.SignUp(ctx, "jane@example.org", "Mallory", []string{"weekly"}, confirmNow, 0, formMeta)
		if err != nil {
			t.Fatal(err)
		}
		if res.Created || res.SendConfirmation || res.Subscriber.ID != sub.ID {
			t.Errorf("confirmNow %v: %+v", confirmNow, res)
		}
	}
	if after := e.snapshot(t); after != before {
		t.Errorf("signing up a confirmed address changed the store:\n%s\nwant\n%s", after, before)
	}
}

func TestStore_SignUpAfterLeaving(t *testing.T) {
	for _, st := range []Status{StatusUnsubscribed, StatusBounced, StatusComplained} {
		t.Run(string(st), func(t *testing.T) {
			e := newStoreEnv(t)
			ctx := context.Background()
			old := e.withStatus(t, "jane@example.org", st)
			e.store.MarkConfirmationSent(ctx, old.ID, formMeta)
			e.clock.Advance(time.Minute)
			res, err := e.store.SignUp(ctx, "jane@example.org", "Jane", []string{"daily"}, false, time.Hour, formMeta)
			if err != nil {
				t.Fatal(err)
			}
			sub := res.Subscriber
			if res.Created || !res.SendConfirmation || sub.ID != old.ID || sub.Status != StatusPending ||
				sub.ConfirmedAt != nil || sub.UnsubscribedAt != nil || sub.BounceCount != 0 || !slices.Equal(sub.Digests, []string{"daily"}) {
				t.Errorf("res %+v, subscriber %+v", res, sub)
			}
			evs := e.events(t, sub.ID)
			checkEvent(t, evs[len(evs)-1], EventSubscribed, formMeta, "was "+string(st))
		})
	}
}

func TestStore_SignUpBadInput(t *testing.T) {
	long := strings.Repeat("é", 101)
	tests := []struct {
		name, email, person string
		digests             []string
		field               string
		want                error
	}{
		{name: "no @", email: "jane.example.org", field: "email", want: ErrInvalidAddress},
		{name: "space", email: "jane doe@example.org", field: "email", want: ErrInvalidAddress},
		{name: "header injection", email: "jane@example.org\r\nBcc: all@example.org", field: "email", want: ErrInvalidAddress},
		{name: "name with CR LF", email: "jane@example.org", person: "Jane\r\nBcc: x@example.org", field: "name", want: ErrInvalidName},
		{name: "name too long", email: "jane@example.org", person: long, field: "name", want: ErrInvalidName},
		{name: "name with NUL", email: "jane@example.org", person: "Ja\x00ne", field: "name", want: ErrInvalidName},
		{name: "unknown digest", email: "jane@example.org", digests: []string{"daily", "hourly"}, field: "digests", want: ErrUnknownDigest},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newStoreEnv(t)
			ctx := context.Background()
			e.withStatus(t, "jane@example.org", StatusPending)
			before := e.snapshot(t)
			_, err := e.store.SignUp(ctx, tt.email, tt.person, tt.digests, false, 0, formMeta)
			if !errors.Is(err, tt.want) || fieldOf(err) != tt.field {
				t.Fatalf("SignUp = %v, want %v on field %s", err, tt.want, tt.field)
			}
			if !strings.HasPrefix(err.Error(), tt.field+": ") || strings.ContainsAny(err.Error(), "\r\n") {
				t.Errorf("message %q should start with the field and hold no line break", err)
			}
			if after := e.snapshot(t); after != before {
				t.Errorf("a refused sign-up changed the store:\n%s", after)
			}
		})
	}
}

func TestStore_SignUpSameAddressAnyCase(t *testing.T) {
	e := newStoreEnv(t)
	a := e.signUp(t, "Jane@Example.org")
	b := e.signUp(t, "jane@EXAMPLE.org")
	if a.ID != b.ID || e.count(t, "subscribers") != 1 {
		t.Errorf("two rows for one address: %d, %d", a.ID, b.ID)
	}
}

func TestStore_MarkConfirmationSent(t *testing.T) {
	e := newStoreEnv(t)
	ctx := context.Background()
	sub := e.signUp(t, "jane@example.org")
	e.clock.Advance(time.Second)
	if err := e.store.MarkConfirmationSent(ctx, sub.ID, formMeta); err != nil {
		t.Fatal(err)
	}
	if got := e.get(t, sub.ID); got.ConfirmSentAt == nil || !got.ConfirmSentAt.Equal(e.clock.Now()) {
		t.Errorf("confirm_sent_at = %v", got.ConfirmSentAt)
	}
	evs := e.events(t, sub.ID)
	checkEvent(t, evs[len(evs)-1], EventConfirmationSent, formMeta, "")
	if err := e.store.MarkConfirmationSent(ctx, 999, formMeta); !errors.Is(err, ErrNotFound) {
		t.Errorf("unknown id: %v", err)
	}
}

func TestStore_Confirm(t *testing.T) {
	tests := []struct {
		from      Status
		want      error
		newEvents int
	}{
		{from: StatusPending, newEvents: 1},
		{from: StatusConfirmed, newEvents: 0},
		{from: StatusUnsubscribed, want: ErrNotPending},
		{from: StatusBounced, want: ErrNotPending},
		{from: StatusComplained, want: ErrNotPending},
	}
	for _, tt := range tests {
		t.Run(string(tt.from), func(t *testing.T) {
			e := newStoreEnv(t)
			sub := e.withStatus(t, "jane@example.org", tt.from)
			before, n := e.snapshot(t), len(e.events(t, sub.ID))
			e.clock.Advance(time.Hour)
			got, err := e.store.Confirm(context.Background(), sub.ID, sub.Nonce, linkMeta)
			if !errors.Is(err, tt.want) {
				t.Fatalf("Confirm = %v, want %v", err, tt.want)
			}
			if tt.want != nil {
				if e.snapshot(t) != before {
					t.Error("a refused confirmation changed the store")
				}
				return
			}
			if got.Status != StatusConfirmed || got.ConfirmedAt == nil {
				t.Errorf("after Confirm: %+v", got)
			}
			evs := e.events(t, sub.ID)
			if len(evs)-n != tt.newEvents {
				t.Fatalf("%d new events, want %d", len(evs)-n, tt.newEvents)
			}
			if tt.newEvents == 1 {
				checkEvent(t, evs[len(evs)-1], EventConfirmed, linkMeta, "")
				if !got.ConfirmedAt.Equal(e.clock.Now()) {
					t.Errorf("confirmed at %v", got.ConfirmedAt)
				}
			}
		})
	}
	e := newStoreEnv(t)
	if _, err := e.store.Confirm(context.Background(), 7, 0, linkMeta); !errors.Is(err, ErrNotFound) {
		t.Errorf("unknown id: %v", err)
	}
}

func TestStore_Unsubscribe(t *testing.T) {
	oneClick := Meta{IP: "192.0.2.50", UserAgent: "Gmail", Route: "one-click"}
	for _, from := range []Status{StatusPending, StatusConfirmed, StatusBounced, StatusComplained} {
		t.Run(string(from), func(t *testing.T) {
			e := newStoreEnv(t)
			ctx := context.Background()
			sub := e.withStatus(t, "jane@example.org", from)
			got, err := e.store.Unsubscribe(ctx, sub.ID, oneClick)
			if err != nil {
				t.Fatal(err)
			}
			if got.Status != StatusUnsubscribed || got.UnsubscribedAt == nil || !got.UnsubscribedAt.Equal(e.clock.Now()) {
				t.Errorf("after Unsubscribe: %+v", got)
			}
			evs := e.events(t, sub.ID)
			checkEvent(t, evs[len(evs)-1], EventUnsubscribed, oneClick, "was "+string(from))
			// The mail client and the person both click: one event.
			e.clock.Advance(time.Minute)
			before := e.snapshot(t)
			if _, err := e.store.Unsubscribe(ctx, sub.ID, linkMeta); err != nil {
				t.Fatal(err)
			}
			if e.snapshot(t) != before {
				t.Error("a second unsubscribe changed the store")
			}
		})
	}
	e := newStoreEnv(t)
	if _, err := e.store.Unsubscribe(context.Background(), 7, linkMeta); !errors.Is(err, ErrNotFound) {
		t.Errorf("unknown id: %v", err)
	}
}

func TestStore_SetPreferences(t *testing.T) {
	tests := []struct {
		name        string
		from        Status
		person      string
		digests     []string
		wantStatus  Status
		wantDigests []string
		wantKinds   []EventKind // events added
		wantDetail  string      // in the first one
	}{
		{name: "fewer digests", from: StatusConfirmed, person: "Jane", digests: []string{"weekly"}, wantStatus: StatusConfirmed,
			wantDigests: []string{"weekly"}, wantKinds: []EventKind{EventPreferences}, wantDetail: `name "" -> "Jane"; digests daily, weekly -> weekly`},
		{name: "nothing changed", from: StatusConfirmed, digests: []string{"daily", "weekly"}, wantStatus: StatusConfirmed,
			wantDigests: []string{"daily", "weekly"}},
		{name: "no digest unsubscribes", from: StatusConfirmed, digests: nil, wantStatus: StatusUnsubscribed,
			wantDigests: []string{}, wantKinds: []EventKind{EventPreferences, EventUnsubscribed}, wantDetail: "daily, weekly -> none"},
		{name: "pending stays pending", from: StatusPending, digests: []string{"daily"}, wantStatus: StatusPending,
			wantDigests: []string{"daily"}, wantKinds: []EventKind{EventPreferences}, wantDetail: "-> daily"},
		{name: "coming back after leaving", from: StatusUnsubscribed, digests: []string{"daily"}, wantStatus: StatusConfirmed,
			wantDigests: []string{"daily"}, wantKinds: []EventKind{EventPreferences, EventConfirmed}, wantDetail: "-> daily"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newStoreEnv(t)
			sub := e.withStatus(t, "jane@example.org", tt.from)
			n := len(e.events(t, sub.ID))
			got, err := e.store.SetPreferences(context.Background(), sub.ID, tt.person, tt.digests, linkMeta)
			if err != nil {
				t.Fatal(err)
			}
			if got.Status != tt.wantStatus || !slices.Equal(got.Digests, tt.wantDigests) || got.Name != tt.person {
				t.Errorf("after SetPreferences: %+v", got)
			}
			evs := e.events(t, sub.ID)[n:]
			if !slices.Equal(kinds(evs), tt.wantKinds) {
				t.Fatalf("new events %v, want %v", kinds(evs), tt.wantKinds)
			}
			for i, ev := range evs {
				detail := ""
				if i == 0 {
					detail = tt.wantDetail
				}
				checkEvent(t, ev, ev.Kind, linkMeta, detail)
			}
		})
	}
}

func TestStore_SetPreferencesBadInput(t *testing.T) {
	e := newStoreEnv(t)
	sub := e.withStatus(t, "jane@example.org", StatusConfirmed)
	before := e.snapshot(t)
	ctx := context.Background()
	if _, err := e.store.SetPreferences(ctx, sub.ID, "Jane", []string{"hourly"}, linkMeta); !errors.Is(err, ErrUnknownDigest) || fieldOf(err) != "digests" {
		t.Errorf("unknown digest: %v", err)
	}
	if _, err := e.store.SetPreferences(ctx, sub.ID, "Jane\nDoe", nil, linkMeta); !errors.Is(err, ErrInvalidName) || fieldOf(err) != "name" {
		t.Errorf("name with LF: %v", err)
	}
	if _, err := e.store.SetPreferences(ctx, 999, "", []string{"daily"}, linkMeta); !errors.Is(err, ErrNotFound) {
		t.Errorf("unknown id: %v", err)
	}
	if e.snapshot(t) != before {
		t.Error("refused preferences changed the store")
	}
}

func TestStore_SignUpConfirmNowExisting(t *testing.T) {
	for _, from := range []Status{StatusPending, StatusUnsubscribed, StatusBounced} {
		t.Run(string(from), func(t *testing.T) {
			e := newStoreEnv(t)
			sub := e.withStatus(t, "jane@example.org", from)
			n := len(e.events(t, sub.ID))
			res, err := e.store.SignUp(context.Background(), "jane@example.org", "", []string{"daily"}, true, time.Hour, formMeta)
			if err != nil {
				t.Fatal(err)
			}
			if res.SendConfirmation || res.Created || res.Subscriber.Status != StatusConfirmed || res.Subscriber.ConfirmedAt == nil {
				t.Errorf("res %+v, subscriber %+v", res, res.Subscriber)
			}
			evs := e.events(t, sub.ID)[n:]
			if !slices.Equal(kinds(evs), []EventKind{EventSubscribed, EventConfirmed}) {
				t.Fatalf("events %v", kinds(evs))
			}
			checkEvent(t, evs[1], EventConfirmed, formMeta, "double opt-in off")
		})
	}
}
