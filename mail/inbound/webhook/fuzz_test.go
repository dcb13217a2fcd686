package webhook

import (
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/tidings/tidings/mail/inbound"
)

// seed adds every testdata file of provider to f's corpus.
func seed(f *testing.F, provider string) {
	files, err := filepath.Glob(filepath.Join(corpusDir, provider, "*.json"))
	if err != nil || len(files) == 0 {
		f.Fatalf("no seeds for %s: %v", provider, err)
	}
	for _, file := range files {
		b, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte("null"))
	f.Add([]byte("[]"))
	f.Add([]byte(`{"":{}}`))
}

var kinds = []inbound.Kind{inbound.KindBounce, inbound.KindComplaint, inbound.KindUnsubscribe, inbound.KindAutoReply,
	inbound.KindDelayed, inbound.KindDelivered, inbound.KindUnmatched}

// checkParse holds one parser to what the Handler relies on, whatever the
// input: no panic, the same answer twice (no map order leaks out), known
// kinds with a reason, only bounces+TOKEN@ addresses in To, Message-IDs
// in brackets, diagnostics clipped.
func checkParse(t *testing.T, parse func([]byte) ([]inbound.Result, error), b []byte) {
	res, err := parse(b)
	again, err2 := parse(b)
	if (err == nil) != (err2 == nil) || !reflect.DeepEqual(res, again) {
		t.Fatalf("two parses differ: %+v, %v / %+v, %v", res, err, again, err2)
	}
	if err != nil {
		if res != nil {
			t.Fatalf("results with an error: %+v", res)
		}
		return
	}
	for _, r := range res {
		if !slices.Contains(kinds, r.Kind) || r.Reason == "" {
			t.Fatalf("kind %q, reason %q", r.Kind, r.Reason)
		}
		if r.Permanent && r.Kind != inbound.KindBounce {
			t.Fatalf("a permanent %s", r.Kind)
		}
		for _, a := range r.To {
			if !strings.HasPrefix(strings.ToLower(a), "bounces+") || !strings.Contains(a, "@") || strings.ContainsAny(a, " \r\n<>") {
				t.Fatalf("To holds %q", a)
			}
		}
		if id := r.MessageID; id != "" && (!strings.HasPrefix(id, "<") || !strings.HasSuffix(id, ">") || strings.ContainsAny(id, " \r\n")) {
			t.Fatalf("MessageID %q", id)
		}
		if len(r.Diagnostic) > maxDiagnostic || !utf8.ValidString(r.Diagnostic) && utf8.ValidString(string(b)) {
			t.Fatalf("diagnostic of %d bytes", len(r.Diagnostic))
		}
	}
}

func FuzzSES(f *testing.F) {
	seed(f, "ses")
	f.Fuzz(func(t *testing.T, b []byte) { checkParse(t, parseSES, b) })
}

func FuzzPostmark(f *testing.F) {
	seed(f, "postmark")
	f.Fuzz(func(t *testing.T, b []byte) { checkParse(t, parsePostmark, b) })
}

func FuzzMailgun(f *testing.F) {
	seed(f, "mailgun")
	f.Fuzz(func(t *testing.T, b []byte) { checkParse(t, parseMailgun, b) })
}

func FuzzSendGrid(f *testing.F) {
	seed(f, "sendgrid")
	f.Fuzz(func(t *testing.T, b []byte) { checkParse(t, parseSendGrid, b) })
}

// FuzzSNS feeds SNS envelopes (seeded with SES notifications wrapped as
// SNS sends them) through the envelope reader and the text it signs.
func FuzzSNS(f *testing.F) {
	f.Add([]byte(`{"Type":"Notification","MessageId":"m","TopicArn":"arn:aws:sns:us-east-1:1:t","Subject":"s","Message":"{}","Timestamp":"2026-12-01T00:00:00.000Z","SignatureVersion":"2","Signature":"AAAA","SigningCertURL":"https://sns.us-east-1.amazonaws.com/c.pem"}`))
	f.Add([]byte(`{"Type":"SubscriptionConfirmation","MessageId":"m","Token":"t","TopicArn":"arn:aws:sns:us-east-1:1:t","Message":"x","SubscribeURL":"https://sns.us-east-1.amazonaws.com/?Action=ConfirmSubscription","Timestamp":"t","SignatureVersion":"1","Signature":"AAAA","SigningCertURL":"https://sns.us-east-1.amazonaws.com/c.pem"}`))
	f.Add([]byte(`{"Type":"Notification","TopicArn":"a","Message":null}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := parseSNS(b)
		if err != nil {
			return
		}
		text, err := m.stringToSign()
		if err == nil && !strings.HasPrefix(text, "Message\n") {
			t.Fatalf("string to sign starts %q", text)
		}
		SNSURL(m.SigningCertURL)
		SNSURL(m.SubscribeURL)
		parseSES([]byte(m.Message))
	})
}
