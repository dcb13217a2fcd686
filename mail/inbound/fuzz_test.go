package inbound

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"testing/iotest"
)

// FuzzClassify feeds the corpus, mutated, through Classify under small
// limits. It must never panic, never read or walk past a limit, answer
// only with its own errors, and never call a message a bounce that names
// neither a recipient nor a Message-ID; the answer must not depend on how
// the reader splits its bytes.
func FuzzClassify(f *testing.F) {
	files, err := filepath.Glob(filepath.Join(corpusDir, "*.eml"))
	if err != nil {
		f.Fatal(err)
	}
	for _, file := range files {
		b, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte("From: a@example.com\nContent-Type: multipart/mixed; boundary=a\n\n--a\nContent-Type: multipart/mixed; boundary=a\n\n--a--\n"))
	f.Add([]byte("Content-Type: message/delivery-status\nContent-Transfer-Encoding: base64\n\nQWN0aW9uOiBmYWlsZWQK"))

	opts := Options{MaxBytes: 256 << 10, MaxParts: 20, MaxDepth: 4}
	f.Fuzz(func(t *testing.T, raw []byte) {
		res, st, err := classify(bytes.NewReader(raw), opts)
		if st.Bytes > opts.MaxBytes+1 || st.Parts > opts.MaxParts+1 || st.Depth > opts.MaxDepth {
			t.Fatalf("past the limits: %+v", st)
		}
		if int64(len(raw)) > opts.MaxBytes && !errors.Is(err, ErrTooLarge) {
			t.Fatalf("%d bytes over MaxBytes %d: err = %v", len(raw), opts.MaxBytes, err)
		}
		if err != nil {
			if !errors.Is(err, ErrTooLarge) && !errors.Is(err, ErrTooComplex) && !errors.Is(err, ErrMalformed) {
				t.Fatalf("an error of no documented kind: %v", err)
			}
			return
		}
		switch res.Kind {
		case KindBounce, KindComplaint, KindUnsubscribe, KindAutoReply, KindDelayed, KindDelivered, KindUnmatched:
		default:
			t.Fatalf("Kind %q", res.Kind)
		}
		if res.Kind == KindBounce && res.Recipient == "" && res.MessageID == "" {
			t.Fatalf("a bounce naming no one: %+v", res)
		}
		if res.Permanent && res.Kind != KindBounce {
			t.Fatalf("Permanent on a %s", res.Kind)
		}
		if res.Reason == "" || len(res.Diagnostic) > maxDiagnostic || len(res.Subject) > maxSubject || len(res.To) > maxRecipients {
			t.Fatalf("unbounded or empty fields: %+v", res)
		}
		if len(raw) <= 16<<10 {
			again, _, err := classify(iotest.OneByteReader(bytes.NewReader(raw)), opts)
			if err != nil || !resultsEqual(again, res) {
				t.Fatalf("one byte at a time: %+v, %v\nall at once: %+v", again, err, res)
			}
		}
	})
}
