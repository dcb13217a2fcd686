package transport

import (
	"bytes"
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

	"github.com/emersion/go-msgauth/dkim"
)

// DKIM signs messages for one domain with one key (RSA or Ed25519),
// relaxed/relaxed, SHA-256.
//
// Signing is done with go-msgauth rather than go-mail's own DKIM signer,
// whose signatures stop verifying once the h= list grows past about 71
// characters, which the headers signed here do.
type DKIM struct {
	domain   string
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
	d, err := NewDKIM(domain, selector, signer)
	if err != nil {
		return nil, fmt.Errorf("%w (key %s)", err, keyFile)
	}
	return d, nil
}

// NewDKIM returns a signer for domain and selector with key, an
// *rsa.PrivateKey of at least 1024 bits or an ed25519.PrivateKey.
func NewDKIM(domain, selector string, key crypto.Signer) (*DKIM, error) {
	if !isDNSName(domain) {
		return nil, fmt.Errorf("dkim: domain %q is not a DNS name", domain)
	}
	if !isDNSName(selector) {
		return nil, fmt.Errorf("dkim: selector %q is not a DNS name", selector)
	}
	switch k := key.(type) {
	case *rsa.PrivateKey:
		if k.N.BitLen() < 1024 {
			return nil, fmt.Errorf("dkim: RSA key of %d bits: verifiers reject keys under 1024 bits (use 2048)", k.N.BitLen())
		}
	case ed25519.PrivateKey:
	default:
		return nil, fmt.Errorf("dkim: %T key: want RSA or Ed25519", key)
	}
	return &DKIM{domain: domain, selector: selector, key: key}, nil
}

// Domain is the signing domain (d=).
func (d *DKIM) Domain() string { return d.domain }

// RecordName is where the public key is published:
// "selector._domainkey.domain".
func (d *DKIM) RecordName() string { return d.selector + "._domainkey." + d.domain }

// TXTRecord is the DNS TXT record to publish at RecordName.
func (d *DKIM) TXTRecord() string {
	switch pub := d.key.Public().(type) {
	case ed25519.PublicKey:
		return "v=DKIM1; k=ed25519; p=" + base64.StdEncoding.EncodeToString(pub)
	default:
		der, err := x509.MarshalPKIXPublicKey(pub)
		if err != nil { // NewDKIM admits only RSA besides Ed25519
			panic(err)
		}
		return "v=DKIM1; k=rsa; p=" + base64.StdEncoding.EncodeToString(der)
	}
}

// sign returns msg with a DKIM-Signature field prepended, covering the
// signedHeaders among present.
func (d *DKIM) sign(msg []byte, present []string) ([]byte, error) {
	var keys []string
	for _, k := range signedHeaders {
		if i := slices.IndexFunc(present, func(p string) bool { return strings.EqualFold(p, k) }); i >= 0 {
			keys = append(keys, present[i]) // as written, for a readable h=
		}
	}
	var out bytes.Buffer
	err := dkim.Sign(&out, bytes.NewReader(msg), &dkim.SignOptions{
		Domain:                 d.domain,
		Selector:               d.selector,
		Signer:                 d.key,
		Hash:                   crypto.SHA256,
		HeaderCanonicalization: dkim.CanonicalizationRelaxed,
		BodyCanonicalization:   dkim.CanonicalizationRelaxed,
		HeaderKeys:             keys,
	})
	if err != nil {
		return nil, fmt.Errorf("dkim: sign: %w", err)
	}
	return out.Bytes(), nil
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
