package inbound

import "strings"

// textBounce is what a parser of one MTA's failure notice read from the
// text.
type textBounce struct {
	provider   string
	kind       Kind // KindBounce, KindDelayed or KindDelivered
	recipient  string
	status     string
	diagnostic string
	permanent  bool // the notice calls the failure permanent
}

// textParser reads one MTA's notice from the human-readable text (the
// text before the quoted original, if any). It returns false when the
// text is not that MTA's.
type textParser func(m *message, text string) (textBounce, bool)

// mtaBounce runs the text parsers once per message, most specific
// signature first. Each is keyed on sentences its MTA has written,
// unchanged, for many years.
func (m *message) mtaBounce() (textBounce, bool) {
	if !m.mtaDone {
		m.mtaDone = true
		text := m.humanText()
		for _, p := range [...]textParser{parsePostfix, parseExim, parseExchange, parseGmail, parseYahoo, parseQmail} {
			if tb, ok := p(m, text); ok {
				m.mta, m.mtaOK = tb, true
				break
			}
		}
	}
	return m.mta, m.mtaOK
}

// fromMTAText classifies a failure notice in a known MTA's words, for
// the notices that carry no delivery-status part (or one that says
// nothing usable).
func fromMTAText(m *message) (Result, bool) {
	tb, ok := m.mtaBounce()
	if !ok {
		return Result{}, false
	}
	res := Result{
		Kind:       tb.kind,
		Status:     tb.status,
		Diagnostic: tb.diagnostic,
		Recipient:  tb.recipient,
		MessageID:  m.originalMessageID(),
		Provider:   tb.provider,
	}
	if res.Recipient == "" {
		res.Recipient = firstAddress(m.header.get("x-failed-recipients"))
	}
	if res.Recipient == "" {
		res.Recipient = m.originalRecipient()
	}
	name := providerName(tb.provider)
	switch tb.kind {
	case KindDelayed:
		res.Reason = name + " delay warning" + statusPhrase(res.Status) + "; still being retried, not a bounce"
		return res, true
	case KindDelivered:
		res.Reason = name + " success notice" + statusPhrase(res.Status) + "; not a bounce"
		return res, true
	}
	res.Permanent = hardBounce(res.Status, res.Diagnostic, tb.permanent)
	res.Reason = name + " failure notice" + statusPhrase(res.Status) + ", " + hardSoft(res.Permanent)
	return res, true
}

func providerName(p string) string {
	switch p {
	case "postfix":
		return "Postfix"
	case "exim":
		return "Exim"
	case "exchange":
		return "Exchange"
	case "gmail":
		return "Gmail"
	case "yahoo":
		return "Yahoo"
	}
	return p
}

// splitText cuts the text at the first line that opens a quoted copy of
// the original: the notice before it, the quoted header after it.
func (m *message) splitText() {
	if m.splitDone {
		return
	}
	m.splitDone = true
	text := m.text()
	m.human = text
	cut := -1
	for _, mk := range [...]string{
		"This is a copy of the message",            // Exim: "------ This is a copy of the message, including all the headers. ------"
		"This is a copy of your message",           // Exim, localised templates
		"Below this line is a copy of the message", // qmail, Yahoo
		"Original message headers:",                // Exchange, Office 365
		"----- Original message -----",             // Gmail (older notices)
		"Original message follows",                 // various
	} {
		if i := strings.Index(text, mk); i >= 0 && (cut < 0 || i < cut) {
			cut = i
		}
	}
	if cut < 0 {
		return
	}
	m.human = text[:cut]
	rest := text[cut:]
	if nl := strings.IndexByte(rest, '\n'); nl >= 0 {
		m.quoted = parseHeaderBlock([]byte(rest[nl+1:]))
	}
}

// humanText is the notice's own text, without a quoted original.
func (m *message) humanText() string {
	m.splitText()
	return m.human
}

// quotedOriginal is the header of an original quoted in the text, when
// there is one.
func (m *message) quotedOriginal() fieldGroup {
	m.splitText()
	return m.quoted
}

// paragraphAfter returns the first paragraph (lines up to a blank one)
// after the line holding marker, or "" when marker is not in text.
func paragraphAfter(text, marker string) string {
	i := strings.Index(text, marker)
	if i < 0 {
		return ""
	}
	rest := text[i:]
	nl := strings.IndexByte(rest, '\n')
	if nl < 0 {
		return ""
	}
	return firstParagraph(rest[nl+1:])
}

// firstParagraph returns the first run of non-blank lines in s.
func firstParagraph(s string) string {
	var b strings.Builder
	for line := range lines([]byte(s)) {
		if isBlank(line) {
			if b.Len() > 0 {
				break
			}
			continue
		}
		if b.Len() > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(line)
		if b.Len() > 8<<10 {
			break
		}
	}
	return b.String()
}

// splitRecipientLine splits "<addr>: rest" or "addr rest" at the start of
// a paragraph into the address and the remaining text.
func splitRecipientLine(p string) (addr, rest string) {
	first, more, _ := strings.Cut(p, "\n")
	t := strings.TrimSpace(first)
	end := strings.IndexAny(t, " \t")
	if strings.HasPrefix(t, "<") {
		end = strings.IndexByte(t, '>') + 1
	}
	if end <= 0 {
		end = len(t)
	}
	addr = cleanAddress(t[:end])
	if addr == "" {
		return "", p // "save to /var/mail/...": no address, all of it is the reason
	}
	return addr, strings.TrimSpace(strings.TrimLeft(t[end:], ":")) + "\n" + more
}

// parsePostfix reads Postfix's bounce(8) notice: "The mail system" and a
// paragraph per recipient, "<addr> (expanded from <orig>): reason".
func parsePostfix(m *message, text string) (textBounce, bool) {
	if !strings.Contains(text, "The mail system") ||
		!containsAny(text, "This is the mail system at host", "I'm sorry to have to inform you", "could not be delivered to one or more recipients") {
		return textBounce{}, false
	}
	tb := textBounce{provider: "postfix", kind: KindBounce}
	switch {
	case strings.Contains(text, "THIS IS A WARNING ONLY") || strings.Contains(m.subject, "Delayed Mail"):
		tb.kind = KindDelayed
	case strings.Contains(text, "was successfully delivered"):
		tb.kind = KindDelivered // a success notice (NOTIFY=SUCCESS, or relayed to a non-DSN mailer)
	}
	p := paragraphAfter(text, "The mail system")
	addr, rest := splitRecipientLine(p)
	if _, after, ok := strings.Cut(p, "(expanded from "); ok {
		if orig := cleanAddress(strings.SplitN(after, ")", 2)[0]); orig != "" {
			addr = orig // the address tidings sent to, before an alias
			if _, r, ok := strings.Cut(after, "):"); ok {
				rest = r
			}
		}
	}
	tb.recipient = addr
	tb.diagnostic = rest
	tb.status = findStatus(rest)
	return tb, true
}

// parseExim reads Exim's notice: "This message was created automatically
// by mail delivery software." and an indented block per address.
func parseExim(m *message, text string) (textBounce, bool) {
	if !strings.Contains(text, "This message was created automatically by mail delivery software") {
		return textBounce{}, false
	}
	tb := textBounce{provider: "exim", kind: KindBounce, permanent: strings.Contains(text, "This is a permanent error")}
	p := paragraphAfter(text, "The following address(es) failed:")
	if p == "" {
		for _, mk := range [...]string{"has not yet been delivered is:", "have not yet been delivered are:"} {
			if p = paragraphAfter(text, mk); p != "" {
				tb.kind = KindDelayed
				break
			}
		}
	}
	if p == "" && strings.Contains(text, "has not yet been delivered") {
		tb.kind = KindDelayed
	}
	addr, rest := splitRecipientLine(p)
	if addr == "" {
		if _, after, ok := strings.Cut(p, "generated by "); ok {
			addr = cleanAddress(firstWord(after)) // a pipe or file delivery "generated by" the address
		}
	}
	tb.recipient = addr
	tb.diagnostic = rest
	tb.status = findStatus(rest)
	return tb, true
}

// parseExchange reads Exchange's and Office 365's non-delivery report:
// "Delivery has failed to these recipients or groups:", then in the
// administrators' part the address and "Remote Server returned '550
// 5.1.1 ...'" (or "#550 5.1.1 ... ##").
func parseExchange(m *message, text string) (textBounce, bool) {
	var sig string
	tb := textBounce{provider: "exchange", kind: KindBounce}
	for _, s := range [...]string{
		"Delivery has failed to these recipients or groups:",
		"Delivery has failed to these recipients or distribution lists:",
		"Your message did not reach some or all of the intended recipients",
		"couldn't be delivered.",
		"Delivery is delayed to these recipients or groups:",
		"Delivery is delayed to these recipients or distribution lists:",
	} {
		if strings.Contains(text, s) {
			sig = s
			break
		}
	}
	if sig == "" || sig == "couldn't be delivered." && !strings.Contains(text, "Your message to ") {
		return textBounce{}, false
	}
	if strings.HasPrefix(sig, "Delivery is delayed") {
		tb.kind = KindDelayed
	}
	if _, after, ok := strings.Cut(text, "Remote Server returned '"); ok {
		tb.diagnostic, _, _ = strings.Cut(after, "'")
	} else {
		for line := range lines([]byte(text)) {
			if t := strings.TrimSpace(line); strings.HasPrefix(t, "#") && strings.HasSuffix(t, "##") {
				tb.diagnostic = strings.Trim(t, "# ")
				break
			}
		}
	}
	if g := paragraphAfter(text, "Generating server:"); g != "" {
		tb.recipient = cleanAddress(firstWord(strings.TrimSpace(g)))
	}
	if tb.recipient == "" {
		if _, after, ok := strings.Cut(text, "Your message to "); ok && sig == "couldn't be delivered." {
			tb.recipient = cleanAddress(firstWord(after))
		}
	}
	if tb.recipient == "" {
		if as := findAddresses(paragraphAfter(text, sig), 1); len(as) > 0 {
			tb.recipient = as[0]
		}
	}
	tb.status = findStatus(tb.diagnostic)
	if tb.status == "" {
		tb.status = findStatus(text) // "see DSN 5.1.10 Errors in Exchange Online"
	}
	return tb, true
}

// parseGmail reads Gmail's notices, the current "Address not found /
// Your message wasn't delivered to X because ..." and the older
// "Delivery to the following recipient failed permanently:".
func parseGmail(m *message, text string) (textBounce, bool) {
	tb := textBounce{provider: "gmail", kind: KindBounce}
	switch {
	case strings.Contains(text, "Your message wasn't delivered to "):
		_, after, _ := strings.Cut(text, "Your message wasn't delivered to ")
		tb.recipient = cleanAddress(firstWord(after))
	case containsAny(text, "Delivery to the following recipient failed permanently:", "Delivery to the following recipients failed permanently:"):
		tb.permanent = true
		tb.recipient, _ = splitRecipientLine(paragraphAfter(text, "failed permanently:"))
	case containsAny(text, "Delivery to the following recipient has been delayed:", "Delivery to the following recipients has been delayed:"):
		tb.kind = KindDelayed
		tb.recipient, _ = splitRecipientLine(paragraphAfter(text, "been delayed:"))
	case strings.Contains(text, "** Delivery incomplete **"):
		tb.kind = KindDelayed
		if _, after, ok := strings.Cut(text, "There was a temporary problem delivering your message to "); ok {
			tb.recipient = cleanAddress(firstWord(after))
		}
	default:
		return textBounce{}, false
	}
	for _, mk := range [...]string{"The response from the remote server was:", "The error that the other server returned was:", "The response was:"} {
		if p := paragraphAfter(text, mk); p != "" {
			tb.diagnostic = p
			break
		}
	}
	tb.status = findStatus(tb.diagnostic)
	if strings.Contains(text, "Address not found") && tb.status == "" {
		tb.permanent = true
	}
	return tb, true
}

// parseYahoo reads Yahoo's "Sorry, we were unable to deliver your message
// to the following address." with "<addr>:" and "Remote host said: ...".
func parseYahoo(m *message, text string) (textBounce, bool) {
	const sig = "Sorry, we were unable to deliver your message to the following address"
	if !strings.Contains(text, sig) {
		return textBounce{}, false
	}
	addr, rest := splitRecipientLine(paragraphAfter(text, sig))
	return textBounce{provider: "yahoo", kind: KindBounce, recipient: addr, diagnostic: rest, status: findStatus(rest)}, true
}

// parseQmail reads qmail-send's "Hi. This is the qmail-send program":
// "<addr>:" and the reason, with a status like "(#5.1.1)".
func parseQmail(m *message, text string) (textBounce, bool) {
	if !strings.Contains(text, "This is the qmail-send program") {
		return textBounce{}, false
	}
	tb := textBounce{provider: "qmail", kind: KindBounce, permanent: strings.Contains(text, "This is a permanent error")}
	i := strings.Index(text, "\n<")
	if i < 0 {
		return tb, true
	}
	tb.recipient, tb.diagnostic = splitRecipientLine(firstParagraph(text[i+1:]))
	tb.status = findStatus(tb.diagnostic)
	return tb, true
}

// fromGenericFailure is the last word on failure notices no parser knows:
// one from a mail system (MAILER-DAEMON, postmaster) or sent to the
// bounce address, with a failure subject, that names the failed
// recipient (X-Failed-Recipients, the returned original's To) or the
// original's Message-ID.
func fromGenericFailure(m *message, bounceLocalPart string) (Result, bool) {
	if !m.fromDaemon() && !m.toLocalPart(bounceLocalPart) {
		return Result{}, false
	}
	subj := strings.ToLower(m.subject)
	if !containsAny(subj, "undeliver", "delivery fail", "delivery status notification", "returned mail", "failure notice",
		"mail delivery failed", "could not be delivered", "not delivered", "delivery failure", "non remis", "unzustellbar",
		"nicht zustellbar", "delivery notification", "delayed mail", "delivery delay") {
		return Result{}, false
	}
	res := Result{
		Kind:      KindBounce,
		Recipient: firstAddress(m.header.get("x-failed-recipients")),
		MessageID: m.originalMessageID(),
		Provider:  "generic",
	}
	if res.Recipient == "" {
		res.Recipient = m.originalRecipient()
	}
	if res.Recipient == "" && res.MessageID == "" {
		return Result{}, false
	}
	for line := range lines([]byte(m.humanText())) {
		if findStatus(line) != "" || smtpCode(line) != "" {
			res.Diagnostic = line
			break
		}
	}
	res.Status = findStatus(res.Diagnostic)
	if containsAny(subj, "delay", "warning") {
		res.Kind = KindDelayed
		res.Reason = "a mail system's delay notice in no known format; not a bounce"
		return res, true
	}
	res.Permanent = hardBounce(res.Status, res.Diagnostic, false)
	res.Reason = "a mail system's failure notice in no known format" + statusPhrase(res.Status) + ", " + hardSoft(res.Permanent)
	return res, true
}
