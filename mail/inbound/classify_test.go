package inbound

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"testing/iotest"
)

// corpusDir holds one real-shaped message per case, written for tidings
// in the shape each MTA and feedback loop sends (example.org addresses).
const corpusDir = "../../testdata/inbound"

type corpusCase struct {
	file      string
	kind      Kind
	permanent bool
	status    string
	recipient string
	messageID string
	provider  string
	err       error // instead of a Result
}

// corpus is every file under corpusDir with what Classify must say of it.
var corpus = []corpusCase{
	// RFC 3464 reports as the MTAs write them.
	{file: "postfix-dsn-user-unknown.eml", kind: KindBounce, permanent: true, status: "5.1.1", recipient: "ada@example.com", messageID: "<e12.s34.0123456789abcdef@example.org>", provider: "dsn"},
	{file: "postfix-delayed.eml", kind: KindDelayed, status: "4.4.1", recipient: "chen@example.com", messageID: "<e12.s36.2b3c4d5e6f7a8b9c@example.org>", provider: "dsn"},
	{file: "postfix-dsn-mailbox-full.eml", kind: KindBounce, permanent: false, status: "5.2.2", recipient: "dana@example.com", messageID: "<e12.s37.3c4d5e6f7a8b9c0d@example.org>", provider: "dsn"},
	// Exim names a file path as Final-Recipient; the address is in X-Failed-Recipients, the reason in the text.
	{file: "exim-dsn-mailbox-full.eml", kind: KindBounce, permanent: false, status: "5.0.0", recipient: "fay@example.com", messageID: "<e12.s39.5e6f7a8b9c0d1e2f@example.org>", provider: "dsn"},
	{file: "exchange-o365-dsn.eml", kind: KindBounce, permanent: true, status: "5.1.10", recipient: "hana@example.com", messageID: "<e12.s40.6f7a8b9c0d1e2f3a@example.org>", provider: "dsn"},
	{file: "exchange-o365-policy-571.eml", kind: KindBounce, permanent: false, status: "5.7.1", recipient: "jun@example.com", messageID: "<e12.s42.8b9c0d1e2f3a4b5c@example.org>", provider: "dsn"},
	{file: "gmail-dsn-address-not-found.eml", kind: KindBounce, permanent: true, status: "5.1.1", recipient: "kim@example.com", messageID: "<e12.s43.9c0d1e2f3a4b5c6d@example.org>", provider: "dsn"},
	{file: "dsn-relayed.eml", kind: KindDelivered, status: "2.0.0", recipient: "uwe@example.net", messageID: "<e12.s54.9012345678901234@example.org>", provider: "dsn"},
	// Bad base64 and QP, unknown charsets and encodings, a doubled boundary parameter.
	{file: "broken-encodings.eml", kind: KindBounce, permanent: true, status: "5.1.1", recipient: "wes@example.com", messageID: "<e12.s57.234567890abcdef1@example.org>", provider: "dsn"},

	// Failure notices read from their text and the quoted original.
	{file: "postfix-text-only.eml", kind: KindBounce, permanent: true, status: "5.1.1", recipient: "bruno@example.net", messageID: "<e12.s35.1a2b3c4d5e6f7a8b@example.org>", provider: "postfix"},
	{file: "exim-text-user-unknown.eml", kind: KindBounce, permanent: true, status: "5.1.1", recipient: "emil@example.net", messageID: "<e12.s38.4d5e6f7a8b9c0d1e@example.org>", provider: "exim"},
	{file: "exim-delayed.eml", kind: KindDelayed, status: "4.3.0", recipient: "gus@example.net", provider: "exim"},
	{file: "exchange-2010-text.eml", kind: KindBounce, permanent: true, status: "5.1.1", recipient: "ivo@example.net", messageID: "<e12.s41.7a8b9c0d1e2f3a4b@example.org>", provider: "exchange"},
	{file: "gmail-text-failure.eml", kind: KindBounce, permanent: true, status: "5.1.1", recipient: "lou@example.net", messageID: "<e12.s44.0d1e2f3a4b5c6d7e@example.org>", provider: "gmail"},
	{file: "yahoo-text-failure.eml", kind: KindBounce, permanent: true, status: "5.1.1", recipient: "mia@example.com", messageID: "<e12.s45.1e2f3a4b5c6d7e8f@example.org>", provider: "yahoo"},
	{file: "qmail-text-no-host.eml", kind: KindBounce, permanent: true, status: "5.1.2", recipient: "ned@lists.example.com", messageID: "<e12.s46.2f3a4b5c6d7e8f90@example.org>", provider: "qmail"},
	{file: "generic-failure-notice.eml", kind: KindBounce, permanent: true, status: "5.1.1", recipient: "uma@example.net", messageID: "<e12.s56.1234567890abcdef@example.org>", provider: "generic"},

	// Complaints.
	{file: "arf-yahoo.eml", kind: KindComplaint, recipient: "olga@example.com", messageID: "<e12.s47.3a4b5c6d7e8f9012@example.org>", provider: "arf"},
	{file: "arf-rfc5965.eml", kind: KindComplaint, recipient: "quinn@example.com", messageID: "<e12.s49.5c6d7e8f90123456@example.org>", provider: "arf"},
	{file: "arf-microsoft-jmrp.eml", kind: KindComplaint, recipient: "pia@example.com", messageID: "<e12.s48.4b5c6d7e8f901234@example.org>", provider: "jmrp"},

	// Auto-replies, never bounces; the French one went to the unsubscribe address and unsubscribes no one.
	{file: "autoreply-rfc3834.eml", kind: KindAutoReply, recipient: "rosa@example.com", provider: "rfc3834"},
	{file: "autoreply-exchange-oof.eml", kind: KindAutoReply, recipient: "sam@example.com", provider: "subject"},
	{file: "autoreply-german.eml", kind: KindAutoReply, recipient: "tim@example.com", provider: "subject"},
	{file: "autoreply-french-to-unsubscribe.eml", kind: KindAutoReply, recipient: "lea@example.com", provider: "subject"},

	{file: "unsubscribe-mailto.eml", kind: KindUnsubscribe, recipient: "ada@example.com", provider: "mailto"},

	// Not what they claim to be, or nothing at all.
	{file: "fake-dsn-no-status-part.eml", kind: KindUnmatched},
	{file: "fake-dsn-garbage-fields.eml", kind: KindUnmatched},
	{file: "reply-human.eml", kind: KindUnmatched},
	{file: "no-headers.eml", err: ErrMalformed},
}

func readCorpus(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(corpusDir, name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestClassify_Corpus(t *testing.T) {
	for _, c := range corpus {
		t.Run(strings.TrimSuffix(c.file, ".eml"), func(t *testing.T) {
			res, err := ClassifyBytes(readCorpus(t, c.file), Options{})
			if c.err != nil {
				if !errors.Is(err, c.err) {
					t.Fatalf("err = %v, want %v", err, c.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			got := corpusCase{file: c.file, kind: res.Kind, permanent: res.Permanent, status: res.Status,
				recipient: res.Recipient, messageID: res.MessageID, provider: res.Provider}
			if got != c {
				t.Errorf("got  %+v\nwant %+v\nreason: %s", got, c, res.Reason)
			}
			if res.Reason == "" {
				t.Error("no Reason")
			}
		})
	}
}

// TestClassify_CorpusComplete keeps the table and the folder in step: a
// file nobody checks proves nothing.
func TestClassify_CorpusComplete(t *testing.T) {
	files, err := filepath.Glob(filepath.Join(corpusDir, "*.eml"))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, f := range files {
		names = append(names, filepath.Base(f))
	}
	var listed []string
	for _, c := range corpus {
		listed = append(listed, c.file)
	}
	slices.Sort(names)
	slices.Sort(listed)
	if !slices.Equal(names, listed) {
		t.Errorf("files %v\ntable %v", names, listed)
	}
}

// TestClassify_TextWithoutReportPart takes the delivery-status part out
// of the DSNs: the MTA's own text must still give the recipient, the
// status and the hard/soft verdict, as it does for MTAs that send no DSN.
func TestClassify_TextWithoutReportPart(t *testing.T) {
	deliveryStatus := regexp.MustCompile(`(?i)content-type: message/delivery-status`)
	for _, c := range []corpusCase{
		{file: "postfix-dsn-user-unknown.eml", kind: KindBounce, permanent: true, status: "5.1.1", recipient: "ada@example.com", provider: "postfix"},
		{file: "postfix-delayed.eml", kind: KindDelayed, recipient: "chen@example.com", provider: "postfix"},
		{file: "postfix-dsn-mailbox-full.eml", kind: KindBounce, status: "5.2.2", recipient: "dana@example.com", provider: "postfix"},
		{file: "dsn-relayed.eml", kind: KindDelivered, status: "2.0.0", recipient: "uwe@example.net", provider: "postfix"},
		{file: "exim-dsn-mailbox-full.eml", kind: KindBounce, recipient: "fay@example.com", provider: "exim"},
		{file: "exchange-o365-dsn.eml", kind: KindBounce, permanent: true, status: "5.1.10", recipient: "hana@example.com", provider: "exchange"},
		{file: "exchange-o365-policy-571.eml", kind: KindBounce, status: "5.7.1", recipient: "jun@example.com", provider: "exchange"},
		{file: "gmail-dsn-address-not-found.eml", kind: KindBounce, permanent: true, recipient: "kim@example.com", provider: "gmail"},
		{file: "broken-encodings.eml", kind: KindBounce, permanent: true, status: "5.1.1", recipient: "wes@example.com", provider: "postfix"},
	} {
		t.Run(strings.TrimSuffix(c.file, ".eml"), func(t *testing.T) {
			b := deliveryStatus.ReplaceAll(readCorpus(t, c.file), []byte("Content-Type: application/x-removed"))
			res, err := ClassifyBytes(b, Options{})
			if err != nil {
				t.Fatal(err)
			}
			got := corpusCase{file: c.file, kind: res.Kind, permanent: res.Permanent, status: res.Status,
				recipient: res.Recipient, provider: res.Provider}
			if got != c {
				t.Errorf("got  %+v\nwant %+v\nreason: %s", got, c, res.Reason)
			}
		})
	}
}

// TestClassify_Streaming: the verdict does not depend on how the reader
// hands out its bytes (one at a time here), only on the bytes.
func TestClassify_Streaming(t *testing.T) {
	for _, c := range corpus {
		b := readCorpus(t, c.file)
		want, wantErr := ClassifyBytes(b, Options{})
		got, err := Classify(iotest.OneByteReader(bytes.NewReader(b)), Options{})
		if !errors.Is(err, wantErr) && (err == nil || wantErr == nil || err.Error() != wantErr.Error()) {
			t.Errorf("%s: err %v, want %v", c.file, err, wantErr)
		}
		if !resultsEqual(got, want) {
			t.Errorf("%s: one byte at a time\n got %+v\nwant %+v", c.file, got, want)
		}
	}
}

func resultsEqual(a, b Result) bool {
	return slices.Equal(a.To, b.To) && a.Kind == b.Kind && a.Permanent == b.Permanent && a.Status == b.Status &&
		a.Diagnostic == b.Diagnostic && a.Recipient == b.Recipient && a.MessageID == b.MessageID &&
		a.Subject == b.Subject && a.Provider == b.Provider && a.Reason == b.Reason
}

func TestClassify_ToAndSubject(t *testing.T) {
	res, err := ClassifyBytes(readCorpus(t, "unsubscribe-mailto.eml"), Options{Envelope: []string{"<unsubscribe+34@example.org>", "other@example.org"}})
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"unsubscribe+34@example.org", "other@example.org"}; !slices.Equal(res.To, want) {
		t.Errorf("To = %q, want %q (envelope first, no duplicates)", res.To, want)
	}
	if res.Subject != "unsubscribe p0Q3x" {
		t.Errorf("Subject = %q: the caller needs the token in it", res.Subject)
	}

	res, err = ClassifyBytes(readCorpus(t, "autoreply-german.eml"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if want := "Abwesenheitsnotiz: Example News, daily: Harbour reopens and 2 more"; res.Subject != want {
		t.Errorf("Subject = %q, want %q (RFC 2047, Latin-1)", res.Subject, want)
	}
	res, err = ClassifyBytes(readCorpus(t, "broken-encodings.eml"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if want := "Undelivered Mail Returned to Sender"; res.Subject != want {
		t.Errorf("Subject = %q, want %q (an unknown charset's ASCII kept)", res.Subject, want)
	}
}

// msg builds a small message from header lines and a body.
func msg(header, body string) []byte {
	return []byte(strings.ReplaceAll(strings.TrimSpace(header), "\t", "") + "\n\n" + body)
}

func TestClassify_Rules(t *testing.T) {
	dsn := `From: MAILER-DAEMON@mx.example.com
To: %s
Subject: Undelivered Mail Returned to Sender
Auto-Submitted: auto-replied
Content-Type: multipart/report; report-type=delivery-status; boundary=b`
	dsnBody := "--b\nContent-Type: text/plain\n\nsee below\n--b\nContent-Type: message/delivery-status\n\n" +
		"Reporting-MTA: dns; mx.example.com\n\nFinal-Recipient: rfc822; x@example.com\nAction: failed\nStatus: %s\n" +
		"Diagnostic-Code: smtp; %s\n--b--\n"
	for _, c := range []struct {
		name      string
		raw       []byte
		opts      Options
		kind      Kind
		permanent bool
	}{
		{"a DSN to the unsubscribe address is a bounce",
			msg(strings.Replace(dsn, "%s", "unsubscribe+9@example.org", 1), strings.NewReplacer("%s", "5.1.1").Replace(dsnBody)),
			Options{}, KindBounce, true},
		{"a soft 4.x.x failure",
			msg(strings.Replace(dsn, "%s", "bounces@example.org", 1), "--b\nContent-Type: message/delivery-status\n\nFinal-Recipient: rfc822; x@example.com\nAction: failed\nStatus: 4.4.7\n--b--\n"),
			Options{}, KindBounce, false},
		{"a generic 5.0.0 with over quota text is soft",
			msg(strings.Replace(dsn, "%s", "bounces@example.org", 1), "--b\nContent-Type: message/delivery-status\n\nFinal-Recipient: rfc822; x@example.com\nAction: failed\nStatus: 5.0.0\nDiagnostic-Code: smtp; 550 user is over quota\n--b--\n"),
			Options{}, KindBounce, false},
		{"a generic 5.0.0 refined by the diagnostic's 5.1.1",
			msg(strings.Replace(dsn, "%s", "bounces@example.org", 1), "--b\nContent-Type: message/delivery-status\n\nFinal-Recipient: rfc822; x@example.com\nAction: failed\nStatus: 5.0.0\nDiagnostic-Code: smtp; 550 5.1.1 no\n--b--\n"),
			Options{}, KindBounce, true},
		{"an action missing is taken from the status class",
			msg(strings.Replace(dsn, "%s", "bounces@example.org", 1), "--b\nContent-Type: message/delivery-status\n\nFinal-Recipient: rfc822; x@example.com\nStatus: 4.2.0\n--b--\n"),
			Options{}, KindDelayed, false},
		{"a failed block naming no one, with no original, is unmatched",
			msg(strings.Replace(dsn, "%s", "bounces@example.org", 1), "--b\nContent-Type: message/delivery-status\n\nFinal-Recipient: x-local; mailbox 7\nAction: failed\nStatus: 5.1.1\n--b--\n"),
			Options{}, KindUnmatched, false},
		{"an ARF auth-failure report is no complaint",
			msg("From: dmarc@example.net\nTo: dmarc@example.org\nSubject: DMARC forensic\nAuto-Submitted: auto-generated\nContent-Type: multipart/report; report-type=feedback-report; boundary=b",
				"--b\nContent-Type: message/feedback-report\n\nFeedback-Type: auth-failure\nOriginal-Rcpt-To: x@example.com\n--b--\n"),
			Options{}, KindUnmatched, false},
		{"an ARF opt-out is an unsubscribe",
			msg("From: fbl@example.net\nTo: fbl@example.org\nSubject: FW\nContent-Type: multipart/report; report-type=feedback-report; boundary=b",
				"--b\nContent-Type: message/feedback-report\n\nFeedback-Type: opt-out\nOriginal-Rcpt-To: x@example.com\n--b--\n"),
			Options{}, KindUnsubscribe, false},
		{"Auto-Submitted: no is not an auto-reply",
			msg("From: a@example.com\nTo: news@example.org\nSubject: hello\nAuto-Submitted: no", "hi\n"),
			Options{}, KindUnmatched, false},
		{"X-Autoreply",
			msg("From: a@example.com\nTo: news@example.org\nSubject: hello\nX-Autoreply: yes", "away\n"),
			Options{}, KindAutoReply, false},
		{"Precedence: auto_reply",
			msg("From: a@example.com\nTo: news@example.org\nSubject: hello\nPrecedence: auto_reply", "away\n"),
			Options{}, KindAutoReply, false},
		{"Lotus Notes AUTO:",
			msg("From: a@example.com\nTo: news@example.org\nSubject: AUTO: Jane Doe is out of the office (returning 16/03/2026)", "away\n"),
			Options{}, KindAutoReply, false},
		{"another unsubscribe local part",
			msg("From: a@example.com\nTo: leave+12@example.org\nSubject: bye", ""),
			Options{UnsubscribeLocalPart: "leave"}, KindUnsubscribe, false},
		{"unsubscribe only by local part, not by a look-alike",
			msg("From: a@example.com\nTo: unsubscribers@example.org\nSubject: unsubscribe", ""),
			Options{}, KindUnmatched, false},
		{"an envelope recipient counts",
			msg("From: a@example.com\nTo: undisclosed-recipients:;\nSubject: please remove me", ""),
			Options{Envelope: []string{"unsubscribe+77@example.org"}}, KindUnsubscribe, false},
		{"failure words sent to the bounce address, naming no one, are no bounce",
			msg("From: a@example.com\nTo: bounces+1@example.org\nSubject: Re: undeliverable?\nContent-Type: text/plain", "To: x@example.com\n"),
			Options{}, KindUnmatched, false},
		{"an mbox From_ line before the header",
			append([]byte("From MAILER-DAEMON Tue Mar  3 07:00:09 2026\n"), msg(strings.Replace(dsn, "%s", "bounces@example.org", 1), strings.NewReplacer("%s", "5.1.1").Replace(dsnBody))...),
			Options{}, KindBounce, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			res, err := ClassifyBytes(c.raw, c.opts)
			if err != nil {
				t.Fatal(err)
			}
			if res.Kind != c.kind || res.Permanent != c.permanent {
				t.Errorf("got %s permanent=%v, want %s permanent=%v (%s)", res.Kind, res.Permanent, c.kind, c.permanent, res.Reason)
			}
		})
	}
}
