package admin

import (
	"net/url"
	"path"
	"strings"
)

// home is where a login goes when it has nowhere better to go.
const home = "/admin/"

// safeNext returns next if it is a path on this site under /admin, else
// home, so that the login page's ?next= can never send a browser to
// another site (//evil.com, /\evil.com, https://x) or outside the admin
// (/admin/../x). The login page itself is not a place to go back to.
func safeNext(next string) string {
	if next == "" || len(next) > 2048 || !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") {
		return home
	}
	for _, c := range next {
		// Browsers read a backslash as a slash, and drop tabs and newlines.
		if c < 0x20 || c == 0x7f || c == '\\' {
			return home
		}
	}
	u, err := url.Parse(next)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil || u.Opaque != "" {
		return home
	}
	p := path.Clean(u.Path)
	if p != "/admin" && !strings.HasPrefix(p, "/admin/") || p == "/admin/login" {
		return home
	}
	if strings.HasSuffix(u.Path, "/") && p != "/" {
		p += "/"
	}
	return (&url.URL{Path: p, RawQuery: u.RawQuery}).String()
}
