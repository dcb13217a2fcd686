package inbound

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"runtime"
	"strings"
	"testing"
	"testing/iotest"
)

// endless is a reader of n bytes of b repeated, counting what was taken.
type endless struct {
	b    []byte
	n    int64
	read int64
}

func (e *endless) Read(p []byte) (int, error) {
	if e.read >= e.n {
		return 0, io.EOF
	}
	k := 0
	for k < len(p) && e.read < e.n {
		c := copy(p[k:], e.b[e.read%int64(len(e.b)):])
		k += c
		e.read += int64(c)
	}
	if e.read > e.n {
		k -= int(e.read - e.n)
		e.read = e.n
	}
	return k, nil
}

func totalAlloc() uint64 {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.TotalAlloc
}

// TestClassify_TooLarge: a 50 MB message is refused after MaxBytes+1
// bytes, without being held in memory, even when it starts as a
// perfectly good bounce.
func TestClassify_TooLarge(t *testing.T) {
	head := readCorpus(t, "exim-text-user-unknown.eml")
	body := &endless{b: []byte("Ships are back. The harbour reopens at dawn.\n"), n: 50 << 20}
	r := io.MultiReader(bytes.NewReader(head), body)
	before := totalAlloc()
	_, st, err := classify(r, Options{})
	allocated := totalAlloc() - before
	if !errors.Is(err, ErrTooLarge) {
		t.Fatalf("err = %v, want ErrTooLarge", err)
	}
	if st.Bytes > defaultMaxBytes+1 {
		t.Errorf("read %d bytes, want at most MaxBytes+1 = %d", st.Bytes, defaultMaxBytes+1)
	}
	if allocated > 4<<20 {
		t.Errorf("allocated %d bytes for a 50 MB message: it was held in memory", allocated)
	}

	// Multipart: the limit holds inside a part's body too.
	mp := msg("From: MAILER-DAEMON@example.net\nTo: bounces@example.org\nContent-Type: multipart/mixed; boundary=b",
		"--b\nContent-Type: text/plain\n\nThe mail system\n--b\nContent-Type: application/octet-stream\n\n")
	_, st, err = classify(io.MultiReader(bytes.NewReader(mp), &endless{b: []byte("AAAA"), n: 50 << 20}), Options{MaxBytes: 1 << 20})
	if !errors.Is(err, ErrTooLarge) || st.Bytes > 1<<20+1 {
		t.Errorf("multipart: err = %v after %d bytes, want ErrTooLarge after at most %d", err, st.Bytes, 1<<20+1)
	}

	// A message in memory that is too large is refused before parsing.
	big := make([]byte, 2<<20)
	_, st, err = classify(bytes.NewReader(big), Options{MaxBytes: 1 << 20})
	if !errors.Is(err, ErrTooLarge) || st.Bytes != 0 {
		t.Errorf("bytes: err = %v after %d bytes read, want ErrTooLarge before reading", err, st.Bytes)
	}

	// Exactly MaxBytes is allowed.
	exact := readCorpus(t, "qmail-text-no-host.eml")
	if _, err := Classify(iotest.HalfReader(bytes.NewReader(exact)), Options{MaxBytes: int64(len(exact))}); err != nil {
		t.Errorf("a message of exactly MaxBytes: %v", err)
	}
	if _, err := Classify(iotest.HalfReader(bytes.NewReader(exact)), Options{MaxBytes: int64(len(exact) - 1)}); !errors.Is(err, ErrTooLarge) {
		t.Errorf("a message of MaxBytes+1: err = %v, want ErrTooLarge", err)
	}
}

func TestClassify_HeaderTooLarge(t *testing.T) {
	raw := "From: a@example.com\nX-Junk: " + strings.Repeat("x", 2<<20) + "\n\nbody\n"
	_, err := Classify(strings.NewReader(raw), Options{})
	if !errors.Is(err, ErrTooLarge) || !strings.Contains(err.Error(), "header") {
		t.Errorf("err = %v, want ErrTooLarge naming the header", err)
	}
}

// TestClassify_MIMEBomb: deep nesting and thousands of parts stop at the
// limits, with an error that says which.
func TestClassify_MIMEBomb(t *testing.T) {
	var deep strings.Builder
	deep.WriteString("From: MAILER-DAEMON@example.net\nContent-Type: multipart/mixed; boundary=b0\n\n")
	const levels = 10000
	for i := 0; i < levels; i++ {
		fmt.Fprintf(&deep, "--b%d\nContent-Type: multipart/mixed; boundary=b%d\n\n", i, i+1)
	}
	for i := levels; i >= 0; i-- {
		fmt.Fprintf(&deep, "--b%d--\n", i)
	}
	_, st, err := classify(strings.NewReader(deep.String()), Options{})
	if !errors.Is(err, ErrTooComplex) || !strings.Contains(err.Error(), "nested") {
		t.Errorf("deep: err = %v, want ErrTooComplex naming the nesting", err)
	}
	if st.Depth > defaultMaxDepth {
		t.Errorf("deep: walked to depth %d, limit %d", st.Depth, defaultMaxDepth)
	}

	var wide strings.Builder
	wide.WriteString("From: MAILER-DAEMON@example.net\nContent-Type: multipart/mixed; boundary=b\n\n")
	for i := 0; i < 5000; i++ {
		wide.WriteString("--b\nContent-Type: text/plain\n\nThe mail system\n")
	}
	wide.WriteString("--b--\n")
	_, st, err = classify(strings.NewReader(wide.String()), Options{MaxParts: 50})
	if !errors.Is(err, ErrTooComplex) || !strings.Contains(err.Error(), "parts") {
		t.Errorf("wide: err = %v, want ErrTooComplex naming the parts", err)
	}
	if st.Parts > 51 {
		t.Errorf("wide: looked at %d parts, limit 50", st.Parts)
	}
}

func TestClassify_Junk(t *testing.T) {
	for _, c := range []struct {
		name string
		raw  []byte
		err  error // nil: any Result will do, but one must come
	}{
		{"empty", nil, ErrMalformed},
		{"blank line first", []byte("\n\nhello\n"), ErrMalformed},
		{"body only", []byte("hello, is this the newsletter?\nplease stop\n"), ErrMalformed},
		{"NUL bytes", bytes.Repeat([]byte{0}, 4096), ErrMalformed},
		{"header then binary", append([]byte("From: a@example.com\nContent-Type: multipart/report; boundary=x\n\n--x\n"), randomBytes(1, 64<<10)...), nil},
		{"truncated multipart", []byte("From: a@example.com\nContent-Type: multipart/mixed; boundary=x\n\n--x\nContent-Type: message/delivery-status\n\nAction: failed\nStatus: 5.1.1\nFinal-Recip"), nil},
		{"boundary never seen", []byte("From: a@example.com\nContent-Type: multipart/mixed; boundary=x\n\n" + strings.Repeat("y", 100<<10)), nil},
		{"no boundary parameter", []byte("From: a@example.com\nContent-Type: multipart/mixed\n\nThe mail system\n"), nil},
		{"unterminated encoded word", []byte("From: =?utf-8?q?abc\nSubject: =?utf-8?b?!!!?=\nTo: <>\n\nx"), nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			res, err := ClassifyBytes(c.raw, Options{})
			if c.err != nil {
				if !errors.Is(err, c.err) {
					t.Errorf("err = %v, want %v", err, c.err)
				}
				return
			}
			if err != nil {
				t.Fatalf("err = %v, want a Result", err)
			}
			if res.Kind == "" || res.Reason == "" {
				t.Errorf("an indefinite Result: %+v", res)
			}
		})
	}
	for seed := uint64(1); seed <= 50; seed++ {
		res, err := ClassifyBytes(randomBytes(seed, 8<<10), Options{})
		if err == nil && res.Kind != KindUnmatched {
			t.Errorf("random bytes (seed %d) classified as %s", seed, res.Kind)
		}
	}
}

func randomBytes(seed uint64, n int) []byte {
	r := rand.New(rand.NewPCG(seed, seed))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.UintN(256))
	}
	return b
}

func TestClassify_ReaderError(t *testing.T) {
	boom := errors.New("disk on fire")
	_, err := Classify(io.MultiReader(strings.NewReader("From: a@example.com\nSubject: x\n\nbody"), iotest.ErrReader(boom)), Options{})
	if !errors.Is(err, boom) {
		t.Errorf("err = %v, want the reader's error", err)
	}
}
