package subscribers

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"
)

// stored is what an import compares a row against.
type stored struct {
	id      int64
	name    string
	status  Status
	zone    string
	digests []string
}

// importRows stores one batch in one transaction and adds its counts to
// res only once committed.
func (s *Store) importRows(ctx context.Context, rows []importRow, o ImportOptions, m Meta, res *ImportResult) error {
	out := ImportResult{KeptBy: map[string]int{}}
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		existing, err := s.existing(ctx, tx, rows)
		if err != nil {
			return err
		}
		suppressed, err := s.suppressedOf(ctx, tx, rows)
		if err != nil {
			return err
		}
		ins, err := newInserter(ctx, tx)
		if err != nil {
			return err
		}
		defer ins.close()
		now := s.now()
		for _, row := range rows {
			key := asciiLower(row.addr)
			st := existing[key]
			switch {
			case st != nil && st.status.isNo() && o.Resubscribe == "":
				// A no stays a no: nothing in the row is applied.
				out.Kept++
				out.KeptBy[string(st.status)]++
			case st != nil && st.status.isNo():
				changed, err := resubscribe(ctx, tx, st, row, o.Resubscribe, now, m)
				if err != nil {
					return err
				}
				if changed {
					out.Updated++
				} else {
					out.Kept++
					out.KeptBy[string(st.status)]++
				}
			case st != nil:
				changed, err := updateFromImport(ctx, tx, st, row, now, m)
				if err != nil {
					return err
				}
				if changed {
					out.Updated++
				} else {
					out.Skipped++
				}
			case suppressed[addressHash(row.addr)]:
				// Erased on request: never brought back by an import.
				out.Kept++
				out.KeptBy["forgotten"]++
			default:
				st, err := s.insertFromImport(ctx, ins, row, o.Confirmed, now, m)
				if err != nil {
					return err
				}
				existing[key] = st // a second row with the address updates this one
				out.Added++
				if st.status == StatusPending {
					out.AddedPending++
				}
			}
		}
		return ins.ids.done(ctx, tx)
	})
	if err != nil {
		return err
	}
	res.Added += out.Added
	res.Updated += out.Updated
	res.Skipped += out.Skipped
	res.Kept += out.Kept
	res.AddedPending += out.AddedPending
	for k, n := range out.KeptBy {
		if res.KeptBy == nil {
			res.KeptBy = map[string]int{}
		}
		res.KeptBy[k] += n
	}
	res.Errors = append(res.Errors, out.Errors...)
	return nil
}

// resubscribe confirms a person who had left, on the operator's word of
// renewed consent from source, unless the row's status says otherwise; it
// reports whether anything changed.
func resubscribe(ctx context.Context, tx *sql.Tx, st *stored, row importRow, source string, now time.Time, m Meta) (bool, error) {
	if row.statusSet && row.status != StatusConfirmed {
		return false, nil
	}
	if err := setStatus(ctx, tx, st.id, StatusConfirmed, now); err != nil {
		return false, err
	}
	from := st.status
	st.status = StatusConfirmed
	if row.nameSet && row.name != st.name {
		if _, err := tx.ExecContext(ctx, `UPDATE subscribers SET name = ? WHERE id = ?`, row.name, st.id); err != nil {
			return false, fmt.Errorf("update subscriber: %w", err)
		}
		st.name = row.name
	}
	if row.digestsSet && !slices.Equal(row.digests, st.digests) {
		if err := setDigests(ctx, tx, st.id, row.digests); err != nil {
			return false, err
		}
		st.digests = row.digests
	}
	return true, addEvent(ctx, tx, st.id, EventConfirmed, now, m,
		fmt.Sprintf("resubscribed by import (was %s); consent: %s", from, clip(source, 200)))
}

// existing loads the subscribers a batch names, keyed by ASCII-lower-cased
// address, in one query.
func (s *Store) existing(ctx context.Context, tx *sql.Tx, rows []importRow) (map[string]*stored, error) {
	addrs := make([]string, len(rows))
	for i, r := range rows {
		addrs[i] = r.addr
	}
	// email is NOCASE, and so is the IN comparison against it.
	// (On PostgreSQL email is CITEXT: the list is cast to it to compare so.)
	in := s.db.Dialect.Pick(s.db.Dialect.Texts("?"),
		"SELECT CAST(value AS citext) FROM json_array_elements_text(CAST(? AS json))")
	q, err := tx.QueryContext(ctx, `SELECT s.id, s.email, s.name, s.status, s.timezone, `+digestsColumn(s.db.Dialect)+`
		FROM subscribers s WHERE s.email IN (`+in+`)`, jsonStrings(addrs))
	if err != nil {
		return nil, fmt.Errorf("load subscribers: %w", err)
	}
	defer q.Close()
	out := make(map[string]*stored, len(rows))
	for q.Next() {
		var st stored
		var email string
		var digests sql.NullString
		if err := q.Scan(&st.id, &email, &st.name, &st.status, &st.zone, &digests); err != nil {
			return nil, fmt.Errorf("load subscribers: %w", err)
		}
		st.digests = []string{}
		if digests.String != "" {
			st.digests = strings.Split(digests.String, digestSep)
			slices.Sort(st.digests)
		}
		out[asciiLower(email)] = &st
	}
	return out, q.Err()
}

// suppressedOf returns the hashes of a batch's erased addresses.
func (s *Store) suppressedOf(ctx context.Context, tx *sql.Tx, rows []importRow) (map[string]bool, error) {
	hashes := make([]string, len(rows))
	for i, r := range rows {
		hashes[i] = addressHash(r.addr)
	}
	q, err := tx.QueryContext(ctx, `SELECT email_hash FROM suppressions WHERE email_hash IN (`+s.db.Dialect.Texts("?")+`)`,
		jsonStrings(hashes))
	if err != nil {
		return nil, fmt.Errorf("check suppressions: %w", err)
	}
	defer q.Close()
	out := map[string]bool{}
	for q.Next() {
		var h string
		if err := q.Scan(&h); err != nil {
			return nil, fmt.Errorf("check suppressions: %w", err)
		}
		out[h] = true
	}
	return out, q.Err()
}

// inserter holds the statements a batch of new rows repeats: prepared once,
// they make a 100,000-row import several times faster. Its ids come from
// one block, so the batch raises the id mark once.
type inserter struct {
	tx                 *sql.Tx
	sub, digest, event *sql.Stmt
	ids                idBlock
}

func newInserter(ctx context.Context, tx *sql.Tx) (*inserter, error) {
	ins := inserter{tx: tx}
	var err error
	for _, p := range []struct {
		stmt **sql.Stmt
		sql  string
	}{
		{&ins.sub, `INSERT INTO subscribers (id, email, name, status, route, created_at, confirmed_at, unsubscribed_at, token_nonce,
			timezone) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`},
		{&ins.digest, `INSERT INTO subscriber_digests (subscriber_id, digest) VALUES (?, ?)`},
		{&ins.event, `INSERT INTO subscriber_events (subscriber_id, kind, at, ip, user_agent, route, detail)
			VALUES (?, ?, ?, ?, ?, ?, ?)`},
	} {
		if *p.stmt, err = tx.PrepareContext(ctx, p.sql); err != nil {
			ins.close()
			return nil, fmt.Errorf("prepare import: %w", err)
		}
	}
	return &ins, nil
}

func (ins *inserter) close() {
	for _, st := range []*sql.Stmt{ins.sub, ins.digest, ins.event} {
		if st != nil {
			st.Close()
		}
	}
}

// insertFromImport adds a new row: confirmed or pending as the operator
// said, unless the status column says otherwise.
func (s *Store) insertFromImport(ctx context.Context, ins *inserter, row importRow, confirmed bool, now time.Time, m Meta) (*stored, error) {
	status := StatusPending
	if confirmed {
		status = StatusConfirmed
	}
	if row.statusSet {
		status = row.status
	}
	digests := row.digests
	if !row.digestsSet {
		digests = s.digests
	}
	conf, unsub := statusTimes(status, now)
	id, err := ins.ids.take(ctx, ins.tx)
	if err != nil {
		return nil, err
	}
	if _, err := ins.sub.ExecContext(ctx, id, row.addr, row.name, status, clip(m.Route, 32), now.UnixNano(), conf, unsub,
		int64(newNonce(0)), row.zone); err != nil {
		return nil, fmt.Errorf("insert subscriber: %w", err)
	}
	for _, d := range digests {
		if _, err := ins.digest.ExecContext(ctx, id, d); err != nil {
			return nil, fmt.Errorf("save digests: %w", err)
		}
	}
	detail := "imported as " + string(status)
	if status == StatusConfirmed {
		detail = "consent recorded by operator"
	}
	if _, err := ins.event.ExecContext(ctx, id, EventImported, now.UnixNano(), clip(m.IP, 64), clip(m.UserAgent, 512),
		clip(m.Route, 32), detail); err != nil {
		return nil, fmt.Errorf("record imported event: %w", err)
	}
	return &stored{id: id, name: row.name, status: status, zone: row.zone, digests: slices.Clone(digests)}, nil
}

// updateFromImport brings an existing subscriber in line with a row and
// reports whether anything changed. An empty name cell keeps the name.
func updateFromImport(ctx context.Context, tx *sql.Tx, st *stored, row importRow, now time.Time, m Meta) (bool, error) {
	var changes []string
	if row.nameSet && row.name != st.name {
		changes = append(changes, fmt.Sprintf("name %q -> %q", st.name, row.name))
		if _, err := tx.ExecContext(ctx, `UPDATE subscribers SET name = ? WHERE id = ?`, row.name, st.id); err != nil {
			return false, fmt.Errorf("update subscriber: %w", err)
		}
		st.name = row.name
	}
	if row.digestsSet && !slices.Equal(row.digests, st.digests) {
		changes = append(changes, fmt.Sprintf("digests %s -> %s", digestList(st.digests), digestList(row.digests)))
		if err := setDigests(ctx, tx, st.id, row.digests); err != nil {
			return false, err
		}
		st.digests = row.digests
	}
	if row.statusSet && row.status != st.status {
		changes = append(changes, fmt.Sprintf("status %s -> %s", st.status, row.status))
		if err := setStatus(ctx, tx, st.id, row.status, now); err != nil {
			return false, err
		}
		st.status = row.status
	}
	if row.zoneSet && row.zone != st.zone {
		changes = append(changes, fmt.Sprintf("time zone %q -> %q", st.zone, row.zone))
		if _, err := tx.ExecContext(ctx, `UPDATE subscribers SET timezone = ? WHERE id = ?`, row.zone, st.id); err != nil {
			return false, fmt.Errorf("update subscriber: %w", err)
		}
		st.zone = row.zone
	}
	if len(changes) == 0 {
		return false, nil
	}
	return true, addEvent(ctx, tx, st.id, EventUpdated, now, m, "import: "+strings.Join(changes, "; "))
}

// jsonStrings encodes ss as a JSON array, for Dialect.Texts.
func jsonStrings(ss []string) string {
	b, _ := json.Marshal(ss) // a []string always encodes
	return string(b)
}
