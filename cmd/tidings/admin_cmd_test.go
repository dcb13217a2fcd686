package main

import (
	"context"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/tidings/tidings/internal/admin"
)

// withStdin runs f with standard input reading s, as a pipe (not a terminal).
func withStdin(t *testing.T, s string, f func()) {
	t.Helper()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	go func() {
		io.WriteString(w, s)
		w.Close()
	}()
	old := os.Stdin
	os.Stdin = r
	defer func() { os.Stdin = old; r.Close() }()
	f()
}

func TestCLI_Admin(t *testing.T) {
	dir := t.TempDir()
	cfg := writeFile(t, dir, "tidings.toml", "[database]\npath = \""+filepath.Join(dir, "t.db")+"\"\n")
	env := map[string]string{"TIDINGS_CONFIG": cfg}
	cmd := func(want int, stdin string, args ...string) string {
		t.Helper()
		var out, errs string
		var code int
		withStdin(t, stdin, func() { out, errs, code = run(t, env, args...) })
		if code != want {
			t.Fatalf("%v exited %d, want %d:\n%s%s", args, code, want, out, errs)
		}
		return out + errs
	}
	if out := cmd(0, "", "admin", "list"); !strings.Contains(out, "no admin accounts; create one with: tidings admin add EMAIL") {
		t.Errorf("list of none: %s", out)
	}
	if out := cmd(1, "", "admin", "add", "ana@example.org"); !strings.Contains(out, "not a terminal: pass the password with --password-stdin") {
		t.Errorf("add from a pipe without the flag: %s", out)
	}
	if out := cmd(1, "short\n", "admin", "add", "ana@example.org", "--password-stdin"); !strings.Contains(out, "needs at least 10") {
		t.Errorf("short password: %s", out)
	}
	if out := cmd(0, "first password\n", "admin", "add", "ana@example.org", "--password-stdin"); !strings.Contains(out, "added admin account ana@example.org") {
		t.Errorf("add: %s", out)
	}
	if out := cmd(1, "first password\n", "admin", "add", "ANA@example.org", "--password-stdin"); !strings.Contains(out, "exists") {
		t.Errorf("add twice: %s", out)
	}
	if out := cmd(0, "", "admin", "list"); !strings.Contains(out, "ana@example.org\tcreated ") || !strings.Contains(out, "0 sessions") {
		t.Errorf("list: %s", out)
	}
	if out := cmd(0, "second password\n", "admin", "passwd", "ana@example.org", "--password-stdin"); !strings.Contains(out, "its sessions ended") {
		t.Errorf("passwd: %s", out)
	}
	if out := cmd(1, "second password\n", "admin", "passwd", "bob@example.org", "--password-stdin"); !strings.Contains(out, "no such admin account") {
		t.Errorf("passwd of nobody: %s", out)
	}
	if out := cmd(0, "", "admin", "remove", "ana@example.org"); !strings.Contains(out, "removed admin account ana@example.org") {
		t.Errorf("remove: %s", out)
	}
	if out := cmd(1, "", "admin", "remove", "ana@example.org"); !strings.Contains(out, "no such admin account") {
		t.Errorf("remove twice: %s", out)
	}
	if out := cmd(0, "", "help", "admin", "add"); !strings.Contains(out, "--password-stdin") {
		t.Errorf("help: %s", out)
	}
}

// The admin is mounted in serve beside the API, which keeps its token.
func TestServe_AdminLogin(t *testing.T) {
	base, _, app := bootServeWith(t, func(c *Config) {
		c.HTTP.AdminToken = "api-token"
		c.DKIM = DKIMConfig{}
	})
	ctx := context.Background()
	if _, err := admin.NewStore(app.DB, nil).AddAccount(ctx, "ops@example.org", "operator password"); err != nil {
		t.Fatal(err)
	}
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar}
	get := func(path string) (*http.Response, string) {
		t.Helper()
		resp, err := c.Get(base + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp, string(b)
	}
	resp, body := get("/admin/settings")
	if resp.Request.URL.Path != "/admin/login" || resp.Request.URL.Query().Get("next") != "/admin/settings" {
		t.Fatalf("without a session: landed on %s", resp.Request.URL)
	}
	csrf := regexp.MustCompile(`name="csrf" value="([^"]+)"`).FindStringSubmatch(body)
	if csrf == nil {
		t.Fatalf("no csrf on the login page: %s", body)
	}
	resp, err := c.PostForm(base+"/admin/login", url.Values{"csrf": {csrf[1]}, "email": {"ops@example.org"},
		"password": {"operator password"}, "next": {"/admin/settings"}})
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || resp.Request.URL.Path != "/admin/settings" {
		t.Fatalf("login landed on %s (%d): %s", resp.Request.URL, resp.StatusCode, b)
	}
	for _, want := range []string{"admin_token = &#39;********&#39;", "_dmarc.example.org", "v=spf1 mx ~all"} {
		if !strings.Contains(string(b), want) {
			t.Errorf("settings lack %q", want)
		}
	}
	if strings.Contains(string(b), "api-token") {
		t.Error("settings show the API token")
	}
	if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "frame-ancestors 'none'") || strings.Contains(csp, "unsafe-inline") {
		t.Errorf("admin CSP %q", csp)
	}
	if resp, _ := get("/admin/"); resp.StatusCode != 200 {
		t.Errorf("dashboard: %d", resp.StatusCode)
	}
	// The API answers its token, not the admin's cookie.
	if resp, _ := get("/api/v1/articles"); resp.StatusCode != 401 {
		t.Errorf("API with an admin cookie and no token: %d", resp.StatusCode)
	}
	req, _ := http.NewRequest("GET", base+"/api/v1/articles", nil)
	req.Header.Set("Authorization", "Bearer api-token")
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != 200 {
		t.Errorf("API with its token: %v %v", resp, err)
	}
}

func TestDNSRecords(t *testing.T) {
	cfg := Default()
	cfg.Site.Email = "news@example.org"
	cfg.Inbound.Domain = "bounce.example.org"
	cfg.SMTP.Host = "smtp.relay.example"
	cfg.Inbound.SMTPListen = "0.0.0.0:25"
	cfg.Site.BaseURL = "https://news.example.org"
	got := dnsRecords(cfg, func() [][2]string { return [][2]string{{"s1._domainkey.example.org", "v=DKIM1; k=rsa; p=AAA"}} })
	var lines []string
	for _, r := range got {
		lines = append(lines, r.Name+" "+r.Type+" "+r.Value)
	}
	want := []string{
		"bounce.example.org TXT v=spf1 a:smtp.relay.example ~all",
		"s1._domainkey.example.org TXT v=DKIM1; k=rsa; p=AAA",
		"_dmarc.example.org TXT v=DMARC1; p=none; rua=mailto:news@example.org",
		"bounce.example.org MX 10 news.example.org.",
	}
	if strings.Join(lines, "\n") != strings.Join(want, "\n") {
		t.Errorf("records:\n%s\nwant:\n%s", strings.Join(lines, "\n"), strings.Join(want, "\n"))
	}
}
