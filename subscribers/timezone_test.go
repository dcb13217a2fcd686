package subscribers

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"net/url"
	"regexp"
	"strings"
	"testing"
)

func TestParseTimeZone(t *testing.T) {
	for _, tt := range []struct {
		in, want string
		ok       bool
	}{
		{"", "", true},
		{"  Europe/Berlin ", "Europe/Berlin", true},
		{"America/New_York", "America/New_York", true},
		{"UTC", "UTC", true},
		{"Mars/Olympus", "", false},
		{"Local", "", false}, // the server's zone, not the subscriber's
		{"../../etc/passwd", "", false},
		{"/etc/localtime", "", false},
		{"europe/berlin", "", false}, // the database is case-sensitive on Linux
		{strings.Repeat("A", 65), "", false},
		{"Europe/Berlin\x00", "", false},
		{"\xff", "", false},
	} {
		got, err := ParseTimeZone(tt.in)
		if tt.ok != (err == nil) || got != tt.want {
			t.Errorf("ParseTimeZone(%q) = %q, %v", tt.in, got, err)
		}
		var fe *FieldError
		if err != nil && (!errors.As(err, &fe) || fe.Field != "timezone" || !errors.Is(err, ErrInvalidZone)) {
			t.Errorf("ParseTimeZone(%q): error %v does not name the field", tt.in, err)
		}
	}
	_, err := ParseTimeZone("Mars/Olympus")
	if want := `timezone: "Mars/Olympus" is not a time zone`; err == nil || !strings.HasPrefix(err.Error(), want) {
		t.Errorf("error %q, want it to start %q", err, want)
	}
}

func FuzzParseTimeZone(f *testing.F) {
	for _, s := range []string{"", "Europe/Berlin", "Mars/Olympus", "Local", "../x", "Etc/GMT+5", "\xff"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		z, err := ParseTimeZone(s)
		if err != nil {
			return
		}
		// What passes is stored and later loaded by the planner: it must
		// load, and check again to itself.
		if again, err := ParseTimeZone(z); err != nil || again != z {
			t.Fatalf("ParseTimeZone(%q) = %q, then %q, %v", s, z, again, err)
		}
	})
}

// TestSignUp_TimeZone signs up over real HTTP, as a browser that ran the
// form's script would, and as one that did not or that forged the field.
func TestSignUp_TimeZone(t *testing.T) {
	e := newHandlerEnv(t, "")
	e.h.perIP = newLimiter(1<<30, 1, e.clock.Now) // one client signs up many times
	ctx := context.Background()

	// The form carries the hidden field and the script, and the policy
	// allows exactly that script by its hash.
	resp, page := do(t, "GET", e.srv.URL+"/subscribe", "", "")
	if resp.StatusCode != 200 || !strings.Contains(page, `<input type="hidden" id="timezone" name="timezone" value="">`) {
		t.Fatalf("form %d:\n%s", resp.StatusCode, page)
	}
	scripts := regexp.MustCompile(`(?s)<script>(.*?)</script>`).FindAllStringSubmatch(page, -1)
	if len(scripts) != 1 || !strings.Contains(scripts[0][1], "resolvedOptions().timeZone") {
		t.Fatalf("scripts on the form: %q", scripts)
	}
	sum := sha256.Sum256([]byte(scripts[0][1]))
	hash := "script-src 'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "';"
	if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, hash) {
		t.Errorf("CSP %q does not allow the form's script (%s)", csp, hash)
	}
	if strings.Index(page, `id="timezone"`) > strings.Index(page, "<script>") {
		t.Error("the script runs before the field it fills exists")
	}

	post := func(email, zone string) {
		t.Helper()
		form := url.Values{"email": {email}}
		if zone != "-" {
			form.Set("timezone", zone)
		}
		resp, body := do(t, "POST", e.srv.URL+"/subscribe", formType, form.Encode())
		if resp.StatusCode != 200 {
			t.Fatalf("sign-up %s with zone %q: %d\n%s", email, zone, resp.StatusCode, body)
		}
	}
	for _, tt := range []struct{ email, zone, want string }{
		{"berlin@example.org", "Europe/Berlin", "Europe/Berlin"},
		{"nojs@example.org", "", ""},
		{"oldform@example.org", "-", ""}, // a template without the field
		{"mars@example.org", "Mars/Olympus", ""},
		{"path@example.org", "../../../../etc/passwd", ""},
		{"local@example.org", "Local", ""},
		{"long@example.org", strings.Repeat("Europe/", 200), ""},
	} {
		post(tt.email, tt.zone)
		if got := e.byEmail(t, tt.email); got.TimeZone != tt.want {
			t.Errorf("%s signed up with zone %q: stored %q, want %q", tt.email, tt.zone, got.TimeZone, tt.want)
		}
	}

	// Pending and signing up again from another browser: the new zone;
	// with none, the old one stays.
	post("berlin@example.org", "America/New_York")
	post("berlin@example.org", "")
	if got := e.byEmail(t, "berlin@example.org"); got.TimeZone != "America/New_York" {
		t.Errorf("pending again: zone %q", got.TimeZone)
	}
	// Confirmed: a sign-up with someone else's address changes nothing.
	c := e.withStatus(t, "conf@example.org", StatusConfirmed)
	post("conf@example.org", "Asia/Tokyo")
	if got := e.get(t, c.ID); got.TimeZone != "" {
		t.Errorf("a sign-up changed a confirmed subscriber's zone to %q", got.TimeZone)
	}

	// JSON takes the same field, and forged is the site's zone there too.
	for zone, want := range map[string]string{"Asia/Tokyo": "Asia/Tokyo", "Mars/Olympus": ""} {
		email := "json-" + strings.ReplaceAll(zone, "/", "-") + "@example.org"
		resp, body := do(t, "POST", e.srv.URL+"/subscribe", "application/json",
			`{"email":"`+email+`","timezone":"`+zone+`"}`, "Accept", "application/json")
		if resp.StatusCode != 202 {
			t.Fatalf("JSON sign-up %d %s", resp.StatusCode, body)
		}
		if got, err := e.store.GetByEmail(ctx, strings.ToLower(email)); err != nil || got.TimeZone != want {
			t.Errorf("JSON sign-up with %q: %+v %v", zone, got, err)
		}
	}
}

func TestPreferences_TimeZone(t *testing.T) {
	e := newHandlerEnv(t, "")
	s := e.withStatus(t, "bo@example.org", StatusConfirmed)
	u := e.h.links.PreferencesURL(s)

	resp, page := do(t, "GET", u, "", "")
	if resp.StatusCode != 200 || !strings.Contains(page, `name="timezone" value=""`) || strings.Contains(page, "<script") {
		t.Fatalf("GET %d:\n%s", resp.StatusCode, page)
	}
	form := url.Values{"name": {"Bo"}, "digests": {"daily"}, "timezone": {"Mars/Olympus"}, "action": {"save"}}
	resp, page = do(t, "POST", u, formType, form.Encode())
	if resp.StatusCode != 422 || !strings.Contains(page, "is not a time zone") || !strings.Contains(page, `value="Mars/Olympus"`) {
		t.Errorf("bad zone %d:\n%s", resp.StatusCode, page)
	}
	if got := e.get(t, s.ID); got.Name != "" || got.TimeZone != "" || len(got.Digests) != 2 {
		t.Errorf("a refused form saved something: %+v", got)
	}

	form.Set("timezone", "America/New_York")
	resp, page = do(t, "POST", u, formType, form.Encode())
	if resp.StatusCode != 200 || !strings.Contains(page, "Saved.") || !strings.Contains(page, `value="America/New_York"`) {
		t.Fatalf("save %d:\n%s", resp.StatusCode, page)
	}
	if got := e.get(t, s.ID); got.Name != "Bo" || got.TimeZone != "America/New_York" {
		t.Errorf("saved %+v", got)
	}
	evs := e.events(t, s.ID)
	if last := evs[len(evs)-1]; last.Kind != EventPreferences || last.Detail != `time zone "" -> "America/New_York"` {
		t.Errorf("last event %+v", last)
	}
	// Emptied: back to the site's zone.
	form.Set("timezone", "")
	do(t, "POST", u, formType, form.Encode())
	if got := e.get(t, s.ID); got.TimeZone != "" {
		t.Errorf("emptied zone is %q", got.TimeZone)
	}
}

func TestImport_TimeZone(t *testing.T) {
	e := newStoreEnv(t)
	ctx := context.Background()
	old := e.withStatus(t, "old@example.org", StatusConfirmed)
	if _, err := e.store.SetTimeZone(ctx, old.ID, "Asia/Tokyo", operatorMeta); err != nil {
		t.Fatal(err)
	}
	data := "email,timezone\n" +
		"ny@example.org,America/New_York\n" + // line 2
		"mars@example.org,Mars/Olympus\n" + // line 3: skipped
		"none@example.org,\n" + // line 4: the site's zone
		"old@example.org,Europe/Berlin\n" // line 5: updated
	res, err := e.store.Import(ctx, strings.NewReader(data), ImportOptions{Confirmed: true}, Meta{Route: "import"})
	if err != nil {
		t.Fatal(err)
	}
	if res.Added != 2 || res.Updated != 1 || res.Skipped != 1 || len(res.Errors) != 1 {
		t.Fatalf("import %+v", res)
	}
	if re := res.Errors[0]; re.Line != 3 || re.Error() != `line 3: timezone: "Mars/Olympus" is not a time zone (use an IANA name like Europe/Berlin, or leave it empty for the site's zone)` {
		t.Errorf("row error %q", re.Error())
	}
	if _, err := e.store.GetByEmail(ctx, "mars@example.org"); !errors.Is(err, ErrNotFound) {
		t.Errorf("the row with a bad zone was stored: %v", err)
	}
	for email, want := range map[string]string{"ny@example.org": "America/New_York", "none@example.org": "", "old@example.org": "Europe/Berlin"} {
		if got := e.byEmail(t, email); got.TimeZone != want {
			t.Errorf("%s: zone %q, want %q", email, got.TimeZone, want)
		}
	}
	// An empty cell keeps the stored zone.
	res, _ = e.store.Import(ctx, strings.NewReader("email,timezone\nold@example.org,\n"), ImportOptions{}, Meta{Route: "import"})
	if res.Skipped != 1 || e.byEmail(t, "old@example.org").TimeZone != "Europe/Berlin" {
		t.Errorf("empty cell: %+v, zone %q", res, e.byEmail(t, "old@example.org").TimeZone)
	}
}

func TestAPI_TimeZone(t *testing.T) {
	e := newHandlerEnv(t, "tok")
	api := e.srv.URL + "/api/v1/subscribers"
	auth := []string{"Authorization", "Bearer tok"}
	resp, body := do(t, "POST", api, "application/json", `{"email":"a@example.org","timezone":"Europe/Berlin"}`, auth...)
	if resp.StatusCode != 201 || !strings.Contains(body, `"timezone":"Europe/Berlin"`) {
		t.Fatalf("create %d %s", resp.StatusCode, body)
	}
	resp, body = do(t, "POST", api, "application/json", `{"email":"b@example.org","timezone":"Mars/Olympus"}`, auth...)
	if resp.StatusCode != 422 || !strings.Contains(body, `"field":"timezone"`) || !strings.Contains(body, "Mars/Olympus") {
		t.Errorf("bad zone on create %d %s", resp.StatusCode, body)
	}
	if _, err := e.store.GetByEmail(context.Background(), "b@example.org"); !errors.Is(err, ErrNotFound) {
		t.Errorf("refused create stored the address: %v", err)
	}
	id := e.byEmail(t, "a@example.org").ID
	resp, body = do(t, "PATCH", api+"/"+itoa(int(id)), "application/json", `{"name":"A","timezone":"Mars/Olympus"}`, auth...)
	if resp.StatusCode != 422 || !strings.Contains(body, `"field":"timezone"`) || e.get(t, id).Name != "" {
		t.Errorf("bad zone on update %d %s", resp.StatusCode, body)
	}
	resp, body = do(t, "PATCH", api+"/"+itoa(int(id)), "application/json", `{"timezone":"America/New_York"}`, auth...)
	if resp.StatusCode != 200 || !strings.Contains(body, `"timezone":"America/New_York"`) {
		t.Errorf("update %d %s", resp.StatusCode, body)
	}
}
