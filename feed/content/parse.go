package content

import (
	"bytes"
	"errors"
	"fmt"
	"html"
	"path"
	"strings"
	"time"
	"unicode/utf8"
)

// ParseFile reads one content file: Markdown with YAML or TOML front
// matter, plain text, or HTML, by its name's extension. rel is its path
// below its content folder, with forward slashes; without an id in the
// front matter, rel less its extension is the id. Dates written without a
// zone are read in loc. The document comes back normalised, its Source
// left for the caller to name.
func ParseFile(rel string, data []byte, r *Renderer, loc *time.Location) (Doc, error) {
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	if bytes.IndexByte(data, 0) >= 0 {
		return Doc{}, fmt.Errorf("%w: it holds NUL bytes", ErrBinaryFile)
	}
	if !utf8.Valid(data) {
		return Doc{}, fmt.Errorf("%w: it is not valid UTF-8", ErrBinaryFile)
	}
	src := strings.ReplaceAll(string(data), "\r\n", "\n")
	src = strings.ReplaceAll(src, "\r", "\n")
	if strings.TrimSpace(src) == "" {
		return Doc{}, ErrEmptyFile
	}
	d := Doc{Path: rel}
	switch FormatOf(rel) {
	case Markdown:
		format, head, body, err := splitFrontMatter(src)
		if err != nil {
			return Doc{}, err
		}
		fm, warnings, err := parseFrontMatter(format, head, loc)
		if err != nil {
			return Doc{}, err
		}
		if fm.Title == "" {
			fm.Title, body = leadingHeading(body)
		}
		if strings.TrimSpace(body) == "" {
			return Doc{}, fmt.Errorf("%w: nothing follows the front matter", ErrEmptyFile)
		}
		html, err := r.Markdown(body)
		if err != nil {
			return Doc{}, err
		}
		d = Doc{ID: fm.ID, Path: rel, Title: fm.Title, Author: fm.Author, Tags: fm.Tags, Summary: fm.Summary,
			HTML: html, Image: fm.Image, Draft: fm.Draft, Date: fm.Date, Updated: fm.Updated, SlugBase: fm.Slug,
			Warnings: warnings}
	case Text:
		doc, err := parseText(src, loc)
		if err != nil {
			return Doc{}, err
		}
		// A text file's lines are literal: escaped, Normalize reads them
		// back as written.
		d.Title, d.Date, d.Updated, d.Author, d.HTML = html.EscapeString(doc.Title), doc.Published, doc.Updated, html.EscapeString(doc.Author), doc.HTML
		d.Warnings = doc.Warnings
	case HTML:
		doc, err := parseHTMLFile(src)
		if err != nil {
			return Doc{}, err
		}
		d.Title, d.HTML = html.EscapeString(doc.Title), doc.Body // the parser has decoded the title
	default:
		return Doc{}, fmt.Errorf("unknown file type %q", path.Ext(rel))
	}
	d.ID = strings.TrimSpace(d.ID)
	if d.ID == "" {
		d.ID = strings.TrimSuffix(rel, path.Ext(rel))
	}
	d, err := r.Normalize(d)
	if errors.Is(err, ErrNoTitle) {
		return Doc{}, fmt.Errorf("%w: give it a title (front matter title, a first # heading, <title> or a first line)", err)
	}
	return d, err
}

// leadingHeading takes a first "# Title" line out of a Markdown body.
func leadingHeading(body string) (title, rest string) {
	trimmed := strings.TrimLeft(body, "\n \t")
	line, after, _ := strings.Cut(trimmed, "\n")
	if strings.HasPrefix(line, "# ") {
		return strings.TrimSpace(strings.TrimPrefix(line, "# ")), after
	}
	return "", body
}
