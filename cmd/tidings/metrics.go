package main

import (
	"context"
	"fmt"
	"io"
	"net/http"

	"github.com/tidings/tidings/internal/web"
)

// metrics is the /metrics handler, behind the admin token when
// http.metrics_token asks for it.
func (a *App) metrics() http.Handler {
	if a.Config.HTTP.MetricsToken {
		return web.Admin(a.Config.HTTP.AdminToken, 0, "metrics", a.metricsHandler)
	}
	return http.HandlerFunc(a.metricsHandler)
}

// metricsHandler serves the Prometheus text format: the process's
// counters, then what the ledger holds.
func (a *App) metricsHandler(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
	a.Metrics.Write(w)
	a.writeLedgerMetrics(r.Context(), w)
}

// writeLedgerMetrics reports what the ledger holds: deliveries by state
// and by last SMTP reply code, the queue depth and the editions.
func (a *App) writeLedgerMetrics(ctx context.Context, w io.Writer) {
	db := a.DB.Read
	rows, err := db.QueryContext(ctx, `SELECT state, last_code, COUNT(*) FROM deliveries GROUP BY state, last_code ORDER BY state, last_code`)
	if err != nil {
		fmt.Fprintf(w, "# ledger unavailable: %v\n", err)
		return
	}
	defer rows.Close()
	byState := map[string]int{}
	type sc struct {
		state string
		code  int
	}
	var codes []sc
	byCode := map[sc]int{}
	for rows.Next() {
		var state string
		var code, n int
		if err := rows.Scan(&state, &code, &n); err != nil {
			return
		}
		byState[state] += n
		if code != 0 {
			k := sc{state, code}
			if _, ok := byCode[k]; !ok {
				codes = append(codes, k)
			}
			byCode[k] += n
		}
	}
	fmt.Fprintf(w, "# HELP tidings_deliveries Deliveries in the ledger by state.\n# TYPE tidings_deliveries gauge\n")
	for _, st := range []string{"queued", "sending", "sent", "failed", "skipped"} {
		fmt.Fprintf(w, "tidings_deliveries{state=%q} %d\n", st, byState[st])
	}
	fmt.Fprintf(w, "# HELP tidings_deliveries_by_smtp_code Deliveries by state and the last SMTP reply code they got.\n# TYPE tidings_deliveries_by_smtp_code gauge\n")
	for _, k := range codes {
		fmt.Fprintf(w, "tidings_deliveries_by_smtp_code{state=%q,code=\"%d\"} %d\n", k.state, k.code, byCode[k])
	}
	if depth, err := a.Ledger.QueueDepth(ctx); err == nil {
		fmt.Fprintf(w, "# HELP tidings_queue_depth Deliveries waiting to be sent.\n# TYPE tidings_queue_depth gauge\ntidings_queue_depth %d\n", depth)
	}
	var editions int
	if err := db.QueryRowContext(ctx, `SELECT COUNT(*) FROM editions`).Scan(&editions); err == nil {
		fmt.Fprintf(w, "# HELP tidings_editions Editions planned, all digests.\n# TYPE tidings_editions gauge\ntidings_editions %d\n", editions)
	}
}
