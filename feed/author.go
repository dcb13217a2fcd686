package feed

// AuthorOf is who an article is by, as pages, feeds and mail show it: its
// own author, or the site's (site.author and site.email) when it names
// none. email is "" when neither gives an address.
func (s *Site) AuthorOf(a *Article) (name, email string) {
	if a.Author != "" || a.AuthorEmail != "" {
		return a.Author, a.AuthorEmail
	}
	return s.Author, s.Email
}
