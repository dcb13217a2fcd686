package webhook

import (
	"strings"

	"github.com/tidings/tidings/mail/inbound"
)

// maxDiagnostic is as much of a provider's text as a Result keeps.
const maxDiagnostic = 500

// bounce is the Result of a failed delivery: hard or soft by the status
// and text the provider gave, as inbound decides it for a DSN, with
// permanent the provider's own word when they say nothing.
func bounce(recipient, status, diag string, permanent bool, reason string) inbound.Result {
	diag = clip(diag)
	if status == "" {
		status = inbound.FindStatus(diag)
	}
	return inbound.Result{Kind: inbound.KindBounce, Permanent: inbound.HardBounce(status, diag, permanent),
		Status: status, Diagnostic: diag, Recipient: recipient, Reason: reason}
}

// other is the Result of an event that changes no one.
func other(kind inbound.Kind, recipient, reason string) inbound.Result {
	return inbound.Result{Kind: kind, Recipient: recipient, Reason: reason}
}

// returnPaths picks, from values the provider echoes back (the envelope
// sender, metadata, custom arguments), those that are a VERP envelope
// sender bounces+TOKEN@domain, for Result.To.
func returnPaths(values ...string) []string {
	var out []string
	for _, v := range values {
		if i, j := strings.LastIndexByte(v, '<'), strings.LastIndexByte(v, '>'); i >= 0 && j > i {
			v = v[i+1 : j] // "Example News <bounces+...@...>"
		}
		v = strings.TrimSpace(v)
		local, domain, ok := strings.Cut(v, "@")
		if !ok || domain == "" || strings.ContainsAny(v, " \t\r\n,") || !strings.HasPrefix(strings.ToLower(local), "bounces+") {
			continue
		}
		out = append(out, v)
	}
	return out
}

// angled writes a Message-ID as tidings stores it, "<...>": some
// providers drop the brackets.
func angled(id string) string {
	id = strings.TrimSpace(id)
	if id == "" || strings.ContainsAny(id, " \t\r\n") {
		return ""
	}
	id = strings.TrimSuffix(strings.TrimPrefix(id, "<"), ">")
	if id == "" || strings.ContainsAny(id, "<>") {
		return "" // "<", "<>", "<a>b>": no Message-ID to match
	}
	return "<" + id + ">"
}

// clip collapses white space and cuts s to maxDiagnostic bytes on a rune
// boundary.
func clip(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) <= maxDiagnostic {
		return s
	}
	cut := maxDiagnostic
	for cut > 0 && s[cut]&0xC0 == 0x80 {
		cut--
	}
	return s[:cut]
}
