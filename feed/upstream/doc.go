// Package upstream fetches the feeds named in [[sources]] and stores
// their items as articles: a Fetcher fetches one source (over an HTTP
// client that refuses private addresses unless allowed, bounded in
// redirects, size and time, conditional with ETag and Last-Modified,
// heeding Retry-After), maps its items to content.Docs and hands them to
// the store; a Poller owns the schedule, which sources are due and when
// the next one is.
//
// It does not parse or sanitise (feed/content does) and does not write
// SQL: the sources table and the articles are reached through Store, an
// interface this package declares and *feed.Store implements. It imports
// feed for the types of that interface; feed imports nothing of it.
//
// The rules the code follows:
//
//   - A fetch's failure is the source's, not the caller's: it is in
//     FetchResult.Err and in the sources table, logged once by the Poller;
//     Fetch's own error is the store's.
//   - What the store holds of a source (validators, last fetch, waits
//     asked for) survives restarts and is shared by tidings run and
//     tidings serve, so that both keep one schedule.
//   - An item's id is its source's name and its GUID (else its link, else
//     a hash of its title and body): stable across fetches, never another
//     source's.
//   - Time comes from Now and, in Run, from After, so that tests never
//     sleep.
package upstream
