// Package webhooktest signs webhook requests as the providers do, for
// tests: a fake SNS on 127.0.0.1 with its own signing certificate,
// Mailgun's HMAC and SendGrid's ECDSA signatures.
package webhooktest

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// SNSHost is the host the fake SNS answers for.
const SNSHost = "sns.us-east-1.amazonaws.com"

// SNS is a fake Amazon SNS: an HTTPS server on 127.0.0.1 that serves its
// signing certificate and takes subscription confirmations, reached by
// Client under SNSHost, and a signer of messages with that certificate's
// key.
type SNS struct {
	// Client dials every address to the fake, whatever the URL's host,
	// and trusts its certificate: a test never leaves 127.0.0.1.
	Client *http.Client
	// CertURL is the SigningCertURL of the messages Sign makes.
	CertURL string
	// CertFetches counts the GETs of the certificate.
	CertFetches atomic.Int64

	srv *httptest.Server
	key *rsa.PrivateKey

	mu        sync.Mutex
	confirmed []string
}

// NewSNS starts a fake SNS, stopped when the test ends.
func NewSNS(t testing.TB) *SNS {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: SNSHost},
		DNSNames:     []string{SNSHost},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	certPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	s := &SNS{key: key, CertURL: "https://" + SNSHost + "/SimpleNotificationService-test.pem"}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /SimpleNotificationService-test.pem", func(w http.ResponseWriter, r *http.Request) {
		s.CertFetches.Add(1)
		w.Write(certPEM)
	})
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("Action") != "ConfirmSubscription" {
			http.Error(w, "unknown action", http.StatusBadRequest)
			return
		}
		s.mu.Lock()
		s.confirmed = append(s.confirmed, r.URL.Query().Get("Token"))
		s.mu.Unlock()
		w.Write([]byte("<ConfirmSubscriptionResponse/>"))
	})
	s.srv = httptest.NewUnstartedServer(mux)
	s.srv.TLS = &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}}}
	s.srv.StartTLS()
	t.Cleanup(s.srv.Close)
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(certPEM)
	addr := s.srv.Listener.Addr().String()
	s.Client = &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{
		DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
			return (&net.Dialer{}).DialContext(ctx, network, addr)
		},
		TLSClientConfig: &tls.Config{RootCAs: pool},
	}}
	return s
}

// Confirmed returns the tokens of the subscriptions confirmed so far.
func (s *SNS) Confirmed() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.confirmed...)
}

// Notification returns the body SNS POSTs for message published to
// topic, signed with SignatureVersion version ("1" or "2").
func (s *SNS) Notification(topic, message, version string) []byte {
	m := map[string]string{
		"Type": "Notification", "MessageId": "22b80b92-fdea-4c2c-8f9d-bdfb0c7bf324", "TopicArn": topic,
		"Subject": "Amazon SES Email Event Notification", "Message": message, "Timestamp": time.Now().UTC().Format("2006-01-02T15:04:05.000Z"),
		"SignatureVersion": version, "SigningCertURL": s.CertURL,
		"UnsubscribeURL": "https://" + SNSHost + "/?Action=Unsubscribe&SubscriptionArn=" + topic + ":c9135db0",
	}
	return s.Sign(m)
}

// SubscriptionConfirmation returns the body SNS POSTs when topic's
// subscription to the endpoint is made.
func (s *SNS) SubscriptionConfirmation(topic, token string) []byte {
	m := map[string]string{
		"Type": "SubscriptionConfirmation", "MessageId": "165545c9-2a5c-472c-8df2-7ff2be2b3b1b", "Token": token, "TopicArn": topic,
		"Message":      "You have chosen to subscribe to the topic " + topic + ".\nTo confirm the subscription, visit the SubscribeURL included in this message.",
		"SubscribeURL": "https://" + SNSHost + "/?Action=ConfirmSubscription&TopicArn=" + topic + "&Token=" + token,
		"Timestamp":    time.Now().UTC().Format("2006-01-02T15:04:05.000Z"), "SignatureVersion": "2", "SigningCertURL": s.CertURL,
	}
	return s.Sign(m)
}

// Sign sets m's Signature over the fields SNS signs for its Type, with
// the hash its SignatureVersion names, and returns m as JSON.
func (s *SNS) Sign(m map[string]string) []byte {
	var names []string
	switch m["Type"] {
	case "Notification":
		names = []string{"Message", "MessageId", "Subject", "Timestamp", "TopicArn", "Type"}
	default:
		names = []string{"Message", "MessageId", "SubscribeURL", "Timestamp", "Token", "TopicArn", "Type"}
	}
	var text string
	for _, n := range names {
		if v, ok := m[n]; ok && (v != "" || n != "Subject") {
			text += n + "\n" + v + "\n"
		}
	}
	var sig []byte
	var err error
	if m["SignatureVersion"] == "1" {
		sum := sha1.Sum([]byte(text))
		sig, err = rsa.SignPKCS1v15(rand.Reader, s.key, crypto.SHA1, sum[:])
	} else {
		sum := sha256.Sum256([]byte(text))
		sig, err = rsa.SignPKCS1v15(rand.Reader, s.key, crypto.SHA256, sum[:])
	}
	if err != nil {
		panic(err)
	}
	m["Signature"] = base64.StdEncoding.EncodeToString(sig)
	b, err := json.Marshal(m)
	if err != nil {
		panic(err)
	}
	return b
}

// Mailgun returns the body Mailgun POSTs for eventData, signed with key
// at ts with token.
func Mailgun(key string, ts time.Time, token string, eventData json.RawMessage) []byte {
	stamp := strconv.FormatInt(ts.Unix(), 10)
	mac := hmac.New(sha256.New, []byte(key))
	mac.Write([]byte(stamp + token))
	b, err := json.Marshal(map[string]any{
		"signature":  map[string]string{"timestamp": stamp, "token": token, "signature": hex.EncodeToString(mac.Sum(nil))},
		"event-data": eventData,
	})
	if err != nil {
		panic(err)
	}
	return b
}

// SendGridKey makes a key pair for the Signed Event Webhook and returns
// it with the public key as SendGrid shows it (base64 DER).
func SendGridKey(t testing.TB) (*ecdsa.PrivateKey, string) {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKIXPublicKey(&k.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	return k, base64.StdEncoding.EncodeToString(der)
}

// SendGrid signs body at ts and sets the two headers on req.
func SendGrid(req *http.Request, k *ecdsa.PrivateKey, ts time.Time, body []byte) {
	stamp := strconv.FormatInt(ts.Unix(), 10)
	sum := sha256.Sum256(append([]byte(stamp), body...))
	sig, err := ecdsa.SignASN1(rand.Reader, k, sum[:])
	if err != nil {
		panic(err)
	}
	req.Header.Set("X-Twilio-Email-Event-Webhook-Signature", base64.StdEncoding.EncodeToString(sig))
	req.Header.Set("X-Twilio-Email-Event-Webhook-Timestamp", stamp)
}
