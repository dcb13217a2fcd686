package admin

import (
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
