package subscribers

import (
	"context"
	"database/sql"
	"fmt"
	"net/netip"
	"strings"
	"time"
)

// Cap is at most N sign-up mails within Per.
type Cap struct {
	N   int
	Per time.Duration
}

// Caps bound the mail the sign-up form can cause, per mailbox (after
// folding the spellings its provider treats as one), per domain and per
// network of the requester. A sign-up over a cap is answered as every
// other and sends nothing: the form must tell no one, by its answer,
// whether an address is on the list or was capped.
type Caps struct {
	Mailbox, Domain, Network []Cap
}

// DefaultCaps are generous for people and useless for a script: three
// mails an hour and five a day to one mailbox, 200 an hour and 2,000 a
// day to one domain, 20 an hour and 60 a day from one /24 or /64.
var DefaultCaps = Caps{
	Mailbox: []Cap{{3, time.Hour}, {5, 24 * time.Hour}},
	Domain:  []Cap{{200, time.Hour}, {2000, 24 * time.Hour}},
	Network: []Cap{{20, time.Hour}, {60, 24 * time.Hour}},
}

// capWindow is the longest Per a cap may have: rows older are deleted.
const capWindow = 24 * time.Hour

// mailboxKey is the mailbox an address reaches as its provider reads it:
// a +tag is dropped (most providers deliver a+x@ to a@), and Gmail's dots
// with it. Capping by it keeps a+1@, a+2@ ... from each getting a mail.
func mailboxKey(addr string) (mailbox, domain string) {
	i := strings.LastIndexByte(addr, '@')
	if i < 0 {
		return strings.ToLower(addr), ""
	}
	local, dom := strings.ToLower(addr[:i]), strings.ToLower(addr[i+1:])
	if i := strings.IndexByte(local, '+'); i > 0 {
		local = local[:i]
	}
	switch dom {
	case "gmail.com", "googlemail.com":
		dom = "gmail.com"
		local = strings.ReplaceAll(local, ".", "")
	}
	return local + "@" + dom, dom
}

// netKey is the requester's network: the /24 of an IPv4 address, the /64
// of an IPv6 one (an IPv4-mapped address counts as IPv4). An address that
// does not parse stands for itself.
func netKey(ip string) string {
	a, err := netip.ParseAddr(strings.TrimSpace(ip))
	if err != nil {
		return "?" + clip(ip, 64)
	}
	a = a.Unmap()
	bits := 64
	if a.Is4() {
		bits = 24
	}
	p, _ := a.Prefix(bits)
	return p.String()
}

// underCaps reports whether one more sign-up mail to addr, asked from
// ip, stays within every cap, and if so records it. It runs in the
// sign-up's transaction, so that requests at the same moment count one
// after the other.
func underCaps(ctx context.Context, tx *sql.Tx, caps Caps, addr, ip string, now time.Time) (bool, error) {
	mailbox, domain := mailboxKey(addr)
	network := netKey(ip)
	if _, err := tx.ExecContext(ctx, `DELETE FROM signup_mails WHERE at < ?`, now.Add(-capWindow).UnixNano()); err != nil {
		return false, fmt.Errorf("sign-up caps: %w", err)
	}
	for _, c := range []struct {
		column, key string
		caps        []Cap
	}{{"mailbox", mailbox, caps.Mailbox}, {"domain", domain, caps.Domain}, {"net", network, caps.Network}} {
		for _, cp := range c.caps {
			var n int
			if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM signup_mails WHERE `+c.column+` = ? AND at >= ?`,
				c.key, now.Add(-cp.Per).UnixNano()).Scan(&n); err != nil {
				return false, fmt.Errorf("sign-up caps: %w", err)
			}
			if n >= cp.N {
				return false, nil
			}
		}
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO signup_mails (at, mailbox, domain, net) VALUES (?, ?, ?, ?)`,
		now.UnixNano(), mailbox, domain, network); err != nil {
		return false, fmt.Errorf("sign-up caps: %w", err)
	}
	return true, nil
}
