package upstream

import (
	"context"

	"github.com/tidings/tidings/feed"
)

// Check fetches src once and returns the articles its items would become,
// mapped exactly as Fetch maps them, for `tidings sources check`. It stores
// nothing: no article, no source state, no validators. It sends no
// conditional headers either, so that a stored ETag cannot hide the items
// behind a 304 (a server answering 304 unasked shows nothing). A
// per-source failure is in FetchResult.Err, as for Fetch; the returned
// error is kept for a caller's mistakes (none so far).
//
// The articles carry the store's view of identity only in their ids: a
// slug is the one they would start from, and their first-seen time is now.
func (f *Fetcher) Check(ctx context.Context, src Source) ([]*feed.Article, FetchResult, error) {
	now := f.now()
	_, _, docs, res := f.download(ctx, src, "", "", now)
	if res.Err != nil || res.NotModified {
		return nil, res, nil
	}
	out := make([]*feed.Article, 0, len(docs))
	for _, d := range docs {
		out = append(out, feed.NewArticle(d, now))
		res.Added++
	}
	return out, res, nil
}
