package transport

import (
	"crypto"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"fmt"
	"os"
	"slices"
	"strings"
)

// DKIM signs messages for one domain with one key (RSA or Ed25519), or
// two (RFC 8463: an Ed25519 signature beside the RSA one, for verifiers
// that know it, with the RSA one for those that do not), relaxed/relaxed,
// SHA-256.
//
// The signer is tidings' own (dkim_sign.go), checked against go-msgauth's
// verifier in the tests, rather than go-mail's, whose signatures stop
// verifying once the h= list grows past about 71 characters, which the
// headers signed here do.
type DKIM struct {
	domain string
	keys   []dkimKey // one signature each, in order
}

type dkimKey struct {
	selector string
	key      crypto.Signer
}

// signedHeaders are the fields a signature covers when the message has
// them: what RFC 6376 section 5.4.1 recommends for a list mail, including
// the one-click unsubscribe fields that RFC 8058 requires to be signed.
var signedHeaders = []string{
	"From", "To", "Reply-To", "Subject", "Date", "Message-Id",
	"List-Id", "List-Unsubscribe", "List-Unsubscribe-Post",
	"Mime-Version", "Content-Type",
}

// isSigned reports whether a field name (canonical form) is in the signature.
func isSigned(canonical string) bool { return slices.Contains(signedHeaders, canonical) }

// LoadDKIM reads the private key in keyFile: PEM, RSA (PKCS #1 or
// PKCS #8) or Ed25519 (PKCS #8).
func LoadDKIM(domain, selector, keyFile string) (*DKIM, error) {
	signer, err := readKey(keyFile)
	if err != nil {
		return nil, err
	}
	d, err := NewDKIM(domain, selector, signer)
	if err != nil {
		return nil, fmt.Errorf("%w (key %s)", err, keyFile)
	}
	return d, nil
}

// LoadKey adds the key in keyFile under selector: every message gets a
// second signature made with it.
func (d *DKIM) LoadKey(selector, keyFile string) error {
	signer, err := readKey(keyFile)
	if err != nil {
		return err
	}
	if err := d.Add(selector, signer); err != nil {
		return fmt.Errorf("%w (key %s)", err, keyFile)
	}
	return nil
}

func readKey(keyFile string) (crypto.Signer, error) {
	data, err := os.ReadFile(keyFile)
	if err != nil {
		return nil, fmt.Errorf("dkim: read key: %w", err)
	}
	block, _ := pem.Decode(data)
	if block == nil {
		return nil, fmt.Errorf("dkim: %s: no PEM block", keyFile)
	}
	var key any
	switch block.Type {
	case "RSA PRIVATE KEY":
		key, err = x509.ParsePKCS1PrivateKey(block.Bytes)
	case "PRIVATE KEY":
		key, err = x509.ParsePKCS8PrivateKey(block.Bytes)
	default:
		return nil, fmt.Errorf("dkim: %s: PEM block %q: want \"RSA PRIVATE KEY\" or \"PRIVATE KEY\" (unencrypted)", keyFile, block.Type)
	}
	if err != nil {
		return nil, fmt.Errorf("dkim: %s: %w", keyFile, err)
	}
	signer, ok := key.(crypto.Signer)
	if !ok {
		return nil, fmt.Errorf("dkim: %s: %T cannot sign", keyFile, key)
	}
	return signer, nil
}

// NewDKIM returns a signer for domain and selector with key, an
// *rsa.PrivateKey of at least 1024 bits or an ed25519.PrivateKey.
func NewDKIM(domain, selector string, key crypto.Signer) (*DKIM, error) {
	if !isDNSName(domain) {
		return nil, fmt.Errorf("dkim: domain %q is not a DNS name", domain)
	}
	d := &DKIM{domain: domain}
	if err := d.Add(selector, key); err != nil {
		return nil, err
	}
	return d, nil
}

// Add makes every message carry one more signature, with key under
// selector: the usual pair is RSA-2048 and Ed25519 (RFC 8463).
func (d *DKIM) Add(selector string, key crypto.Signer) error {
	if !isDNSName(selector) {
		return fmt.Errorf("dkim: selector %q is not a DNS name", selector)
	}
	for _, k := range d.keys {
		if k.selector == selector {
			return fmt.Errorf("dkim: selector %q is used twice: each key needs its own", selector)
		}
	}
	switch k := key.(type) {
	case *rsa.PrivateKey:
		if k.N.BitLen() < 1024 {
			return fmt.Errorf("dkim: RSA key of %d bits: verifiers reject keys under 1024 bits (use 2048)", k.N.BitLen())
		}
	case ed25519.PrivateKey:
	default:
		return fmt.Errorf("dkim: %T key: want RSA or Ed25519", key)
	}
	d.keys = append(d.keys, dkimKey{selector: selector, key: key})
	return nil
}

// Domain is the signing domain (d=).
func (d *DKIM) Domain() string { return d.domain }

// RecordName is where the (first) public key is published:
// "selector._domainkey.domain".
func (d *DKIM) RecordName() string { return d.keys[0].recordName(d.domain) }

// TXTRecord is the DNS TXT record to publish at RecordName.
func (d *DKIM) TXTRecord() string { return d.keys[0].txt() }

// Records are every key's DNS name and TXT record, in signing order.
func (d *DKIM) Records() [][2]string {
	out := make([][2]string, len(d.keys))
	for i, k := range d.keys {
		out[i] = [2]string{k.recordName(d.domain), k.txt()}
	}
	return out
}

func (k dkimKey) recordName(domain string) string { return k.selector + "._domainkey." + domain }

func (k dkimKey) txt() string {
	switch pub := k.key.Public().(type) {
	case ed25519.PublicKey:
		return "v=DKIM1; k=ed25519; p=" + base64.StdEncoding.EncodeToString(pub)
	default:
		der, err := x509.MarshalPKIXPublicKey(pub)
		if err != nil { // Add admits only RSA besides Ed25519
			panic(err)
		}
		return "v=DKIM1; k=rsa; p=" + base64.StdEncoding.EncodeToString(der)
	}
}

// isDNSName accepts dot-separated labels of letters, digits, hyphens and
// underscores.
func isDNSName(s string) bool {
	if s == "" || len(s) > 253 {
		return false
	}
	for label := range strings.SplitSeq(s, ".") {
		if label == "" || len(label) > 63 {
			return false
		}
		for _, c := range label {
			if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
				return false
			}
		}
	}
	return true
}
