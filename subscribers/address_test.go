package subscribers

import (
	"errors"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"
)

func TestNormalizeAddress(t *testing.T) {
	tests := []struct {
		in, want string
	}{
		{"jane@example.org", "jane@example.org"},
		{"  Jane.Doe@Example.ORG\t", "Jane.Doe@example.org"},
		{"o'brien+news@mail.example.co.uk", "o'brien+news@mail.example.co.uk"},
		{"a!#$%&'*+-/=?^_`{|}~b@example.org", "a!#$%&'*+-/=?^_`{|}~b@example.org"},
		{"jane@bücher.example", "jane@xn--bcher-kva.example"},
		{"jane@BÜCHER.Example", "jane@xn--bcher-kva.example"},
		{"jane@xn--bcher-kva.example", "jane@xn--bcher-kva.example"},
		{"josé@example.org", "josé@example.org"},
		{"x@a-b.c0", "x@a-b.c0"},
		{strings.Repeat("a", 64) + "@example.org", strings.Repeat("a", 64) + "@example.org"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := NormalizeAddress(tt.in)
			if err != nil || got != tt.want {
				t.Fatalf("NormalizeAddress(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
			}
			if again, err := NormalizeAddress(got); err != nil || again != got {
				t.Errorf("not idempotent: %q, %v", again, err)
			}
		})
	}
}

func TestNormalizeAddress_Refused(t *testing.T) {
	label := strings.Repeat("d", 63)
	longDomain := strings.Join([]string{label, label, label, label}, ".") // 255 octets
	tests := []struct {
		name, in, reason string
	}{
		{"empty", "   ", "is empty"},
		{"no @", "jane.example.org", "has no @"},
		{"two @", "jane@doe@example.org", "more than one @"},
		{"space", "a b@x.org", "contains a space"},
		{"no-break space", "a\u00a0b@x.org", "contains a space"},
		{"CR", "jane@example.org\rBcc: x@y.org", "line break"},
		{"LF", "jane@example.org\nBcc: x@y.org", "line break"},
		{"NUL", "ja\x00ne@example.org", "control character"},
		{"bidi override", "jane\u202e@example.org", "control character"},
		{"quotes", `"jane doe"@example.org`, "quote"},
		{"quoted local", `"jane"@example.org`, "quote"},
		{"display name", "Jane <jane@example.org>", "contains a space"},
		{"angle brackets", "<jane@example.org>", "angle bracket"},
		{"nothing before @", "@example.org", "nothing before the @"},
		{"nothing after @", "jane@", "nothing after the @"},
		{"local over 64", strings.Repeat("a", 65) + "@example.org", "at most 64"},
		{"over 254", strings.Repeat("a", 64) + "@" + strings.Repeat(strings.Repeat("b", 50)+".", 4) + "org", "at most 254"},
		{"long domain", "a@" + longDomain, "at most 254"},
		{"no dot", "jane@localhost", "has no dot"},
		{"leading dot", ".jane@example.org", "dot"},
		{"double dot", "ja..ne@example.org", "dot"},
		{"comma", "jane,doe@example.org", `contains ','`},
		{"parenthesis", "jane(x)@example.org", `contains '('`},
		{"empty label", "jane@example..org", "not a valid host name"},
		{"trailing dot", "jane@example.org.", "not a valid host name"},
		{"hyphen label", "jane@-example.org", "not a valid host name"},
		{"underscore", "jane@ex_ample.org", "not a valid host name"},
		{"label over 63", "jane@" + strings.Repeat("l", 64) + ".org", "not a valid host name"},
		{"IP address", "jane@192.0.2.1", "IP address"},
		{"IP literal", "jane@[192.0.2.1]", "not a valid host name"},
		{"invalid UTF-8", "jan\xffe@example.org", "UTF-8"},
		{"bad punycode", "jane@xn--zz.example", "not a valid host name"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := NormalizeAddress(tt.in)
			if err == nil {
				t.Fatalf("NormalizeAddress(%q) = %q, want an error", tt.in, got)
			}
			var ae *AddressError
			if !errors.Is(err, ErrInvalidAddress) || !errors.As(err, &ae) || fieldOf(err) != "email" {
				t.Errorf("error %v (%T) should be an email FieldError with an *AddressError", err, err)
			}
			msg := err.Error()
			if !strings.Contains(msg, tt.reason) || !strings.HasPrefix(msg, "email: ") || strings.ContainsAny(msg, "\r\n\x00") || len(msg) > 300 {
				t.Errorf("message %q should mention %q, start with the field, stay short and on one line", msg, tt.reason)
			}
		})
	}
	if _, err := NormalizeAddress("a b@x"); err == nil || err.Error() != `email: "a b@x": contains a space` {
		t.Errorf("message = %v", err)
	}
}

func FuzzNormalizeAddress(f *testing.F) {
	for _, s := range []string{"jane@example.org", "Jane.Doe@Bücher.Example", "a b@x", "x@xn--bcher-kva.example", "@", "a@b",
		"a@b.c.", "\"q\"@x.org", "é@ü.ß", "a@ａｂｃ.example", "a@xn--.org", "a@ǅ.example", "a@example.org\r\n"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		out, err := NormalizeAddress(s)
		if err != nil {
			if !errors.Is(err, ErrInvalidAddress) {
				t.Fatalf("error %v does not match ErrInvalidAddress", err)
			}
			return
		}
		if len(out) > maxAddressLen || !utf8.ValidString(out) {
			t.Fatalf("%q: too long or not UTF-8", out)
		}
		local, domain, _ := strings.Cut(out, "@")
		if local == "" || len(local) > maxLocalLen || strings.Contains(domain, "@") || !strings.Contains(domain, ".") {
			t.Fatalf("%q: bad shape", out)
		}
		for _, r := range domain {
			if r >= utf8.RuneSelf || 'A' <= r && r <= 'Z' {
				t.Fatalf("%q: domain not lower-case ASCII", out)
			}
		}
		for _, r := range out {
			if unicode.IsSpace(r) || unicode.IsControl(r) || r == '"' || r == '<' || r == '>' {
				t.Fatalf("%q: holds %q", out, r)
			}
		}
		again, err := NormalizeAddress(out)
		if err != nil || again != out {
			t.Fatalf("not idempotent: %q -> %q, %v", out, again, err)
		}
	})
}
