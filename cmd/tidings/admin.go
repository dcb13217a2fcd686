package main

import (
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/pelletier/go-toml/v2"

	"github.com/tidings/tidings/internal/admin"
	"github.com/tidings/tidings/mail"
)

// webAdmin builds the web admin over the app's stores.
func (a *App) webAdmin() (*admin.Admin, error) {
	settings, err := a.adminSettings()
	if err != nil {
		return nil, err
	}
	var digests []mail.Digest
	for _, name := range sortedKeys(a.Digests) {
		digests = append(digests, a.Digests[name])
	}
	ver, _ := buildInfo()
	return admin.New(admin.Options{
		DB: a.DB, BaseURL: a.Config.Site.BaseURL, SiteTitle: a.Config.Site.Title, Version: ver,
		TemplateDir: a.Config.Templates.Dir,
		SessionIdle: a.Config.Admin.SessionIdle.Duration, SessionMax: a.Config.Admin.SessionMax.Duration,
		Now: func() time.Time { return a.Now() }, Logger: a.Logger.With("component", "admin"),
		Data: admin.Data{Subscribers: a.Subscribers, Ledger: a.Ledger, Scheduler: a.Scheduler, Digests: digests,
			Settings: settings, MailData: a.adminMailData()},
	})
}

// adminSettings is the settings page: the config as `tidings config
// check` prints it, and the DNS records to publish.
func (a *App) adminSettings() (admin.Settings, error) {
	cfg := a.Config
	b, err := toml.Marshal(cfg.Masked())
	if err != nil {
		return admin.Settings{}, fmt.Errorf("print config: %w", err)
	}
	s := admin.Settings{Config: string(b)}
	dkim, err := loadDKIM(cfg)
	if err != nil {
		return s, err
	}
	var records func() [][2]string
	if dkim != nil {
		records = dkim.Records
	}
	s.DNS = dnsRecords(cfg, records)
	return s, nil
}

// dnsRecords are the records an operator publishes for mail from tidings
// to be trusted: SPF for the envelope sender's domain, DKIM for each key,
// DMARC for the From domain, and an MX when tidings takes mail itself.
// dkimRecords is nil without DKIM.
func dnsRecords(cfg Config, dkimRecords func() [][2]string) []admin.DNSRecord {
	var out []admin.DNSRecord
	fromDomain := cfg.Site.Email[strings.LastIndexByte(cfg.Site.Email, '@')+1:]
	envDomain := cfg.InboundDomain()
	spf := "v=spf1 mx ~all"
	why := "Lets receivers check that mail with a bounce address @" + envDomain + " comes from your servers."
	if cfg.SMTP.Host != "" {
		spf = "v=spf1 a:" + cfg.SMTP.Host + " ~all"
		why += " If your mail provider documents an include: (include:_spf.provider.example), use it in place of a:."
	}
	out = append(out, admin.DNSRecord{Name: envDomain, Type: "TXT", Value: spf, Why: why})
	if dkimRecords != nil {
		for _, r := range dkimRecords() {
			out = append(out, admin.DNSRecord{Name: r[0], Type: "TXT", Value: r[1],
				Why: "The public key receivers check each message's DKIM signature with."})
		}
	}
	out = append(out, admin.DNSRecord{Name: "_dmarc." + fromDomain, Type: "TXT",
		Value: "v=DMARC1; p=none; rua=mailto:" + cfg.Site.Email,
		Why:   "Tells receivers what to do with mail From @" + fromDomain + " that fails SPF and DKIM; start with p=none, read the reports, then move to p=quarantine."})
	if cfg.Inbound.SMTPListen != "" {
		host := envDomain
		if u, err := url.Parse(cfg.Site.BaseURL); err == nil && u.Hostname() != "" {
			host = u.Hostname()
		}
		out = append(out, admin.DNSRecord{Name: envDomain, Type: "MX", Value: "10 " + host + ".",
			Why: "Sends bounces and mailto unsubscribes to tidings' own receiver (inbound.smtp_listen)."})
	}
	return out
}
