package webhook

import (
	"crypto/subtle"
	"encoding/json"
	"errors"
	"maps"
	"net/http"
	"slices"

	"github.com/tidings/tidings/mail/inbound"
)

// postmarkEvent is one Postmark webhook: a Bounce, a SpamComplaint or a
// SubscriptionChange record (and the others, which change no one).
type postmarkEvent struct {
	RecordType  string
	Type        string
	TypeCode    int
	Email       string
	Details     string
	Description string
	Content     string
	Metadata    map[string]string
	// SubscriptionChange
	Recipient         string
	SuppressSending   bool
	SuppressionReason string
	Origin            string
}

// postmarkTypes maps Postmark's bounce TypeCode to its Type name, for a
// record that gives only the code.
var postmarkTypes = map[int]string{
	1: "HardBounce", 2: "Transient", 16: "Unsubscribe", 32: "Subscribe", 64: "AutoResponder", 128: "AddressChange",
	256: "DnsError", 512: "SpamNotification", 1024: "OpenRelayTest", 2048: "Unknown", 4096: "SoftBounce",
	8192: "VirusNotification", 16384: "ChallengeVerification", 100000: "BadEmailAddress", 100001: "SpamComplaint",
	100002: "ManuallyDeactivated", 100003: "Unconfirmed", 100006: "Blocked", 100007: "SMTPApiError",
	100008: "InboundError", 100009: "DMARCPolicy", 100010: "TemplateRenderingFailed",
}

func (h *Handler) receivePostmark(r *http.Request, body []byte) ([]inbound.Result, func(), error) {
	user, pass, ok := r.BasicAuth()
	want := h.o.Postmark
	if !ok || subtle.ConstantTimeCompare([]byte(pass), []byte(want.Password)) != 1 ||
		want.Username != "" && subtle.ConstantTimeCompare([]byte(user), []byte(want.Username)) != 1 {
		return nil, nil, unauthorized("missing or wrong basic auth credentials: give Postmark the webhook URL with the user and password of inbound.webhooks")
	}
	res, err := parsePostmark(body)
	if err != nil {
		return nil, nil, malformed("Postmark", err)
	}
	return res, nil, nil
}

// parsePostmark maps one Postmark webhook to its Result. Hard bounces
// (HardBounce, BadEmailAddress) are hard unless their text says mailbox
// full or policy; Transient, SoftBounce, DnsError, Blocked and
// DMARCPolicy are soft; SpamComplaint and SpamNotification complaints;
// Unsubscribe and a SubscriptionChange that suppresses by hand
// unsubscribes; an AutoResponder an auto-reply; the rest change no one.
func parsePostmark(b []byte) ([]inbound.Result, error) {
	var e postmarkEvent
	if err := json.Unmarshal(b, &e); err != nil {
		return nil, err
	}
	if e.Email == "" {
		e.Email = e.Recipient // Delivery and SubscriptionChange records name it so
	}
	var res inbound.Result
	switch e.RecordType {
	case "Bounce", "SpamComplaint":
		typ := e.Type
		if typ == "" {
			typ = postmarkTypes[e.TypeCode]
		}
		if typ == "" {
			return nil, errors.New("a bounce record without Type or a known TypeCode")
		}
		why := "Postmark " + typ
		diag := e.Details
		if diag == "" {
			diag = e.Description
		}
		switch typ {
		case "HardBounce", "BadEmailAddress":
			res = bounce(e.Email, "", diag, true, why)
		case "Transient", "SoftBounce", "DnsError", "Blocked", "DMARCPolicy":
			res = bounce(e.Email, "", diag, false, why)
		case "SpamComplaint", "SpamNotification":
			res = other(inbound.KindComplaint, e.Email, why)
		case "Unsubscribe":
			res = other(inbound.KindUnsubscribe, e.Email, why)
		case "AutoResponder":
			res = other(inbound.KindAutoReply, e.Email, why)
		default:
			res = other(inbound.KindUnmatched, e.Email, why+": nothing to act on")
		}
	case "SubscriptionChange":
		switch {
		case e.SuppressSending && e.SuppressionReason == "ManualSuppression":
			res = other(inbound.KindUnsubscribe, e.Email, "Postmark suppressed the address by hand ("+e.Origin+")")
		case e.SuppressSending:
			res = other(inbound.KindUnmatched, e.Email, "Postmark suppressed the address for "+e.SuppressionReason+", reported by its own webhook")
		default:
			res = other(inbound.KindUnmatched, e.Email, "Postmark reactivated the address: tidings never turns a no back into a yes")
		}
	case "":
		return nil, errors.New("no RecordType")
	default:
		res = other(inbound.KindUnmatched, e.Email, "Postmark "+e.RecordType+" record: nothing to act on")
	}
	res.To = returnPaths(slices.Sorted(maps.Values(e.Metadata))...)
	if e.Content != "" {
		// The bounce as Postmark received it: the original's headers
		// are in it.
		if c, err := inbound.ClassifyBytes([]byte(e.Content), inbound.Options{MaxBytes: defaultMaxBytes}); err == nil {
			res.MessageID = c.MessageID
			res.To = append(res.To, returnPaths(c.To...)...)
		}
	}
	return []inbound.Result{res}, nil
}
