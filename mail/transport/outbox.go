package transport

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// Outbox is the Transport used when no SMTP server is configured: each
// message becomes a file "<timestamp>-<message-id>.eml" in Dir, complete
// or absent (written to a temporary file, then renamed).
type Outbox struct {
	Dir    string // created if missing
	DKIM   *DKIM  // optional
	Now    func() time.Time
	Logger *slog.Logger // told each file's path; nil: nothing
}

var _ Transport = (*Outbox)(nil)

// Send writes m to a new file in Dir. Returns a *HeaderError for a
// message that cannot be rendered, or the filesystem's error.
func (o *Outbox) Send(ctx context.Context, m *Message) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	now := time.Now
	if o.Now != nil {
		now = o.Now
	}
	t := now()
	// A file is read by a person: its text goes as it stands (8bit), not
	// quoted-printable, so a link in it can be copied.
	c := *m
	c.eightBit = true
	raw, id, err := c.render(o.DKIM, t)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(o.Dir, 0o750); err != nil {
		return fmt.Errorf("outbox: %w", err)
	}
	name := t.UTC().Format("20060102T150405.000000000Z") + "-" + fileSafe(id) + ".eml"
	path := filepath.Join(o.Dir, name)
	if err := writeAtomic(path, raw); err != nil {
		return fmt.Errorf("outbox: %w", err)
	}
	if o.Logger != nil {
		o.Logger.Info("mail written to the outbox", "path", path, "to", m.To.Address, "subject", m.Subject)
	}
	return nil
}

// Close does nothing: an Outbox holds nothing open.
func (o *Outbox) Close() error { return nil }

// writeAtomic makes path appear with data in one step. The temporary file
// starts with a dot and does not end in .eml, so nothing that picks up
// *.eml sees it half written.
func writeAtomic(path string, data []byte) error {
	f, err := os.CreateTemp(filepath.Dir(path), ".outbox-*.tmp")
	if err != nil {
		return err
	}
	tmp := f.Name()
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		os.Remove(tmp)
		return err
	}
	return nil
}

// fileSafe keeps letters, digits, '.', '-', '_' and '@' of a Message-ID
// (without its angle brackets), replaces the rest with '_' and caps the
// length.
func fileSafe(id string) string {
	id = strings.TrimSuffix(strings.TrimPrefix(id, "<"), ">")
	b := []byte(id)
	for i, c := range b {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte(".-_@", c) >= 0) {
			b[i] = '_'
		}
	}
	if len(b) > 120 {
		b = b[:120]
	}
	return string(b)
}
