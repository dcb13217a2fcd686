package admin

import (
	"net/http"

	"github.com/tidings/tidings/mail"
)

// dashboardData is the data of dashboard.html.
type dashboardData struct {
	Queue    int
	Progress []mail.Progress
}

// dashboard is the admin's front page: the list, the last editions, the
// queue and the next runs at a glance.
func (a *Admin) dashboard(w http.ResponseWriter, r *http.Request) error {
	var d dashboardData
	if l := a.o.Data.Ledger; l != nil {
		st, err := l.Stats(r.Context())
		if err != nil {
			return err
		}
		d.Queue = st.QueueDepth
		if d.Progress, err = l.Progress(r.Context()); err != nil {
			return err
		}
	}
	return a.render(w, r, "dashboard.html", "Dashboard", d)
}
