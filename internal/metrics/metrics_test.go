package metrics

import (
	"errors"
	"strings"
	"testing"
)

func TestRegistry_Write(t *testing.T) {
	m := New()
	m.Add("tidings_x_total", "X things.", `kind="a"`, 2)
	m.Add("tidings_x_total", "X things.", `kind="a"`, 1)
	m.Add("tidings_x_total", "X things.", `kind="b"`, 1)
	m.Add("tidings_xy_total", "Not an X.", "", 5)
	m.Job("ingest", nil)
	m.Job("deliver", errors.New("down"))
	var b strings.Builder
	m.Write(&b)
	out := b.String()
	for _, want := range []string{
		"# TYPE tidings_x_total counter\n",
		"tidings_x_total{kind=\"a\"} 3\n",
		"tidings_x_total{kind=\"b\"} 1\n",
		"tidings_xy_total 5\n",
		"tidings_job_last_run_success{job=\"deliver\"} 0\n",
		"tidings_job_last_run_success{job=\"ingest\"} 1\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	// tidings_xy_total must not be listed under tidings_x_total's family.
	xFamily := out[strings.Index(out, "# TYPE tidings_x_total"):strings.Index(out, "# HELP tidings_xy_total")]
	if strings.Contains(xFamily, "tidings_xy_total") {
		t.Errorf("tidings_xy_total written in tidings_x_total's family:\n%s", out)
	}
}
