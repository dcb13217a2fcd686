package mail

import (
	"context"
	"fmt"
	"net/mail"
	"strings"
	"text/template"
	"time"
	"unicode/utf8"

	"github.com/tidings/tidings/feed"
	"github.com/tidings/tidings/mail/transport"
	"github.com/tidings/tidings/subscribers"
)

// Digest is one [[digests]] table of the config.
type Digest struct {
	Name        string
	Title       string
	Description string
	Schedule    string
	Tags        []string // empty: every article
	MaxArticles int      // 0: no limit
	SkipEmpty   bool
	CatchUp     bool // plan once at start when a moment passed while tidings was down
	FullContent bool // the whole article in the mail rather than its summary
	// Subject is a text/template over SubjectData; "" uses DefaultSubject.
	Subject string
	From    mail.Address
	// Mode is ModeDigest (Schedule says when) or ModeEach: every new
	// article its own edition, Delay after it was published.
	Mode  string
	Delay time.Duration
	// DeliverAt, when set, has each subscriber receive an edition at that
	// time of day in their own zone (see Ledger.Plan); Schedule then only
	// says when the edition is frozen.
	DeliverAt LocalTime
}

// Articles is what mail needs of the article store; *feed.Store
// satisfies it. The articles table is feed's: mail reads it only through
// these methods.
type Articles interface {
	// List returns the articles o selects, newest first.
	List(ctx context.Context, o feed.ListOptions) ([]*feed.Article, error)
	// ByIDs returns the articles with the given ids in that order,
	// whatever their state (drafts, removed ones too); ids no article has
	// are left out.
	ByIDs(ctx context.Context, ids []string) ([]*feed.Article, error)
}

// Recipients is what mail needs of the subscriber store;
// *subscribers.Store satisfies it. The subscribers' tables are theirs:
// mail reads and changes them only through these methods.
type Recipients interface {
	// ConfirmedAfterQuery returns a SELECT of the columns id, email and
	// timezone of at most limit confirmed subscribers of digest ("" for
	// those of any digest) with an id above after, by id, and its
	// arguments. Planning queues them from it in one INSERT … SELECT,
	// inside its write transaction.
	ConfirmedAfterQuery(digest string, after int64, limit int) (string, []any)
	// Deliverable returns subscriber id when it still receives digest,
	// nil when it does not, and an error wrapping subscribers.ErrNotFound
	// when it was erased. The sender asks right before each message.
	Deliverable(ctx context.Context, id int64, digest string) (*subscribers.Subscriber, error)
	// DeliverableAll is Deliverable for a claimed batch in one query: a
	// subscriber per id that still receives digest, nil for one that does
	// not, no entry for one erased.
	DeliverableAll(ctx context.Context, ids []int64, digest string) (map[int64]*subscribers.Subscriber, error)
	// RecordBounce counts a bounce of mail to subscriber id.
	RecordBounce(ctx context.Context, id int64, permanent bool, detail string, bounceLimit int) error
}

// Composer builds the message of one delivery: subject, text and HTML
// bodies, From and the list headers. The sender sets the Message-ID (the
// delivery's, the same on every attempt) and, when Compose leaves it
// empty, To.
type Composer interface {
	// Compose returns the message of edition e for subscriber s. An error
	// is treated as temporary: the delivery is tried again later.
	Compose(ctx context.Context, e *Edition, s *subscribers.Subscriber) (*transport.Message, error)
}

var (
	_ Articles   = (*feed.Store)(nil)
	_ Recipients = (*subscribers.Store)(nil)
)

// DefaultSubject is the subject of a digest that sets none: its title and
// the title of the newest article, "Example News: Harbour reopens (and 4
// more)".
const DefaultSubject = `{{.Title}}{{with .First}}: {{.}}{{if gt $.More 0}} (and {{$.More}} more){{end}}{{end}}`

// maxSubjectRunes bounds a rendered subject: longer ones are cut by mail
// clients anyway.
const maxSubjectRunes = 200

// SubjectData is what a subject template sees.
type SubjectData struct {
	Name     string    // the digest's name
	Title    string    // the digest's title, or its name when it has none
	Date     time.Time // the schedule moment of the edition
	Count    int       // number of articles
	More     int       // articles after the first: Count-1, or 0
	First    string    // title of the newest article, "" when none
	Articles []*feed.Article
}

// RenderSubject renders d's subject for an edition of articles at the
// schedule moment at. Line breaks and runs of spaces become one space, so
// that the result fits a header; an empty result falls back to the title.
func (d Digest) RenderSubject(articles []*feed.Article, at time.Time) (string, error) {
	src := d.Subject
	if src == "" && d.Mode == ModeEach {
		src = EachSubject
	} else if src == "" {
		src = DefaultSubject
	}
	tmpl, err := template.New("subject").Option("missingkey=error").Parse(src)
	if err != nil {
		return "", fmt.Errorf("digest %s: subject template: %w", d.Name, err)
	}
	data := SubjectData{Name: d.Name, Title: d.Title, Date: at, Count: len(articles), Articles: articles}
	if data.Title == "" {
		data.Title = d.Name
	}
	if len(articles) > 0 {
		data.First, data.More = articles[0].Title, len(articles)-1
	}
	var b strings.Builder
	if err := tmpl.Execute(&b, data); err != nil {
		return "", fmt.Errorf("digest %s: subject template: %w", d.Name, err)
	}
	s := strings.Join(strings.Fields(b.String()), " ")
	if s == "" {
		s = data.Title
	}
	if utf8.RuneCountInString(s) > maxSubjectRunes {
		s = string([]rune(s)[:maxSubjectRunes-1]) + "…"
	}
	return s, nil
}

// CheckSubject reports an error in d's subject template, as rendering an
// edition of one article would meet it, so that a config check finds it
// before the first edition does.
func (d Digest) CheckSubject() error {
	_, err := d.RenderSubject([]*feed.Article{{ID: "example", Title: "Example article", Tags: []string{"example"}}}, time.Now())
	return err
}

// domainOf returns what follows the last @ of an address: the domain of
// a digest's From address names its lists, its Message-IDs and its mailto
// unsubscribe address.
func domainOf(addr string) string {
	return addr[strings.LastIndexByte(addr, '@')+1:]
}
