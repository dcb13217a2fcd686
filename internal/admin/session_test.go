package admin

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"
)

func newTestStore(t testing.TB) (*Store, *clock, *Account) {
	t.Helper()
	c := &clock{t: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)}
	s := NewStore(openDB(t), c.Now)
	s.Params = cheap
	s.Idle, s.Max = time.Hour, 8*time.Hour
	acct, err := s.AddAccount(context.Background(), ownerEmail, ownerPW)
	if err != nil {
		t.Fatal(err)
	}
	return s, c, acct
}

func TestSession_IdleAndAbsoluteExpiry(t *testing.T) {
	ctx := context.Background()
	s, c, acct := newTestStore(t)
	ses, err := s.CreateSession(ctx, acct.ID, "192.0.2.1", "test")
	if err != nil {
		t.Fatal(err)
	}
	// Requests every 50 minutes keep it alive past the idle time ...
	for range 9 {
		c.Advance(50 * time.Minute)
		if _, err := s.Session(ctx, ses.id); err != nil {
			t.Fatalf("at %s after login: %v", c.Now().Sub(ses.CreatedAt), err)
		}
	}
	// ... but not past the absolute one (10 × 50 min > 8 h).
	c.Advance(50 * time.Minute)
	if _, err := s.Session(ctx, ses.id); !errors.Is(err, ErrNoSession) {
		t.Fatalf("past the absolute expiry: %v, want ErrNoSession", err)
	}

	idle, _ := s.CreateSession(ctx, acct.ID, "192.0.2.1", "test")
	c.Advance(59 * time.Minute)
	if _, err := s.Session(ctx, idle.id); err != nil {
		t.Fatalf("within the idle time: %v", err)
	}
	c.Advance(61 * time.Minute)
	if _, err := s.Session(ctx, idle.id); !errors.Is(err, ErrNoSession) {
		t.Fatalf("idle for 61 minutes: %v, want ErrNoSession", err)
	}
	// Expired sessions are gone from the table, not just refused.
	var n int
	s.db.Read.QueryRow(`SELECT count(*) FROM admin_sessions`).Scan(&n)
	if n != 0 {
		t.Errorf("%d expired sessions left in the table", n)
	}
}

func TestSession_RevokedOnLogoutAndPasswordChange(t *testing.T) {
	ctx := context.Background()
	s, _, acct := newTestStore(t)
	a, _ := s.CreateSession(ctx, acct.ID, "192.0.2.1", "")
	b, _ := s.CreateSession(ctx, acct.ID, "192.0.2.2", "")
	if err := s.EndSession(ctx, a.id); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Session(ctx, a.id); !errors.Is(err, ErrNoSession) {
		t.Fatalf("after logout: %v", err)
	}
	if _, err := s.Session(ctx, b.id); err != nil {
		t.Fatalf("logging out one browser ended the other: %v", err)
	}
	other, _ := s.AddAccount(ctx, "other@example.org", "another password")
	c, _ := s.CreateSession(ctx, other.ID, "", "")
	if err := s.SetPassword(ctx, ownerEmail, "a new password here"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Session(ctx, b.id); !errors.Is(err, ErrNoSession) {
		t.Fatalf("after a password change: %v", err)
	}
	if _, err := s.Session(ctx, c.id); err != nil {
		t.Fatalf("another account's session ended: %v", err)
	}
	if _, err := s.Authenticate(ctx, ownerEmail, ownerPW); !errors.Is(err, ErrBadLogin) {
		t.Errorf("old password: %v", err)
	}
	if _, err := s.Authenticate(ctx, ownerEmail, "a new password here"); err != nil {
		t.Errorf("new password: %v", err)
	}
	if err := s.RemoveAccount(ctx, "other@example.org"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Session(ctx, c.id); !errors.Is(err, ErrNoSession) {
		t.Fatalf("a removed account's session lives: %v", err)
	}
}

func TestSession_OnlyHashStored(t *testing.T) {
	ctx := context.Background()
	s, _, acct := newTestStore(t)
	ses, _ := s.CreateSession(ctx, acct.ID, "", "")
	if len(ses.id) < 43 {
		t.Fatalf("session id %q is shorter than 32 bytes in base64", ses.id)
	}
	var stored string
	s.db.Read.QueryRow(`SELECT id_hash FROM admin_sessions`).Scan(&stored)
	if stored == ses.id || strings.Contains(stored, ses.id) || stored != hashID(ses.id) {
		t.Fatalf("stored %q for id %q: want its SHA-256 only", stored, ses.id)
	}
	// The hash itself, as a cookie, logs nobody in; nor does a cookie
	// from another database.
	for _, id := range []string{stored, "", "x", strings.Repeat("a", 43)} {
		if _, err := s.Session(ctx, id); !errors.Is(err, ErrNoSession) {
			t.Errorf("cookie %q: %v, want ErrNoSession", id, err)
		}
	}
	other, _, _ := newTestStore(t)
	if _, err := other.Session(ctx, ses.id); !errors.Is(err, ErrNoSession) {
		t.Errorf("another database took the cookie: %v", err)
	}
}

func TestAccounts_BadInput(t *testing.T) {
	ctx := context.Background()
	s, _, _ := newTestStore(t)
	for _, tt := range []struct{ email, pw, want string }{
		{"not an address", "long enough password", "is not an email address"},
		{"Ana <ana@example.org>", "long enough password", "is not an email address"},
		{"ana@example.org", "short", "needs at least 10"},
		{"OWNER@example.org", "long enough password", "exists"},
	} {
		if _, err := s.AddAccount(ctx, tt.email, tt.pw); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("add %q %q: %v, want %q", tt.email, tt.pw, err, tt.want)
		}
	}
	if err := s.SetPassword(ctx, "nobody@example.org", "long enough password"); !errors.Is(err, ErrNoAccount) {
		t.Errorf("passwd of nobody: %v", err)
	}
	if err := s.RemoveAccount(ctx, "nobody@example.org"); !errors.Is(err, ErrNoAccount) {
		t.Errorf("remove nobody: %v", err)
	}
	if _, err := s.Authenticate(ctx, "nobody@example.org", ownerPW); !errors.Is(err, ErrBadLogin) {
		t.Errorf("login as nobody: %v", err)
	}
}
