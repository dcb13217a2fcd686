// Package feed owns articles, from the sources they come from to the feeds
// they are published in: the Article type, the content-folder source and
// its parsers (Markdown with front matter, plain text, HTML), sanitizing,
// the articles table, and feed building and serving.
//
// It knows nothing of subscribers or mail; the mail package reads articles
// through the store this package provides.
package feed
