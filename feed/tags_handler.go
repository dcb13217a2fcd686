package feed

import (
	"net/http"
	"net/url"
)

// tagLink is one tag on the tags page.
type tagLink struct {
	Name, URL string
	Count     int
}

// serveTags lists every tag of a published article, with how many
// articles carry it, each linking its page.
func (h *Handler) serveTags(w http.ResponseWriter, r *http.Request) {
	now := h.now()
	as, err := h.store.List(r.Context(), ListOptions{Now: now, NoContent: true})
	if err != nil {
		h.web.Error(w, r, err)
		return
	}
	count := map[string]int{}
	for _, a := range as {
		seen := map[string]bool{}
		for _, t := range a.Tags {
			if s := TagSlug(t); !seen[s] {
				seen[s] = true
				count[s]++
			}
		}
	}
	tags, err := h.store.Tags(r.Context(), now)
	if err != nil {
		h.web.Error(w, r, err)
		return
	}
	p := h.newPage("", "Tags")
	p.Canonical, p.Section = h.site.URL("tags/"), "tags"
	seen := map[string]bool{}
	for _, t := range tags {
		s := TagSlug(t)
		if seen[s] {
			continue // tags that fold into one slug share a page
		}
		seen[s] = true
		p.Tags = append(p.Tags, tagLink{Name: t, URL: h.site.URL(TagPath(url.PathEscape(s))), Count: count[s]})
	}
	w.Header().Set("Cache-Control", "public, max-age=300")
	h.web.Render(w, r, http.StatusOK, "tags.html", p)
}
