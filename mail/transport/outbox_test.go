package transport

import (
	"context"
	"errors"
	"fmt"
	"net/mail"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestOutbox_WritesCompleteSignedFiles(t *testing.T) {
	d := testDKIMs(t)["rsa"]
	dir := filepath.Join(t.TempDir(), "data", "outbox") // created on the first Send
	var tick atomic.Int64
	o := &Outbox{Dir: dir, DKIM: d, Now: func() time.Time {
		return time.Date(2026, 1, 2, 3, 4, 5, int(tick.Add(1)), time.UTC)
	}}

	// A reader watches the folder while messages are written: every .eml
	// it ever sees must be whole and verify.
	var seen sync.Map
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		for {
			entries, _ := os.ReadDir(dir)
			for _, e := range entries {
				if !strings.HasSuffix(e.Name(), ".eml") {
					continue
				}
				if _, done := seen.Load(e.Name()); done {
					continue
				}
				raw, err := os.ReadFile(filepath.Join(dir, e.Name()))
				if err != nil {
					t.Errorf("read %s: %v", e.Name(), err)
					continue
				}
				parseMessage(t, raw)
				verifyDKIM(t, raw, d)
				seen.Store(e.Name(), true)
			}
			select {
			case <-stop:
				return
			default:
			}
		}
	})

	const n = 20
	var sends sync.WaitGroup
	for i := range n {
		sends.Go(func() {
			m := listMessage()
			m.To.Address = fmt.Sprintf("reader%d@example.com", i)
			if i == 0 {
				m.MessageID = "<digest/daily:7/../x@news.example.org>"
			}
			if err := o.Send(context.Background(), m); err != nil {
				t.Error(err)
			}
		})
	}
	sends.Wait()
	close(stop)
	wg.Wait()

	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != n {
		t.Fatalf("%d files, want %d (no temporary files left behind)", len(entries), n)
	}
	name := regexp.MustCompile(`^20260102T030405\.0000000\d\dZ-[0-9a-f]{32}@example\.org\.eml$`)
	stable := "-digest_daily_7_.._x@news.example.org.eml"
	for _, e := range entries {
		if !name.MatchString(e.Name()) && !strings.HasSuffix(e.Name(), stable) {
			t.Errorf("file name %q", e.Name())
		}
		raw, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		p := parseMessage(t, raw)
		verifyDKIM(t, raw, d)
		if !strings.HasPrefix(p.header.Get("To"), "\"Doe, \\\"Jane\\\"\" <reader") {
			t.Errorf("To = %q", p.header.Get("To"))
		}
	}
}

func TestOutbox_RefusesBeforeWriting(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "outbox")
	o := &Outbox{Dir: dir}
	m := &Message{From: mail.Address{Address: "a@example.org"}, To: mail.Address{Address: "b@example.org"},
		Subject: "x\r\nBcc: c@example.org", Text: "x"}
	if err := o.Send(context.Background(), m); !errors.Is(err, ErrHeaderInjection) {
		t.Fatalf("err = %v, want ErrHeaderInjection", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	m.Subject = "fine"
	if err := o.Send(ctx, m); !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	if _, err := os.Stat(dir); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("outbox folder exists after refused sends: %v", err)
	}
}

// A newcomer reads the confirmation link in an .eml file: a site title
// with accents must not make the text quoted-printable, which would show
// ?token= as ?token=3D and break long lines.
func TestOutbox_TextReadsAsItStands(t *testing.T) {
	dir := t.TempDir()
	o := &Outbox{Dir: dir}
	link := "https://nachrichten.example.org/confirm?token=AQG4n9LYBlf_B4sj8CvM1-cqfEmWHhY-and-a-long-tail-of-the-url"
	m := &Message{From: mail.Address{Name: "Hafenzeitung Ölmühle", Address: "news@example.org"}, To: mail.Address{Address: "ana@example.org"},
		Subject: "Bestätigen", Text: "Grüße aus der Ölmühle,\n\n  " + link + "\n", HTML: "<p>Grüße</p>", MessageID: "<x@example.org>"}
	if err := o.Send(t.Context(), m); err != nil {
		t.Fatal(err)
	}
	files, _ := filepath.Glob(filepath.Join(dir, "*.eml"))
	if len(files) != 1 {
		t.Fatalf("%d files", len(files))
	}
	raw, err := os.ReadFile(files[0])
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(raw), "  "+link+"\r\n") || !strings.Contains(string(raw), "Content-Transfer-Encoding: 8bit") {
		t.Errorf("the link does not read as it stands:\n%s", raw)
	}
	// Parsed back, the text is the same.
	if _, err := mail.ReadMessage(strings.NewReader(string(raw))); err != nil {
		t.Fatal(err)
	}
	// Over SMTP the same message stays 7-bit clean.
	smtpRaw, err := m.Bytes(nil)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(smtpRaw), "8bit") {
		t.Error("a message for SMTP went 8bit")
	}
}
