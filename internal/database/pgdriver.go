package database

import (
	"context"
	"database/sql/driver"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
)

// writerLock is the key of the transaction-level advisory lock that every
// transaction on a PostgreSQL DB.Write takes first. It gives the stores the
// rule they were written for on SQLite, one writer at a time, for the
// whole cluster: a read-then-write in a transaction sees no other
// instance's write between its read and its write. The ledger's claim and
// commit paths, made for several senders, use DB.Rows instead and rely on
// row locks (FOR UPDATE SKIP LOCKED).
const writerLock = 0x7469_6469_6e67_7301 // "tidings" 1

// pgConnector wraps pgx's database/sql connector: queries are written with
// SQLite's ? placeholders, which it numbers ($1, $2, …) for PostgreSQL,
// and, for the writer pool, BeginTx takes the writer lock.
type pgConnector struct {
	inner  driver.Connector
	writer bool
}

func newPGConnector(cfg *pgx.ConnConfig, writer bool) *pgConnector {
	return &pgConnector{inner: stdlib.GetConnector(*cfg), writer: writer}
}

func (c *pgConnector) Connect(ctx context.Context) (driver.Conn, error) {
	conn, err := c.inner.Connect(ctx)
	if err != nil {
		return nil, err
	}
	return &pgConn{Conn: conn.(*stdlib.Conn), writer: c.writer}, nil
}

func (c *pgConnector) Driver() driver.Driver { return c.inner.Driver() }

type pgConn struct {
	*stdlib.Conn
	writer bool
}

func (c *pgConn) Prepare(query string) (driver.Stmt, error) {
	return c.Conn.Prepare(rebind(query))
}

func (c *pgConn) PrepareContext(ctx context.Context, query string) (driver.Stmt, error) {
	return c.Conn.PrepareContext(ctx, rebind(query))
}

func (c *pgConn) ExecContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Result, error) {
	return c.Conn.ExecContext(ctx, rebind(query), args)
}

func (c *pgConn) QueryContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
	return c.Conn.QueryContext(ctx, rebind(query), args)
}

func (c *pgConn) Begin() (driver.Tx, error) {
	return c.BeginTx(context.Background(), driver.TxOptions{})
}

func (c *pgConn) BeginTx(ctx context.Context, opts driver.TxOptions) (driver.Tx, error) {
	tx, err := c.Conn.BeginTx(ctx, opts)
	if err != nil || !c.writer || opts.ReadOnly {
		return tx, err
	}
	if _, err := c.Conn.ExecContext(ctx, "SELECT pg_advisory_xact_lock("+strconv.FormatInt(writerLock, 10)+")", nil); err != nil {
		tx.Rollback()
		return nil, err
	}
	return tx, nil
}

// rebind numbers the ? (and ?NNN) placeholders of query for PostgreSQL, leaving those
// inside quoted strings, quoted names and comments alone.
func rebind(query string) string {
	if !strings.Contains(query, "?") {
		return query
	}
	var b strings.Builder
	b.Grow(len(query) + 16)
	n := 0
	for i := 0; i < len(query); i++ {
		ch := query[i]
		switch {
		case ch == '\'' || ch == '"':
			j := i + 1
			for j < len(query) && query[j] != ch {
				j++
			}
			if j >= len(query) {
				b.WriteString(query[i:])
				return b.String()
			}
			b.WriteString(query[i : j+1])
			i = j
		case ch == '-' && i+1 < len(query) && query[i+1] == '-':
			j := strings.IndexByte(query[i:], '\n')
			if j < 0 {
				b.WriteString(query[i:])
				return b.String()
			}
			b.WriteString(query[i : i+j+1])
			i += j
		case ch == '?':
			// ?NNN names parameter NNN, as in SQLite; a bare ? is the one
			// after the highest so far.
			j := i + 1
			for j < len(query) && query[j] >= '0' && query[j] <= '9' {
				j++
			}
			if j > i+1 {
				k, _ := strconv.Atoi(query[i+1 : j])
				n = max(n, k)
				b.WriteByte('$')
				b.WriteString(query[i+1 : j])
				i = j - 1
				continue
			}
			n++
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(n))
		default:
			b.WriteByte(ch)
		}
	}
	return b.String()
}
