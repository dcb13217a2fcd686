package subscribers

import "net/url"

// Links makes the per-subscriber URLs that pages and mail carry. The
// unsubscribe and preferences tokens never expire: a link in an old mail
// must still work.
type Links struct {
	tokens *Tokens
	site   SiteInfo
}

// NewLinks returns the link maker for a site.
func NewLinks(t *Tokens, site SiteInfo) *Links { return &Links{tokens: t, site: site} }

// UnsubscribeURL is the one-click link, for the List-Unsubscribe header and
// mail footers.
func (l *Links) UnsubscribeURL(id int64) string {
	return l.site.URL("unsubscribe?token=" + url.QueryEscape(l.tokens.Make(PurposeUnsubscribe, id, 0)))
}

// PreferencesURL is a subscriber's preferences page.
func (l *Links) PreferencesURL(id int64) string {
	return l.site.URL("preferences?token=" + url.QueryEscape(l.tokens.Make(PurposePreferences, id, 0)))
}
