package transport

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"net/mail"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/emersion/go-msgauth/dkim"
)

// listMessage has every field a digest carries, so the signature's h=
// list is far past the ~71 characters where go-mail's signer breaks.
func listMessage() *Message {
	return &Message{
		From:    mail.Address{Name: "Example Nëws, daily", Address: "news@example.org"},
		To:      mail.Address{Name: `Doe, "Jane"`, Address: "jane@example.com"},
		ReplyTo: &mail.Address{Address: "editor@example.org"},
		Subject: "Grüße: " + strings.Repeat("seven articles today ", 5),
		Text:    "Hello   Jane,\n\ntrailing spaces   \n" + strings.Repeat("text ", 100),
		HTML:    "<p>Hello Jane</p>\n" + strings.Repeat("<p>html</p>", 40),
		Date:    fixedDate(),
		Headers: [][2]string{
			{"List-Id", "Example News daily <daily.news.example.org>"},
			{"List-Unsubscribe", "<https://news.example.org/u/" + strings.Repeat("t0k3n", 20) + ">, <mailto:leave@example.org?subject=u>"},
			{"List-Unsubscribe-Post", "List-Unsubscribe=One-Click"},
			{"Precedence", "bulk"},
		},
	}
}

func TestDKIM_SignsLongHeaderLists(t *testing.T) {
	for name, d := range testDKIMs(t) {
		t.Run(name, func(t *testing.T) {
			raw, err := listMessage().Bytes(d)
			if err != nil {
				t.Fatal(err)
			}
			signed := verifyDKIM(t, raw, d)
			want := []string{"From", "To", "Reply-To", "Subject", "Date", "Message-ID", "List-Id",
				"List-Unsubscribe", "List-Unsubscribe-Post", "MIME-Version", "Content-Type"}
			if !slices.Equal(signed, want) {
				t.Errorf("signed %v, want %v", signed, want)
			}
			if h := strings.Join(signed, ":"); len(h) < 100 {
				t.Errorf("h= is only %d characters; the test needs a long list", len(h))
			}
			parseMessage(t, raw) // the signed message is still a well-formed one

			// The verification above is worth something only if a change fails it.
			tampered := bytes.Replace(raw, []byte("Precedence: bulk"), []byte("Precedence: list"), 1)
			lookup := &dkim.VerifyOptions{LookupTXT: func(name string) ([]string, error) { return lookupRecord(d, name) }}
			verifs, err := dkim.VerifyWithOptions(bytes.NewReader(tampered), lookup)
			if err != nil {
				t.Fatal(err)
			}
			for _, v := range verifs {
				if v.Err != nil {
					t.Errorf("changing an unsigned field broke the signature of %s: %v", v.Domain, v.Err)
				}
			}
			for _, change := range [][2]string{{"jane@example.com", "joan@example.com"}, {"Hello   Jane", "Hello   Joan"}} {
				tampered := bytes.Replace(raw, []byte(change[0]), []byte(change[1]), 1)
				verifs, err := dkim.VerifyWithOptions(bytes.NewReader(tampered), lookup)
				if err != nil {
					continue
				}
				for i, v := range verifs {
					if v.Err == nil {
						t.Errorf("%q changed to %q and signature %d still verifies", change[0], change[1], i)
					}
				}
			}
		})
	}
}

func TestDKIM_SignsOnlyPresentFields(t *testing.T) {
	d := testDKIMs(t)["ed25519"]
	m := &Message{From: mail.Address{Address: "news@example.org"}, To: mail.Address{Address: "a@example.com"}, Subject: "s", Text: "x"}
	raw, err := m.Bytes(d)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"From", "To", "Subject", "Date", "Message-ID", "MIME-Version", "Content-Type"}
	if got := verifyDKIM(t, raw, d); !slices.Equal(got, want) {
		t.Errorf("signed %v, want %v", got, want)
	}
}

func TestLoadDKIM(t *testing.T) {
	dir := t.TempDir()
	write := func(name, typ string, der []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	pkcs8 := func(k any) []byte {
		der, err := x509.MarshalPKCS8PrivateKey(k)
		if err != nil {
			t.Fatal(err)
		}
		return der
	}
	_, edKey, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	ecKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}

	good := map[string]string{
		"rsa pkcs1":     write("rsa1.pem", "RSA PRIVATE KEY", x509.MarshalPKCS1PrivateKey(testRSAKey())),
		"rsa pkcs8":     write("rsa8.pem", "PRIVATE KEY", pkcs8(testRSAKey())),
		"ed25519 pkcs8": write("ed.pem", "PRIVATE KEY", pkcs8(edKey)),
	}
	for name, path := range good {
		t.Run(name, func(t *testing.T) {
			d, err := LoadDKIM("example.org", "s2026", path)
			if err != nil {
				t.Fatal(err)
			}
			if d.RecordName() != "s2026._domainkey.example.org" {
				t.Errorf("record name %q", d.RecordName())
			}
			if !regexp.MustCompile(`^v=DKIM1; k=(rsa|ed25519); p=[A-Za-z0-9+/=]+$`).MatchString(d.TXTRecord()) {
				t.Errorf("TXT record %q", d.TXTRecord())
			}
			raw, err := listMessage().Bytes(d)
			if err != nil {
				t.Fatal(err)
			}
			verifyDKIM(t, raw, d)
		})
	}

	bad := []struct{ name, domain, selector, path, want string }{
		{"missing file", "example.org", "s", filepath.Join(dir, "nope.pem"), "read key"},
		{"not PEM", "example.org", "s", writeRaw(t, dir, "junk.txt", "not a key"), "no PEM block"},
		{"encrypted", "example.org", "s", write("enc.pem", "ENCRYPTED PRIVATE KEY", []byte{1}), "ENCRYPTED PRIVATE KEY"},
		{"ecdsa", "example.org", "s", write("ec.pem", "PRIVATE KEY", pkcs8(ecKey)), "want RSA or Ed25519"},
		{"bad domain", "example.org; x=y", "s", good["rsa pkcs1"], "not a DNS name"},
		{"empty selector", "example.org", "", good["rsa pkcs1"], "not a DNS name"},
	}
	for _, tt := range bad {
		t.Run(tt.name, func(t *testing.T) {
			_, err := LoadDKIM(tt.domain, tt.selector, tt.path)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want one saying %q", err, tt.want)
			}
		})
	}
}

func writeRaw(t *testing.T, dir, name, content string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestDKIM_SecondKey(t *testing.T) {
	d, err := NewDKIM("example.org", "rsa2026", testRSAKey())
	if err != nil {
		t.Fatal(err)
	}
	if err := d.Add("rsa2026", testRSAKey()); err == nil || !strings.Contains(err.Error(), "used twice") {
		t.Errorf("a second key under the same selector: %v", err)
	}
	dir := t.TempDir()
	if err := d.LoadKey("ed2026", filepath.Join(dir, "missing.pem")); err == nil || !strings.Contains(err.Error(), "read key") {
		t.Errorf("LoadKey of a missing file: %v", err)
	}
	_, edKey, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(edKey)
	if err != nil {
		t.Fatal(err)
	}
	p := writeRaw(t, dir, "ed.pem", string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})))
	if err := d.LoadKey("ed2026", p); err != nil {
		t.Fatal(err)
	}
	recs := d.Records()
	if len(recs) != 2 || recs[0][0] != "rsa2026._domainkey.example.org" || recs[1][0] != "ed2026._domainkey.example.org" ||
		!strings.Contains(recs[1][1], "k=ed25519") {
		t.Errorf("records %q", recs)
	}
	raw, err := listMessage().Bytes(d)
	if err != nil {
		t.Fatal(err)
	}
	if n := bytes.Count(raw, []byte("DKIM-Signature:")); n != 2 {
		t.Errorf("%d DKIM-Signature fields, want 2", n)
	}
	verifyDKIM(t, raw, d)
}

// A message whose parts come from templates is hashed as known to be
// CRLF text; its signatures verify, lines that relaxed canonicalisation
// rewrites (a tab, two spaces, a space at a line's end, empty lines at
// the end of a part) included.
func TestDKIM_SignsTemplatePartsKnownToBeCRLF(t *testing.T) {
	lits := []string{"Hello ", ",\n\tindented  twice \n\n", "\nthe end\n\n\n"}
	vals := []string{"Ana  Bo", "https://example.org/u?t=1 "}
	text := lits[0] + vals[0] + lits[1] + vals[1] + lits[2]
	html := "<p>Hello</p>\n  <p>two  spaces</p> \n\n"
	for name, d := range testDKIMs(t) {
		t.Run(name, func(t *testing.T) {
			m := &Message{From: mail.Address{Address: "news@example.org"}, To: mail.Address{Address: "ana@example.org"},
				Subject: "Parts", Text: text, HTML: html, MessageID: "<parts@example.org>", Date: fixedDate()}
			fillParts(t, m, lits, vals, html)
			if m.TextPart == nil || m.HTMLPart == nil {
				t.Fatal("the message has no template parts")
			}
			raw, err := m.Bytes(d)
			if err != nil {
				t.Fatal(err)
			}
			verifyDKIM(t, raw, d)
		})
	}
}
