package subscribers

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tidings/tidings/internal/sqlite"
)

var testSecret = []byte("0123456789abcdef0123456789abcdef")

func newTestTokens() (*Tokens, *testClock) {
	clock := &testClock{t: time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)}
	return NewTokens(testSecret, clock.Now), clock
}

func TestTokens_RoundTrip(t *testing.T) {
	tk, _ := newTestTokens()
	for _, p := range []Purpose{PurposeConfirm, PurposeUnsubscribe, PurposePreferences} {
		for _, id := range []int64{1, 300, 1 << 40, 1<<63 - 1} {
			for _, ttl := range []time.Duration{0, 72 * time.Hour} {
				tok := tk.Make(p, id, ttl)
				if len(tok) >= 48 || strings.Trim(tok, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_") != "" {
					t.Errorf("token %q: %d characters, want fewer than 48 URL-safe ones", tok, len(tok))
				}
				got, err := tk.Check(p, tok)
				if err != nil || got != id {
					t.Errorf("Check(%d, Make(%d, %d, %v)) = %d, %v", p, p, id, ttl, got, err)
				}
				for _, other := range []Purpose{PurposeConfirm, PurposeUnsubscribe, PurposePreferences} {
					if other == p {
						continue
					}
					if _, err := tk.Check(other, tok); !errors.Is(err, ErrTokenInvalid) {
						t.Errorf("a purpose %d token checked for %d: %v", p, other, err)
					}
				}
			}
		}
	}
}

func TestTokens_Expiry(t *testing.T) {
	tk, clock := newTestTokens()
	confirm := tk.Make(PurposeConfirm, 7, 72*time.Hour)
	unsub := tk.Make(PurposeUnsubscribe, 7, 0)
	tests := []struct {
		after time.Duration
		want  error
	}{
		{0, nil},
		{72*time.Hour - time.Second, nil},
		{72 * time.Hour, ErrTokenExpired},
		{365 * 24 * time.Hour, ErrTokenExpired},
	}
	start := clock.t
	for _, tt := range tests {
		clock.t = start.Add(tt.after)
		if _, err := tk.Check(PurposeConfirm, confirm); !errors.Is(err, tt.want) {
			t.Errorf("after %v: %v, want %v", tt.after, err, tt.want)
		}
	}
	clock.t = start.Add(10 * 365 * 24 * time.Hour)
	if id, err := tk.Check(PurposeUnsubscribe, unsub); err != nil || id != 7 {
		t.Errorf("a ttl 0 token expired: %d, %v", id, err)
	}
}

func TestTokens_Altered(t *testing.T) {
	tk, clock := newTestTokens()
	tok := tk.Make(PurposeConfirm, 12345, time.Hour)
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	clock.Advance(2 * time.Hour) // expired: an altered token must still say invalid
	for i := range len(tok) {
		for _, c := range alphabet {
			if byte(c) == tok[i] {
				continue
			}
			bad := tok[:i] + string(c) + tok[i+1:]
			if _, err := tk.Check(PurposeConfirm, bad); !errors.Is(err, ErrTokenInvalid) {
				t.Fatalf("%q (character %d changed) gave %v, want ErrTokenInvalid", bad, i, err)
			}
		}
	}
	for _, bad := range []string{"", "x", tok + "A", tok[:len(tok)-1], tok + "==", tok[:5] + "\r\n" + tok[5:], tok + "\n", " " + tok, strings.Repeat("A", 40), strings.Repeat("A", 5000), "a b", "%%%"} {
		if _, err := tk.Check(PurposeConfirm, bad); !errors.Is(err, ErrTokenInvalid) {
			t.Errorf("Check(%.20q) = %v, want ErrTokenInvalid", bad, err)
		}
	}
	other := NewTokens([]byte("another secret, 32 bytes long..."), clock.Now)
	if _, err := other.Check(PurposeUnsubscribe, tk.Make(PurposeUnsubscribe, 1, 0)); !errors.Is(err, ErrTokenInvalid) {
		t.Errorf("a token from another secret: %v", err)
	}
}

func FuzzTokenCheck(f *testing.F) {
	tk, _ := newTestTokens()
	valid := []string{tk.Make(PurposeConfirm, 1, time.Hour), tk.Make(PurposeUnsubscribe, 1<<40, 0), tk.Make(PurposePreferences, 99, 0)}
	for i, v := range valid {
		f.Add(v, i, byte(1))
	}
	f.Add("", 0, byte(0))
	f.Add("AQEA", 3, byte(7))
	f.Fuzz(func(t *testing.T, s string, pos int, delta byte) {
		// Random input never validates, for any purpose.
		for _, p := range []Purpose{PurposeConfirm, PurposeUnsubscribe, PurposePreferences} {
			if id, err := tk.Check(p, s); err == nil && !isValid(valid, s) {
				t.Fatalf("random %q validated as %d for purpose %d", s, id, p)
			}
		}
		// A genuine token with one byte changed never validates.
		v := valid[(pos%len(valid)+len(valid))%len(valid)]
		if delta == 0 {
			delta = 1
		}
		b := []byte(v)
		i := (pos%len(b) + len(b)) % len(b)
		b[i] += delta
		for _, p := range []Purpose{PurposeConfirm, PurposeUnsubscribe, PurposePreferences} {
			if _, err := tk.Check(p, string(b)); err == nil {
				t.Fatalf("%q with byte %d changed to %q validated", v, i, b)
			}
		}
	})
}

func isValid(valid []string, s string) bool {
	for _, v := range valid {
		if v == s {
			return true
		}
	}
	return false
}

func TestLoadSecret(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "tidings.db")
	db, err := sqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	first, err := LoadSecret(ctx, db, "")
	if err != nil || len(first) != 32 {
		t.Fatalf("LoadSecret = %x, %v", first, err)
	}
	db.Close()

	// Another process, later, on the same file agrees.
	db, err = sqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	again, err := LoadSecret(ctx, db, "")
	if err != nil || string(again) != string(first) {
		t.Errorf("second LoadSecret = %x, %v; want %x", again, err, first)
	}
	env := "from the environment, long enough"
	if got, err := LoadSecret(ctx, db, env); err != nil || string(got) != env {
		t.Errorf("from env: %q, %v", got, err)
	}
	if _, err := LoadSecret(ctx, db, "short"); err == nil || !strings.Contains(err.Error(), "at least 16") {
		t.Errorf("a short secret: %v", err)
	}
	// Links made before a restart still work after it.
	clock := &testClock{t: time.Now()}
	tok := NewTokens(first, clock.Now).Make(PurposeUnsubscribe, 5, 0)
	if id, err := NewTokens(again, clock.Now).Check(PurposeUnsubscribe, tok); err != nil || id != 5 {
		t.Errorf("after restart: %d, %v", id, err)
	}
}
