package webhook

import (
	"encoding/json"
	"errors"
	"strings"

	"github.com/tidings/tidings/mail/inbound"
)

// sesNotification is what SES publishes to SNS: a notification
// (notificationType) or, from a configuration set's event destination,
// an event (eventType), with the mail it is about.
type sesNotification struct {
	NotificationType string `json:"notificationType"`
	EventType        string `json:"eventType"`
	Mail             struct {
		Source  string `json:"source"`
		Headers []struct {
			Name  string `json:"name"`
			Value string `json:"value"`
		} `json:"headers"`
		CommonHeaders struct {
			MessageID string `json:"messageId"`
		} `json:"commonHeaders"`
		Destination []string `json:"destination"`
	} `json:"mail"`
	Bounce *struct {
		BounceType        string `json:"bounceType"`
		BounceSubType     string `json:"bounceSubType"`
		BouncedRecipients []struct {
			EmailAddress   string `json:"emailAddress"`
			Status         string `json:"status"`
			DiagnosticCode string `json:"diagnosticCode"`
		} `json:"bouncedRecipients"`
	} `json:"bounce"`
	Complaint *struct {
		ComplaintFeedbackType string `json:"complaintFeedbackType"`
		ComplaintSubType      string `json:"complaintSubType"`
		ComplainedRecipients  []struct {
			EmailAddress string `json:"emailAddress"`
		} `json:"complainedRecipients"`
	} `json:"complaint"`
	Delivery *struct {
		Recipients []string `json:"recipients"`
	} `json:"delivery"`
	DeliveryDelay *struct {
		DelayedRecipients []struct {
			EmailAddress string `json:"emailAddress"`
		} `json:"delayedRecipients"`
	} `json:"deliveryDelay"`
}

// parseSES maps one SES notification to one Result per recipient it
// names. Permanent bounces are hard (unless their status is 5.2.2 or
// 5.7.x), Transient and Undetermined ones soft; a complaint is a
// complaint unless its feedback type is not-spam; a Subscription event
// (SES's own unsubscribe link) an unsubscribe; deliveries and delays
// change no one.
func parseSES(b []byte) ([]inbound.Result, error) {
	var n sesNotification
	if err := json.Unmarshal(b, &n); err != nil {
		return nil, err
	}
	typ := n.NotificationType
	if typ == "" {
		typ = n.EventType
	}
	if typ == "" {
		return nil, errors.New("neither notificationType nor eventType")
	}
	// The original as SES got it: its envelope sender (our
	// bounces+TOKEN@) and Message-ID.
	values := []string{n.Mail.Source}
	var msgID string
	for _, h := range n.Mail.Headers {
		switch strings.ToLower(h.Name) {
		case "return-path":
			values = append(values, h.Value)
		case "message-id":
			if msgID == "" {
				msgID = h.Value
			}
		}
	}
	if msgID == "" {
		msgID = n.Mail.CommonHeaders.MessageID
	}
	to, msgID := returnPaths(values...), angled(msgID)
	var out []inbound.Result
	add := func(r inbound.Result) {
		r.To, r.MessageID = to, msgID
		out = append(out, r)
	}
	switch typ {
	case "Bounce":
		if n.Bounce == nil {
			return nil, errors.New("a Bounce without its bounce object")
		}
		why := "SES " + n.Bounce.BounceType + " bounce (" + n.Bounce.BounceSubType + ")"
		for _, r := range n.Bounce.BouncedRecipients {
			add(bounce(r.EmailAddress, r.Status, r.DiagnosticCode, n.Bounce.BounceType == "Permanent", why))
		}
	case "Complaint":
		if n.Complaint == nil {
			return nil, errors.New("a Complaint without its complaint object")
		}
		kind, why := inbound.KindComplaint, "SES complaint"
		if t := n.Complaint.ComplaintFeedbackType; t != "" {
			why += " (" + t + ")"
		}
		if n.Complaint.ComplaintFeedbackType == "not-spam" {
			kind, why = inbound.KindUnmatched, "SES not-spam feedback: the reader says it is not spam"
		}
		for _, r := range n.Complaint.ComplainedRecipients {
			add(other(kind, r.EmailAddress, why))
		}
	case "Delivery":
		if n.Delivery != nil {
			for _, r := range n.Delivery.Recipients {
				add(other(inbound.KindDelivered, r, "SES delivery"))
			}
		}
	case "DeliveryDelay":
		if n.DeliveryDelay != nil {
			for _, r := range n.DeliveryDelay.DelayedRecipients {
				add(other(inbound.KindDelayed, r.EmailAddress, "SES delivery delay"))
			}
		}
	case "Subscription":
		for _, r := range n.Mail.Destination {
			add(other(inbound.KindUnsubscribe, r, "SES subscription management: the reader unsubscribed"))
		}
	default:
		for _, r := range n.Mail.Destination {
			add(other(inbound.KindUnmatched, r, "SES "+typ+" event: nothing to act on"))
		}
	}
	return out, nil
}
