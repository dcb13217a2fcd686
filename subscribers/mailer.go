package subscribers

import (
	"context"
	htmltemplate "html/template"
	"strings"
	texttemplate "text/template"
	"time"

	"github.com/tidings/tidings/templates"
)

// Mail is a message this package wants sent: a notice to one subscriber.
type Mail struct {
	ToName, ToEmail string
	Subject         string
	Text, HTML      string
}

// Mailer queues the notices this package asks for. cmd/tidings wires it to
// the mail ledger, whose sender composes them through Notices and sends
// them off the request that asked, with retries: a sign-up never waits for
// an SMTP server, and its answer never depends on one.
type Mailer interface {
	// Queue asks for a notice of kind (NoticeConfirm ...) to subscriber id
	// at email.
	Queue(ctx context.Context, kind string, id int64, email string) error
}

// noticeMail renders one kind of notice: mail/KIND.txt and .html.
type noticeMail struct {
	txt  *texttemplate.Template
	html *htmltemplate.Template
}

func newNoticeMail(dir, kind string) (*noticeMail, error) {
	txt, html, err := templates.Mail(dir, kind, nil)
	if err != nil {
		return nil, err
	}
	return &noticeMail{txt: txt, html: html}, nil
}

// noticeData is what the notice templates see. No name: whoever typed the
// address may have typed any name too, and it is not shown before the
// address's owner confirms.
type noticeData struct {
	Site SiteInfo
	Name string // empty before the address is confirmed

	Email          string
	Digests        []string
	ConfirmURL     string
	TTL            string
	PreferencesURL string
	UnsubscribeURL string
}

func (c *noticeMail) render(subject string, d noticeData) (*Mail, error) {
	var txt, html strings.Builder
	if err := c.txt.Execute(&txt, d); err != nil {
		return nil, err
	}
	if err := c.html.Execute(&html, d); err != nil {
		return nil, err
	}
	return &Mail{ToEmail: d.Email, Subject: subject, Text: txt.String(), HTML: html.String()}, nil
}

// humanDuration says 72h as "3 days" and 90m as "90 minutes".
func humanDuration(d time.Duration) string {
	switch {
	case d >= 48*time.Hour && d%(24*time.Hour) == 0:
		return itoa(int(d/(24*time.Hour))) + " days"
	case d >= 2*time.Hour && d%time.Hour == 0:
		return itoa(int(d/time.Hour)) + " hours"
	case d >= 2*time.Minute:
		return itoa(int(d/time.Minute)) + " minutes"
	}
	return d.String()
}
