package mail

import (
	"bytes"
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/pelletier/go-toml/v2"
	"go.yaml.in/yaml/v3"

	"github.com/tidings/tidings/feed/content"
)

// AllDigests is the target of a broadcast to every confirmed subscriber,
// whatever digests they receive; no digest may be named so.
const AllDigests = "all"

// Broadcast is a one-off mail read from a Markdown file: front matter
// with its subject (and a preheader, the line inboxes show after it),
// then the body.
type Broadcast struct {
	Subject, Preheader string
	HTML, Text         string // sanitised, links absolute; and written as text
	Hash               string // of the file, to send it to one target once
}

// ErrBroadcastSent is returned when the same file was sent to the same
// target already: sending it again needs saying so (again).
var ErrBroadcastSent = errors.New("this file was sent to these subscribers already")

// broadcastHead is the front matter a broadcast file may have.
type broadcastHead struct {
	Subject   string `yaml:"subject" toml:"subject"`
	Preheader string `yaml:"preheader" toml:"preheader"`
}

// ParseBroadcast reads a broadcast file: YAML between --- lines or TOML
// between +++ lines naming subject (required) and preheader, then
// Markdown. The body is sanitised and its links made absolute by r, as
// an article's are. An unknown key, no subject or no body is an error
// naming what is wrong.
func ParseBroadcast(name string, data []byte, r *content.Renderer) (Broadcast, error) {
	sum := sha256.Sum256(data)
	b := Broadcast{Hash: hex.EncodeToString(sum[:])}
	src := strings.ReplaceAll(string(bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))), "\r\n", "\n")
	delim := ""
	switch {
	case strings.HasPrefix(src, "---\n"):
		delim = "---"
	case strings.HasPrefix(src, "+++\n"):
		delim = "+++"
	default:
		return b, fmt.Errorf("%s: a broadcast starts with front matter naming its subject (---, subject: ..., ---)", name)
	}
	rest := src[len(delim)+1:]
	end := strings.Index("\n"+rest, "\n"+delim+"\n")
	if end < 0 && strings.HasSuffix(rest, "\n"+delim) {
		end = len(rest) - len(delim)
	}
	if end < 0 {
		return b, fmt.Errorf("%s: the front matter is never closed by a %s line", name, delim)
	}
	head, body := rest[:end], ""
	if end+len(delim)+1 <= len(rest) {
		body = rest[min(end+len(delim)+1, len(rest)):]
	}
	var h broadcastHead
	var err error
	if delim == "---" {
		dec := yaml.NewDecoder(strings.NewReader(head))
		dec.KnownFields(true)
		if err = dec.Decode(&h); errors.Is(err, io.EOF) {
			err = nil
		}
	} else {
		dec := toml.NewDecoder(strings.NewReader(head))
		dec.DisallowUnknownFields()
		err = dec.Decode(&h)
	}
	if err != nil {
		return b, fmt.Errorf("%s: front matter: %w (the keys are subject and preheader)", name, err)
	}
	b.Subject, b.Preheader = oneLine(h.Subject), oneLine(h.Preheader)
	if b.Subject == "" {
		return b, fmt.Errorf("%s: no subject: name one in the front matter (subject: ...)", name)
	}
	if strings.TrimSpace(body) == "" {
		return b, fmt.Errorf("%s: nothing follows the front matter", name)
	}
	html, err := r.Markdown(body)
	if err != nil {
		return b, fmt.Errorf("%s: %w", name, err)
	}
	d, err := r.Normalize(content.Doc{Title: b.Subject, HTML: html})
	if err != nil {
		return b, fmt.Errorf("%s: %w", name, err)
	}
	b.HTML, b.Text = d.HTML, strings.TrimRight(d.Text, "\n")
	return b, nil
}

// PlanBroadcast makes the edition of b for the subscribers of digest (or
// AllDigests) at the moment at (now, or later: its deliveries wait until
// then), with one queued delivery per confirmed subscriber, planned as
// Plan plans. The same file to the same target is refused with
// ErrBroadcastSent unless again is set; sending it again after its plan
// was cut short finishes that plan instead.
func (l *Ledger) PlanBroadcast(ctx context.Context, b Broadcast, d Digest, at time.Time, again bool) (*Edition, error) {
	if !strings.Contains(d.From.Address, "@") {
		return nil, fmt.Errorf("plan broadcast to %s: from address %q has no domain", d.Name, d.From.Address)
	}
	now := l.now()
	if at.IsZero() || at.Before(now) {
		at = now
	}
	key := b.Hash + "|" + d.Name
	if again {
		key += "|" + now.UTC().Format(time.RFC3339Nano)
	}
	// The same command again after its plan was cut short: finish that.
	var cut int64
	err := l.DB.Read.QueryRowContext(ctx, `SELECT id FROM editions WHERE source_key = ? AND planning != 0`, key).Scan(&cut)
	if err == nil {
		if _, err := l.finishPlan(ctx, cut); err != nil {
			return nil, fmt.Errorf("plan broadcast to %s: %w", d.Name, err)
		}
		return l.Edition(ctx, cut)
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("plan broadcast to %s: %w", d.Name, err)
	}
	ed := &Edition{Digest: d.Name, Kind: EditionBroadcast, ScheduledAt: at.UTC(), CreatedAt: now.UTC(),
		Subject: b.Subject, BodyHTML: b.HTML, BodyText: b.Text, Preheader: b.Preheader, SourceKey: key, State: EditionSending}
	err = l.inTx(ctx, func(tx *sql.Tx) error {
		var id int64
		err := tx.QueryRowContext(ctx, `SELECT id FROM editions WHERE source_key = ?`, key).Scan(&id)
		if err == nil {
			return fmt.Errorf("%w (edition %d); to send it once more, say --again", ErrBroadcastSent, id)
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		// Due at its moment: now, or later when sent --at then.
		return insertEdition(ctx, tx, ed, plan{due: ed.ScheduledAt, domain: domainOf(d.From.Address)})
	})
	if err != nil {
		return nil, fmt.Errorf("plan broadcast to %s: %w", d.Name, err)
	}
	n, err := l.planDeliveries(ctx, ed)
	if err != nil {
		return nil, fmt.Errorf("plan broadcast to %s: %w", d.Name, err)
	}
	l.log().Info("broadcast planned", "digest", d.Name, "edition", ed.ID, "deliveries", n, "at", at)
	return ed, nil
}
