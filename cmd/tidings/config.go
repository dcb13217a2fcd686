package main

import (
	"bytes"
	"errors"
	"fmt"
	netmail "net/mail"
	"net/url"
	"os"
	"regexp"
	"strings"
	"time"

	"github.com/pelletier/go-toml/v2"

	"github.com/tidings/tidings/mail"
)

// Config is the whole of tidings.toml. Every key is documented, with its
// default, in config.example.toml.
type Config struct {
	Site        SiteConfig        `toml:"site"`
	Database    DatabaseConfig    `toml:"database"`
	Content     ContentConfig     `toml:"content"`
	Feeds       FeedsConfig       `toml:"feeds"`
	HTTP        HTTPConfig        `toml:"http"`
	Log         LogConfig         `toml:"log"`
	Subscribers SubscribersConfig `toml:"subscribers"`
	SMTP        SMTPConfig        `toml:"smtp"`
	DKIM        DKIMConfig        `toml:"dkim"`
	Templates   TemplatesConfig   `toml:"templates"`
	Digests     []DigestConfig    `toml:"digests"`
	Sources     []SourceConfig    `toml:"sources"`

	// Secret signs subscriber tokens; it comes only from TIDINGS_SECRET
	// (otherwise one is generated and kept in the database).
	Secret string `toml:"-"`
}

// SiteConfig describes the publication.
type SiteConfig struct {
	Title         string `toml:"title"`
	BaseURL       string `toml:"base_url"`
	Description   string `toml:"description"`
	Language      string `toml:"language"`
	Timezone      string `toml:"timezone"`
	Author        string `toml:"author"`
	Email         string `toml:"email"`
	PostalAddress string `toml:"postal_address"`
}

// DatabaseConfig says where the SQLite file lives.
type DatabaseConfig struct {
	Path string `toml:"path"`
}

// ContentConfig lists the content folders and how they are scanned.
type ContentConfig struct {
	Dirs     []string `toml:"dirs"`
	Poll     Duration `toml:"poll"`
	MaxBytes int64    `toml:"max_bytes"`
}

// FeedsConfig controls the published feeds.
type FeedsConfig struct {
	OutputDir   string   `toml:"output_dir"`
	Items       int      `toml:"items"`
	FullContent bool     `toml:"full_content"`
	WebSubHubs  []string `toml:"websub_hubs"`
}

// HTTPConfig controls the server of tidings serve.
type HTTPConfig struct {
	Listen          string   `toml:"listen"`
	AdminToken      string   `toml:"admin_token"`
	ShutdownTimeout Duration `toml:"shutdown_timeout"`
}

// LogConfig controls logging.
type LogConfig struct {
	Level  string `toml:"level"`
	Format string `toml:"format"`
}

// SubscribersConfig controls sign-up.
type SubscribersConfig struct {
	DoubleOptIn bool     `toml:"double_opt_in"`
	ConfirmTTL  Duration `toml:"confirm_ttl"`
	BounceLimit int      `toml:"bounce_limit"`
}

// SMTPConfig controls mail delivery.
type SMTPConfig struct {
	Host         string   `toml:"host"`
	Port         int      `toml:"port"`
	Username     string   `toml:"username"`
	Password     string   `toml:"password"`
	TLS          string   `toml:"tls"`
	Connections  int      `toml:"connections"`
	Rate         float64  `toml:"rate"`
	MaxAttempts  int      `toml:"max_attempts"`
	RetryBackoff Duration `toml:"retry_backoff"`
	OutboxDir    string   `toml:"outbox_dir"`
}

// DKIMConfig controls DKIM signing.
type DKIMConfig struct {
	Domain   string `toml:"domain"`
	Selector string `toml:"selector"`
	KeyFile  string `toml:"key_file"`
}

// TemplatesConfig names a folder of template overrides.
type TemplatesConfig struct {
	Dir string `toml:"dir"`
}

// DigestConfig is one [[digests]] table.
type DigestConfig struct {
	Name        string   `toml:"name"`
	Title       string   `toml:"title"`
	Description string   `toml:"description"`
	Schedule    string   `toml:"schedule"`
	MaxArticles int      `toml:"max_articles"`
	Tags        []string `toml:"tags"`
	SkipEmpty   *bool    `toml:"skip_empty"`
	FullContent bool     `toml:"full_content"`
	CatchUp     *bool    `toml:"catch_up"`
	Subject     string   `toml:"subject"`
	From        string   `toml:"from"`
}

// SourceConfig is one [[sources]] table: an upstream feed.
type SourceConfig struct {
	Name         string   `toml:"name"`
	URL          string   `toml:"url"`
	Interval     Duration `toml:"interval"`
	Include      string   `toml:"include"`
	Exclude      string   `toml:"exclude"`
	Tags         []string `toml:"tags"`
	Backfill     Duration `toml:"backfill"`
	AllowPrivate bool     `toml:"allow_private"`
}

// Duration is a time.Duration written as "1m", "72h" in TOML.
type Duration struct{ time.Duration }

// UnmarshalText implements encoding.TextUnmarshaler.
func (d *Duration) UnmarshalText(b []byte) error {
	v, err := time.ParseDuration(string(b))
	if err != nil {
		return fmt.Errorf("%q is not a duration (use 90s, 15m, 72h)", b)
	}
	d.Duration = v
	return nil
}

// MarshalText implements encoding.TextMarshaler.
func (d Duration) MarshalText() ([]byte, error) { return []byte(d.String()), nil }

// Default returns the built-in configuration: what tidings runs on with no
// config file at all.
func Default() Config {
	return Config{
		Site: SiteConfig{
			Title:    "Example News",
			BaseURL:  "http://127.0.0.1:8080",
			Language: "en",
			Timezone: "UTC",
			Author:   "Newsroom",
			Email:    "news@example.org",
		},
		Database: DatabaseConfig{Path: "./data/tidings.db"},
		Content: ContentConfig{
			Dirs:     []string{"./content"},
			Poll:     Duration{time.Minute},
			MaxBytes: 5 << 20,
		},
		Feeds: FeedsConfig{
			OutputDir:   "./data/public",
			Items:       50,
			FullContent: true,
			WebSubHubs:  []string{},
		},
		HTTP: HTTPConfig{
			Listen:          "127.0.0.1:8080",
			ShutdownTimeout: Duration{30 * time.Second},
		},
		Log: LogConfig{Level: "info", Format: "text"},
		Subscribers: SubscribersConfig{
			DoubleOptIn: true,
			ConfirmTTL:  Duration{72 * time.Hour},
			BounceLimit: 1,
		},
		SMTP: SMTPConfig{
			Port:         587,
			TLS:          "starttls",
			Connections:  4,
			MaxAttempts:  5,
			RetryBackoff: Duration{time.Minute},
			OutboxDir:    "./data/outbox",
		},
		Digests: []DigestConfig{{
			Name:        "daily",
			Title:       "Example News, daily",
			Schedule:    "0 7 * * *",
			MaxArticles: 20,
			Tags:        []string{},
		}},
	}
}

// LoadConfig reads the config file at path over the defaults, then applies
// secrets from the environment and validates the result. An empty path
// means the defaults alone.
func LoadConfig(path string, getenv func(string) string) (Config, error) {
	cfg := Default()
	if path != "" {
		b, err := os.ReadFile(path)
		if err != nil {
			return cfg, fmt.Errorf("config: %w", err)
		}
		if err := decodeConfig(b, &cfg); err != nil {
			return cfg, fmt.Errorf("config %s: %w", path, err)
		}
	}
	for _, e := range []struct {
		name string
		dst  *string
	}{
		{"TIDINGS_SMTP_PASSWORD", &cfg.SMTP.Password},
		{"TIDINGS_ADMIN_TOKEN", &cfg.HTTP.AdminToken},
		{"TIDINGS_SECRET", &cfg.Secret},
	} {
		if v := getenv(e.name); v != "" {
			*e.dst = v
		}
	}
	if err := cfg.Validate(); err != nil {
		if path != "" {
			return cfg, fmt.Errorf("config %s: %w", path, err)
		}
		return cfg, fmt.Errorf("config: %w", err)
	}
	return cfg, nil
}

// decodeConfig decodes TOML strictly: an unknown key is an error naming the
// key and its line.
func decodeConfig(b []byte, cfg *Config) error {
	dec := toml.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	err := dec.Decode(cfg)
	var strict *toml.StrictMissingError
	if errors.As(err, &strict) {
		var msgs []string
		for _, e := range strict.Errors {
			row, _ := e.Position()
			msgs = append(msgs, fmt.Sprintf("line %d: unknown key %s", row, strings.Join(e.Key(), ".")))
		}
		return errors.New(strings.Join(msgs, "; "))
	}
	var derr *toml.DecodeError
	if errors.As(err, &derr) {
		row, col := derr.Position()
		return fmt.Errorf("line %d, column %d: %s", row, col, derr.Error())
	}
	if err != nil {
		return err
	}
	for i := range cfg.Digests {
		if cfg.Digests[i].Tags == nil {
			cfg.Digests[i].Tags = []string{}
		}
	}
	return nil
}

var digestName = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]*$`)

// Validate checks every value and names the field that is wrong.
func (c *Config) Validate() error {
	var errs []error
	bad := func(field, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s: %s", field, fmt.Sprintf(format, args...)))
	}
	if strings.TrimSpace(c.Site.Title) == "" {
		bad("site.title", "must not be empty")
	}
	if u, err := url.Parse(c.Site.BaseURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		bad("site.base_url", "%q must be an absolute http or https URL", c.Site.BaseURL)
	} else if u.RawQuery != "" || u.Fragment != "" {
		bad("site.base_url", "%q must not have a query or fragment", c.Site.BaseURL)
	}
	if _, err := time.LoadLocation(c.Site.Timezone); err != nil {
		bad("site.timezone", "%q is not a time zone (use an IANA name like Europe/Berlin)", c.Site.Timezone)
	}
	if c.Site.Email != "" {
		if _, err := netmail.ParseAddress(c.Site.Email); err != nil {
			bad("site.email", "%q is not an email address", c.Site.Email)
		}
	}
	if c.Database.Path == "" {
		bad("database.path", "must not be empty")
	}
	if len(c.Content.Dirs) == 0 {
		bad("content.dirs", "must name at least one folder")
	}
	for i, d := range c.Content.Dirs {
		if strings.TrimSpace(d) == "" {
			bad(fmt.Sprintf("content.dirs[%d]", i), "must not be empty")
		}
	}
	if c.Content.Poll.Duration <= 0 {
		bad("content.poll", "must be positive")
	}
	if c.Content.MaxBytes <= 0 {
		bad("content.max_bytes", "must be positive")
	}
	if c.Feeds.OutputDir == "" {
		bad("feeds.output_dir", "must not be empty")
	}
	if c.Feeds.Items <= 0 {
		bad("feeds.items", "must be positive")
	}
	for i, h := range c.Feeds.WebSubHubs {
		if u, err := url.Parse(h); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			bad(fmt.Sprintf("feeds.websub_hubs[%d]", i), "%q must be an absolute http or https URL", h)
		}
	}
	if c.HTTP.Listen == "" {
		bad("http.listen", "must not be empty (use 127.0.0.1:8080)")
	}
	if c.HTTP.ShutdownTimeout.Duration <= 0 {
		bad("http.shutdown_timeout", "must be positive")
	}
	switch c.Log.Level {
	case "debug", "info", "warn", "error":
	default:
		bad("log.level", "%q must be debug, info, warn or error", c.Log.Level)
	}
	switch c.Log.Format {
	case "text", "json":
	default:
		bad("log.format", "%q must be text or json", c.Log.Format)
	}
	if c.Subscribers.ConfirmTTL.Duration <= 0 {
		bad("subscribers.confirm_ttl", "must be positive")
	}
	if c.Subscribers.BounceLimit <= 0 {
		bad("subscribers.bounce_limit", "must be positive")
	}
	if c.SMTP.Port <= 0 || c.SMTP.Port > 65535 {
		bad("smtp.port", "%d is not a port number", c.SMTP.Port)
	}
	switch c.SMTP.TLS {
	case "starttls", "tls", "none":
	default:
		bad("smtp.tls", "%q must be starttls, tls or none", c.SMTP.TLS)
	}
	if c.SMTP.Connections <= 0 {
		bad("smtp.connections", "must be positive")
	}
	if c.SMTP.Rate < 0 {
		bad("smtp.rate", "must not be negative (0 means no limit)")
	}
	if c.SMTP.MaxAttempts <= 0 {
		bad("smtp.max_attempts", "must be positive")
	}
	if c.SMTP.RetryBackoff.Duration <= 0 {
		bad("smtp.retry_backoff", "must be positive")
	}
	if c.SMTP.Host == "" && c.SMTP.OutboxDir == "" {
		bad("smtp.outbox_dir", "must not be empty when smtp.host is empty")
	}
	if (c.DKIM.Domain != "" || c.DKIM.Selector != "" || c.DKIM.KeyFile != "") &&
		(c.DKIM.Domain == "" || c.DKIM.Selector == "" || c.DKIM.KeyFile == "") {
		bad("dkim", "domain, selector and key_file go together: set all three or none")
	}
	seen := map[string]bool{}
	for i, d := range c.Digests {
		f := fmt.Sprintf("digests[%d]", i)
		if !digestName.MatchString(d.Name) {
			bad(f+".name", "%q must be lower-case letters, digits, - and _", d.Name)
		} else if seen[d.Name] {
			bad(f+".name", "%q is used by another digest", d.Name)
		}
		seen[d.Name] = true
		if strings.TrimSpace(d.Schedule) == "" {
			bad(f+".schedule", "must not be empty (a cron spec like \"0 7 * * *\")")
		} else if _, err := mail.ParseSchedule(d.Schedule, nil); err != nil {
			bad(f+".schedule", "digest %s: %v", d.Name, err)
		}
		if d.MaxArticles <= 0 {
			bad(f+".max_articles", "must be positive")
		}
	}
	seen = map[string]bool{}
	for i, s := range c.Sources {
		f := fmt.Sprintf("sources[%d]", i)
		if !digestName.MatchString(s.Name) {
			bad(f+".name", "%q must be lower-case letters, digits, - and _", s.Name)
		} else if seen[s.Name] {
			bad(f+".name", "%q is used by another source", s.Name)
		}
		seen[s.Name] = true
		if u, err := url.Parse(s.URL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			bad(f+".url", "%q must be an absolute http or https URL", s.URL)
		}
		for _, re := range []struct{ field, expr string }{{"include", s.Include}, {"exclude", s.Exclude}} {
			if _, err := regexp.Compile(re.expr); err != nil {
				bad(f+"."+re.field, "%q is not a regular expression: %v", re.expr, err)
			}
		}
	}
	return errors.Join(errs...)
}

// Location returns the site's time zone; Validate has checked it.
func (c *Config) Location() *time.Location {
	loc, err := time.LoadLocation(c.Site.Timezone)
	if err != nil {
		return time.UTC
	}
	return loc
}

// Masked returns a copy with secrets replaced, for printing.
func (c Config) Masked() Config {
	mask := func(s *string) {
		if *s != "" {
			*s = "********"
		}
	}
	mask(&c.SMTP.Password)
	mask(&c.HTTP.AdminToken)
	mask(&c.Secret)
	return c
}

// configPath decides which file to read: --config, else TIDINGS_CONFIG,
// else ./tidings.toml when it exists, else none (the defaults).
func configPath(flagValue string, getenv func(string) string) string {
	if flagValue != "" {
		return flagValue
	}
	if v := getenv("TIDINGS_CONFIG"); v != "" {
		return v
	}
	if _, err := os.Stat("tidings.toml"); err == nil {
		return "tidings.toml"
	}
	return ""
}
