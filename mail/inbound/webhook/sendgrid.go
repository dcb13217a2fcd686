package webhook

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strings"

	"github.com/tidings/tidings/mail/inbound"
)

// The headers of SendGrid's Signed Event Webhook.
const (
	sendGridSignature = "X-Twilio-Email-Event-Webhook-Signature"
	sendGridTimestamp = "X-Twilio-Email-Event-Webhook-Timestamp"
)

// ParseSendGridKey reads the verification key of SendGrid's Signed Event
// Webhook: base64 of its DER form, as SendGrid shows it, or PEM. It must
// be an ECDSA P-256 key.
func ParseSendGridKey(s string) (*ecdsa.PublicKey, error) {
	s = strings.TrimSpace(s)
	var der []byte
	if block, _ := pem.Decode([]byte(s)); block != nil {
		der = block.Bytes
	} else {
		b, err := base64.StdEncoding.DecodeString(s)
		if err != nil {
			return nil, fmt.Errorf("sendgrid public key: neither PEM nor base64: %w", err)
		}
		der = b
	}
	k, err := x509.ParsePKIXPublicKey(der)
	if err != nil {
		return nil, fmt.Errorf("sendgrid public key: %w", err)
	}
	ek, ok := k.(*ecdsa.PublicKey)
	if !ok || ek.Curve != elliptic.P256() {
		return nil, errors.New("sendgrid public key: not an ECDSA P-256 key")
	}
	return ek, nil
}

func (h *Handler) receiveSendGrid(r *http.Request, body []byte) ([]inbound.Result, func(), error) {
	sig, ts := r.Header.Get(sendGridSignature), r.Header.Get(sendGridTimestamp)
	if sig == "" || ts == "" {
		return nil, nil, unauthorized("no SendGrid signature: turn on the Signed Event Webhook (headers %s and %s)", sendGridSignature, sendGridTimestamp)
	}
	if !verifySendGrid(h.sg, ts, sig, body) {
		return nil, nil, unauthorized("SendGrid signature does not match: check inbound.webhooks.sendgrid_public_key")
	}
	if err := h.fresh(ts); err != nil {
		return nil, nil, err
	}
	res, err := parseSendGrid(body)
	if err != nil {
		return nil, nil, malformed("SendGrid", err)
	}
	return res, nil, nil
}

// verifySendGrid checks SendGrid's signature sig (base64 of an ASN.1
// ECDSA signature) of the SHA-256 of the timestamp header's value
// followed by the body, as received.
func verifySendGrid(k *ecdsa.PublicKey, ts, sig string, body []byte) bool {
	der, err := base64.StdEncoding.DecodeString(sig)
	if err != nil {
		return false
	}
	sum := sha256.Sum256(append([]byte(ts), body...))
	return ecdsa.VerifyASN1(k, sum[:], der)
}

// parseSendGrid maps the batch of events SendGrid POSTs. A bounce is
// hard (unless its status is 5.2.2 or 5.7.x), a bounce of type blocked
// and a blocked event soft; a drop because the address bounced, reported
// spam or unsubscribed before is that; spamreport a complaint;
// unsubscribe and group_unsubscribe unsubscribes; deferred a delay; the
// rest change no one.
func parseSendGrid(b []byte) ([]inbound.Result, error) {
	var events []map[string]any
	if err := json.Unmarshal(b, &events); err != nil {
		return nil, err
	}
	out := make([]inbound.Result, 0, len(events))
	for i, e := range events {
		str := func(k string) string { s, _ := e[k].(string); return s }
		event, email := str("event"), str("email")
		if event == "" {
			return nil, fmt.Errorf("event %d: no event name", i)
		}
		why := "SendGrid " + event
		var res inbound.Result
		switch event {
		case "bounce":
			if t := str("type"); t == "blocked" {
				res = bounce(email, str("status"), str("reason"), false, why+" (blocked)")
			} else {
				res = bounce(email, str("status"), str("reason"), true, why)
			}
		case "blocked":
			res = bounce(email, str("status"), str("reason"), false, why)
		case "dropped":
			why += " (" + str("reason") + ")"
			switch str("reason") {
			case "Bounced Address":
				res = bounce(email, "", "", true, why)
			case "Spam Reporting Address":
				res = other(inbound.KindComplaint, email, why)
			case "Unsubscribed Address":
				res = other(inbound.KindUnsubscribe, email, why)
			default:
				res = other(inbound.KindUnmatched, email, why+": nothing to act on")
			}
		case "spamreport":
			res = other(inbound.KindComplaint, email, why)
		case "unsubscribe", "group_unsubscribe":
			res = other(inbound.KindUnsubscribe, email, why)
		case "deferred":
			res = other(inbound.KindDelayed, email, why)
		case "delivered":
			res = other(inbound.KindDelivered, email, why)
		default:
			res = other(inbound.KindUnmatched, email, why+": nothing to act on")
		}
		// Custom arguments are fields of the event itself.
		var values []string
		for _, k := range slices.Sorted(maps.Keys(e)) {
			if s, ok := e[k].(string); ok && k != "email" {
				values = append(values, s)
			}
		}
		res.To = returnPaths(values...)
		res.MessageID = angled(str("smtp-id"))
		out = append(out, res)
	}
	return out, nil
}
