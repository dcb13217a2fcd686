package feed

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"path"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Errors a file can be rejected with; a FileError wraps one of them.
var (
	ErrEmptyFile   = errors.New("empty file")
	ErrBinaryFile  = errors.New("not a text file")
	ErrTooLarge    = errors.New("file too large")
	ErrNoTitle     = errors.New("no title")
	ErrDuplicateID = errors.New("duplicate id")
)

// FileError is a content file that could not be ingested, and why.
type FileError struct {
	Path string
	Err  error
}

func (e *FileError) Error() string { return e.Path + ": " + e.Err.Error() }
func (e *FileError) Unwrap() error { return e.Err }

// contentExts maps the file endings tidings reads to their format.
var contentExts = map[string]string{
	".md": "markdown", ".markdown": "markdown",
	".txt":  "text",
	".html": "html", ".htm": "html",
}

// parsed is one file turned into an article, before the store gives it
// its dates and slug.
type parsed struct {
	ID       string
	SlugBase string
	SlugSet  bool // the file names its slug; a change of it moves the article's URL
	Title    string
	Author   string
	Tags     []string
	Summary  string
	HTML     string
	Text     string
	Image    string
	Draft    bool
	Date     time.Time // zero when the file names none
	Updated  time.Time // zero when the file names none
	Hash     string
	Warnings []string
}

// summaryLen is how long a derived summary may be, in characters.
const summaryLen = 300

// parseFile reads one content file. rel is its path relative to its content
// folder, with forward slashes; it gives the default id.
func parseFile(rel string, data []byte, r *renderer, loc *time.Location) (parsed, error) {
	var p parsed
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	if bytes.IndexByte(data, 0) >= 0 {
		return p, fmt.Errorf("%w: it holds NUL bytes", ErrBinaryFile)
	}
	if !utf8.Valid(data) {
		return p, fmt.Errorf("%w: it is not valid UTF-8", ErrBinaryFile)
	}
	src := strings.ReplaceAll(string(data), "\r\n", "\n")
	src = strings.ReplaceAll(src, "\r", "\n")
	if strings.TrimSpace(src) == "" {
		return p, ErrEmptyFile
	}
	var fm frontMatter
	var raw string
	switch contentExts[path.Ext(rel)] {
	case "markdown":
		format, head, body, err := splitFrontMatter(src)
		if err != nil {
			return p, err
		}
		fm, p.Warnings, err = parseFrontMatter(format, head, loc)
		if err != nil {
			return p, err
		}
		if fm.Title == "" {
			fm.Title, body = leadingHeading(body)
		}
		if strings.TrimSpace(body) == "" {
			return p, fmt.Errorf("%w: nothing follows the front matter", ErrEmptyFile)
		}
		if raw, err = r.markdown(body); err != nil {
			return p, err
		}
	case "text":
		doc, err := parseText(src, loc)
		if err != nil {
			return p, err
		}
		fm.Title, fm.Date, fm.Author, raw = doc.Title, doc.Published, doc.Author, doc.HTML
	case "html":
		doc, err := parseHTMLFile(src)
		if err != nil {
			return p, err
		}
		fm.Title, raw = doc.Title, doc.Body
	default:
		return p, fmt.Errorf("unknown file type %q", path.Ext(rel))
	}

	title, repaired := cleanLine(fm.Title)
	if title == "" {
		return p, fmt.Errorf("%w: give it a title (front matter title, a first # heading, <title> or a first line)", ErrNoTitle)
	}
	if repaired {
		p.Warnings = append(p.Warnings, "title held line breaks or control characters; they were replaced")
	}
	html, warnings := r.clean(raw)
	p.Warnings = append(p.Warnings, warnings...)

	p.ID = strings.TrimSpace(fm.ID)
	if p.ID == "" {
		p.ID = strings.TrimSuffix(rel, path.Ext(rel))
	}
	p.SlugBase = slugify(fm.Slug)
	p.SlugSet = p.SlugBase != ""
	if p.SlugBase == "" {
		p.SlugBase = slugify(title)
	}
	if p.SlugBase == "" {
		p.SlugBase = slugify(p.ID)
	}
	p.Title = title
	p.Author, _ = cleanLine(fm.Author)
	p.Tags = cleanTags(fm.Tags)
	p.HTML = html
	p.Text = htmlToText(html, 72)
	p.Summary, _ = cleanLine(fm.Summary)
	if p.Summary == "" {
		p.Summary = cutText(firstParagraph(p.Text), summaryLen)
	}
	if img := strings.TrimSpace(fm.Image); img != "" {
		p.Image = r.absolute(img)
	}
	p.Draft = fm.Draft
	p.Date, p.Updated = fm.Date, fm.Updated
	p.Hash = p.hash()
	return p, nil
}

// hash covers everything a reader sees, so that an edit anywhere moves the
// article's updated time and nothing else does.
func (p *parsed) hash() string {
	h := sha256.New()
	for _, s := range []string{p.Title, p.Author, strings.Join(p.Tags, "\x1f"), p.Summary, p.HTML, p.Image,
		fmt.Sprint(p.Draft), timeKey(p.Date), timeKey(p.Updated), p.SlugBase} {
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

// leadingHeading takes a first "# Title" line out of a Markdown body.
func leadingHeading(body string) (title, rest string) {
	trimmed := strings.TrimLeft(body, "\n \t")
	line, after, _ := strings.Cut(trimmed, "\n")
	if strings.HasPrefix(line, "# ") {
		return strings.TrimSpace(strings.TrimPrefix(line, "# ")), after
	}
	return "", body
}

// cleanLine makes s one line of printable text: control characters and line
// breaks become spaces, runs of space collapse. It reports whether it had to
// replace anything other than spaces at either end.
func cleanLine(s string) (string, bool) {
	repaired := false
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || r == '\u2028' || r == '\u2029' {
			repaired = true
			return ' '
		}
		return r
	}, s)
	return collapseSpace(s), repaired
}

// collapseSpace trims s and folds runs of white space into one space.
func collapseSpace(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

// cleanTags trims tags, drops empty ones and repeats (case-insensitively),
// keeping the author's order and spelling.
func cleanTags(tags []string) []string {
	seen := map[string]bool{}
	out := []string{}
	for _, t := range tags {
		t, _ = cleanLine(t)
		k := strings.ToLower(t)
		if t == "" || seen[k] {
			continue
		}
		seen[k] = true
		out = append(out, t)
	}
	return out
}

// slugify lower-cases s and keeps letters and digits of any script, joined
// by single hyphens, so that non-Latin titles keep a readable slug.
func slugify(s string) string {
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(s) {
		switch {
		case unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.Is(unicode.Mn, r):
			if dash && b.Len() > 0 {
				b.WriteByte('-')
			}
			dash = false
			b.WriteRune(r)
		default:
			dash = true
		}
		if b.Len() > 80 {
			break
		}
	}
	return b.String()
}
