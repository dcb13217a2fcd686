package subscribers

import (
	"context"
	htmltemplate "html/template"
	"strings"
	texttemplate "text/template"
	"time"

	"github.com/tidings/tidings/templates"
)

// Mail is a message this package wants sent: the confirmation mail.
type Mail struct {
	ToName, ToEmail string
	Subject         string
	Text, HTML      string
}

// Mailer sends mail for this package. cmd/tidings wires it to the mail
// transport (SMTP, or .eml files in the outbox). Send returns nil only when
// the message was accepted.
type Mailer interface {
	Send(ctx context.Context, m Mail) error
}

// confirmMail renders the confirmation mail.
type confirmMail struct {
	txt  *texttemplate.Template
	html *htmltemplate.Template
}

func newConfirmMail(dir string) (*confirmMail, error) {
	txt, html, err := templates.Mail(dir, "confirm", nil)
	if err != nil {
		return nil, err
	}
	return &confirmMail{txt: txt, html: html}, nil
}

type confirmData struct {
	Site       SiteInfo
	Name       string
	Email      string
	Digests    []string
	ConfirmURL string
	TTL        string
}

func (c *confirmMail) render(d confirmData) (Mail, error) {
	var txt, html strings.Builder
	if err := c.txt.Execute(&txt, d); err != nil {
		return Mail{}, err
	}
	if err := c.html.Execute(&html, d); err != nil {
		return Mail{}, err
	}
	return Mail{
		ToName: d.Name, ToEmail: d.Email,
		Subject: "Confirm your subscription to " + d.Site.Title,
		Text:    txt.String(), HTML: html.String(),
	}, nil
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
