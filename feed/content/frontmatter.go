package content

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/pelletier/go-toml/v2"
	"go.yaml.in/yaml/v3"
)

// frontMatter holds the keys tidings reads from the head of a Markdown file.
type frontMatter struct {
	Title   string
	ID      string
	Slug    string
	Date    time.Time
	Updated time.Time
	Author  string
	Tags    []string
	Summary string
	Image   string
	Draft   bool
}

// splitFrontMatter separates a YAML (---) or TOML (+++) head from the body.
// It returns the head's format ("yaml", "toml" or "" for none), the head,
// the body, and the line the body starts on (1-based) so that errors in the
// head name lines of the file.
func splitFrontMatter(src string) (format, head, body string, err error) {
	// The opening fence, as the closing one, may have spaces after it:
	// editors leave them and nobody sees them.
	first, rest, _ := strings.Cut(src, "\n")
	var fence string
	switch strings.TrimRight(first, " \t") {
	case "---":
		fence, format = "---", "yaml"
	case "+++":
		fence, format = "+++", "toml"
	default:
		return "", "", src, nil
	}
	for off := 0; ; {
		line, after, found := strings.Cut(rest[off:], "\n")
		if strings.TrimRight(line, " \t") == fence {
			return format, rest[:off], after, nil
		}
		if !found {
			return "", "", "", fmt.Errorf("%w: front matter opened with %s on line 1 is never closed", ErrBadFrontMatter, fence)
		}
		off += len(line) + 1
	}
}

// parseFrontMatter decodes a head into known keys. Unknown keys come back
// as warnings, not errors: a theme's extra keys must not stop ingestion.
func parseFrontMatter(format, head string, loc *time.Location) (frontMatter, []string, error) {
	var fm frontMatter
	raw := map[string]any{}
	switch format {
	case "yaml":
		if m, ok := flatYAML(head); ok {
			raw = m
			break
		}
		dec := yaml.NewDecoder(strings.NewReader(head))
		// An empty head (---, ---) decodes to io.EOF, which is no error.
		if err := dec.Decode(&raw); err != nil && !errors.Is(err, io.EOF) {
			return fm, nil, fmt.Errorf("%w: %s", ErrBadFrontMatter, yamlMessage(err))
		}
	case "toml":
		if err := toml.NewDecoder(bytes.NewReader([]byte(head))).Decode(&raw); err != nil {
			var derr *toml.DecodeError
			if errors.As(err, &derr) {
				row, _ := derr.Position()
				return fm, nil, fmt.Errorf("%w: line %d: %s", ErrBadFrontMatter, row+1, derr.Error())
			}
			return fm, nil, fmt.Errorf("%w: %s", ErrBadFrontMatter, err.Error())
		}
	default:
		return fm, nil, nil
	}
	var warnings []string
	keys := make([]string, 0, len(raw))
	for k := range raw {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		v := raw[k]
		var err error
		switch strings.ToLower(k) {
		case "title":
			fm.Title, err = fmString(k, v)
		case "id":
			fm.ID, err = fmString(k, v)
		case "slug":
			fm.Slug, err = fmString(k, v)
		case "author":
			fm.Author, err = fmString(k, v)
		case "summary", "description":
			fm.Summary, err = fmString(k, v)
		case "image":
			fm.Image, err = fmString(k, v)
		case "date":
			fm.Date, err = fmTime(k, v, loc)
		case "updated", "lastmod":
			fm.Updated, err = fmTime(k, v, loc)
		case "tags":
			fm.Tags, err = fmStrings(k, v)
		case "draft":
			b, ok := v.(bool)
			if !ok {
				err = fmt.Errorf("%w: draft: %v is not true or false", ErrBadFrontMatter, v)
			}
			fm.Draft = b
		default:
			warnings = append(warnings, fmt.Sprintf("unknown front matter key %q ignored", k))
		}
		if err != nil {
			return fm, warnings, err
		}
	}
	return fm, warnings, nil
}

// yamlMessage words a YAML error with lines counted from the top of the
// file. Unmarshal errors (a repeated key, a list where a key belongs) come
// as a *yaml.TypeError holding one "line N: ..." message each.
func yamlMessage(err error) string {
	var terr *yaml.TypeError
	if !errors.As(err, &terr) {
		return shiftYAMLLine(err.Error())
	}
	msgs := make([]string, len(terr.Errors))
	for i, m := range terr.Errors {
		m = shiftYAMLLine("yaml: " + m)
		// A repeated key also names the line of its first use.
		if at := strings.LastIndex(m, " at line "); at >= 0 {
			if n, err := strconv.Atoi(m[at+len(" at line "):]); err == nil {
				m = m[:at] + " at line " + strconv.Itoa(n+1)
			}
		}
		msgs[i] = m
	}
	return strings.Join(msgs, "; ")
}

// shiftYAMLLine makes "yaml: line 2: ..." count from the top of the file,
// where the opening fence is line 1.
func shiftYAMLLine(msg string) string {
	var n int
	var rest string
	if _, err := fmt.Sscanf(msg, "yaml: line %d:", &n); err == nil {
		_, rest, _ = strings.Cut(msg, ":")
		_, rest, _ = strings.Cut(rest, ":")
		return fmt.Sprintf("line %d:%s", n+1, rest)
	}
	return strings.TrimPrefix(msg, "yaml: ")
}

func fmString(key string, v any) (string, error) {
	switch s := v.(type) {
	case string:
		return s, nil
	case int, int64, uint64, float64:
		return fmt.Sprint(s), nil
	case nil:
		return "", nil
	}
	return "", fmt.Errorf("%w: %s: want text, got %T", ErrBadFrontMatter, key, v)
}

func fmStrings(key string, v any) ([]string, error) {
	switch s := v.(type) {
	case nil:
		return nil, nil
	case string:
		// "a, b" is a common way to write tags by hand.
		var out []string
		for _, t := range strings.Split(s, ",") {
			if t = strings.TrimSpace(t); t != "" {
				out = append(out, t)
			}
		}
		return out, nil
	case []any:
		out := make([]string, 0, len(s))
		for _, e := range s {
			t, err := fmString(key, e)
			if err != nil {
				return nil, err
			}
			out = append(out, t)
		}
		return out, nil
	}
	return nil, fmt.Errorf("%w: %s: want a list of text, got %T", ErrBadFrontMatter, key, v)
}

// dateLayouts are the forms a date may take in front matter.
var dateLayouts = []string{time.RFC3339, "2006-01-02T15:04:05", "2006-01-02 15:04:05", "2006-01-02T15:04", "2006-01-02 15:04", "2006-01-02"}

func fmTime(key string, v any, loc *time.Location) (time.Time, error) {
	switch t := v.(type) {
	case time.Time:
		return t, nil
	case toml.LocalDate:
		return time.Date(t.Year, time.Month(t.Month), t.Day, 0, 0, 0, 0, loc), nil
	case toml.LocalDateTime:
		return time.Date(t.Year, time.Month(t.Month), t.Day, t.Hour, t.Minute, t.Second, t.Nanosecond, loc), nil
	case string:
		return parseDate(key, t, loc)
	}
	return time.Time{}, fmt.Errorf("%w: %s: %v is not a date", ErrBadFrontMatter, key, v)
}

// ParseDate reads a date as front matter may write it: RFC 3339,
// 2006-01-02 15:04(:05) or 2006-01-02, with a T or a space; a date without
// a zone is in loc.
func ParseDate(s string, loc *time.Location) (time.Time, error) {
	return parseDate("date", s, loc)
}

// parseDate reads a date in one of dateLayouts; zone-less values are in
// loc. key names the field in the error.
func parseDate(key, s string, loc *time.Location) (time.Time, error) {
	s = strings.TrimSpace(s)
	for _, layout := range dateLayouts {
		if t, err := time.ParseInLocation(layout, s, loc); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("%w: %s: %q is not a date (use 2006-01-02, 2006-01-02 15:04 or RFC 3339)", ErrBadFrontMatter, key, s)
}
