package subscribers

import (
	"errors"
	"strings"
	"testing"
)

// Tokens in addresses survive a change of case and fit a local part; a
// changed character, another purpose or a renewed nonce refuses them.
func TestTokens_AddressToken(t *testing.T) {
	tk := NewTokens([]byte("0123456789abcdef0123456789abcdef"), nil)
	nonce := uint64(42)
	nonceOf := func(id int64) (uint64, error) {
		if id != 123456 {
			return 0, ErrNotFound
		}
		return nonce, nil
	}
	tok := tk.AddressToken(PurposeUnsubscribe, 123456, nonce)
	if len("unsubscribe+"+tok) > 64 || tok != strings.ToLower(tok) || strings.ContainsAny(tok, "=+/-_") {
		t.Fatalf("token %q does not fit a local part", tok)
	}
	for _, spelling := range []string{tok, strings.ToUpper(tok)} {
		if id, err := tk.CheckAddress(PurposeUnsubscribe, spelling, nonceOf); err != nil || id != 123456 {
			t.Errorf("CheckAddress(%q) = %d, %v", spelling, id, err)
		}
	}
	bad := []string{"", tok[:len(tok)-1], tok + "a", strings.Replace(tok, tok[3:4], map[bool]string{true: "b", false: "a"}[tok[3] == 'a'], 1), "notatoken!"}
	for _, b := range bad {
		if _, err := tk.CheckAddress(PurposeUnsubscribe, b, nonceOf); !errors.Is(err, ErrTokenInvalid) {
			t.Errorf("CheckAddress(%q) = %v, want ErrTokenInvalid", b, err)
		}
	}
	if _, err := tk.CheckAddress(PurposeReturn, tok, nonceOf); !errors.Is(err, ErrTokenInvalid) {
		t.Errorf("an unsubscribe token taken as a return token: %v", err)
	}
	nonce = 43 // forgotten and signed up again
	if _, err := tk.CheckAddress(PurposeUnsubscribe, tok, nonceOf); !errors.Is(err, ErrTokenInvalid) {
		t.Errorf("a token of the old nonce: %v", err)
	}
}

// Whatever comes in a local part, CheckAddress answers without panicking,
// and accepts only a token AddressToken made (in some case).
func FuzzCheckAddress(f *testing.F) {
	tk := NewTokens([]byte("0123456789abcdef0123456789abcdef"), nil)
	good := tk.AddressToken(PurposeReturn, 77, 5)
	f.Add(good)
	f.Add(strings.ToUpper(good))
	f.Add("")
	f.Add("aaaa")
	f.Add(strings.Repeat("z", 70))
	f.Fuzz(func(t *testing.T, tok string) {
		id, err := tk.CheckAddress(PurposeReturn, tok, func(int64) (uint64, error) { return 5, nil })
		if err == nil && (id != 77 || !strings.EqualFold(tok, good)) {
			t.Fatalf("%q accepted as %d", tok, id)
		}
	})
}
