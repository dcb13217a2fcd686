package subscribers

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"
)

var importMeta = Meta{Route: "import", UserAgent: "tidings-cli"}

func (e *storeEnv) importCSV(t testing.TB, data string, confirmed bool) ImportResult {
	t.Helper()
	res, err := e.store.Import(context.Background(), strings.NewReader(data), ImportOptions{Confirmed: confirmed}, importMeta)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func (e *storeEnv) byEmail(t testing.TB, email string) *Subscriber {
	t.Helper()
	sub, err := e.store.GetByEmail(context.Background(), email)
	if err != nil {
		t.Fatalf("%s: %v", email, err)
	}
	return sub
}

func TestImport_Formats(t *testing.T) {
	tests := []struct {
		name, data string
	}{
		{name: "plain", data: "email,name,digests\na@example.org,Ann,daily\nb@example.org,\"Bo, \"\"B\"\"\",daily;weekly\n"},
		{name: "BOM, CRLF, blank lines", data: "\ufeffemail,name,digests\r\n\r\na@example.org,Ann,daily\r\n   \r\n,,\r\nb@example.org,\"Bo, \"\"B\"\"\",daily|weekly\r\n\r\n"},
		{name: "any order and case, spaces", data: " Digests ,EMAIL, Name\n daily ,  a@EXAMPLE.org ,Ann\n\"Weekly | DAILY\",b@example.org,\"Bo, \"\"B\"\"\"\n"},
		{name: "trailing commas", data: "email,name,digests,\na@example.org,Ann,daily,\nb@example.org,\"Bo, \"\"B\"\"\",daily;weekly;\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newStoreEnv(t)
			res := e.importCSV(t, tt.data, false)
			if res.Added != 2 || res.Updated != 0 || res.Skipped != 0 || len(res.Errors) != 0 {
				t.Fatalf("result %+v", res)
			}
			a, b := e.byEmail(t, "a@example.org"), e.byEmail(t, "b@example.org")
			if a.Name != "Ann" || !slices.Equal(a.Digests, []string{"daily"}) || a.Status != StatusPending || a.Route != "import" {
				t.Errorf("a = %+v", a)
			}
			if b.Name != `Bo, "B"` || !slices.Equal(b.Digests, []string{"daily", "weekly"}) {
				t.Errorf("b = %+v", b)
			}
			evs := e.events(t, a.ID)
			if len(evs) != 1 {
				t.Fatalf("events %v", kinds(evs))
			}
			checkEvent(t, evs[0], EventImported, importMeta, "imported as pending")
		})
	}
}

func TestImport_StatusAndConsent(t *testing.T) {
	e := newStoreEnv(t)
	res := e.importCSV(t, "email,status\nc@example.org,\nu@example.org,Unsubscribed\nb@example.org,bounced\n", true)
	if res.Added != 3 || len(res.Errors) != 0 {
		t.Fatalf("result %+v", res)
	}
	c := e.byEmail(t, "c@example.org")
	if c.Status != StatusConfirmed || c.ConfirmedAt == nil || !slices.Equal(c.Digests, []string{"daily", "weekly"}) {
		t.Errorf("with --confirmed and no status: %+v", c)
	}
	checkEvent(t, e.events(t, c.ID)[0], EventImported, importMeta, "consent recorded by operator")
	if u := e.byEmail(t, "u@example.org"); u.Status != StatusUnsubscribed || u.UnsubscribedAt == nil {
		t.Errorf("status column: %+v", u)
	}
	if b := e.byEmail(t, "b@example.org"); b.Status != StatusBounced {
		t.Errorf("status column: %+v", b)
	}
}

func TestImport_BadHeader(t *testing.T) {
	tests := []struct {
		name, data, want string
	}{
		{name: "empty file", data: "", want: "empty"},
		{name: "only blank lines", data: "\n\r\n  \n", want: "empty"},
		{name: "unknown column", data: "email,name,phone\na@example.org,A,1\n", want: `line 1: unknown column "phone": the columns are email, name, digests, status`},
		{name: "no email column", data: "name,digests\nAnn,daily\n", want: "line 1: no email column"},
		{name: "data without a header", data: "a@example.org,Ann\n", want: `unknown column "a@example.org"`},
		{name: "column twice", data: "email,Email\na@example.org,a@example.org\n", want: `column "email" appears twice`},
		{name: "stray quote", data: "email,na\"me\na@example.org,A\n", want: "line 1: header: bare \""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newStoreEnv(t)
			res, err := e.store.Import(context.Background(), strings.NewReader(tt.data), ImportOptions{Confirmed: true}, importMeta)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Import = %v, want an error with %q", err, tt.want)
			}
			if res.Added+res.Updated != 0 || e.count(t, "subscribers") != 0 || e.count(t, "subscriber_events") != 0 {
				t.Errorf("a refused file stored rows: %+v", res)
			}
		})
	}
}

func TestImport_BadRows(t *testing.T) {
	data := "email,name,digests,status\n" + // line 1
		"good1@example.org,Good,daily,\n" + // 2
		"not an address,,,\n" + // 3
		"crlf@example.org,\"Jane\r\nBcc: x@y.org\",,\n" + // 4-5
		"digest@example.org,,hourly,\n" + // 6
		"status@example.org,,,asleep\n" + // 7
		"quote@example.org,Bo\"b,,\n" + // 8
		"extra@example.org,A,daily,confirmed,surplus\n" + // 9
		"\n" + // 10
		"good2@example.org,\"Multi\"\"quote\"\"\",weekly,\n" + // 11
		"long@example.org," + strings.Repeat("n", 101) + ",,\n" + // 12
		"@example.org,,,\n" + // 13
		"unterminated@example.org,\"Never closed,,\n" + // 14
		"kept@example.org,,,\n" // 15: read on its own, not swallowed
	e := newStoreEnv(t)
	res := e.importCSV(t, data, false)
	wantErrs := map[int]string{
		3:  `line 3: email: "not an address": contains a space`,
		4:  "line 4: name: contains a line break",
		6:  `line 6: digests: unknown digest "hourly"`,
		7:  `line 7: status: "asleep" is not a status`,
		8:  `line 8: bare " in non-quoted-field`,
		9:  "line 9: has 5 fields, the header names 4",
		12: "line 12: name: is 101 characters long",
		13: "line 13: email:",
		14: `line 14: a quoted field is never closed`,
	}
	if res.Added != 3 || res.Updated != 0 || res.Skipped != len(wantErrs) || len(res.Errors) != len(wantErrs) {
		t.Errorf("result %+v", res)
	}
	for _, re := range res.Errors {
		want, ok := wantErrs[re.Line]
		if !ok || !strings.HasPrefix(re.Error(), want) {
			t.Errorf("error %q, want %q", re, want)
		}
	}
	if e.count(t, "subscribers") != 3 {
		t.Errorf("%d subscribers stored, want the 3 good rows", e.count(t, "subscribers"))
	}
	if g := e.byEmail(t, "good2@example.org"); g.Name != `Multi"quote"` {
		t.Errorf("name %q", g.Name)
	}
	var fe *FieldError
	if !errors.As(res.Errors[0], &fe) || fe.Field != "email" || !errors.Is(res.Errors[0], ErrInvalidAddress) {
		t.Errorf("row error %v does not carry its field and cause", res.Errors[0])
	}
}

func TestImport_Idempotent(t *testing.T) {
	e := newStoreEnv(t)
	data := "email,name,digests\na@example.org,Ann,daily\nb@example.org,Bo,weekly\n"
	if res := e.importCSV(t, data, true); res.Added != 2 {
		t.Fatalf("first import %+v", res)
	}
	before := e.snapshot(t)
	e.clock.Advance(time.Hour)
	if res := e.importCSV(t, data, true); res.Added != 0 || res.Updated != 0 || res.Skipped != 2 {
		t.Errorf("second import %+v", res)
	}
	if e.snapshot(t) != before {
		t.Error("importing the same file twice changed the store")
	}
	// A changed file updates in place.
	res := e.importCSV(t, "email,name,digests\nA@EXAMPLE.ORG,Anna,daily;weekly\nb@example.org,,weekly\n", false)
	if res.Added != 0 || res.Updated != 1 || res.Skipped != 1 || e.count(t, "subscribers") != 2 {
		t.Errorf("changed import %+v", res)
	}
	a := e.byEmail(t, "a@example.org")
	if a.Name != "Anna" || !slices.Equal(a.Digests, []string{"daily", "weekly"}) || a.Status != StatusConfirmed {
		t.Errorf("a = %+v", a)
	}
	evs := e.events(t, a.ID)
	checkEvent(t, evs[len(evs)-1], EventUpdated, importMeta, `import: name "Ann" -> "Anna"; digests daily -> daily, weekly`)
	if b := e.byEmail(t, "b@example.org"); b.Name != "Bo" {
		t.Errorf("an empty name cell cleared the name: %+v", b)
	}
}

func TestImport_NeverReconfirms(t *testing.T) {
	for _, st := range []Status{StatusUnsubscribed, StatusBounced, StatusComplained} {
		t.Run(string(st), func(t *testing.T) {
			e := newStoreEnv(t)
			sub := e.withStatus(t, "jane@example.org", st)
			events := len(e.events(t, sub.ID))
			for _, data := range []string{"email,name\njane@example.org,Jane\n", "email,status\njane@example.org,confirmed\n",
				"email,status\nJANE@example.org,pending\n"} {
				res := e.importCSV(t, data, true)
				if got := e.get(t, sub.ID); got.Status != st || res.Kept != 1 || res.KeptBy[string(st)] != 1 || res.Updated != 0 {
					t.Errorf("import of %q: %s -> %s (%+v); want it kept %s", data, st, got.Status, res, st)
				}
			}
			if n := len(e.events(t, sub.ID)); n != events {
				t.Errorf("kept rows wrote %d events", n-events)
			}
			// Only an explicit resubscribe, citing its consent, confirms.
			res, err := e.store.Import(context.Background(), strings.NewReader("email,status\njane@example.org,confirmed\n"),
				ImportOptions{Resubscribe: "signed form at the fair, 2026-11-30"}, importMeta)
			if err != nil {
				t.Fatal(err)
			}
			if got := e.get(t, sub.ID); got.Status != StatusConfirmed || res.Updated != 1 {
				t.Errorf("--resubscribe: %s (%+v), want confirmed", got.Status, res)
			}
			evs := e.events(t, sub.ID)
			checkEvent(t, evs[len(evs)-1], EventConfirmed, importMeta, "resubscribed by import (was "+string(st)+"); consent: signed form at the fair, 2026-11-30")
		})
	}
	t.Run("pending may be confirmed by its status column", func(t *testing.T) {
		e := newStoreEnv(t)
		sub := e.withStatus(t, "jane@example.org", StatusPending)
		res := e.importCSV(t, "email,status\njane@example.org,confirmed\n", false)
		if got := e.get(t, sub.ID); got.Status != StatusConfirmed || res.Updated != 1 {
			t.Errorf("pending with status confirmed: %+v (%+v)", got, res)
		}
	})
}

// An address erased on request is never brought back by an import, not
// even with --resubscribe.
func TestImport_ForgottenStaysForgotten(t *testing.T) {
	e := newStoreEnv(t)
	e.withStatus(t, "gone@example.org", StatusConfirmed)
	if err := e.store.Forget(context.Background(), "gone@example.org", importMeta); err != nil {
		t.Fatal(err)
	}
	for _, o := range []ImportOptions{{Confirmed: true}, {Resubscribe: "phone call"}} {
		res, err := e.store.Import(context.Background(), strings.NewReader("email,status\ngone@example.org,confirmed\n"), o, importMeta)
		if err != nil {
			t.Fatal(err)
		}
		if res.Kept != 1 || res.KeptBy["forgotten"] != 1 || res.Added != 0 || e.count(t, "subscribers") != 0 {
			t.Errorf("import %+v of a forgotten address: %+v, %d rows", o, res, e.count(t, "subscribers"))
		}
	}
}

// One stray quote never costs the rows after it, and the summary adds up
// to the file's rows.
func TestImport_UnbalancedQuotesLoseNothing(t *testing.T) {
	tests := []struct {
		name    string
		rows    int
		broken  map[int]bool // data rows (0-based) written with an unclosed quote
		wantBad int
	}{
		{"10,000 rows, three broken", 10000, map[int]bool{17: true, 4000: true, 9998: true}, 3},
		{"a broken first row, 999 good", 1000, map[int]bool{0: true}, 1},
		{"a broken last row", 50, map[int]bool{49: true}, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var b strings.Builder
			b.WriteString("email,name,digests\n")
			for i := range tt.rows {
				if tt.broken[i] {
					fmt.Fprintf(&b, "r%d@example.org,\"Broken, name,daily\n", i)
				} else {
					fmt.Fprintf(&b, "r%d@example.org,Reader %d,daily\n", i, i)
				}
			}
			e := newStoreEnv(t)
			res := e.importCSV(t, b.String(), true)
			if res.Added != tt.rows-tt.wantBad || len(res.Errors) != tt.wantBad || res.Skipped != tt.wantBad {
				t.Errorf("result added %d, skipped %d, errors %v; want added %d, %d errors", res.Added, res.Skipped, res.Errors, tt.rows-tt.wantBad, tt.wantBad)
			}
			if sum := res.Added + res.Updated + res.Skipped + res.Kept; sum != tt.rows {
				t.Errorf("summary adds up to %d, the file has %d rows", sum, tt.rows)
			}
			for _, re := range res.Errors {
				if !tt.broken[re.Line-2] || !errors.Is(re, errUnbalancedQuote) {
					t.Errorf("error %v names the wrong line or cause", re)
				}
			}
			if n := e.count(t, "subscribers"); n != tt.rows-tt.wantBad {
				t.Errorf("%d stored, want %d", n, tt.rows-tt.wantBad)
			}
		})
	}
}

func TestImport_RepeatedAddressInFile(t *testing.T) {
	e := newStoreEnv(t)
	res := e.importCSV(t, "email,name\njane@example.org,First\nJANE@example.org,Second\njane@example.org,Second\n", false)
	if res.Added != 1 || res.Updated != 1 || res.Skipped != 1 || e.count(t, "subscribers") != 1 {
		t.Errorf("result %+v, %d rows", res, e.count(t, "subscribers"))
	}
	if got := e.byEmail(t, "jane@example.org"); got.Name != "Second" {
		t.Errorf("name %q", got.Name)
	}
}

func TestExportImport_RoundTrip(t *testing.T) {
	e := newStoreEnv(t)
	ctx := context.Background()
	c := e.withStatus(t, "confirmed@example.org", StatusConfirmed)
	if _, err := e.store.SetTimeZone(ctx, c.ID, "America/New_York", operatorMeta); err != nil {
		t.Fatal(err)
	}
	p := e.signUp(t, "Pending@Bücher.example", "weekly")
	e.store.SetPreferences(ctx, p.ID, `Zoë "Z", Ünal`, []string{"weekly"}, linkMeta)
	e.withStatus(t, "gone@example.org", StatusUnsubscribed)
	e.withStatus(t, "bounced@example.org", StatusBounced)
	e.withStatus(t, "spam@example.org", StatusComplained)
	none := e.withStatus(t, "none@example.org", StatusConfirmed)
	e.store.Update(ctx, none.ID, nil, []string{}, nil, operatorMeta)
	// Cells a spreadsheet would run as formulas.
	f := e.withStatus(t, "-formula@example.org", StatusConfirmed)
	if _, err := e.store.SetPreferences(ctx, f.ID, `=HYPERLINK("http://evil.example","click")`, []string{"daily"}, linkMeta); err != nil {
		t.Fatal(err)
	}
	a := e.withStatus(t, "at@example.org", StatusConfirmed)
	if _, err := e.store.SetPreferences(ctx, a.ID, "@SUM(1+1)", []string{"daily"}, linkMeta); err != nil {
		t.Fatal(err)
	}

	var out bytes.Buffer
	if err := e.store.Export(ctx, &out); err != nil {
		t.Fatal(err)
	}
	want := "email,name,digests,status,timezone\n" +
		"confirmed@example.org,,daily;weekly,confirmed,America/New_York\n" +
		"Pending@xn--bcher-kva.example,\"Zoë \"\"Z\"\", Ünal\",weekly,pending,\n" +
		"gone@example.org,,daily;weekly,unsubscribed,\n" +
		"bounced@example.org,,daily;weekly,bounced,\n" +
		"spam@example.org,,daily;weekly,complained,\n" +
		"none@example.org,,,confirmed,\n" +
		"'-formula@example.org,\"'=HYPERLINK(\"\"http://evil.example\"\",\"\"click\"\")\",daily,confirmed,\n" +
		"at@example.org,'@SUM(1+1),daily,confirmed,\n"
	if out.String() != want {
		t.Errorf("export:\n%s\nwant\n%s", out.String(), want)
	}

	fresh := newStoreEnv(t)
	res, err := fresh.store.Import(ctx, bytes.NewReader(out.Bytes()), ImportOptions{}, importMeta)
	if err != nil || res.Added != 8 || len(res.Errors) != 0 {
		t.Fatalf("import = %+v, %v", res, err)
	}
	if got := fresh.byEmail(t, "-formula@example.org"); got.Name != `=HYPERLINK("http://evil.example","click")` {
		t.Errorf("a defused cell imports back as %q", got.Name)
	}
	var again bytes.Buffer
	if err := fresh.store.Export(ctx, &again); err != nil {
		t.Fatal(err)
	}
	if again.String() != out.String() {
		t.Errorf("round trip:\n%s\nwant\n%s", again.String(), out.String())
	}
}

func FuzzImport(f *testing.F) {
	for _, s := range []string{
		"email,name,digests,status\na@example.org,Ann,daily;weekly,confirmed\n",
		"email,timezone\na@example.org,Europe/Berlin\nb@example.org,Mars/Olympus\nc@example.org,../../etc/passwd\n",
		"\ufeffEMAIL\r\nb@example.org\r\n\r\n",
		"email,name\n\"a@example.org\",\"x\"\"y\"\nb@example.org,Bo\"b\n",
		"email,digests\na@example.org,hourly\n\"open,\n",
		"status,email\nbounced,A@B.C\npending,a@b.c\n",
		"E-Mail;Name;Status\r\nsemi@example.org;\"Sem; Icolon\";enabled\r\n",
		"uuid,email,name,attributes,status\nu,a@example.org,A,\"{\"\"k\"\": 1}\",blocklisted\n",
		"Email Address,First Name,Last Name,LEID,UNSUB_TIME,CLEAN_TIME\na@example.org,A,B,1,2024-01-01,\n",
		"email\temail_disabled\tactive_subscription\na@example.org\tmaybe\tfalse\n",
		"PK\x03\x04\x00\x00",
	} {
		f.Add(s, false)
	}
	// One database for every input, emptied each time: opening a fresh one
	// would make the fuzzer a hundred times slower.
	e := newStoreEnv(f)
	f.Fuzz(func(t *testing.T, data string, confirmed bool) {
		if len(data) > 4096 {
			return
		}
		for _, table := range []string{"subscriber_events", "subscribers", "suppressions"} {
			if _, err := e.db.Write.Exec(`DELETE FROM ` + table); err != nil {
				t.Fatal(err)
			}
		}
		res, err := e.store.Import(context.Background(), strings.NewReader(data), ImportOptions{Confirmed: confirmed}, importMeta)
		stored := e.count(t, "subscribers")
		lines := strings.Count(data, "\n") + 1
		if err != nil {
			if stored != 0 {
				t.Fatalf("a refused file stored %d rows: %v", stored, err)
			}
			return
		}
		if stored != res.Added || stored > lines-1 {
			t.Fatalf("%d stored, %d added, %d lines", stored, res.Added, lines)
		}
		for _, re := range res.Errors {
			if re.Line < 2 || re.Line > lines || re.Err == nil {
				t.Fatalf("row error %v has line %d of %d", re, re.Line, lines)
			}
		}
		sum := res.Added + res.Updated + res.Skipped + res.Kept
		if sum > lines-1 {
			t.Fatalf("summary counts %d rows in %d lines", sum, lines)
		}
		// Without quotes every line is one record: the summary must count
		// each non-blank line after the header exactly once.
		if !strings.Contains(data, `"`) && !strings.Contains(data, "\r") {
			rows, header := 0, false
			for _, l := range strings.Split(strings.TrimPrefix(data, "\ufeff"), "\n") {
				if strings.Trim(l, " ,\t") == "" {
					continue
				}
				if !header {
					header = true
					continue
				}
				rows++
			}
			if sum != rows {
				t.Fatalf("summary counts %d rows (%+v), the file has %d", sum, res, rows)
			}
		}
	})
}

func BenchmarkImport100k(b *testing.B) {
	var data bytes.Buffer
	data.WriteString("email,name,digests\n")
	for i := range 100_000 {
		fmt.Fprintf(&data, "reader%d@example%d.org,Reader %d,daily\n", i, i%97, i)
	}
	for b.Loop() {
		b.StopTimer()
		e := newStoreEnv(b)
		b.StartTimer()
		res, err := e.store.Import(context.Background(), bytes.NewReader(data.Bytes()), ImportOptions{Confirmed: true}, importMeta)
		if err != nil || res.Added != 100_000 {
			b.Fatalf("%+v, %v", res.Added, err)
		}
	}
}
