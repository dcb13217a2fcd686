package subscribers

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestStore_Add(t *testing.T) {
	tests := []struct {
		name       string
		status     Status
		wantStatus Status
		wantDetail string
	}{
		{name: "default confirmed", wantStatus: StatusConfirmed, wantDetail: "added by operator"},
		{name: "pending", status: StatusPending, wantStatus: StatusPending, wantDetail: "added by operator as pending"},
		{name: "unsubscribed", status: "Unsubscribed", wantStatus: StatusUnsubscribed, wantDetail: "as unsubscribed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newStoreEnv(t)
			api := Meta{IP: "10.0.0.1", UserAgent: "curl/8", Route: "api"}
			sub, err := e.store.Add(context.Background(), "Jane@Example.org", "Jane", nil, tt.status, api)
			if err != nil {
				t.Fatal(err)
			}
			if sub.Status != tt.wantStatus || sub.Email != "Jane@example.org" || sub.Route != "api" ||
				!slices.Equal(sub.Digests, []string{"daily", "weekly"}) || (sub.ConfirmedAt != nil) != (tt.wantStatus == StatusConfirmed) {
				t.Errorf("added %+v", sub)
			}
			evs := e.events(t, sub.ID)
			if len(evs) != 1 {
				t.Fatalf("events %v", kinds(evs))
			}
			checkEvent(t, evs[0], EventImported, api, tt.wantDetail)
		})
	}
}

func TestStore_AddRefused(t *testing.T) {
	e := newStoreEnv(t)
	ctx := context.Background()
	e.withStatus(t, "jane@example.org", StatusUnsubscribed)
	if err := e.store.Forget(ctx, "erased@example.org", operatorMeta); err != nil {
		t.Fatal(err)
	}
	before := e.snapshot(t)
	tests := []struct {
		name, email string
		status      Status
		field       string
		want        error
	}{
		{name: "already there, other case", email: "JANE@example.org", field: "email", want: ErrExists},
		{name: "erased on request", email: "Erased@Example.org", field: "email", want: ErrSuppressed},
		{name: "bad address", email: "jane@", field: "email", want: ErrInvalidAddress},
		{name: "bad status", email: "new@example.org", status: "active", field: "status", want: ErrInvalidStatus},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := e.store.Add(ctx, tt.email, "", nil, tt.status, operatorMeta)
			if !errors.Is(err, tt.want) || fieldOf(err) != tt.field {
				t.Errorf("Add = %v, want %v on %s", err, tt.want, tt.field)
			}
			if e.snapshot(t) != before {
				t.Error("a refused add changed the store")
			}
		})
	}
}

func TestStore_Update(t *testing.T) {
	ptr := func(s string) *string { return &s }
	st := func(s Status) *Status { return &s }
	tests := []struct {
		name        string
		person      *string
		digests     []string
		status      *Status
		wantName    string
		wantDigests []string
		wantStatus  Status
		wantDetail  string // "" means no event
	}{
		{name: "nothing given", wantDigests: []string{"daily", "weekly"}, wantStatus: StatusConfirmed},
		{name: "name", person: ptr(" Jane "), wantName: "Jane", wantDigests: []string{"daily", "weekly"}, wantStatus: StatusConfirmed,
			wantDetail: `name "" -> "Jane"`},
		{name: "no digests", digests: []string{}, wantDigests: []string{}, wantStatus: StatusConfirmed, wantDetail: "daily, weekly -> none"},
		{name: "status", status: st(StatusUnsubscribed), wantDigests: []string{"daily", "weekly"}, wantStatus: StatusUnsubscribed,
			wantDetail: "status confirmed -> unsubscribed"},
		{name: "same status", status: st(StatusConfirmed), wantDigests: []string{"daily", "weekly"}, wantStatus: StatusConfirmed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newStoreEnv(t)
			sub := e.withStatus(t, "jane@example.org", StatusConfirmed)
			n := len(e.events(t, sub.ID))
			got, err := e.store.Update(context.Background(), sub.ID, tt.person, tt.digests, tt.status, operatorMeta)
			if err != nil {
				t.Fatal(err)
			}
			if got.Name != tt.wantName || got.Status != tt.wantStatus || !slices.Equal(got.Digests, tt.wantDigests) {
				t.Errorf("updated %+v", got)
			}
			evs := e.events(t, sub.ID)[n:]
			switch {
			case tt.wantDetail == "" && len(evs) != 0:
				t.Errorf("no change recorded events %v", kinds(evs))
			case tt.wantDetail != "" && len(evs) != 1:
				t.Errorf("events %v, want one", kinds(evs))
			case tt.wantDetail != "":
				checkEvent(t, evs[0], EventUpdated, operatorMeta, tt.wantDetail)
			}
		})
	}
}

func TestStore_UpdateBadInput(t *testing.T) {
	e := newStoreEnv(t)
	sub := e.withStatus(t, "jane@example.org", StatusConfirmed)
	before := e.snapshot(t)
	bad := Status("gone")
	name := "a\rb"
	ctx := context.Background()
	for _, err := range []error{
		func() error { _, err := e.store.Update(ctx, sub.ID, nil, nil, &bad, operatorMeta); return err }(),
		func() error { _, err := e.store.Update(ctx, sub.ID, &name, nil, nil, operatorMeta); return err }(),
		func() error { _, err := e.store.Update(ctx, sub.ID, nil, []string{"x"}, nil, operatorMeta); return err }(),
	} {
		if fieldOf(err) == "" {
			t.Errorf("Update = %v, want a field error", err)
		}
	}
	if _, err := e.store.Update(ctx, 999, nil, nil, nil, operatorMeta); !errors.Is(err, ErrNotFound) {
		t.Errorf("unknown id: %v", err)
	}
	if e.snapshot(t) != before {
		t.Error("a refused update changed the store")
	}
}

func TestStore_Forget(t *testing.T) {
	e := newStoreEnv(t)
	ctx := context.Background()
	other := e.withStatus(t, "other@example.org", StatusConfirmed)
	sub := e.withStatus(t, "Jane@Example.org", StatusConfirmed)
	e.store.SetPreferences(ctx, sub.ID, "Jane", []string{"daily"}, Meta{IP: "192.0.2.99", UserAgent: "Jane's phone", Route: "link"})
	otherBefore := e.events(t, other.ID)

	e.clock.Advance(time.Hour)
	op := Meta{IP: "127.0.0.1", UserAgent: "tidings-cli", Route: "cli"}
	if err := e.store.Forget(ctx, " jane@EXAMPLE.org", op); err != nil {
		t.Fatal(err)
	}
	if _, err := e.store.Get(ctx, sub.ID); !errors.Is(err, ErrNotFound) {
		t.Errorf("subscriber still there: %v", err)
	}
	var rest int
	e.db.Read.QueryRow(`SELECT (SELECT COUNT(*) FROM subscriber_digests WHERE subscriber_id = ?) +
		(SELECT COUNT(*) FROM subscriber_events WHERE subscriber_id = ?)`, sub.ID, sub.ID).Scan(&rest)
	if rest != 0 {
		t.Errorf("%d digest and event rows left behind", rest)
	}
	var n int
	e.db.Read.QueryRow(`SELECT COUNT(*) FROM subscriber_events WHERE ip = '192.0.2.99' OR user_agent LIKE '%Jane%' OR detail LIKE '%Jane%'`).Scan(&n)
	if n != 0 {
		t.Errorf("%d events still hold the person's data", n)
	}
	var subID *int64
	var hash, ip, ua, route, kind string
	err := e.db.Read.QueryRow(`SELECT subscriber_id, email_hash, kind, ip, user_agent, route FROM subscriber_events
		WHERE subscriber_id IS NULL`).Scan(&subID, &hash, &kind, &ip, &ua, &route)
	if err != nil || subID != nil || kind != string(EventErased) || hash != addressHash("jane@example.org") ||
		ip != op.IP || ua != op.UserAgent || route != "cli" {
		t.Errorf("erased event: %v %v %q %q %q %q %q", err, subID, kind, hash, ip, ua, route)
	}
	if len(hash) != 64 || strings.Contains(hash, "jane") {
		t.Errorf("hash %q", hash)
	}
	if e.count(t, "suppressions") != 1 {
		t.Error("no suppression recorded")
	}
	if got := e.events(t, other.ID); len(got) != len(otherBefore) {
		t.Error("forgetting one subscriber touched another's record")
	}

	// Nobody but the person can bring the address back.
	if _, err := e.store.Add(ctx, "jane@example.org", "", nil, "", op); !errors.Is(err, ErrSuppressed) {
		t.Errorf("Add after Forget = %v", err)
	}
	res, err := e.store.Import(ctx, strings.NewReader("email\nJANE@example.org\n"), ImportOptions{Confirmed: true}, op)
	if err != nil || res.Added != 0 || res.Kept != 1 || res.KeptBy["forgotten"] != 1 {
		t.Errorf("Import after Forget = %+v, %v", res, err)
	}
	signed, err := e.store.SignUp(ctx, "jane@example.org", "", nil, false, 0, formMeta)
	if err != nil || !signed.Created || e.count(t, "suppressions") != 0 {
		t.Fatalf("the person's own sign-up: %+v, %v", signed, err)
	}
	evs := e.events(t, signed.Subscriber.ID)
	checkEvent(t, evs[0], EventSubscribed, formMeta, "erasure suppression lifted")
}

func TestStore_ForgetUnknownStillSuppresses(t *testing.T) {
	e := newStoreEnv(t)
	ctx := context.Background()
	for range 2 {
		if err := e.store.Forget(ctx, "never@example.org", operatorMeta); err != nil {
			t.Fatal(err)
		}
	}
	if e.count(t, "suppressions") != 1 || e.count(t, "subscriber_events") != 2 {
		t.Errorf("suppressions %d events %d", e.count(t, "suppressions"), e.count(t, "subscriber_events"))
	}
	if err := e.store.Forget(ctx, "bad address", operatorMeta); !errors.Is(err, ErrInvalidAddress) {
		t.Errorf("Forget(bad) = %v", err)
	}
}

func TestStore_RecordBounce(t *testing.T) {
	tests := []struct {
		name       string
		permanent  []bool
		limit      int
		wantStatus Status
		wantCount  int
	}{
		{name: "temporary never counts", permanent: []bool{false, false, false}, limit: 1, wantStatus: StatusConfirmed},
		{name: "one permanent at limit 1", permanent: []bool{true}, limit: 1, wantStatus: StatusBounced, wantCount: 1},
		{name: "limit 0 means 1", permanent: []bool{true}, limit: 0, wantStatus: StatusBounced, wantCount: 1},
		{name: "below limit 3", permanent: []bool{true, false, true}, limit: 3, wantStatus: StatusConfirmed, wantCount: 2},
		{name: "at limit 3", permanent: []bool{true, true, true}, limit: 3, wantStatus: StatusBounced, wantCount: 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newStoreEnv(t)
			sub := e.withStatus(t, "jane@example.org", StatusConfirmed)
			n := len(e.events(t, sub.ID))
			for _, p := range tt.permanent {
				if err := e.store.RecordBounce(context.Background(), sub.ID, p, "550 5.1.1 user unknown", tt.limit); err != nil {
					t.Fatal(err)
				}
			}
			got := e.get(t, sub.ID)
			if got.Status != tt.wantStatus || got.BounceCount != tt.wantCount {
				t.Errorf("status %s count %d", got.Status, got.BounceCount)
			}
			evs := e.events(t, sub.ID)[n:]
			if len(evs) != len(tt.permanent) {
				t.Fatalf("%d events for %d bounces", len(evs), len(tt.permanent))
			}
			last := evs[len(evs)-1]
			if last.Kind != EventBounced || !strings.Contains(last.Detail, "550 5.1.1") ||
				strings.Contains(last.Detail, "status bounced") != (tt.wantStatus == StatusBounced) {
				t.Errorf("last event %+v", last)
			}
		})
	}
	e := newStoreEnv(t)
	if err := e.store.RecordBounce(context.Background(), 9, true, "", 1); !errors.Is(err, ErrNotFound) {
		t.Errorf("unknown id: %v", err)
	}
}

func TestStore_RecordComplaint(t *testing.T) {
	e := newStoreEnv(t)
	sub := e.withStatus(t, "jane@example.org", StatusConfirmed)
	if err := e.store.RecordComplaint(context.Background(), sub.ID, "feedback loop: abuse"); err != nil {
		t.Fatal(err)
	}
	got := e.get(t, sub.ID)
	if got.Status != StatusComplained || got.ComplaintCount != 1 {
		t.Errorf("after complaint %+v", got)
	}
	evs := e.events(t, sub.ID)
	checkEvent(t, evs[len(evs)-1], EventComplained, Meta{Route: "mail"}, "abuse")
	if ok, _ := isDeliverable(context.Background(), e.store, sub.ID, "daily"); ok {
		t.Error("a complainer is still deliverable")
	}
}

func TestStore_List(t *testing.T) {
	e := newStoreEnv(t)
	ctx := context.Background()
	var confirmed []int64
	for i := range 25 {
		email := "user" + string(rune('a'+i)) + "@example.org"
		if i%2 == 0 {
			confirmed = append(confirmed, e.withStatus(t, email, StatusConfirmed).ID)
		} else {
			e.signUp(t, email, "weekly")
		}
	}
	odd := e.signUp(t, "100%_off@example.org", "daily")
	e.store.SetPreferences(ctx, odd.ID, "Zoë Ünal", []string{"daily"}, linkMeta)

	all := func(f ListFilter) []int64 {
		var ids []int64
		for page := 0; ; page++ {
			subs, next, err := e.store.List(ctx, f)
			if err != nil {
				t.Fatal(err)
			}
			if f.Limit > 0 && len(subs) > f.Limit {
				t.Fatalf("page of %d, limit %d", len(subs), f.Limit)
			}
			for _, s := range subs {
				ids = append(ids, s.ID)
			}
			if next == 0 {
				return ids
			}
			f.After = next
			if page > 100 {
				t.Fatal("paging does not end")
			}
		}
	}
	tests := []struct {
		name string
		f    ListFilter
		want int
	}{
		{name: "all in one page", f: ListFilter{}, want: 26},
		{name: "all in pages of 4", f: ListFilter{Limit: 4}, want: 26},
		{name: "confirmed", f: ListFilter{Status: StatusConfirmed, Limit: 5}, want: 13},
		{name: "weekly", f: ListFilter{Digest: "weekly", Limit: 3}, want: 25},
		{name: "pending and daily", f: ListFilter{Status: StatusPending, Digest: "daily"}, want: 1},
		{name: "search address", f: ListFilter{Search: "USERB@"}, want: 1},
		{name: "search literal percent", f: ListFilter{Search: "%_"}, want: 1},
		{name: "search name", f: ListFilter{Search: "zoë"}, want: 1},
		{name: "search nothing", f: ListFilter{Search: "nobody"}, want: 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ids := all(tt.f)
			if len(ids) != tt.want || !slices.IsSorted(ids) {
				t.Errorf("got %d ids %v, want %d ascending", len(ids), ids, tt.want)
			}
			if tt.f.Status == StatusConfirmed && !slices.Equal(ids, confirmed) {
				t.Errorf("confirmed = %v, want %v", ids, confirmed)
			}
		})
	}
	if subs, next, err := e.store.List(ctx, ListFilter{Limit: 5000}); err != nil || len(subs) != 26 || next != 0 {
		t.Errorf("limit 5000: %d, %d, %v", len(subs), next, err)
	}
	if _, _, err := e.store.List(ctx, ListFilter{Status: "active"}); !errors.Is(err, ErrInvalidStatus) {
		t.Errorf("bad status: %v", err)
	}
}
