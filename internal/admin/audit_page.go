package admin

import (
	"net/http"
	"strconv"
)

// auditPageSize is how many entries the audit page shows at once.
const auditPageSize = 100

// auditData is the data of audit.html.
type auditData struct {
	Entries []AuditEntry
	Older   int64 // the id to page on from; 0 at the end
}

// audit shows the audit log, newest first, a page at a time.
func (a *Admin) auditPage(w http.ResponseWriter, r *http.Request) error {
	before, _ := strconv.ParseInt(r.URL.Query().Get("before"), 10, 64)
	es, err := a.Store.AuditLog(r.Context(), before, auditPageSize)
	if err != nil {
		return err
	}
	d := auditData{Entries: es}
	if len(es) == auditPageSize {
		d.Older = es[len(es)-1].ID
	}
	return a.render(w, r, "audit.html", "Audit log", d)
}
