package database

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"maps"
	"os"
	"slices"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// ErrNotEmpty is returned by Copy when the target holds data of its own.
var ErrNotEmpty = errors.New("the target database is not empty")

// Report is what Copy did, table by table, in the order it copied them.
type Report struct {
	Tables []TableReport
}

// TableReport is one table's copy.
type TableReport struct {
	Table    string
	Rows     int64
	Checksum string // sha256 (hex) over the source's rows in canonical form, in key order
	Verified bool   // the target holds as many rows, with the same checksum
}

// Verified reports whether every table verified.
func (r Report) Verified() bool {
	for _, t := range r.Tables {
		if !t.Verified {
			return false
		}
	}
	return true
}

// copyParams bounds the values of one INSERT, well under SQLite's 32766
// placeholders.
const copyParams = 8000

// Copy copies every table of from into to, which must be a database that
// tidings has migrated and nothing has used yet, of either dialect: it
// refuses one with rows of its own (ErrNotEmpty, naming the tables).
//
// The tables are those of the schema, read from both sides; they must
// have the same tables and columns (schema_migrations aside, which each
// dialect numbers for itself). Rows keep their ids; on PostgreSQL every
// identity then restarts past the highest id. The source is read in one
// read-only transaction, one consistent snapshot even while others
// write; the target is written in one transaction, parents before
// children, in batches, and verified inside it before it commits: per
// table the row count and a checksum over the rows in canonical form
// (see appendCanonical), the same on both dialects. Any error, a value
// the target cannot take or a table that verifies differently, rolls the
// whole copy back: the target is left as it was.
func Copy(ctx context.Context, from, to *DB) (Report, error) {
	if same, err := sameDatabase(from, to); err != nil || same {
		if err == nil {
			err = fmt.Errorf("%s is the database copied from", to)
		}
		return Report{}, fmt.Errorf("copy to %s: %w", to, err)
	}
	// One connection carries the target's transaction, so that on
	// PostgreSQL the rows can go in by COPY inside it (see copyIn).
	conn, err := to.Write.Conn(ctx)
	if err != nil {
		return Report{}, fmt.Errorf("copy to %s: %w", to, err)
	}
	defer conn.Close()
	ttx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return Report{}, fmt.Errorf("copy to %s: %w", to, err)
	}
	defer ttx.Rollback()
	opts := &sql.TxOptions{ReadOnly: true}
	if from.Dialect == Postgres {
		opts.Isolation = sql.LevelRepeatableRead // one snapshot for every table
	}
	stx, err := from.Read.BeginTx(ctx, opts)
	if err != nil {
		return Report{}, fmt.Errorf("copy from %s: %w", from, err)
	}
	defer stx.Rollback()

	fs, err := schema(ctx, stx, from.Dialect)
	if err != nil {
		return Report{}, fmt.Errorf("copy from %s: %w", from, err)
	}
	ts, err := schema(ctx, ttx, to.Dialect)
	if err != nil {
		return Report{}, fmt.Errorf("copy to %s: %w", to, err)
	}
	if err := sameSchema(fs, ts, from.Dialect, to.Dialect); err != nil {
		return Report{}, err
	}
	order, err := parentsFirst(fs)
	if err != nil {
		return Report{}, err
	}
	if err := clearFresh(ctx, ttx, to, ts, order); err != nil {
		return Report{}, err
	}

	var rep Report
	for _, t := range order {
		s, err := copyTable(ctx, stx, ttx, conn, from.Dialect, to.Dialect, t)
		if err != nil {
			return Report{}, fmt.Errorf("copy %s: %w; nothing was written to %s", t.name, err, to)
		}
		rep.Tables = append(rep.Tables, TableReport{Table: t.name, Rows: s.rows, Checksum: s.sum})
	}
	if to.Dialect == Postgres {
		if err := restartIdentities(ctx, ttx, ts, order); err != nil {
			return Report{}, err
		}
	}
	var bad []string
	for i, t := range order {
		s, err := rowsOf(ctx, ttx, to.Dialect, ts[t.name], nil)
		if err != nil {
			return rep, fmt.Errorf("verify: %w", err)
		}
		r := &rep.Tables[i]
		r.Verified = s.rows == r.Rows && s.sum == r.Checksum
		if !r.Verified {
			bad = append(bad, fmt.Sprintf("%s (%d rows read, %d there, checksum %.12s… there)", t.name, r.Rows, s.rows, s.sum))
		}
	}
	if len(bad) > 0 {
		return rep, fmt.Errorf("verify: the copy differs from the source in %s; nothing was written to %s", strings.Join(bad, ", "), to)
	}
	if err := ttx.Commit(); err != nil {
		for i := range rep.Tables {
			rep.Tables[i].Verified = false
		}
		return rep, fmt.Errorf("copy to %s: commit: %w", to, err)
	}
	return rep, nil
}

// sameDatabase reports whether a and b are one database: one file, or
// one URL.
func sameDatabase(a, b *DB) (bool, error) {
	if a.Dialect != b.Dialect {
		return false, nil
	}
	if a.Dialect == Postgres {
		return a.URL == b.URL, nil
	}
	ai, err := os.Stat(a.Path)
	if err != nil {
		return false, err
	}
	bi, err := os.Stat(b.Path)
	if err != nil {
		return false, err
	}
	return os.SameFile(ai, bi), nil
}

// clearFresh refuses a target that holds rows of its own and deletes the
// rows that the migrations themselves put into a new database (the id
// mark of subscriber_ids, a setting), which the source has its own of.
// What a new database holds is learnt from one: the migrations run on an
// SQLite database in memory.
func clearFresh(ctx context.Context, ttx *sql.Tx, to *DB, ts map[string]*table, order []*table) error {
	fresh, err := freshRows(ctx)
	if err != nil {
		return fmt.Errorf("learn what a new database holds: %w", err)
	}
	var seeded []string
	var full []string
	for _, t := range order {
		var n int64
		if err := ttx.QueryRowContext(ctx, `SELECT COUNT(*) FROM `+quote(t.name)).Scan(&n); err != nil {
			return fmt.Errorf("copy to %s: %w", to, err)
		}
		if n == 0 {
			continue
		}
		left := maps.Clone(fresh[t.name])
		own := errors.New("a row of its own")
		tt := ts[t.name]
		_, err := rowsOf(ctx, ttx, to.Dialect, tt, func(vals []any) error {
			row, err := canonicalRow(tt, vals)
			if err != nil {
				return err
			}
			if left[row] == 0 {
				return own
			}
			left[row]--
			return nil
		})
		switch {
		case errors.Is(err, own):
			full = append(full, fmt.Sprintf("%s (%d %s)", t.name, n, map[bool]string{true: "row", false: "rows"}[n == 1]))
		case err != nil:
			return fmt.Errorf("copy to %s: %w", to, err)
		default:
			seeded = append(seeded, t.name)
		}
	}
	if len(full) > 0 {
		return fmt.Errorf("copy to %s: %w: %s hold data; db copy writes only into a new database that nothing has used yet (a new file, or dropdb and createdb): nothing was written",
			to, ErrNotEmpty, strings.Join(full, ", "))
	}
	for i := len(seeded) - 1; i >= 0; i-- {
		if _, err := ttx.ExecContext(ctx, `DELETE FROM `+quote(seeded[i])); err != nil {
			return fmt.Errorf("copy to %s: %w", to, err)
		}
	}
	return nil
}

// freshRows returns, per table, the rows a newly migrated database holds,
// each in canonical form, with how often it occurs.
func freshRows(ctx context.Context) (map[string]map[string]int, error) {
	mem, err := sql.Open("sqlite", "file::memory:?_pragma=foreign_keys(1)")
	if err != nil {
		return nil, err
	}
	defer mem.Close()
	mem.SetMaxOpenConns(1) // the one connection is the database
	db := &DB{Dialect: SQLite, Path: ":memory:", Write: mem, Read: mem, Shared: mem}
	if err := db.migrate(ctx); err != nil {
		return nil, err
	}
	tables, err := schema(ctx, mem, SQLite)
	if err != nil {
		return nil, err
	}
	out := map[string]map[string]int{}
	for name, t := range tables {
		rows := map[string]int{}
		if _, err := rowsOf(ctx, mem, SQLite, t, func(vals []any) error {
			row, err := canonicalRow(t, vals)
			rows[row]++
			return err
		}); err != nil {
			return nil, err
		}
		out[name] = rows
	}
	return out, nil
}

// canonicalRow is one row's values in canonical form, one after another.
func canonicalRow(t *table, vals []any) (string, error) {
	var b []byte
	var err error
	for i, v := range vals {
		if b, err = appendCanonical(b, v); err != nil {
			return "", fmt.Errorf("table %s, column %s: %w", t.name, t.columns[i].name, err)
		}
	}
	return string(b), nil
}

// copyTable copies the rows of t from the source transaction to the
// target's, in batches, and returns the count and checksum of what it
// read. conn is the connection of ttx. One goroutine reads and checks
// the rows while another writes the batch before, so that the two
// databases work at once.
func copyTable(ctx context.Context, stx, ttx *sql.Tx, conn *sql.Conn, fd, td Dialect, t *table) (scanned, error) {
	write, done := insertRows(ctx, ttx, t)
	defer done()
	per := max(1, min(500, copyParams/len(t.columns)))
	if td == Postgres {
		write = func(rows [][]any) error { return copyIn(ctx, conn, t, rows) }
		per = 5000
	}
	batches := make(chan [][]any, 1)
	failed := make(chan struct{}) // closed when a write failed: reading on is no use
	written := make(chan error, 1)
	go func() {
		var err error
		for rows := range batches {
			if err == nil {
				if err = explain(write(rows)); err != nil {
					close(failed)
				}
			}
		}
		written <- err
	}()
	errWriting := errors.New("the write failed")
	send := func(rows [][]any) error {
		select {
		case batches <- rows:
			return nil
		case <-failed:
			return errWriting
		}
	}
	batch := make([][]any, 0, per)
	s, err := rowsOf(ctx, stx, fd, t, func(vals []any) error {
		for i, v := range vals {
			if err := fits(t.columns[i], v, td); err != nil {
				return fmt.Errorf("column %s, row %s %w; put it right in the source and copy again", t.columns[i].name, rowKey(t, vals), err)
			}
		}
		batch = append(batch, slices.Clone(vals))
		if len(batch) < per {
			return nil
		}
		err := send(batch)
		batch = make([][]any, 0, per)
		return err
	})
	if err == nil && len(batch) > 0 {
		err = send(batch)
	}
	close(batches)
	if werr := <-written; werr != nil && (err == nil || errors.Is(err, errWriting)) {
		err = werr
	}
	if err != nil {
		return scanned{}, err
	}
	return s, nil
}

// insertRows returns a function that inserts rows into t with one
// INSERT, prepared once for the batches of full size, and one that
// closes the prepared statement.
func insertRows(ctx context.Context, tx *sql.Tx, t *table) (write func(rows [][]any) error, done func()) {
	cols := make([]string, len(t.columns))
	for i, c := range t.columns {
		cols[i] = quote(c.name)
	}
	head := "INSERT INTO " + quote(t.name) + " (" + strings.Join(cols, ", ") + ") VALUES "
	one := "(" + strings.TrimSuffix(strings.Repeat("?, ", len(cols)), ", ") + ")"
	var full *sql.Stmt
	var fullRows int
	var args []any
	write = func(rows [][]any) error {
		args = args[:0]
		for _, r := range rows {
			args = append(args, r...)
		}
		q := head + strings.TrimSuffix(strings.Repeat(one+", ", len(rows)), ", ")
		if full == nil || fullRows != len(rows) {
			if full != nil {
				_, err := tx.ExecContext(ctx, q, args...) // the last, shorter batch
				return err
			}
			var err error
			if full, err = tx.PrepareContext(ctx, q); err != nil {
				return err
			}
			fullRows = len(rows)
		}
		_, err := full.ExecContext(ctx, args...)
		return err
	}
	return write, func() {
		if full != nil {
			full.Close()
		}
	}
}

// copyIn writes rows into t on PostgreSQL by COPY, on the connection that
// holds the target's transaction: pgx's CopyFrom, through database/sql's
// access to the driver's connection. COPY is a statement like any other
// in the transaction, and takes rows several times faster than INSERT.
func copyIn(ctx context.Context, conn *sql.Conn, t *table, rows [][]any) error {
	return conn.Raw(func(dc any) error {
		pc, ok := dc.(*pgConn)
		if !ok {
			return fmt.Errorf("copy in: %T is not a PostgreSQL connection of ours", dc)
		}
		_, err := pc.Conn.Conn().CopyFrom(ctx, pgx.Identifier{t.name}, t.names(), pgx.CopyFromRows(rows))
		return err
	})
}

// explain adds what PostgreSQL says beside its message: the key that a
// unique index already holds, the row a foreign key misses.
func explain(err error) error {
	var pe *pgconn.PgError
	if errors.As(err, &pe) && pe.Detail != "" {
		return fmt.Errorf("%w: %s", err, pe.Detail)
	}
	return err
}

// restartIdentities sets each identity of the target past the highest id
// copied, so that the next row inserted does not take a copied one's.
func restartIdentities(ctx context.Context, ttx *sql.Tx, ts map[string]*table, order []*table) error {
	for _, t := range order {
		for _, c := range ts[t.name].identity {
			if _, err := ttx.ExecContext(ctx, `SELECT setval(pg_get_serial_sequence(?, ?), COALESCE(MAX(`+quote(c)+`), 0) + 1, false) FROM `+quote(t.name),
				quote(t.name), c); err != nil {
				return fmt.Errorf("restart the ids of %s.%s: %w", t.name, c, err)
			}
		}
	}
	return nil
}
