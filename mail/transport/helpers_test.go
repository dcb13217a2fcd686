package transport

import (
	"bytes"
	"crypto"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"errors"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net/mail"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/emersion/go-msgauth/dkim"
)

// testRSAKey is made once: a 2048-bit key takes a while under -race.
var testRSAKey = sync.OnceValue(func() *rsa.PrivateKey {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic(err)
	}
	return k
})

// testDKIMs returns an RSA and an Ed25519 signer for example.org.
func testDKIMs(t *testing.T) map[string]*DKIM {
	t.Helper()
	_, edKey, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]*DKIM{}
	for name, key := range map[string]crypto.Signer{"rsa": testRSAKey(), "ed25519": edKey} {
		d, err := NewDKIM("example.org", "sel-"+name, key)
		if err != nil {
			t.Fatal(err)
		}
		out[name] = d
	}
	// Both in one message (RFC 8463).
	dual, err := NewDKIM("example.org", "sel-dual-rsa", testRSAKey())
	if err != nil {
		t.Fatal(err)
	}
	if err := dual.Add("sel-dual-ed25519", edKey); err != nil {
		t.Fatal(err)
	}
	out["dual"] = dual
	return out
}

// verifyDKIM checks every signature on raw against d's published record,
// looked up as a verifier would, and returns the signed field names.
func verifyDKIM(t *testing.T, raw []byte, d *DKIM) []string {
	t.Helper()
	var lookups atomic.Int32 // signatures are verified in parallel
	verifs, err := dkim.VerifyWithOptions(bytes.NewReader(raw), &dkim.VerifyOptions{
		LookupTXT: func(name string) ([]string, error) {
			lookups.Add(1)
			return lookupRecord(d, name)
		},
	})
	if err != nil {
		t.Fatalf("dkim verify: %v", err)
	}
	if len(verifs) != len(d.keys) {
		t.Fatalf("dkim verify: %d signatures, want %d", len(verifs), len(d.keys))
	}
	for _, v := range verifs {
		if v.Err != nil {
			t.Fatalf("dkim verify: %v\n%s", v.Err, raw)
		}
		if v.Domain != d.Domain() {
			t.Fatalf("dkim verify: domain %q", v.Domain)
		}
		if !slices.Equal(v.HeaderKeys, verifs[0].HeaderKeys) {
			t.Fatalf("dkim verify: the signatures cover %v and %v", verifs[0].HeaderKeys, v.HeaderKeys)
		}
	}
	if int(lookups.Load()) != len(d.keys) {
		t.Fatalf("dkim verify: %d lookups for %d signatures", lookups.Load(), len(d.keys))
	}
	return verifs[0].HeaderKeys
}

// lookupRecord answers a verifier's TXT lookup from d's records.
func lookupRecord(d *DKIM, name string) ([]string, error) {
	for _, r := range d.Records() {
		if r[0] == name {
			return []string{r[1]}, nil
		}
	}
	return nil, errors.New("no such record: " + name)
}

// parsed is a rendered message read back the way a mail client would.
type parsed struct {
	header  mail.Header
	subject string
	text    string
	html    string // empty when single-part
}

// parseMessage reads raw with net/mail and mime/multipart, failing the
// test on anything malformed.
func parseMessage(t *testing.T, raw []byte) parsed {
	t.Helper()
	if bytes.Contains(bytes.ReplaceAll(raw, []byte("\r\n"), nil), []byte("\n")) ||
		bytes.Contains(bytes.ReplaceAll(raw, []byte("\r\n"), nil), []byte("\r")) {
		t.Fatalf("bare CR or LF in message:\n%q", raw)
	}
	for i, line := range strings.Split(string(raw), "\r\n") {
		if len(line) > 998 {
			t.Fatalf("line %d has %d characters", i+1, len(line))
		}
	}
	msg, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		t.Fatalf("read message: %v", err)
	}
	var p parsed
	p.header = msg.Header
	if p.subject, err = new(mime.WordDecoder).DecodeHeader(msg.Header.Get("Subject")); err != nil {
		t.Fatalf("decode subject: %v", err)
	}
	mt, params, err := mime.ParseMediaType(msg.Header.Get("Content-Type"))
	if err != nil {
		t.Fatalf("content type: %v", err)
	}
	readPart := func(typ, cte string, r io.Reader, want string) string {
		t.Helper()
		if typ != want+"; charset=utf-8" || (cte != "quoted-printable" && cte != "7bit") {
			t.Fatalf("part is %q %q, want %s utf-8 in 7bit or quoted-printable", typ, cte, want)
		}
		if cte == "quoted-printable" {
			r = quotedprintable.NewReader(r)
		}
		b, err := io.ReadAll(r)
		if err != nil {
			t.Fatalf("read %s: %v", want, err)
		}
		return string(b)
	}
	switch mt {
	case "text/plain":
		p.text = readPart(msg.Header.Get("Content-Type"), msg.Header.Get("Content-Transfer-Encoding"),
			msg.Body, "text/plain")
	case "multipart/alternative":
		mr := multipart.NewReader(msg.Body, params["boundary"])
		var parts []string
		for _, want := range []string{"text/plain", "text/html"} {
			part, err := mr.NextRawPart()
			if err != nil {
				t.Fatalf("part %s: %v", want, err)
			}
			parts = append(parts, readPart(part.Header.Get("Content-Type"), part.Header.Get("Content-Transfer-Encoding"),
				part, want))
		}
		if _, err := mr.NextRawPart(); err != io.EOF {
			t.Fatalf("after the html part: %v, want EOF", err)
		}
		p.text, p.html = parts[0], parts[1]
	default:
		t.Fatalf("content type %q", mt)
	}
	return p
}

func fixedDate() time.Time { return time.Date(2026, 3, 14, 9, 26, 53, 0, time.FixedZone("", 3600)) }
