package content

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
	"time"
)

// Doc is one article as every source hands it to the store: a content
// file, an upstream feed's item and an article written through the API
// all become one. A source fills in what it knows, as it knows it, and
// Normalize turns that into the document the store keeps: one clean line
// of title, sanitised HTML with absolute links, its text, a summary, a
// slug base and a hash. The store then gives it its slug and its
// published and updated times.
type Doc struct {
	ID     string
	Source string // who it comes from: "content" for files, "api", or an upstream's name
	Path   string // a file's path below its folder (forward slashes), an item's link; "" for the API
	// Title, Author, Tags and Summary are, before Normalize, read as HTML:
	// its tags are removed and its entities decoded once (see PlainText);
	// a source whose text is literal escapes it. After it they are plain
	// text, one line each.
	Title string // after Normalize never empty
	// Author is, before Normalize, the source's author line
	// ("Ana Lima <ana@example.org>", "ana@example.org (Ana Lima)", a name);
	// after it the name alone, and AuthorEmail the address (see
	// SplitAuthor).
	Author, AuthorEmail string
	Tags                []string // after Normalize trimmed, without repeats or tags of markup alone, in the author's order and spelling
	// Summary left empty: Normalize takes the first paragraph of the
	// text, cut short.
	Summary string
	// HTML is the body: before Normalize as the source wrote it, after it
	// sanitised, with every link absolute.
	HTML  string
	Text  string // the HTML written as plain text, by Normalize
	Image string // after Normalize an absolute URL, or ""
	Draft bool
	// Date and Updated are the times the source names, zero when it names
	// none; the store dates an undated document when it first sees it.
	Date, Updated time.Time
	// SlugBase is, before Normalize, the slug the source names ("" for
	// none); after it, what the article's slug is made of, never empty.
	SlugBase string
	SlugSet  bool // the source named the slug: a change of it moves the article's URL
	// Syndicated marks an item of another site's feed. Nobody can be
	// asked to fix it, so a missing title is made from its text instead
	// of refusing it; and its dates are that site's claims, which the
	// store does not take on trust (see feed's stamp rule).
	Syndicated bool
	Hash       string   // of everything a reader sees, by Normalize
	Warnings   []string // what was repaired on the way, for the log
}

// summaryLen is how long a derived summary may be, in characters.
const summaryLen = 300

// textWidth is the width the plain-text version is wrapped at.
const textWidth = 72

// Normalize makes a document of what a source gave: the one path every
// article takes from its source to the store. Title, author, tags and
// summary become plain text, once (ErrNoTitle when nothing a reader would
// see is left of the title, unless the document is syndicated), the
// author split from its address; the HTML is sanitised and its links made
// absolute against the renderer's base, then written as text; a summary
// is derived when none is given, the image made absolute, the slug base
// chosen (the source's slug, else the title, else the id) and the hash
// taken.
func (r *Renderer) Normalize(d Doc) (Doc, error) {
	title, repaired := plainLine(d.Title)
	if !visible(title) {
		if !d.Syndicated {
			if strings.TrimSpace(d.Title) != "" {
				return Doc{}, fmt.Errorf("%w: the title %q is only markup or entities, nothing a reader would see", ErrNoTitle, cutText(d.Title, 60))
			}
			return Doc{}, ErrNoTitle
		}
		title = ""
	}
	html, removed := r.clean(d.HTML)
	d.HTML = html
	d.Text = HTMLToText(html, textWidth)
	if title == "" {
		title = cutText(collapseSpace(d.Text), 60)
		if title == "" {
			title = "Untitled"
		}
		d.Warnings = append(d.Warnings, "title missing; the first words of the text stand in")
	} else if repaired {
		d.Warnings = append(d.Warnings, "title held line breaks or control characters; they were replaced")
	}
	d.Warnings = append(d.Warnings, removed...)
	d.Title = title
	d.Author, d.AuthorEmail = normAuthor(d.Author)
	d.Tags = cleanTags(d.Tags)
	d.Summary, _ = plainLine(d.Summary)
	if d.Summary == "" {
		d.Summary = cutText(firstParagraph(d.Text), summaryLen)
	}
	if img, ok, warning := r.imageURL(d.Image); ok {
		d.Image = img
		if warning != "" {
			d.Warnings = append(d.Warnings, "image "+strings.TrimPrefix(warning, "asset "))
		}
	} else {
		d.Warnings = append(d.Warnings, fmt.Sprintf("image %q dropped: only an http or https URL, or a path on the site, is taken", d.Image))
		d.Image = ""
	}
	d.SlugBase = slugify(d.SlugBase)
	d.SlugSet = d.SlugBase != ""
	for _, s := range []string{title, d.ID, "article"} {
		if d.SlugBase == "" {
			d.SlugBase = slugify(s)
		}
	}
	d.Hash = d.hash()
	return d, nil
}

// SetDate dates a document that names no date, and hashes it again so
// that the date is part of what the hash covers, as a named date is.
// The API uses it: its articles are dated when first written and keep
// that date when edited without one.
func (d *Doc) SetDate(t time.Time) {
	d.Date = t
	d.Hash = d.hash()
}

// hash covers everything a reader sees, so that an edit anywhere moves the
// article's updated time and nothing else does.
func (d *Doc) hash() string {
	h := sha256.New()
	for _, s := range []string{d.Title, JoinAuthor(d.Author, d.AuthorEmail), strings.Join(d.Tags, "\x1f"), d.Summary, d.HTML, d.Image,
		fmt.Sprint(d.Draft), timeKey(d.Date), timeKey(d.Updated), d.SlugBase} {
		h.Write([]byte(s))
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil))
}

func timeKey(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339Nano)
}
