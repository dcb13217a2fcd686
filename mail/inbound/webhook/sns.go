package webhook

import (
	"context"
	"crypto"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/tidings/tidings/internal/web"
	"github.com/tidings/tidings/mail/inbound"
)

// SES turns the Amazon SES webhook on: SES publishes its bounce and
// complaint notifications to an SNS topic, and the topic has an HTTPS
// subscription to /webhooks/ses. SNS signs every message, but any AWS
// account's topic can be signed so: only the topics listed are taken.
type SES struct {
	TopicARNs []string
	// Client fetches signing certificates and confirms subscriptions;
	// nil: a client with a 10 s timeout that follows no redirect.
	Client *http.Client
	// CheckURL decides whether a SigningCertURL or SubscribeURL may be
	// fetched; nil: SNSURL. Tests that serve certificates on 127.0.0.1
	// replace the Client's dialer instead, and keep this check.
	CheckURL func(string) error
}

// snsHost is the host of every SNS endpoint: sns.<region>.amazonaws.com.
var snsHost = regexp.MustCompile(`^sns\.[a-z]{2}(?:-[a-z]+)+-[0-9]+\.amazonaws\.com$`)

// SNSURL reports whether raw is a URL SNS itself serves, and so one that
// tidings may fetch for a signing certificate or to confirm a
// subscription: https, on sns.<region>.amazonaws.com, on the default
// port, without credentials. The error says what is wrong with it.
func SNSURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil {
		return fmt.Errorf("not a URL: %w", err)
	}
	switch {
	case u.Scheme != "https":
		return fmt.Errorf("%q is not an https URL", raw)
	case u.User != nil:
		return fmt.Errorf("%q carries credentials", raw)
	case u.Port() != "" && u.Port() != "443":
		return fmt.Errorf("%q is not on port 443", raw)
	case !snsHost.MatchString(strings.ToLower(u.Hostname())):
		return fmt.Errorf("%q is not on an sns.<region>.amazonaws.com host", raw)
	}
	return nil
}

// snsMessage is the envelope SNS POSTs.
type snsMessage struct {
	Type             string
	MessageID        string `json:"MessageId"`
	Token            string
	TopicArn         string
	Subject          string
	Message          string
	Timestamp        string
	SignatureVersion string
	Signature        string
	SigningCertURL   string `json:"SigningCertURL"`
	SubscribeURL     string `json:"SubscribeURL"`
}

// stringToSign is the text SNS signs, per message type: the named fields,
// each as its name and its value on lines of their own, in this order;
// a notification's Subject only when it has one.
func (m *snsMessage) stringToSign() (string, error) {
	var fields [][2]string
	switch m.Type {
	case "Notification":
		fields = [][2]string{{"Message", m.Message}, {"MessageId", m.MessageID}}
		if m.Subject != "" {
			fields = append(fields, [2]string{"Subject", m.Subject})
		}
		fields = append(fields, [][2]string{{"Timestamp", m.Timestamp}, {"TopicArn", m.TopicArn}, {"Type", m.Type}}...)
	case "SubscriptionConfirmation", "UnsubscribeConfirmation":
		fields = [][2]string{{"Message", m.Message}, {"MessageId", m.MessageID}, {"SubscribeURL", m.SubscribeURL},
			{"Timestamp", m.Timestamp}, {"Token", m.Token}, {"TopicArn", m.TopicArn}, {"Type", m.Type}}
	default:
		return "", fmt.Errorf("unknown SNS message type %q", m.Type)
	}
	var b strings.Builder
	for _, f := range fields {
		b.WriteString(f[0] + "\n" + f[1] + "\n")
	}
	return b.String(), nil
}

// parseSNS reads the SNS envelope.
func parseSNS(body []byte) (*snsMessage, error) {
	var m snsMessage
	if err := json.Unmarshal(body, &m); err != nil {
		return nil, err
	}
	if m.Type == "" || m.TopicArn == "" {
		return nil, errors.New("no SNS Type or TopicArn (is raw message delivery on? it must be off)")
	}
	return &m, nil
}

func (h *Handler) receiveSNS(r *http.Request, body []byte) ([]inbound.Result, func(), error) {
	m, err := parseSNS(body)
	if err != nil {
		return nil, nil, malformed("SNS", err)
	}
	if !slices.Contains(h.o.SES.TopicARNs, m.TopicArn) {
		return nil, nil, unauthorized("SNS topic %q is not one tidings takes: list it in inbound.webhooks.ses_topic_arns", m.TopicArn)
	}
	if err := h.sns.verify(r.Context(), m); err != nil {
		return nil, nil, err
	}
	switch m.Type {
	case "SubscriptionConfirmation":
		if err := h.sns.confirm(r.Context(), m.SubscribeURL); err != nil {
			return nil, nil, err
		}
		h.log.Info("SNS subscription confirmed", "provider", "ses", "topic", m.TopicArn)
		return nil, nil, nil
	case "UnsubscribeConfirmation":
		h.log.Warn("SNS subscription ended: SES reports no longer reach tidings", "provider", "ses", "topic", m.TopicArn)
		return nil, nil, nil
	}
	res, err := parseSES([]byte(m.Message))
	if err != nil {
		return nil, nil, malformed("SES", err)
	}
	return res, nil, nil
}

// snsVerifier checks SNS signatures against the signing certificates,
// which it fetches and keeps.
type snsVerifier struct {
	client *http.Client
	check  func(string) error
	now    func() time.Time

	mu    sync.Mutex
	certs map[string]cachedCert
}

type cachedCert struct {
	key *rsa.PublicKey
	at  time.Time
}

const (
	certTTL      = 24 * time.Hour
	maxCerts     = 32
	maxCertBytes = 64 << 10
)

func newSNSVerifier(o SES, now func() time.Time) *snsVerifier {
	v := &snsVerifier{client: o.Client, check: o.CheckURL, now: now, certs: map[string]cachedCert{}}
	if v.client == nil {
		v.client = &http.Client{Timeout: 10 * time.Second}
	}
	// A redirect would take the fetch off the checked host.
	c := *v.client
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	v.client = &c
	if v.check == nil {
		v.check = SNSURL
	}
	return v
}

// verify checks m's signature. A certificate that cannot be fetched is
// a 503 (SNS sends again); a URL off SNS's hosts or a wrong signature a
// 401.
func (v *snsVerifier) verify(ctx context.Context, m *snsMessage) error {
	var hash crypto.Hash
	switch m.SignatureVersion {
	case "1":
		hash = crypto.SHA1
	case "2":
		hash = crypto.SHA256
	default:
		return unauthorized("SNS SignatureVersion %q: tidings checks 1 and 2", m.SignatureVersion)
	}
	text, err := m.stringToSign()
	if err != nil {
		return unauthorized("%v", err)
	}
	sig, err := base64.StdEncoding.DecodeString(m.Signature)
	if err != nil || len(sig) == 0 {
		return unauthorized("SNS Signature missing or not base64")
	}
	if err := v.check(m.SigningCertURL); err != nil {
		return unauthorized("SNS SigningCertURL refused: %v", err)
	}
	key, err := v.cert(ctx, m.SigningCertURL)
	if err != nil {
		return err
	}
	var sum []byte
	if hash == crypto.SHA1 {
		s := sha1.Sum([]byte(text))
		sum = s[:]
	} else {
		s := sha256.Sum256([]byte(text))
		sum = s[:]
	}
	if rsa.VerifyPKCS1v15(key, hash, sum, sig) != nil {
		return unauthorized("SNS signature does not match the message")
	}
	return nil
}

// cert returns the public key of the certificate at u, from the cache
// when it was fetched within certTTL.
func (v *snsVerifier) cert(ctx context.Context, u string) (*rsa.PublicKey, error) {
	now := v.now()
	v.mu.Lock()
	c, ok := v.certs[u]
	v.mu.Unlock()
	if ok && now.Sub(c.at) < certTTL {
		return c.key, nil
	}
	b, err := v.get(ctx, u, maxCertBytes)
	if err != nil {
		return nil, &web.Problem{Kind: web.Unavailable, Message: "the SNS signing certificate could not be fetched; send it again",
			Err: fmt.Errorf("fetch SNS signing certificate %s: %w", u, err)}
	}
	block, _ := pem.Decode(b)
	if block == nil {
		return nil, unauthorized("SNS signing certificate at %s is not PEM", u)
	}
	cert, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		return nil, unauthorized("SNS signing certificate at %s: %v", u, err)
	}
	if now.Before(cert.NotBefore) || now.After(cert.NotAfter) {
		return nil, unauthorized("SNS signing certificate at %s is not valid now", u)
	}
	key, ok := cert.PublicKey.(*rsa.PublicKey)
	if !ok {
		return nil, unauthorized("SNS signing certificate at %s has no RSA key", u)
	}
	v.mu.Lock()
	if len(v.certs) >= maxCerts {
		clear(v.certs) // a handful of regions' certificates; refetching them is cheap
	}
	v.certs[u] = cachedCert{key: key, at: now}
	v.mu.Unlock()
	return key, nil
}

// confirm GETs a subscription's SubscribeURL, which SNS signed.
func (v *snsVerifier) confirm(ctx context.Context, u string) error {
	if err := v.check(u); err != nil {
		return unauthorized("SNS SubscribeURL refused: %v", err)
	}
	if _, err := v.get(ctx, u, maxCertBytes); err != nil {
		return &web.Problem{Kind: web.Unavailable, Message: "the SNS subscription could not be confirmed; send it again",
			Err: fmt.Errorf("confirm SNS subscription: %w", err)}
	}
	return nil
}

func (v *snsVerifier) get(ctx context.Context, u string, limit int64) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, err
	}
	resp, err := v.client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("%s: %s", u, resp.Status)
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > limit {
		return nil, fmt.Errorf("%s: more than %d bytes", u, limit)
	}
	return b, nil
}
