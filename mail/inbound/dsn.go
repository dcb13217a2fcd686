package inbound

import "strings"

// dsnRecipient is one per-recipient block of an RFC 3464 delivery-status
// part that means something: a known action or a status code.
type dsnRecipient struct {
	action     string // failed, delayed, delivered, relayed, expanded
	status     string
	recipient  string // Original-Recipient, else Final-Recipient, else X-Actual-Recipient, when an address
	diagnostic string
}

// dsnRecipients returns the usable per-recipient blocks of the message's
// delivery-status part. A block without a known action gets one from its
// status class; a block with neither is garbage and left out.
func (m *message) dsnRecipients() []dsnRecipient {
	var out []dsnRecipient
	for _, g := range m.dsn {
		if !g.has("final-recipient") && !g.has("original-recipient") && !g.has("action") && !g.has("status") {
			continue // the per-message block
		}
		r := dsnRecipient{
			action: strings.ToLower(firstWord(g.get("action"))),
			status: findStatus(g.get("status")),
		}
		_, r.diagnostic = typed(g.get("diagnostic-code"))
		if r.diagnostic == "" {
			_, r.diagnostic = typed(g.get("x-postfix-diagnostic"))
		}
		r.status = refineStatus(r.status, r.diagnostic)
		for _, name := range [...]string{"original-recipient", "final-recipient", "x-actual-recipient"} {
			if a := cleanAddress(g.get(name)); a != "" {
				r.recipient = a
				break
			}
		}
		switch r.action {
		case "failed", "delayed", "delivered", "relayed", "expanded":
		default:
			switch {
			case r.status == "":
				continue
			case r.status[0] == '5':
				r.action = "failed"
			case r.status[0] == '4':
				r.action = "delayed"
			default:
				r.action = "delivered"
			}
		}
		out = append(out, r)
	}
	return out
}

// typed splits an RFC 3464 "type; text" value ("smtp; 550 5.1.1 ...").
func typed(v string) (typ, text string) {
	t, rest, ok := strings.Cut(v, ";")
	if !ok || strings.ContainsAny(t, " \t") && len(strings.Fields(t)) > 1 {
		return "", strings.TrimSpace(v)
	}
	return strings.ToLower(strings.TrimSpace(t)), strings.TrimSpace(rest)
}

func firstWord(s string) string {
	if f := strings.Fields(s); len(f) > 0 {
		return strings.Trim(f[0], ";,.")
	}
	return ""
}

// fromDSN classifies a message carrying an RFC 3464 delivery-status part:
// a failed recipient makes it a bounce, else a delayed one a delay, else
// a delivered, relayed or expanded one a success report. The recipient
// falls back to X-Failed-Recipients and to the returned original's To
// when the block names none (Exim reports a local delivery's file path).
func fromDSN(m *message) (Result, bool) {
	rs := m.dsnRecipients()
	if len(rs) == 0 {
		return Result{}, false
	}
	pick := rs[0]
	for _, want := range [...]string{"failed", "delayed"} {
		found := false
		for _, r := range rs {
			if r.action == want {
				pick, found = r, true
				break
			}
		}
		if found {
			break
		}
	}
	res := Result{
		Status:     pick.status,
		Diagnostic: pick.diagnostic,
		Recipient:  pick.recipient,
		MessageID:  m.originalMessageID(),
		Provider:   "dsn",
	}
	if res.Recipient == "" {
		res.Recipient = firstAddress(m.header.get("x-failed-recipients"))
	}
	if res.Recipient == "" {
		res.Recipient = m.originalRecipient()
	}
	tb, textOK := m.mtaBounce()
	if res.Diagnostic == "" && textOK {
		// Some reports (Exim's) leave the reason to the text part.
		res.Diagnostic = tb.diagnostic
		res.Status = refineStatus(res.Status, tb.diagnostic)
	}
	switch pick.action {
	case "failed":
		res.Kind = KindBounce
		res.Permanent = hardBounce(res.Status, res.Diagnostic, textOK && tb.permanent)
		res.Reason = "RFC 3464 delivery report: failed" + statusPhrase(res.Status) + ", " + hardSoft(res.Permanent)
	case "delayed":
		res.Kind = KindDelayed
		res.Reason = "RFC 3464 delivery report: delayed" + statusPhrase(res.Status) + "; still being retried, not a bounce"
	default:
		res.Kind = KindDelivered
		res.Reason = "RFC 3464 delivery report: " + pick.action + statusPhrase(res.Status) + "; not a bounce"
	}
	return res, true
}

func statusPhrase(status string) string {
	if status == "" {
		return ""
	}
	return " with status " + status
}

func hardSoft(permanent bool) string {
	if permanent {
		return "a hard bounce"
	}
	return "a soft bounce"
}

// originalMessageID is the Message-ID of the returned original: from its
// attached header, else from headers quoted in the text.
func (m *message) originalMessageID() string {
	if id := messageID(m.original.get("message-id")); id != "" {
		return id
	}
	return messageID(m.quotedOriginal().get("message-id"))
}

// originalRecipient is the first To address of the returned original. A
// tidings mail has one recipient, so this is the subscriber.
func (m *message) originalRecipient() string {
	if a := firstAddress(m.original.get("to")); a != "" {
		return a
	}
	return firstAddress(m.quotedOriginal().get("to"))
}
