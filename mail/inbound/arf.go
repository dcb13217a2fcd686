package inbound

import "strings"

// fromFeedback classifies an RFC 5965 feedback report (ARF): abuse,
// fraud, virus and other reports are complaints; the old draft's opt-out
// type is an unsubscribe; not-spam and auth-failure (DMARC forensic)
// reports say nothing against the recipient and stay unmatched (and are
// not taken for anything else).
func fromFeedback(m *message) (Result, bool) {
	if m.feedback == nil {
		return Result{}, false
	}
	ft := strings.ToLower(firstWord(m.feedback.get("feedback-type")))
	res := Result{
		Recipient: m.complainant(),
		MessageID: m.originalMessageID(),
		Provider:  "arf",
	}
	if ua := m.feedback.get("user-agent"); ua != "" {
		res.Diagnostic = "feedback-type " + ft + " from " + ua
	}
	switch ft {
	case "abuse", "fraud", "virus", "other":
		res.Kind = KindComplaint
		res.Reason = "ARF feedback report of type " + ft
	case "opt-out", "opt-out-list":
		res.Kind = KindUnsubscribe
		res.Reason = "ARF feedback report of type " + ft + ": the recipient asked to leave"
	default:
		return Result{Kind: KindUnmatched, MessageID: res.MessageID, Provider: "arf",
			Reason: "ARF feedback report of type " + quoteOr(ft, "(none)") + ", which is not a complaint"}, true
	}
	return res, true
}

// complainant is the recipient a feedback report is about: the report's
// Original-Rcpt-To (or the older Removal-Recipient), else the returned
// original's To. Reporters that redact it leave the Message-ID to match.
func (m *message) complainant() string {
	for _, name := range [...]string{"original-rcpt-to", "removal-recipient"} {
		if a := cleanAddress(m.feedback.get(name)); a != "" {
			return a
		}
	}
	return m.originalRecipient()
}

// fromJMRP classifies a complaint in the shape of Microsoft's Junk Mail
// Reporting Program (Outlook.com, Hotmail): not ARF, but a message whose
// attached original carries X-HmXmrOriginalRecipient.
func fromJMRP(m *message) (Result, bool) {
	rcpt := cleanAddress(m.original.get("x-hmxmroriginalrecipient"))
	if rcpt == "" {
		return Result{}, false
	}
	return Result{
		Kind:      KindComplaint,
		Recipient: rcpt,
		MessageID: m.originalMessageID(),
		Provider:  "jmrp",
		Reason:    "Microsoft JMRP complaint (X-HmXmrOriginalRecipient in the returned original)",
	}, true
}
