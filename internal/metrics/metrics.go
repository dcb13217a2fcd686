// Package metrics counts what a tidings process did since it started and
// writes it in the Prometheus text format. What the database knows
// (deliveries, queue depth) is read at scrape time by its owner instead.
package metrics

import (
	"fmt"
	"io"
	"sort"
	"strings"
	"sync"
	"time"
)

// Registry holds counters and the last run of each background job. The
// zero value is not ready; use New. It is safe for concurrent use.
type Registry struct {
	mu       sync.Mutex
	counters map[string]float64   // name{labels} -> value
	jobs     map[string]jobRun    // job -> its last run
	help     map[string][2]string // metric -> help, type
	order    []string             // metrics in first-seen order
	started  time.Time
}

type jobRun struct {
	at time.Time
	ok bool
}

// New returns an empty registry that dates the process start now.
func New() *Registry {
	return &Registry{counters: map[string]float64{}, jobs: map[string]jobRun{}, help: map[string][2]string{}, started: time.Now()}
}

// Add increments a counter; labels are `key="value"` pairs already
// formatted and joined by commas, or "".
func (m *Registry) Add(name, help, labels string, v float64) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.help[name]; !ok {
		m.help[name] = [2]string{help, "counter"}
		m.order = append(m.order, name)
	}
	key := name
	if labels != "" {
		key += "{" + labels + "}"
	}
	m.counters[key] += v
}

// Job records the outcome of one run of a background job.
func (m *Registry) Job(name string, err error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.jobs[name] = jobRun{at: time.Now(), ok: err == nil}
}

// Outcome is the label of a run's outcome: outcome="ok" or "error".
func Outcome(err error) string {
	if err != nil {
		return `outcome="error"`
	}
	return `outcome="ok"`
}

// Write writes every counter, the jobs' last runs and the start time.
func (m *Registry) Write(w io.Writer) {
	m.mu.Lock()
	defer m.mu.Unlock()
	keys := make([]string, 0, len(m.counters))
	for k := range m.counters {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, name := range m.order {
		h := m.help[name]
		fmt.Fprintf(w, "# HELP %s %s\n# TYPE %s %s\n", name, h[0], name, h[1])
		for _, k := range keys {
			if k == name || strings.HasPrefix(k, name+"{") {
				fmt.Fprintf(w, "%s %g\n", k, m.counters[k])
			}
		}
	}
	names := make([]string, 0, len(m.jobs))
	for n := range m.jobs {
		names = append(names, n)
	}
	sort.Strings(names)
	fmt.Fprintf(w, "# HELP tidings_job_last_run_timestamp_seconds When each background job last ran.\n# TYPE tidings_job_last_run_timestamp_seconds gauge\n")
	for _, n := range names {
		fmt.Fprintf(w, "tidings_job_last_run_timestamp_seconds{job=%q} %d\n", n, m.jobs[n].at.Unix())
	}
	fmt.Fprintf(w, "# HELP tidings_job_last_run_success Whether each job's last run succeeded (1) or failed (0).\n# TYPE tidings_job_last_run_success gauge\n")
	for _, n := range names {
		ok := 0
		if m.jobs[n].ok {
			ok = 1
		}
		fmt.Fprintf(w, "tidings_job_last_run_success{job=%q} %d\n", n, ok)
	}
	fmt.Fprintf(w, "# HELP tidings_start_time_seconds When this process started.\n# TYPE tidings_start_time_seconds gauge\ntidings_start_time_seconds %d\n", m.started.Unix())
}
