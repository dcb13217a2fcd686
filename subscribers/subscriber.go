package subscribers

import (
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Status is where a subscriber stands. Only confirmed subscribers receive
// digests.
type Status string

// The statuses a subscriber can have.
const (
	StatusPending      Status = "pending"      // signed up, not confirmed yet
	StatusConfirmed    Status = "confirmed"    // receives its digests
	StatusUnsubscribed Status = "unsubscribed" // left, by link, page or operator
	StatusBounced      Status = "bounced"      // the address does not take mail
	StatusComplained   Status = "complained"   // marked a digest as spam
)

// ParseStatus reads a status name, ignoring case and surrounding spaces.
func ParseStatus(s string) (Status, error) {
	st := Status(strings.ToLower(strings.TrimSpace(s)))
	if !st.Valid() {
		return "", &FieldError{Field: "status", Err: &reasonError{
			msg: fmt.Sprintf("%q is not a status (pending, confirmed, unsubscribed, bounced, complained)", clip(s, 40)),
			err: ErrInvalidStatus}}
	}
	return st, nil
}

// Valid reports whether st is one of the five statuses.
func (st Status) Valid() bool {
	switch st {
	case StatusPending, StatusConfirmed, StatusUnsubscribed, StatusBounced, StatusComplained:
		return true
	}
	return false
}

// isNo reports whether st is a person's no (they left, or their address
// or their complaint said so): an import never turns it back into a yes.
func (st Status) isNo() bool {
	return st == StatusUnsubscribed || st == StatusBounced || st == StatusComplained
}

// Subscriber is one address on the list.
type Subscriber struct {
	ID             int64
	Email          string // normalized: see NormalizeAddress
	Name           string
	Status         Status
	Digests        []string // the digests it receives, sorted
	Route          string   // how it came in: form, json, api, cli, import
	CreatedAt      time.Time
	ConfirmedAt    *time.Time
	UnsubscribedAt *time.Time
	ConfirmSentAt  *time.Time // when the last confirmation mail went out
	BounceCount    int        // permanent bounces
	ComplaintCount int
	// TimeZone is an IANA name ("Europe/Berlin") checked by ParseTimeZone,
	// or "" for the site's zone: a digest delivered at a local hour mails
	// the subscriber at that hour there.
	TimeZone string
	// Nonce is mixed into every token for the subscriber (see Tokens):
	// renewing it ends every link made before. Not for display.
	Nonce uint64
}

// EventKind names what happened in an Event.
type EventKind string

// The kinds of events recorded.
const (
	EventSubscribed       EventKind = "subscribed"
	EventConfirmed        EventKind = "confirmed"
	EventUnsubscribed     EventKind = "unsubscribed"
	EventPreferences      EventKind = "preferences"
	EventBounced          EventKind = "bounced"
	EventComplained       EventKind = "complained"
	EventImported         EventKind = "imported"
	EventErased           EventKind = "erased"
	EventConfirmationSent EventKind = "confirmation_sent"
	EventUpdated          EventKind = "updated"
)

// Event is one entry in the append-only consent and delivery record.
type Event struct {
	ID           int64
	SubscriberID int64 // 0 for an erasure, whose subscriber is gone
	Kind         EventKind
	At           time.Time
	IP           string
	UserAgent    string
	Route        string
	Detail       string
}

// Meta says who asked; it is recorded with each event. Route: "form",
// "json", "api", "cli", "import", "link", "one-click".
type Meta struct {
	IP, UserAgent, Route string
	// TimeZone is the zone the person's browser reported with a sign-up
	// (an IANA name already checked by ParseTimeZone, or ""): SignUp
	// stores it on a new or pending subscriber. Like the user agent it
	// describes the asker's client; unlike it, it is not an event field.
	TimeZone string
}

// Errors returned by the store. Input errors come wrapped in a *FieldError
// naming the field.
var (
	ErrNotFound       = errors.New("subscriber not found")
	ErrInvalidAddress = errors.New("invalid email address")
	ErrUnknownDigest  = errors.New("unknown digest")
	ErrInvalidName    = errors.New("invalid name")
	ErrInvalidStatus  = errors.New("invalid status")
	ErrSuppressed     = errors.New("address was erased on request")
	ErrExists         = errors.New("address is already on the list")
	ErrNotPending     = errors.New("subscription is not waiting for confirmation")
	ErrInvalidZone    = errors.New("invalid time zone")
)

// FieldError names the input field that was wrong.
type FieldError struct {
	Field string
	Err   error
}

func (e *FieldError) Error() string { return e.Field + ": " + e.Err.Error() }
func (e *FieldError) Unwrap() error { return e.Err }

// reasonError reads as its reason and matches its sentinel with errors.Is,
// so a message says "name: contains a line break" rather than repeating
// "invalid name".
type reasonError struct {
	msg string
	err error
}

func (e *reasonError) Error() string { return e.msg }
func (e *reasonError) Unwrap() error { return e.err }

// maxNameRunes bounds a name: enough for any real one, small enough for a
// mail header.
const maxNameRunes = 100

// validateName trims a name and checks it can go into a mail header. Quotes
// are fine: the mail code encodes the name.
func validateName(name string) (string, error) {
	name = strings.TrimSpace(name)
	bad := func(why string) (string, error) {
		return "", &FieldError{Field: "name", Err: &reasonError{msg: why, err: ErrInvalidName}}
	}
	if !utf8.ValidString(name) {
		return bad("is not valid UTF-8")
	}
	if n := utf8.RuneCountInString(name); n > maxNameRunes {
		return bad(fmt.Sprintf("is %d characters long, at most %d fit", n, maxNameRunes))
	}
	for _, r := range name {
		switch {
		case r == '\r' || r == '\n' || r == '\u2028' || r == '\u2029':
			return bad("contains a line break")
		case unicode.IsControl(r):
			return bad("contains a control character")
		}
	}
	return name, nil
}

// clip shortens s to at most n bytes, on a rune boundary, for error
// messages and event fields that must stay small whatever is sent.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// maxZoneBytes bounds a time zone name: the longest IANA name
// ("America/Argentina/ComodRivadavia") is 32 bytes.
const maxZoneBytes = 64

// ParseTimeZone checks an IANA time zone name ("Europe/Berlin") against
// the zone database and returns it trimmed; "" stays "" (the site's
// zone). "Local", which would mean the server's own zone, is refused, as
// is anything time.LoadLocation does not know. Bad input gives a
// *FieldError for "timezone".
func ParseTimeZone(name string) (string, error) {
	name = strings.TrimSpace(name)
	if name == "" {
		return "", nil
	}
	bad := func() (string, error) {
		return "", &FieldError{Field: "timezone", Err: &reasonError{
			msg: fmt.Sprintf("%q is not a time zone (use an IANA name like Europe/Berlin, or leave it empty for the site's zone)", clip(name, 40)),
			err: ErrInvalidZone}}
	}
	if len(name) > maxZoneBytes || name == "Local" || !utf8.ValidString(name) {
		return bad()
	}
	if _, err := time.LoadLocation(name); err != nil {
		return bad()
	}
	return name, nil
}
