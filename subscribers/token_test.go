package subscribers

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/tidings/tidings/internal/database"
	"github.com/tidings/tidings/internal/database/databasetest"
)

var testSecret = []byte("0123456789abcdef0123456789abcdef")

func newTestTokens() (*Tokens, *testClock) {
	clock := &testClock{t: time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)}
	return NewTokens(testSecret, clock.Now), clock
}

// nonces stands in for the store: the token nonce of each subscriber
// there, every other id gone.
type nonces map[int64]uint64

func (n nonces) of(id int64) (uint64, error) {
	v, ok := n[id]
	if !ok {
		return 0, ErrNotFound
	}
	return v, nil
}

func TestTokens_RoundTrip(t *testing.T) {
	tk, _ := newTestTokens()
	ns := nonces{1: 0, 300: 1<<64 - 1, 1 << 40: 42, 1<<63 - 1: 0x8000000000000000}
	for _, p := range []Purpose{PurposeConfirm, PurposeUnsubscribe, PurposePreferences} {
		for id, nonce := range ns {
			for _, ttl := range []time.Duration{0, 72 * time.Hour} {
				tok := tk.Make(p, id, nonce, ttl)
				if len(tok) >= 48 || strings.Trim(tok, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_") != "" {
					t.Errorf("token %q: %d characters, want fewer than 48 URL-safe ones", tok, len(tok))
				}
				got, err := tk.Check(p, tok, ns.of)
				if err != nil || got != id {
					t.Errorf("Check(%d, Make(%d, %d, %v)) = %d, %v", p, p, id, ttl, got, err)
				}
				for _, other := range []Purpose{PurposeConfirm, PurposeUnsubscribe, PurposePreferences} {
					if other == p {
						continue
					}
					if _, err := tk.Check(other, tok, ns.of); !errors.Is(err, ErrTokenInvalid) {
						t.Errorf("a purpose %d token checked for %d: %v", p, other, err)
					}
				}
			}
		}
	}
}

func TestTokens_Expiry(t *testing.T) {
	tk, clock := newTestTokens()
	ns := nonces{7: 99}
	confirm := tk.Make(PurposeConfirm, 7, 99, 72*time.Hour)
	unsub := tk.Make(PurposeUnsubscribe, 7, 99, 0)
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
		if _, err := tk.Check(PurposeConfirm, confirm, ns.of); !errors.Is(err, tt.want) {
			t.Errorf("after %v: %v, want %v", tt.after, err, tt.want)
		}
	}
	clock.t = start.Add(10 * 365 * 24 * time.Hour)
	if id, err := tk.Check(PurposeUnsubscribe, unsub, ns.of); err != nil || id != 7 {
		t.Errorf("a ttl 0 token expired: %d, %v", id, err)
	}
	// A subscriber that is gone takes its expired links with it: invalid,
	// not expired, as nothing tells them from forged ones.
	if _, err := tk.Check(PurposeConfirm, confirm, nonces{}.of); !errors.Is(err, ErrTokenInvalid) {
		t.Errorf("an expired token of a forgotten subscriber: %v", err)
	}
}

func TestTokens_Altered(t *testing.T) {
	tk, clock := newTestTokens()
	ns := nonces{12345: 7, 12344: 7, 12346: 7, 1: 7}
	tok := tk.Make(PurposeConfirm, 12345, 7, time.Hour)
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	clock.Advance(2 * time.Hour) // expired: an altered token must still say invalid
	for i := range len(tok) {
		for _, c := range alphabet {
			if byte(c) == tok[i] {
				continue
			}
			bad := tok[:i] + string(c) + tok[i+1:]
			if _, err := tk.Check(PurposeConfirm, bad, ns.of); !errors.Is(err, ErrTokenInvalid) {
				t.Fatalf("%q (character %d changed) gave %v, want ErrTokenInvalid", bad, i, err)
			}
		}
	}
	for _, bad := range []string{"", "x", tok + "A", tok[:len(tok)-1], tok + "==", tok[:5] + "\r\n" + tok[5:], tok + "\n", " " + tok, strings.Repeat("A", 40), strings.Repeat("A", 5000), "a b", "%%%"} {
		if _, err := tk.Check(PurposeConfirm, bad, ns.of); !errors.Is(err, ErrTokenInvalid) {
			t.Errorf("Check(%.20q) = %v, want ErrTokenInvalid", bad, err)
		}
	}
	other := NewTokens([]byte("another secret, 32 bytes long..."), clock.Now)
	if _, err := other.Check(PurposeUnsubscribe, tk.Make(PurposeUnsubscribe, 1, 7, 0), ns.of); !errors.Is(err, ErrTokenInvalid) {
		t.Errorf("a token from another secret: %v", err)
	}
}

// A token checks only against the nonce it was made with: not after the
// subscriber's nonce was renewed (a replay), not for another subscriber
// with the same nonce, not for an id that is gone.
func TestTokens_BoundToNonce(t *testing.T) {
	tk, _ := newTestTokens()
	for _, p := range []Purpose{PurposeConfirm, PurposeUnsubscribe, PurposePreferences} {
		tok := tk.Make(p, 5, 1000, time.Hour)
		if id, err := tk.Check(p, tok, nonces{5: 1000}.of); err != nil || id != 5 {
			t.Fatalf("purpose %d: %d, %v", p, id, err)
		}
		for name, ns := range map[string]nonces{
			"renewed":         {5: 1001},
			"renewed to 0":    {5: 0},
			"one bit flipped": {5: 1000 ^ 1<<63},
			"forgotten":       {6: 1000},
			"none at all":     {},
		} {
			if id, err := tk.Check(p, tok, ns.of); !errors.Is(err, ErrTokenInvalid) {
				t.Errorf("purpose %d, nonce %s: %d, %v; want ErrTokenInvalid", p, name, id, err)
			}
		}
		// Another subscriber's token, with that subscriber's own nonce,
		// says that subscriber and no other.
		other := tk.Make(p, 6, 1000, time.Hour)
		if id, err := tk.Check(p, other, nonces{5: 1000, 6: 1000}.of); err != nil || id != 6 {
			t.Errorf("purpose %d, subscriber 6: %d, %v", p, id, err)
		}
	}
	// A store that fails is not a bad link: its error comes back.
	broken := errors.New("database is locked")
	_, err := tk.Check(PurposeUnsubscribe, tk.Make(PurposeUnsubscribe, 5, 1, 0), func(int64) (uint64, error) { return 0, broken })
	if !errors.Is(err, broken) || errors.Is(err, ErrTokenInvalid) {
		t.Errorf("store failure: %v", err)
	}
	// Nothing of the wrong purpose or shape costs a look-up.
	for _, bad := range []string{tk.Make(PurposeConfirm, 5, 1, 0), "garbage", ""} {
		if _, err := tk.Check(PurposeUnsubscribe, bad, func(int64) (uint64, error) {
			t.Errorf("nonce looked up for %q", bad)
			return 1, nil
		}); !errors.Is(err, ErrTokenInvalid) {
			t.Errorf("%q: %v", bad, err)
		}
	}
}

func FuzzTokenCheck(f *testing.F) {
	tk, _ := newTestTokens()
	// Every id is there, so every input that parses is checked against a
	// MAC; the ids of the genuine tokens have their own nonces.
	nonceOf := func(id int64) (uint64, error) { return uint64(id) * 0x9E3779B97F4A7C15, nil }
	nonce := func(id int64) uint64 { n, _ := nonceOf(id); return n }
	valid := []string{tk.Make(PurposeConfirm, 1, nonce(1), time.Hour), tk.Make(PurposeUnsubscribe, 1<<40, nonce(1<<40), 0),
		tk.Make(PurposePreferences, 99, nonce(99), 0)}
	for i, v := range valid {
		f.Add(v, i, byte(1))
	}
	f.Add("", 0, byte(0))
	f.Add("AQEA", 3, byte(7))
	f.Fuzz(func(t *testing.T, s string, pos int, delta byte) {
		// Random input never validates, for any purpose.
		for _, p := range []Purpose{PurposeConfirm, PurposeUnsubscribe, PurposePreferences} {
			if id, err := tk.Check(p, s, nonceOf); err == nil && !isValid(valid, s) {
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
			if _, err := tk.Check(p, string(b), nonceOf); err == nil {
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
	path := databasetest.Where(t)
	db, err := database.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	first, err := LoadSecret(ctx, db, "")
	if err != nil || len(first) != 32 {
		t.Fatalf("LoadSecret = %x, %v", first, err)
	}
	db.Close()

	// Another process, later, on the same file agrees.
	db, err = database.Open(ctx, path)
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
	tok := NewTokens(first, clock.Now).Make(PurposeUnsubscribe, 5, 77, 0)
	if id, err := NewTokens(again, clock.Now).Check(PurposeUnsubscribe, tok, nonces{5: 77}.of); err != nil || id != 5 {
		t.Errorf("after restart: %d, %v", id, err)
	}
}

// makeV1 builds a token in the first format, with no nonce: purpose, id,
// expiry and an HMAC labelled "tidings token v1".
func makeV1(key []byte, p Purpose, id int64, exp uint64) string {
	b := []byte{byte(p)}
	b = binary.AppendUvarint(b, uint64(id))
	b = binary.AppendUvarint(b, exp)
	h := hmac.New(sha256.New, key)
	h.Write([]byte("tidings token v1\x00"))
	h.Write(b)
	return tokenEncoding.EncodeToString(append(b, h.Sum(nil)[:macLen]...))
}

// A link mailed before nonces existed names an id that may since have
// gone to someone else: it never checks.
func TestTokens_OldFormatRefused(t *testing.T) {
	tk, _ := newTestTokens()
	// Whatever nonce the subscriber has, 0 (the column's default) too.
	for _, ns := range []nonces{{7: 0}, {7: 12345}} {
		for _, p := range []Purpose{PurposeConfirm, PurposeUnsubscribe, PurposePreferences} {
			for _, exp := range []uint64{0, uint64(time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC).Unix())} {
				tok := makeV1(testSecret, p, 7, exp)
				if id, err := tk.Check(p, tok, ns.of); !errors.Is(err, ErrTokenInvalid) {
					t.Errorf("a v1 token for purpose %d, expiry %d, nonce %d: %d, %v; want ErrTokenInvalid", p, exp, ns[7], id, err)
				}
			}
		}
	}
}

// Mail sent before tokens bound a nonce must keep its way out: old
// unsubscribe links work for the ids that existed then, and nothing else
// of the old format does.
func TestTokens_OldUnsubscribeLinksKeepWorking(t *testing.T) {
	tk, _ := newTestTokens()
	tk.AcceptOldUnsubscribe(7)
	ns := nonces{7: 12345, 8: 99}
	if id, err := tk.Check(PurposeUnsubscribe, makeV1(testSecret, PurposeUnsubscribe, 7, 0), ns.of); err != nil || id != 7 {
		t.Errorf("old unsubscribe link of id 7: %d, %v; want 7", id, err)
	}
	for _, c := range []struct {
		p  Purpose
		id int64
	}{{PurposeUnsubscribe, 8}, {PurposePreferences, 7}, {PurposeConfirm, 7}} {
		if _, err := tk.Check(c.p, makeV1(testSecret, c.p, c.id, 0), ns.of); !errors.Is(err, ErrTokenInvalid) {
			t.Errorf("old token purpose %d id %d: %v; want ErrTokenInvalid", c.p, c.id, err)
		}
	}
	// Forged with another secret: refused.
	if _, err := tk.Check(PurposeUnsubscribe, makeV1([]byte("another secret, 32 bytes long..."), PurposeUnsubscribe, 7, 0), ns.of); !errors.Is(err, ErrTokenInvalid) {
		t.Errorf("old-format token under another secret: %v", err)
	}
}

// BenchmarkTokensMake is one token, of the several each message of a
// digest carries (unsubscribe, preferences, the mailto address).
func BenchmarkTokensMake(b *testing.B) {
	tk, _ := newTestTokens()
	for i := 0; b.Loop(); i++ {
		tk.Make(PurposeConfirm, int64(i), 42, 0)
	}
}
