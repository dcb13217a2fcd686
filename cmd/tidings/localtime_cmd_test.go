package main

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tidings/tidings/mail"
)

// An operator's local-time digest: subscribers in two zones and one in
// the site's, digest send plans the edition and sends nothing before each
// one's hour (exit 75: deliveries left for later), and editions show says
// how many wait for which hour.
func TestCLI_DeliverAtLocalTime(t *testing.T) {
	sink := newSMTPSink(t)
	dir := t.TempDir()
	content := filepath.Join(dir, "content")
	writeFile(t, content, "bridge.md", "---\ntitle: Bridge opens\ndate: 2026-11-20 08:30\n---\n\nThe new bridge opened on Friday.\n")
	cfg := writeFile(t, dir, "tidings.toml", fmt.Sprintf(`
[site]
email = "news@gazette.example.org"
timezone = "Asia/Tokyo"
[database]
path = %q
[content]
dirs = [%q]
[smtp]
host = "127.0.0.1"
port = %d
tls = "none"
[[digests]]
name = "daily"
schedule = "0 5 * * *"
deliver_at = "local 07:00"
`, filepath.Join(dir, "t.db"), content, sink.Addr.Port))
	env := map[string]string{"TIDINGS_CONFIG": cfg}
	mustRun := func(want int, args ...string) string {
		t.Helper()
		out, errs, code := run(t, env, args...)
		if code != want {
			t.Fatalf("%v exited %d, want %d:\n%s%s", args, code, want, out, errs)
		}
		return out + errs
	}
	mustRun(0, "ingest")
	mustRun(0, "subscribers", "add", "ana@example.org", "--timezone", "Europe/Berlin")
	mustRun(0, "subscribers", "add", "bo@example.org", "--timezone", "America/New_York")
	mustRun(0, "subscribers", "add", "cy@example.org")
	if _, errs, code := run(t, env, "subscribers", "add", "dan@example.org", "--timezone", "Mars/Olympus"); code == 0 ||
		!strings.Contains(errs, `timezone: "Mars/Olympus" is not a time zone`) {
		t.Errorf("add with Mars/Olympus exited %d: %s", code, errs)
	}
	if out := mustRun(0, "subscribers", "list"); strings.Contains(out, "dan@") {
		t.Errorf("refused add stored the address:\n%s", out)
	}
	if out := mustRun(0, "subscribers", "show", "bo@example.org"); !strings.Contains(out, "Timezone: America/New_York") {
		t.Errorf("show:\n%s", out)
	}

	lt := mail.LocalTime{Set: true, Hour: 7}
	hours := func(now time.Time) []string {
		var hs []string
		for _, z := range []string{"Europe/Berlin", "America/New_York", "Asia/Tokyo"} {
			loc, _ := time.LoadLocation(z)
			hs = append(hs, lt.Next(now, loc).Truncate(time.Hour).In(loc).Format("2006-01-02 15:04 -07:00"))
		}
		return hs
	}
	before := hours(time.Now())
	out := mustRun(75, "digest", "send", "daily")
	if !strings.Contains(out, "edition 1") || sink.count() != 0 {
		t.Errorf("send (%d mails):\n%s", sink.count(), out)
	}
	out = mustRun(0, "editions", "show", "1")
	if after := hours(time.Now()); strings.Join(after, ",") != strings.Join(before, ",") {
		t.Skip("07:00 came in one of the zones during the test")
	}
	t.Logf("editions show:\n%s", out)
	if !strings.Contains(out, "Queued, by the hour they are due:") || !strings.Contains(out, "queued 3") || strings.Contains(out, "retried") {
		t.Fatalf("editions show:\n%s", out)
	}
	tokyo, _ := time.LoadLocation("Asia/Tokyo")
	for _, h := range before {
		// Printed in the site's zone.
		at, _ := time.Parse("2006-01-02 15:04 -07:00", h)
		if line := "  " + at.In(tokyo).Format("2006-01-02 15:04 -07:00") + "  1"; !strings.Contains(out, line) {
			t.Errorf("editions show lacks %q:\n%s", line, out)
		}
	}
}
