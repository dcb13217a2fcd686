package upstream

import (
	"crypto/sha256"
	"encoding/hex"
	"log/slog"
	"strings"
	"time"

	"github.com/mmcdole/gofeed"

	"github.com/tidings/tidings/feed"
	"github.com/tidings/tidings/feed/content"
)

// mapItems turns a parsed feed's items into articles, in feed order.
// Items filtered out and repeats of an id already seen in this feed (the
// first one wins) are counted as skipped.
func (f *Fetcher) mapItems(src Source, fd *gofeed.Feed, now time.Time) ([]content.Doc, int) {
	r, err := content.NewRenderer(f.BaseURL)
	if err != nil {
		r, _ = content.NewRenderer("http://localhost/") // BaseURL is checked by config; this keeps Fetch total
	}
	feedBase := fd.FeedLink
	if fd.Link != "" {
		feedBase = fd.Link
	}
	seen := map[string]bool{}
	var out []content.Doc
	skipped := 0
	for _, it := range fd.Items {
		if it == nil {
			continue
		}
		if !wanted(src, it) {
			skipped++
			continue
		}
		ui := mapItem(src, it, feedBase, r, now, f.log())
		if seen[ui.ID] {
			skipped++
			f.log().Info("upstream item repeats an id; the first is kept", "source", src.Name, "id", ui.ID)
			continue
		}
		seen[ui.ID] = true
		out = append(out, ui)
	}
	return out, skipped
}

// wanted applies the source's include and exclude expressions to the
// item's title and categories.
func wanted(src Source, it *gofeed.Item) bool {
	match := func(re interface{ MatchString(string) bool }) bool {
		if re.MatchString(it.Title) {
			return true
		}
		for _, c := range it.Categories {
			if re.MatchString(c) {
				return true
			}
		}
		return false
	}
	if src.Include != nil && !match(src.Include) {
		return false
	}
	return src.Exclude == nil || !match(src.Exclude)
}

// mapItem turns one item into a document: its id namespaced by source,
// its content normalised as a file's is, relative URLs resolved against
// the item's link (gofeed has already applied an Atom xml:base), then the
// feed's, then the site's.
func mapItem(src Source, it *gofeed.Item, feedBase string, r *content.Renderer, now time.Time, log *slog.Logger) content.Doc {
	link := strings.TrimSpace(it.Link)
	raw := it.Content
	if strings.TrimSpace(raw) == "" {
		raw = it.Description
	}
	if !looksLikeHTML(raw) {
		raw = "<p>" + escapeText(raw) + "</p>"
	}
	key := strings.TrimSpace(it.GUID)
	if key == "" {
		key = link
	}
	if key == "" {
		h := sha256.Sum256([]byte(it.Title + "\x00" + raw))
		key = hex.EncodeToString(h[:])
	}
	d := content.Doc{ID: src.Name + ":" + key, Source: src.Name, Path: link, Title: it.Title, HTML: raw,
		Tags: append(append([]string{}, it.Categories...), src.Tags...), Syndicated: true}
	// Title, author and categories are read as HTML, entities and
	// markup, by Normalize, as a file's front matter is.
	for _, p := range it.Authors {
		if p != nil && (p.Name != "" || p.Email != "") {
			d.Author = content.JoinAuthor(p.Name, p.Email)
			break
		}
	}
	if it.Image != nil {
		d.Image = it.Image.URL
	}
	if it.PublishedParsed != nil {
		d.Date = it.PublishedParsed.UTC()
	}
	if it.UpdatedParsed != nil {
		d.Updated = it.UpdatedParsed.UTC()
	}
	if d.Date.IsZero() {
		d.Date = d.Updated
	}
	// A syndicated document always normalises: a missing title is made.
	d, _ = r.WithBase(link, feedBase).Normalize(d)
	for _, w := range d.Warnings {
		log.Info("upstream item repaired", "source", src.Name, "link", link, "warning", w)
	}
	// The store dates it now instead (see the stamp rule); the hash keeps
	// the item's own date, so that the next fetch does not look changed.
	if feed.DatedAhead(d.Date, now) {
		log.Warn("upstream item dated in the future; dated now instead", "source", src.Name, "id", d.ID, "date", d.Date)
	}
	return d
}

// looksLikeHTML reports whether s holds markup; plain-text descriptions
// are escaped and wrapped instead.
func looksLikeHTML(s string) bool {
	return strings.Contains(s, "<") && strings.Contains(s, ">")
}

var textEscaper = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;")

func escapeText(s string) string { return textEscaper.Replace(s) }
