package subscribers

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"math"
	"time"
)

// Purpose says what a token lets its holder do. A token made for one
// purpose is refused for every other.
type Purpose byte

// The purposes of the links tidings mails.
const (
	PurposeConfirm Purpose = iota + 1
	PurposeUnsubscribe
	PurposePreferences
)

// Errors from Tokens.Check.
var (
	ErrTokenInvalid = errors.New("link is not valid")
	ErrTokenExpired = errors.New("link has expired")
)

// macLen is the truncated HMAC-SHA256 length: 128 bits is far beyond what
// an attacker can guess online, and keeps links short.
const macLen = 16

// tokenEncoding is strict so that every token has one spelling: a changed
// character never decodes to the same bytes.
var tokenEncoding = base64.RawURLEncoding.Strict()

// Tokens makes and checks the signed links in mails: a token carries its
// purpose, a subscriber id and an expiry, and an HMAC over them, so no
// table of tokens is kept.
type Tokens struct {
	key []byte
	now func() time.Time
}

// NewTokens returns Tokens signing with secret (see LoadSecret). now is
// time.Now unless a test sets a clock.
func NewTokens(secret []byte, now func() time.Time) *Tokens {
	if now == nil {
		now = time.Now
	}
	return &Tokens{key: append([]byte(nil), secret...), now: now}
}

// Make returns a URL-safe token for purpose p and subscriber id, valid for
// ttl; ttl 0 makes one that never expires, for the unsubscribe and
// preferences links every mail carries.
func (t *Tokens) Make(p Purpose, id int64, ttl time.Duration) string {
	var exp uint64
	if ttl > 0 {
		// Rounded up to the second: a token never expires early.
		exp = uint64(t.now().Add(ttl + time.Second - 1).Unix())
	}
	b := make([]byte, 0, 1+2*binary.MaxVarintLen64+macLen)
	b = append(b, byte(p))
	b = binary.AppendUvarint(b, uint64(id))
	b = binary.AppendUvarint(b, exp)
	b = append(b, t.mac(b)...)
	return tokenEncoding.EncodeToString(b)
}

// Check returns the subscriber id of a token made for purpose p. It returns
// ErrTokenInvalid for anything not made by Make with this secret and
// purpose, and ErrTokenExpired for a genuine token past its time.
func (t *Tokens) Check(p Purpose, token string) (int64, error) {
	// The longest genuine token is 1+10+10+16 bytes: 50 characters.
	if len(token) > 64 {
		return 0, ErrTokenInvalid
	}
	// The decoder skips CR and LF; a token must have one spelling only.
	for i := 0; i < len(token); i++ {
		if c := token[i]; !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_') {
			return 0, ErrTokenInvalid
		}
	}
	b, err := tokenEncoding.DecodeString(token)
	if err != nil || len(b) < 1+1+1+macLen {
		return 0, ErrTokenInvalid
	}
	payload, sum := b[:len(b)-macLen], b[len(b)-macLen:]
	if !hmac.Equal(sum, t.mac(payload)) {
		return 0, ErrTokenInvalid
	}
	// Only what this secret signed gets here; the checks below stop a
	// token of another purpose, or one signed by a later format.
	if Purpose(payload[0]) != p {
		return 0, ErrTokenInvalid
	}
	id, n := binary.Uvarint(payload[1:])
	if n <= 0 || id == 0 || id > math.MaxInt64 {
		return 0, ErrTokenInvalid
	}
	exp, m := binary.Uvarint(payload[1+n:])
	if m <= 0 || 1+n+m != len(payload) {
		return 0, ErrTokenInvalid
	}
	if exp != 0 && uint64(t.now().Unix()) >= exp {
		return 0, ErrTokenExpired
	}
	return int64(id), nil
}

// mac signs payload, prefixed with a version label so that a later format
// never accepts these bytes as its own.
func (t *Tokens) mac(payload []byte) []byte {
	h := hmac.New(sha256.New, t.key)
	h.Write([]byte("tidings token v1\x00"))
	h.Write(payload)
	return h.Sum(nil)[:macLen]
}
