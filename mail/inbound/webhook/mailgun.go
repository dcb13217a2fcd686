package webhook

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/tidings/tidings/mail/inbound"
)

// mailgunWebhook is what Mailgun POSTs: the signature and one event.
type mailgunWebhook struct {
	Signature struct {
		Timestamp flexString `json:"timestamp"`
		Token     string     `json:"token"`
		Signature string     `json:"signature"`
	} `json:"signature"`
	EventData *mailgunEvent `json:"event-data"`
}

type mailgunEvent struct {
	Event          string `json:"event"`
	Severity       string `json:"severity"`
	Reason         string `json:"reason"`
	Recipient      string `json:"recipient"`
	DeliveryStatus struct {
		Code         flexString `json:"code"`
		EnhancedCode string     `json:"enhanced-code"`
		Message      string     `json:"message"`
		Description  string     `json:"description"`
	} `json:"delivery-status"`
	Envelope struct {
		Sender string `json:"sender"`
	} `json:"envelope"`
	Message struct {
		Headers struct {
			MessageID string `json:"message-id"`
		} `json:"headers"`
	} `json:"message"`
	UserVariables map[string]any `json:"user-variables"`
}

// flexString is a JSON string or number, kept as text: Mailgun writes
// some numbers either way.
type flexString string

func (f *flexString) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if len(b) > 0 && b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*f = flexString(s)
		return nil
	}
	if bytes.Equal(b, []byte("null")) {
		return nil
	}
	var n json.Number
	if err := json.Unmarshal(b, &n); err != nil {
		return fmt.Errorf("want a string or a number: %w", err)
	}
	*f = flexString(n)
	return nil
}

func (h *Handler) receiveMailgun(r *http.Request, body []byte) ([]inbound.Result, func(), error) {
	var w mailgunWebhook
	if err := json.Unmarshal(body, &w); err != nil {
		return nil, nil, malformed("Mailgun", err)
	}
	s := w.Signature
	if s.Token == "" || s.Signature == "" || s.Timestamp == "" {
		return nil, nil, unauthorized("no Mailgun signature (signature.timestamp, token and signature)")
	}
	mac := hmac.New(sha256.New, []byte(h.o.Mailgun.SigningKey))
	mac.Write([]byte(string(s.Timestamp) + s.Token))
	got, err := hex.DecodeString(s.Signature)
	if err != nil || !hmac.Equal(got, mac.Sum(nil)) {
		return nil, nil, unauthorized("Mailgun signature does not match: check inbound.webhooks.mailgun_signing_key")
	}
	if err := h.fresh(string(s.Timestamp)); err != nil {
		return nil, nil, err
	}
	if h.tokens.used(s.Token) {
		return nil, nil, unauthorized("Mailgun token already used: a replayed request")
	}
	if w.EventData == nil {
		return nil, nil, malformed("Mailgun", errors.New("no event-data"))
	}
	res := parseMailgunEvent(w.EventData)
	return []inbound.Result{res}, func() { h.tokens.use(s.Token) }, nil
}

// parseMailgun reads a Mailgun webhook body without checking its
// signature, for the tests.
func parseMailgun(b []byte) ([]inbound.Result, error) {
	var w mailgunWebhook
	if err := json.Unmarshal(b, &w); err != nil {
		return nil, err
	}
	if w.EventData == nil {
		return nil, errors.New("no event-data")
	}
	return []inbound.Result{parseMailgunEvent(w.EventData)}, nil
}

// parseMailgunEvent maps one Mailgun event. A permanent failure is a
// bounce, hard unless its status is 4.x.x (retries given up), 5.2.2 or
// 5.7.x; a temporary one a delay, as Mailgun tries again and reports the
// end; a failure because the address is on Mailgun's bounce, complaint
// or unsubscribe list is that; "complained" a complaint, "unsubscribed"
// an unsubscribe; the rest change no one.
func parseMailgunEvent(e *mailgunEvent) inbound.Result {
	var res inbound.Result
	ds := e.DeliveryStatus
	why := "Mailgun " + e.Event
	switch e.Event {
	case "failed":
		why += " (" + e.Severity + ", " + e.Reason + ")"
		diag := strings.TrimSpace(string(ds.Code) + " " + ds.Message + " " + ds.Description)
		switch {
		case e.Reason == "suppress-complaint":
			res = other(inbound.KindComplaint, e.Recipient, why)
		case e.Reason == "suppress-unsubscribe":
			res = other(inbound.KindUnsubscribe, e.Recipient, why)
		case e.Severity == "permanent":
			res = bounce(e.Recipient, ds.EnhancedCode, diag, true, why)
		case e.Severity == "temporary":
			res = other(inbound.KindDelayed, e.Recipient, why+": Mailgun tries again")
		default:
			res = bounce(e.Recipient, ds.EnhancedCode, diag, false, why)
		}
	case "complained":
		res = other(inbound.KindComplaint, e.Recipient, why)
	case "unsubscribed":
		res = other(inbound.KindUnsubscribe, e.Recipient, why)
	case "delivered":
		res = other(inbound.KindDelivered, e.Recipient, why)
	default:
		res = other(inbound.KindUnmatched, e.Recipient, why+": nothing to act on")
	}
	values := []string{e.Envelope.Sender}
	for _, k := range slices.Sorted(maps.Keys(e.UserVariables)) {
		if v, ok := e.UserVariables[k].(string); ok {
			values = append(values, v)
		}
	}
	res.To = returnPaths(values...)
	res.MessageID = angled(e.Message.Headers.MessageID)
	return res
}

// fresh refuses a signed timestamp (Unix seconds) further than MaxAge
// from now.
func (h *Handler) fresh(ts string) error {
	sec, err := strconv.ParseInt(strings.TrimSpace(ts), 10, 64)
	if err != nil {
		return unauthorized("signature timestamp %q is not a number of seconds", ts)
	}
	d := h.o.Now().Sub(time.Unix(sec, 0))
	if d > h.o.MaxAge || d < -h.o.MaxAge {
		return unauthorized("signature timestamp is %s away from now, more than the %s allowed: a replay, or a clock that is off",
			d.Round(time.Second), h.o.MaxAge)
	}
	return nil
}

// replayCache remembers the Mailgun tokens used within the last MaxAge:
// older ones are refused by their timestamp anyway.
type replayCache struct {
	ttl  time.Duration
	now  func() time.Time
	mu   sync.Mutex
	seen map[string]time.Time
}

// maxTokens bounds the cache; only requests with a good signature reach
// it.
const maxTokens = 100_000

func newReplayCache(ttl time.Duration, now func() time.Time) *replayCache {
	return &replayCache{ttl: ttl, now: now, seen: map[string]time.Time{}}
}

func (c *replayCache) used(token string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	at, ok := c.seen[token]
	return ok && c.now().Sub(at) <= 2*c.ttl
}

func (c *replayCache) use(token string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	now := c.now()
	if len(c.seen) >= maxTokens {
		for t, at := range c.seen {
			if now.Sub(at) > 2*c.ttl {
				delete(c.seen, t)
			}
		}
		if len(c.seen) >= maxTokens {
			clear(c.seen)
		}
	}
	c.seen[token] = now
}
