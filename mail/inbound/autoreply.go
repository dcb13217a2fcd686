package inbound

import "strings"

// fromAutoReply recognises automatic answers: RFC 3834's Auto-Submitted
// (auto-replied, auto-generated, any value but "no"), the X-Autoreply
// family and Precedence: auto_reply that vacation programs write, and,
// for mail clients that mark nothing (Exchange's out-of-office, Lotus
// Notes), the subjects they put in many languages. It runs after the
// report and failure-notice rules, since those are auto-submitted too.
func fromAutoReply(m *message) (Result, bool) {
	h := m.header
	res := Result{Kind: KindAutoReply, Recipient: m.from(), Provider: "header"}
	switch as := strings.ToLower(firstWord(h.get("auto-submitted"))); {
	case as != "" && as != "no":
		res.Provider = "rfc3834"
		res.Reason = "automatic reply: Auto-Submitted: " + as
		return res, true
	}
	for _, name := range [...]string{"x-autoreply", "x-autorespond", "x-autoresponder"} {
		if v := strings.ToLower(strings.TrimSpace(h.get(name))); h.has(name) && v != "no" && v != "false" {
			res.Reason = "automatic reply: " + name + " header"
			return res, true
		}
	}
	if strings.EqualFold(strings.TrimSpace(h.get("precedence")), "auto_reply") {
		res.Reason = "automatic reply: Precedence: auto_reply"
		return res, true
	}
	if phrase := autoReplySubject(m.subject); phrase != "" {
		res.Provider = "subject"
		res.Reason = "automatic reply: the subject says " + phrase
		return res, true
	}
	return Result{}, false
}

// autoReplySubject returns the out-of-office phrase in subject, or "".
func autoReplySubject(subject string) string {
	s := strings.ToLower(subject)
	if strings.HasPrefix(s, "auto:") {
		return `"Auto:"` // Lotus Notes: "AUTO: Jane Doe is out of the office"
	}
	for _, p := range [...]string{
		"out of office", "out of the office", "automatic reply", "auto reply", "auto-reply", "autoreply",
		"automatic response", "auto response", "auto-response", "autoresponder",
		"abwesenheitsnotiz", "automatische antwort", "abwesenheit", // German
		"réponse automatique", "reponse automatique", "absence du bureau", "absent du bureau", // French
		"respuesta automática", "respuesta automatica", "fuera de la oficina", // Spanish
		"risposta automatica", "fuori sede", // Italian
		"automatisch antwoord", "afwezigheidsbericht", // Dutch
		"resposta automática", "ausente do escritório", // Portuguese
	} {
		if strings.Contains(s, p) {
			return `"` + p + `"`
		}
	}
	return ""
}
