package webhook

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tidings/tidings/mail/inbound"
	"github.com/tidings/tidings/mail/inbound/webhook/webhooktest"
)

const topic = "arn:aws:sns:us-east-1:111122223333:tidings-returns"

// fixture is a testdata file's bytes.
func fixture(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(corpusDir, name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// rig is a Handler on a mux with every provider on, recording what it
// hands on.
type rig struct {
	mux  *http.ServeMux
	now  time.Time
	fail error // Handle's answer while set

	mu   sync.Mutex
	got  []inbound.Result
	last http.Header // of the last answer
}

func newRig(t *testing.T, o Options) *rig {
	t.Helper()
	r := &rig{mux: http.NewServeMux(), now: time.Now().Truncate(time.Second)}
	o.Now = func() time.Time { return r.now }
	o.Handle = func(ctx context.Context, res inbound.Result) error {
		r.mu.Lock()
		defer r.mu.Unlock()
		if r.fail != nil {
			return r.fail
		}
		r.got = append(r.got, res)
		return nil
	}
	h, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	h.Routes(r.mux)
	return r
}

func (r *rig) handled() []inbound.Result {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]inbound.Result(nil), r.got...)
}

// post sends body to /webhooks/provider and returns the status and the
// answer; the answer must be JSON.
func (r *rig) post(t *testing.T, provider string, body []byte, mod func(*http.Request)) (int, string) {
	t.Helper()
	req := httptest.NewRequest(http.MethodPost, "/webhooks/"+provider, bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if mod != nil {
		mod(req)
	}
	w := httptest.NewRecorder()
	r.mux.ServeHTTP(w, req)
	r.last = w.Header()
	if ct := w.Header().Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Errorf("%s: answer is %q, not JSON: %s", provider, ct, w.Body)
	}
	return w.Code, w.Body.String()
}

func TestSNSURL(t *testing.T) {
	for u, ok := range map[string]bool{
		"https://sns.us-east-1.amazonaws.com/SimpleNotificationService-abc.pem":      true,
		"https://sns.eu-central-1.amazonaws.com/?Action=ConfirmSubscription&Token=x": true,
		"https://sns.us-gov-west-1.amazonaws.com/x.pem":                              true,
		"https://sns.us-east-1.amazonaws.com:443/x.pem":                              true,
		"https://SNS.US-EAST-1.AMAZONAWS.COM/x.pem":                                  true,
		"http://sns.us-east-1.amazonaws.com/x.pem":                                   false,
		"https://sns.us-east-1.amazonaws.com.evil.example/x.pem":                     false,
		"https://evil.example/sns.us-east-1.amazonaws.com/x.pem":                     false,
		"https://evilsns.us-east-1.amazonaws.com/x.pem":                              false,
		"https://sns.amazonaws.com/x.pem":                                            false,
		"https://s3.us-east-1.amazonaws.com/x.pem":                                   false,
		"https://user:pw@sns.us-east-1.amazonaws.com/x.pem":                          false,
		"https://sns.us-east-1.amazonaws.com:8443/x.pem":                             false,
		"https://127.0.0.1/x.pem":                                                    false,
		"https://[::1]/x.pem":                                                        false,
		"//sns.us-east-1.amazonaws.com/x.pem":                                        false,
		"":                                                                           false,
		"https://sns.us-east-1.amazonaws.com%2f.evil.example/x":                      false,
	} {
		if err := SNSURL(u); (err == nil) != ok {
			t.Errorf("SNSURL(%q) = %v, want ok=%v", u, err, ok)
		}
	}
}

func TestHandler_SES(t *testing.T) {
	sns := webhooktest.NewSNS(t)
	r := newRig(t, Options{SES: SES{TopicARNs: []string{topic}, Client: sns.Client}})
	msg := string(fixture(t, "ses/bounce-permanent.json"))

	if code, body := r.post(t, "ses", sns.SubscriptionConfirmation(topic, "tok-1"), nil); code != 200 {
		t.Fatalf("subscription confirmation: %d %s", code, body)
	}
	if c := sns.Confirmed(); len(c) != 1 || c[0] != "tok-1" {
		t.Fatalf("confirmed %q, want the SubscribeURL fetched once", c)
	}
	for _, v := range []string{"1", "2"} {
		if code, body := r.post(t, "ses", sns.Notification(topic, msg, v), nil); code != 200 || !strings.Contains(body, `"events":1`) {
			t.Fatalf("SignatureVersion %s: %d %s", v, code, body)
		}
	}
	got := r.handled()
	if len(got) != 2 || got[0].Provider != "ses" || got[0].Kind != inbound.KindBounce || !got[0].Permanent || got[0].Recipient != "ada@example.com" {
		t.Fatalf("handled %+v", got)
	}
	if n := sns.CertFetches.Load(); n != 1 {
		t.Errorf("signing certificate fetched %d times, want once (cached)", n)
	}

	// Each of these is refused, and nothing reaches Handle.
	resign := func(edit func(m map[string]string)) []byte {
		var m map[string]string
		if err := json.Unmarshal(sns.Notification(topic, msg, "2"), &m); err != nil {
			t.Fatal(err)
		}
		edit(m)
		return sns.Sign(m)
	}
	tampered := func(edit func(m map[string]string)) []byte {
		var m map[string]string
		json.Unmarshal(sns.Notification(topic, msg, "2"), &m)
		edit(m)
		b, _ := json.Marshal(m)
		return b
	}
	other := webhooktest.NewSNS(t) // another key, the same certificate URL
	for name, tt := range map[string]struct {
		body []byte
		code int
		says string
	}{
		"message changed after signing": {tampered(func(m map[string]string) {
			m["Message"] = strings.Replace(m["Message"], "ada@", "someone@", 1)
		}), 401, "does not match"},
		"signed with another key": {other.Notification(topic, msg, "2"), 401, "does not match"},
		"no signature":            {tampered(func(m map[string]string) { delete(m, "Signature") }), 401, "Signature"},
		"certificate on another host": {resign(func(m map[string]string) {
			m["SigningCertURL"] = "https://sns.us-east-1.amazonaws.com.evil.example/c.pem"
		}), 401, "SigningCertURL"},
		"certificate over http": {resign(func(m map[string]string) { m["SigningCertURL"] = "http://sns.us-east-1.amazonaws.com/c.pem" }), 401, "https"},
		"another topic":         {resign(func(m map[string]string) { m["TopicArn"] = "arn:aws:sns:us-east-1:999999999999:theirs" }), 401, "ses_topic_arns"},
		"signature version 3":   {resign(func(m map[string]string) { m["SignatureVersion"] = "3" }), 401, "SignatureVersion"},
		"raw message delivery":  {[]byte(msg), 400, "raw message delivery"},
		"not json":              {[]byte("Type=Notification"), 400, "not a SNS webhook"},
		"SES message not json":  {sns.Notification(topic, "hello", "2"), 400, "SES"},
	} {
		code, body := r.post(t, "ses", tt.body, nil)
		if code != tt.code || !strings.Contains(body, tt.says) {
			t.Errorf("%s: %d %s, want %d saying %q", name, code, body, tt.code, tt.says)
		}
	}
	if n := len(r.handled()); n != 2 {
		t.Errorf("%d events handled, want the 2 good ones only", n)
	}
	if n := sns.CertFetches.Load(); n != 1 {
		t.Errorf("signing certificate fetched %d times: a refused URL must not be fetched", n)
	}
	// A SubscribeURL off SNS is never fetched, even signed.
	var m map[string]string
	json.Unmarshal(sns.SubscriptionConfirmation(topic, "tok-2"), &m)
	m["SubscribeURL"] = "https://evil.example/?Action=ConfirmSubscription&Token=tok-2"
	if code, body := r.post(t, "ses", sns.Sign(m), nil); code != 401 || len(sns.Confirmed()) != 1 {
		t.Errorf("SubscribeURL off SNS: %d %s, confirmed %q", code, body, sns.Confirmed())
	}

	r.fail = errors.New("database is locked")
	if code, body := r.post(t, "ses", sns.Notification(topic, msg, "2"), nil); code != 503 {
		t.Errorf("Handle failing: %d %s, want 503 so that SNS sends it again", code, body)
	}
}

func TestHandler_Postmark(t *testing.T) {
	r := newRig(t, Options{Postmark: Postmark{Username: "postmark", Password: "s3cret"}})
	body := fixture(t, "postmark/bounce-hard.json")
	for name, tt := range map[string]struct {
		user, pass string
		code       int
	}{
		"no credentials":  {"", "", 401},
		"wrong password":  {"postmark", "guess", 401},
		"wrong user":      {"admin", "s3cret", 401},
		"right":           {"postmark", "s3cret", 200},
		"password prefix": {"postmark", "s3cre", 401},
	} {
		code, out := r.post(t, "postmark", body, func(req *http.Request) {
			if tt.user != "" || tt.pass != "" {
				req.SetBasicAuth(tt.user, tt.pass)
			}
		})
		if code != tt.code {
			t.Errorf("%s: %d %s, want %d", name, code, out, tt.code)
		}
		if code == 401 && !strings.HasPrefix(r.last.Get("WWW-Authenticate"), "Basic ") {
			t.Errorf("%s: 401 without a Basic challenge", name)
		}
	}
	if got := r.handled(); len(got) != 1 || got[0].Provider != "postmark" || !got[0].Permanent {
		t.Fatalf("handled %+v", got)
	}
	auth := func(req *http.Request) { req.SetBasicAuth("postmark", "s3cret") }
	if code, out := r.post(t, "postmark", []byte(`{"RecordType": "Bounce", "Type": `), auth); code != 400 {
		t.Errorf("truncated JSON: %d %s", code, out)
	}
}

func TestHandler_Mailgun(t *testing.T) {
	const key = "key-3ax6xnjp29jd6fds4gc373sgvjxteol0"
	r := newRig(t, Options{Mailgun: Mailgun{SigningKey: key}})
	var w struct {
		EventData json.RawMessage `json:"event-data"`
	}
	if err := json.Unmarshal(fixture(t, "mailgun/failed-permanent.json"), &w); err != nil {
		t.Fatal(err)
	}
	sign := func(k string, at time.Time, token string) []byte {
		return webhooktest.Mailgun(k, at, token, w.EventData)
	}
	for _, tt := range []struct {
		name string
		body []byte
		code int
		says string
	}{
		{"signed", sign(key, r.now, "tok-a"), 200, ""},
		{"the same token again", sign(key, r.now.Add(time.Second), "tok-a"), 401, "replayed"},
		{"another key", sign("key-other", r.now, "tok-b"), 401, "does not match"},
		{"20 minutes old", sign(key, r.now.Add(-20*time.Minute), "tok-c"), 401, "timestamp"},
		{"20 minutes ahead", sign(key, r.now.Add(20*time.Minute), "tok-d"), 401, "timestamp"},
		{"no signature", []byte(`{"event-data": {"event": "failed"}}`), 401, "no Mailgun signature"},
		{"signature not hex", bytes.Replace(sign(key, r.now, "tok-e"), []byte(`"signature":"`), []byte(`"signature":"zz`), 1), 401, "does not match"},
		{"not json", []byte("signature=abc&token=def"), 400, "not a Mailgun webhook"},
		{"signed, without event-data", webhooktest.Mailgun(key, r.now, "tok-f", nil), 400, "event-data"},
	} {
		code, out := r.post(t, "mailgun", tt.body, nil)
		if code != tt.code || !strings.Contains(out, tt.says) {
			t.Errorf("%s: %d %s, want %d saying %q", tt.name, code, out, tt.code, tt.says)
		}
	}
	if got := r.handled(); len(got) != 1 || got[0].Provider != "mailgun" || got[0].MessageID != mid49 || got[0].To[0] != ret11 {
		t.Fatalf("handled %+v", got)
	}
	// A request that could not be recorded may come again with its token.
	r.fail = errors.New("database is locked")
	if code, _ := r.post(t, "mailgun", sign(key, r.now, "tok-g"), nil); code != 503 {
		t.Fatalf("Handle failing: %d, want 503", code)
	}
	r.fail = nil
	if code, out := r.post(t, "mailgun", sign(key, r.now, "tok-g"), nil); code != 200 {
		t.Errorf("the retry of a 503: %d %s", code, out)
	}
}

func TestHandler_SendGrid(t *testing.T) {
	k, pub := webhooktest.SendGridKey(t)
	r := newRig(t, Options{SendGrid: SendGrid{PublicKey: pub}})
	body := fixture(t, "sendgrid/events.json")
	signed := func(at time.Time) func(*http.Request) {
		return func(req *http.Request) { webhooktest.SendGrid(req, k, at, body) }
	}
	if code, out := r.post(t, "sendgrid", body, signed(r.now)); code != 200 || !strings.Contains(out, `"events":10`) {
		t.Fatalf("signed: %d %s", code, out)
	}
	if got := r.handled(); len(got) != 10 || got[1].Provider != "sendgrid" || got[1].Kind != inbound.KindBounce {
		t.Fatalf("handled %+v", got)
	}
	other, _ := webhooktest.SendGridKey(t)
	changed := bytes.Replace(body, []byte("ada@example.com"), []byte("adb@example.com"), 1)
	for _, tt := range []struct {
		name string
		body []byte
		mod  func(*http.Request)
		says string
	}{
		{"unsigned", body, nil, "no SendGrid signature"},
		{"signed by another key", body, func(req *http.Request) { webhooktest.SendGrid(req, other, r.now, body) }, "does not match"},
		{"body changed after signing", changed, signed(r.now), "does not match"},
		{"an hour old", body, signed(r.now.Add(-time.Hour)), "timestamp"},
		{"timestamp changed", body, func(req *http.Request) {
			webhooktest.SendGrid(req, k, r.now, body)
			req.Header.Set("X-Twilio-Email-Event-Webhook-Timestamp", strconv.FormatInt(r.now.Unix()+1, 10))
		}, "does not match"},
	} {
		code, out := r.post(t, "sendgrid", tt.body, tt.mod)
		if code != 401 || !strings.Contains(out, tt.says) {
			t.Errorf("%s: %d %s, want 401 saying %q", tt.name, code, out, tt.says)
		}
	}
	if n := len(r.handled()); n != 10 {
		t.Errorf("%d events handled after the refused requests, want 10", n)
	}
	bad := []byte(`{"event": "bounce"}`)
	if code, out := r.post(t, "sendgrid", bad, func(req *http.Request) { webhooktest.SendGrid(req, k, r.now, bad) }); code != 400 {
		t.Errorf("signed, not an array: %d %s", code, out)
	}
}

func TestHandler_OffUnknownTooLarge(t *testing.T) {
	r := newRig(t, Options{Postmark: Postmark{Password: "pw"}, MaxBytes: 1024})
	for provider, says := range map[string]string{
		"ses":       "ses_topic_arns",
		"mailgun":   "mailgun_signing_key",
		"sendgrid":  "sendgrid_public_key",
		"sparkpost": "tidings takes ses, postmark, mailgun and sendgrid",
	} {
		if code, out := r.post(t, provider, []byte("{}"), nil); code != 404 || !strings.Contains(out, says) {
			t.Errorf("%s: %d %s, want 404 saying %q", provider, code, out, says)
		}
	}
	auth := func(req *http.Request) { req.SetBasicAuth("", "pw") }
	big := []byte(`{"RecordType": "Bounce", "Details": "` + strings.Repeat("x", 2000) + `"}`)
	if code, out := r.post(t, "postmark", big, auth); code != 413 || !strings.Contains(out, "max_bytes") {
		t.Errorf("oversized: %d %s", code, out)
	}
	if n := len(r.handled()); n != 0 {
		t.Errorf("%d events handled", n)
	}
}

func TestNew_BadSendGridKey(t *testing.T) {
	for _, k := range []string{"not base64!", "aGVsbG8=", "-----BEGIN PUBLIC KEY-----\naGVsbG8=\n-----END PUBLIC KEY-----\n"} {
		if _, err := New(Options{SendGrid: SendGrid{PublicKey: k}}); err == nil {
			t.Errorf("key %q accepted", k)
		}
	}
}

// The test vector SendGrid's own libraries verify (sendgrid-nodejs
// eventwebhook): our scheme is theirs.
func TestVerifySendGrid_PublishedVector(t *testing.T) {
	k, err := ParseSendGridKey("MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEEDr2LjtURuePQzplybdC+u4CwrqDqBaWjcMMsTbhdbcwHBcepxo7yAQGhHPTnlvFYPAZFceEu/1FwCM/QmGUhA==")
	if err != nil {
		t.Fatal(err)
	}
	const sig = "MEUCIQCtIHJeH93Y+qpYeWrySphQgpNGNr/U+UyUlBkU6n7RAwIgJTz2C+8a8xonZGi6BpSzoQsbVRamr2nlxFDWYNH2j/0="
	body := []byte(`{"category":"example_payload","event":"test_event","message_id":"message_id"}`)
	if !verifySendGrid(k, "1588788367", sig, body) {
		t.Error("the published vector does not verify")
	}
	if verifySendGrid(k, "1588788368", sig, body) || verifySendGrid(k, "1588788367", sig, append(body, '\n')) {
		t.Error("a changed timestamp or body verifies")
	}
}
