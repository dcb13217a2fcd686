package mail

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"
	"sort"
	"time"

	"github.com/robfig/cron/v3"

	"github.com/tidings/tidings/feed"
)

// Scheduler decides when each digest's edition is due and plans it. Both
// tidings run (one PlanDue from the system cron) and tidings serve (Run,
// which wakes at each scheduled moment) go through it, so a moment is
// planned the same way whoever notices it first.
//
// Rules: a digest tidings has never run records "now" and starts at its
// next moment rather than mailing its back catalogue; moments missed while
// tidings was down collapse into one (with CatchUp) or are skipped
// (without); a wall-clock time that daylight saving time skips runs once
// right after the gap, one it repeats runs once.
type Scheduler struct {
	ledger  *Ledger
	digests []scheduledDigest
	log     *slog.Logger

	// after waits for d; tests replace it to drive Run without sleeping.
	after func(d time.Duration) <-chan time.Time
}

type scheduledDigest struct {
	Digest
	sched cron.Schedule // nil in ModeEach
}

// onTime is how late a moment may be noticed and still count as on time
// rather than missed: a timer fires a little after its moment.
const onTime = time.Minute

// maxSleep bounds one wait of Run, so that a suspended machine or a
// clock that jumps is noticed within it.
const maxSleep = time.Minute

// NewScheduler parses every digest's schedule, in loc when the spec names
// no CRON_TZ. A spec that does not parse is an error naming its digest.
func NewScheduler(l *Ledger, digests []Digest, loc *time.Location, logger *slog.Logger) (*Scheduler, error) {
	s := &Scheduler{ledger: l, log: logger, after: time.After}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	for _, d := range digests {
		if d.Mode == ModeEach {
			s.digests = append(s.digests, scheduledDigest{Digest: d}) // no schedule: its articles say when
			continue
		}
		sched, err := ParseSchedule(d.Schedule, loc)
		if err != nil {
			return nil, fmt.Errorf("digest %s: schedule %w", d.Name, err)
		}
		s.digests = append(s.digests, scheduledDigest{Digest: d, sched: sched})
	}
	sort.Slice(s.digests, func(i, j int) bool { return s.digests[i].Name < s.digests[j].Name })
	return s, nil
}

// Next returns digest name's first scheduled moment after t, or the zero
// time for a digest the scheduler does not know or one in ModeEach.
func (s *Scheduler) Next(name string, t time.Time) time.Time {
	for _, d := range s.digests {
		if d.Name == name && d.sched != nil {
			return d.sched.Next(t)
		}
	}
	return time.Time{}
}

// Due is one digest moment that has come and not yet been planned, or in
// ModeEach one article whose mail is due.
type Due struct {
	Digest  Digest
	At      time.Time     // the scheduled moment
	Article *feed.Article // ModeEach: the article to mail
}

// Due returns the digests whose moment has come by now, each with the one
// moment to plan, and the articles digests in ModeEach owe a mail. Moments
// missed without CatchUp and digests seen for the first time are recorded
// as run here and not returned.
func (s *Scheduler) Due(ctx context.Context, now time.Time) ([]Due, error) {
	out, _, err := s.dueAll(ctx, now)
	return out, err
}

// dueAll is Due, and when the next article of a ModeEach digest will be
// due (zero when none waits).
func (s *Scheduler) dueAll(ctx context.Context, now time.Time) (out []Due, wake time.Time, err error) {
	var errs []error
	for _, d := range s.digests {
		if d.sched == nil {
			dues, next, err := s.dueEach(ctx, d.Digest, now)
			if err != nil {
				errs = append(errs, fmt.Errorf("digest %s: %w", d.Name, err))
			}
			out = append(out, dues...)
			if !next.IsZero() && (wake.IsZero() || next.Before(wake)) {
				wake = next
			}
			continue
		}
		at, err := s.due(ctx, d, now)
		if err != nil {
			errs = append(errs, fmt.Errorf("digest %s: %w", d.Name, err))
			continue
		}
		if !at.IsZero() {
			out = append(out, Due{Digest: d.Digest, At: at})
		}
	}
	return out, wake, errors.Join(errs...)
}

// dueEach lists the articles digest d (ModeEach) owes a mail. A digest
// never run records now and mails what is published after it.
func (s *Scheduler) dueEach(ctx context.Context, d Digest, now time.Time) ([]Due, time.Time, error) {
	since, err := s.ledger.FirstRun(ctx, d.Name)
	if err != nil {
		return nil, time.Time{}, err
	}
	if since.IsZero() {
		return nil, time.Time{}, s.ledger.SetLastRun(ctx, d.Name, now)
	}
	as, wake, err := s.ledger.dueArticles(ctx, d, since, now)
	if err != nil {
		return nil, time.Time{}, err
	}
	out := make([]Due, len(as))
	for i, a := range as {
		out[i] = Due{Digest: d, At: visibleAt(a).Add(d.Delay), Article: a}
	}
	return out, wake, nil
}

func (s *Scheduler) due(ctx context.Context, d scheduledDigest, now time.Time) (time.Time, error) {
	last, err := s.ledger.LastRun(ctx, d.Name)
	if err != nil {
		return time.Time{}, err
	}
	if last.IsZero() {
		return time.Time{}, s.ledger.SetLastRun(ctx, d.Name, now)
	}
	at := dueMoment(d.sched, last, now)
	if at.IsZero() {
		return time.Time{}, nil
	}
	if !d.CatchUp && now.Sub(at) > onTime {
		// Missed while down and catch_up is off: skip to the next moment.
		return time.Time{}, s.ledger.SetLastRun(ctx, d.Name, at)
	}
	return at, nil
}

// PlanDue plans the edition of every digest that is due now and records
// the run. A digest that fails is logged and the others go on. It returns
// the editions it made, and the errors joined.
func (s *Scheduler) PlanDue(ctx context.Context) (planned []*Edition, err error) {
	planned, _, err = s.planDue(ctx)
	return planned, err
}

// planDue is PlanDue, and when a ModeEach digest's next article is due.
func (s *Scheduler) planDue(ctx context.Context) (planned []*Edition, wake time.Time, err error) {
	var errs []error
	// A plan cut short (a crash between its chunks) is finished first.
	if err := s.ledger.finishPlans(ctx, ""); err != nil {
		errs = append(errs, err)
	}
	now := s.ledger.now()
	due, wake, err := s.dueAll(ctx, now)
	if err != nil {
		errs = append(errs, err)
	}
	for _, d := range due {
		var ed *Edition
		var created bool
		var err error
		if d.Article != nil {
			ed, created, err = s.ledger.PlanArticle(ctx, d.Digest, d.Article, d.At)
			if err == nil && created {
				err = s.ledger.SetLastRun(ctx, d.Digest.Name, now)
			}
		} else {
			ed, created, err = s.ledger.Plan(ctx, d.Digest, d.At)
			if err == nil {
				err = s.ledger.SetLastRun(ctx, d.Digest.Name, d.At)
			}
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("digest %s: %w", d.Digest.Name, err))
			continue
		}
		if ed != nil && created {
			planned = append(planned, ed)
		}
	}
	err = errors.Join(errs...)
	if err != nil && ctx.Err() == nil {
		s.log.Error("digest not planned", slog.Any("error", err))
	}
	return planned, wake, err
}

// Run plans due digests at start (the catch-up after a restart) and then
// at each scheduled moment, calling planned with the editions each pass
// made, until ctx ends. A panic in a pass is logged with its stack and the
// scheduler lives on. Run returns nil when ctx ends.
func (s *Scheduler) Run(ctx context.Context, planned func([]*Edition)) error {
	for _, d := range s.digests {
		if d.sched == nil {
			s.log.Info("digest scheduled", "digest", d.Name, "mode", ModeEach, "delay", d.Delay)
			continue
		}
		if d.DeliverAt.Set {
			s.log.Info("digest scheduled", "digest", d.Name, "schedule", d.Schedule, "next", d.sched.Next(s.ledger.now()),
				"deliver_at", d.DeliverAt.String())
			continue
		}
		s.log.Info("digest scheduled", "digest", d.Name, "schedule", d.Schedule, "next", d.sched.Next(s.ledger.now()))
	}
	for ctx.Err() == nil {
		eds, wake := s.safePlan(ctx)
		if len(eds) > 0 && planned != nil {
			planned(eds)
		}
		wait := maxSleep
		now := s.ledger.now()
		if !wake.IsZero() {
			wait = min(wait, max(wake.Sub(now), 0))
		}
		for _, d := range s.digests {
			if d.sched == nil {
				continue
			}
			if next := d.sched.Next(now); !next.IsZero() {
				wait = min(wait, max(next.Sub(now), 0))
			}
		}
		select {
		case <-ctx.Done():
		case <-s.after(wait):
		}
	}
	return nil
}

// safePlan is planDue under recover.
func (s *Scheduler) safePlan(ctx context.Context) (eds []*Edition, wake time.Time) {
	defer func() {
		if r := recover(); r != nil {
			s.log.Error("digest planning panicked", "panic", fmt.Sprint(r), "stack", string(debug.Stack()))
		}
	}()
	eds, wake, _ = s.planDue(ctx) // logged there
	return eds, wake
}
