package mail

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/mail"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tidings/tidings/mail/transport"
	"github.com/tidings/tidings/subscribers"
)

// Sender delivers what the ledger has queued: it claims due deliveries in
// batches, composes and sends each through Transport with Workers
// goroutines, and records the outcomes in batches.
//
// A delivery is marked sending (and its attempt counted) before its SMTP
// transaction and sent only after the server accepted it, so a crash
// leaves in doubt only the rows still sending; they are taken up again
// when their claim lapses (Lease) and sent with the same Message-ID.
type Sender struct {
	Ledger    *Ledger
	Transport transport.Transport
	Composer  Composer
	Workers   int // concurrent sends; 0: 4. More than the transport's connections only queue.
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
	// Lease is how long a claim holds before another sender may take the
	// row as abandoned; it must outlast the sending of a batch. 0: ten
	// minutes.
	Lease time.Duration
	// Observe, when set, is told the outcome of each pass of Run (for
	// metrics).
	Observe func(rep SendReport, took time.Duration, err error)

	after func(d time.Duration) <-chan time.Time // Run's waits; tests replace it
}

// SendReport counts what one Run did.
type SendReport struct {
	Sent    int // accepted by the server
	Failed  int // refused for good or out of attempts
	Retried int // temporary failures queued again
	Skipped int // subscribers who left since the edition was planned
}

// flushEvery bounds how long an outcome waits for its batch to fill
// before it is committed anyway.
const flushEvery = 50 * time.Millisecond

// maxBackoff caps the retry delay.
const maxBackoff = 24 * time.Hour

// job is one claimed delivery handed to a worker.
type job struct {
	d  Delivery
	ed *Edition
}

// SendDue sends every due delivery until none is due, then returns what it
// did. When ctx ends, Run stops claiming, lets the sends in progress
// finish (the transport bounds them), records every outcome, gives back
// the claims it did not start on, and returns; that is not an error. Run
// returns an error when it could not claim work or record outcomes.
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

	rec := &recorder{ledger: s.Ledger, recipients: s.Ledger.Recipients, bounceLimit: max(s.BounceLimit, 1),
		size: batch, flushed: make(chan struct{}, 1), stop: stop, log: s.Ledger.log()}
	results := make(chan result, batch)
	recDone := make(chan struct{})
	go func() {
		defer close(recDone)
		rec.loop(work, results)
	}()

	jobs := make(chan job)
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for j := range jobs {
				results <- s.deliver(runCtx, work, j)
			}
		})
	}

	claimErr := s.claimLoop(runCtx, work, batch, jobs, results, rec)
	close(jobs)
	wg.Wait()
	close(results)
	<-recDone
	if err := s.Ledger.sweepDone(work); err != nil {
		claimErr = errors.Join(claimErr, fmt.Errorf("send: %w", err))
	}
	rep := rec.report
	if rep != (SendReport{}) {
		s.Ledger.log().Info("deliveries sent", "sent", rep.Sent, "failed", rep.Failed, "retried", rep.Retried, "skipped", rep.Skipped)
	}
	return rep, errors.Join(claimErr, rec.err)
}

// claimLoop claims batches and hands them to the workers until nothing is
// due and nothing is in flight, or runCtx ends.
func (s *Sender) claimLoop(runCtx, work context.Context, batch int, jobs chan<- job, results chan<- result, rec *recorder) error {
	lease := s.Lease
	if lease <= 0 {
		lease = 10 * time.Minute
	}
	editions := map[int64]*Edition{}
	release := func(ds []Delivery) {
		for _, d := range ds {
			results <- result{d: d, kind: outReleased}
		}
	}
	for runCtx.Err() == nil {
		ds, err := s.Ledger.claim(runCtx, batch, lease)
		if err != nil {
			if runCtx.Err() != nil {
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
			case <-runCtx.Done():
			}
			continue
		}
		rec.inflight.Add(int64(len(ds)))
		for i, d := range ds {
			ed := editions[d.EditionID]
			if ed == nil {
				if ed, err = s.Ledger.Edition(work, d.EditionID); err != nil {
					release(ds[i:])
					return fmt.Errorf("send: %w", err)
				}
				editions[d.EditionID] = ed
			}
			select {
			case jobs <- job{d: d, ed: ed}:
			case <-runCtx.Done():
				release(ds[i:])
				return nil
			}
		}
	}
	return nil
}

// deliver takes one delivery through its last checks, composing and
// sending, and says what became of it. Nothing is started once runCtx has
// ended; what is started runs on work, which does not end.
func (s *Sender) deliver(runCtx, work context.Context, j job) result {
	if runCtx.Err() != nil {
		return result{d: j.d, kind: outReleased}
	}
	sub, err := s.Ledger.Recipients.Deliverable(work, j.d.SubscriberID, j.ed.Digest)
	if errors.Is(err, subscribers.ErrNotFound) {
		return result{d: j.d, kind: outSkipped, reply: "subscriber erased"}
	}
	if err != nil {
		return s.failure(j.d, err)
	}
	if sub == nil {
		return result{d: j.d, kind: outSkipped, reply: "subscriber no longer receives " + j.ed.Digest}
	}
	msg, err := s.Composer.Compose(work, j.ed, sub)
	if err != nil {
		return s.failure(j.d, fmt.Errorf("compose: %w", err))
	}
	msg.MessageID = j.d.MessageID
	if msg.To.Address == "" {
		msg.To = mail.Address{Name: sub.Name, Address: j.d.Email}
	}
	if err := s.Transport.Send(work, msg); err != nil {
		return s.failure(j.d, err)
	}
	return result{d: j.d, kind: outSent}
}

// failure classifies a failed attempt: a 5xx fails the delivery and
// counts a bounce; a message that cannot be rendered fails it (trying
// again would not help); anything else is retried with backoff until
// MaxAttempts.
func (s *Sender) failure(d Delivery, err error) result {
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

// recorder commits outcomes in batches: every size results or every
// flushEvery, whichever comes first, and whatever is left when results
// closes. A batch costs one transaction instead of one per delivery.
type recorder struct {
	ledger      *Ledger
	recipients  Recipients
	bounceLimit int
	size        int
	log         *slog.Logger
	stop        context.CancelFunc // ends the run when outcomes cannot be recorded

	inflight atomic.Int64  // claimed and not yet recorded
	flushed  chan struct{} // signalled after each commit
	report   SendReport    // read after loop returns
	err      error
}

func (r *recorder) loop(ctx context.Context, results <-chan result) {
	var batch []result
	timer := time.NewTimer(flushEvery)
	timer.Stop()
	for {
		select {
		case res, ok := <-results:
			if !ok {
				r.flush(ctx, batch)
				return
			}
			batch = append(batch, res)
			if len(batch) == 1 {
				timer.Reset(flushEvery)
			}
			if len(batch) >= r.size {
				timer.Stop()
				r.flush(ctx, batch)
				batch = nil
			}
		case <-timer.C:
			r.flush(ctx, batch)
			batch = nil
		}
	}
}

// flush commits one batch, then records the bounces it holds: the
// subscriber store writes through the same single connection, so never
// inside the ledger's transaction.
func (r *recorder) flush(ctx context.Context, batch []result) {
	if len(batch) == 0 {
		return
	}
	defer func() {
		r.inflight.Add(-int64(len(batch)))
		select {
		case r.flushed <- struct{}{}:
		default:
		}
	}()
	err := r.ledger.record(ctx, batch)
	if err != nil {
		// Once more: a busy or briefly failing disk should not leave a
		// batch of accepted mail in doubt.
		err = r.ledger.record(ctx, batch)
	}
	if err != nil {
		// The rows stay sending: in doubt, sent again with the same
		// Message-ID once their claim lapses.
		if r.err == nil {
			r.err = fmt.Errorf("send: %w", err)
		}
		r.stop()
		return
	}
	for _, res := range batch {
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
		}
		if res.bounce {
			err := r.recipients.RecordBounce(ctx, res.d.SubscriberID, true, res.reply, r.bounceLimit)
			if err != nil && !errors.Is(err, subscribers.ErrNotFound) {
				r.log.Error("record bounce", "subscriber", res.d.SubscriberID, slog.Any("error", err))
			}
		}
	}
}
