package mail

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/mail"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tidings/tidings/internal/gcboost"
	"github.com/tidings/tidings/mail/transport"
	"github.com/tidings/tidings/subscribers"
)

// Sender delivers what the ledger has queued: it claims due deliveries in
// batches, composes and sends each through Transport with Workers
// goroutines, and records each outcome before that worker takes its next
// message (a commit gathers the other workers' outcomes for up to
// groupCommit).
//
// A delivery is marked sending (and its attempt counted) before its SMTP
// transaction and sent only after the server accepted it. Claims name
// their sender, which registers in the senders table and renews a
// heartbeat while it sends: after a crash only the messages that were
// inside an SMTP transaction, at most one per connection, are in doubt,
// and the next sender takes the dead one's claims at once and sends them
// with the same Message-ID.
//
// While the server cannot be reached (connecting, TLS or AUTH fail) the
// sender stops: nothing it gave back lost an attempt, and Run probes
// again after a pause, so an outage of any length costs no delivery.
type Sender struct {
	Ledger    *Ledger
	Transport transport.Transport
	Composer  Composer
	// Notices composes the deliveries that belong to no edition; From is
	// their sender. Without Notices such a delivery fails.
	Notices Notices
	From    mail.Address
	Workers int // concurrent sends; 0: 4. More than the transport's connections only queue.
	// MaxAttempts is how many times a temporary failure is tried before
	// the delivery fails; 0: 5.
	MaxAttempts int
	// Backoff is the delay before the first retry, doubled on each
	// further one and capped at a day; 0: one minute.
	Backoff     time.Duration
	BounceLimit int // passed to Recipients.RecordBounce; 0: 1
	// BatchSize is how many deliveries one transaction claims, and how
	// many outcomes one transaction records at most; 0: 100.
	BatchSize int
	// Lease is how long a claim made before claims named their sender
	// holds; 0: ten minutes.
	Lease time.Duration
	// Heartbeat is how often a sending sender renews its registration;
	// 0: two seconds. Stale is how old a heartbeat may be before its
	// sender counts as gone; 0: ten seconds.
	Heartbeat, Stale time.Duration
	// DomainLimits pace the mail to groups of recipient domains; every
	// domain, limited or not, is paused and slowed alone when it answers
	// "try later" (421, 451), while the others go on.
	DomainLimits []DomainLimit
	// DailyLimit, when above 0, is how many messages go out in one day
	// of Location (nil: UTC); what remains waits for the next day.
	DailyLimit int
	Location   *time.Location
	// ReturnPath, when set, gives an edition's delivery its envelope
	// sender (VERP: bounces+TOKEN@ the inbound domain, the token naming
	// the delivery), so that a bounce says which mail came back.
	ReturnPath func(d Delivery, s *subscribers.Subscriber) string
	// ReturnPathHeader, when set, also writes the return path in a header
	// of that name, for a relay that reports bounces by webhook and
	// echoes such a header rather than the envelope or the Message-ID
	// (Postmark's X-PM-Metadata-*).
	ReturnPathHeader string
	// Observe, when set, is told the outcome of each pass of Run (for
	// metrics).
	Observe func(rep SendReport, took time.Duration, err error)

	paceOnce sync.Once
	pace     *pacer

	after func(d time.Duration) <-chan time.Time // Run's waits; tests replace it
}

// SendReport counts what one pass did.
type SendReport struct {
	Sent     int // accepted by the server
	Failed   int // refused for good or out of attempts
	Retried  int // temporary failures queued again
	Skipped  int // subscribers who left since the edition was planned
	Deferred int // given back, no attempt spent: the server could not be reached
	Paced    int // given back, no attempt spent, until their domain's pace lets them go
	// Capped, when set, is when the daily limit lets editions go again.
	Capped time.Time
}

// maxBackoff caps the retry delay.
const maxBackoff = 24 * time.Hour

// job is one claimed delivery handed to a worker.
type job struct {
	d  Delivery
	ed *Edition
	// checked: sub is what the batch check found, nil when the subscriber
	// no longer receives the digest.
	checked bool
	sub     *subscribers.Subscriber
}

// sendPass is the state of one SendDue.
type sendPass struct {
	runCtx, work context.Context
	stop         context.CancelFunc
	down         atomic.Pointer[error] // the server could not be reached
	capped       atomic.Bool           // the daily limit is reached
	restoreGC    func()                // set by claimLoop once the pass is large
}

func (s *Sender) stale() time.Duration {
	if s.Stale > 0 {
		return s.Stale
	}
	return 10 * time.Second
}

// SendDue sends every due delivery until none is due, then returns what it
// did. When ctx ends, it stops claiming, lets the sends in progress finish
// (the transport bounds them), records every outcome, gives back the
// claims it did not start on, and returns; that is not an error. It
// returns an error when it could not claim work or record outcomes, and
// one wrapping transport.ErrUnreachable when the server could not be
// reached (what it had claimed is given back without spending an
// attempt).
func (s *Sender) SendDue(ctx context.Context) (SendReport, error) {
	if s.Ledger == nil || s.Transport == nil || s.Composer == nil {
		return SendReport{}, errors.New("mail: sender needs a ledger, a transport and a composer")
	}
	workers, batch := s.Workers, s.BatchSize
	if workers <= 0 {
		workers = 4
	}
	if batch <= 0 {
		batch = 100
	}
	runCtx, stop := context.WithCancel(ctx)
	defer stop()
	// What was begun is finished and recorded even when ctx ends: a send
	// cut short would leave its delivery in doubt for nothing.
	work := context.WithoutCancel(ctx)
	p := &sendPass{runCtx: runCtx, work: work, stop: stop}

	o := newOwner()
	if _, err := s.Ledger.reap(work, o, s.stale()); err != nil {
		return SendReport{}, fmt.Errorf("send: %w", err)
	}
	if err := s.Ledger.register(work, o); err != nil {
		return SendReport{}, fmt.Errorf("send: %w", err)
	}
	s.share(work)
	beatDone := s.heartbeat(work, o)

	rec := &recorder{ledger: s.Ledger, owner: o, recipients: s.Ledger.Recipients, bounceLimit: max(s.BounceLimit, 1),
		size: batch, flushed: make(chan struct{}, 1), stop: stop, log: s.Ledger.log()}
	results := make(chan pending, batch)
	recDone := make(chan struct{})
	go func() {
		defer close(recDone)
		rec.loop(work, results)
	}()

	jobs := make(chan job)
	var wg sync.WaitGroup
	rec.workers.Store(int64(workers))
	for range workers {
		wg.Go(func() {
			defer rec.workers.Add(-1)
			var committed chan struct{} // the previous outcome's commit
			for j := range jobs {
				// The next message is checked, composed and written to
				// the server while the last outcome is being committed;
				// its final dot, which lets the server take it, goes only
				// once that commit is done, so a crash leaves at most the
				// message in this connection's transaction in doubt.
				msg, res := s.prepare(p, j)
				if pr, ok := s.Transport.(transport.Preparer); ok && msg != nil {
					// Signed now, while the last outcome commits.
					if err := pr.Prepare(msg); err != nil {
						msg, res = nil, s.failure(p, j.d, err)
					}
				}
				var hold func() bool
				if prev := committed; prev != nil {
					hold = func() bool {
						<-prev
						return p.runCtx.Err() == nil
					}
				}
				if msg != nil {
					res = s.paced(p, j, msg, hold)
				}
				if committed != nil {
					<-committed
				}
				committed = make(chan struct{})
				results <- pending{res: res, done: committed}
			}
			if committed != nil {
				<-committed
			}
		})
	}

	claimErr := s.claimLoop(p, o, batch, jobs, results, rec)
	close(jobs)
	wg.Wait()
	close(results)
	<-recDone
	if p.restoreGC != nil {
		p.restoreGC()
	}
	beatDone()
	if err := s.Ledger.unregister(work, o); err != nil {
		claimErr = errors.Join(claimErr, fmt.Errorf("send: %w", err))
	}
	if err := s.Ledger.sweepDone(work); err != nil {
		claimErr = errors.Join(claimErr, fmt.Errorf("send: %w", err))
	}
	rep := rec.report
	if rep != (SendReport{}) {
		s.Ledger.log().Info("deliveries sent", "sent", rep.Sent, "failed", rep.Failed, "retried", rep.Retried,
			"skipped", rep.Skipped, "deferred", rep.Deferred)
	}
	if p.capped.Load() {
		rep.Capped = s.dayStart(s.Ledger.now()).AddDate(0, 0, 1)
		s.Ledger.log().Info("daily limit reached; the rest waits for tomorrow", "limit", s.DailyLimit, "until", rep.Capped)
	}
	if down := p.down.Load(); down != nil {
		claimErr = errors.Join(claimErr, fmt.Errorf("send: %w", *down))
	}
	return rep, errors.Join(claimErr, rec.err)
}

// share splits the rate limits among the live senders: instances that
// send one list (or digest send beside serve) keep them together.
func (s *Sender) share(ctx context.Context) {
	n, err := s.Ledger.liveSenders(ctx, s.stale())
	if err != nil {
		s.Ledger.log().Warn("count live senders", slog.Any("error", err))
		return
	}
	s.pacer().setShare(n)
	if sh, ok := s.Transport.(transport.Sharer); ok {
		sh.Share(n)
	}
}

// heartbeat renews o's registration until the returned stop is called,
// which waits for it to end.
func (s *Sender) heartbeat(ctx context.Context, o owner) (stop func()) {
	every := s.Heartbeat
	if every <= 0 {
		every = 2 * time.Second
	}
	quit := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-quit:
				return
			case <-t.C:
				if err := s.Ledger.beat(ctx, o); err != nil {
					s.Ledger.log().Warn("sender heartbeat failed", slog.Any("error", err))
				}
				s.share(ctx)
			}
		}
	}()
	return func() {
		close(quit)
		<-done
	}
}

// claimLoop claims batches and hands them to the workers until nothing is
// due and nothing is in flight, or the pass is stopped.
func (s *Sender) claimLoop(p *sendPass, o owner, batch int, jobs chan<- job, results chan<- pending, rec *recorder) error {
	lease := s.Lease
	if lease <= 0 {
		lease = 10 * time.Minute
	}
	editions := map[int64]*Edition{}
	release := func(ds []Delivery) {
		for _, d := range ds {
			results <- pending{res: result{d: d, kind: outReleased}}
		}
	}
	quota, err := s.quota(p.work)
	if err != nil {
		return fmt.Errorf("send: %w", err)
	}
	for p.runCtx.Err() == nil {
		// Under a daily limit editions take what is left of today's
		// quota; once it is spent only sign-up mail, which must not wait
		// for tomorrow, goes on.
		n, editionsToo := batch, true
		switch {
		case quota == 0:
			editionsToo = false
			p.capped.Store(true)
		case quota > 0:
			n = min(n, quota)
		}
		ds, err := s.Ledger.claim(p.runCtx, o, n, lease, s.stale(), editionsToo)
		if err != nil {
			if p.runCtx.Err() != nil {
				return nil
			}
			return fmt.Errorf("send: %w", err)
		}
		if len(ds) == 0 {
			// Outcomes still to be recorded may make rows due again (a
			// retry with no backoff); look once more when they are in.
			if rec.inflight.Load() == 0 {
				return nil
			}
			select {
			case <-rec.flushed:
			case <-p.runCtx.Done():
			}
			continue
		}
		rec.inflight.Add(int64(len(ds)))
		if len(ds) == batch && p.restoreGC == nil {
			// A full claim: a large send, composing and writing tens of
			// kilobytes of garbage per message over a small live heap.
			// The collector's target is raised until the pass ends.
			p.restoreGC = gcboost.Raise()
		}
		if quota > 0 {
			quota = max(quota-len(ds), 0)
		}
		for _, d := range ds {
			if editions[d.EditionID] == nil && d.Kind == KindEdition {
				ed, err := s.Ledger.Edition(p.work, d.EditionID)
				if err != nil {
					release(ds)
					return fmt.Errorf("send: %w", err)
				}
				editions[d.EditionID] = ed
			}
		}
		checks := s.checkBatch(p.work, ds, editions)
		for i, d := range ds {
			ed := editions[d.EditionID]
			j := job{d: d, ed: ed}
			if c, ok := checks[d.ID]; ok {
				j.checked, j.sub = true, c
			}
			select {
			case jobs <- j:
			case <-p.runCtx.Done():
				release(ds[i:])
				return nil
			}
		}
	}
	return nil
}

// quota is how many messages may still go out today under DailyLimit,
// or -1 without one.
func (s *Sender) quota(ctx context.Context) (int, error) {
	if s.DailyLimit <= 0 {
		return -1, nil
	}
	sent, err := s.Ledger.sentSince(ctx, s.dayStart(s.Ledger.now()))
	if err != nil {
		return 0, err
	}
	return max(s.DailyLimit-sent, 0), nil
}

// dayStart is the beginning of t's day in the sender's location.
func (s *Sender) dayStart(t time.Time) time.Time {
	loc := s.Location
	if loc == nil {
		loc = time.UTC
	}
	t = t.In(loc)
	return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, loc)
}

// prepare takes one delivery through its last checks and composes its
// message; when there is nothing to send it returns the outcome instead.
// Nothing is started once the pass is stopped.
func (s *Sender) prepare(p *sendPass, j job) (*transport.Message, result) {
	if p.runCtx.Err() != nil {
		return nil, result{d: j.d, kind: outReleased}
	}
	if j.d.Kind != KindEdition {
		return s.prepareNotice(p, j)
	}
	sub, err := j.sub, error(nil)
	if !j.checked {
		sub, err = s.Ledger.Recipients.Deliverable(p.work, j.d.SubscriberID, recipientsOf(j.ed.Digest))
	}
	if errors.Is(err, subscribers.ErrNotFound) {
		return nil, result{d: j.d, kind: outSkipped, reply: "subscriber erased"}
	}
	if err != nil {
		return nil, s.failure(p, j.d, err)
	}
	if sub == nil {
		return nil, result{d: j.d, kind: outSkipped, reply: "subscriber no longer receives " + j.ed.Digest}
	}
	msg, err := s.Composer.Compose(p.work, j.ed, sub)
	if err != nil {
		return nil, s.failure(p, j.d, fmt.Errorf("compose: %w", err))
	}
	msg.MessageID = j.d.MessageID
	if msg.To.Address == "" {
		msg.To = mail.Address{Name: sub.Name, Address: j.d.Email}
	}
	if s.ReturnPath != nil {
		msg.ReturnPath = s.ReturnPath(j.d, sub)
		if s.ReturnPathHeader != "" {
			msg.Headers = append(msg.Headers, [2]string{s.ReturnPathHeader, msg.ReturnPath})
		}
	}
	return msg, result{}
}

// recipientsOf is the digest a subscriber must receive to get an edition
// of digest: a broadcast to everyone takes any ("").
func recipientsOf(digest string) string {
	if digest == AllDigests {
		return ""
	}
	return digest
}

// checkBatch asks, in one query per digest, whether the subscribers of a
// claimed batch still receive what they are to be sent: for each
// delivery checked, its subscriber (nil when it no longer receives it).
// An erased subscriber has no entry, and so gets a check of its own that
// says so. A batch is sent within moments; a failed check leaves
// each message to check itself.
func (s *Sender) checkBatch(ctx context.Context, ds []Delivery, editions map[int64]*Edition) map[int64]*subscribers.Subscriber {
	byDigest := map[string][]Delivery{}
	for _, d := range ds {
		if ed := editions[d.EditionID]; ed != nil && d.Kind == KindEdition {
			byDigest[recipientsOf(ed.Digest)] = append(byDigest[recipientsOf(ed.Digest)], d)
		}
	}
	out := map[int64]*subscribers.Subscriber{}
	for digest, batch := range byDigest {
		ids := make([]int64, len(batch))
		for i, d := range batch {
			ids[i] = d.SubscriberID
		}
		found, err := s.Ledger.Recipients.DeliverableAll(ctx, ids, digest)
		if err != nil {
			continue
		}
		for _, d := range batch {
			if sub, ok := found[d.SubscriberID]; ok {
				out[d.ID] = sub
			}
		}
	}
	return out
}

// prepareNotice composes a delivery that belongs to no edition.
func (s *Sender) prepareNotice(p *sendPass, j job) (*transport.Message, result) {
	if s.Notices == nil {
		return nil, result{d: j.d, kind: outFailed, reply: "no composer for " + j.d.Kind + " mail is wired"}
	}
	n, err := s.Notices.ComposeNotice(p.work, j.d.Kind, j.d.SubscriberID)
	switch {
	case errors.Is(err, subscribers.ErrNotFound):
		return nil, result{d: j.d, kind: outSkipped, reply: "subscriber erased"}
	case err != nil:
		return nil, s.failure(p, j.d, fmt.Errorf("compose %s: %w", j.d.Kind, err))
	case n == nil:
		return nil, result{d: j.d, kind: outSkipped, reply: j.d.Kind + " mail no longer to be sent"}
	}
	if n.ToEmail == "" {
		n.ToEmail = j.d.Email
	}
	msg := noticeMessage(n, s.From, s.Ledger.now())
	msg.MessageID = j.d.MessageID
	return msg, result{}
}

// pacer returns the sender's pacer, made on first use; it lives as long
// as the sender, across passes.
func (s *Sender) pacer() *pacer {
	s.paceOnce.Do(func() { s.pace = newPacer(s.DomainLimits, s.Backoff, s.Ledger.now) })
	return s.pace
}

// paced sends msg when its domain's pace lets it go now or within
// moments, and otherwise gives the delivery back until its turn.
func (s *Sender) paced(p *sendPass, j job, msg *transport.Message, hold func() bool) result {
	domain := strings.ToLower(domainOf(msg.To.Address))
	pc := s.pacer()
	wait, back := pc.admit(j.d.ID, domain)
	if !back.IsZero() {
		return result{d: j.d, kind: outPaced, next: back}
	}
	if wait > 0 {
		t := time.NewTimer(wait)
		select {
		case <-t.C:
		case <-p.runCtx.Done():
			t.Stop()
			pc.done(domain, false, false)
			return result{d: j.d, kind: outReleased}
		}
	}
	res := s.send(p, j, msg, hold)
	pc.done(domain, res.kind == outSent, res.kind == outRetry && tryLater(res.code))
	return res
}

// send hands one composed message to the transport and says what became
// of it. A send is not begun once the pass is stopped; one begun runs on
// work, which does not end. hold, if not nil, is waited for before the
// server may take the message (see transport.Holder), and a false from
// it keeps the message back: a transport that cannot write ahead waits
// for it first.
func (s *Sender) send(p *sendPass, j job, msg *transport.Message, hold func() bool) result {
	if p.runCtx.Err() != nil {
		return result{d: j.d, kind: outReleased}
	}
	var err error
	if h, ok := s.Transport.(transport.Holder); ok && hold != nil {
		err = h.SendHeld(p.work, msg, hold)
	} else if hold != nil && !hold() {
		err = transport.ErrHeld
	} else {
		err = s.Transport.Send(p.work, msg)
	}
	switch {
	case errors.Is(err, transport.ErrHeld):
		return result{d: j.d, kind: outReleased}
	case err != nil:
		return s.failure(p, j.d, err)
	}
	return result{d: j.d, kind: outSent}
}

// failure classifies a failed attempt: a 5xx fails the delivery and
// counts a bounce; a message that cannot be rendered fails it (trying
// again would not help); a server that could not be reached spends no
// attempt and stops the pass; anything else is retried with backoff
// until MaxAttempts.
func (s *Sender) failure(p *sendPass, d Delivery, err error) result {
	r := result{d: d, kind: outRetry, reply: err.Error()}
	var se *transport.SendError
	if errors.As(err, &se) {
		r.code = se.Code
	}
	maxAttempts := s.MaxAttempts
	if maxAttempts <= 0 {
		maxAttempts = 5
	}
	var he *transport.HeaderError
	switch {
	case errors.Is(err, transport.ErrUnreachable):
		r.kind = outDeferred
		if p.down.CompareAndSwap(nil, &err) {
			s.Ledger.log().Warn("SMTP server unreachable; sending paused", slog.Any("error", err))
		}
		p.stop()
	case transport.IsPermanent(err):
		r.kind, r.bounce = outFailed, true
	case errors.As(err, &he):
		r.kind = outFailed
	case d.Attempts >= maxAttempts:
		r.kind = outFailed
	default:
		r.next = s.Ledger.now().Add(s.backoff(d.Attempts))
	}
	return r
}

// backoff is the delay after the given attempt: Backoff, doubled for
// each attempt after the first, at most maxBackoff.
func (s *Sender) backoff(attempts int) time.Duration {
	d := s.Backoff
	if d <= 0 {
		d = time.Minute
	}
	for i := 1; i < attempts && d < maxBackoff; i++ {
		d *= 2
	}
	return min(d, maxBackoff)
}

// doneEvery is how often the recorder marks finished editions done while
// it sends; the end of every pass sweeps them too.
const doneEvery = time.Second

// pending is an outcome on its way to the recorder; done, when set, is
// closed once it is committed (or could not be).
type pending struct {
	res  result
	done chan struct{}
}

// groupCommit is how long the recorder holds a commit open for the
// outcomes of the other workers.
const groupCommit = 2 * time.Millisecond

// recorder commits outcomes in groups: a commit takes the outcomes that
// come within groupCommit of the first (up to size), and goes at once
// when every worker waits on it, since none can add to it then. Each
// worker has at most one outcome uncommitted, so the commits stay as
// many as a few per round of the connections rather than one per
// message, while no connection sends past an outcome not yet committed.
type recorder struct {
	ledger      *Ledger
	owner       owner // whose claims it records
	recipients  Recipients
	bounceLimit int
	size        int
	log         *slog.Logger
	stop        context.CancelFunc // ends the run when outcomes cannot be recorded

	workers  atomic.Int64  // workers still taking jobs
	lastDone time.Time     // when record last marked finished editions done
	inflight atomic.Int64  // claimed and not yet recorded
	flushed  chan struct{} // signalled after each commit
	report   SendReport    // read after loop returns
	err      error
}

func (r *recorder) loop(ctx context.Context, results <-chan pending) {
	wait := time.NewTimer(groupCommit)
	for first := range results {
		batch := []pending{first}
		waiting := 0 // workers waiting on this commit
		if first.done != nil {
			waiting++
		}
		wait.Reset(groupCommit)
	more:
		for len(batch) < r.size && waiting < int(r.workers.Load()) {
			select {
			case p, ok := <-results:
				if !ok {
					break more
				}
				batch = append(batch, p)
				if p.done != nil {
					waiting++
				}
			case <-wait.C:
				break more
			}
		}
		wait.Stop()
		r.flush(ctx, batch)
	}
}

// flush commits one batch, lets its workers go on, then records the
// bounces it holds: the subscriber store writes through the same single
// connection, so never inside the ledger's transaction.
func (r *recorder) flush(ctx context.Context, batch []pending) {
	if len(batch) == 0 {
		return
	}
	results := make([]result, len(batch))
	for i, p := range batch {
		results[i] = p.res
	}
	defer func() {
		r.inflight.Add(-int64(len(batch)))
		select {
		case r.flushed <- struct{}{}:
		default:
		}
	}()
	checkDone := time.Since(r.lastDone) >= doneEvery
	if checkDone {
		r.lastDone = time.Now()
	}
	err := r.ledger.record(ctx, r.owner, results, checkDone)
	if err != nil {
		// Once more: a busy or briefly failing disk should not leave
		// accepted mail in doubt.
		err = r.ledger.record(ctx, r.owner, results, checkDone)
	}
	for _, p := range batch {
		if p.done != nil {
			close(p.done)
		}
	}
	if err != nil {
		// The rows stay sending: in doubt, sent again with the same
		// Message-ID once another sender takes this one's claims.
		if r.err == nil {
			r.err = fmt.Errorf("send: %w", err)
		}
		r.stop()
		return
	}
	for _, res := range results {
		switch res.kind {
		case outSent:
			r.report.Sent++
		case outFailed:
			r.report.Failed++
			r.log.Warn("delivery failed", "delivery", res.d.ID, "edition", res.d.EditionID,
				"subscriber", res.d.SubscriberID, "attempts", res.d.Attempts, "reply", res.reply)
		case outRetry:
			r.report.Retried++
			r.log.Debug("delivery deferred", "delivery", res.d.ID, "attempts", res.d.Attempts,
				"next_attempt_at", res.next, "reply", res.reply)
		case outSkipped:
			r.report.Skipped++
		case outDeferred:
			r.report.Deferred++
		case outPaced:
			r.report.Paced++
		}
		if res.bounce {
			err := r.recipients.RecordBounce(ctx, res.d.SubscriberID, true, res.reply, r.bounceLimit)
			if err != nil && !errors.Is(err, subscribers.ErrNotFound) {
				r.log.Error("record bounce", "subscriber", res.d.SubscriberID, slog.Any("error", err))
			}
		}
	}
}
