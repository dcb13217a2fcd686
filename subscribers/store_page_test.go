package subscribers

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
)

func TestStore_ListPage(t *testing.T) {
	e := newStoreEnv(t)
	ctx := context.Background()
	var ids []int64
	for i := range 23 {
		st := StatusConfirmed
		if i%3 == 0 {
			st = StatusPending
		}
		ids = append(ids, e.withStatus(t, fmt.Sprintf("reader%02d@example.org", i), st).ID)
	}
	// Forward by 5, then back from the last page to the first: the same
	// pages, in the same order.
	var forward [][]int64
	f := ListFilter{Limit: 5}
	var last Page
	for {
		p, err := e.store.ListPage(ctx, f)
		if err != nil {
			t.Fatal(err)
		}
		if (f.After == 0) != (p.Prev == 0) {
			t.Errorf("page after %d: prev %d", f.After, p.Prev)
		}
		forward = append(forward, pageIDs(p))
		last = p
		if p.Next == 0 {
			break
		}
		f.After = p.Next
	}
	if got := slices.Concat(forward...); !slices.Equal(got, ids) {
		t.Fatalf("forward: %v, want %v", got, ids)
	}
	if len(forward) != 5 || len(forward[4]) != 3 {
		t.Fatalf("pages %v", forward)
	}
	back := [][]int64{pageIDs(last)}
	f = ListFilter{Limit: 5, Before: last.Prev}
	for f.Before != 0 {
		p, err := e.store.ListPage(ctx, f)
		if err != nil {
			t.Fatal(err)
		}
		if p.Next == 0 {
			t.Errorf("page before %d has no next", f.Before)
		}
		back = append([][]int64{pageIDs(p)}, back...)
		f.Before = p.Prev
	}
	if !slices.EqualFunc(back, forward, slices.Equal) {
		t.Errorf("backward pages %v, forward %v", back, forward)
	}
	// A filter holds both ways.
	p, err := e.store.ListPage(ctx, ListFilter{Status: StatusPending, Before: ids[len(ids)-1], Limit: 3})
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range p.Subscribers {
		if s.Status != StatusPending {
			t.Errorf("pending page holds %s %s", s.Email, s.Status)
		}
	}
	if len(p.Subscribers) != 3 || p.Prev == 0 {
		t.Errorf("pending before the last: %v prev %d", pageIDs(p), p.Prev)
	}
	if _, err := e.store.ListPage(ctx, ListFilter{Status: "active", Before: 3}); err == nil {
		t.Error("a bad status is accepted")
	}

	counts, err := e.store.CountByStatus(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if counts[StatusPending] != 8 || counts[StatusConfirmed] != 15 || counts[StatusBounced] != 0 || len(counts) != 5 {
		t.Errorf("counts %v", counts)
	}
}

func pageIDs(p Page) []int64 {
	var ids []int64
	for _, s := range p.Subscribers {
		ids = append(ids, s.ID)
	}
	return ids
}

// BenchmarkListPage100k pages, filters and searches a list of 100,000
// subscribers: each a page of 50 as the admin asks for it.
func BenchmarkListPage100k(b *testing.B) {
	e := newStoreEnv(b)
	var data bytes.Buffer
	data.WriteString("email,name,digests,status\n")
	for i := range 100_000 {
		digests, status := "daily", "confirmed"
		if i%10 == 0 {
			digests = "weekly"
		}
		if i%7 == 0 {
			status = "unsubscribed"
		}
		fmt.Fprintf(&data, "reader%d@example%d.org,Reader %d,%s,%s\n", i, i%97, i, digests, status)
	}
	ctx := context.Background()
	if _, err := e.store.Import(ctx, &data, ImportOptions{Confirmed: true}, importMeta); err != nil {
		b.Fatal(err)
	}
	for _, bc := range []struct {
		name string
		f    ListFilter
	}{
		{"first", ListFilter{}},
		{"deep", ListFilter{After: 90_000}},
		{"before", ListFilter{Before: 60_000}},
		{"status", ListFilter{Status: StatusUnsubscribed, After: 50_000}},
		{"digest", ListFilter{Digest: "weekly", After: 50_000}},
		{"search-hit", ListFilter{Search: "example5.org"}},
		{"search-miss", ListFilter{Search: "nobody@nowhere"}},
		{"search-and-status", ListFilter{Search: "Reader 9999", Status: StatusConfirmed}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			bc.f.Limit = 50
			for b.Loop() {
				if _, err := e.store.ListPage(ctx, bc.f); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
	b.Run("count", func(b *testing.B) {
		for b.Loop() {
			if _, err := e.store.CountByStatus(ctx); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// A search or digest filter that is not text (bytes no address holds,
// which PostgreSQL refuses in a query) is a field error naming it, on
// every store, whichever way the page goes.
func TestStore_ListPageRefusesNonText(t *testing.T) {
	e := newStoreEnv(t)
	e.withStatus(t, "reader@example.org", StatusConfirmed)
	for _, f := range []ListFilter{
		{Search: "\xff"}, {Search: "a\x00b"}, {Digest: "da\xffily"}, {Search: "\xff", Before: 5},
	} {
		_, err := e.store.ListPage(context.Background(), f)
		var fe *FieldError
		if !errors.As(err, &fe) {
			t.Errorf("%+v: %v, want a field error", f, err)
			continue
		}
		if want := map[bool]string{true: "search", false: "digest"}[f.Search != ""]; fe.Field != want {
			t.Errorf("%+v: field %q, want %q", f, fe.Field, want)
		}
	}
}
