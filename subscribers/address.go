package subscribers

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/net/idna"
)

// AddressError says why an address was refused. It matches
// ErrInvalidAddress with errors.Is.
type AddressError struct {
	Address string // as given, shortened for long input
	Reason  string
}

func (e *AddressError) Error() string { return fmt.Sprintf("%q: %s", e.Address, e.Reason) }

// Unwrap returns ErrInvalidAddress.
func (e *AddressError) Unwrap() error { return ErrInvalidAddress }

// RFC 5321 limits: a path holds 256 octets with its angle brackets, a local
// part 64.
const (
	maxAddressLen = 254
	maxLocalLen   = 64
)

// NormalizeAddress checks that s is a plain address of the kind people type
// (local@domain.tld: no display name, quotes, comments or IP literals) and
// returns it with surrounding spaces gone and the domain lower-cased and
// encoded to ASCII (bücher.example becomes xn--bcher-kva.example). The local
// part keeps its case: only the receiving server may fold it. A refused
// address gives a *FieldError for "email" wrapping an *AddressError.
func NormalizeAddress(s string) (string, error) {
	in := strings.TrimSpace(s)
	bad := func(format string, args ...any) (string, error) {
		return "", &FieldError{Field: "email", Err: &AddressError{Address: clip(in, 80), Reason: fmt.Sprintf(format, args...)}}
	}
	if in == "" {
		return bad("is empty")
	}
	if !utf8.ValidString(in) {
		return bad("is not valid UTF-8")
	}
	for _, r := range in {
		switch {
		case r == '\r' || r == '\n':
			return bad("contains a line break")
		case unicode.IsSpace(r):
			return bad("contains a space")
		case unicode.IsControl(r) || unicode.Is(unicode.Cf, r):
			return bad("contains a control character")
		case r == '"':
			return bad("contains a quote: give the plain address, like jane@example.org")
		case r == '<' || r == '>':
			return bad("contains an angle bracket: give the plain address, like jane@example.org")
		}
	}
	local, domain, ok := strings.Cut(in, "@")
	switch {
	case !ok:
		return bad("has no @")
	case strings.Contains(domain, "@"):
		return bad("has more than one @")
	case local == "":
		return bad("has nothing before the @")
	case domain == "":
		return bad("has nothing after the @")
	case len(local) > maxLocalLen:
		return bad("the part before the @ is %d characters long, at most %d are allowed", len(local), maxLocalLen)
	case len(in) > maxAddressLen:
		return bad("is %d characters long, at most %d are allowed", len(in), maxAddressLen)
	}
	if why := checkLocal(local); why != "" {
		return bad("%s", why)
	}
	ascii, why := asciiDomain(domain)
	if why != "" {
		return bad("%s", why)
	}
	out := local + "@" + ascii
	if len(out) > maxAddressLen {
		return bad("is %d characters long once its domain is encoded, at most %d are allowed", len(out), maxAddressLen)
	}
	return out, nil
}

// checkLocal accepts an RFC 5322 dot-atom, plus the UTF-8 of RFC 6531: what
// mail libraries write without quoting.
func checkLocal(local string) string {
	if local[0] == '.' || local[len(local)-1] == '.' || strings.Contains(local, "..") {
		return "has a dot at the start or end of the part before the @, or two dots in a row"
	}
	for _, r := range local {
		if r >= utf8.RuneSelf || r == '.' || isAtext(byte(r)) {
			continue
		}
		return fmt.Sprintf("contains %q before the @", r)
	}
	return ""
}

// isAtext reports whether c may appear unquoted in an address (RFC 5322
// atext).
func isAtext(c byte) bool {
	switch {
	case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		return true
	}
	return strings.IndexByte("!#$%&'*+-/=?^_`{|}~", c) >= 0
}

// asciiDomain lower-cases and IDNA-encodes a domain, then checks it is a
// host name with at least two labels: a bare "localhost" or an IP address
// is never what a subscriber means.
func asciiDomain(domain string) (string, string) {
	a, err := idna.Lookup.ToASCII(strings.ToLower(domain))
	if err != nil {
		return "", fmt.Sprintf("domain %q is not a valid host name", clip(domain, 80))
	}
	a = strings.ToLower(a)
	if len(a) > 253 {
		return "", "domain is longer than 253 characters"
	}
	labels := strings.Split(a, ".")
	if len(labels) < 2 {
		return "", fmt.Sprintf("domain %q has no dot: give the full domain, like example.org", clip(a, 80))
	}
	for _, l := range labels {
		if !validLabel(l) {
			return "", fmt.Sprintf("domain %q is not a valid host name", clip(a, 80))
		}
	}
	tld := labels[len(labels)-1]
	if strings.Trim(tld, "0123456789") == "" {
		return "", fmt.Sprintf("domain %q is an IP address, not a host name", clip(a, 80))
	}
	return a, ""
}

// validLabel checks one ASCII DNS label: letters, digits and inner hyphens,
// 1 to 63 of them.
func validLabel(l string) bool {
	if l == "" || len(l) > 63 || l[0] == '-' || l[len(l)-1] == '-' {
		return false
	}
	for i := 0; i < len(l); i++ {
		c := l[i]
		if !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}

// addressHash identifies a normalized address in the suppression list
// without keeping it: sha256 hex of the address with ASCII letters
// lower-cased, as the subscribers table compares them.
func addressHash(addr string) string {
	sum := sha256.Sum256([]byte(asciiLower(addr)))
	return hex.EncodeToString(sum[:])
}

// asciiLower folds ASCII letters only, like SQLite's NOCASE.
func asciiLower(s string) string {
	return strings.Map(func(r rune) rune {
		if 'A' <= r && r <= 'Z' {
			return r + 'a' - 'A'
		}
		return r
	}, s)
}
