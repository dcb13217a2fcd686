package feed

import (
	"net/http"
	"os"
)

// serveAsset answers /assets/{name} from the assets folder. A name is the
// hash of its bytes, so the answer is cached for a year and never asked
// again: an edited image is another name. Only names that ingest makes
// are looked up, through the folder, so no path leads elsewhere.
func (h *Handler) serveAsset(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	hash, contentType, ok := parseAssetName(name)
	if !ok {
		h.notFound(w, r, nil)
		return
	}
	f, err := os.OpenInRoot(AssetDir(h.pub.OutputDir), name)
	if err != nil {
		h.notFound(w, r, err)
		return
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil || !info.Mode().IsRegular() {
		h.notFound(w, r, err)
		return
	}
	hd := w.Header()
	hd.Set("Content-Type", contentType)
	hd.Set("Cache-Control", "public, max-age=31536000, immutable")
	hd.Set("ETag", `"`+hash+`"`)
	if contentType == assetTypes["svg"] {
		// An SVG may carry script; opened on its own it runs in a
		// sandbox, with no origin of the site's.
		hd.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; sandbox")
	}
	// ServeContent answers If-None-Match, ranges (audio and video seek)
	// and HEAD.
	http.ServeContent(w, r, name, info.ModTime(), f)
}
