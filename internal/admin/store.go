package admin

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/mail"
	"strings"
	"sync"
	"time"

	"github.com/tidings/tidings/internal/database"
)

// Store keeps the admin's tables: admin_accounts, admin_sessions,
// admin_audit and admin_login_failures. Times are Unix nanoseconds.
type Store struct {
	db  *database.DB
	now func() time.Time
	// Params hash new passwords; tests lower them.
	Params Params
	// Idle and Max end a session: Idle after its last request, Max after
	// its login, whichever comes first.
	Idle, Max time.Duration
}

// Default session lifetimes.
const (
	DefaultIdle = 2 * time.Hour
	DefaultMax  = 7 * 24 * time.Hour
)

// MinPasswordLen is the shortest password an account may have.
const MinPasswordLen = 10

// Errors of the account and session methods.
var (
	ErrNoAccount     = errors.New("no such admin account")
	ErrAccountExists = errors.New("an admin account with that address exists")
	ErrBadLogin      = errors.New("wrong email or password")
	ErrNoSession     = errors.New("no session: logged out, expired, or from another database")
)

// NewStore returns the admin store on db. now is time.Now unless a test
// sets a clock.
func NewStore(db *database.DB, now func() time.Time) *Store {
	if now == nil {
		now = time.Now
	}
	return &Store{db: db, now: now, Params: DefaultParams, Idle: DefaultIdle, Max: DefaultMax}
}

// Account is an operator who may log in.
type Account struct {
	ID        int64
	Email     string
	CreatedAt time.Time
	ChangedAt time.Time // the password's last change
	Sessions  int       // open sessions (List only)
}

func nanos(t time.Time) int64     { return t.UnixNano() }
func fromNanos(n int64) time.Time { return time.Unix(0, n).UTC() }

// checkEmail returns the address if it is one, bare (no name, no <>).
func checkEmail(email string) (string, error) {
	email = strings.TrimSpace(email)
	a, err := mail.ParseAddress(email)
	if err != nil || a.Address != email || a.Name != "" {
		return "", fmt.Errorf("%q is not an email address", email)
	}
	return email, nil
}

// checkPassword refuses a password too short to be one.
func checkPassword(pw string) error {
	if n := len([]rune(pw)); n < MinPasswordLen {
		return fmt.Errorf("the password has %d characters; it needs at least %d", n, MinPasswordLen)
	}
	if len(pw) > 1024 {
		return errors.New("the password is longer than 1024 bytes")
	}
	return nil
}

// AddAccount creates an account. A malformed address or short password is
// an error saying so; an address already there is ErrAccountExists.
func (s *Store) AddAccount(ctx context.Context, email, password string) (*Account, error) {
	email, err := checkEmail(email)
	if err != nil {
		return nil, err
	}
	if err := checkPassword(password); err != nil {
		return nil, err
	}
	hash, err := HashPassword(password, s.Params)
	if err != nil {
		return nil, err
	}
	now := s.now()
	var id int64
	err = s.db.Write.QueryRowContext(ctx, `INSERT INTO admin_accounts (email, password_hash, created_at, changed_at)
		VALUES (?, ?, ?, ?) ON CONFLICT (email) DO NOTHING RETURNING id`, email, hash, nanos(now), nanos(now)).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("%s: %w", email, ErrAccountExists)
	}
	if err != nil {
		return nil, fmt.Errorf("add admin account: %w", err)
	}
	return &Account{ID: id, Email: email, CreatedAt: now.UTC(), ChangedAt: now.UTC()}, nil
}

// SetPassword changes an account's password and ends all its sessions.
func (s *Store) SetPassword(ctx context.Context, email, password string) error {
	if err := checkPassword(password); err != nil {
		return err
	}
	hash, err := HashPassword(password, s.Params)
	if err != nil {
		return err
	}
	return s.inTx(ctx, func(tx *sql.Tx) error {
		var id int64
		err := tx.QueryRowContext(ctx, `UPDATE admin_accounts SET password_hash = ?, changed_at = ? WHERE email = ? RETURNING id`,
			hash, nanos(s.now()), strings.TrimSpace(email)).Scan(&id)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("%s: %w", email, ErrNoAccount)
		}
		if err != nil {
			return fmt.Errorf("set password: %w", err)
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM admin_sessions WHERE account_id = ?`, id); err != nil {
			return fmt.Errorf("end sessions: %w", err)
		}
		return nil
	})
}

// RemoveAccount deletes an account and, with it, its sessions. Its audit
// entries stay.
func (s *Store) RemoveAccount(ctx context.Context, email string) error {
	res, err := s.db.Write.ExecContext(ctx, `DELETE FROM admin_accounts WHERE email = ?`, strings.TrimSpace(email))
	if err != nil {
		return fmt.Errorf("remove admin account: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("%s: %w", email, ErrNoAccount)
	}
	return nil
}

// Accounts lists every account, by address, with its open sessions.
func (s *Store) Accounts(ctx context.Context) ([]Account, error) {
	cutIdle, cutMax := s.cutoffs()
	rows, err := s.db.Read.QueryContext(ctx, `SELECT a.id, a.email, a.created_at, a.changed_at,
		(SELECT count(*) FROM admin_sessions s WHERE s.account_id = a.id AND s.seen_at >= ? AND s.created_at >= ?)
		FROM admin_accounts a ORDER BY a.email`, cutIdle, cutMax)
	if err != nil {
		return nil, fmt.Errorf("list admin accounts: %w", err)
	}
	defer rows.Close()
	var out []Account
	for rows.Next() {
		var a Account
		var created, changed int64
		if err := rows.Scan(&a.ID, &a.Email, &created, &changed, &a.Sessions); err != nil {
			return nil, fmt.Errorf("list admin accounts: %w", err)
		}
		a.CreatedAt, a.ChangedAt = fromNanos(created), fromNanos(changed)
		out = append(out, a)
	}
	return out, rows.Err()
}

// CountAccounts is how many accounts there are.
func (s *Store) CountAccounts(ctx context.Context) (int, error) {
	var n int
	if err := s.db.Read.QueryRowContext(ctx, `SELECT count(*) FROM admin_accounts`).Scan(&n); err != nil {
		return 0, fmt.Errorf("count admin accounts: %w", err)
	}
	return n, nil
}

// dummyHash is verified against when no account has the address, so
// that a login for an unknown address takes as long as a wrong password.
var dummyHash = sync.OnceValue(func() string {
	h, _ := HashPassword("no account has this password", DefaultParams)
	return h
})

// Authenticate returns the account whose address and password these
// are, or ErrBadLogin, in the same time either way.
func (s *Store) Authenticate(ctx context.Context, email, password string) (*Account, error) {
	var a Account
	var hash string
	var created, changed int64
	err := s.db.Read.QueryRowContext(ctx, `SELECT id, email, password_hash, created_at, changed_at FROM admin_accounts WHERE email = ?`,
		strings.TrimSpace(email)).Scan(&a.ID, &a.Email, &hash, &created, &changed)
	if errors.Is(err, sql.ErrNoRows) {
		VerifyPassword(dummyHash(), password)
		return nil, ErrBadLogin
	}
	if err != nil {
		return nil, fmt.Errorf("find admin account: %w", err)
	}
	ok, err := VerifyPassword(hash, password)
	if err != nil {
		return nil, fmt.Errorf("account %s: %w", a.Email, err)
	}
	if !ok {
		return nil, ErrBadLogin
	}
	a.CreatedAt, a.ChangedAt = fromNanos(created), fromNanos(changed)
	return &a, nil
}

func (s *Store) inTx(ctx context.Context, fn func(tx *sql.Tx) error) error {
	tx, err := s.db.Write.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	defer tx.Rollback()
	if err := fn(tx); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}
