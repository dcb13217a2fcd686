package webhook

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/tidings/tidings/mail/inbound"
)

// want is what one event of a testdata file must become. to is the
// bounces+TOKEN@ address the Result must carry ("" for none), msgID its
// Message-ID ("" for none).
type want struct {
	kind      inbound.Kind
	hard      bool
	recipient string
	status    string
	to        string
	msgID     string
}

const (
	ret11 = "bounces+d4711.k3f9@in.example.org"
	mid49 = "<e12.s49.5c6d7e8f90123456@example.org>"
)

// parsers are each provider's JSON reader, by testdata folder.
var parsers = map[string]func([]byte) ([]inbound.Result, error){
	"ses":      parseSES,
	"postmark": parsePostmark,
	"mailgun":  parseMailgun,
	"sendgrid": parseSendGrid,
}

// corpus is every file under testdata/PROVIDER with what it must
// become; nil for a body the parser must refuse.
var corpus = map[string][]want{
	"ses/bounce-permanent.json":                     {{inbound.KindBounce, true, "ada@example.com", "5.1.1", ret11, mid49}},
	"ses/bounce-transient-mailbox-full.json":        {{inbound.KindBounce, false, "bo@example.net", "5.2.2", "bounces+d4712.r8t2@in.example.org", ""}},
	"ses/bounce-undetermined.json":                  {{inbound.KindBounce, false, "cy@example.com", "", "", "<e13.s50.0011223344556677@example.org>"}},
	"ses/bounce-suppressed.json":                    {{inbound.KindBounce, true, "di@example.com", "5.1.1", "bounces+d4714.zz77@in.example.org", ""}},
	"ses/bounce-permanent-policy.json":              {{inbound.KindBounce, false, "eve@example.com", "5.7.1", "bounces+d4715.aa11@in.example.org", ""}},
	"ses/bounce-two-recipients.json":                {{inbound.KindBounce, true, "fay@example.com", "5.1.1", "bounces+b9.qq22@in.example.org", ""}, {inbound.KindBounce, true, "gus@example.com", "5.0.0", "bounces+b9.qq22@in.example.org", ""}},
	"ses/complaint-abuse.json":                      {{inbound.KindComplaint, false, "hal@example.com", "", "bounces+d4717.cc33@in.example.org", "<e12.s51.8899aabbccddeeff@example.org>"}},
	"ses/complaint-no-feedback-type.json":           {{inbound.KindComplaint, false, "ivy@example.com", "", "", "<e12.s52.0123456789abcdef@example.org>"}},
	"ses/complaint-not-spam.json":                   {{inbound.KindUnmatched, false, "jo@example.com", "", "bounces+d4719.dd44@in.example.org", ""}},
	"ses/delivery.json":                             {{inbound.KindDelivered, false, "kim@example.com", "", "bounces+d4720.ee55@in.example.org", ""}},
	"ses/event-bounce.json":                         {{inbound.KindBounce, true, "lu@example.com", "5.1.1", "bounces+d4721.ff66@in.example.org", "<e14.s60.aaaaaaaaaaaaaaaa@example.org>"}},
	"ses/event-subscription.json":                   {{inbound.KindUnsubscribe, false, "max@example.com", "", "bounces+d4722.gg77@in.example.org", ""}},
	"ses/bad-no-type.json":                          nil,
	"ses/bad-bounce-without-object.json":            nil,
	"postmark/bounce-hard.json":                     {{inbound.KindBounce, true, "ada@example.com", "5.1.1", ret11, ""}},
	"postmark/bounce-soft.json":                     {{inbound.KindBounce, false, "bo@example.net", "4.2.2", "bounces+d4712.r8t2@in.example.org", ""}},
	"postmark/bounce-hard-mailbox-full.json":        {{inbound.KindBounce, false, "cy@example.com", "5.2.2", "", ""}},
	"postmark/bounce-typecode-only.json":            {{inbound.KindBounce, true, "di@@example.com", "", "bounces+d4714.zz77@in.example.org", ""}},
	"postmark/bounce-blocked.json":                  {{inbound.KindBounce, false, "eve@example.com", "5.7.1", "", ""}},
	"postmark/bounce-with-content.json":             {{inbound.KindBounce, true, "fay@example.com", "5.1.1", "", "<e12.s55.fedcba9876543210@example.org>"}},
	"postmark/spam-complaint.json":                  {{inbound.KindComplaint, false, "hal@example.com", "", "bounces+d4717.cc33@in.example.org", ""}},
	"postmark/subscription-change-manual.json":      {{inbound.KindUnsubscribe, false, "ivy@example.com", "", "bounces+d4718.hh88@in.example.org", ""}},
	"postmark/subscription-change-hard-bounce.json": {{inbound.KindUnmatched, false, "ada@example.com", "", "", ""}},
	"postmark/subscription-change-reactivated.json": {{inbound.KindUnmatched, false, "ada@example.com", "", "", ""}},
	"postmark/bounce-autoresponder.json":            {{inbound.KindAutoReply, false, "jo@example.com", "", "", ""}},
	"postmark/delivery.json":                        {{inbound.KindUnmatched, false, "kim@example.com", "", "", ""}},
	"postmark/bad-no-record-type.json":              nil,
	"postmark/bad-unknown-type.json":                nil,
	"mailgun/failed-permanent.json":                 {{inbound.KindBounce, true, "ada@example.com", "5.1.1", ret11, mid49}},
	"mailgun/failed-temporary.json":                 {{inbound.KindDelayed, false, "bo@example.net", "", "bounces+d4712.r8t2@in.example.org", "<e12.s50.1111111111111111@example.org>"}},
	"mailgun/failed-permanent-old.json":             {{inbound.KindBounce, false, "cy@example.com", "4.2.2", "bounces+d4713.mm11@in.example.org", "<e12.s51.2222222222222222@example.org>"}},
	"mailgun/failed-suppress-bounce.json":           {{inbound.KindBounce, true, "di@example.com", "", "bounces+d4714.zz77@in.example.org", "<e12.s52.3333333333333333@example.org>"}},
	"mailgun/failed-suppress-complaint.json":        {{inbound.KindComplaint, false, "gus@example.com", "", "bounces+d4716.nn22@in.example.org", "<e12.s53.4444444444444444@example.org>"}},
	"mailgun/complained.json":                       {{inbound.KindComplaint, false, "hal@example.com", "", "bounces+d4717.cc33@in.example.org", "<e12.s54.5555555555555555@example.org>"}},
	"mailgun/unsubscribed.json":                     {{inbound.KindUnsubscribe, false, "ivy@example.com", "", "", "<e12.s55.6666666666666666@example.org>"}},
	"mailgun/delivered.json":                        {{inbound.KindDelivered, false, "kim@example.com", "", "bounces+d4720.ee55@in.example.org", "<e12.s56.7777777777777777@example.org>"}},
	"mailgun/bad-no-event-data.json":                nil,
	"mailgun/bad-code-object.json":                  nil,
	"sendgrid/events.json": {
		{inbound.KindDelivered, false, "kim@example.com", "", "bounces+d4720.ee55@in.example.org", "<e12.s56.7777777777777777@example.org>"},
		{inbound.KindBounce, true, "ada@example.com", "5.1.1", ret11, mid49},
		{inbound.KindBounce, false, "bo@example.net", "5.7.1", "bounces+d4712.r8t2@in.example.org", "<e12.s50.1111111111111111@example.org>"},
		{inbound.KindBounce, true, "cy@example.com", "", "", "<e12.s51.2222222222222222@example.org>"},
		{inbound.KindDelayed, false, "di@example.com", "", "", "<e12.s52.3333333333333333@example.org>"},
		{inbound.KindComplaint, false, "hal@example.com", "", "", "<e12.s54.5555555555555555@example.org>"},
		{inbound.KindUnsubscribe, false, "ivy@example.com", "", "", "<e12.s55.6666666666666666@example.org>"},
		{inbound.KindUnsubscribe, false, "jo@example.com", "", "", ""},
		{inbound.KindComplaint, false, "lu@example.com", "", "", "<e12.s57.8888888888888888@example.org>"},
		{inbound.KindUnmatched, false, "max@example.com", "", "", ""},
	},
	"sendgrid/bounce-legacy-blocked-event.json": {{inbound.KindBounce, false, "nia@example.com", "4.7.0", "", "<e12.s58.9999999999999999@example.org>"}},
	"sendgrid/bad-object-not-array.json":        nil,
	"sendgrid/bad-no-event.json":                nil,
}

// TestParse_Corpus holds each provider's documented webhook JSON to what
// it must become, and every file under testdata to an entry here.
func TestParse_Corpus(t *testing.T) {
	files, err := filepath.Glob(filepath.Join(corpusDir, "*", "*.json"))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		name := filepath.ToSlash(strings.TrimPrefix(f, corpusDir+string(filepath.Separator)))
		if _, ok := corpus[name]; !ok {
			t.Errorf("%s has no expected outcome in corpus", name)
		}
	}
	for name, wants := range corpus {
		t.Run(name, func(t *testing.T) {
			b, err := os.ReadFile(filepath.Join(corpusDir, name))
			if err != nil {
				t.Fatal(err)
			}
			got, err := parsers[strings.Split(name, "/")[0]](b)
			if wants == nil {
				if err == nil {
					t.Fatalf("accepted: %+v", got)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(wants) {
				t.Fatalf("%d results, want %d: %+v", len(got), len(wants), got)
			}
			for i, w := range wants {
				g := got[i]
				var to string
				if len(g.To) > 0 {
					to = g.To[0]
				}
				if g.Kind != w.kind || g.Permanent != w.hard || g.Recipient != w.recipient || g.Status != w.status || to != w.to || g.MessageID != w.msgID {
					t.Errorf("event %d:\n got %s hard=%v rcpt=%q status=%q to=%q msgid=%q (%s)\nwant %s hard=%v rcpt=%q status=%q to=%q msgid=%q",
						i, g.Kind, g.Permanent, g.Recipient, g.Status, to, g.MessageID, g.Reason, w.kind, w.hard, w.recipient, w.status, w.to, w.msgID)
				}
				if g.Reason == "" {
					t.Errorf("event %d: no Reason", i)
				}
			}
		})
	}
}

func TestReturnPaths(t *testing.T) {
	got := returnPaths("news@example.org", "Example News <bounces+a.b@in.example.org>", "BOUNCES+C@x.example", "bounces+@", "bounces+x@y z", "", "bounces@in.example.org")
	want := []string{"bounces+a.b@in.example.org", "BOUNCES+C@x.example"}
	if !slices.Equal(got, want) {
		t.Errorf("returnPaths = %q, want %q", got, want)
	}
}

func TestAngled(t *testing.T) {
	for in, want := range map[string]string{"a@b": "<a@b>", "<a@b>": "<a@b>", " a@b ": "<a@b>", "": "", "a b@c": "", "a@b>": "<a@b>",
		"<a@b": "<a@b>", "<": "", "<>": "", ">": "", "<a<b>": ""} {
		if got := angled(in); got != want {
			t.Errorf("angled(%q) = %q, want %q", in, got, want)
		}
	}
}

// corpusDir holds each provider's documented webhook JSON, beside the
// bounce corpus the classifier's tests read.
var corpusDir = filepath.FromSlash("../../../testdata/inbound/webhooks")
