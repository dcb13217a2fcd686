// Package browsertest drives a real headless Chromium from Go tests, for
// the tests that check pages as a person sees them: the public site's and
// the admin's.
//
// New(t) starts Chromium (Debian's chromium package; $TIDINGS_CHROMIUM
// names another) with a temp profile, or skips the test saying why. A
// Browser then navigates, fills fields, clicks, reads text and
// attributes, evaluates JavaScript (Eval), takes screenshots at a phone's
// and a desktop's width into ScreenshotDir, and checks a page with
// axe-core (Axe, CheckAccessibility). Each step is bounded by Timeout and
// fails the test naming the step and the page.
//
// It is a test helper imported only by _test files; it starts no server
// and knows nothing of tidings' pages.
package browsertest
