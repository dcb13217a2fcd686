package admin

import (
	"context"
	"fmt"
	"time"
)

// AuditEntry is one line of the audit log: who did what, when, from where.
type AuditEntry struct {
	ID      int64
	At      time.Time
	Account string // the operator's address; "cli" for a command on the server
	Action  string // "login", "login.failed", "logout", "password", or a page's own
	Detail  string
	IP      string
}

// maxDetail bounds an entry's detail.
const maxDetail = 1000

// Audit appends e to the audit log; a zero At is now.
func (s *Store) Audit(ctx context.Context, e AuditEntry) error {
	if e.At.IsZero() {
		e.At = s.now()
	}
	if len(e.Detail) > maxDetail {
		e.Detail = e.Detail[:maxDetail]
	}
	if len(e.Account) > 320 {
		e.Account = e.Account[:320]
	}
	_, err := s.db.Write.ExecContext(ctx, `INSERT INTO admin_audit (at, account, action, detail, ip) VALUES (?, ?, ?, ?, ?)`,
		nanos(e.At), e.Account, e.Action, e.Detail, e.IP)
	if err != nil {
		return fmt.Errorf("write audit log: %w", err)
	}
	return nil
}

// AuditLog returns up to n entries, newest first, older than the entry
// with id before (0: from the newest).
func (s *Store) AuditLog(ctx context.Context, before int64, n int) ([]AuditEntry, error) {
	q := `SELECT id, at, account, action, detail, ip FROM admin_audit ORDER BY id DESC LIMIT ?`
	args := []any{n}
	if before > 0 {
		q = `SELECT id, at, account, action, detail, ip FROM admin_audit WHERE id < ? ORDER BY id DESC LIMIT ?`
		args = []any{before, n}
	}
	rows, err := s.db.Read.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("read audit log: %w", err)
	}
	defer rows.Close()
	var out []AuditEntry
	for rows.Next() {
		var e AuditEntry
		var at int64
		if err := rows.Scan(&e.ID, &at, &e.Account, &e.Action, &e.Detail, &e.IP); err != nil {
			return nil, fmt.Errorf("read audit log: %w", err)
		}
		e.At = fromNanos(at)
		out = append(out, e)
	}
	return out, rows.Err()
}
