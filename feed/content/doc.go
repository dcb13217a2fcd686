// Package content turns what a source gives into one normalised document,
// a Doc: Markdown with YAML (---) or TOML (+++) front matter, plain-text
// news articles, HTML files, an upstream item's HTML or the body the
// authoring API receives. It owns the file-type table, the parsers,
// sanitising (bluemonday, with links made absolute), HTML to plain text,
// summaries, slugs and the content hash.
//
// It is a leaf: it imports no package of tidings, reads no file and
// touches no database. Where files live, which ids are taken, what slug an
// article ends up with and when it was published are the store's
// business (package feed).
//
// The rules the code follows:
//
//   - Every document goes through Renderer.Normalize once, whatever its
//     source: one clean line of title, sanitised HTML, its text, a
//     summary, cleaned author and tags, an absolute image URL, a slug
//     base and a hash. Sources only say what they know.
//   - Title, summary, author and tags are read as HTML once, there and
//     nowhere else (PlainText: tags removed, entities decoded), and kept
//     as plain text; every output escapes them for its own format. A
//     source whose text is literal (a text file) escapes it first. An
//     author is split into a name and an address (SplitAuthor).
//   - Input is outside input: every parser has a fuzz test, and none
//     panics or lets a script through, whatever it is given.
//   - Refusals wrap one of the package's sentinel errors (ErrEmptyFile,
//     ErrBinaryFile, ErrNoTitle, ErrBadFrontMatter) and name the line
//     where there is one; what can be repaired is repaired and reported
//     in Doc.Warnings instead.
//   - The hash covers everything a reader sees and nothing else, so that
//     only a visible change moves an article's updated time.
package content
