package admin

import "net/http"

// settings shows the effective configuration, secrets masked, and the DNS
// records to publish.
func (a *Admin) settings(w http.ResponseWriter, r *http.Request) error {
	return a.render(w, r, "settings.html", "Settings", a.o.Data.Settings)
}
