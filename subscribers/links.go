package subscribers

import "net/url"

// Links makes the per-subscriber URLs that pages and mail carry. The
// unsubscribe and preferences tokens never expire, so a link in an old
// mail still works; they bind the subscriber's token nonce, so they stop
// working once it is renewed (the person signed up anew) or the subscriber
// is forgotten. Give them a Subscriber as the store loaded it: with its
// Nonce.
type Links struct {
	tokens *Tokens
	site   SiteInfo
}

// NewLinks returns the link maker for a site.
func NewLinks(t *Tokens, site SiteInfo) *Links { return &Links{tokens: t, site: site} }

// UnsubscribeURL is the one-click link, for the List-Unsubscribe header and
// mail footers.
func (l *Links) UnsubscribeURL(s *Subscriber) string {
	return l.site.URL("unsubscribe?token=" + url.QueryEscape(l.tokens.Make(PurposeUnsubscribe, s.ID, s.Nonce, 0)))
}

// UnsubscribeAddress is the mailto address of the List-Unsubscribe
// header at domain: unsubscribe+TOKEN@domain, the token signed like the
// link's, so that a mail to it unsubscribes this subscriber and no one
// can write one for another.
func (l *Links) UnsubscribeAddress(s *Subscriber, domain string) string {
	return "unsubscribe+" + l.tokens.AddressToken(PurposeUnsubscribe, s.ID, s.Nonce) + "@" + domain
}

// PreferencesURL is a subscriber's preferences page.
func (l *Links) PreferencesURL(s *Subscriber) string {
	return l.site.URL("preferences?token=" + url.QueryEscape(l.tokens.Make(PurposePreferences, s.ID, s.Nonce, 0)))
}
