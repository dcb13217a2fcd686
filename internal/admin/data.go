package admin

import (
	"github.com/tidings/tidings/feed"
	"github.com/tidings/tidings/mail"
	"github.com/tidings/tidings/subscribers"
)

// Data is what the pages read, each through the package that owns it:
// the admin queries none of their tables itself. cmd/tidings wires it;
// a nil part leaves its panels out.
type Data struct {
	Subscribers *subscribers.Store
	Ledger      *mail.Ledger
	Scheduler   *mail.Scheduler
	Digests     []mail.Digest
	Settings    Settings
	MailData
}

// Settings is what the settings page shows, prepared by cmd/tidings from
// the Config, which this package does not know.
type Settings struct {
	// Config is the effective configuration as TOML, secrets masked
	// (what `tidings config check` prints).
	Config string
	// DNS are the records the operator should publish.
	DNS []DNSRecord
}

// DNSRecord is one record to publish, and why.
type DNSRecord struct {
	Name, Type, Value string
	Why               string
}

// The editions, digests and articles pages read these besides Ledger,
// Scheduler and Digests (editions_page.go, digests_page.go,
// articles_page.go).
type MailData struct {
	Articles *feed.Store
	// Rejections are the content files the last scan rejected (nil:
	// the articles page leaves them out).
	Rejections func() []feed.Rejection
	// Sources are the configured upstream feeds ([[sources]]).
	Sources []Source
	// Actions are what those pages do that needs the app.
	Actions Actions
}
