package main

import (
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/pelletier/go-toml/v2"
)

func noEnv(string) string { return "" }

func writeFile(t testing.TB, dir, name, content string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// The example file documents the defaults: loading it must give exactly
// what no file at all gives.
func TestLoadConfig_ExampleIsTheDefaults(t *testing.T) {
	got, err := LoadConfig("../../config.example.toml", noEnv)
	if err != nil {
		t.Fatal(err)
	}
	want := Default()
	want.File = "../../config.example.toml"
	skip, catch := true, true
	want.Digests[0].SkipEmpty, want.Digests[0].CatchUp = &skip, &catch
	if !reflect.DeepEqual(got, want) {
		t.Errorf("config.example.toml differs from Default():\n got %+v\nwant %+v", got, want)
	}
}

func TestLoadConfig_Errors(t *testing.T) {
	tests := []struct {
		name, toml string
		want       []string // all must appear in the error
	}{
		{"unknown key", "[site]\ntitle = \"x\"\ncolour = \"red\"\n", []string{"line 3", "site.colour"}},
		{"unknown table", "[sight]\ntitle = \"x\"\n", []string{"line 1", "sight"}},
		{"unknown digest key", "[[digests]]\nname = \"d\"\nschedule = \"0 7 * * *\"\nmax_articles = 5\ntagz = []\n", []string{"line 5", "digests.tagz"}},
		{"max bytes", "[content]\nmax_bytes = 0\n", []string{"content.max_bytes: must be positive"}},
		{"bad duration", "[content]\npoll = \"soon\"\n", []string{"line 2", "not a duration"}},
		{"bad timezone", "[site]\ntimezone = \"Mars/Olympus\"\n", []string{"site.timezone", "Mars/Olympus"}},
		{"relative base url", "[site]\nbase_url = \"/news\"\n", []string{"site.base_url", "absolute"}},
		{"bad tls", "[smtp]\ntls = \"maybe\"\n", []string{"smtp.tls", "starttls, tls or none"}},
		{"bad log level", "[log]\nlevel = \"loud\"\n", []string{"log.level"}},
		{"wrong type", "[feeds]\nitems = \"many\"\n", []string{"line 2"}},
		{"unknown mode", "[[digests]]\nname = \"d\"\nschedule = \"0 7 * * *\"\nmode = \"weekly\"\n", []string{"digests[0].mode", "weekly"}},
		{"each with a schedule", "[[digests]]\nname = \"d\"\nschedule = \"0 7 * * *\"\nmode = \"each\"\n", []string{"digests[0].schedule", "not used with mode"}},
		{"each without delay", "[[digests]]\nname = \"d\"\nmode = \"each\"\ndelay = \"0s\"\n", []string{"digests[0].delay: must be positive"}},
		{"second dkim key alone", "[dkim]\nsecond_selector = \"ed\"\n", []string{"second_selector and second_key_file go together"}},
		{"second dkim key without the first", "[dkim]\nsecond_selector = \"ed\"\nsecond_key_file = \"k.pem\"\n", []string{"dkim.second_key_file", "set domain, selector and key_file first"}},
		{"second dkim selector repeated", "[dkim]\ndomain = \"example.org\"\nselector = \"s\"\nkey_file = \"a.pem\"\nsecond_selector = \"s\"\nsecond_key_file = \"b.pem\"\n", []string{"dkim.second_selector", "each key needs its own"}},
		{"item cap", "[feeds]\nmax_item_bytes = 0\n", []string{"feeds.max_item_bytes: must be positive"}},
		{"two errors", "[feeds]\nitems = -1\n[smtp]\nconnections = 0\n", []string{"feeds.items", "smtp.connections"}},
		{"digest name", "[[digests]]\nname = \"Daily News\"\nschedule = \"0 7 * * *\"\nmax_articles = 5\n", []string{"digests[0].name"}},
		{"duplicate digest", "[[digests]]\nname = \"d\"\nschedule = \"0 7 * * *\"\nmax_articles = 5\n[[digests]]\nname = \"d\"\nschedule = \"0 8 * * *\"\nmax_articles = 5\n", []string{"digests[1].name", "used by another"}},
		{"dkim partial", "[dkim]\ndomain = \"example.org\"\n", []string{"dkim:"}},
		{"source regexp", "[[sources]]\nname = \"p\"\nurl = \"https://example.com/f\"\ninclude = \"(\"\n", []string{"sources[0].include"}},
		{"not toml", "this is not toml\n", []string{"line 1"}},
		{"domain limit", "[[smtp.domain_limits]]\ndomains = [\"gmail\"]\nrate = 5\n", []string{"smtp.domain_limits", `"gmail" is not a domain`}},
		{"domain limit rate", "[[smtp.domain_limits]]\ndomains = [\"a.com\"]\nrate = -5\n", []string{"smtp.domain_limits", "rate -5 is negative"}},
		{"daily limit", "[smtp]\ndaily_limit = -1\n", []string{"smtp.daily_limit"}},
		{"sns topic", "[inbound.webhooks]\nses_topic_arns = [\"arn:aws:sns:eu-west-1:1:x\"]\n", []string{"inbound.webhooks.ses_topic_arns[0]", "not an SNS topic ARN"}},
		{"sendgrid key", "[inbound.webhooks]\nsendgrid_public_key = \"aGVsbG8=\"\n", []string{"inbound.webhooks.sendgrid_public_key"}},
		{"postmark user alone", "[inbound.webhooks]\npostmark_username = \"pm\"\n", []string{"inbound.webhooks.postmark_username", "without a password"}},
		{"webhook secret file", "[inbound.webhooks]\nmailgun_signing_key_file = \"/nonexistent/mailgun.key\"\n", []string{"inbound.webhooks.mailgun_signing_key_file", "no such file"}},
		{"webhook max_bytes", "[inbound.webhooks]\nmax_bytes = 0\n", []string{"inbound.webhooks.max_bytes"}},
		{"imap clear text to another host", "[inbound.imap]\nhost = \"imap.example.org\"\ntls = \"none\"\nusername = \"b\"\n", []string{"inbound.imap.tls", "only a loopback host", "imap.example.org"}},
		{"imap password variable not named", "[inbound.imap]\nhost = \"imap.example.org\"\nusername = \"b\"\npassword_env = \"\"\n", []string{"inbound.imap.password_env", "must name the environment variable"}},
		{"imap without a user", "[inbound.imap]\nhost = \"127.0.0.1\"\ntls = \"none\"\n", []string{"inbound.imap.username"}},
		{"imap tls", "[inbound.imap]\nhost = \"127.0.0.1\"\ntls = \"ssl\"\n", []string{"inbound.imap.tls", "implicit, starttls or none"}},
		{"imap folders", "[inbound.imap]\nhost = \"::1\"\nprocessed_folder = \"INBOX\"\nevery = \"10ms\"\n", []string{"inbound.imap.processed_folder", "inbound.imap.every"}},
		{"imap unknown key", "[inbound.imap]\nuser = \"b\"\n", []string{"inbound.imap.user"}},
		{"database url without a database", "[database]\nurl = \"postgres://tidings:pw@db.example.org:5432\"\n", []string{"database.url", "names no database", "postgres://user@host/tidings"}},
		{"database url not postgres", "[database]\nurl = \"mysql://db.example.org/tidings\"\n", []string{"database.url", "must start with postgres://"}},
		{"database url that does not parse", "[database]\nurl = \"postgres://db.example.org:port/tidings\"\n", []string{"database.url"}},
		{"database url in path", "[database]\npath = \"postgres://db.example.org/tidings\"\n", []string{"database.path", "set it as database.url"}},
		{"database path empty", "[database]\npath = \"\"\n", []string{"database.path: must not be empty"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := writeFile(t, t.TempDir(), "tidings.toml", tt.toml)
			_, err := LoadConfig(p, noEnv)
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
			if !strings.Contains(err.Error(), p) {
				t.Errorf("error %q does not name the file", err)
			}
		})
	}
}

func TestLoadConfig_OverridesAndSecrets(t *testing.T) {
	p := writeFile(t, t.TempDir(), "tidings.toml", `
[site]
title = "Local Paper"
[content]
poll = "30s"
[smtp]
password = "from-file"
[inbound.imap]
host = "imap.example.org"
username = "bounces"
password_env = "MAILBOX_PW"
[[digests]]
name = "weekly"
schedule = "CRON_TZ=Europe/Berlin 0 7 * * 1"
max_articles = 10
`)
	env := map[string]string{"TIDINGS_SMTP_PASSWORD": "from-env", "TIDINGS_ADMIN_TOKEN": "tok", "TIDINGS_SECRET": "s3cret", "MAILBOX_PW": "imap-pw"}
	cfg, err := LoadConfig(p, func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Site.Title != "Local Paper" || cfg.Site.Language != "en" {
		t.Errorf("site = %+v: file value and default should both apply", cfg.Site)
	}
	if cfg.Content.Poll.Duration != 30*time.Second {
		t.Errorf("poll = %v", cfg.Content.Poll)
	}
	if len(cfg.Digests) != 1 || cfg.Digests[0].Name != "weekly" {
		t.Errorf("digests = %+v: the file's digests replace the default one", cfg.Digests)
	}
	if cfg.SMTP.Password != "from-env" || cfg.HTTP.AdminToken != "tok" || cfg.Secret != "s3cret" {
		t.Errorf("secrets from the environment not applied: %q %q %q", cfg.SMTP.Password, cfg.HTTP.AdminToken, cfg.Secret)
	}
	if cfg.Inbound.IMAP.Password != "imap-pw" {
		t.Errorf("imap password from inbound.imap.password_env: %q", cfg.Inbound.IMAP.Password)
	}
	m := cfg.Masked()
	if m.Inbound.IMAP.Password == "imap-pw" {
		t.Error("config check would print the imap password")
	}
	if m.SMTP.Password == "from-env" || m.HTTP.AdminToken == "tok" || m.Secret == "s3cret" {
		t.Error("Masked left a secret in clear")
	}
	if cfg.SMTP.Password != "from-env" {
		t.Error("Masked changed the original")
	}
}

// database.url comes from the file or TIDINGS_DATABASE_URL, wins over
// path, and config check never prints its password.
func TestLoadConfig_DatabaseURL(t *testing.T) {
	p := writeFile(t, t.TempDir(), "tidings.toml", "[database]\nurl = \"postgres://news:in-file@127.0.0.1:5432/news\"\n")
	cfg, err := LoadConfig(p, noEnv)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Database.Where() != "postgres://news:in-file@127.0.0.1:5432/news" || cfg.Database.SQLite() {
		t.Errorf("where = %q: the url wins over the default path", cfg.Database.Where())
	}
	env := map[string]string{"TIDINGS_DATABASE_URL": "postgres://news:from-env@127.0.0.1/news2?sslmode=disable"}
	cfg, err = LoadConfig(p, func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Database.URL != env["TIDINGS_DATABASE_URL"] {
		t.Errorf("url = %q, want the environment's", cfg.Database.URL)
	}
	b, err := toml.Marshal(cfg.Masked())
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(b), "from-env") || !strings.Contains(string(b), "postgres://news:xxxxx@127.0.0.1/news2") {
		t.Errorf("config check prints:\n%s", b)
	}
	if err := os.Chmod(p, 0o644); err != nil {
		t.Fatal(err)
	}
	if w := strings.Join(cfg.Warnings(p), "\n"); !strings.Contains(w, "a password in database.url") {
		t.Errorf("a config file others read holds the database password, warnings:\n%s", w)
	}
}

// The webhook secrets come from the file, the environment or a file of
// their own, and config check never prints them.
func TestLoadConfig_WebhookSecrets(t *testing.T) {
	dir := t.TempDir()
	keyFile := writeFile(t, dir, "mailgun.key", "key-from-file\n")
	p := writeFile(t, dir, "tidings.toml", fmt.Sprintf(`
[inbound.webhooks]
ses_topic_arns = ["arn:aws:sns:eu-west-1:123456789012:ses-returns"]
postmark_username = "postmark"
postmark_password = "pm-from-toml"
mailgun_signing_key_file = %q
`, keyFile))
	env := map[string]string{"TIDINGS_POSTMARK_PASSWORD": "pm-from-env"}
	cfg, err := LoadConfig(p, func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	w := cfg.Inbound.Webhooks
	if w.PostmarkPassword != "pm-from-env" || w.MailgunSigningKey != "key-from-file" {
		t.Errorf("postmark %q, mailgun %q", w.PostmarkPassword, w.MailgunSigningKey)
	}
	m := cfg.Masked().Inbound.Webhooks
	if m.PostmarkPassword != "********" || m.MailgunSigningKey != "********" || m.PostmarkUsername != "postmark" {
		t.Errorf("masked: %+v", m)
	}
}

func TestConfigPath(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	if got := configPath("", noEnv); got != "" {
		t.Errorf("no file: %q, want the defaults", got)
	}
	writeFile(t, dir, "tidings.toml", "")
	if got := configPath("", noEnv); got != "tidings.toml" {
		t.Errorf("got %q, want ./tidings.toml", got)
	}
	env := func(k string) string {
		if k == "TIDINGS_CONFIG" {
			return "/etc/env.toml"
		}
		return ""
	}
	if got := configPath("", env); got != "/etc/env.toml" {
		t.Errorf("got %q, want TIDINGS_CONFIG", got)
	}
	if got := configPath("/x.toml", env); got != "/x.toml" {
		t.Errorf("got %q, want --config", got)
	}
}

// A file's [[digests]] replace the default digest whole: nothing of the
// default leaks into them. A file without any keeps the default.
func TestLoadConfig_DigestsReplaceDefault(t *testing.T) {
	p := writeFile(t, t.TempDir(), "t.toml", "[[digests]]\nname = \"weekly\"\nschedule = \"0 8 * * 1\"\nmax_articles = 5\n")
	cfg, err := LoadConfig(p, noEnv)
	if err != nil {
		t.Fatal(err)
	}
	if len(cfg.Digests) != 1 || cfg.Digests[0].Title != "" || cfg.Digests[0].Name != "weekly" {
		t.Errorf("digests = %+v", cfg.Digests)
	}
	p = writeFile(t, t.TempDir(), "t.toml", "[site]\ntitle = \"Mine\"\n")
	if cfg, err = LoadConfig(p, noEnv); err != nil || len(cfg.Digests) != 1 || cfg.Digests[0].Name != "daily" {
		t.Errorf("no [[digests]] in the file: %+v %v", cfg.Digests, err)
	}
	// A table without max_articles takes the documented default; an
	// explicit 0 is refused, naming the field.
	p = writeFile(t, t.TempDir(), "t.toml", "[[digests]]\nname = \"weekly\"\nschedule = \"0 8 * * 1\"\n")
	if cfg, err = LoadConfig(p, noEnv); err != nil || cfg.Digests[0].MaxArticles != 20 {
		t.Errorf("a digest without max_articles: %+v %v; want the default 20", cfg.Digests, err)
	}
	p = writeFile(t, t.TempDir(), "t.toml", "[[digests]]\nname = \"weekly\"\nschedule = \"0 8 * * 1\"\nmax_articles = 0\n")
	if _, err = LoadConfig(p, noEnv); err == nil || !strings.Contains(err.Error(), "digests[0].max_articles") {
		t.Errorf("max_articles = 0: %v; want an error naming it", err)
	}
}

func TestValidate_BadSchedulesNameTheDigest(t *testing.T) {
	for _, spec := range []string{"0 7 * *", "CRON_TZ=UTC", "CRON_TZ=Mars/Base 0 7 * * *", "61 * * * *", "", "@fortnightly"} {
		t.Run(fmt.Sprintf("%q", spec), func(t *testing.T) {
			cfg := Default()
			cfg.Digests[0].Schedule = spec
			verr := cfg.Validate()
			if verr == nil {
				t.Fatalf("Validate accepted schedule %q", spec)
			}
			want := []string{"digests[0].schedule"}
			if spec != "" {
				// An empty spec gets "must not be empty", which the
				// field's index already ties to its digest.
				want = append(want, "digest daily", fmt.Sprintf("%q", spec))
			}
			for _, w := range want {
				if !strings.Contains(verr.Error(), w) {
					t.Errorf("Validate error %q lacks %q", verr, w)
				}
			}
		})
	}
}

func TestConfig_Warnings(t *testing.T) {
	dir := t.TempDir()
	secret := writeFile(t, dir, "secret.toml", "[http]\nadmin_token = \"s3cret\"\n")
	if err := os.Chmod(secret, 0o644); err != nil {
		t.Fatal(err)
	}
	plain := writeFile(t, dir, "plain.toml", "[site]\ntitle = \"Mine\"\n")
	if err := os.Chmod(plain, 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name      string
		path      string
		configure func(*Config)
		want      []string // substrings of some warning; nil: no warning at all
	}{
		{"secrets in a file others read", secret, nil, []string{"secret.toml holds secrets", "chmod 600"}},
		{"no secrets in it: fine", plain, nil, nil},
		{"empty postal address", "", func(c *Config) { c.Site.PostalAddress = "" }, []string{"site.postal_address is empty"}},
		{"base_url on another port", "", func(c *Config) { c.HTTP.Listen = "127.0.0.1:9090" },
			[]string{`site.base_url "http://127.0.0.1:8080" points at this machine but not at http.listen "127.0.0.1:9090"`}},
		{"imap password not in the environment", "", func(c *Config) { c.Inbound.IMAP.Host, c.Inbound.IMAP.Username = "imap.example.org", "bounces" },
			[]string{"inbound.imap: TIDINGS_IMAP_PASSWORD is not set in the environment", "bounces on imap.example.org"}},
		{"imap password given", "", func(c *Config) {
			c.Inbound.IMAP.Host, c.Inbound.IMAP.Username, c.Inbound.IMAP.Password = "imap.example.org", "bounces", "pw"
		}, nil},
		{"public base_url is never second-guessed", "", func(c *Config) {
			c.HTTP.Listen = "127.0.0.1:9090"
			c.Site.BaseURL = "https://news.example.org"
		}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := Default()
			cfg.Site.PostalAddress = "1 Harbour Road, Port Town"
			cfg.Database.Path = filepath.Join(t.TempDir(), "tidings.db")
			if tt.configure != nil {
				tt.configure(&cfg)
			}
			got := strings.Join(cfg.Warnings(tt.path), "\n")
			if tt.want == nil && got != "" {
				t.Errorf("warnings %q, want none", got)
			}
			for _, w := range tt.want {
				if !strings.Contains(got, w) {
					t.Errorf("warnings %q lack %q", got, w)
				}
			}
		})
	}
}

func TestValidate_DeliverAt(t *testing.T) {
	ok := Default()
	ok.Digests[0].DeliverAt = "local 07:00"
	if err := ok.Validate(); err != nil {
		t.Errorf("deliver_at %q: %v", ok.Digests[0].DeliverAt, err)
	}
	for _, v := range []string{"07:00", "local", "local 7:00", "local 25:00", "local 07:60", "at 07:00", "local 07:00:00", "local 07:00 Europe/Berlin", "tomorrow"} {
		t.Run(v, func(t *testing.T) {
			p := writeFile(t, t.TempDir(), "t.toml", fmt.Sprintf("[[digests]]\nname = \"daily\"\nschedule = \"0 6 * * *\"\ndeliver_at = %q\n", v))
			_, err := LoadConfig(p, noEnv)
			want := fmt.Sprintf(`digests[0].deliver_at: %q is not "local HH:MM"`, v)
			if err == nil || !strings.Contains(err.Error(), want) {
				t.Errorf("deliver_at %q: %v; want %q", v, err, want)
			}
		})
	}
	each := Default()
	each.Digests[0].Mode, each.Digests[0].Schedule, each.Digests[0].DeliverAt = "each", "", "local 07:00"
	if err := each.Validate(); err == nil || !strings.Contains(err.Error(), `digests[0].deliver_at: is not used with mode = "each"`) {
		t.Errorf("deliver_at with mode each: %v", err)
	}
}

// A zone that does not exist is an error naming its field wherever it is
// written.
func TestValidate_ZoneThatDoesNotExist(t *testing.T) {
	for _, tt := range []struct{ toml, want string }{
		{"[site]\ntimezone = \"Mars/Olympus\"\n", `site.timezone: "Mars/Olympus" is not a time zone`},
		{"[[digests]]\nname = \"daily\"\nschedule = \"CRON_TZ=Mars/Olympus 0 7 * * *\"\ndeliver_at = \"local 07:00\"\n",
			`digests[0].schedule: digest daily: "CRON_TZ=Mars/Olympus 0 7 * * *": "Mars/Olympus" is not a time zone`},
	} {
		p := writeFile(t, t.TempDir(), "t.toml", tt.toml)
		if _, err := LoadConfig(p, noEnv); err == nil || !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), "Mars/Olympus") {
			t.Errorf("%s: %v; want %q", tt.toml, err, tt.want)
		}
	}
}
