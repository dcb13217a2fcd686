package mailbox

import (
	"cmp"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"slices"
	"sort"
	"time"

	"github.com/emersion/go-imap"
	"github.com/emersion/go-imap/client"
)

// Keyword marks a message tidings has looked at, so that the next poll
// passes it by. Moved messages need none; kept ones and flagged ones
// carry it.
const Keyword = "$Tidings"

// Verdict is what the callback made of a message.
type Verdict int

const (
	// Handled messages (acted on, or deliberately ignored, like an
	// auto-reply) are moved to the processed folder or flagged \Seen.
	Handled Verdict = iota
	// Kept messages (unmatched mail) stay where they are, unread, for a
	// person to look at; only the keyword is added.
	Kept
)

// Poller polls one folder of one IMAP mailbox.
type Poller struct {
	// Addr is the server's host:port.
	Addr string
	// TLS is "implicit" (IMAPS), "starttls" or "none"; "none" only
	// to a loopback address (ClearTextAllowed).
	TLS string
	// TLSConfig, when set, verifies the server instead of the system's
	// roots and the host of Addr (tests pass their own).
	TLSConfig *tls.Config
	Username  string
	Password  string
	// NoPassword says what to do when Password is empty; the poll fails
	// with it rather than trying to log in without one.
	NoPassword string
	// Folder is polled; "" is INBOX.
	Folder string
	// ProcessedFolder receives handled messages (created if missing);
	// "" flags them \Seen and Keyword where they are instead.
	ProcessedFolder string
	// MaxBytes skips larger messages by their RFC822.SIZE: logged, kept
	// and never downloaded. 0: 10 MiB.
	MaxBytes int64
	// Every is the wait between polls, and the first step of the
	// backoff after a failure. 0: a minute.
	Every time.Duration
	// Timeout bounds dialling and each command. 0: a minute.
	Timeout time.Duration
	Logger  *slog.Logger // nil: discard
	// Handle classifies and acts on one raw message. An error leaves the
	// message where it is, untouched, and ends the poll: it is tried
	// again on the next.
	Handle func(ctx context.Context, raw []byte) (Verdict, error)
	// Polled, when set, hears the outcome of each poll (for metrics).
	Polled func(Report, error)

	// looked holds the UIDs looked at and left in this folder, for a
	// server that keeps no keywords (until a restart, when they are
	// looked at once more); validity is the folder's UIDVALIDITY they
	// belong to. Poll is not for concurrent use.
	looked   map[uint32]bool
	validity uint32
}

// Report counts what one poll did.
type Report struct {
	Handled  int // moved or flagged
	Kept     int // unmatched, left in the folder
	TooLarge int // skipped by size, left in the folder
}

// ClearTextAllowed reports whether a password may cross to addr without
// TLS: only to a loopback address, where no one else can read it.
func ClearTextAllowed(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		host = addr
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// Run polls every p.Every until ctx ends, then returns nil. A poll that
// fails (the server is down, the password wrong, the folder missing) is
// logged with its cause and tried again later, waiting twice as long
// after each failure in a row, up to an hour.
func (p *Poller) Run(ctx context.Context) error {
	log := p.log()
	fails := 0
	for {
		r, err := p.Poll(ctx)
		if ctx.Err() != nil {
			return nil
		}
		wait := p.every()
		switch {
		case err != nil:
			fails++
			wait = backoff(wait, fails)
			log.Error("imap poll failed; trying again later", "addr", p.Addr, "folder", p.folder(), "error", err,
				"failures_in_a_row", fails, "next_try_in", wait.String())
		case fails > 0:
			log.Info("imap poll works again", "addr", p.Addr, "folder", p.folder(), "after_failures", fails)
			fails = 0
		}
		if err == nil && r != (Report{}) {
			log.Info("imap poll", "folder", p.folder(), "handled", r.Handled, "kept", r.Kept, "too_large", r.TooLarge)
		}
		if p.Polled != nil {
			p.Polled(r, err)
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil
		case <-t.C:
		}
	}
}

// backoff is the wait after fails failures in a row: every doubled for
// each, at most an hour (or every, when that is longer).
func backoff(every time.Duration, fails int) time.Duration {
	limit := max(time.Hour, every)
	d := every
	for range min(fails, 20) {
		d *= 2
		if d >= limit {
			return limit
		}
	}
	return d
}

// Poll logs in once, hands every message not looked at yet to Handle,
// oldest first, files each as its verdict says, and logs out.
func (p *Poller) Poll(ctx context.Context) (Report, error) {
	var r Report
	c, err := p.connect(ctx)
	if err != nil {
		return r, err
	}
	stop := context.AfterFunc(ctx, func() { c.Terminate() })
	defer func() {
		if stop() {
			c.Logout()
		}
	}()
	folder := p.folder()
	mbox, err := c.Select(folder, false)
	if err != nil {
		return r, fmt.Errorf("select folder %q of %s: %w", folder, p.Username, err)
	}
	if p.looked == nil || mbox.UidValidity != p.validity {
		p.looked, p.validity = map[uint32]bool{}, mbox.UidValidity
	}
	f := filer{c: c, keywords: slices.Contains(mbox.PermanentFlags, imap.TryCreateFlag) || slices.Contains(mbox.PermanentFlags, Keyword)}
	if p.ProcessedFolder != "" {
		if err := ensureFolder(c, p.ProcessedFolder); err != nil {
			return r, err
		}
		if f.move, err = c.Support("MOVE"); err != nil {
			return r, fmt.Errorf("capabilities: %w", err)
		}
		if !f.move {
			p.log().Warn("the server has no MOVE: handled messages are copied to the processed folder and flagged where they are, never expunged",
				"addr", p.Addr, "processed_folder", p.ProcessedFolder)
		}
	}
	if mbox.Messages == 0 {
		return r, nil
	}
	uids, err := c.UidSearch(&imap.SearchCriteria{WithoutFlags: []string{Keyword}})
	if err != nil {
		return r, fmt.Errorf("search folder %q: %w", folder, err)
	}
	// Forget what left the folder meanwhile: looked stays as small as it.
	present := make(map[uint32]bool, len(p.looked))
	for _, u := range uids {
		if p.looked[u] {
			present[u] = true
		}
	}
	p.looked = present
	uids = slices.DeleteFunc(uids, func(u uint32) bool { return p.looked[u] })
	if len(uids) == 0 {
		return r, nil
	}
	sizes, err := fetchSizes(c, uids)
	if err != nil {
		return r, err
	}
	sort.Slice(uids, func(i, j int) bool { return uids[i] < uids[j] })
	limit := p.maxBytes()
	for _, uid := range uids {
		if err := ctx.Err(); err != nil {
			return r, err
		}
		size, ok := sizes[uid]
		if !ok {
			continue // expunged by someone else meanwhile
		}
		if int64(size) > limit {
			p.log().Warn("imap message too large: skipped and left in the folder", "folder", folder, "uid", uid,
				"bytes", size, "max_bytes", limit)
			if err := f.keep(uid); err != nil {
				return r, err
			}
			p.remember(f, uid)
			r.TooLarge++
			continue
		}
		raw, err := fetchBody(c, uid, limit)
		if err != nil {
			return r, err
		}
		if raw == nil {
			continue // gone meanwhile
		}
		v, err := p.Handle(ctx, raw)
		if err != nil {
			return r, fmt.Errorf("message uid %d left in %q for the next poll: %w", uid, folder, err)
		}
		if v == Kept {
			if err := f.keep(uid); err != nil {
				return r, err
			}
			p.remember(f, uid)
			r.Kept++
			continue
		}
		if err := f.handled(uid, p.ProcessedFolder); err != nil {
			return r, err
		}
		if p.ProcessedFolder == "" || !f.move {
			p.remember(f, uid) // still in the folder
		}
		r.Handled++
	}
	return r, nil
}

// remember notes that uid, left in the folder, was looked at, where the
// server keeps no keyword to say so.
func (p *Poller) remember(f filer, uid uint32) {
	if !f.keywords {
		p.looked[uid] = true
	}
}

// connect dials, secures the connection as p.TLS says, and logs in.
func (p *Poller) connect(ctx context.Context) (*client.Client, error) {
	if p.Password == "" {
		return nil, fmt.Errorf("imap %s: no password for %q: %s", p.Addr, p.Username, cmp.Or(p.NoPassword, "set one"))
	}
	dialer := &net.Dialer{Timeout: p.timeout()}
	host, _, err := net.SplitHostPort(p.Addr)
	if err != nil {
		return nil, fmt.Errorf("imap address %q: %w", p.Addr, err)
	}
	cfg := p.TLSConfig
	if cfg == nil {
		cfg = &tls.Config{ServerName: host, MinVersion: tls.VersionTLS12}
	}
	var c *client.Client
	switch p.TLS {
	case "implicit":
		c, err = client.DialWithDialerTLS(dialer, p.Addr, cfg)
	case "starttls", "none":
		if p.TLS == "none" && !ClearTextAllowed(p.Addr) {
			return nil, fmt.Errorf("imap %s: refusing to send a password without TLS to a host that is not loopback", p.Addr)
		}
		c, err = client.DialWithDialer(dialer, p.Addr)
	default:
		return nil, fmt.Errorf("imap tls %q: want implicit, starttls or none", p.TLS)
	}
	if err != nil {
		return nil, fmt.Errorf("connect to imap server %s: %w", p.Addr, err)
	}
	c.ErrorLog = slogLogger{p.log()}
	c.Timeout = p.timeout()
	if ctx.Err() != nil {
		c.Terminate()
		return nil, ctx.Err()
	}
	if p.TLS == "starttls" {
		if ok, err := c.SupportStartTLS(); err != nil || !ok {
			c.Terminate()
			return nil, fmt.Errorf("imap server %s offers no STARTTLS (%v): use tls = \"implicit\" on its IMAPS port", p.Addr, err)
		}
		if err := c.StartTLS(cfg); err != nil {
			c.Terminate()
			return nil, fmt.Errorf("starttls with %s: %w", p.Addr, err)
		}
	}
	if err := c.Login(p.Username, p.Password); err != nil {
		c.Terminate()
		return nil, fmt.Errorf("log in to %s as %q: %w", p.Addr, p.Username, err)
	}
	return c, nil
}

// filer files messages in the selected folder.
type filer struct {
	c        *client.Client
	keywords bool // the folder keeps Keyword
	move     bool // the server has MOVE
}

// keep marks uid as looked at, and nothing else: it stays unread.
func (f filer) keep(uid uint32) error {
	if !f.keywords {
		return nil
	}
	return f.flag(uid, Keyword)
}

// handled moves uid to folder, or flags it \Seen and Keyword where it
// is. Without MOVE it copies and flags: the original stays, never
// expunged.
func (f filer) handled(uid uint32, folder string) error {
	set := new(imap.SeqSet)
	set.AddNum(uid)
	if folder != "" && f.move {
		if err := f.c.UidMove(set, folder); err != nil {
			return fmt.Errorf("move message uid %d to %q: %w", uid, folder, err)
		}
		return nil
	}
	if folder != "" {
		if err := f.c.UidCopy(set, folder); err != nil {
			return fmt.Errorf("copy message uid %d to %q: %w", uid, folder, err)
		}
	}
	flags := []string{imap.SeenFlag}
	if f.keywords {
		flags = append(flags, Keyword)
	}
	return f.flag(uid, flags...)
}

func (f filer) flag(uid uint32, flags ...string) error {
	set := new(imap.SeqSet)
	set.AddNum(uid)
	vals := make([]any, len(flags))
	for i, fl := range flags {
		vals[i] = fl
	}
	if err := f.c.UidStore(set, imap.FormatFlagsOp(imap.AddFlags, true), vals, nil); err != nil {
		return fmt.Errorf("flag message uid %d %v: %w", uid, flags, err)
	}
	return nil
}

// ensureFolder creates folder unless it is there.
func ensureFolder(c *client.Client, folder string) error {
	ch := make(chan *imap.MailboxInfo, 10)
	done := make(chan error, 1)
	go func() { done <- c.List("", folder, ch) }()
	found := false
	for m := range ch {
		found = found || m.Name == folder
	}
	if err := <-done; err != nil {
		return fmt.Errorf("look for folder %q: %w", folder, err)
	}
	if found {
		return nil
	}
	if err := c.Create(folder); err != nil {
		return fmt.Errorf("create processed folder %q: %w", folder, err)
	}
	return nil
}

// fetchSizes reads the RFC822.SIZE of each of uids.
func fetchSizes(c *client.Client, uids []uint32) (map[uint32]uint32, error) {
	set := new(imap.SeqSet)
	set.AddNum(uids...)
	ch := make(chan *imap.Message, 16)
	done := make(chan error, 1)
	go func() { done <- c.UidFetch(set, []imap.FetchItem{imap.FetchUid, imap.FetchRFC822Size}, ch) }()
	sizes := make(map[uint32]uint32, len(uids))
	for m := range ch {
		if m.Uid != 0 {
			sizes[m.Uid] = m.Size
		}
	}
	if err := <-done; err != nil {
		return nil, fmt.Errorf("fetch message sizes: %w", err)
	}
	return sizes, nil
}

// fetchBody downloads one message whole without marking it \Seen; nil
// when it is gone. At most limit+1 bytes are kept, so that a server
// that understated the size still meets the classifier's limit.
func fetchBody(c *client.Client, uid uint32, limit int64) ([]byte, error) {
	set := new(imap.SeqSet)
	set.AddNum(uid)
	section := &imap.BodySectionName{Peek: true}
	ch := make(chan *imap.Message, 1)
	done := make(chan error, 1)
	go func() { done <- c.UidFetch(set, []imap.FetchItem{imap.FetchUid, section.FetchItem()}, ch) }()
	var raw []byte
	var rerr error
	for m := range ch {
		if m.Uid != uid {
			continue
		}
		if l := m.GetBody(section); l != nil {
			raw, rerr = io.ReadAll(io.LimitReader(l, limit+1))
			if raw == nil {
				raw = []byte{}
			}
		}
	}
	if err := errors.Join(<-done, rerr); err != nil {
		return nil, fmt.Errorf("fetch message uid %d: %w", uid, err)
	}
	return raw, nil
}

func (p *Poller) folder() string {
	if p.Folder == "" {
		return "INBOX"
	}
	return p.Folder
}

func (p *Poller) every() time.Duration {
	if p.Every <= 0 {
		return time.Minute
	}
	return p.Every
}

func (p *Poller) timeout() time.Duration {
	if p.Timeout <= 0 {
		return time.Minute
	}
	return p.Timeout
}

func (p *Poller) maxBytes() int64 {
	if p.MaxBytes <= 0 {
		return 10 << 20
	}
	return p.MaxBytes
}

func (p *Poller) log() *slog.Logger {
	if p.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return p.Logger
}

// slogLogger takes the IMAP client's own complaints (responses it could
// not parse) into the log.
type slogLogger struct{ l *slog.Logger }

func (s slogLogger) Printf(format string, v ...any) {
	s.l.Debug("imap client: " + fmt.Sprintf(format, v...))
}
func (s slogLogger) Println(v ...any) { s.l.Debug("imap client: " + fmt.Sprint(v...)) }
