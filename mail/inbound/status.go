package inbound

import "strings"

// findStatus returns the first RFC 3463 enhanced status code in s
// ("5.1.1", also written "#5.1.1" or "(#5.1.1)"), or "". A run of digits
// and dots longer than a code (an IP address, a version number) is not
// one.
func findStatus(s string) string {
	for i := 0; i+5 <= len(s); i++ {
		c := s[i]
		if c != '2' && c != '4' && c != '5' || s[i+1] != '.' {
			continue
		}
		if i > 0 && (isDigit(s[i-1]) || s[i-1] == '.') {
			continue
		}
		j := i + 2
		k := j
		for k < len(s) && k-j < 3 && isDigit(s[k]) {
			k++
		}
		if k == j || k >= len(s) || s[k] != '.' {
			continue
		}
		l := k + 1
		e := l
		for e < len(s) && e-l < 3 && isDigit(s[e]) {
			e++
		}
		if e == l || e < len(s) && (isDigit(s[e]) || s[e] == '.' && e+1 < len(s) && isDigit(s[e+1])) {
			continue
		}
		return s[i:e]
	}
	return ""
}

// smtpCode returns the first basic SMTP reply code in s ("550", also
// "550-" in a multi-line reply), or "".
func smtpCode(s string) string {
	for i := 0; i+3 <= len(s); i++ {
		c := s[i]
		if c != '4' && c != '5' || !isDigit(s[i+1]) || !isDigit(s[i+2]) {
			continue
		}
		if i > 0 && s[i-1] != ' ' && s[i-1] != '\t' && s[i-1] != '\'' && s[i-1] != '#' && s[i-1] != ';' && s[i-1] != '(' && s[i-1] != ':' {
			continue
		}
		if i+3 < len(s) && s[i+3] != ' ' && s[i+3] != '-' && s[i+3] != '\t' {
			continue
		}
		return s[i : i+3]
	}
	return ""
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// isGeneric reports whether status says only its class (X.0.0), which
// the remote text can refine.
func isGeneric(status string) bool {
	return status == "" || strings.HasSuffix(status, ".0.0")
}

// refineStatus returns a more specific code from diag when status is
// empty or generic and diag carries one of the same class.
func refineStatus(status, diag string) string {
	if !isGeneric(status) {
		return status
	}
	d := findStatus(diag)
	if d == "" || isGeneric(d) && status != "" {
		return status
	}
	if status != "" && d[0] != status[0] {
		return status
	}
	return d
}

// hardBounce decides whether a failed delivery is permanent. The status
// decides when it says enough: 5.x.x is hard except 5.2.2 (mailbox full)
// and 5.7.x (policy), which a later mail may pass; 4.x.x is soft. A
// generic or missing code leaves it to the remote text, then to the
// basic SMTP code, then to the notice's own word (permanent is what the
// notice said of itself, "This is a permanent error").
func hardBounce(status, diag string, permanent bool) bool {
	if status != "" && !isGeneric(status) {
		switch {
		case status[0] != '5':
			return false
		case status == "5.2.2", strings.HasPrefix(status, "5.7."):
			return false
		}
		return true
	}
	if status != "" && status[0] != '5' {
		return false
	}
	d := strings.ToLower(diag)
	switch {
	case containsAny(d, "mailbox full", "mailbox is full", "mailbox is over", "quota exceeded", "over quota", "overquota",
		"exceeded storage", "insufficient storage", "mailbox size limit", "full mailbox", "out of storage"):
		return false
	case containsAny(d, "spam", "blocked", "blacklist", "blocklist", "block list", "policy", "reputation", "dmarc", "rate limit"):
		return false
	case containsAny(d, "user unknown", "unknown user", "no such user", "does not exist", "doesn't exist", "not found",
		"recipientnotfound", "recipnotfound", "invalid recipient", "no mailbox", "mailbox unavailable", "mailbox not available",
		"unrouteable", "unroutable", "couldn't find any host", "host not found", "domain not found", "no such domain",
		"address rejected", "account disabled", "account has been disabled", "is disabled"):
		return true
	}
	switch code := smtpCode(diag); {
	case code == "552":
		return false // exceeded storage allocation
	case code != "" && code[0] == '5':
		return true
	case code != "":
		return false
	}
	return status != "" || permanent
}

func containsAny(s string, subs ...string) bool {
	for _, sub := range subs {
		if strings.Contains(s, sub) {
			return true
		}
	}
	return false
}

// clip collapses runs of white space to one space and cuts s to at most n
// bytes on a rune boundary.
func clip(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) <= n {
		return s
	}
	cut := n
	for cut > 0 && s[cut]&0xC0 == 0x80 {
		cut--
	}
	return s[:cut]
}

// HardBounce reports whether a failure a provider reported is permanent,
// by the rule Classify applies to a DSN: a specific enhanced status
// decides (5.x.x hard except 5.2.2 and 5.7.x; 4.x.x soft), else the
// remote text, else the basic SMTP code in it, else permanent, the
// provider's own word. The webhooks call it, so that a status means the
// same whichever way it came back.
func HardBounce(status, diagnostic string, permanent bool) bool {
	return hardBounce(refineStatus(status, diagnostic), diagnostic, permanent)
}

// FindStatus returns the first RFC 3463 enhanced status code in s
// ("5.1.1"), or "".
func FindStatus(s string) string { return findStatus(s) }
