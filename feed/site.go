package feed

import (
	"html"
	"mime"
	"net/url"
	"path"
	"strings"
	"time"
	"unicode"

	"github.com/google/uuid"
)

// Site is what the feeds say about the publication, and how they are cut.
type Site struct {
	Title       string
	Description string
	Language    string
	Author      string
	Email       string
	BaseURL     string // absolute; a trailing slash is ignored
	Hubs        []string
	FullContent bool // false: feeds carry the summary in place of the content
	Items       int  // newest articles per feed
	// MaxItemBytes caps the full content of one item (HTML and text
	// together): a longer article is carried as its summary and a link to
	// its page, so that a feed's memory follows its items, not their size.
	// 0: no cap.
	MaxItemBytes int
}

// cutContent stands in for the content of an article too long for a
// feed: its summary and a link to the page that has the whole of it.
func (s *Site) cutContent(a *Article) {
	if !a.ContentCut {
		return
	}
	u := s.ArticleURL(a)
	a.ContentHTML = "<p>" + html.EscapeString(a.Summary) + "</p>\n<p><a href=\"" + html.EscapeString(u) + "\">Read the whole article</a></p>"
	a.ContentText = a.Summary + "\n\nRead the whole article: " + u
}

// URL returns the absolute URL of a path below the site.
func (s *Site) URL(p string) string {
	return strings.TrimSuffix(s.BaseURL, "/") + "/" + strings.TrimPrefix(p, "/")
}

// ArticleURL is where an article's own page is.
func (s *Site) ArticleURL(a *Article) string {
	return s.URL("articles/" + url.PathEscape(a.Slug))
}

// idNamespace makes feed and entry ids: a name-based UUID of the site and
// the article id never changes when the article is edited, moved to another
// folder with its id, or re-ingested into a fresh database.
var idNamespace = uuid.MustParse("9d3c1f0e-3b1a-5c8e-9f63-2a6d8e0b7c41")

// EntryID is an article's id in every feed: a urn:uuid that stays the same
// for ever, whatever is edited.
func (s *Site) EntryID(a *Article) string {
	return "urn:uuid:" + uuid.NewSHA1(idNamespace, []byte(s.URL("")+"\x00article\x00"+a.ID)).String()
}

// FeedID is the Atom id of the feed at path.
func (s *Site) FeedID(feedPath string) string {
	return "urn:uuid:" + uuid.NewSHA1(idNamespace, []byte(s.URL("")+"\x00feed\x00"+feedPath)).String()
}

// TagSlug names a tag in URLs and file paths: lower case, letters and
// digits of any script kept, everything else but + . _ folded into single
// hyphens. It never holds a slash or a percent sign, so the file written
// and the URL served stay the same path. Tags that fold together share a
// feed.
func TagSlug(tag string) string {
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(tag) {
		if unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.Is(unicode.Mn, r) || r == '+' || r == '_' {
			if dash && b.Len() > 0 {
				b.WriteByte('-')
			}
			dash = false
			b.WriteRune(r)
			continue
		}
		dash = true
	}
	return b.String()
}

// TagPath is the folder of a tag's feeds, relative to the site root.
func TagPath(slug string) string { return "tags/" + slug + "/" }

// newest returns the latest change among articles, or the zero time.
func newest(as []*Article) time.Time {
	var t time.Time
	for _, a := range as {
		if a.Updated.After(t) {
			t = a.Updated
		}
		if a.Published.After(t) {
			t = a.Published
		}
	}
	return t
}

// imageType guesses an image's media type from its URL, for enclosures.
func imageType(u string) string {
	if p, err := url.Parse(u); err == nil {
		u = p.Path
	}
	return mime.TypeByExtension(strings.ToLower(path.Ext(u)))
}
