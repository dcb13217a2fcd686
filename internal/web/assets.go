package web

import (
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"strconv"

	"github.com/tidings/tidings/templates"
)

// Assets are the files every page links to besides itself: the one
// stylesheet (pages/style.css) and the favicon (pages/favicon.svg), each
// overridable from templates.dir like the pages. They are served from
// memory; the stylesheet under a name that carries a hash of its bytes,
// so that it can be cached for good and a changed one is fetched at once.
type Assets struct {
	css, icon []byte
	cssPath   string // static/style.HASH.css, below the site's base URL
}

// LoadAssets reads the assets from dir, or the embedded defaults.
func LoadAssets(dir string) (*Assets, error) {
	css, _, err := templates.File(dir, "pages/style.css")
	if err != nil {
		return nil, err
	}
	icon, _, err := templates.File(dir, "pages/favicon.svg")
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256(css)
	return &Assets{css: css, icon: icon, cssPath: "static/style." + hex.EncodeToString(sum[:5]) + ".css"}, nil
}

// StylesheetPath is the stylesheet's path below the site's base URL
// (static/style.HASH.css), as the layout links it: {{stylesheet}}.
func (a *Assets) StylesheetPath() string { return a.cssPath }

// Routes registers the assets' routes on mux: the stylesheet by its
// hashed name (another name is not found) and /favicon.svg.
func (a *Assets) Routes(mux *http.ServeMux) {
	mux.HandleFunc("GET /"+a.cssPath, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
		a.serve(w, r, "text/css; charset=utf-8", a.css)
	})
	mux.HandleFunc("GET /favicon.svg", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "public, max-age=86400")
		a.serve(w, r, "image/svg+xml", a.icon)
	})
}

func (a *Assets) serve(w http.ResponseWriter, r *http.Request, ctype string, body []byte) {
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	write(w, r, http.StatusOK, ctype, body)
}
