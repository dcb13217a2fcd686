package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestCLI_Subscribers(t *testing.T) {
	dir := t.TempDir()
	cfg := writeFile(t, dir, "tidings.toml", `
[database]
path = "`+filepath.Join(dir, "t.db")+`"
[[digests]]
name = "daily"
schedule = "0 7 * * *"
max_articles = 20
[[digests]]
name = "weekly"
schedule = "0 8 * * 1"
max_articles = 50
`)
	env := map[string]string{"TIDINGS_CONFIG": cfg}
	mustRun := func(want int, args ...string) string {
		t.Helper()
		out, errs, code := run(t, env, args...)
		if code != want {
			t.Fatalf("%v exited %d, want %d:\n%s%s", args, code, want, out, errs)
		}
		return out + errs
	}

	out := mustRun(0, "subscribers", "add", "Ana@Example.org", "--name", `Ana "the reader" Sousa`, "--digests", "weekly")
	if !strings.Contains(out, "added Ana@example.org") || !strings.Contains(out, "confirmed") || !strings.Contains(out, "weekly") {
		t.Errorf("add: %s", out)
	}
	if out := mustRun(1, "subscribers", "add", "ana@example.org"); !strings.Contains(out, "email") {
		t.Errorf("adding twice: %s", out)
	}
	if out := mustRun(1, "subscribers", "add", "not-an-address"); !strings.Contains(out, "email") {
		t.Errorf("bad address: %s", out)
	}

	csv := writeFile(t, dir, "list.csv", "\ufeffemail,name,digests\r\nbo@example.org,Bo,daily\r\n\r\nnope,X,daily\r\nana@example.org,Ana S.,daily;weekly\r\ncy@example.org,Cy,hourly\r\n")
	out = mustRun(1, "subscribers", "import", "--confirmed", csv)
	for _, want := range []string{"line 4: email", "line 6: digests", "added 1, updated 1, skipped 2"} {
		if !strings.Contains(out, want) {
			t.Errorf("import output lacks %q:\n%s", want, out)
		}
	}
	// Importing again changes nothing.
	if out := mustRun(1, "subscribers", "import", "--confirmed", csv); !strings.Contains(out, "added 0, updated 0") {
		t.Errorf("second import: %s", out)
	}

	out = mustRun(0, "subscribers", "list")
	if !strings.Contains(out, "Ana@example.org") || !strings.Contains(out, "bo@example.org") || strings.Count(out, "\n") != 3 {
		t.Errorf("list:\n%s", out)
	}
	if out := mustRun(0, "subscribers", "list", "--digest", "weekly"); strings.Contains(out, "bo@") || !strings.Contains(out, "Ana@") {
		t.Errorf("list --digest weekly:\n%s", out)
	}

	mustRun(0, "subscribers", "remove", "bo@example.org")
	out = mustRun(0, "subscribers", "show", "bo@example.org")
	if !strings.Contains(out, "Status:   unsubscribed") || !strings.Contains(out, "imported") || !strings.Contains(out, "unsubscribed") {
		t.Errorf("show after remove:\n%s", out)
	}

	exported := filepath.Join(dir, "out.csv")
	mustRun(0, "subscribers", "export", "--output", exported)
	b, err := os.ReadFile(exported)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(string(b), "email,name,digests,status,timezone\n") || !strings.Contains(string(b), "bo@example.org,Bo,daily,unsubscribed,") {
		t.Errorf("export:\n%s", b)
	}

	mustRun(0, "subscribers", "forget", "ana@example.org")
	if out := mustRun(1, "subscribers", "show", "ana@example.org"); !strings.Contains(out, "not found") {
		t.Errorf("show after forget: %s", out)
	}
	// An import cannot bring an erased address back.
	out = mustRun(1, "subscribers", "import", "--confirmed", csv)
	if !strings.Contains(out, "kept unsubscribed 2 (unsubscribed 1, forgotten 1)") {
		t.Errorf("import after forget:\n%s", out)
	}
}
