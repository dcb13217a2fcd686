package main

import (
	"errors"
	"fmt"
	netmail "net/mail"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/tidings/tidings/internal/database"
	"github.com/tidings/tidings/mail"
	"github.com/tidings/tidings/mail/inbound/webhook"
)

var digestName = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]*$`)

// problems collects what is wrong with a config, each naming its field.
type problems []error

func (p *problems) add(field, format string, args ...any) {
	*p = append(*p, fmt.Errorf("%s: %s", field, fmt.Sprintf(format, args...)))
}

// httpURL checks that v is an absolute http or https URL.
func (p *problems) httpURL(field, v string) {
	if u, err := url.Parse(v); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		p.add(field, "%q must be an absolute http or https URL", v)
	}
}

func (p *problems) positive(field string, ok bool) {
	if !ok {
		p.add(field, "must be positive")
	}
}

func (p *problems) oneOf(field, v string, allowed ...string) {
	for _, a := range allowed {
		if v == a {
			return
		}
	}
	p.add(field, "%q must be %s or %s", v, strings.Join(allowed[:len(allowed)-1], ", "), allowed[len(allowed)-1])
}

// Validate checks every value and names the field that is wrong.
func (c *Config) Validate() error {
	var p problems
	c.validateSite(&p)
	c.validateStorage(&p)
	c.validateServer(&p)
	c.validateMail(&p)
	c.validateDigests(&p)
	c.validateSources(&p)
	return errors.Join(p...)
}

func (c *Config) validateSite(p *problems) {
	if strings.TrimSpace(c.Site.Title) == "" {
		p.add("site.title", "must not be empty")
	}
	if u, err := url.Parse(c.Site.BaseURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		p.add("site.base_url", "%q must be an absolute http or https URL", c.Site.BaseURL)
	} else if u.RawQuery != "" || u.Fragment != "" {
		p.add("site.base_url", "%q must not have a query or fragment", c.Site.BaseURL)
	}
	if _, err := time.LoadLocation(c.Site.Timezone); err != nil {
		p.add("site.timezone", "%q is not a time zone (use an IANA name like Europe/Berlin)", c.Site.Timezone)
	}
	if c.Site.Email != "" {
		if _, err := netmail.ParseAddress(c.Site.Email); err != nil {
			p.add("site.email", "%q is not an email address", c.Site.Email)
		}
	}
}

func (c *Config) validateStorage(p *problems) {
	switch {
	case c.Database.URL != "":
		if !database.IsURL(c.Database.URL) {
			p.add("database.url", "%s must start with postgres:// or postgresql:// (for an SQLite file set database.path instead)", database.Redact(c.Database.URL))
		} else if _, err := database.ConnConfig(c.Database.URL); err != nil {
			p.add("database.url", "%s", strings.TrimPrefix(err.Error(), "database url "))
		}
	case c.Database.Path == "":
		p.add("database.path", "must not be empty (or set database.url)")
	case database.IsURL(c.Database.Path):
		p.add("database.path", "%s is a URL: set it as database.url", database.Redact(c.Database.Path))
	}
	if len(c.Content.Dirs) == 0 {
		p.add("content.dirs", "must name at least one folder")
	}
	for i, d := range c.Content.Dirs {
		if strings.TrimSpace(d) == "" {
			p.add(fmt.Sprintf("content.dirs[%d]", i), "must not be empty")
		}
	}
	p.positive("content.poll", c.Content.Poll.Duration > 0)
	p.positive("content.max_bytes", c.Content.MaxBytes > 0)
	if c.Feeds.OutputDir == "" {
		p.add("feeds.output_dir", "must not be empty")
	}
	p.positive("feeds.items", c.Feeds.Items > 0)
	p.positive("feeds.max_item_bytes", c.Feeds.MaxItemBytes > 0)
	for i, h := range c.Feeds.WebSubHubs {
		p.httpURL(fmt.Sprintf("feeds.websub_hubs[%d]", i), h)
	}
}

func (c *Config) validateServer(p *problems) {
	if c.HTTP.Listen == "" {
		p.add("http.listen", "must not be empty (use 127.0.0.1:8080)")
	}
	p.positive("http.shutdown_timeout", c.HTTP.ShutdownTimeout.Duration > 0)
	p.positive("http.read_header_timeout", c.HTTP.ReadHeaderTimeout.Duration > 0)
	p.positive("http.read_timeout", c.HTTP.ReadTimeout.Duration > 0)
	p.positive("http.write_timeout", c.HTTP.WriteTimeout.Duration > 0)
	p.positive("http.idle_timeout", c.HTTP.IdleTimeout.Duration > 0)
	p.positive("http.max_header_bytes", c.HTTP.MaxHeaderBytes > 0)
	p.positive("admin.session_idle", c.Admin.SessionIdle.Duration > 0)
	p.positive("admin.session_max", c.Admin.SessionMax.Duration > 0)
	if c.HTTP.MetricsListen != "" && c.HTTP.MetricsListen == c.HTTP.Listen {
		p.add("http.metrics_listen", "%q is http.listen itself: leave it empty to serve /metrics there", c.HTTP.MetricsListen)
	}
	if c.HTTP.MetricsToken && c.HTTP.AdminToken == "" {
		p.add("http.metrics_token", "needs http.admin_token (or TIDINGS_ADMIN_TOKEN) to compare against")
	}
	p.oneOf("log.level", c.Log.Level, "debug", "info", "warn", "error")
	p.oneOf("log.format", c.Log.Format, "text", "json")
}

func (c *Config) validateMail(p *problems) {
	p.positive("subscribers.confirm_ttl", c.Subscribers.ConfirmTTL.Duration > 0)
	p.positive("subscribers.bounce_limit", c.Subscribers.BounceLimit > 0)
	p.positive("subscribers.soft_bounce_limit", c.Subscribers.SoftBounceLimit > 0)
	p.positive("subscribers.soft_bounce_window", c.Subscribers.SoftBounceWindow.Duration > 0)
	if c.SMTP.Port <= 0 || c.SMTP.Port > 65535 {
		p.add("smtp.port", "%d is not a port number", c.SMTP.Port)
	}
	p.oneOf("smtp.tls", c.SMTP.TLS, "starttls", "tls", "none")
	p.positive("smtp.connections", c.SMTP.Connections > 0)
	if c.SMTP.Rate < 0 {
		p.add("smtp.rate", "must not be negative (0 means no limit)")
	}
	p.positive("smtp.max_attempts", c.SMTP.MaxAttempts > 0)
	p.positive("smtp.retry_backoff", c.SMTP.RetryBackoff.Duration > 0)
	p.positive("smtp.timeout", c.SMTP.Timeout.Duration > 0)
	if c.SMTP.DailyLimit < 0 {
		p.add("smtp.daily_limit", "must not be negative (0 means no limit)")
	}
	if err := mail.CheckDomainLimits(c.SMTP.domainLimits()); err != nil {
		p.add("smtp.domain_limits", "%v", err)
	}
	if c.SMTP.Host == "" && c.SMTP.OutboxDir == "" {
		p.add("smtp.outbox_dir", "must not be empty when smtp.host is empty")
	}
	if (c.DKIM.Domain != "" || c.DKIM.Selector != "" || c.DKIM.KeyFile != "") &&
		(c.DKIM.Domain == "" || c.DKIM.Selector == "" || c.DKIM.KeyFile == "") {
		p.add("dkim", "domain, selector and key_file go together: set all three or none")
	}
	if d := c.Inbound.Domain; d != "" && !inboundDomain.MatchString(d) {
		p.add("inbound.domain", "%q is not a domain name (like bounces.example.org)", d)
	}
	p.positive("inbound.max_bytes", c.Inbound.MaxBytes > 0)
	p.positive("inbound.client_rate", c.Inbound.ClientRate > 0)
	c.Inbound.Webhooks.validate(p)
	if c.Inbound.LogRetention.Duration < 0 {
		p.add("inbound.log_retention", "must not be negative (0 keeps every entry)")
	}
	c.validateIMAP(p)
	if (c.DKIM.SecondSelector == "") != (c.DKIM.SecondKeyFile == "") {
		p.add("dkim", "second_selector and second_key_file go together: set both or neither")
	} else if c.DKIM.SecondSelector != "" && c.DKIM.KeyFile == "" {
		p.add("dkim.second_key_file", "is a second signature: set domain, selector and key_file first")
	} else if c.DKIM.SecondSelector != "" && c.DKIM.SecondSelector == c.DKIM.Selector {
		p.add("dkim.second_selector", "%q is selector itself: each key needs its own", c.DKIM.SecondSelector)
	}
}

func (w *WebhooksConfig) validate(p *problems) {
	p.positive("inbound.webhooks.max_bytes", w.MaxBytes > 0)
	p.positive("inbound.webhooks.max_age", w.MaxAge.Duration > 0)
	for i, arn := range w.SESTopicARNs {
		if !snsTopicARN.MatchString(arn) {
			p.add(fmt.Sprintf("inbound.webhooks.ses_topic_arns[%d]", i), "%q is not an SNS topic ARN (like arn:aws:sns:eu-west-1:123456789012:ses-returns)", arn)
		}
	}
	if w.PostmarkUsername != "" && w.PostmarkPassword == "" {
		p.add("inbound.webhooks.postmark_username", "is set without a password: set postmark_password, postmark_password_file or TIDINGS_POSTMARK_PASSWORD")
	}
	if w.SendGridPublicKey != "" {
		if _, err := webhook.ParseSendGridKey(w.SendGridPublicKey); err != nil {
			p.add("inbound.webhooks.sendgrid_public_key", "%v (paste the verification key of SendGrid's Signed Event Webhook)", err)
		}
	}
}

// snsTopicARN is arn:PARTITION:sns:REGION:ACCOUNT:NAME.
var snsTopicARN = regexp.MustCompile(`^arn:aws[a-z-]*:sns:[a-z0-9-]+:[0-9]{12}:[A-Za-z0-9_-]{1,256}(\.fifo)?$`)

// validateIMAP checks [inbound.imap] when it names a host.
func (c *Config) validateIMAP(p *problems) {
	m := c.Inbound.IMAP
	if m.Host == "" {
		return
	}
	if m.Port <= 0 || m.Port > 65535 {
		p.add("inbound.imap.port", "%d is not a port number", m.Port)
	}
	p.oneOf("inbound.imap.tls", m.TLS, "implicit", "starttls", "none")
	if m.TLS == "none" && !loopbackHost(strings.ToLower(strings.Trim(m.Host, "[]"))) {
		p.add("inbound.imap.tls", "\"none\" sends the password in clear text: only a loopback host (127.0.0.1, ::1, localhost) may use it, not %q", m.Host)
	}
	if m.Username == "" {
		p.add("inbound.imap.username", "must not be empty when inbound.imap.host is set")
	}
	// The variable itself may be unset where a command other than serve
	// or run is typed: Warnings says so, and the poll fails naming it.
	if m.PasswordEnv == "" {
		p.add("inbound.imap.password_env", "must name the environment variable that holds the password (like TIDINGS_IMAP_PASSWORD)")
	}
	if strings.TrimSpace(m.Folder) == "" {
		p.add("inbound.imap.folder", "must not be empty (INBOX is the usual one)")
	}
	if m.ProcessedFolder != "" && m.ProcessedFolder == m.Folder {
		p.add("inbound.imap.processed_folder", "%q is the folder polled: choose another, or leave it empty to flag messages instead", m.Folder)
	}
	if m.Every.Duration < time.Second {
		p.add("inbound.imap.every", "%s is too often: at least 1s", m.Every.Duration)
	}
}

// inboundDomain is a DNS name of at least two labels.
var inboundDomain = regexp.MustCompile(`^(?i)[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)+$`)

func (c *Config) validateDigests(p *problems) {
	seen := map[string]bool{}
	for i, d := range c.Digests {
		f := fmt.Sprintf("digests[%d]", i)
		switch {
		case !digestName.MatchString(d.Name):
			p.add(f+".name", "%q must be lower-case letters, digits, - and _", d.Name)
		case seen[d.Name]:
			p.add(f+".name", "%q is used by another digest", d.Name)
		case d.Name == mail.AllDigests:
			p.add(f+".name", "%q names every subscriber in tidings broadcast send --all: choose another name", d.Name)
		}
		seen[d.Name] = true
		p.oneOf(f+".mode", d.Mode, "digest", "each")
		if _, err := mail.ParseDeliverAt(d.DeliverAt); err != nil {
			p.add(f+".deliver_at", "%v", err)
		}
		if d.Mode == "each" {
			if strings.TrimSpace(d.DeliverAt) != "" {
				p.add(f+".deliver_at", "is not used with mode = \"each\" (every article is mailed delay after it is published): remove it")
			}
			if strings.TrimSpace(d.Schedule) != "" {
				p.add(f+".schedule", "is not used with mode = \"each\" (every article is mailed delay after it is published): remove it")
			}
			p.positive(f+".delay", d.Delay.Duration > 0)
			continue
		}
		if strings.TrimSpace(d.Schedule) == "" {
			p.add(f+".schedule", "must not be empty (a cron spec like \"0 7 * * *\")")
		} else if _, err := mail.ParseSchedule(d.Schedule, nil); err != nil {
			p.add(f+".schedule", "digest %s: %v", d.Name, err)
		}
		p.positive(f+".max_articles", d.MaxArticles > 0)
	}
}

func (c *Config) validateSources(p *problems) {
	seen := map[string]bool{}
	for i, s := range c.Sources {
		f := fmt.Sprintf("sources[%d]", i)
		if !digestName.MatchString(s.Name) {
			p.add(f+".name", "%q must be lower-case letters, digits, - and _", s.Name)
		} else if seen[s.Name] {
			p.add(f+".name", "%q is used by another source", s.Name)
		}
		seen[s.Name] = true
		p.httpURL(f+".url", s.URL)
		for _, re := range []struct{ field, expr string }{{"include", s.Include}, {"exclude", s.Exclude}} {
			if _, err := regexp.Compile(re.expr); err != nil {
				p.add(f+"."+re.field, "%q is not a regular expression: %v", re.expr, err)
			}
		}
	}
}
