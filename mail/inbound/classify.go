package inbound

import (
	"bytes"
	"errors"
	"fmt"
	"io"
)

// Kind is what an inbound message is.
type Kind string

// The kinds Classify tells apart. Only KindBounce, KindComplaint and
// KindUnsubscribe call for action on a subscriber; the others are recorded
// and otherwise left alone.
const (
	KindBounce      Kind = "bounce"      // delivery failed (Permanent says hard or soft)
	KindComplaint   Kind = "complaint"   // the recipient reported the mail as spam (ARF, JMRP)
	KindUnsubscribe Kind = "unsubscribe" // a mail to the List-Unsubscribe mailto address
	KindAutoReply   Kind = "auto_reply"  // out of office, vacation and other automatic answers
	KindDelayed     Kind = "delayed"     // a delivery report saying the mail is still being tried: not a bounce
	KindDelivered   Kind = "delivered"   // a delivery report saying delivered, relayed or expanded: not a bounce
	KindUnmatched   Kind = "unmatched"   // none of the above; Reason says what was seen
)

// Result is what Classify decided about one message.
type Result struct {
	Kind Kind
	// Permanent is true for a hard bounce: a 5.x.x status, except 5.2.2
	// (mailbox full) and 5.7.x (policy, spam filters), which are soft, as
	// is every 4.x.x status. Without a usable status the remote text
	// decides ("user unknown" hard, "over quota" soft); false otherwise.
	Permanent bool
	// Status is the RFC 3463 enhanced status code ("5.1.1") the report or
	// the remote server gave, when it gave one.
	Status string
	// Diagnostic is the remote server's text, whitespace collapsed and
	// clipped to a few hundred bytes.
	Diagnostic string
	// Recipient is the address the report is about, as reported: the
	// failed recipient of a bounce (Original-Recipient, else
	// Final-Recipient, X-Failed-Recipients or the MTA's text, else the
	// returned original's To), the complainant of a complaint
	// (Original-Rcpt-To or the returned original's To), the sender of an
	// unsubscribe request or of an auto-reply.
	Recipient string
	// To lists the addresses the inbound message itself was for
	// (Options.Envelope first, then Delivered-To, X-Original-To,
	// Envelope-To, To and Cc), so that the caller can read a VERP token
	// from bounces+TOKEN@ or unsubscribe+TOKEN@.
	To []string
	// MessageID is the Message-ID of the returned original ("<...>"), from
	// a message/rfc822 or text/rfc822-headers part or from headers quoted
	// in the text. Empty when the report carries none.
	MessageID string
	// Subject is the inbound message's own subject, decoded and clipped.
	// A mailto unsubscribe request carries its token there.
	Subject string
	// Provider names the parser that matched: "dsn", "arf", "jmrp",
	// "postfix", "exim", "exchange", "gmail", "yahoo", "qmail",
	// "generic", "rfc3834", "header", "subject", "mailto"; empty for
	// unmatched.
	Provider string
	// Reason is a short sentence saying why the message was classified so.
	Reason string
	// Verified is set by a caller that proved where the report came from
	// (a webhook's signature or password), never by Classify: only then
	// may an unsubscribe the provider reports be matched, like a bounce,
	// by the delivery it names rather than by a signed unsubscribe+TOKEN@
	// address, which providers do not echo.
	Verified bool
}

// Options bound the work Classify does and name the local parts of
// tidings' own addresses. The zero value is ready to use.
type Options struct {
	// MaxBytes is the largest message accepted, 10 MiB when zero. A larger
	// one is refused with ErrTooLarge; no more than MaxBytes+1 bytes are
	// read to learn it, and none of them is kept beyond a bounded prefix
	// of each part.
	MaxBytes int64
	// MaxParts is the most MIME parts looked at, 100 when zero; MaxDepth
	// the deepest nesting of multiparts, 8 when zero. Past either,
	// ErrTooComplex. The returned original inside a bounce is not walked
	// and does not count.
	MaxParts int
	MaxDepth int
	// UnsubscribeLocalPart is the local part of the List-Unsubscribe
	// mailto address, "unsubscribe" when empty: mail to unsubscribe@ or
	// unsubscribe+TOKEN@ any domain is an unsubscribe request.
	UnsubscribeLocalPart string
	// BounceLocalPart is the local part of the VERP envelope sender,
	// "bounces" when empty: a mail system's failure notice sent there is
	// taken as a bounce even in a format no parser knows, if it names the
	// failed recipient or the original's Message-ID.
	BounceLocalPart string
	// Envelope holds the RCPT TO addresses the caller knows (the SMTP
	// receiver, a pipe command's recipient argument); they come first in
	// Result.To.
	Envelope []string
}

const (
	defaultMaxBytes = 10 << 20
	defaultMaxParts = 100
	defaultMaxDepth = 8
)

func (o Options) withDefaults() Options {
	if o.MaxBytes <= 0 {
		o.MaxBytes = defaultMaxBytes
	}
	if o.MaxParts <= 0 {
		o.MaxParts = defaultMaxParts
	}
	if o.MaxDepth <= 0 {
		o.MaxDepth = defaultMaxDepth
	}
	if o.UnsubscribeLocalPart == "" {
		o.UnsubscribeLocalPart = "unsubscribe"
	}
	if o.BounceLocalPart == "" {
		o.BounceLocalPart = "bounces"
	}
	return o
}

// Errors Classify returns, wrapped with the detail; compare with errors.Is.
var (
	// ErrTooLarge: the message is larger than Options.MaxBytes, or its
	// header section is larger than 1 MiB.
	ErrTooLarge = errors.New("inbound: message too large")
	// ErrTooComplex: more MIME parts than Options.MaxParts, or multiparts
	// nested deeper than Options.MaxDepth.
	ErrTooComplex = errors.New("inbound: message structure too complex")
	// ErrMalformed: the input is not a mail message at all (empty, no
	// header fields, binary junk where the header should be).
	ErrMalformed = errors.New("inbound: not a mail message")
)

// Classify reads one raw RFC 5322 message from r and decides what it is.
// It reads at most opts.MaxBytes+1 bytes and keeps only bounded prefixes
// of the parts it needs, so it is safe on hostile input. Broken transfer
// encodings and unknown charsets are decoded as far as they go; they never
// fail the message. The error is ErrTooLarge, ErrTooComplex or
// ErrMalformed (wrapped with the detail), or the reader's own error; with
// an error the Result is the zero Result.
func Classify(r io.Reader, opts Options) (Result, error) {
	res, _, err := classify(r, opts)
	return res, err
}

// ClassifyBytes is Classify over a message held in memory; a message over
// opts.MaxBytes is refused before any parsing.
func ClassifyBytes(b []byte, opts Options) (Result, error) {
	return Classify(bytes.NewReader(b), opts)
}

// classify is Classify also returning what the walk saw, for the tests
// that hold it to the limits.
func classify(r io.Reader, opts Options) (Result, walkStats, error) {
	opts = opts.withDefaults()
	if l, ok := r.(interface{ Len() int }); ok && int64(l.Len()) > opts.MaxBytes {
		return Result{}, walkStats{}, fmt.Errorf("%w: %d bytes, over the limit of %d", ErrTooLarge, l.Len(), opts.MaxBytes)
	}
	m, err := readMessage(r, opts)
	if err != nil {
		return Result{}, m.stats, err
	}
	res := decide(m, opts)
	res.To = m.recipients()
	res.Subject = clip(m.subject, maxSubject)
	res.Diagnostic = clip(res.Diagnostic, maxDiagnostic)
	if res.Kind == KindBounce && res.Recipient == "" && res.MessageID == "" {
		// Nothing to match it to: saying "bounce" would only invite a guess.
		res = Result{Kind: KindUnmatched, To: res.To, Subject: res.Subject,
			Reason: "a failure notice (" + res.Provider + ") naming neither the failed recipient nor the original's Message-ID"}
	}
	return res, m.stats, nil
}

// decide applies the rules in order: the structured reports first (an ARF
// or a DSN is auto-submitted too, and its structure is the better
// witness), then the MTAs' own failure texts, then auto-replies (so that
// an out-of-office sent to the unsubscribe address unsubscribes no one),
// then unsubscribe requests.
func decide(m *message, opts Options) Result {
	if res, ok := fromFeedback(m); ok {
		return res
	}
	if res, ok := fromDSN(m); ok {
		return res
	}
	if res, ok := fromJMRP(m); ok {
		return res
	}
	if res, ok := fromMTAText(m); ok {
		return res
	}
	if res, ok := fromGenericFailure(m, opts.BounceLocalPart); ok {
		return res
	}
	if res, ok := fromAutoReply(m); ok {
		return res
	}
	if res, ok := fromUnsubscribe(m, opts); ok {
		return res
	}
	return Result{Kind: KindUnmatched, Reason: m.unmatchedReason(opts)}
}

// unmatchedReason says, for the operator reading the unmatched list, what
// the message looked like.
func (m *message) unmatchedReason(opts Options) string {
	switch {
	case m.dsnParts > 0:
		return "a delivery-status part with no usable per-recipient fields"
	case m.mediaType == "multipart/report":
		return "claims to be a report (" + quoteOr(m.params["report-type"], "no report-type") + ") but carries no delivery-status or feedback-report part, and no known bounce text"
	case m.toLocalPart(opts.BounceLocalPart):
		return "sent to the bounce address but not recognised as a failure notice"
	case m.broken:
		return "no rule matched; the MIME structure is broken"
	}
	return "no rule matched"
}

func quoteOr(s, empty string) string {
	if s == "" {
		return empty
	}
	return fmt.Sprintf("%q", s)
}
