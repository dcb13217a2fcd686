package transport

import (
	"bytes"
	"crypto"
	"crypto/ed25519"
	"encoding/base64"
	"regexp"
	"strings"
	"testing"

	"github.com/emersion/go-msgauth/dkim"
)

// msgauthBodyHash is the bh= go-msgauth's own signer writes for body.
func msgauthBodyHash(t *testing.T, body []byte) string {
	t.Helper()
	key := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{7}, ed25519.SeedSize))
	var out bytes.Buffer
	msg := append([]byte("From: a@example.org\r\n\r\n"), body...)
	err := dkim.Sign(&out, bytes.NewReader(msg), &dkim.SignOptions{Domain: "example.org", Selector: "s", Signer: key,
		Hash: crypto.SHA256, HeaderCanonicalization: dkim.CanonicalizationRelaxed, BodyCanonicalization: dkim.CanonicalizationRelaxed})
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`bh=([A-Za-z0-9+/=]+)`).FindSubmatch(out.Bytes())
	if m == nil {
		t.Fatalf("no bh= in %q", out.Bytes())
	}
	return string(m[1])
}

// FuzzRelaxedBodyHash holds the line-at-a-time body hash to go-msgauth's
// byte-at-a-time canonicalisation, which verifiers do the same as.
func FuzzRelaxedBodyHash(f *testing.F) {
	for _, s := range []string{
		"", "\r\n", "\r\n\r\n", "a", "a\r\n", "a\r\n\r\n\r\n", "a  b\r\n", "a \r\nb", "a\t\tb \t\r\n",
		" lead\r\n", "  \r\n\r\nx\r\n", "lone\nlf\n", "lone\rcr\r\nx", "end\r", "x\r\r\n", "\n\n", "a=20\r\n=\r\nb\r\n",
		"tail   ", "\t", "q\r\n \r\n\t\r\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		sum := relaxedBodyHash(body, false)
		want := msgauthBodyHash(t, body)
		if got := base64.StdEncoding.EncodeToString(sum[:]); got != want {
			t.Errorf("body %q: bh=%s, go-msgauth %s", body, got, want)
		}
		if crlfOnly(body) {
			// What a body from templates is hashed as, told it is CRLF.
			sum := relaxedBodyHash(body, true)
			if got := base64.StdEncoding.EncodeToString(sum[:]); got != want {
				t.Errorf("body %q known to be CRLF: bh=%s, go-msgauth %s", body, got, want)
			}
		}
	})
}

// A body with long runs that are already canonical and others that are
// not hashes as go-msgauth hashes it.
func TestRelaxedBodyHash_Mixed(t *testing.T) {
	var b strings.Builder
	for i := range 500 {
		switch i % 7 {
		case 0:
			b.WriteString("a line as quoted-printable leaves it=3D with no trailing space\r\n")
		case 1:
			b.WriteString("two  spaces and a\ttab \r\n")
		case 2:
			b.WriteString("\r\n")
		default:
			b.WriteString("plain words on a line of their own\r\n")
		}
	}
	b.WriteString("\r\n\r\n")
	for _, crlf := range []bool{false, true} {
		sum := relaxedBodyHash([]byte(b.String()), crlf)
		if got, want := base64.StdEncoding.EncodeToString(sum[:]), msgauthBodyHash(t, []byte(b.String())); got != want {
			t.Errorf("crlf %v: bh=%s, go-msgauth %s", crlf, got, want)
		}
	}
}

// BenchmarkRelaxedBodyHash hashes the body of a 45 KB digest as the
// transport encodes it, quoted-printable, as every signed message does,
// with a line indented by two spaces now and then, as a digest's list of
// articles is.
func BenchmarkRelaxedBodyHash(b *testing.B) {
	para := strings.Repeat("The harbour council met on Tuesday to talk about the ferry, the bridge and the budget. ", 10)
	tpl, err := NewBodyTemplate([]string{"Caf\u00e9\n" + strings.Repeat(para+"\n\n  * an article\n\n", 50)})
	if err != nil {
		b.Fatal(err)
	}
	p, _, err := tpl.Fill(nil)
	if err != nil {
		b.Fatal(err)
	}
	var body bytes.Buffer
	p.writeTo(&body)
	for _, c := range []struct {
		name string
		crlf bool
	}{{"looked-at", false}, {"known-crlf", true}} {
		b.Run(c.name, func(b *testing.B) {
			b.SetBytes(int64(body.Len()))
			for b.Loop() {
				relaxedBodyHash(body.Bytes(), c.crlf)
			}
		})
	}
}
