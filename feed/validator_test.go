package feed

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestFeeds_W3CValidator runs the W3C Feed Validator, offline, on the
// golden RSS and Atom files, holding them to no errors and no warnings.
// It needs the validator, so it runs only when FEEDVALIDATOR names the
// command that runs it (CMD [--strict] FILE, exit 0 for valid), the
// interpreter first when the script needs a particular one:
//
//	FEEDVALIDATOR="/usr/bin/python3 /path/to/feedvalidator.py" go test ./feed -run W3C
func TestFeeds_W3CValidator(t *testing.T) {
	cmd := strings.Fields(os.Getenv("FEEDVALIDATOR"))
	if len(cmd) == 0 {
		t.Skip("FEEDVALIDATOR is not set: no W3C Feed Validator to run")
	}
	for _, golden := range []string{"feed.xml", "atom.xml", "entities/feed.xml", "entities/atom.xml"} {
		p := filepath.Join("testdata", "golden", filepath.FromSlash(golden))
		out, err := exec.Command(cmd[0], append(cmd[1:], "--strict", p)...).CombinedOutput()
		if err != nil {
			t.Errorf("%s: %v\n%s", golden, err, out)
		}
	}
}
