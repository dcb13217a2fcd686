package main

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/pelletier/go-toml/v2"

	"github.com/tidings/tidings/internal/database"
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
	Admin       AdminConfig       `toml:"admin"`
	Log         LogConfig         `toml:"log"`
	Subscribers SubscribersConfig `toml:"subscribers"`
	SMTP        SMTPConfig        `toml:"smtp"`
	DKIM        DKIMConfig        `toml:"dkim"`
	Templates   TemplatesConfig   `toml:"templates"`
	Inbound     InboundConfig     `toml:"inbound"`
	Digests     []DigestConfig    `toml:"digests"`
	Sources     []SourceConfig    `toml:"sources"`

	// Secret signs subscriber tokens; it comes only from TIDINGS_SECRET
	// (otherwise one is generated and kept in the database).
	Secret string `toml:"-"`
	// File is the config file read, if any: never published, whatever a
	// content folder links to.
	File string `toml:"-"`
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

// DatabaseConfig says where the database is: an SQLite file (one
// instance), or a PostgreSQL URL (several instances share it). URL wins.
type DatabaseConfig struct {
	Path string `toml:"path"`
	URL  string `toml:"url"`
}

// Where is what database.Open takes: the URL when one is set, else the
// SQLite path.
func (d DatabaseConfig) Where() string {
	if d.URL != "" {
		return d.URL
	}
	return d.Path
}

// SQLite reports whether the database is an SQLite file: one instance,
// held by the instance lock.
func (d DatabaseConfig) SQLite() bool { return d.URL == "" }

// ContentConfig lists the content folders and how they are scanned.
type ContentConfig struct {
	Dirs           []string `toml:"dirs"`
	Poll           Duration `toml:"poll"`
	Watch          bool     `toml:"watch"`
	MaxBytes       int64    `toml:"max_bytes"`
	FollowSymlinks bool     `toml:"follow_symlinks"`
}

// FeedsConfig controls the published feeds.
type FeedsConfig struct {
	OutputDir    string   `toml:"output_dir"`
	Items        int      `toml:"items"`
	FullContent  bool     `toml:"full_content"`
	MaxItemBytes int      `toml:"max_item_bytes"`
	WebSubHubs   []string `toml:"websub_hubs"`
}

// HTTPConfig controls the server of tidings serve.
type HTTPConfig struct {
	Listen            string   `toml:"listen"`
	AdminToken        string   `toml:"admin_token"`
	ShutdownTimeout   Duration `toml:"shutdown_timeout"`
	ReadHeaderTimeout Duration `toml:"read_header_timeout"`
	ReadTimeout       Duration `toml:"read_timeout"`
	WriteTimeout      Duration `toml:"write_timeout"`
	IdleTimeout       Duration `toml:"idle_timeout"`
	MaxHeaderBytes    int      `toml:"max_header_bytes"`
	MetricsListen     string   `toml:"metrics_listen"`
	MetricsToken      bool     `toml:"metrics_token"`
}

// AdminConfig controls the web admin's sessions.
type AdminConfig struct {
	SessionIdle Duration `toml:"session_idle"`
	SessionMax  Duration `toml:"session_max"`
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
	// SoftBounceLimit soft bounces in a row (no delivery between them
	// that came through) within SoftBounceWindow mark an address bounced.
	SoftBounceLimit  int      `toml:"soft_bounce_limit"`
	SoftBounceWindow Duration `toml:"soft_bounce_window"`
	Welcome          bool     `toml:"welcome"`
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
	Timeout      Duration `toml:"timeout"`
	OutboxDir    string   `toml:"outbox_dir"`
	DailyLimit   int      `toml:"daily_limit"`
	// DomainLimits pace groups of recipient domains; a file that has any
	// replaces the default ones.
	DomainLimits []DomainLimitConfig `toml:"domain_limits"`
}

// DomainLimitConfig is one [[smtp.domain_limits]] table.
type DomainLimitConfig struct {
	Domains     []string `toml:"domains"`
	Rate        float64  `toml:"rate"`
	Connections int      `toml:"connections"`
}

// domainLimits is the mail package's form of c's limits.
func (c SMTPConfig) domainLimits() []mail.DomainLimit {
	out := make([]mail.DomainLimit, len(c.DomainLimits))
	for i, l := range c.DomainLimits {
		out[i] = mail.DomainLimit{Domains: l.Domains, Rate: l.Rate, Connections: l.Connections}
	}
	return out
}

// DKIMConfig controls DKIM signing.
type DKIMConfig struct {
	Domain   string `toml:"domain"`
	Selector string `toml:"selector"`
	KeyFile  string `toml:"key_file"`
	// A second signature in every message (RFC 8463: Ed25519 beside RSA).
	SecondSelector string `toml:"second_selector"`
	SecondKeyFile  string `toml:"second_key_file"`
}

// InboundConfig says where mail to tidings (bounces, mailto
// unsubscribes) goes.
type InboundConfig struct {
	// Domain of the envelope sender bounces+TOKEN@ and of the mailto
	// unsubscribe+TOKEN@; empty: the domain of site.email.
	Domain string `toml:"domain"`
	// SMTPListen, when set, is where serve takes mail for that domain
	// over SMTP (point its MX here); MaxBytes bounds one message.
	SMTPListen string `toml:"smtp_listen"`
	MaxBytes   int64  `toml:"max_bytes"`
	// ClientRate is the messages per second one client address may send
	// the receiver (bursts of ten times that): a relay that forwards a
	// bounce storm is one client.
	ClientRate float64 `toml:"client_rate"`
	// LogRetention is how long tidings inbound list keeps what came in;
	// older entries are pruned as new ones are written.
	LogRetention Duration `toml:"log_retention"`
	// IMAP is a mailbox serve polls for the same mail, for an operator
	// whose bounce address is a mailbox elsewhere.
	IMAP IMAPConfig `toml:"imap"`
	// Webhooks are the providers' reports POSTed to /webhooks/{provider}.
	Webhooks WebhooksConfig `toml:"webhooks"`
}

// WebhooksConfig turns on the webhooks of the email providers: each is
// off until its secret is set. The secrets come from the file, from the
// environment (TIDINGS_POSTMARK_PASSWORD, TIDINGS_MAILGUN_SIGNING_KEY) or
// from a file named by the *_file key, and are never printed.
type WebhooksConfig struct {
	MaxBytes int64    `toml:"max_bytes"` // one request body
	MaxAge   Duration `toml:"max_age"`   // how old a Mailgun or SendGrid signature may be
	// SESTopicARNs are the SNS topics SES publishes to; SNS messages of
	// any other topic are refused.
	SESTopicARNs          []string `toml:"ses_topic_arns"`
	PostmarkUsername      string   `toml:"postmark_username"`
	PostmarkPassword      string   `toml:"postmark_password"`
	PostmarkPasswordFile  string   `toml:"postmark_password_file"`
	MailgunSigningKey     string   `toml:"mailgun_signing_key"`
	MailgunSigningKeyFile string   `toml:"mailgun_signing_key_file"`
	// SendGridPublicKey is the Signed Event Webhook's verification key
	// (base64, as SendGrid shows it); not a secret.
	SendGridPublicKey string `toml:"sendgrid_public_key"`
}

// readSecretFiles fills each webhook secret that is still empty from the
// file its *_file key names.
func (c *WebhooksConfig) readSecretFiles() error {
	for _, f := range []struct {
		key, path string
		dst       *string
	}{
		{"inbound.webhooks.postmark_password_file", c.PostmarkPasswordFile, &c.PostmarkPassword},
		{"inbound.webhooks.mailgun_signing_key_file", c.MailgunSigningKeyFile, &c.MailgunSigningKey},
	} {
		if f.path == "" || *f.dst != "" {
			continue
		}
		b, err := os.ReadFile(f.path)
		if err != nil {
			return fmt.Errorf("%s: %w", f.key, err)
		}
		*f.dst = strings.TrimSpace(string(b))
	}
	return nil
}

// IMAPConfig is [inbound.imap]: a mailbox that receives bounces,
// complaints and mailto unsubscribes. An empty host polls nothing.
type IMAPConfig struct {
	Host string `toml:"host"`
	Port int    `toml:"port"`
	// TLS is "implicit" (IMAPS, port 993), "starttls" (port 143) or
	// "none", which only a loopback host may use.
	TLS      string `toml:"tls"`
	Username string `toml:"username"`
	// PasswordEnv names the environment variable that holds the password:
	// it is never written in the file.
	PasswordEnv string `toml:"password_env"`
	Password    string `toml:"-"`
	Folder      string `toml:"folder"`
	// ProcessedFolder is where handled messages are moved; empty: they
	// stay, flagged \Seen and $Tidings.
	ProcessedFolder string   `toml:"processed_folder"`
	Every           Duration `toml:"every"`
}

// InboundDomain is [inbound] domain, else site.email's domain.
func (c *Config) InboundDomain() string {
	if c.Inbound.Domain != "" {
		return c.Inbound.Domain
	}
	return c.Site.Email[strings.LastIndexByte(c.Site.Email, '@')+1:]
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
	Mode        string   `toml:"mode"`
	Delay       Duration `toml:"delay"`
	DeliverAt   string   `toml:"deliver_at"`
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

// defaultMaxArticles is a digest's max_articles when its table names none.
const defaultMaxArticles = 20

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
			Watch:    true,
			MaxBytes: 5 << 20,
		},
		Feeds: FeedsConfig{
			OutputDir:    "./data/public",
			Items:        50,
			MaxItemBytes: 512 << 10,
			FullContent:  true,
			WebSubHubs:   []string{},
		},
		HTTP: HTTPConfig{
			Listen:            "127.0.0.1:8080",
			ShutdownTimeout:   Duration{30 * time.Second},
			ReadHeaderTimeout: Duration{10 * time.Second},
			ReadTimeout:       Duration{30 * time.Second},
			WriteTimeout:      Duration{2 * time.Minute},
			IdleTimeout:       Duration{2 * time.Minute},
			MaxHeaderBytes:    64 << 10,
		},
		Admin: AdminConfig{SessionIdle: Duration{2 * time.Hour}, SessionMax: Duration{7 * 24 * time.Hour}},
		Log:   LogConfig{Level: "info", Format: "text"},
		Subscribers: SubscribersConfig{
			DoubleOptIn:      true,
			ConfirmTTL:       Duration{72 * time.Hour},
			BounceLimit:      1,
			SoftBounceLimit:  3,
			SoftBounceWindow: Duration{30 * 24 * time.Hour},
			Welcome:          true,
		},
		SMTP: SMTPConfig{
			Port:         587,
			TLS:          "starttls",
			Connections:  8,
			MaxAttempts:  5,
			RetryBackoff: Duration{time.Minute},
			Timeout:      Duration{30 * time.Second},
			OutboxDir:    "./data/outbox",
			// Starting points for the big mailbox providers, which publish
			// no numbers: a "try later" from any domain slows it further.
			DomainLimits: []DomainLimitConfig{
				{Domains: []string{"gmail.com", "googlemail.com"}, Rate: 50, Connections: 4},
				{Domains: []string{"outlook.com", "hotmail.com", "live.com", "msn.com"}, Rate: 20, Connections: 2},
				{Domains: []string{"yahoo.com", "*.yahoo.com", "aol.com", "ymail.com"}, Rate: 20, Connections: 2},
				{Domains: []string{"icloud.com", "me.com", "mac.com"}, Rate: 20, Connections: 2},
			},
		},
		Inbound: InboundConfig{MaxBytes: 10 << 20, ClientRate: 100, LogRetention: Duration{90 * 24 * time.Hour},
			IMAP:     IMAPConfig{Port: 993, TLS: "implicit", PasswordEnv: "TIDINGS_IMAP_PASSWORD", Folder: "INBOX", Every: Duration{time.Minute}},
			Webhooks: WebhooksConfig{MaxBytes: 1 << 20, MaxAge: Duration{15 * time.Minute}, SESTopicARNs: []string{}}},
		Digests: []DigestConfig{{
			Name:        "daily",
			Title:       "Example News, daily",
			Schedule:    "0 7 * * *",
			MaxArticles: defaultMaxArticles,
			Tags:        []string{},
			Mode:        "digest",
			Delay:       Duration{mail.DefaultDelay},
		}},
	}
}

// LoadConfig reads the config file at path over the defaults, then applies
// secrets from the environment and validates the result. An empty path
// means the defaults alone.
func LoadConfig(path string, getenv func(string) string) (Config, error) {
	cfg := Default()
	cfg.File = path
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
		{"TIDINGS_DATABASE_URL", &cfg.Database.URL},
		{"TIDINGS_SMTP_PASSWORD", &cfg.SMTP.Password},
		{"TIDINGS_ADMIN_TOKEN", &cfg.HTTP.AdminToken},
		{"TIDINGS_SECRET", &cfg.Secret},
		{"TIDINGS_POSTMARK_PASSWORD", &cfg.Inbound.Webhooks.PostmarkPassword},
		{"TIDINGS_MAILGUN_SIGNING_KEY", &cfg.Inbound.Webhooks.MailgunSigningKey},
	} {
		if v := getenv(e.name); v != "" {
			*e.dst = v
		}
	}
	if err := cfg.Inbound.Webhooks.readSecretFiles(); err != nil {
		return cfg, fmt.Errorf("config %s: %w", path, err)
	}
	if name := cfg.Inbound.IMAP.PasswordEnv; name != "" {
		cfg.Inbound.IMAP.Password = getenv(name)
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
	// A [[digests]] table replaces the default digest whole, so the keys
	// it leaves out take their documented defaults here; an explicit 0 is
	// left for Validate to refuse.
	var given struct {
		Digests []map[string]any `toml:"digests"`
	}
	if err := toml.Unmarshal(b, &given); err != nil {
		return err
	}
	for i := range cfg.Digests {
		if cfg.Digests[i].Tags == nil {
			cfg.Digests[i].Tags = []string{}
		}
		if i < len(given.Digests) {
			if _, ok := given.Digests[i]["max_articles"]; !ok {
				cfg.Digests[i].MaxArticles = defaultMaxArticles
			}
			if _, ok := given.Digests[i]["mode"]; !ok {
				cfg.Digests[i].Mode = "digest"
			}
			if _, ok := given.Digests[i]["delay"]; !ok {
				cfg.Digests[i].Delay = Duration{mail.DefaultDelay}
			}
		}
	}
	return nil
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
	if c.Database.URL != "" {
		c.Database.URL = database.Redact(c.Database.URL)
	}
	mask(&c.Inbound.IMAP.Password)
	mask(&c.HTTP.AdminToken)
	mask(&c.Secret)
	mask(&c.Inbound.Webhooks.PostmarkPassword)
	mask(&c.Inbound.Webhooks.MailgunSigningKey)
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
