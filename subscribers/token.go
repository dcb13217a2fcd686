package subscribers

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base32"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"hash"
	"math"
	"strings"
	"sync"
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
	// PurposeReturn names a delivery (its id, bound to its subscriber's
	// nonce) in the envelope sender bounces+TOKEN@, so that a bounce
	// says which mail came back.
	PurposeReturn
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
// purpose, a subscriber id and an expiry, and an HMAC over them and the
// subscriber's token nonce, so no table of tokens is kept. The nonce is
// not in the token, which keeps links short: checking one needs the
// nonce the subscriber has now, so a token dies with its subscriber row
// (forget) and whenever the store renews the nonce (re-subscription,
// confirmation). Ids are never given out twice, so a token never names
// another person.
type Tokens struct {
	key []byte
	// macs holds HMACs keyed with key, reset for reuse: a digest makes
	// several tokens a reader, and a new HMAC hashes the key twice.
	macs sync.Pool // of hash.Hash
	now  func() time.Time
	// v1Unsubscribe is the highest id whose unsubscribe links were mailed
	// in the old format, before tokens bound a nonce (0: none).
	v1Unsubscribe int64
}

// AcceptOldUnsubscribe lets unsubscribe links of the old format (signed
// without a nonce, in mail sent before the upgrade) work for ids up to
// maxID, so that no one who received a mail then is left without a way
// out. Only unsubscribing: the old confirm and preferences links stay
// dead.
func (t *Tokens) AcceptOldUnsubscribe(maxID int64) { t.v1Unsubscribe = maxID }

// NewTokens returns Tokens signing with secret (see LoadSecret). now is
// time.Now unless a test sets a clock.
func NewTokens(secret []byte, now func() time.Time) *Tokens {
	if now == nil {
		now = time.Now
	}
	return &Tokens{key: append([]byte(nil), secret...), now: now}
}

// NonceFunc returns the token nonce subscriber id has now (Store.TokenNonce),
// or an error wrapping ErrNotFound when there is no such subscriber.
type NonceFunc func(id int64) (uint64, error)

// Make returns a URL-safe token for purpose p and subscriber id with the
// token nonce it has now, valid for ttl; ttl 0 makes one that never
// expires, for the unsubscribe and preferences links every mail carries.
func (t *Tokens) Make(p Purpose, id int64, nonce uint64, ttl time.Duration) string {
	var exp uint64
	if ttl > 0 {
		// Rounded up to the second: a token never expires early.
		exp = uint64(t.now().Add(ttl + time.Second - 1).Unix())
	}
	b := make([]byte, 0, 1+2*binary.MaxVarintLen64+macLen)
	b = append(b, byte(p))
	b = binary.AppendUvarint(b, uint64(id))
	b = binary.AppendUvarint(b, exp)
	b = append(b, t.mac(b, nonce)...)
	return tokenEncoding.EncodeToString(b)
}

// addressEncoding spells tokens that go in the local part of an address:
// lower-case base32, because mail systems may change the case of a local
// part, and short enough for its 64 characters.
var addressEncoding = base32.StdEncoding.WithPadding(base32.NoPadding)

// AddressToken is Make's token for purpose p and id, never expiring,
// spelt for the local part of an address (unsubscribe+TOKEN@,
// bounces+TOKEN@): at most 35 characters.
func (t *Tokens) AddressToken(p Purpose, id int64, nonce uint64) string {
	b, _ := tokenEncoding.DecodeString(t.Make(p, id, nonce, 0)) // Make's own spelling: always decodes
	return strings.ToLower(addressEncoding.EncodeToString(b))
}

// CheckAddress is Check for a token spelt by AddressToken, in any case.
func (t *Tokens) CheckAddress(p Purpose, token string, nonceOf NonceFunc) (int64, error) {
	if len(token) > 64 {
		return 0, ErrTokenInvalid
	}
	b, err := addressEncoding.DecodeString(strings.ToUpper(token))
	if err != nil || !strings.EqualFold(addressEncoding.EncodeToString(b), token) {
		return 0, ErrTokenInvalid
	}
	return t.Check(p, tokenEncoding.EncodeToString(b), nonceOf)
}

// Check returns the subscriber id of a token made for purpose p, asking
// nonceOf for that subscriber's nonce now. It returns ErrTokenInvalid for
// anything not made by Make with this secret, this purpose and that
// nonce, so for a subscriber that is gone or whose nonce was renewed
// since; ErrTokenExpired for a genuine token past its time; any other
// error of nonceOf wrapped.
func (t *Tokens) Check(p Purpose, token string, nonceOf NonceFunc) (int64, error) {
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
	// Nothing read here is trusted until the MAC checks; it only says
	// whose nonce to ask for, and spares the store a look-up for a token
	// of another purpose or of no shape at all.
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
	nonce, err := nonceOf(int64(id))
	if errors.Is(err, ErrNotFound) {
		return 0, ErrTokenInvalid
	}
	if err != nil {
		return 0, fmt.Errorf("check token: %w", err)
	}
	if !hmac.Equal(sum, t.mac(payload, nonce)) {
		if p != PurposeUnsubscribe || int64(id) > t.v1Unsubscribe || !hmac.Equal(sum, t.macV1(payload)) {
			return 0, ErrTokenInvalid
		}
	}
	if exp != 0 && uint64(t.now().Unix()) >= exp {
		return 0, ErrTokenExpired
	}
	return int64(id), nil
}

// macV1 is the old format's MAC, without a nonce; see AcceptOldUnsubscribe.
func (t *Tokens) macV1(payload []byte) []byte {
	h := t.hmac()
	defer t.macs.Put(h)
	h.Write([]byte("tidings token v1\x00"))
	h.Write(payload)
	return h.Sum(nil)[:macLen]
}

// hmac is an HMAC-SHA256 keyed with t's key, ready to write to; give it
// back to t.macs when done.
func (t *Tokens) hmac() hash.Hash {
	if h, ok := t.macs.Get().(hash.Hash); ok {
		h.Reset()
		return h
	}
	return hmac.New(sha256.New, t.key)
}

// mac signs payload and the subscriber's nonce, prefixed with a version
// label so that one format never accepts another's bytes as its own: v1
// signed the same payload without a nonce, and its tokens, which might
// name an id given out again, never check here.
func (t *Tokens) mac(payload []byte, nonce uint64) []byte {
	h := t.hmac()
	defer t.macs.Put(h)
	h.Write([]byte("tidings token v2\x00"))
	h.Write(payload)
	var n [8]byte
	binary.BigEndian.PutUint64(n[:], nonce)
	h.Write(n[:])
	return h.Sum(nil)[:macLen]
}
