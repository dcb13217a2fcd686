package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/mail"
	"strings"
	"testing"
	"time"

	"github.com/tidings/tidings/mail/inbound/webhook/webhooktest"
	"github.com/tidings/tidings/subscribers"
)

// The providers' webhooks, end to end: an edition goes to a real SMTP
// server; then serve takes, over HTTP, an SES bounce through a fake SNS
// whose certificate is fetched over TLS from 127.0.0.1, an SES complaint
// matched by Message-ID alone, a Postmark hard bounce, a Mailgun
// permanent failure and a SendGrid spam report, each signed as its
// provider signs. Those readers end bounced or complained; the same
// report twice counts once; a report about mail tidings never sent
// changes no one; and a wrongly signed report for the last reader, by
// each provider, is refused and leaves her subscribed.
func TestServe_Webhooks(t *testing.T) {
	sink := newSMTPSink(t)
	dir := t.TempDir()
	sns := webhooktest.NewSNS(t)
	sgKey, sgPub := webhooktest.SendGridKey(t)
	const topic = "arn:aws:sns:us-east-1:123456789012:tidings-returns"
	const mgKey = "key-3ax6xnjp29jd6fds4gc373sgvjxteol0"
	env, content := gazette(t, dir, sink.Addr.Port, fmt.Sprintf(`
[inbound]
domain = "in.gazette.example.org"
[inbound.webhooks]
ses_topic_arns = [%q]
postmark_username = "postmark"
postmark_password = "pm-pass"
mailgun_signing_key = %q
sendgrid_public_key = %q
[[digests]]
name = "daily"
schedule = "0 7 * * *"
`, topic, mgKey, sgPub))
	mustRun := mustRunner(t, env)
	writeFile(t, content, "a.md", "# Harbour reopens\n\nShips are back.\n")
	readers := []string{"ana@example.com", "bo@example.com", "cy@example.com", "di@example.com", "eve@example.com", "fay@example.com", "gus@example.com"}
	for _, r := range readers {
		mustRun("subscribers", "add", r, "--digests", "daily")
	}
	mustRun("ingest")
	mustRun("digest", "send", "daily")
	sink.wait(t, len(readers))
	verp, msgID, pmMeta := map[string]string{}, map[string]string{}, map[string]string{}
	sink.mu.Lock()
	for _, m := range sink.msgs {
		msg, err := mail.ReadMessage(bytes.NewReader(m.Data))
		if err != nil {
			t.Fatal(err)
		}
		verp[m.To[0]], msgID[m.To[0]] = m.From, msg.Header.Get("Message-ID")
		pmMeta[m.To[0]] = msg.Header.Get("X-PM-Metadata-tidings-return")
	}
	sink.mu.Unlock()
	for _, r := range readers {
		if !strings.HasPrefix(verp[r], "bounces+") || msgID[r] == "" || pmMeta[r] != verp[r] {
			t.Fatalf("%s: envelope sender %q, Message-ID %q, Postmark metadata header %q", r, verp[r], msgID[r], pmMeta[r])
		}
	}

	cfg, err := LoadConfig(env["TIDINGS_CONFIG"], func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	logs := &syncBuffer{}
	m := startRunning(t, &Main{Config: cfg, Listener: ln, SNSClient: sns.Client, Logs: logs})
	base := "http://" + ln.Addr().String() + "/webhooks/"
	post := func(what, provider string, body []byte, mod func(*http.Request)) int {
		t.Helper()
		req, err := http.NewRequest(http.MethodPost, base+provider, bytes.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/json")
		if provider == "ses" { // as SNS sends it
			req.Header.Set("Content-Type", "text/plain; charset=UTF-8")
			req.Header.Set("x-amz-sns-message-type", "Notification")
		}
		if mod != nil {
			mod(req)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		t.Logf("%s: %d %s", what, resp.StatusCode, bytes.TrimSpace(b))
		return resp.StatusCode
	}
	expect := func(what string, got, want int) {
		t.Helper()
		if got != want {
			t.Errorf("%s: HTTP %d, want %d", what, got, want)
		}
	}
	sesBounce := func(source, rcpt, id string) string {
		return fmt.Sprintf(`{"notificationType":"Bounce","bounce":{"bounceType":"Permanent","bounceSubType":"General",
			"bouncedRecipients":[{"emailAddress":%q,"action":"failed","status":"5.1.1","diagnosticCode":"smtp; 550 5.1.1 user unknown"}]},
			"mail":{"source":%q,"destination":[%q],"headers":[{"name":"Message-ID","value":%q}],"commonHeaders":{"messageId":%q}}}`,
			rcpt, source, rcpt, id, id)
	}

	expect("SNS subscription confirmation", post("confirm", "ses", sns.SubscriptionConfirmation(topic, "tok-1"), nil), 200)
	if c := sns.Confirmed(); len(c) != 1 {
		t.Errorf("subscription confirmed %d times, want once", len(c))
	}
	// ana: an SES hard bounce through SNS, to her VERP address; twice.
	ana := sesBounce(verp["ana@example.com"], "ana@example.com", "<0100019a-ses-rewrote-it@email.amazonses.com>")
	expect("SES bounce", post("ses bounce", "ses", sns.Notification(topic, ana, "1"), nil), 200)
	expect("SES bounce again", post("ses bounce again", "ses", sns.Notification(topic, ana, "2"), nil), 200)
	// bo: an SES complaint naming only his Message-ID.
	bo := fmt.Sprintf(`{"notificationType":"Complaint","complaint":{"complainedRecipients":[{"emailAddress":"bo@example.com"}],"complaintFeedbackType":"abuse"},
		"mail":{"source":"news@gazette.example.org","destination":["bo@example.com"],"commonHeaders":{"messageId":%q}}}`, msgID["bo@example.com"])
	expect("SES complaint", post("ses complaint", "ses", sns.Notification(topic, bo, "2"), nil), 200)
	// cy: a Postmark hard bounce whose metadata carries her return path,
	// as the X-PM-Metadata-tidings-return header sent it to Postmark.
	cy := fmt.Sprintf(`{"RecordType":"Bounce","Type":"HardBounce","TypeCode":1,"Email":"cy@example.com","Details":"smtp;550 5.1.1 unknown user",
		"MessageID":"883953f4-6105-42a2-a16a-77a8eac79483","Metadata":{"tidings-return":%q}}`, pmMeta["cy@example.com"])
	expect("Postmark bounce", post("postmark", "postmark", []byte(cy), func(r *http.Request) { r.SetBasicAuth("postmark", "pm-pass") }), 200)
	// di: a Mailgun permanent failure; its envelope sender is her return path.
	di := json.RawMessage(fmt.Sprintf(`{"event":"failed","severity":"permanent","reason":"bounce","recipient":"di@example.com",
		"delivery-status":{"code":550,"message":"550 5.1.1 no such user"},"envelope":{"sender":%q},"message":{"headers":{"message-id":"x@y"}}}`, verp["di@example.com"]))
	expect("Mailgun failure", post("mailgun", "mailgun", webhooktest.Mailgun(mgKey, time.Now(), "tok-di", di), nil), 200)
	// eve: a SendGrid spam report, by her Message-ID.
	eve := []byte(fmt.Sprintf(`[{"email":"eve@example.com","timestamp":1796022000,"smtp-id":%q,"event":"spamreport","sg_event_id":"a1"}]`, msgID["eve@example.com"]))
	expect("SendGrid spam report", post("sendgrid", "sendgrid", eve, func(r *http.Request) { webhooktest.SendGrid(r, sgKey, time.Now(), eve) }), 200)
	// gus: unsubscribed at SendGrid (its list-unsubscribe page), by his
	// Message-ID: a signed report names his delivery, as a bounce does.
	gus := []byte(fmt.Sprintf(`[{"email":"gus@example.com","timestamp":1796022000,"smtp-id":%q,"event":"unsubscribe","sg_event_id":"g1"}]`, msgID["gus@example.com"]))
	expect("SendGrid unsubscribe", post("sendgrid unsubscribe", "sendgrid", gus, func(r *http.Request) { webhooktest.SendGrid(r, sgKey, time.Now(), gus) }), 200)
	// A verified report about an address tidings never mailed.
	stranger := sesBounce("news@gazette.example.org", "zed@example.com", "<never-sent@gazette.example.org>")
	expect("SES bounce for a stranger", post("stranger", "ses", sns.Notification(topic, stranger, "2"), nil), 200)

	// fay: every provider's report for her, wrongly signed.
	forger := webhooktest.NewSNS(t)
	fay := sesBounce(verp["fay@example.com"], "fay@example.com", msgID["fay@example.com"])
	expect("SES signed by another key", post("forged ses", "ses", forger.Notification(topic, fay, "2"), nil), 401)
	fayPM := strings.NewReplacer("cy@", "fay@", verp["cy@example.com"], verp["fay@example.com"]).Replace(cy)
	expect("Postmark wrong password", post("forged postmark", "postmark", []byte(fayPM), func(r *http.Request) { r.SetBasicAuth("postmark", "guess") }), 401)
	fayMG := json.RawMessage(strings.NewReplacer("di@", "fay@", verp["di@example.com"], verp["fay@example.com"]).Replace(string(di)))
	expect("Mailgun wrong key", post("forged mailgun", "mailgun", webhooktest.Mailgun("key-wrong", time.Now(), "tok-fay", fayMG), nil), 401)
	fayGrid := []byte(fmt.Sprintf(`[{"email":"fay@example.com","smtp-id":%q,"event":"spamreport"}]`, msgID["fay@example.com"]))
	otherKey, _ := webhooktest.SendGridKey(t)
	expect("SendGrid wrong key", post("forged sendgrid", "sendgrid", fayGrid, func(r *http.Request) { webhooktest.SendGrid(r, otherKey, time.Now(), fayGrid) }), 401)

	ctx := context.Background()
	for who, want := range map[string]subscribers.Status{
		"ana@example.com": subscribers.StatusBounced, "bo@example.com": subscribers.StatusComplained,
		"cy@example.com": subscribers.StatusBounced, "di@example.com": subscribers.StatusBounced,
		"eve@example.com": subscribers.StatusComplained, "fay@example.com": subscribers.StatusConfirmed,
		"gus@example.com": subscribers.StatusUnsubscribed,
	} {
		s, err := m.App.Subscribers.GetByEmail(ctx, who)
		if err != nil {
			t.Fatal(err)
		}
		if s.Status != want {
			t.Errorf("%s is %s, want %s", who, s.Status, want)
		}
	}
	if _, err := m.App.Subscribers.GetByEmail(ctx, "zed@example.com"); err == nil {
		t.Error("a report about a stranger made a subscriber")
	}
	out := mustRun("editions", "show", "1")
	if !strings.Contains(out, "hard bounces 3, soft bounces 0, complaints 2") {
		t.Errorf("editions show does not count each webhook once:\n%s", out)
	}
	l := logs.String()
	for _, want := range []string{"source=ses", "source=postmark", "source=mailgun", "source=sendgrid", "action=unmatched", "webhook refused"} {
		if !strings.Contains(l, want) {
			t.Errorf("the log has no %q", want)
		}
	}
	for _, secret := range []string{"pm-pass", mgKey} {
		if strings.Contains(l, secret) {
			t.Errorf("the log shows the secret %q", secret)
		}
	}
}
