package content

import (
	"html"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// textMetaBody is the first real paragraph under the head lines of each
// case: the summary must be it, whatever the head held.
const textMetaBody = "The talks resumed on Monday."

type textMetaCase struct {
	name      string
	head      string // the lines between the title and textMetaBody
	published time.Time
	updated   time.Time
	author    string
	role      string
	warning   string // in the one warning, if any is wanted
	kept      string // HTML of what of head stays in the body
	summary   string // when not the first paragraph
}

func TestParseText_Dates(t *testing.T) {
	loc := func(y int, m time.Month, d, h, min, s int) time.Time {
		return time.Date(y, m, d, h, min, s, 0, textLoc)
	}
	utc := func(y int, m time.Month, d, h, min int) time.Time { return time.Date(y, m, d, h, min, 0, 0, time.UTC) }
	june3 := loc(2023, 6, 3, 0, 0, 0)
	runTextMeta(t, []textMetaCase{
		// The forms of issue 12.
		{name: "published with comma and time", head: "Published 3 June 2023, 14:05", published: loc(2023, 6, 3, 14, 5, 0)},
		{name: "posted on, month first, at, pm", head: "Posted on June 3, 2023 at 2:05 pm", published: loc(2023, 6, 3, 14, 5, 0)},
		{name: "bare date, dot separator, CET", head: "3 June 2023 · 14:05 CET", published: utc(2023, 6, 3, 13, 5)},
		{name: "bare ISO date and time", head: "2023-06-03 14:05", published: loc(2023, 6, 3, 14, 5, 0)},
		{name: "updated with first published", head: "Updated 9 Jan 2024 07:30 (first published 8 Jan 2024 22:10)",
			published: loc(2024, 1, 8, 22, 10, 0), updated: loc(2024, 1, 9, 7, 30, 0)},
		{name: "last updated alone dates it too", head: "Last updated: 9 January 2024, 07:30",
			published: loc(2024, 1, 9, 7, 30, 0), updated: loc(2024, 1, 9, 7, 30, 0)},
		{name: "weekday, at, seconds, BST", head: "Published: Saturday, 3 June 2023 at 14:05:30 BST",
			published: time.Date(2023, 6, 3, 13, 5, 30, 0, time.UTC)},
		{name: "numeric offset", head: "Published: 2023-06-03 14:05 +0200", published: utc(2023, 6, 3, 12, 5)},
		{name: "two date lines", head: "Published 3 June 2023\nUpdated 4 June 2023, 09:00",
			published: june3, updated: loc(2023, 6, 4, 9, 0, 0)},

		// Forms from news pages.
		{name: "guardian", head: "Sat 3 Jun 2023 14.05 BST", published: utc(2023, 6, 3, 13, 5)},
		{name: "guardian, full weekday", head: "Friday 2 June 2023 16:00 BST", published: utc(2023, 6, 2, 15, 0)},
		{name: "ET in summer is EDT", head: "June 3, 2023 2:05 PM ET", published: utc(2023, 6, 3, 18, 5)},
		{name: "ET in winter is EST", head: "Jan 9, 2024 2:05 PM ET", published: utc(2024, 1, 9, 19, 5)},
		{name: "PT the day after the change", head: "March 13, 2023 9:00 AM PT", published: utc(2023, 3, 13, 16, 0)},
		{name: "ordinal day", head: "3rd June 2023", published: june3},
		{name: "ordinal after the month", head: "Posted on June 3rd, 2023", published: june3},
		{name: "ISO with T and Z", head: "2023-06-03T14:05:00Z", published: utc(2023, 6, 3, 14, 5)},
		{name: "ISO with fraction and offset", head: "Published: 2023-06-03T14:05:00.250+01:00",
			published: time.Date(2023, 6, 3, 13, 5, 0, 250e6, time.UTC)},
		{name: "AP abbreviation", head: "Jun. 3, 2023", published: june3},
		{name: "NYT updated, a.m. EDT", head: "Updated June 4, 2023, 9:12 a.m. EDT",
			published: utc(2023, 6, 4, 13, 12), updated: utc(2023, 6, 4, 13, 12)},
		{name: "CNN time first", head: "Updated 6:04 PM EST, Tue January 9, 2024",
			published: utc(2024, 1, 9, 23, 4), updated: utc(2024, 1, 9, 23, 4)},
		{name: "AP time first", head: "Updated 2:05 PM EDT, June 3, 2023",
			published: utc(2023, 6, 3, 18, 5), updated: utc(2023, 6, 3, 18, 5)},
		{name: "reuters GMT offset", head: "June 3, 2023 2:05 PM GMT+1", published: utc(2023, 6, 3, 13, 5)},
		{name: "al jazeera published on", head: "Published On 3 Jun 2023", published: june3},
		{name: "washington post", head: "June 3, 2023 at 2:05 p.m. EDT", published: utc(2023, 6, 3, 18, 5)},
		{name: "CEST", head: "Published 3 June 2023 14:05 CEST", published: utc(2023, 6, 3, 12, 5)},
		{name: "bare hour with pm", head: "Posted June 3, 2023 2 PM", published: loc(2023, 6, 3, 14, 0, 0)},
		{name: "half past midnight", head: "Published 12:30 am, 3 June 2023", published: loc(2023, 6, 3, 0, 30, 0)},
		{name: "dotted day first", head: "Date: 03.06.2023", published: june3},
		{name: "slashed, month plainly first", head: "Published 06/23/2023", published: loc(2023, 6, 23, 0, 0, 0)},
		{name: "slashed, day plainly first", head: "Published 23/06/2023", published: loc(2023, 6, 23, 0, 0, 0)},
		{name: "slashed, year first", head: "Published 2023/06/03", published: june3},
		{name: "en dash before the time", head: "Updated: 3 June 2023 – 14:05", published: loc(2023, 6, 3, 14, 5, 0),
			updated: loc(2023, 6, 3, 14, 5, 0)},
		{name: "date with a label", head: "3 June 2023 | 6 min read", published: june3},
		{name: "byline and dates on one line", head: "By Jane Doe | Published November 3, 2026 | Updated November 4, 2026",
			published: loc(2026, 11, 3, 0, 0, 0), updated: loc(2026, 11, 4, 0, 0, 0), author: "Jane Doe"},
		{name: "leap day", head: "Published 29 February 2024", published: loc(2024, 2, 29, 0, 0, 0)},

		// Date lines that cannot be used: the first-seen rule, one warning.
		{name: "no 31 June", head: "Published 31 June 2023", warning: "there is no 31 June 2023"},
		{name: "no 29 February 2023", head: "29 Feb 2023", warning: "there is no 29 February 2023"},
		{name: "before 1990", head: "Published 3 June 1985", warning: "1985 is before 1990"},
		{name: "far future", head: "Published 3 June 2301", warning: "2301 is after 2200"},
		{name: "ambiguous slashes", head: "Published: 03/06/2023", warning: "03/06/2023 may be 3 June or 6 March"},
		{name: "weekday does not match", head: "Friday 3 June 2023", warning: "3 June 2023 was a Saturday, not a Friday"},
		{name: "no such hour", head: "Published 3 June 2023 25:10", warning: "there is no time 25:10"},
		{name: "13 pm", head: "Posted June 3, 2023 at 13:05 pm", warning: "there is no time 13:05 pm"},
		{name: "foreign month", head: "Published 3 Juni 2023", warning: `"Juni" is not part of a date`},
		{name: "ambiguous zone", head: "Posted on 3 June 2023 14:05 IST", warning: `"IST" is not part of a date`},
		{name: "no day", head: "Published June 2023", warning: "not a whole date"},
		{name: "relative", head: "Published 2 hours ago", warning: `"2 hours ago" is relative`},
		{name: "a good date beside a bad one", head: "Published 3 June 2023 | Updated 31 June 2023",
			published: june3, warning: "there is no 31 June 2023"},

		// Not date lines: kept as text, no warning.
		{name: "published by", head: "Published by the Harbour Gazette.", kept: "<p>Published by the Harbour Gazette.</p>"},
		{name: "a credit", head: "Published in 2023 by Penguin Books", kept: "<h2>Published in 2023 by Penguin Books</h2>"},
		{name: "posted as a verb", head: "Posted 3 times to the council, the letter went unanswered.",
			kept: "<p>Posted 3 times to the council, the letter went unanswered.</p>"},
		{name: "month and year only", head: "June 2023", kept: "<h2>June 2023</h2>"},
		{name: "a sentence with a date", head: "On 3 June 2023 the ferry left.", kept: "<p>On 3 June 2023 the ferry left.</p>"},
		{name: "a number", head: "42", kept: "<h2>42</h2>"},
	})
}

func TestParseText_Bylines(t *testing.T) {
	runTextMeta(t, []textMetaCase{
		// The forms of issue 12.
		{name: "by", head: "By Ana Lima", author: "Ana Lima"},
		{name: "two names", head: "By Ana Lima and Tomás Ruiz", author: "Ana Lima and Tomás Ruiz"},
		{name: "name and desk", head: "By Ana Lima, Politics Desk", author: "Ana Lima", role: "Politics Desk"},
		{name: "reporter label", head: "Reporter: Ana Lima", author: "Ana Lima", role: "Reporter"},
		{name: "correspondent label", head: "Transport correspondent: Ana Lima", author: "Ana Lima", role: "Transport correspondent"},
		{name: "words by", head: "Words by Ana Lima", author: "Ana Lima"},
		{name: "dash", head: "— Ana Lima", author: "Ana Lima"},

		// Forms from news pages.
		{name: "capitals", head: "By ANA LIMA", author: "Ana Lima"},
		{name: "capitals with particles", head: "BY ANA DE LA CRUZ AND JEAN-LUC O'NEIL", author: "Ana de la Cruz and Jean-Luc O'Neil"},
		{name: "agency after a bar", head: "By Ana Lima | Reuters", author: "Ana Lima"},
		{name: "agency after a comma", head: "By Ana Lima, Reuters", author: "Ana Lima", role: "Reuters"},
		{name: "agency in brackets", head: "By Ana Lima (Reuters)", author: "Ana Lima", role: "Reuters"},
		{name: "place", head: "Ana Lima in Lisbon", kept: "<h2>Ana Lima in Lisbon</h2>"},
		{name: "by with place", head: "By Ana Lima in Lisbon", author: "Ana Lima", role: "in Lisbon"},
		{name: "list of names", head: "By Ana Lima, Tomás Ruiz and Joe Bloggs", author: "Ana Lima, Tomás Ruiz and Joe Bloggs"},
		{name: "names and desk", head: "By Ana Lima and Tomás Ruiz, BBC News", author: "Ana Lima and Tomás Ruiz", role: "BBC News"},
		{name: "names and correspondents", head: "By Ana Lima, Tomás Ruiz and Joe Bloggs, Foreign Correspondents",
			author: "Ana Lima, Tomás Ruiz and Joe Bloggs", role: "Foreign Correspondents"},
		{name: "words label", head: "Words: Ana Lima", author: "Ana Lima"},
		{name: "written by", head: "Written by Ana Lima", author: "Ana Lima"},
		{name: "en dash", head: "– Ana Lima, Politics Desk", author: "Ana Lima", role: "Politics Desk"},
		{name: "colon and particle", head: "By: Ludwig van Beek and Ana de la Cruz", author: "Ludwig van Beek and Ana de la Cruz"},
		{name: "initials", head: "By J.R. Lima", author: "J.R. Lima"},
		{name: "a surname like a weekday abbreviation", head: "By Sun Li", author: "Sun Li"},
		{name: "a name like a month", head: "By May Lin", author: "May Lin"},
		{name: "posted by and on", head: "Posted by Ana Lima on June 3, 2023", author: "Ana Lima",
			published: time.Date(2023, 6, 3, 0, 0, 0, 0, textLoc)},
		{name: "posted on and by", head: "Posted on June 3, 2023 by Ana Lima", author: "Ana Lima",
			published: time.Date(2023, 6, 3, 0, 0, 0, 0, textLoc)},
		{name: "the first byline counts", head: "By Ana Lima\nBy Tomás Ruiz", author: "Ana Lima"},

		// Sentences and headings that start like bylines.
		{name: "by the end", head: "By the end of the day the ferry had left.", kept: "<p>By the end of the day the ferry had left.</p>"},
		{name: "by a weekday", head: "By Monday, talks had resumed.", kept: "<p>By Monday, talks had resumed.</p>"},
		{name: "by a year", head: "By 2030, the line will carry 40,000 passengers a day.",
			kept: "<p>By 2030, the line will carry 40,000 passengers a day.</p>"},
		{name: "by a title-cased heading", head: "By Train To Lisbon", kept: "<h2>By Train To Lisbon</h2>"},
		{name: "by then", head: "By Then", kept: "<h2>By Then</h2>"},
		{name: "by with a sentence after a comma", head: "By Ana Lima, who covered the war for a decade.",
			kept: "<p>By Ana Lima, who covered the war for a decade.</p>"},
		{name: "byline with a sentence is kept", head: "By Jane Doe | The talks resumed on Monday.",
			kept: "<p>By Jane Doe | The talks resumed on Monday.</p>", summary: textMetaBody}, // " | " reads as a table row
		{name: "a label that is no role", head: "Photo: Reuters", kept: "<p><strong>Photo:</strong> Reuters</p>"},
		{name: "a list item", head: "- Ana Lima", kept: "<ul><li>Ana Lima</li></ul>"},
	})
}

func runTextMeta(t *testing.T, tests []textMetaCase) {
	t.Helper()
	r, err := NewRenderer("https://news.example.org/")
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := "Ceasefire Holds\n" + tt.head + "\n" + textMetaBody + "\n"
			doc, err := parseText(src, textLoc)
			if err != nil {
				t.Fatal(err)
			}
			if !doc.Published.Equal(tt.published) {
				t.Errorf("Published = %v, want %v", doc.Published, tt.published)
			}
			if !doc.Updated.Equal(tt.updated) {
				t.Errorf("Updated = %v, want %v", doc.Updated, tt.updated)
			}
			if doc.Author != tt.author || doc.Role != tt.role {
				t.Errorf("Author, Role = %q, %q, want %q, %q", doc.Author, doc.Role, tt.author, tt.role)
			}
			want := "<p>" + textMetaBody + "</p>"
			if tt.kept != "" {
				want = tt.kept + "\n" + want
			}
			if doc.HTML != want {
				t.Errorf("HTML = %q, want %q", doc.HTML, want)
			}
			switch {
			case tt.warning == "" && len(doc.Warnings) > 0:
				t.Errorf("warnings %q, want none", doc.Warnings)
			case tt.warning != "" && (len(doc.Warnings) != 1 || !strings.Contains(doc.Warnings[0], tt.warning) ||
				!strings.HasPrefix(doc.Warnings[0], "line 2 ")):
				t.Errorf("warnings %q, want one on line 2 saying %q", doc.Warnings, tt.warning)
			}

			// Through the whole path: the date lines are gone from the
			// summary, and the dates and warnings reach the document.
			d, err := ParseFile("a.txt", []byte(src), r, textLoc)
			if err != nil {
				t.Fatal(err)
			}
			wantSummary := textMetaBody
			if strings.HasPrefix(tt.kept, "<p>") { // a kept line is text, the first paragraph
				first, _, _ := strings.Cut(tt.kept, "\n")
				wantSummary = html.UnescapeString(textTagRE.ReplaceAllString(first, ""))
			}
			if tt.summary != "" {
				wantSummary = tt.summary
			}
			if d.Summary != wantSummary && !strings.HasPrefix(tt.kept, "<ul>") {
				t.Errorf("Summary = %q, want %q", d.Summary, wantSummary)
			}
			if !d.Date.Equal(doc.Published) || !d.Updated.Equal(doc.Updated) || d.Author != doc.Author ||
				strings.Join(d.Warnings, "\n") != strings.Join(doc.Warnings, "\n") {
				t.Errorf("ParseFile: date %v, updated %v, author %q, warnings %q; parseText had %v, %v, %q, %q",
					d.Date, d.Updated, d.Author, d.Warnings, doc.Published, doc.Updated, doc.Author, doc.Warnings)
			}
		})
	}
}

// textRoundTrips are layouts news pages print dates in, with what of the
// time each keeps: a date printed in one of them must read back as the
// same instant, to that precision.
var textRoundTrips = []struct {
	layout string
	keep   time.Duration // 24h: the day only, read in the location
	zone   bool          // the layout prints the offset
}{
	{"Published 2 January 2006, 15:04", time.Minute, false},
	{"Posted on January 2, 2006 at 3:04 pm", time.Minute, false},
	{"Mon 2 Jan 2006 15.04 -0700", time.Minute, true},
	{"2006-01-02T15:04:05Z07:00", time.Second, true},
	{"Updated: Monday, January 2, 2006 3:04:05 PM -07:00", time.Second, true},
	{"Jan. 2, 2006", 24 * time.Hour, false},
	{"2006-01-02 15:04", time.Minute, false},
	{"Date: 02.01.2006 15:04", time.Minute, false},
	{"Updated 3:04 PM -0700, Mon January 2, 2006", time.Minute, true},
	{"2 Jan 2006 · 15:04 -07:00", time.Minute, true},
}

// FuzzTextDateByline holds the date and byline reader to its promises for
// any line: no panic, the same answer twice, dates only within the years
// it takes, an author and role made of the line's own words, warnings
// only with a line number, and a line it does not take left alone. And a
// date printed in a news page's layout reads back as the instant printed.
func FuzzTextDateByline(f *testing.F) {
	for _, s := range []string{
		"Published 3 June 2023, 14:05", "Posted on June 3, 2023 at 2:05 pm", "3 June 2023 · 14:05 CET",
		"2023-06-03 14:05", "Updated 9 Jan 2024 07:30 (first published 8 Jan 2024 22:10)", "Last updated: 9 Jan 2024",
		"Sat 3 Jun 2023 14.05 BST", "June 3, 2023 2:05 PM ET", "Published: 03/06/2023", "3rd June 2023",
		"2023-06-03T14:05:00.250+01:00", "Updated June 4, 2023, 9:12 a.m. EDT", "Published 31 June 2023",
		"By Ana Lima", "By ANA LIMA", "By Ana Lima and Tomás Ruiz", "By Ana Lima, Politics Desk", "Reporter: Ana Lima",
		"Transport correspondent: Ana Lima", "Words by Ana Lima", "— Ana Lima", "By Ana Lima | Reuters",
		"By the end of the day the ferry had left.", "Posted by Ana Lima on June 3, 2023 GMT+1", "UTC+14:00 12:00",
	} {
		f.Add(s, int64(1685800000), uint8(0), int16(60))
	}
	f.Fuzz(func(t *testing.T, line string, unix int64, layout uint8, offset int16) {
		if strings.ContainsAny(line, "\n\r") || !utf8.ValidString(line) {
			return // one line, as parseText hands them over
		}
		var doc textDoc
		took := textMeta(&doc, line, 7, textLoc)
		var again textDoc
		if textMeta(&again, line, 7, textLoc) != took || !again.Published.Equal(doc.Published) ||
			!again.Updated.Equal(doc.Updated) || again.Author != doc.Author || again.Role != doc.Role ||
			strings.Join(again.Warnings, "\n") != strings.Join(doc.Warnings, "\n") {
			t.Fatalf("%q read twice: %+v then %+v", line, doc, again)
		}
		if !took && (!doc.Published.IsZero() || !doc.Updated.IsZero() || doc.Author != "" || doc.Role != "" || len(doc.Warnings) > 0) {
			t.Errorf("%q not taken, yet recorded %+v", line, doc)
		}
		for _, d := range []time.Time{doc.Published, doc.Updated} {
			if !d.IsZero() && (d.Year() < textOldest-1 || d.Year() > textNewest+1) {
				t.Errorf("%q dated %v, outside the years taken", line, d)
			}
		}
		lower := strings.ToLower(line)
		for _, w := range strings.Fields(doc.Author + " " + doc.Role) {
			if !strings.Contains(lower, strings.ToLower(strings.Trim(w, ","))) {
				t.Errorf("%q: author %q, role %q: %q is not in the line", line, doc.Author, doc.Role, w)
			}
		}
		if doc.Author != "" && !textNameOK(doc.Author) {
			t.Errorf("%q: author %q does not read as a name", line, doc.Author)
		}
		for _, w := range doc.Warnings {
			if !strings.HasPrefix(w, "line 7 ") {
				t.Errorf("warning %q does not name the line", w)
			}
		}
		var quiet textDoc
		if textMeta(&quiet, line, 0, textLoc); len(quiet.Warnings) > 0 {
			t.Errorf("%q: warnings %q without a line to name", line, quiet.Warnings)
		}

		// The round trip.
		rt := textRoundTrips[int(layout)%len(textRoundTrips)]
		span := time.Date(textNewest, 12, 31, 0, 0, 0, 0, time.UTC).Unix() - time.Date(textOldest, 1, 2, 0, 0, 0, 0, time.UTC).Unix()
		sec := time.Date(textOldest, 1, 2, 0, 0, 0, 0, time.UTC).Unix() + (unix%span+span)%span
		zone := textLoc
		if rt.zone {
			zone = time.FixedZone("", ((int(offset)%104+104)%104-48)*15*60) // -12:00 to +13:45
		}
		want := time.Unix(sec, 0).In(zone)
		if rt.keep == 24*time.Hour {
			want = time.Date(want.Year(), want.Month(), want.Day(), 0, 0, 0, 0, textLoc)
		} else {
			want = want.Truncate(rt.keep)
		}
		printed := want.Format(rt.layout)
		var rd textDoc
		if !textMeta(&rd, printed, 1, textLoc) {
			t.Fatalf("%q (layout %q) not taken as a date line", printed, rt.layout)
		}
		got := rd.Published
		if strings.HasPrefix(rt.layout, "Updated") {
			got = rd.Updated
		}
		if !got.Equal(want) || len(rd.Warnings) > 0 {
			t.Errorf("%q read as %v, warnings %q; want %v", printed, got, rd.Warnings, want)
		}
	})
}
