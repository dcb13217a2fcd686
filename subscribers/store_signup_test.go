package subscribers

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
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
			wantKinds: []EventKind{EventSubscribed, EventConfirmationSent}},
		{name: "chosen digests, any case, repeated", digests: []string{"Weekly", " weekly "}, wantDigests: []string{"weekly"},
			wantStatus: StatusPending, wantKinds: []EventKind{EventSubscribed, EventConfirmationSent}},
		{name: "double opt-in off", confirmNow: true, wantDigests: []string{"daily", "weekly"}, wantStatus: StatusConfirmed,
			wantKinds: []EventKind{EventSubscribed, EventConfirmed, EventConfirmationSent}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newStoreEnv(t)
			res, err := e.store.SignUp(context.Background(), "  Jane@Example.ORG ", " Jane \"JD\" Doe ", tt.digests, tt.confirmNow, time.Hour, formMeta)
			if err != nil {
				t.Fatal(err)
			}
			sub := res.Subscriber
			wantNotice := NoticeConfirm
			if tt.confirmNow {
				wantNotice = NoticeWelcome
			}
			if !res.Created || res.Notice != wantNotice {
				t.Errorf("Created %v Notice %q, want %q", res.Created, res.Notice, wantNotice)
			}
			if sub.Email != "Jane@example.org" || sub.Name != `Jane "JD" Doe` || sub.Status != tt.wantStatus || sub.Route != "form" ||
				!slices.Equal(sub.Digests, tt.wantDigests) || !sub.CreatedAt.Equal(e.clock.Now()) {
				t.Errorf("subscriber = %+v", sub)
			}
			if (sub.ConfirmedAt != nil) != tt.confirmNow || sub.ConfirmSentAt == nil || sub.UnsubscribedAt != nil {
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
		wait     time.Duration // after the first sign-up, which queued a confirmation
		wantSend bool
	}{
		{name: "just now", wait: time.Minute, wantSend: false},
		{name: "inside the window", wait: 9*time.Minute + 59*time.Second, wantSend: false},
		{name: "at the window's end", wait: 10 * time.Minute, wantSend: true},
		{name: "long ago", wait: 48 * time.Hour, wantSend: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newStoreEnv(t)
			ctx := context.Background()
			first, err := e.store.SignUp(ctx, "jane@example.org", "Jane", []string{"daily"}, false, 10*time.Minute, formMeta)
			if err != nil {
				t.Fatal(err)
			}
			if first.Notice != NoticeConfirm {
				t.Fatalf("first sign-up asks for %q, want a confirmation", first.Notice)
			}
			e.clock.Advance(tt.wait)
			again := Meta{IP: "203.0.113.5", UserAgent: "Other/2", Route: "json"}
			res, err := e.store.SignUp(ctx, "JANE@example.org", "", []string{"weekly"}, false, 10*time.Minute, again)
			if err != nil {
				t.Fatal(err)
			}
			sub := res.Subscriber
			if res.Created || (res.Notice == NoticeConfirm) != tt.wantSend || sub.ID != first.Subscriber.ID {
				t.Errorf("Created %v Notice %q (want a confirmation: %v) id %d", res.Created, res.Notice, tt.wantSend, sub.ID)
			}
			if sub.Status != StatusPending || sub.Name != "Jane" || !slices.Equal(sub.Digests, []string{"weekly"}) {
				t.Errorf("after a second sign-up: %+v (the name stays when none is given, digests follow)", sub)
			}
			evs := e.events(t, sub.ID)
			last := evs[len(evs)-1]
			if tt.wantSend {
				checkEvent(t, last, EventConfirmationSent, again, "confirm mail queued")
				last = evs[len(evs)-2]
			}
			checkEvent(t, last, EventSubscribed, again, "again while pending")
			if e.count(t, "subscribers") != 1 {
				t.Error("a second sign-up made a second row")
			}
		})
	}
}

// A confirmed address typed again changes nothing of its subscription:
// it is sent a note (once per window) saying it is subscribed already.
func TestStore_SignUpConfirmedChangesNothing(t *testing.T) {
	e := newStoreEnv(t)
	ctx := context.Background()
	sub := e.withStatus(t, "jane@example.org", StatusConfirmed)
	e.clock.Advance(time.Hour)
	for i, confirmNow := range []bool{false, true} {
		res, err := e.store.SignUp(ctx, "jane@example.org", "Mallory", []string{"weekly"}, confirmNow, time.Hour, formMeta)
		if err != nil {
			t.Fatal(err)
		}
		want := NoticeSubscribed
		if i > 0 {
			want = "" // inside the window
		}
		if res.Created || res.Notice != want || res.Subscriber.ID != sub.ID {
			t.Errorf("confirmNow %v: %+v, want notice %q", confirmNow, res, want)
		}
	}
	got := e.get(t, sub.ID)
	if got.Name != sub.Name || got.Status != StatusConfirmed || !slices.Equal(got.Digests, sub.Digests) || got.Nonce != sub.Nonce {
		t.Errorf("signing up a confirmed address changed it: %+v, was %+v", got, sub)
	}
}

// The form cannot bomb a mailbox: plus-tags and Gmail's dots are one
// mailbox, and one network can cause only so many mails.
func TestStore_SignUpMailCaps(t *testing.T) {
	e := newStoreEnv(t)
	ctx := context.Background()
	notices := 0
	variants := 10000
	if raceOn {
		variants = 2000
	}
	for i := range variants {
		addr := fmt.Sprintf("victim+%d@example.org", i)
		if i%2 == 1 {
			addr = fmt.Sprintf("v.i.c.t.i.m+%d@gmail.com", i)
		}
		m := formMeta
		m.IP = fmt.Sprintf("198.51.%d.%d", i%200, i%250) // spread over many /24s
		res, err := e.store.SignUp(ctx, addr, "", nil, false, time.Hour, m)
		if err != nil {
			t.Fatal(err)
		}
		if res.Notice != "" {
			notices++
		}
	}
	if notices != 2*DefaultCaps.Mailbox[0].N {
		t.Errorf("%d plus-variants of two mailboxes caused %d mails in an hour, want %d", variants, notices, 2*DefaultCaps.Mailbox[0].N)
	}
	// One network, many real addresses: capped per /24 and per /64.
	for n, ip := range []string{"203.0.113.%d", "2001:db8::%x"} {
		sent := 0
		for i := range 100 {
			m := formMeta
			m.IP = fmt.Sprintf(ip, i+1)
			res, err := e.store.SignUp(ctx, fmt.Sprintf("reader%d-%d@example.net", i, n), "", nil, false, time.Hour, m)
			if err != nil {
				t.Fatal(err)
			}
			if res.Notice != "" {
				sent++
			}
		}
		if sent != DefaultCaps.Network[0].N {
			t.Errorf("100 sign-ups from one network (%s) caused %d mails, want %d", ip, sent, DefaultCaps.Network[0].N)
		}
	}
	// A day later the mailbox may be mailed again, up to the day's cap.
	e.clock.Advance(25 * time.Hour)
	if res, err := e.store.SignUp(ctx, "victim+x@example.org", "", nil, false, time.Hour, formMeta); err != nil || res.Notice == "" {
		t.Errorf("a day later: %+v, %v; want a mail", res, err)
	}
}

// Sign-ups of one pending address at the same moment ask for one mail.
func TestStore_SignUpConcurrentOneMail(t *testing.T) {
	for round := range 20 {
		e := newStoreEnv(t)
		addr := fmt.Sprintf("pair%d@example.org", round)
		var wg sync.WaitGroup
		var mu sync.Mutex
		mails := 0
		for range 2 {
			wg.Go(func() {
				res, err := e.store.SignUp(context.Background(), addr, "", nil, false, 10*time.Minute, formMeta)
				if err != nil {
					t.Error(err)
					return
				}
				if res.Notice != "" {
					mu.Lock()
					mails++
					mu.Unlock()
				}
			})
		}
		wg.Wait()
		if mails != 1 {
			t.Fatalf("round %d: two sign-ups at once asked for %d mails, want 1", round, mails)
		}
	}
}

func TestStore_SignUpAfterLeaving(t *testing.T) {
	for _, st := range []Status{StatusUnsubscribed, StatusBounced, StatusComplained} {
		t.Run(string(st), func(t *testing.T) {
			e := newStoreEnv(t)
			ctx := context.Background()
			old := e.withStatus(t, "jane@example.org", st)
			e.clock.Advance(time.Minute)
			res, err := e.store.SignUp(ctx, "jane@example.org", "Jane", []string{"daily"}, false, time.Hour, formMeta)
			if err != nil {
				t.Fatal(err)
			}
			sub := res.Subscriber
			if res.Created || res.Notice != NoticeConfirm || sub.ID != old.ID || sub.Status != StatusPending ||
				sub.ConfirmedAt != nil || sub.UnsubscribedAt != nil || sub.BounceCount != 0 || !slices.Equal(sub.Digests, []string{"daily"}) {
				t.Errorf("res %+v, subscriber %+v", res, sub)
			}
			evs := e.events(t, sub.ID)
			checkEvent(t, evs[len(evs)-2], EventSubscribed, formMeta, "was "+string(st))
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
			if res.Notice != NoticeWelcome || res.Created || res.Subscriber.Status != StatusConfirmed || res.Subscriber.ConfirmedAt == nil {
				t.Errorf("res %+v, subscriber %+v", res, res.Subscriber)
			}
			evs := e.events(t, sub.ID)[n:]
			if !slices.Equal(kinds(evs), []EventKind{EventSubscribed, EventConfirmed, EventConfirmationSent}) {
				t.Fatalf("events %v", kinds(evs))
			}
			checkEvent(t, evs[1], EventConfirmed, formMeta, "double opt-in off")
		})
	}
}
