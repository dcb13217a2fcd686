package main

import (
	"context"
	"fmt"
	"io"
	"net/http"

	"github.com/tidings/tidings/internal/web"
	"github.com/tidings/tidings/mail"
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
	if ps, err := a.Ledger.Progress(ctx); err == nil {
		fmt.Fprintf(w, "# HELP tidings_edition_deliveries Deliveries of each edition still going out, by done or not.\n# TYPE tidings_edition_deliveries gauge\n")
		for _, p := range ps {
			fmt.Fprintf(w, "tidings_edition_deliveries{edition=\"%d\",digest=%q,done=\"true\"} %d\n", p.Edition, p.Digest, p.Done)
			fmt.Fprintf(w, "tidings_edition_deliveries{edition=\"%d\",digest=%q,done=\"false\"} %d\n", p.Edition, p.Digest, p.Total-p.Done)
		}
		fmt.Fprintf(w, "# HELP tidings_edition_send_rate Messages accepted per second for each edition still going out.\n# TYPE tidings_edition_send_rate gauge\n")
		for _, p := range ps {
			fmt.Fprintf(w, "tidings_edition_send_rate{edition=\"%d\",digest=%q} %g\n", p.Edition, p.Digest, p.Rate)
		}
		fmt.Fprintf(w, "# HELP tidings_edition_paused 1 while the reputation guard holds an edition still going out.\n# TYPE tidings_edition_paused gauge\n")
		for _, p := range ps {
			fmt.Fprintf(w, "tidings_edition_paused{edition=\"%d\",digest=%q} %d\n", p.Edition, p.Digest, map[bool]int{true: 1}[p.Paused])
		}
		fmt.Fprintf(w, "# HELP tidings_edition_returns Hard bounces and complaints that came back for each edition still going out.\n# TYPE tidings_edition_returns gauge\n")
		for _, p := range ps {
			fmt.Fprintf(w, "tidings_edition_returns{edition=\"%d\",digest=%q,kind=\"bounce\"} %d\n", p.Edition, p.Digest, p.Bounced)
			fmt.Fprintf(w, "tidings_edition_returns{edition=\"%d\",digest=%q,kind=\"complaint\"} %d\n", p.Edition, p.Digest, p.Complained)
		}
	}
	fmt.Fprintf(w, "# HELP tidings_queue_depth Deliveries waiting to be sent.\n# TYPE tidings_queue_depth gauge\ntidings_queue_depth %d\n", st.QueueDepth)
	fmt.Fprintf(w, "# HELP tidings_editions Editions planned, all digests.\n# TYPE tidings_editions gauge\ntidings_editions %d\n", st.Editions)
}
