package admin

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"database/sql"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"time"
)

// Session is one logged-in browser.
type Session struct {
	AccountID int64
	Account   string // the account's address
	CreatedAt time.Time
	// CSRF is the token every form of this session carries (see csrf.go).
	CSRF string

	id string // the cookie's value; never stored
}

// touchEvery is how stale seen_at may get before a request writes it:
// an idle expiry is exact to within this, and a page view costs no write.
const touchEvery = time.Minute

// newSecret returns 32 random bytes, base64url.
func newSecret() (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("random: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// hashID is what the database keeps of a session id.
func hashID(id string) string {
	h := sha256.Sum256([]byte(id))
	return hex.EncodeToString(h[:])
}

// csrfToken is the form token of the browser holding secret (a session
// id, or the login page's pre-session cookie): an HMAC of it, so it need
// not be stored and no other session's token matches.
func csrfToken(secret string) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte("tidings admin csrf"))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// validCSRF reports, in constant time, whether token is secret's.
func validCSRF(secret, token string) bool {
	return secret != "" && subtle.ConstantTimeCompare([]byte(csrfToken(secret)), []byte(token)) == 1
}

func (s *Store) cutoffs() (idle, max int64) {
	now := s.now()
	return nanos(now.Add(-s.Idle)), nanos(now.Add(-s.Max))
}

// CreateSession logs account in from ip with ua, and returns the id to
// set in the cookie. Sessions past their expiry are swept on the way.
func (s *Store) CreateSession(ctx context.Context, accountID int64, ip, ua string) (*Session, error) {
	id, err := newSecret()
	if err != nil {
		return nil, err
	}
	now := s.now()
	cutIdle, cutMax := s.cutoffs()
	var email string
	err = s.inTx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM admin_sessions WHERE seen_at < ? OR created_at < ?`, cutIdle, cutMax); err != nil {
			return fmt.Errorf("sweep sessions: %w", err)
		}
		if err := tx.QueryRowContext(ctx, `SELECT email FROM admin_accounts WHERE id = ?`, accountID).Scan(&email); err != nil {
			if errors.Is(err, sql.ErrNoRows) {
				return ErrNoAccount
			}
			return fmt.Errorf("create session: %w", err)
		}
		if len(ua) > 512 {
			ua = ua[:512]
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO admin_sessions (id_hash, account_id, created_at, seen_at, ip, user_agent)
			VALUES (?, ?, ?, ?, ?, ?)`, hashID(id), accountID, nanos(now), nanos(now), ip, ua)
		if err != nil {
			return fmt.Errorf("create session: %w", err)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &Session{AccountID: accountID, Account: email, CreatedAt: now.UTC(), CSRF: csrfToken(id), id: id}, nil
}

// Session returns the live session whose cookie holds id. An unknown id
// (logged out, swept, from another database) or one past its idle or
// absolute expiry is ErrNoSession; an expired one is deleted.
func (s *Store) Session(ctx context.Context, id string) (*Session, error) {
	if id == "" || len(id) > 128 {
		return nil, ErrNoSession
	}
	h := hashID(id)
	var ses Session
	var created, seen int64
	err := s.db.Read.QueryRowContext(ctx, `SELECT s.account_id, a.email, s.created_at, s.seen_at
		FROM admin_sessions s JOIN admin_accounts a ON a.id = s.account_id WHERE s.id_hash = ?`, h).
		Scan(&ses.AccountID, &ses.Account, &created, &seen)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNoSession
	}
	if err != nil {
		return nil, fmt.Errorf("read session: %w", err)
	}
	now := s.now()
	cutIdle, cutMax := s.cutoffs()
	if seen < cutIdle || created < cutMax {
		if _, err := s.db.Write.ExecContext(ctx, `DELETE FROM admin_sessions WHERE id_hash = ?`, h); err != nil {
			return nil, fmt.Errorf("end expired session: %w", err)
		}
		return nil, ErrNoSession
	}
	if now.Sub(fromNanos(seen)) >= touchEvery {
		if _, err := s.db.Write.ExecContext(ctx, `UPDATE admin_sessions SET seen_at = ? WHERE id_hash = ?`, nanos(now), h); err != nil {
			return nil, fmt.Errorf("touch session: %w", err)
		}
	}
	ses.CreatedAt = fromNanos(created)
	ses.CSRF = csrfToken(id)
	ses.id = id
	return &ses, nil
}

// EndSession logs the session with this id out. An unknown id is no error.
func (s *Store) EndSession(ctx context.Context, id string) error {
	if _, err := s.db.Write.ExecContext(ctx, `DELETE FROM admin_sessions WHERE id_hash = ?`, hashID(id)); err != nil {
		return fmt.Errorf("end session: %w", err)
	}
	return nil
}
