// Package web owns what every HTTP answer of tidings shares: the page
// shell, error answers, JSON, the security headers and the admin-token
// guard. The handlers themselves live with what they serve (feed,
// subscribers, mail's archive); they answer through this package.
//
// What it owns:
//
//   - One table from error kinds to status codes (kinds, in error.go). A
//     handler turns its package's errors (feed.ErrNotFound,
//     subscribers.ErrTokenExpired, a field error ...) into a *Problem of a
//     Kind, with the field at fault and a message for the person who asked;
//     any other error is Internal. The mapping lives in the handler's
//     package, next to its sentinels: this package imports none of ours
//     but templates.
//   - One Renderer.Error: JSON ({"error": ..., "field": ...}) when
//     WantsJSON (under /api/, or when Accept prefers application/json),
//     else pages/error.html in the page shell. Only 5xx answers are
//     logged, as errors, with their cause; a refused request is not the
//     server's fault and is not logged. ErrorPage is the same answer with
//     another page in place of error.html, for a form shown again with its
//     error beside the field.
//   - One page shell and renderer: every public page embeds Shell in its
//     data and is written by a Renderer, whose templates (pages/layout.html,
//     error.html and the handler's pages, each overridable from
//     templates.dir by the same path) are parsed and escaped once, at
//     start; a broken template is an error naming its file and line.
//   - The shell's assets (assets.go): the one stylesheet, served under a
//     name with its hash, and the favicon, both overridable from
//     templates.dir/pages/ like the pages.
//   - Secure, the one middleware that sets Content-Security-Policy,
//     X-Frame-Options, X-Content-Type-Options, Referrer-Policy and, for an
//     https site, Strict-Transport-Security on every answer. cmd wraps the
//     whole mux in it; handlers set none of these.
//   - Admin, the bearer-token guard of the JSON APIs, and JSON.
//
// What it does not own: routes, the pages' content, feeds' bytes, caching
// headers (each handler knows its own), or sessions.
package web
