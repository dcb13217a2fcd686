package feed

import (
	"strings"
	"testing"
	"time"
)

// A news page copied as plain text keeps its own date, its edit time and
// its author through the store; its date and byline lines are not in the
// body, and the summary is its first real paragraph.
func TestScan_TextDatesAndBylines(t *testing.T) {
	e := newIngestEnv(t)
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Fatal(err)
	}
	e.in.Location = berlin
	e.write(t, "ferry.txt", "Ferry Returns After Winter Repairs\n"+
		"By Ana Lima, Transport Desk\n"+
		"Updated 9 Jan 2024 07:30 (first published 8 Jan 2024 22:10)\n\n"+
		"The ferry returned to service on Monday.\n\nFares rise in April.\n")
	e.scanClean(t)
	a := e.get(t, "ferry")
	if want := time.Date(2024, 1, 8, 21, 10, 0, 0, time.UTC); !a.Published.Equal(want) {
		t.Errorf("published = %v, want %v (22:10 in Berlin)", a.Published, want)
	}
	if want := time.Date(2024, 1, 9, 6, 30, 0, 0, time.UTC); !a.Updated.Equal(want) {
		t.Errorf("updated = %v, want %v", a.Updated, want)
	}
	if a.Author != "Ana Lima" {
		t.Errorf("author = %q, want the name without its desk", a.Author)
	}
	if a.Summary != "The ferry returned to service on Monday." {
		t.Errorf("summary = %q", a.Summary)
	}
	for _, s := range []string{"Updated", "published", "Ana Lima", "Desk"} {
		if strings.Contains(a.ContentHTML, s) || strings.Contains(a.ContentText, s) {
			t.Errorf("body holds %q:\n%s", s, a.ContentText)
		}
	}
}

// A date line naming a day that does not exist leaves the article dated
// when first seen, and is logged once, with the file and the line, until
// the file changes.
func TestScan_TextBadDateLoggedOncePerChange(t *testing.T) {
	e := newIngestEnv(t)
	var logs strings.Builder
	e.in.Logger = newTestLogger(&logs)
	p := e.write(t, "ferry.txt", "Ferry Returns\nPublished 31 June 2023\nBy Ana Lima\nThe ferry returned.\n")
	e.scanClean(t)
	a := e.get(t, "ferry")
	if !a.Published.Equal(e.clock.Now()) || a.Author != "Ana Lima" || a.Summary != "The ferry returned." {
		t.Errorf("published %v (want first seen, %v), author %q, summary %q", a.Published, e.clock.Now(), a.Author, a.Summary)
	}
	warned := func() int {
		return strings.Count(logs.String(), `line 2 \"Published 31 June 2023\": date not used: there is no 31 June 2023`)
	}
	if warned() != 1 || !strings.Contains(logs.String(), p) {
		t.Fatalf("want one warning naming %s and line 2:\n%s", p, logs.String())
	}
	e.clock.Advance(time.Minute)
	e.scanClean(t)
	if warned() != 1 {
		t.Errorf("warned again for an unchanged file:\n%s", logs.String())
	}
	e.write(t, "ferry.txt", "Ferry Returns\nPublished 30 June 2023\nBy Ana Lima\nThe ferry returned.\n")
	e.scanClean(t)
	if got := e.get(t, "ferry").Published; !got.Equal(time.Date(2023, 6, 30, 0, 0, 0, 0, time.UTC)) || warned() != 1 {
		t.Errorf("fixed: published %v, want 30 June 2023; %d warnings", got, warned())
	}
}
