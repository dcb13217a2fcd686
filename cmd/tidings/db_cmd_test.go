package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/mail"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/tidings/tidings/internal/database"
	"github.com/tidings/tidings/internal/database/databasetest"
)

// A database filled the way an operator's fills, by serve and the
// command line, goes SQLite → PostgreSQL → SQLite with db copy (SQLite
// in the middle without a PostgreSQL server to test against) and comes
// back equal, table by table and row by row; the copy still reads the
// tokens in mail sent before it. While serve runs, db copy refuses.
func TestCLI_DBCopyRoundTrip(t *testing.T) {
	sink := newSMTPSink(t)
	dir := t.TempDir()
	env, content := gazette(t, dir, sink.Addr.Port, `
[inbound]
domain = "in.gazette.example.org"
[[digests]]
name = "daily"
schedule = "0 7 * * *"
`)
	writeFile(t, content, "harbour.md", "---\ntitle: Harbour reopens\ndate: 2026-11-20 08:30\ntags: [Local, boats]\n---\n\nShips are back. Zoë waved.\n")
	writeFile(t, content, "ferry.md", "# Ferry \"Skarholm\" returns\n\nThe ferry is back.\n")
	mustRun := mustRunner(t, env)
	first := filepath.Join(dir, "t.db")

	// Serve: a reader signs up on the web and confirms from the mail.
	cfg, err := LoadConfig(env["TIDINGS_CONFIG"], func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	base := "http://" + ln.Addr().String()
	cfg.Site.BaseURL = base
	m := &Main{Config: cfg, Listener: ln, Logs: io.Discard}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if err := m.Open(ctx); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- m.Run(ctx) }()
	waitFor(t, func() bool {
		resp, err := http.Get(base + "/healthz")
		if err == nil {
			resp.Body.Close()
		}
		return err == nil && resp.StatusCode == 200
	})
	if resp, page := postForm(t, base+"/subscribe", url.Values{"email": {"Ana.Sousa@Example.ORG"}, "name": {`Ana "the reader" Sousa`}, "digests": {"daily"}}); resp.StatusCode != 200 {
		t.Fatalf("sign-up %d:\n%s", resp.StatusCode, page)
	}
	link := confirmLink.FindString(textOf(t, sink.wait(t, 1)))
	_, page := get(t, link)
	if resp, page := postForm(t, formAction(t, page), nil); resp.StatusCode != 200 || !strings.Contains(page, "You are subscribed") {
		t.Fatalf("confirm %d:\n%s", resp.StatusCode, page)
	}
	sink.wait(t, 2) // the welcome
	_, errs, code := run(t, env, "db", "copy", "--to", filepath.Join(dir, "early.db"))
	if code != 1 || !strings.Contains(errs, "another tidings is running") || !strings.Contains(errs, "nothing changes during the copy") {
		t.Errorf("db copy beside serve exited %d: %s", code, errs)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	m.Close()

	// The command line: readers added, imported, one left, one forgotten;
	// an edition sent; a bounce heard; an admin account.
	mustRun("ingest")
	mustRun("subscribers", "add", "bo@example.com", "--digests", "daily", "--timezone", "Europe/Oslo")
	mustRun("subscribers", "add", "cy@example.com", "--status", "pending")
	csv := writeFile(t, dir, "import.csv", "email,name,status\ndi@example.com,Di,confirmed\nel@example.com,\"El, Jr.\",confirmed\nfay@example.com,Fay,confirmed\n")
	mustRun("subscribers", "import", csv)
	mustRun("digest", "send", "daily")
	mustRun("subscribers", "remove", "el@example.com")
	mustRun("subscribers", "forget", "fay@example.com")
	withStdin(t, "correct horse battery staple\n", func() { mustRun("admin", "add", "Ed@Example.org", "--password-stdin") })
	sink.mu.Lock()
	byRcpt := map[string]received{}
	for _, m := range sink.msgs {
		byRcpt[m.To[0]] = m
	}
	sink.mu.Unlock()
	fixture, err := os.ReadFile(filepath.Join("..", "..", "testdata", "inbound", "postfix-dsn-user-unknown.eml"))
	if err != nil {
		t.Fatal(err)
	}
	dsn := strings.NewReplacer("bounces+d4711.k3f9@example.org", byRcpt["bo@example.com"].From, "ada@example.com", "bo@example.com").Replace(string(fixture))
	if out := mustRun("inbound", "process", writeFile(t, dir, "dsn.eml", dsn)); !strings.Contains(out, "bounced") {
		t.Fatalf("DSN: %s", out)
	}
	firstDump := dumpSQLite(t, first)
	for _, table := range []string{"articles", "article_tags", "subscribers", "subscriber_events", "suppressions", "signup_mails", "settings",
		"editions", "edition_articles", "edition_totals", "deliveries", "digest_runs", "admin_accounts", "admin_audit", "inbound_log"} {
		if len(firstDump[table]) == 0 {
			t.Errorf("the filled database has no %s: the round trip would not prove it copied", table)
		}
	}

	// SQLite → the middle → SQLite.
	middle := filepath.Join(dir, "middle.db")
	if databasetest.Postgres() {
		middle = databasetest.NewPostgres(t)
	}
	copyTo := func(env map[string]string, to string) string {
		t.Helper()
		out, errs, code := run(t, env, "db", "copy", "--to", to)
		if code != 0 || !strings.HasPrefix(errs, "copying ") {
			t.Fatalf("db copy --to %s exited %d:\n%s%s", to, code, out, errs)
		}
		return out
	}
	out1 := copyTo(env, middle)
	raw, err := os.ReadFile(env["TIDINGS_CONFIG"])
	if err != nil {
		t.Fatal(err)
	}
	at := func(name, where string) map[string]string {
		key := "path"
		if database.IsURL(where) {
			key = "url"
		}
		text := strings.Replace(string(raw), "path = "+strconv.Quote(first), key+" = "+strconv.Quote(where), 1)
		return map[string]string{"TIDINGS_CONFIG": writeFile(t, dir, name, text)}
	}
	onMiddle := at("middle.toml", middle)
	last := filepath.Join(dir, "moved", "last.db") // a folder that is not there yet
	out2 := copyTo(onMiddle, last)
	t.Logf("first copy:\n%s", out1)
	for _, out := range []string{out1, out2} {
		if !strings.Contains(out, "every table verified") || regexp.MustCompile(`\bNO\b`).MatchString(out) {
			t.Errorf("db copy:\n%s", out)
		}
	}
	table := func(out string) string { return out[:strings.LastIndex(strings.TrimSpace(out), "\n")] }
	if table(out1) != table(out2) {
		t.Errorf("the two legs differ in rows or checksums:\n%s\n%s", out1, out2)
	}
	lastDump := dumpSQLite(t, last)
	if !reflect.DeepEqual(sortedKeys(firstDump), sortedKeys(lastDump)) {
		t.Fatalf("tables %v, then %v", sortedKeys(firstDump), sortedKeys(lastDump))
	}
	for name, rows := range firstDump {
		if !reflect.DeepEqual(rows, lastDump[name]) {
			t.Errorf("table %s differs after the round trip:\n%v\n%v", name, rows, lastDump[name])
		}
	}

	// What an operator sees is the same on the copy, and the token in a
	// mail sent before the copy unsubscribes on it.
	onLast := at("last.toml", last)
	for _, args := range [][]string{{"editions", "show", "1"}, {"subscribers", "list"}, {"inbound", "list"}, {"admin", "list"}} {
		if a, b := mustRun(args...), mustRunner(t, onLast)(args...); a != b {
			t.Errorf("%v differs on the copy:\n%s\n%s", args, a, b)
		}
	}
	msg, err := mail.ReadMessage(strings.NewReader(string(byRcpt["di@example.com"].Data)))
	if err != nil {
		t.Fatal(err)
	}
	unsub, err := url.Parse(unsubscribeURL(t, msg.Header.Get("List-Unsubscribe")))
	if err != nil {
		t.Fatal(err)
	}
	_, lastBase := serveForBrowser(t, onLast, nil)
	resp, body := postForm(t, lastBase+unsub.Path+"?"+unsub.RawQuery, url.Values{"List-Unsubscribe": {"One-Click"}})
	if resp.StatusCode != 200 {
		t.Fatalf("one-click unsubscribe on the copy: %d\n%s", resp.StatusCode, body)
	}
	db, err := database.Open(context.Background(), last)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var status string
	if err := db.Read.QueryRow(`SELECT status FROM subscribers WHERE email = 'di@example.com'`).Scan(&status); err != nil || status != "unsubscribed" {
		t.Errorf("di after the one-click on the copy: %q (%v)", status, err)
	}
}

// db copy refuses a target that holds data, naming the tables, and
// changes nothing there.
func TestCLI_DBCopyRefusesAUsedTarget(t *testing.T) {
	dir := t.TempDir()
	env, content := gazette(t, dir, 2525, "")
	writeFile(t, content, "a.md", "# A\n\nText.\n")
	mustRun := mustRunner(t, env)
	mustRun("ingest")
	mustRun("subscribers", "add", "ana@example.com")
	used := filepath.Join(dir, "used.db")
	mustRun("db", "copy", "--to", used)
	before := dumpSQLite(t, used)
	out, errs, code := run(t, env, "db", "copy", "--to", used)
	if code != 1 || !strings.Contains(errs, "not empty") || !strings.Contains(errs, "subscribers (1 row)") || !strings.Contains(errs, "articles (1 row)") {
		t.Errorf("db copy onto a used database exited %d:\n%s%s", code, out, errs)
	}
	if !reflect.DeepEqual(before, dumpSQLite(t, used)) {
		t.Error("the refused target changed")
	}
	if _, errs, code := run(t, env, "db", "copy", "--to", filepath.Join(dir, "t.db")); code != 1 || !strings.Contains(errs, "is the database copied from") {
		t.Errorf("db copy onto itself: %d %s", code, errs)
	}
	if _, errs, code := run(t, env, "db", "copy"); code != 2 || !strings.Contains(errs, "Usage: tidings db copy") {
		t.Errorf("db copy without --to: %d %s", code, errs)
	}
}

// dumpSQLite reads every table of an SQLite file (schema_migrations
// aside), each row's values in column order, the rows sorted.
func dumpSQLite(t *testing.T, path string) map[string][]string {
	t.Helper()
	db, err := database.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rows, err := db.Read.Query(`SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name != 'schema_migrations'`)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for rows.Next() {
		var n string
		rows.Scan(&n)
		names = append(names, n)
	}
	rows.Close()
	out := map[string][]string{}
	for _, n := range names {
		rows, err := db.Read.Query(`SELECT * FROM "` + n + `"`)
		if err != nil {
			t.Fatal(err)
		}
		cols, _ := rows.Columns()
		var all []string
		for rows.Next() {
			vals := make([]any, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			if err := rows.Scan(ptrs...); err != nil {
				t.Fatal(err)
			}
			all = append(all, fmt.Sprintf("%#v", vals))
		}
		rows.Close()
		sort.Strings(all)
		out[n] = all
	}
	return out
}
