package web

import (
	"crypto/sha256"
	"encoding/base64"
	"html/template"
	"net/http"
	"net/url"
	"strings"
)

// TimeZoneScript is the one script the pages may run: placed inline right
// after a form's hidden input with id "timezone", it fills that input with
// the browser's IANA time zone, so that a sign-up can mail at the
// subscriber's hour. The security policy allows exactly these bytes, by
// their hash; a page without JavaScript posts the field empty and gets
// the site's zone.
const TimeZoneScript template.JS = `try{document.getElementById("timezone").value=Intl.DateTimeFormat().resolvedOptions().timeZone||""}catch(e){}`

// AllowTimeZoneScript lets the page being answered on w run
// TimeZoneScript and no other script: it replaces the "script-src
// 'none'" that Secure set with the script's hash. Call it before the
// header is written.
func AllowTimeZoneScript(w http.ResponseWriter) {
	hd := w.Header()
	if csp := hd.Get("Content-Security-Policy"); csp != "" {
		hd.Set("Content-Security-Policy", strings.Replace(csp, "script-src 'none'", "script-src "+scriptHash(), 1))
	}
}

// scriptHash is the CSP source that allows TimeZoneScript inline.
func scriptHash() string {
	h := sha256.Sum256([]byte(TimeZoneScript))
	return "'sha256-" + base64.StdEncoding.EncodeToString(h[:]) + "'"
}

// Secure sets the security headers on every answer of h: pages, feeds,
// JSON and errors alike. baseURL is the site's public URL; forms may post
// to its origin, which differs from the server's own behind a proxy.
//
//   - Content-Security-Policy: nothing loads unless listed; no script at
//     all, inline or not (but see AllowTimeZoneScript); styles only from
//     this server (the one stylesheet of Assets), no inline style;
//     images and media from anywhere over http(s), as articles embed them;
//     no framing; forms post only here.
//   - Strict-Transport-Security, when baseURL is https: browsers then ask
//     for https only, for a year (subdomains are not named: they may be
//     another's).
//   - X-Frame-Options: DENY, for browsers that predate frame-ancestors.
//   - X-Content-Type-Options: nosniff, so a feed or JSON is never run as HTML.
//   - Referrer-Policy: no-referrer when the URL holds a token (confirm,
//     unsubscribe, preferences: ?token=...), so a link followed from that
//     page never carries it away; strict-origin-when-cross-origin elsewhere.
func Secure(h http.Handler, baseURL string) http.Handler {
	formAction := "'self'"
	if u, err := url.Parse(baseURL); err == nil && u.Scheme != "" && u.Host != "" {
		formAction += " " + u.Scheme + "://" + u.Host
	}
	hsts := false
	if u, err := url.Parse(baseURL); err == nil && u.Scheme == "https" {
		hsts = true
	}
	csp := "default-src 'none'; script-src 'none'; style-src 'self'; img-src 'self' http: https: data:; " +
		"media-src 'self' http: https:; form-action " + formAction + "; frame-ancestors 'none'; base-uri 'none'"
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hd := w.Header()
		hd.Set("Content-Security-Policy", csp)
		hd.Set("X-Frame-Options", "DENY")
		hd.Set("X-Content-Type-Options", "nosniff")
		if hsts {
			hd.Set("Strict-Transport-Security", "max-age=31536000")
		}
		if r.URL.Query().Has("token") {
			hd.Set("Referrer-Policy", "no-referrer")
		} else {
			hd.Set("Referrer-Policy", "strict-origin-when-cross-origin")
		}
		h.ServeHTTP(w, r)
	})
}
