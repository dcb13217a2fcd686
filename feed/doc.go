// Package feed owns articles, from the moment a source hands one over to
// the feeds it is published in: the Article type and the articles table
// (Store), the content-folder source (Ingester), the authoring API, the
// one write path every source goes through, feed building and serving
// (Publisher, Handler), the images and files next to articles (assets:
// published by the scan under hashed names, served by Handler), the
// pages about articles (front and tag pages, paged; articles; the tags
// page; sitemap.xml and robots.txt) and WebSub announcements. It also keeps the
// sources table for feed/upstream, behind that package's interface.
//
// It does not parse or sanitise anything itself: feed/content turns a
// file, an upstream item or an API body into a content.Doc. It does not
// fetch upstream feeds or decide when they are due: feed/upstream does,
// and feed imports nothing of it. It knows nothing of subscribers or mail;
// the mail package reads articles through Store.
//
// The rules the code follows:
//
//   - Every article is written by writer.put, in one transaction per scan,
//     fetch or API request, and dated by stamp, the one rule for published
//     and updated: first seen when undated, updated moved only by a
//     changed content hash, never before published; a syndicated item's
//     dates clamped to now when far ahead.
//   - A write is decided on the row as its own transaction sees it, so
//     that scans running at once, in one process or in several, store
//     each article once.
//   - An article's id never changes and its row is never deleted: a source
//     that drops it marks it removed, so that its id and slug are never
//     given to another.
//   - A file that cannot be read or parsed is reported with its path and
//     skipped; what the store holds of it is kept. Its rejection is logged
//     once per change of the file, and listed in every scan's result.
//   - Every file read from a content folder, article or asset, is opened
//     through it (os.OpenInRoot), so no path or link leads out of it.
//   - Times are Unix nanoseconds in the database and UTC once read.
//   - Loggers come from the caller with their component named; this
//     package adds keys of its own, never the component again.
package feed
