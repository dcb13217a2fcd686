package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"sort"
	"sync"
	"time"

	"github.com/tidings/tidings/mail"
)

// metrics counts what the daemon did since it started; what the database
// knows (deliveries, queue depth) is read at scrape time instead.
type metrics struct {
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

func newMetrics() *metrics {
	return &metrics{counters: map[string]float64{}, jobs: map[string]jobRun{}, help: map[string][2]string{}, started: time.Now()}
}

func (m *metrics) describe(name, help, typ string) {
	if _, ok := m.help[name]; !ok {
		m.help[name] = [2]string{help, typ}
		m.order = append(m.order, name)
	}
}

// add increments a counter; labels are "key=\"value\"" pairs already
// formatted.
func (m *metrics) add(name, help, labels string, v float64) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.describe(name, help, "counter")
	key := name
	if labels != "" {
		key += "{" + labels + "}"
	}
	m.counters[key] += v
}

// job records the outcome of one run of a background job.
func (m *metrics) job(name string, err error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.jobs[name] = jobRun{at: time.Now(), ok: err == nil}
}

// handler serves the Prometheus text format.
func (a *App) metricsHandler(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
	a.metrics.write(w)
	a.writeLedgerMetrics(r.Context(), w)
}

func (m *metrics) write(w io.Writer) {
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
			if k == name || (len(k) > len(name) && k[:len(name)+1] == name+"{") {
				fmt.Fprintf(w, "%s %g\n", k, m.counters[k])
			}
		}
	}
	fmt.Fprintf(w, "# HELP tidings_job_last_run_timestamp_seconds When each background job last ran.\n# TYPE tidings_job_last_run_timestamp_seconds gauge\n")
	names := make([]string, 0, len(m.jobs))
	for n := range m.jobs {
		names = append(names, n)
	}
	sort.Strings(names)
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

// writeLedgerMetrics reports what the ledger holds: deliveries by state
// and by last SMTP reply code, the queue depth and the editions.
func (a *App) writeLedgerMetrics(ctx context.Context, w io.Writer) {
	st, err := a.Ledger.Stats(ctx)
	if err != nil {
		fmt.Fprintf(w, "# ledger unavailable: %v\n", err)
		return
	}
	fmt.Fprintf(w, "# HELP tidings_deliveries Deliveries in the ledger by state.\n# TYPE tidings_deliveries gauge\n")
	for _, state := range []string{mail.DeliveryQueued, mail.DeliverySending, mail.DeliverySent, mail.DeliveryFailed, mail.DeliverySkipped} {
		fmt.Fprintf(w, "tidings_deliveries{state=%q} %d\n", state, st.ByState[state])
	}
	fmt.Fprintf(w, "# HELP tidings_deliveries_by_smtp_code Deliveries by state and the last SMTP reply code they got.\n# TYPE tidings_deliveries_by_smtp_code gauge\n")
	for _, c := range st.ByCode {
		fmt.Fprintf(w, "tidings_deliveries_by_smtp_code{state=%q,code=\"%d\"} %d\n", c.State, c.Code, c.Count)
	}
	fmt.Fprintf(w, "# HELP tidings_queue_depth Deliveries waiting to be sent.\n# TYPE tidings_queue_depth gauge\ntidings_queue_depth %d\n", st.QueueDepth)
	fmt.Fprintf(w, "# HELP tidings_editions Editions planned, all digests.\n# TYPE tidings_editions gauge\ntidings_editions %d\n", st.Editions)
}
