package content

import (
	"strings"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
)

// htmlDoc is an HTML article file after parsing.
type htmlDoc struct {
	Title string
	Body  string // inner HTML of <article>, <main> or <body>, unsanitized
}

// parseHTMLFile takes the title from <title> or the first <h1>, and the body
// from <article>, <main> or <body>, in that order of preference. An <h1>
// that repeats the title is dropped from the body: feeds and mails show the
// title already.
func parseHTMLFile(src string) (htmlDoc, error) {
	doc, err := html.Parse(strings.NewReader(src))
	if err != nil {
		return htmlDoc{}, err
	}
	var d htmlDoc
	if t := find(doc, atom.Title); t != nil {
		d.Title = textOf(t)
	}
	body := find(doc, atom.Article)
	if body == nil {
		body = find(doc, atom.Main)
	}
	if body == nil {
		body = find(doc, atom.Body)
	}
	if body == nil {
		return d, nil
	}
	if h1 := find(body, atom.H1); h1 != nil {
		h1Text := collapseSpace(textOf(h1))
		if strings.TrimSpace(d.Title) == "" {
			d.Title = h1Text
		}
		if h1Text == collapseSpace(d.Title) {
			h1.Parent.RemoveChild(h1)
		}
	}
	var b strings.Builder
	for c := body.FirstChild; c != nil; c = c.NextSibling {
		if err := html.Render(&b, c); err != nil {
			return d, err
		}
	}
	d.Body = b.String()
	return d, nil
}

// find returns the first element of type a in document order.
func find(n *html.Node, a atom.Atom) *html.Node {
	if n.Type == html.ElementNode && n.DataAtom == a {
		return n
	}
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		if f := find(c, a); f != nil {
			return f
		}
	}
	return nil
}

// textOf concatenates the text below n.
func textOf(n *html.Node) string {
	var b strings.Builder
	var walk func(*html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.TextNode {
			b.WriteString(n.Data)
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(n)
	return b.String()
}
