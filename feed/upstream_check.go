package feed

import (
	"bytes"
	"context"
	"fmt"
	"net/http"

	"github.com/mmcdole/gofeed"
)

// Check fetches src once and returns the articles its items would become,
// mapped exactly as Fetch maps them, for `tidings sources check`. It stores
// nothing: no article, no source state, no validators. It sends no
// conditional headers either, so that a stored ETag cannot hide the items
// behind a 304. A per-source failure is in FetchResult.Err, as for Fetch;
// the returned error is kept for a caller's mistakes (none so far).
//
// The articles carry the store's view of identity only in their ids: a
// slug is the one they would start from, and their first-seen time is now.
func (f *Fetcher) Check(ctx context.Context, src Source) ([]*Article, FetchResult, error) {
	now := f.now()
	var res FetchResult
	// The zero state carries no ETag or Last-Modified, hence no
	// conditional request.
	body, resp, err := f.get(ctx, src, &sourceState{})
	if resp != nil {
		res.Status = resp.StatusCode
	}
	if err != nil {
		res.Err = err
		return nil, res, nil
	}
	if resp.StatusCode == http.StatusNotModified {
		// Unasked for, but a server may answer so; nothing to show.
		res.NotModified = true
		return nil, res, nil
	}
	parsedFeed, err := gofeed.NewParser().Parse(bytes.NewReader(body))
	if err != nil {
		res.Err = fmt.Errorf("%w: %w", ErrNotAFeed, err)
		return nil, res, nil
	}
	items, skipped := f.mapItems(src, parsedFeed, now)
	res.Skipped = skipped
	out := make([]*Article, 0, len(items))
	for _, d := range items {
		out = append(out, NewArticle(d, now))
		res.Added++
	}
	return out, res, nil
}
