package subscribers

import (
	"context"
	"fmt"
	"net/url"
)

// Notices composes the mail this package asks for, when the sender comes
// to it: a confirmation link made then (so its time to live starts when
// it is sent), the note to an address subscribed already, or the welcome
// after confirming (the only one that greets by name: the address's owner
// has confirmed it). A notice
// whose moment has passed (the person confirmed, left or was erased
// meanwhile) composes to nil and is not sent.
type Notices struct {
	store      *Store
	tokens     *Tokens
	links      *Links
	opt        Options
	confirm    *noticeMail
	subscribed *noticeMail
	welcome    *noticeMail
}

// NewNotices parses the notice templates (mail/confirm.*, mail/subscribed.*;
// opt.TemplateDir overrides them) and returns the composer.
func NewNotices(store *Store, tokens *Tokens, opt Options) (*Notices, error) {
	n := &Notices{store: store, tokens: tokens, links: NewLinks(tokens, opt.Site), opt: opt}
	var err error
	if n.confirm, err = newNoticeMail(opt.TemplateDir, NoticeConfirm); err != nil {
		return nil, err
	}
	if n.subscribed, err = newNoticeMail(opt.TemplateDir, NoticeSubscribed); err != nil {
		return nil, err
	}
	if n.welcome, err = newNoticeMail(opt.TemplateDir, NoticeWelcome); err != nil {
		return nil, err
	}
	return n, nil
}

// ComposeNotice returns the notice of kind for subscriber id as it reads
// now, nil when it is no longer to be sent, or an error wrapping
// ErrNotFound for an erased subscriber.
func (n *Notices) ComposeNotice(ctx context.Context, kind string, id int64) (*Mail, error) {
	s, err := n.store.Get(ctx, id)
	if err != nil {
		return nil, err
	}
	d := noticeData{Site: n.opt.Site, Email: s.Email, Digests: n.titles(s.Digests)}
	switch kind {
	case NoticeConfirm:
		if s.Status != StatusPending {
			return nil, nil
		}
		d.ConfirmURL = n.opt.Site.URL("confirm?token=" + url.QueryEscape(n.tokens.Make(PurposeConfirm, s.ID, s.Nonce, n.opt.ConfirmTTL)))
		d.TTL = humanDuration(n.opt.ConfirmTTL)
		return n.confirm.render("Confirm your subscription to "+n.opt.Site.Title, d)
	case NoticeSubscribed:
		if s.Status != StatusConfirmed {
			return nil, nil
		}
		d.PreferencesURL, d.UnsubscribeURL = n.links.PreferencesURL(s), n.links.UnsubscribeURL(s)
		return n.subscribed.render("You are subscribed to "+n.opt.Site.Title+" already", d)
	case NoticeWelcome:
		if s.Status != StatusConfirmed {
			return nil, nil
		}
		// Confirmed: the name is the owner's own now.
		d.Name = s.Name
		d.PreferencesURL, d.UnsubscribeURL = n.links.PreferencesURL(s), n.links.UnsubscribeURL(s)
		m, err := n.welcome.render("Welcome to "+n.opt.Site.Title, d)
		if m != nil {
			m.ToName = s.Name
		}
		return m, err
	}
	return nil, fmt.Errorf("no %q notice", kind)
}

func (n *Notices) titles(names []string) []string {
	var out []string
	for _, d := range n.opt.Digests {
		for _, name := range names {
			if d.Name == name {
				out = append(out, d.Title)
			}
		}
	}
	return out
}
