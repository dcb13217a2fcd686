package inbound

import (
	"net/mail"
	"strings"
)

// recipients lists the addresses the message was for, envelope first,
// then where the delivering MTA and the sender left them, most specific
// first; without duplicates, at most maxRecipients.
func (m *message) recipients() []string {
	var out []string
	seen := map[string]bool{}
	add := func(a string) {
		k := strings.ToLower(a)
		if a == "" || seen[k] || len(out) >= maxRecipients {
			return
		}
		seen[k] = true
		out = append(out, a)
	}
	for _, e := range m.envelope {
		add(cleanAddress(e))
	}
	for _, name := range [...]string{"delivered-to", "x-original-to", "envelope-to", "x-envelope-to", "to", "cc"} {
		for _, v := range m.header.values(name) {
			for _, a := range addresses(v) {
				add(a)
			}
		}
	}
	return out
}

// toLocalPart reports whether the message was for localPart@ or
// localPart+anything@ (any domain).
func (m *message) toLocalPart(localPart string) bool {
	_, ok := m.addressedTo(localPart)
	return ok
}

// addressedTo returns the first recipient whose local part is localPart
// or localPart+TOKEN.
func (m *message) addressedTo(localPart string) (string, bool) {
	want := strings.ToLower(localPart)
	for _, a := range m.recipients() {
		lp, _, _ := strings.Cut(strings.ToLower(a), "@")
		if lp == want || strings.HasPrefix(lp, want+"+") {
			return a, true
		}
	}
	return "", false
}

// from returns the address in the From field, or "".
func (m *message) from() string {
	return firstAddress(m.header.get("from"))
}

// fromDaemon reports whether the message comes from a mail system rather
// than a person: MAILER-DAEMON, postmaster, "Mail Delivery System".
func (m *message) fromDaemon() bool {
	v := strings.ToLower(m.header.get("from"))
	lp, _, _ := strings.Cut(firstAddress(v), "@")
	switch lp {
	case "mailer-daemon", "mailer_daemon", "mailerdaemon", "mail-daemon", "postmaster", "mdaemon", "mail.daemon":
		return true
	}
	return strings.Contains(v, "mail delivery") || strings.Contains(v, "mailer-daemon")
}

// addresses returns the addr-specs in an address-list value. A list that
// net/mail refuses (bad display names, unknown charsets, "<>" alone) is
// scanned for anything shaped like local@domain instead.
func addresses(v string) []string {
	v = strings.TrimSpace(v)
	if v == "" {
		return nil
	}
	var out []string
	if list, err := mail.ParseAddressList(v); err == nil {
		for _, a := range list {
			if a := cleanAddress(a.Address); a != "" {
				out = append(out, a)
			}
		}
		return out
	}
	return findAddresses(v, maxRecipients)
}

// firstAddress returns the first address in v, or "".
func firstAddress(v string) string {
	if as := addresses(v); len(as) > 0 {
		return as[0]
	}
	return ""
}

// findAddresses scans free text for up to n tokens shaped like
// local@domain.tld.
func findAddresses(s string, n int) []string {
	var out []string
	for len(out) < n {
		at := strings.IndexByte(s, '@')
		if at < 0 {
			break
		}
		start := at
		for start > 0 && isLocalByte(s[start-1]) {
			start--
		}
		end := at + 1
		for end < len(s) && isDomainByte(s[end]) {
			end++
		}
		if a := cleanAddress(s[start:end]); a != "" {
			out = append(out, a)
		}
		s = s[end:] // end > at: past this "@" at least
	}
	return out
}

func isLocalByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' ||
		strings.IndexByte(".!#$%&'*+-/=?^_`{|}~", c) >= 0
}

func isDomainByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '.'
}

// cleanAddress returns a as a bare local@domain when it is one (brackets,
// an "rfc822;" type, mailto:, quotes and trailing punctuation removed),
// else "".
func cleanAddress(a string) string {
	a = strings.TrimSpace(a)
	if t, rest, ok := strings.Cut(a, ";"); ok && !strings.Contains(t, "@") {
		a = strings.TrimSpace(rest) // "rfc822; user@example.com"
	}
	if i := strings.IndexByte(a, '<'); i >= 0 {
		if j := strings.IndexByte(a[i:], '>'); j > 0 {
			a = a[i+1 : i+j]
		}
	}
	a = strings.TrimPrefix(strings.TrimPrefix(a, "mailto:"), "MAILTO:")
	if f := strings.Fields(a); len(f) > 0 {
		a = f[0] // "user@example.com (comment)"
	}
	a = strings.Trim(a, `"'<>()[],;:.`)
	at := strings.LastIndexByte(a, '@')
	if at <= 0 || at == len(a)-1 || len(a) > 254 {
		return ""
	}
	domain := a[at+1:]
	if !strings.Contains(domain, ".") || strings.HasPrefix(domain, ".") || strings.Contains(domain, "..") {
		return ""
	}
	for i := 0; i < len(domain); i++ {
		if !isDomainByte(domain[i]) {
			return ""
		}
	}
	for i := 0; i < at; i++ {
		if c := a[i]; c <= ' ' || c > '~' || c == '<' || c == '>' || c == '@' || c == '"' || c == ',' || c == '\\' {
			return ""
		}
	}
	return a
}

// messageID returns the first "<...>" in v, or v itself when it is a bare
// left@right, or "".
func messageID(v string) string {
	v = strings.TrimSpace(v)
	if i := strings.IndexByte(v, '<'); i >= 0 {
		if j := strings.IndexByte(v[i:], '>'); j > 2 {
			id := v[i : i+j+1]
			if strings.Contains(id, "@") && !strings.ContainsAny(id[1:len(id)-1], " \t<") && len(id) <= 250 {
				return id
			}
		}
		return ""
	}
	if f := strings.Fields(v); len(f) == 1 && strings.Contains(v, "@") && len(v) <= 248 {
		return "<" + v + ">"
	}
	return ""
}
