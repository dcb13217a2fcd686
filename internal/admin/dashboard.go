package admin

import (
	"context"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/tidings/tidings/mail"
	"github.com/tidings/tidings/subscribers"
)

// Dashboard sizes: weeks in the charts, editions in the table.
const (
	chartWeeks    = 26
	tableWeeks    = 12
	lastEditions  = 10
	dashboardSpan = 24 * time.Hour // "sent in the last day"
)

// dashboardData is the data of dashboard.html.
type dashboardData struct {
	Total    int
	States   []stateCount
	Growth   *chart
	Flow     *chart
	Weeks    []weekRow // newest first
	Editions []editionRow
	Health   health
	Runs     []runRow
}

type stateCount struct {
	State string
	N     int
	Share string // of all subscribers, "85.0 %"
}

type weekRow struct {
	Start                time.Time
	SignUps, Unsubscribe int
	OnList               int
}

type editionRow struct {
	*mail.Edition
	Total, Sent, Failed, Skipped, Queued, Sending int
	Open                                          int // queued or sending
	Bounced, Complained                           int
	// Unsubscribed counts every unsubscribe from the edition's creation
	// to the next edition of its digest (or now): unsubscribes are not
	// tied to one mail, so this is when, not why.
	Unsubscribed int
}

type health struct {
	Queue     int
	NextDue   time.Time
	Senders   []mail.Claimant
	SentDay   int
	Failed    int // deliveries failed, every edition and notice
	HasLedger bool
}

type runRow struct {
	Digest, Title string
	Next          time.Time
	Each          bool // mailed for each article; no schedule
	LastRun       time.Time
}

// dashboard is the admin's front page: the list by state and its growth,
// sign-ups and unsubscribes per week, the last editions, the queue and
// the senders, and when each digest runs next.
func (a *Admin) dashboard(w http.ResponseWriter, r *http.Request) error {
	a.viewed.Store(a.o.Now().UnixNano())
	d, err := a.dashboardData(r.Context(), false)
	if err != nil {
		return err
	}
	return a.render(w, r, "dashboard.html", "Dashboard", d)
}

// dashboardData counts what the dashboard shows; fresh counts afresh what
// the memo keeps, and keeps it again.
func (a *Admin) dashboardData(ctx context.Context, fresh bool) (dashboardData, error) {
	var d dashboardData
	if err := a.subscriberPanels(ctx, &d, fresh); err != nil {
		return d, err
	}
	if err := a.mailPanels(ctx, &d, fresh); err != nil {
		return d, err
	}
	return d, nil
}

// refreshEvery is how often Run counts the dashboard afresh while it is
// looked at (a view within refreshWhile), so that a view finds its counts
// kept rather than waiting for them.
const (
	refreshEvery = 20 * time.Second
	refreshWhile = 10 * time.Minute
)

// Run keeps the dashboard's costly counts fresh while someone looks at
// it, until ctx ends. A failed count is logged and tried again at the
// next tick: the pages count for themselves when they must.
func (a *Admin) Run(ctx context.Context) error {
	every := a.refreshEvery
	if every <= 0 {
		every = refreshEvery
	}
	t := time.NewTicker(every)
	defer t.Stop()
	// Once at start, so that the first view finds the counts ready.
	a.viewed.Store(a.o.Now().UnixNano())
	for {
		if a.o.Now().Sub(time.Unix(0, a.viewed.Load())) <= refreshWhile {
			if _, err := a.dashboardData(ctx, true); err != nil && ctx.Err() == nil {
				a.log.Warn("refresh dashboard counts", slog.Any("error", err))
			}
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

var stateOrder = []subscribers.Status{subscribers.StatusConfirmed, subscribers.StatusPending, subscribers.StatusUnsubscribed,
	subscribers.StatusBounced, subscribers.StatusComplained}

func (a *Admin) subscriberPanels(ctx context.Context, d *dashboardData, fresh bool) error {
	st := a.o.Data.Subscribers
	if st == nil {
		return nil
	}
	now := a.o.Now()
	counts, err := remember(&a.memo, "states", "", now, listTTL, fresh, func() (map[subscribers.Status]int, error) {
		return st.CountByStatus(ctx)
	})
	if err != nil {
		return err
	}
	for _, s := range stateOrder {
		d.Total += counts[s]
	}
	for _, s := range stateOrder {
		sc := stateCount{State: string(s), N: counts[s], Share: "—"}
		if d.Total > 0 {
			sc.Share = percent(float64(counts[s]) / float64(d.Total))
		}
		d.States = append(d.States, sc)
	}
	weeks, err := remember(&a.memo, "weeks", "", now, listTTL, fresh, func() ([]subscribers.Week, error) {
		return st.Weekly(ctx)
	})
	if err != nil {
		return err
	}
	rows := make([]weekRow, len(weeks))
	on := 0
	for i, w := range weeks {
		on += w.SignUps - w.Unsubscribes
		rows[i] = weekRow{Start: w.Start, SignUps: w.SignUps, Unsubscribe: w.Unsubscribes, OnList: on}
	}
	if len(rows) > chartWeeks {
		rows = rows[len(rows)-chartWeeks:]
	}
	labels := make([]string, len(rows))
	on2 := make([]int, len(rows))
	ups := make([]int, len(rows))
	downs := make([]int, len(rows))
	for i, w := range rows {
		labels[i] = w.Start.Format("Jan 2")
		on2[i], ups[i], downs[i] = w.OnList, w.SignUps, w.Unsubscribe
	}
	if len(rows) > 0 {
		d.Growth = lineChart("growth", "Subscribers on the list, by week",
			"At the end of each week, the subscribers signed up and not unsubscribed, for "+lastWeeks(len(rows))+
				". The table below gives the same numbers.", labels, series{Name: "On the list", Values: on2})
		d.Flow = barChart("flow", "Sign-ups and unsubscribes per week",
			"Solid bars are sign-ups, hatched bars unsubscribes, in each of "+lastWeeks(len(rows))+
				". The table below gives the same numbers.", labels,
			series{Name: "Sign-ups", Values: ups}, series{Name: "Unsubscribes", Values: downs, Hatched: true})
	}
	for i := len(rows) - 1; i >= 0 && len(d.Weeks) < tableWeeks; i-- {
		d.Weeks = append(d.Weeks, rows[i])
	}
	return nil
}

// How long the dashboard keeps what it counts over the whole list (see
// memo): the list's counts and weeks, and each edition's deliveries, of
// which only the small states (queued, sending, failed, skipped) are
// counted afresh on every view.
const (
	listTTL    = 30 * time.Second
	editionTTL = 10 * time.Minute
)

func (a *Admin) mailPanels(ctx context.Context, d *dashboardData, fresh bool) error {
	l := a.o.Data.Ledger
	if l == nil {
		return nil
	}
	now := a.o.Now()
	eds, err := l.Editions(ctx, "", lastEditions)
	if err != nil {
		return err
	}
	// The next edition of the same digest ends the window of its
	// unsubscribes; the newest of each runs to now.
	nextOf := map[string]time.Time{}
	for _, e := range eds {
		row := editionRow{Edition: e}
		if err := a.editionCounts(ctx, &row, now, fresh); err != nil {
			return err
		}
		end, ok := nextOf[e.Digest]
		if !ok {
			end = now
		}
		nextOf[e.Digest] = e.CreatedAt
		if st := a.o.Data.Subscribers; st != nil {
			if row.Unsubscribed, err = st.UnsubscribedBetween(ctx, e.CreatedAt, end); err != nil {
				return err
			}
		}
		d.Editions = append(d.Editions, row)
	}
	h := health{HasLedger: true}
	if h.Queue, err = l.QueueDepth(ctx); err != nil {
		return err
	}
	if h.Failed, err = l.StateCount(ctx, 0, mail.DeliveryFailed); err != nil {
		return err
	}
	if at, ok, err := l.NextDue(ctx); err != nil {
		return err
	} else if ok {
		h.NextDue = at
	}
	if h.Senders, err = l.Claimants(ctx); err != nil {
		return err
	}
	h.SentDay, err = remember(&a.memo, "sent-day", "", now, listTTL, fresh, func() (int, error) {
		return l.SentSince(ctx, now.Add(-dashboardSpan))
	})
	if err != nil {
		return err
	}
	d.Health = h
	for _, dg := range a.o.Data.Digests {
		row := runRow{Digest: dg.Name, Title: dg.Title, Each: dg.Mode == mail.ModeEach}
		if s := a.o.Data.Scheduler; s != nil && !row.Each {
			row.Next = s.Next(dg.Name, now)
		}
		if row.LastRun, err = l.LastRun(ctx, dg.Name); err != nil {
			return err
		}
		d.Runs = append(d.Runs, row)
	}
	return nil
}

// editionCounts fills row's counts: the small states afresh, the sent
// ones as the edition's total (kept, see memo) less the others, and its
// returns.
func (a *Admin) editionCounts(ctx context.Context, row *editionRow, now time.Time, fresh bool) error {
	l := a.o.Data.Ledger
	id := row.ID
	total, err := remember(&a.memo, "edition-total:"+strconv.FormatInt(id, 10), row.State, now, editionTTL, fresh, func() (int, error) {
		counts, err := l.Counts(ctx, id)
		n := 0
		for _, c := range counts {
			n += c
		}
		return n, err
	})
	if err != nil {
		return err
	}
	small := map[string]*int{mail.DeliveryQueued: &row.Queued, mail.DeliverySending: &row.Sending,
		mail.DeliveryFailed: &row.Failed, mail.DeliverySkipped: &row.Skipped}
	rest := total
	for state, n := range small {
		if *n, err = l.StateCount(ctx, id, state); err != nil {
			return err
		}
		rest -= *n
	}
	row.Total, row.Sent, row.Open = total, max(rest, 0), row.Queued+row.Sending
	r, err := l.Returns(ctx, id)
	if err != nil {
		return err
	}
	row.Bounced, row.Complained = r["bounce"], r["complaint"]
	return nil
}

// lastWeeks says "the last week" or "the last 26 weeks".
func lastWeeks(n int) string {
	if n == 1 {
		return "the last week"
	}
	return "the last " + number(n) + " weeks"
}

// percent writes a share as "85.0 %".
func percent(f float64) string {
	return strconvFloat(f*100) + " %"
}
