package feed

import (
	"time"

	"github.com/tidings/tidings/feed/content"
)

// FutureSlack is how far ahead of now a syndicated item's date may lie
// before it is taken for a wrong clock: a day covers every time zone.
const FutureSlack = 24 * time.Hour

// DatedAhead reports whether t lies so far after now that the clock that
// wrote it must be wrong. The stamp rule dates such a syndicated item now.
func DatedAhead(t, now time.Time) bool { return t.After(now.Add(FutureSlack)) }

// stamp is the one rule that dates an article, whatever its source. prev
// is what the store holds under the document's id (nil for a new one), at
// the time this write stands for (first seen, or changed), now the time
// of the whole write.
//
//   - Published is the date the document names. One that names none is
//     dated when first seen and keeps that date.
//   - Updated moves only when the content hash changes: to the updated
//     time the document names, or else to at.
//   - Updated is never before published.
//
// A syndicated item's dates are another site's claims, so three things
// differ for it: a date more than FutureSlack ahead of now is now; its
// published time is the one it was first stored with; and its updated
// time moves only forward.
func stamp(d *content.Doc, prev *stored, at, now time.Time) (pub, upd time.Time) {
	date, updated := d.Date, d.Updated
	if d.Syndicated {
		if DatedAhead(date, now) {
			date = now
		}
		if DatedAhead(updated, now) {
			updated = now
		}
	}
	if prev == nil {
		pub, upd = date, updated
		if pub.IsZero() {
			pub = at
		}
	} else {
		pub, upd = prev.pub, prev.upd
		if !date.IsZero() && !d.Syndicated {
			pub = date
		}
		if d.Hash != prev.hash {
			upd = at
			if !updated.IsZero() && (!d.Syndicated || updated.After(prev.upd)) {
				upd = updated
			}
		}
	}
	if upd.Before(pub) {
		upd = pub
	}
	return pub, upd
}

// NewArticle returns the article d would become if it were stored now for
// the first time: dated by the stamp rule, with the slug it would start
// from. `tidings sources check` shows these without storing anything.
func NewArticle(d content.Doc, now time.Time) *Article {
	pub, upd := stamp(&d, nil, now, now)
	tags := d.Tags
	if tags == nil {
		tags = []string{}
	}
	return &Article{ID: d.ID, Slug: d.SlugBase, Source: d.Source, Path: d.Path, Title: d.Title, Author: d.Author,
		AuthorEmail: d.AuthorEmail,
		Tags:        tags, Summary: d.Summary, ContentHTML: d.HTML, ContentText: d.Text, Image: d.Image, Draft: d.Draft,
		Published: pub, Updated: upd, FirstSeen: now, ContentHash: d.Hash}
}
