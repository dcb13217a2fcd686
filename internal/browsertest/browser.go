package browsertest

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"
)

// Timeout bounds each step (a navigation, a click, a query): a page that
// never shows what the test waits for fails the test with the step named,
// rather than hanging it.
const Timeout = 20 * time.Second

// Widths are the widths screenshots are taken at: a phone and a desktop.
var Widths = []int{390, 1280}

// Browser is one headless Chromium with one tab, for one test. Its
// methods fail the test (t.Fatalf) with the step and the page's URL when
// a step fails; they must be called from the goroutine of the test that
// called New (not from its subtests).
type Browser struct {
	t      testing.TB
	ctx    context.Context
	width  int
	shots  string
	mu     sync.Mutex
	msgs   []consoleEntry // console errors and exceptions, as they come
	closed chan struct{}
}

// ExecPath returns the Chromium to run: $TIDINGS_CHROMIUM, else the first
// of chromium, chromium-browser, google-chrome on $PATH, else "".
func ExecPath() string {
	if p := os.Getenv("TIDINGS_CHROMIUM"); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

// New starts a headless Chromium with a fresh profile in a temp folder
// (--no-sandbox when running as root, as in CI containers) and opens one
// tab, 1280 px wide. It skips the test, saying why, when no Chromium is
// installed. The browser is stopped when the test ends.
func New(t testing.TB) *Browser {
	t.Helper()
	path := ExecPath()
	if path == "" {
		t.Skip("no Chromium found (apt-get install chromium, or set TIDINGS_CHROMIUM): browser test skipped")
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("lang", "en-GB"),
		chromedp.WindowSize(1280, 900),
	)
	if os.Geteuid() == 0 {
		opts = append(opts, chromedp.NoSandbox)
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	// chromedp logs from its own goroutines, which may outlive the test:
	// t.Logf then would panic.
	var logMu sync.Mutex
	ended := false
	logf := func(format string, args ...any) {
		logMu.Lock()
		defer logMu.Unlock()
		if !ended {
			t.Logf("chromedp: "+format, args...)
		}
	}
	ctx, cancel := chromedp.NewContext(actx, chromedp.WithLogf(logf), chromedp.WithErrorf(logf))
	b := &Browser{t: t, ctx: ctx, width: 1280, shots: ScreenshotDir(), closed: make(chan struct{})}
	// The first Run starts the browser; it must not carry a timeout.
	if err := chromedp.Do(ctx); err != nil {
		cancel()
		cancelAlloc()
		t.Fatalf("start Chromium %s: %v", path, err)
	}
	msgs := chromedp.Console(ctx)
	go func() {
		defer close(b.closed)
		for m, err := range msgs {
			if err != nil {
				return
			}
			if m.Type == chromedp.ConsoleError || m.IsException() {
				b.mu.Lock()
				b.msgs = append(b.msgs, consoleEntry{text: m.String(), url: m.URL})
				b.mu.Unlock()
			}
		}
	}()
	t.Cleanup(func() {
		logMu.Lock()
		ended = true
		logMu.Unlock()
		cancel()
		cancelAlloc()
		<-b.closed
	})
	return b
}

// Context is the tab's chromedp context, for steps this package has no
// helper for: chromedp.Run(b.Context(), ...). Derive a timeout from it
// with context.WithTimeout, never cancel it.
func (b *Browser) Context() context.Context { return b.ctx }

// do runs steps with Timeout, failing the test with what and the URL.
func (b *Browser) do(what string, steps ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, Timeout)
	defer cancel()
	if err := chromedp.Do(ctx, steps...); err != nil {
		b.t.Fatalf("browser: %s (at %s): %v", what, b.location(), err)
	}
}

// location is the tab's URL, for messages; it never fails the test.
func (b *Browser) location() string {
	ctx, cancel := context.WithTimeout(b.ctx, 2*time.Second)
	defer cancel()
	u, err := chromedp.Run(ctx, chromedp.Location())
	if err != nil {
		return "?"
	}
	return u
}

// URL returns the address of the page shown.
func (b *Browser) URL() string {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, Timeout)
	defer cancel()
	u, err := chromedp.Run(ctx, chromedp.Location())
	if err != nil {
		b.t.Fatalf("browser: location: %v", err)
	}
	return u
}

// Navigate opens url and waits for its load event.
func (b *Browser) Navigate(url string) {
	b.t.Helper()
	b.do("navigate to "+url, chromedp.Navigate(url))
}

// Fill types value into the field that the CSS selector names, after
// clearing it.
func (b *Browser) Fill(selector, value string) {
	b.t.Helper()
	b.do("fill "+selector, chromedp.Clear(chromedp.CSS(selector)), chromedp.SendKeys(chromedp.CSS(selector), value))
}

// Click clicks the element that the CSS selector names, as a person
// would, and returns without waiting for anything.
func (b *Browser) Click(selector string) {
	b.t.Helper()
	b.do("click "+selector, chromedp.Click(chromedp.CSS(selector)))
}

// ClickAndWait clicks the element (a link, a submit button) and waits
// until a new document has loaded in the tab.
func (b *Browser) ClickAndWait(selector string) {
	b.t.Helper()
	// A mark on the old document's window: gone once another loaded.
	b.do("mark the page", chromedp.Evaluate[chromedp.Void](`window.__browsertestOld = true`))
	b.Click(selector)
	// Poll by hand: a navigation in the middle of an evaluation fails it
	// ("target navigated"), which here only means: not yet.
	deadline := time.Now().Add(Timeout)
	var err error
	for time.Now().Before(deadline) {
		ctx, cancel := context.WithTimeout(b.ctx, time.Second)
		var done bool
		done, err = chromedp.Run(ctx, chromedp.Evaluate[bool](
			`window.__browsertestOld === undefined && document.readyState === "complete"`))
		cancel()
		if err == nil && done {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	b.t.Fatalf("browser: no new page after clicking %s (at %s): %v", selector, b.location(), err)
}

// Text returns the visible text of the first element the CSS selector
// names, waiting for it to be there.
func (b *Browser) Text(selector string) string {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, Timeout)
	defer cancel()
	s, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(selector)))
	if err != nil {
		b.t.Fatalf("browser: text of %s (at %s): %v", selector, b.location(), err)
	}
	return s
}

// Attr returns the attribute name of the first element the CSS selector
// names, and whether it has it.
func (b *Browser) Attr(selector, name string) (string, bool) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, Timeout)
	defer cancel()
	r, err := chromedp.Run(ctx, chromedp.AttributeValue(chromedp.CSS(selector), name))
	if err != nil {
		b.t.Fatalf("browser: attribute %s of %s (at %s): %v", name, selector, b.location(), err)
	}
	return r.Value, r.Exists
}

// Eval evaluates a JavaScript expression in the page and decodes its
// value (JSON) into T. Promises are awaited. CSP does not apply: the
// expression comes through the DevTools protocol, not the page.
func Eval[T any](b *Browser, expr string) T {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, Timeout)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr, chromedp.EvalAwaitPromise))
	if err != nil {
		b.t.Fatalf("browser: evaluate %.60q (at %s): %v", expr, b.location(), err)
	}
	return v
}

// Resize sets the viewport's width (and a phone's or a desktop's
// height); below 600 px the tab acts as a phone (touch, mobile
// viewport).
func (b *Browser) Resize(width int) {
	b.t.Helper()
	if width < 600 {
		b.do("resize", chromedp.EmulateViewport(int64(width), 844, chromedp.EmulateMobile))
	} else {
		b.do("resize", chromedp.EmulateViewport(int64(width), 900))
	}
	b.width = width
}

// Press sends keys to the page as typed on a keyboard: "\t" (kb.Tab)
// moves the focus as a person who does not use a mouse would.
func (b *Browser) Press(keys string) {
	b.t.Helper()
	b.do("press keys", chromedp.KeyEvent(keys))
}

// ColorScheme makes the page see prefers-color-scheme: scheme ("dark" or
// "light"; "" is the system's again), for screenshots and contrast
// checks of a dark theme.
func (b *Browser) ColorScheme(scheme string) {
	b.t.Helper()
	p := emulation.SetEmulatedMediaParams{Features: []*emulation.MediaFeature{{Name: "prefers-color-scheme", Value: scheme}}}
	b.do("color scheme "+scheme, chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		_, err := cdp.Call(ctx, t, emulation.SetEmulatedMedia, p)
		return err
	}))
}

// consoleEntry is one console message kept.
type consoleEntry struct{ text, url string }

// Messages returns, and forgets, the console errors and uncaught
// exceptions (among them a stylesheet or script the security policy
// refused, a file not found) since the last call. A page that works has
// none. The status of the page itself is not among them: an error page
// is meant to answer 404.
func (b *Browser) Messages() []string {
	b.t.Helper()
	// Messages arrive on their own goroutine; let those of the last
	// step come in.
	time.Sleep(100 * time.Millisecond)
	page := b.URL()
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []string
	for _, m := range b.msgs {
		if m.url == page && strings.Contains(m.text, "Failed to load resource") {
			continue
		}
		out = append(out, strings.TrimSpace(m.text+" "+m.url))
	}
	b.msgs = nil
	return out
}

// ScreenshotDir is where screenshots go: $TIDINGS_SCREENSHOTS, else
// testdata/screenshots under the test's package folder (the working
// directory of go test), which .gitignore keeps out of commits.
func ScreenshotDir() string {
	if d := os.Getenv("TIDINGS_SCREENSHOTS"); d != "" {
		return d
	}
	return filepath.Join("testdata", "screenshots")
}

// Screenshot writes the whole page, at each of Widths, to
// ScreenshotDir()/NAME-WIDTH.png, and puts the width back as it was.
func (b *Browser) Screenshot(name string) {
	b.t.Helper()
	if err := os.MkdirAll(b.shots, 0o755); err != nil {
		b.t.Fatalf("browser: screenshots: %v", err)
	}
	was := b.width
	for _, w := range Widths {
		b.Resize(w)
		ctx, cancel := context.WithTimeout(b.ctx, Timeout)
		png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
		cancel()
		if err != nil {
			b.t.Fatalf("browser: screenshot %s at %d px (at %s): %v", name, w, b.location(), err)
		}
		p := filepath.Join(b.shots, fmt.Sprintf("%s-%d.png", safeName(name), w))
		if err := os.WriteFile(p, png, 0o644); err != nil {
			b.t.Fatalf("browser: screenshot: %v", err)
		}
	}
	b.Resize(was)
}

// safeName keeps a screenshot's name to letters, digits, - and _.
func safeName(s string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '-', r == '_':
			return r
		}
		return '-'
	}, s)
}
