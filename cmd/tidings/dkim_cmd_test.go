package main

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/emersion/go-msgauth/dkim"
)

// Dual-signed digests, as an operator sets them up: config check prints
// the two TXT records to publish, and every message the SMTP server gets
// verifies against both, looked up as a verifier would.
func TestCLI_DigestDualDKIM(t *testing.T) {
	sink := newSMTPSink(t)
	dir := t.TempDir()
	rk, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	rsaFile := writeFile(t, dir, "rsa.pem", string(pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(rk)})))
	_, ek, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(ek)
	if err != nil {
		t.Fatal(err)
	}
	edFile := writeFile(t, dir, "ed.pem", string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})))
	content := filepath.Join(dir, "content")
	writeFile(t, content, "a.md", "# Harbour reopens\n\nShips are back, café open.\n")
	env, _ := gazette(t, dir, sink.Addr.Port, fmt.Sprintf(`
[dkim]
domain = "gazette.example.org"
selector = "rsa2026"
key_file = %q
second_selector = "ed2026"
second_key_file = %q
[[digests]]
name = "daily"
schedule = "0 7 * * *"
`, rsaFile, edFile))
	out, errs, code := run(t, env, "config", "check")
	if code != 0 {
		t.Fatalf("config check (%d): %s%s", code, out, errs)
	}
	records := map[string]string{}
	for _, m := range regexp.MustCompile(`(?m)^# (\S+\._domainkey\.\S+) TXT "([^"]+)"$`).FindAllStringSubmatch(out, -1) {
		records[m[1]] = m[2]
	}
	if len(records) != 2 || !strings.Contains(records["ed2026._domainkey.gazette.example.org"], "k=ed25519") ||
		!strings.Contains(records["rsa2026._domainkey.gazette.example.org"], "k=rsa") {
		t.Fatalf("config check prints records %v:\n%s", records, out)
	}
	for _, who := range []string{"ana@example.org", "bo@example.org"} {
		if _, errs, code := run(t, env, "subscribers", "add", who, "--digests", "daily"); code != 0 {
			t.Fatal(errs)
		}
	}
	if out, errs, code := run(t, env, "ingest"); code != 0 {
		t.Fatalf("ingest (%d): %s%s", code, out, errs)
	}
	if out, errs, code := run(t, env, "digest", "send", "daily"); code != 0 || !strings.Contains(out, "sent 2") {
		t.Fatalf("digest send (%d): %s%s", code, out, errs)
	}
	sink.wait(t, 2)
	sink.mu.Lock()
	msgs := append([]received{}, sink.msgs...)
	sink.mu.Unlock()
	for _, m := range msgs {
		verifs, err := dkim.VerifyWithOptions(bytes.NewReader(m.Data), &dkim.VerifyOptions{
			LookupTXT: func(name string) ([]string, error) {
				if r, ok := records[name]; ok {
					return []string{r}, nil
				}
				return nil, errors.New("no record " + name)
			},
		})
		if err != nil || len(verifs) != 2 {
			t.Fatalf("message to %v: %d signatures, %v", m.To, len(verifs), err)
		}
		for _, v := range verifs {
			if v.Err != nil {
				t.Errorf("message to %v: a signature fails: %v", m.To, v.Err)
			}
		}
	}
}
