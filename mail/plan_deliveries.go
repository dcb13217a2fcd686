package mail

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/tidings/tidings/internal/database"
)

// A planning transaction aims to hold the writer for planHold, so that a
// sign-up or an unsubscribe waits at most about that long behind
// planning: the first chunk queues firstChunk subscribers, and each next
// one as many as the last one's pace says fit in planHold (within
// minChunk and maxChunk), which follows the machine's load. On a small
// machine a chunk is a few thousand (see BenchmarkPlanMillion).
const (
	planHold   = 30 * time.Millisecond
	firstChunk = 1000
	minChunk   = 100
	maxChunk   = 20000
)

// plan is what queuing an edition's deliveries needs beyond the edition
// itself. It is kept on the edition's row, so that whichever process
// finds the plan unfinished can finish it alike.
type plan struct {
	// due is when every delivery is due; with deliverAt set, the moment
	// from which each subscriber's next deliverAt in their zone counts.
	due       time.Time
	deliverAt LocalTime
	domain    string // of the Message-IDs: the From address's
}

// insertEdition writes ed and its articles, with its deliveries still to
// plan (ed.State EditionPlanning), and sets ed.ID. planDeliveries queues
// them after the transaction.
func insertEdition(ctx context.Context, tx *sql.Tx, ed *Edition, p plan) error {
	if ed.Kind == "" {
		ed.Kind = EditionDigest
	}
	err := tx.QueryRowContext(ctx, `INSERT INTO editions (digest, scheduled_at, created_at, subject, article_count, state,
		kind, body_html, body_text, preheader, source_key, planning, plan_after, plan_due, plan_deliver_at, plan_domain)
		VALUES (?, ?, ?, ?, ?, 'sending', ?, ?, ?, ?, ?, 1, 0, ?, ?, ?) RETURNING id`,
		ed.Digest, ed.ScheduledAt.UnixNano(), ed.CreatedAt.UnixNano(), ed.Subject, ed.ArticleCount,
		ed.Kind, ed.BodyHTML, ed.BodyText, ed.Preheader, ed.SourceKey, p.due.UnixNano(), p.deliverAt.String(), p.domain).Scan(&ed.ID)
	if err != nil {
		return fmt.Errorf("insert edition: %w", err)
	}
	ed.State = EditionPlanning
	for i, a := range ed.Articles {
		if _, err := tx.ExecContext(ctx, `INSERT INTO edition_articles (edition_id, digest, article_id, position) VALUES (?, ?, ?, ?)`,
			ed.ID, ed.Digest, a.ID, i); err != nil {
			return fmt.Errorf("insert edition article: %w", err)
		}
	}
	return nil
}

// planDeliveries queues ed's deliveries (see finishPlan) and sets
// ed.State to what it is then: sending, or done when nobody was queued.
func (l *Ledger) planDeliveries(ctx context.Context, ed *Edition) (queued int, err error) {
	if queued, err = l.finishPlan(ctx, ed.ID); err != nil {
		return queued, err
	}
	if err := l.DB.Read.QueryRowContext(ctx, `SELECT state FROM editions WHERE id = ?`, ed.ID).Scan(&ed.State); err != nil {
		return queued, fmt.Errorf("plan deliveries: %w", err)
	}
	return queued, nil
}

// finishPlans finishes the plan of every edition of digest ("": of any)
// left planning, oldest first: one whose planner died or failed between
// chunks. One that fails again does not keep the others from finishing.
func (l *Ledger) finishPlans(ctx context.Context, digest string) error {
	rows, err := l.DB.Read.QueryContext(ctx, `SELECT id FROM editions WHERE planning != 0 AND (? = '' OR digest = ?) ORDER BY id`,
		digest, digest)
	if err != nil {
		return fmt.Errorf("find unfinished plans: %w", err)
	}
	var ids []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return fmt.Errorf("find unfinished plans: %w", err)
		}
		ids = append(ids, id)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("find unfinished plans: %w", err)
	}
	var errs []error
	for _, id := range ids {
		n, err := l.finishPlan(ctx, id)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		l.log().Info("unfinished plan finished", "edition", id, "deliveries", n)
	}
	return errors.Join(errs...)
}

// finishPlan queues the deliveries of edition id still to plan, one
// chunk of subscribers by id per transaction, from the cursor the last
// chunk left on the edition: a plan cut short at any point goes on where
// it stopped, and two planners of one edition (two processes) take turns
// rather than queue anyone twice (each chunk reads the cursor under the
// write lock; the unique key on edition and subscriber stands behind it).
// It returns how many deliveries it queued; an edition planned already
// is left alone.
//
// Who is on the list: each chunk reads the confirmed subscribers of the
// digest above the cursor under the write lock, so that chunk is final
// (nobody on it erased, nobody confirmed meanwhile missed). A subscriber
// is in the edition when they are confirmed as planning reaches their
// id. Ids only grow, so whoever signs up and confirms while planning goes
// on is in it if they confirmed before the last chunk; one whose id the
// cursor has passed (a pending address confirming late) is not, as with
// confirming after the edition was made. One who leaves after their
// chunk is skipped by the sender, as after any edition was made.
func (l *Ledger) finishPlan(ctx context.Context, id int64) (queued int, err error) {
	var digest, kind, deliverAt string
	var planning bool
	var p plan
	var due int64
	err = l.DB.Read.QueryRowContext(ctx, `SELECT digest, kind, planning, plan_due, plan_deliver_at, plan_domain
		FROM editions WHERE id = ?`, id).Scan(&digest, &kind, &planning, &due, &deliverAt, &p.domain)
	if err != nil {
		return 0, fmt.Errorf("plan deliveries of edition %d: %w", id, err)
	}
	if !planning {
		return 0, nil
	}
	if p.deliverAt, err = ParseDeliverAt(deliverAt); err != nil {
		return 0, fmt.Errorf("plan deliveries of edition %d: %w", id, err)
	}
	p.due = fromNanos(due)
	target := digest
	if kind == EditionBroadcast && digest == AllDigests {
		target = ""
	}
	size := l.planChunk
	if size <= 0 {
		size = firstChunk
	}
	dueOf := l.dueOf(digest, p)
	ck := l.checkpointBetweenChunks(ctx)
	defer ck.restore()
	for chunk := 1; ; chunk++ {
		n, done, held, err := l.planChunkTx(ctx, id, target, size, p, dueOf)
		if l.planChunk <= 0 && n == size && held > 0 {
			size = min(max(int(int64(size)*int64(planHold)/int64(held)), minChunk), maxChunk)
		}
		queued += n
		if err != nil {
			return queued, fmt.Errorf("plan deliveries of edition %d: %w", id, err)
		}
		if l.chunkPlanned != nil {
			if err := l.chunkPlanned(chunk, n, held); err != nil {
				return queued, fmt.Errorf("plan deliveries of edition %d: %w", id, err)
			}
		}
		if done {
			return queued, nil
		}
		ck.after(ctx, n)
		// Another process waiting for the write lock polls for it (its
		// busy timeout) rather than queueing: a pause, a tenth of the
		// chunk, lets it in instead of the next chunk. In this process
		// writers queue for the one write connection and need none.
		select {
		case <-time.After(min(max(held/10, time.Millisecond), 5*time.Millisecond)):
		case <-ctx.Done():
			return queued, fmt.Errorf("plan deliveries of edition %d: %w", id, ctx.Err())
		}
	}
}

// checkpointBetweenChunks turns off the write connection's automatic
// checkpoints until restore is called: planning checkpoints between its
// chunks instead (see chunkCheckpoints.after). A checkpoint copies the
// WAL into the database file and syncs both; left automatic, it runs in
// the commit of whichever write fills the WAL, a chunk's as often as not,
// and the write connection's queue (sign-ups) waits through it. Measured,
// that was the longest wait behind planning a million (over 200 ms under
// load). The setting is the connection's, so it ends with the process.
func (l *Ledger) checkpointBetweenChunks(ctx context.Context) *chunkCheckpoints {
	c := &chunkCheckpoints{l: l}
	if err := l.DB.Write.QueryRowContext(ctx, `PRAGMA wal_autocheckpoint`).Scan(&c.pages); err != nil || c.pages <= 0 {
		c.pages = 0 // off already: left as it is
		return c
	}
	if err := l.DB.Write.QueryRowContext(ctx, `PRAGMA wal_autocheckpoint = 0`).Scan(new(int)); err != nil {
		c.pages = 0
	}
	return c
}

// chunkCheckpoints checkpoints between planning chunks as often as the
// automatic checkpoints would have: when the WAL has grown by the pages
// they were set to, reckoned from the pages per delivery the last
// checkpoint found.
type chunkCheckpoints struct {
	l      *Ledger
	pages  int     // the automatic threshold; 0 when planning leaves checkpoints alone
	rows   int     // deliveries queued since the last checkpoint
	perRow float64 // WAL pages a delivery took, 0 until the first checkpoint
}

// after is told that a chunk of n deliveries committed. The checkpoint
// runs from a read connection, outside the write lock: writers go on
// meanwhile. One that fails is tried again after the next chunk.
func (c *chunkCheckpoints) after(ctx context.Context, n int) {
	c.rows += n
	if c.pages == 0 || c.perRow > 0 && float64(c.rows)*c.perRow < float64(c.pages) {
		return
	}
	var busy, frames, done int
	err := c.l.DB.Read.QueryRowContext(ctx, `PRAGMA wal_checkpoint(PASSIVE)`).Scan(&busy, &frames, &done)
	if err != nil {
		if ctx.Err() == nil {
			c.l.log().Warn("checkpoint between planning chunks failed", slog.Any("error", err))
		}
		return
	}
	if frames > 0 && c.rows > 0 {
		c.perRow = float64(frames) / float64(c.rows)
	}
	c.rows = 0
}

// restore turns the automatic checkpoints back on.
func (c *chunkCheckpoints) restore() {
	if c.pages == 0 {
		return
	}
	q := `PRAGMA wal_autocheckpoint = ` + strconv.Itoa(c.pages)
	if err := c.l.DB.Write.QueryRowContext(context.Background(), q).Scan(new(int)); err != nil {
		c.l.log().Warn("automatic checkpoints not turned back on", slog.Any("error", err))
	}
}

// planChunkTx is one chunk of finishPlan in one write transaction: up to
// size deliveries queued, the cursor moved past them, and, when fewer
// were left, the plan marked finished (and the edition done when it has
// no delivery at all). held is how long it held the writer.
func (l *Ledger) planChunkTx(ctx context.Context, id int64, target string, size int, p plan,
	due func(zone string) time.Time) (n int, done bool, held time.Duration, err error) {
	tx, end, err := l.beginChunk(ctx) // BEGIN IMMEDIATE: the write lock from here
	if err != nil {
		return 0, false, 0, err
	}
	defer end()
	began := time.Now()
	var planning bool
	var after int64
	if err := tx.QueryRowContext(ctx, `SELECT planning, plan_after FROM editions WHERE id = ?`, id).Scan(&planning, &after); err != nil {
		return 0, false, 0, err
	}
	if !planning { // another planner finished it
		return 0, true, time.Since(began), nil
	}
	// The subscribers are read in the same statement that queues them,
	// under the write lock: what it sees is final until the commit.
	q, args := l.Recipients.ConfirmedAfterQuery(target, after, size)
	if n, err = insertDeliveries(ctx, l.DB, tx, id, q, args, p, due, l.now()); err != nil {
		return 0, false, 0, err
	}
	if n > 0 { // the last id queued, by the key on edition and subscriber
		if err := tx.QueryRowContext(ctx, `SELECT MAX(subscriber_id) FROM deliveries WHERE edition_id = ?`, id).Scan(&after); err != nil {
			return 0, false, 0, fmt.Errorf("move plan cursor: %w", err)
		}
	}
	done = n < size
	flag := 1 // an integer column on both stores
	if done {
		flag = 0
	}
	if _, err := tx.ExecContext(ctx, `UPDATE editions SET plan_after = ?, planning = ? WHERE id = ?`, after, flag, id); err != nil {
		return 0, false, 0, fmt.Errorf("move plan cursor: %w", err)
	}
	if done {
		if err := markDone(ctx, tx, id); err != nil {
			return 0, false, 0, err
		}
	}
	if err := tx.Commit(); err != nil {
		return 0, false, 0, err
	}
	return n, done, time.Since(began), nil
}

// beginChunk begins the write transaction of a planning chunk; end rolls
// it back unless it was committed, and ends what beginChunk set up.
//
// On SQLite the chunk runs with the foreign-key checks off, on the write
// connection held for it: each delivery it inserts refers to the edition
// the chunk has just read and to a subscriber the same statement selects,
// under the write lock, so the checks cannot fail, and they cost two
// lookups a row (a sixth of planning a million, measured). SQLite only
// switches them outside a transaction; they are back on before the
// connection goes back to the pool, and a connection on which they could
// not be turned back on is closed instead.
func (l *Ledger) beginChunk(ctx context.Context) (tx *sql.Tx, end func(), err error) {
	if l.DB.Dialect != database.SQLite {
		if tx, err = l.DB.Write.BeginTx(ctx, nil); err != nil {
			return nil, nil, err
		}
		return tx, func() { tx.Rollback() }, nil
	}
	conn, err := l.DB.Write.Conn(ctx)
	if err != nil {
		return nil, nil, err
	}
	end = func() {
		if tx != nil {
			tx.Rollback() // ErrTxDone after the commit
		}
		if _, err := conn.ExecContext(context.Background(), `PRAGMA foreign_keys = ON`); err != nil {
			l.log().Warn("foreign keys not turned back on after a planning chunk: the connection is closed", slog.Any("error", err))
			conn.Raw(func(any) error { return driver.ErrBadConn })
		}
		conn.Close()
	}
	if _, err := conn.ExecContext(ctx, `PRAGMA foreign_keys = OFF`); err != nil {
		end()
		return nil, nil, err
	}
	if tx, err = conn.BeginTx(ctx, nil); err != nil {
		end()
		return nil, nil, err
	}
	return tx, end, nil
}

// insertDeliveries queues one delivery of edition id per subscriber that
// the query from (its arguments fromArgs) selects (the columns id, email,
// timezone: see Recipients.ConfirmedAfterQuery), in one INSERT … SELECT,
// due at due(their zone), or with due nil at p.due, each with a
// Message-ID of its own that no one can guess (a returned message is
// matched by it): the edition and subscriber, and 64 random bits the
// database draws (SQLite's randomblob, PostgreSQL's gen_random_uuid, both
// from the system's secure source), stored without "<" and "@domain>"
// (see messageIDColumn; the domain is p.domain, on the edition). It
// returns how many it queued.
func insertDeliveries(ctx context.Context, db *database.DB, tx *sql.Tx, id int64, from string, fromArgs []any, p plan,
	due func(zone string) time.Time, now time.Time) (int, error) {
	at, args := "CAST(? AS BIGINT)", []any{id, p.due.UnixNano()}
	if due != nil {
		zones, err := chunkZones(ctx, tx, from, fromArgs)
		if err != nil {
			return 0, fmt.Errorf("insert deliveries: %w", err)
		}
		var b strings.Builder
		b.WriteString("CASE r.timezone")
		args = args[:1]
		for _, z := range zones {
			b.WriteString(" WHEN CAST(? AS TEXT) THEN CAST(? AS BIGINT)")
			args = append(args, z, due(z).UnixNano())
		}
		b.WriteString(" ELSE CAST(? AS BIGINT) END")
		args = append(args, due("").UnixNano())
		at = b.String()
	}
	random := db.Dialect.Pick(`lower(hex(randomblob(8)))`, `substr(md5(gen_random_uuid()::text), 1, 16)`)
	args = append(args, "e"+strconv.FormatInt(id, 10)+".s", now.UnixNano())
	args = append(args, fromArgs...)
	r, err := tx.ExecContext(ctx, `INSERT INTO deliveries (edition_id, subscriber_id, email, state, attempts, next_attempt_at,
		message_id, updated_at)
		SELECT CAST(? AS BIGINT), r.id, r.email, 'queued', 0, `+at+`,
			CAST(? AS TEXT) || r.id || '.' || `+random+`, CAST(? AS BIGINT)
		FROM (`+from+`) r`, args...)
	if err != nil {
		return 0, fmt.Errorf("insert deliveries: %w", err)
	}
	n, err := r.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("insert deliveries: %w", err)
	}
	return int(n), nil
}

// chunkZones returns the time zones of the subscribers the query from
// selects, each once.
func chunkZones(ctx context.Context, tx *sql.Tx, from string, fromArgs []any) ([]string, error) {
	rows, err := tx.QueryContext(ctx, `SELECT DISTINCT r.timezone FROM (`+from+`) r`, fromArgs...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var zones []string
	for rows.Next() {
		var z string
		if err := rows.Scan(&z); err != nil {
			return nil, err
		}
		zones = append(zones, z)
	}
	return zones, rows.Err()
}

// dueOf says when the delivery under p to a subscriber in a time zone
// ("": none stored) is due, or is nil when every one is due at p.due.
func (l *Ledger) dueOf(digest string, p plan) func(zone string) time.Time {
	if !p.deliverAt.Set {
		return nil
	}
	site := l.Zone
	if site == nil {
		site = time.UTC
	}
	zones := map[string]*time.Location{"": site} // a few zones for many subscribers
	return func(zone string) time.Time {
		loc, ok := zones[zone]
		if !ok {
			var err error
			if loc, err = time.LoadLocation(zone); err != nil {
				l.log().Warn("subscribers' time zone is not in this machine's zone database: the site's zone is used",
					"digest", digest, "timezone", zone, slog.Any("error", err))
				loc = site
			}
			zones[zone] = loc
		}
		return p.deliverAt.Next(p.due, loc)
	}
}
