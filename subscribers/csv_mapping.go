package subscribers

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"
)

// A Field is what one CSV column feeds. The first five are tidings' own
// columns; the others are how other newsletter tools export the same
// facts, read into them.
type Field string

const (
	FieldNone     Field = ""         // the column is left out
	FieldEmail    Field = "email"    // the address (required)
	FieldName     Field = "name"     // the whole name
	FieldDigests  Field = "digests"  // digest names separated by ";" or "|"
	FieldStatus   Field = "status"   // one of the five statuses, or a peer's word for one (see statusWords)
	FieldTimeZone Field = "timezone" // an IANA zone
	// FieldFirstName and FieldLastName are joined into the name with a space.
	FieldFirstName Field = "first_name"
	FieldLastName  Field = "last_name"
	// FieldSubscribed is a yes/no: yes is confirmed, no unsubscribed
	// (Ghost's subscribed_to_emails).
	FieldSubscribed Field = "subscribed"
	// FieldDisabled is a yes/no the other way round: yes is unsubscribed
	// (Substack's email_disabled).
	FieldDisabled Field = "disabled"
	// FieldUnsubscribedAt and FieldCleanedAt: a non-empty cell is a time
	// the person left, or their address bounced for good (Mailchimp's
	// UNSUB_TIME, CLEAN_TIME).
	FieldUnsubscribedAt Field = "unsubscribed_at"
	FieldCleanedAt      Field = "cleaned_at"
)

// Fields are the fields a column may be mapped to, in the order a form
// offers them.
var Fields = []Field{FieldEmail, FieldName, FieldFirstName, FieldLastName, FieldDigests, FieldStatus, FieldTimeZone,
	FieldSubscribed, FieldDisabled, FieldUnsubscribedAt, FieldCleanedAt}

// A Mapping says what each column of a CSV file feeds: Fields[i] for
// column i, FieldNone for a column left out. Source names the tool the
// header was recognised as ("tidings", "mailchimp", "substack",
// "buttondown", "listmonk", "ghost"), or "" for a header of known column
// names that matches no tool's export. Comma is the delimiter.
type Mapping struct {
	Source string
	Comma  rune
	Header []string
	Fields []Field
}

// Sources are the exports GuessMapping recognises, for the operator.
var Sources = []string{"tidings", "mailchimp", "substack", "buttondown", "listmonk", "ghost"}

// Left returns the header names of the columns left out.
func (m Mapping) Left() []string {
	var out []string
	for i, f := range m.Fields {
		if f == FieldNone && i < len(m.Header) && strings.TrimSpace(m.Header[i]) != "" {
			out = append(out, m.Header[i])
		}
	}
	return out
}

// Check reports the first thing that makes the mapping unusable: no
// email column, a field fed by two columns, a name given whole and in
// parts, a field that does not exist. Several columns may say the status
// (Mailchimp's UNSUB_TIME and CLEAN_TIME); where they disagree on a row,
// the no wins.
func (m Mapping) Check() error {
	seen := map[Field]int{}
	for i, f := range m.Fields {
		if f == FieldNone {
			continue
		}
		if !slices.Contains(Fields, f) {
			return fmt.Errorf("column %d (%q): %q is not a field (%s)", i+1, m.headerAt(i), clip(string(f), 40), fieldList())
		}
		if j, ok := seen[f]; ok {
			return fmt.Errorf("columns %q and %q both feed %s: leave one out", m.headerAt(j), m.headerAt(i), f)
		}
		seen[f] = i
	}
	if _, ok := seen[FieldEmail]; !ok {
		return errors.New("no column feeds email: map the column that holds the addresses")
	}
	if _, ok := seen[FieldName]; ok {
		for _, f := range []Field{FieldFirstName, FieldLastName} {
			if j, ok := seen[f]; ok {
				return fmt.Errorf("columns %q and %q both give the name: leave one out", m.headerAt(seen[FieldName]), m.headerAt(j))
			}
		}
	}
	return nil
}

func (m Mapping) headerAt(i int) string {
	if i < len(m.Header) {
		return clip(m.Header[i], 40)
	}
	return fmt.Sprint(i + 1)
}

func fieldList() string {
	s := make([]string, len(Fields))
	for i, f := range Fields {
		s[i] = string(f)
	}
	return strings.Join(s, ", ")
}

// headerKey is how a header cell is compared: lower case, with spaces,
// dashes and dots as underscores ("Email Address" is email_address).
func headerKey(cell string) string {
	k := strings.ToLower(strings.TrimSpace(cell))
	return strings.Map(func(r rune) rune {
		if r == ' ' || r == '-' || r == '.' {
			return '_'
		}
		return r
	}, k)
}

// synonyms are the header names read as a field in any file.
var synonyms = map[string]Field{
	"email": FieldEmail, "email_address": FieldEmail, "e_mail": FieldEmail, "e_mail_address": FieldEmail, "mail": FieldEmail,
	"name": FieldName, "full_name": FieldName, "fullname": FieldName,
	"first_name": FieldFirstName, "firstname": FieldFirstName, "fname": FieldFirstName,
	"last_name": FieldLastName, "lastname": FieldLastName, "lname": FieldLastName, "surname": FieldLastName,
	"digests":  FieldDigests,
	"status":   FieldStatus,
	"timezone": FieldTimeZone, "time_zone": FieldTimeZone, "tz": FieldTimeZone,
}

// A source is one tool's export: the header names that give it away, and
// the columns it names differently from the synonyms. Every other column
// of a recognised export is left out: its meaning is known, and none of
// it is tidings'.
type source struct {
	name string
	// marks: the source is recognised when the header has every name of
	// one of these sets.
	marks [][]string
	// fields override the synonyms for this source.
	fields map[string]Field
}

var sources = []source{
	// Mailchimp: the audience export, one file per status
	// (subscribed_members_export_*.csv, unsubscribed_..., cleaned_...).
	{name: "mailchimp", marks: [][]string{{"email_address", "leid"}, {"email_address", "euid"}, {"email_address", "member_rating"},
		{"email_address", "optin_time"}},
		fields: map[string]Field{"unsub_time": FieldUnsubscribedAt, "clean_time": FieldCleanedAt,
			"address": FieldNone, "notes": FieldNone}},
	// Substack: the subscriber export.
	{name: "substack", marks: [][]string{{"email", "active_subscription"}, {"email", "email_disabled"}, {"email", "subscription_created_at"}},
		fields: map[string]Field{"email_disabled": FieldDisabled}},
	// Buttondown: subscriber_type in its long-standing export, type and
	// email_address since its 2024 schema.
	{name: "buttondown", marks: [][]string{{"email", "subscriber_type"}, {"email", "secondary_id"}, {"email_address", "type", "creation_date"}},
		fields: map[string]Field{"subscriber_type": FieldStatus, "type": FieldStatus, "notes": FieldNone, "metadata": FieldNone}},
	// listmonk: uuid, email, name, attributes, status (enabled, disabled,
	// blocklisted), created_at, updated_at.
	{name: "listmonk", marks: [][]string{{"uuid", "email", "attributes", "status"}},
		fields: map[string]Field{"attributes": FieldNone}},
	// Ghost: the members export; its status column is the paid tier
	// (free, paid, comped), not consent, which subscribed_to_emails gives.
	{name: "ghost", marks: [][]string{{"email", "subscribed_to_emails"}, {"email", "complimentary_plan"}, {"email", "stripe_customer_id"}},
		fields: map[string]Field{"subscribed_to_emails": FieldSubscribed, "status": FieldNone, "note": FieldNone}},
}

// GuessMapping maps a header: a recognised tool's export has its columns
// mapped and the rest left out; tidings' own header maps one to one; any
// other header maps the column names it knows and is refused for a name
// it does not, since that is most often a typo (a form can map it, or
// leave it out, by hand).
func GuessMapping(header []string, comma rune) (Mapping, error) {
	m := Mapping{Comma: comma, Header: header, Fields: make([]Field, len(header))}
	keys := make([]string, len(header))
	for i, cell := range header {
		keys[i] = headerKey(cell)
	}
	var src *source
	for i := range sources {
		if sources[i].recognises(keys) {
			src = &sources[i]
			break
		}
	}
	for i, k := range keys {
		f, ok := synonyms[k]
		if src != nil {
			if g, over := src.fields[k]; over {
				f, ok = g, true
			}
		}
		switch {
		case k == "" && i == len(keys)-1:
			continue // a trailing comma, as spreadsheets write
		case !ok && src == nil:
			return m, RowError{Line: 1, Err: fmt.Errorf("unknown column %q: the columns are %s (or another tool's export: %s)",
				clip(header[i], 40), strings.Join(csvColumns, ", "), strings.Join(Sources[1:], ", "))}
		}
		if slices.Contains(m.Fields, f) && f != FieldNone {
			if src == nil {
				return m, RowError{Line: 1, Err: fmt.Errorf("column %q appears twice", k)}
			}
			f = FieldNone // a recognised export's second email column, say
		}
		m.Fields[i] = f
	}
	switch {
	case src != nil:
		m.Source = src.name
	case m.ownHeader():
		m.Source = "tidings"
	}
	if err := m.Check(); err != nil {
		if !slices.Contains(m.Fields, FieldEmail) {
			return m, RowError{Line: 1, Err: fmt.Errorf("no email column: the first line must name the columns (%s), email among them",
				strings.Join(csvColumns, ", "))}
		}
		return m, RowError{Line: 1, Err: err}
	}
	return m, nil
}

// ownHeader reports whether every column is one of tidings' own, by its
// own name.
func (m Mapping) ownHeader() bool {
	for i, f := range m.Fields {
		if f != FieldNone && headerKey(m.Header[i]) != string(f) {
			return false
		}
	}
	return true
}

func (s *source) recognises(keys []string) bool {
	for _, set := range s.marks {
		all := true
		for _, k := range set {
			all = all && slices.Contains(keys, k)
		}
		if all {
			return true
		}
	}
	return false
}

// statusWords are the words other tools export for a status, beside the
// five of tidings' own.
var statusWords = map[string]Status{
	// listmonk
	"enabled": StatusConfirmed, "disabled": StatusUnsubscribed, "blocklisted": StatusUnsubscribed,
	// Buttondown
	"regular": StatusConfirmed, "premium": StatusConfirmed, "trialed": StatusConfirmed, "gifted": StatusConfirmed,
	"churning": StatusConfirmed, "unpaid": StatusConfirmed, "paused": StatusConfirmed, "past_due": StatusConfirmed,
	"unactivated": StatusPending, "removed": StatusUnsubscribed, "undeliverable": StatusBounced,
	// Mailchimp's member statuses, as its API and some exports write them
	"subscribed": StatusConfirmed, "cleaned": StatusBounced,
	// common words
	"active": StatusConfirmed, "unconfirmed": StatusPending, "inactive": StatusUnsubscribed,
}

// parseStatusWord reads a status cell: one of the five, or a peer's word.
func parseStatusWord(cell string) (Status, error) {
	if st, err := ParseStatus(cell); err == nil {
		return st, nil
	}
	if st, ok := statusWords[strings.ToLower(strings.TrimSpace(cell))]; ok {
		return st, nil
	}
	return "", &FieldError{Field: "status", Err: &reasonError{
		msg: fmt.Sprintf("%q is not a status (pending, confirmed, unsubscribed, bounced, complained, or an export's word for one such as enabled, blocklisted, unactivated)",
			clip(cell, 40)),
		err: ErrInvalidStatus}}
}

// parseYesNo reads a yes/no cell as the exports write them.
func parseYesNo(field Field, cell string) (bool, error) {
	switch strings.ToLower(strings.TrimSpace(cell)) {
	case "true", "yes", "y", "1", "t":
		return true, nil
	case "false", "no", "n", "0", "f":
		return false, nil
	}
	return false, &FieldError{Field: string(field), Err: fmt.Errorf("%q is neither yes nor no (true, false, yes, no, 1, 0)", clip(cell, 40))}
}

// detectComma picks the delimiter of a header line: the one of , ; tab
// and | that appears most often outside quotes, a comma when none does.
func detectComma(line string) rune {
	best, n := ',', 0
	for _, c := range []rune{',', ';', '\t', '|'} {
		if k := countOutsideQuotes(line, c); k > n {
			best, n = c, k
		}
	}
	return best
}

func countOutsideQuotes(line string, c rune) int {
	n, open := 0, false
	for _, r := range line {
		switch {
		case r == '"':
			open = !open
		case r == c && !open:
			n++
		}
	}
	return n
}

// checkText refuses a first line that is not UTF-8 text: a spreadsheet
// saved as .xlsx, an image, a zip, or a CSV in a legacy encoding.
func checkText(line string) error {
	switch {
	case strings.ContainsAny(line, "\x00\x01\x02\x03\x04\x05\x06\x07\x08\x0e\x0f\x7f"):
		return errors.New("this is not a CSV file: it holds binary data (an .xlsx or .zip?); save the sheet as CSV (UTF-8)")
	case !utf8.ValidString(line):
		return errors.New("this file is not UTF-8 text (Latin-1 or Windows-1252?); save it as CSV (UTF-8)")
	}
	return nil
}
