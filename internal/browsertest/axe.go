package browsertest

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// AxeVersion is the axe-core release .ci/run installs from the npm
// registry; the tests are written against its rules.
const AxeVersion = "4.10.3"

// AxePath returns the axe.min.js to inject: $TIDINGS_AXE, else the file
// .ci/run installs (npm install --prefix $XDG_CACHE_HOME/tidings/axe, or
// ~/.cache/...), else "" when neither exists.
func AxePath() string {
	if p := os.Getenv("TIDINGS_AXE"); p != "" {
		return p
	}
	cache := os.Getenv("XDG_CACHE_HOME")
	if cache == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			return ""
		}
		cache = filepath.Join(home, ".cache")
	}
	p := filepath.Join(cache, "tidings", "axe", "node_modules", "axe-core", "axe.min.js")
	if _, err := os.Stat(p); err != nil {
		return ""
	}
	return p
}

// Violation is one axe-core rule a page breaks, with the elements that
// break it.
type Violation struct {
	ID      string `json:"id"`
	Impact  string `json:"impact"` // minor, moderate, serious, critical
	Help    string `json:"help"`
	HelpURL string `json:"helpUrl"`
	Nodes   []struct {
		Target []any  `json:"target"`
		HTML   string `json:"html"`
	} `json:"nodes"`
}

func (v Violation) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s (%s): %s", v.ID, v.Impact, v.Help)
	for i, n := range v.Nodes {
		if i == 5 {
			fmt.Fprintf(&b, "\n    ... and %d more", len(v.Nodes)-i)
			break
		}
		fmt.Fprintf(&b, "\n    %v %s", n.Target, n.HTML)
	}
	return b.String()
}

// Axe runs axe-core (the file at AxePath) on the page shown and returns
// its violations of the WCAG 2.x A and AA rules. The script goes in
// through the DevTools protocol (Runtime.evaluate), which the page's
// Content-Security-Policy does not govern, so a page that allows no
// script is checked as it is served. It fails the test when axe-core is
// not installed (see AxePath, AxeMissing).
func (b *Browser) Axe() []Violation {
	b.t.Helper()
	p := AxePath()
	if p == "" {
		b.t.Fatal(AxeMissing)
	}
	src, err := os.ReadFile(p)
	if err != nil {
		b.t.Fatalf("axe-core: %v", err)
	}
	Eval[bool](b, string(src)+"\n;true")
	return Eval[[]Violation](b, `axe.run(document, {
		runOnly: {type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"]},
		resultTypes: ["violations"]
	}).then(r => r.violations)`)
}

// AxeMissing says what to do when AxePath finds no axe-core.
const AxeMissing = "axe-core not found: accessibility not checked (set TIDINGS_AXE to axe.min.js, or run: npm install --prefix ~/.cache/tidings/axe axe-core@" + AxeVersion + ")"

// CheckAccessibility fails the test for each serious or critical
// violation axe finds on the page shown, and logs the lesser ones; name
// says which page it was. Without axe-core it checks nothing and returns
// false: the caller says so once (AxeMissing).
func (b *Browser) CheckAccessibility(name string) bool {
	b.t.Helper()
	if AxePath() == "" {
		return false
	}
	for _, v := range b.Axe() {
		if v.Impact == "serious" || v.Impact == "critical" {
			b.t.Errorf("%s: accessibility: %s", name, v)
		} else {
			b.t.Logf("%s: accessibility (%s, not failing): %s", name, v.Impact, v.ID)
		}
	}
	return true
}
