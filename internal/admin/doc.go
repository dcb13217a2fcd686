// Package admin is the web admin at /admin: operator accounts, their
// login, sessions, CSRF checks, the login rate limit, the audit log, and
// the pages over the other packages' data. It owns the tables
// admin_accounts, admin_sessions, admin_audit and admin_login_failures
// (migrations 0019 and 0022); it reads subscribers, editions and schedules only
// through their owners (subscribers.Store, mail.Ledger, mail.Scheduler),
// adding small read methods there rather than querying their tables.
//
// Pages are server-rendered with html/template from templates/admin
// (embedded, each overridable from templates.dir/admin/NAME.html) and
// work without JavaScript. The admin's Content-Security-Policy allows no
// script and no inline style at all: the one stylesheet is served from
// the binary at a hashed URL, and the admin is never framed.
//
// # Adding a page
//
// A page is a handler, a template and one line in routes (admin.go);
// handle and the CSRF check are in middleware.go, render in render.go.
//
// The handler goes in its own file (subscribers_page.go):
//
//	func (a *Admin) subscribers(w http.ResponseWriter, r *http.Request) error {
//		list, err := a.o.Data.Subscribers.List(r.Context(), ...)
//		if err != nil {
//			return err // answered as the error page: 500, logged
//		}
//		return a.render(w, r, "subscribers.html", "Subscribers", list)
//	}
//
// Return an error to answer with the error page in the layout: a
// *web.Problem (web.Errorf(web.NotFound, "No subscriber %d.", id)) sets
// the status and message; any other error is a logged 500. sessionOf(r)
// is the logged-in operator (never nil in a handler routed by handle).
// Read data through a.o.Data, never with SQL against another package's
// tables; a page that needs another owner (feed.Store, upstream) adds a
// field to Data (data.go), wired in cmd/tidings/admin.go, and a small read
// method to that owner when none fits.
//
// The template, templates/admin/subscribers.html, defines "main"; the
// layout (layout.html) draws the head, the navigation, the flash message
// and the <h1> (the title passed to render) around it:
//
//	{{define "main"}}
//	<table>{{range .Data}}<tr><td>{{.Email}}</td></tr>{{end}}</table>
//	{{end}}
//
// In the template .Data is what the handler passed; .Account, .CSRF and
// .Flash are the layout's. Every .html file in templates/admin is parsed
// at start, with the layout, and a broken one stops start-up. No
// style="" attributes and no <script>: the CSP refuses both; add classes
// to admin.css.
//
// The route is one line in routes:
//
//	a.handle("GET /admin/subscribers", a.subscribers)
//
// handle requires a session: without one the browser is sent to
// /admin/login?next=... and back after the login. The section lit in the
// navigation (nav, admin.go) is picked by the path's prefix.
//
// # Forms, CSRF and the audit log
//
// Every form posts with method="post" and carries the session's token,
// from the layout's "csrf" template (pass $ inside range or with):
//
//	<form method="post" action="/admin/subscribers/12/forget">
//	{{template "csrf" $}}
//	<button type="submit">Forget</button>
//	</form>
//
// handle verifies it before the handler runs: a POST without the token,
// or with another session's, is answered 403 with a page saying what
// happened, and the handler never sees it. The form is already parsed
// (r.PostFormValue; multipart forms too, files up to 256 MB, r.FormFile).
//
// Every POST routed by handle is written to the audit log after the
// handler returns: who, when, from which IP, the action and a detail.
// Name them with setAudit(r, "subscriber.forget", "id 12, a@example.org");
// without that the entry is the route. A handler answering 4xx has
// "(refused: 4xx)" added. account_page.go is a whole example: a form
// shown again with its error and a 422, and on success a redirect with a
// message. After a successful POST answer with
// a.redirect(w, r, "/admin/subscribers/12", "Forgotten.") (303, the
// message shown once on the next page). Logins, failed logins and
// logouts are logged by the login code; `tidings admin` commands log as
// "cli".
//
// # Sessions and the login rate limit
//
// A session id is 32 random bytes in an HttpOnly, SameSite=Lax cookie
// (Path=/admin; Secure when site.base_url is https); the database keeps
// only its SHA-256, so a cookie from another database simply fails. A
// session ends after admin.session_idle without a request, after
// admin.session_max whatever happens, at logout, and when the account's
// password changes. The CSRF token is an HMAC of the session id, so no
// other session's token matches and nothing more is stored. The login
// form, before a session exists, uses a pre-session cookie the same way.
// The rate limit's rule is written at the top of limit.go.
//
// # Counts that cost
//
// A page must render in under 50 ms over 100,000 subscribers. What costs
// more (a GROUP BY over the whole list) goes through memo (memo.go) with
// a fingerprint and a ttl, and Run, one of serve's loops, counts the
// dashboard's afresh every 20 s while it is looked at. BenchmarkPages
// (pages_bench_test.go) times every page over a seeded database: add a
// new page to adminPages there.
package admin
