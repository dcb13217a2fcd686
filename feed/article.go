package feed

import (
	"net/url"
	"time"
)

// Article is one published piece. Its ID never changes when its text is
// edited; its ContentHash does.
type Article struct {
	ID     string
	Slug   string
	Source string // "content" for files; later the name of an upstream feed or "api"
	Path   string // the file the article came from, relative to its content folder
	Title  string
	// Author is the name a reader sees, AuthorEmail the address the feed
	// formats want, "" when the source gave none. The store keeps both
	// in the one author column, as "Name <address>" (content.JoinAuthor),
	// and splits them on reading.
	Author      string
	AuthorEmail string
	Tags        []string
	Summary     string // plain text
	ContentHTML string // sanitized, with absolute links
	ContentText string // the same content written as plain text
	Image       string // absolute URL, or empty
	Draft       bool
	Published   time.Time
	Updated     time.Time
	FirstSeen   time.Time
	Removed     *time.Time // set when the source no longer has the article
	ContentHash string
	// ContentCut is set when a list asked for at most so many bytes of
	// content and this one had more: ContentHTML and ContentText are
	// empty, never loaded.
	ContentCut bool
}

// IsPublished reports whether the article is visible in feeds and digests
// at the given moment: not a draft, not removed, and not dated in the future.
func (a *Article) IsPublished(now time.Time) bool {
	return !a.Draft && a.Removed == nil && !a.Published.After(now)
}

// Syndicated reports whether the article came from an upstream feed, not
// from a file or the API: its Source names the upstream and its Path is
// the item's own link.
func (a *Article) Syndicated() bool {
	return a.Source != "" && a.Source != contentSource && a.Source != apiSource
}

// OriginalLink is where a syndicated article was first published: the
// upstream item's link, when it is an http(s) URL. Empty for the site's
// own articles.
func (a *Article) OriginalLink() string {
	if !a.Syndicated() {
		return ""
	}
	if u, err := url.Parse(a.Path); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return ""
	}
	return a.Path
}
