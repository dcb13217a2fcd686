package feed

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// WebSub announces changed feeds to hubs (hub.mode=publish). Announce
// returns at once; a goroutine per hub sends the announcements, a few at
// a time, each request bounded by Timeout. A hub that does not answer is
// given up for the rest of that round at its first network failure, so a
// dead hub costs about one Timeout, not one per feed. Failed
// announcements are tried again after a backoff only when Tries asks for
// it, which only a long-lived process (serve) should do: a one-shot
// command closes the WebSub after building the feeds and must not wait
// for retries. A failing hub is logged and never holds up publishing.
//
// The owner calls Close, which waits for every goroutine to end.
type WebSub struct {
	Tries   int           // attempts per hub and feed; NewWebSub sets 1
	Backoff time.Duration // before the second try, doubled for each further one; NewWebSub sets 5s
	Timeout time.Duration // each request; NewWebSub sets 10s
	Workers int           // requests in flight per hub; NewWebSub sets 4
	// After is the clock of the backoff; nil: time.After. Tests replace it.
	After func(d time.Duration) <-chan time.Time

	hubs   []string
	client *http.Client
	log    *slog.Logger

	mu      sync.Mutex
	changed *sync.Cond                          // signalled whenever pending changes
	pending map[string]map[string]*announcement // hub → feed URL
	wake    map[string]chan struct{}            // hub → its loop's doorbell
	closed  bool
	quit    chan struct{}
	wg      sync.WaitGroup
}

// announcement is one feed URL to announce to one hub.
type announcement struct {
	tries    int  // requests made so far
	inFlight bool // in the round being sent
	again    bool // announced again while in flight: the hub must hear of it once more
}

// NewWebSub returns an announcer to hubs over client (nil: a client of
// its own). It starts nothing until the first Announce.
func NewWebSub(hubs []string, client *http.Client, log *slog.Logger) *WebSub {
	if client == nil {
		client = &http.Client{}
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	ws := &WebSub{Tries: 1, Backoff: 5 * time.Second, Timeout: 10 * time.Second, Workers: 4,
		hubs: hubs, client: client, log: log,
		pending: map[string]map[string]*announcement{}, wake: map[string]chan struct{}{}, quit: make(chan struct{})}
	ws.changed = sync.NewCond(&ws.mu)
	return ws
}

// Announce queues each feed URL for each hub and returns at once; it fits
// Publisher.Changed. A URL already waiting for a hub is not queued twice.
// After Close it does nothing.
func (ws *WebSub) Announce(feedURLs []string) {
	ws.mu.Lock()
	defer ws.mu.Unlock()
	if ws.closed {
		return
	}
	for _, hub := range ws.hubs {
		if ws.wake[hub] == nil {
			wake := make(chan struct{}, 1)
			ws.wake[hub] = wake
			ws.pending[hub] = map[string]*announcement{}
			ws.wg.Go(func() { ws.loop(hub, wake) })
		}
		for _, u := range feedURLs {
			if a := ws.pending[hub][u]; a != nil {
				a.again = a.again || a.inFlight
				continue
			}
			ws.pending[hub][u] = &announcement{}
		}
		select {
		case ws.wake[hub] <- struct{}{}:
		default: // already rung
		}
	}
}

// Wait blocks until every announcement made so far has been sent or given
// up. Close does not need it.
func (ws *WebSub) Wait() {
	ws.mu.Lock()
	defer ws.mu.Unlock()
	for ws.busy() {
		ws.changed.Wait()
	}
}

func (ws *WebSub) busy() bool {
	for _, p := range ws.pending {
		if len(p) > 0 {
			return true
		}
	}
	return false
}

// Close sends what was announced and never tried, gives up the retries,
// and waits for every request in flight (each at most Timeout) and every
// goroutine to end.
func (ws *WebSub) Close() {
	ws.mu.Lock()
	if !ws.closed {
		ws.closed = true
		close(ws.quit)
	}
	ws.mu.Unlock()
	ws.wg.Wait()
}

// loop sends hub its announcements, round after round, until Close.
func (ws *WebSub) loop(hub string, wake <-chan struct{}) {
	failedRounds := 0
	for {
		batch := ws.take(hub)
		if len(batch) == 0 {
			select {
			case <-wake:
				continue
			case <-ws.quit:
				ws.drop(hub)
				return
			}
		}
		failed, err := ws.round(hub, batch)
		retry := ws.settle(hub, batch, failed, err)
		if len(failed) == 0 {
			failedRounds = 0
			continue
		}
		failedRounds++
		if !retry {
			continue
		}
		select {
		case <-ws.after(ws.Backoff << (failedRounds - 1)):
		case <-ws.quit:
		}
	}
}

// take marks the hub's announcements in flight and returns their URLs:
// all of them, or once Close was called only those never tried.
func (ws *WebSub) take(hub string) []string {
	ws.mu.Lock()
	defer ws.mu.Unlock()
	var urls []string
	for u, a := range ws.pending[hub] {
		if ws.closed && a.tries > 0 {
			continue
		}
		a.inFlight = true
		urls = append(urls, u)
	}
	sort.Strings(urls)
	return urls
}

// settle forgets what was sent and what is given up (logged, one line per
// hub), and reports whether anything waits for a retry.
func (ws *WebSub) settle(hub string, batch, failed []string, err error) (retry bool) {
	ws.mu.Lock()
	defer ws.changed.Broadcast()
	defer ws.mu.Unlock()
	failedSet := make(map[string]bool, len(failed))
	for _, u := range failed {
		failedSet[u] = true
	}
	var givenUp []string
	tries := 0
	for _, u := range batch {
		a := ws.pending[hub][u]
		a.inFlight = false
		switch {
		case a.again:
			*a = announcement{}
		case !failedSet[u]:
			delete(ws.pending[hub], u)
		case a.tries+1 >= ws.Tries || ws.closed:
			tries = max(tries, a.tries+1)
			givenUp = append(givenUp, u)
			delete(ws.pending[hub], u)
		default:
			a.tries++
			retry = true
		}
	}
	for _, u := range batch {
		if !failedSet[u] {
			ws.log.Debug("websub hub notified", "hub", hub, "feed", u)
		}
	}
	if len(givenUp) > 0 {
		ws.log.Warn("websub hub not notified", "hub", hub, "feeds", len(givenUp), "first_feed", givenUp[0],
			"tries", tries, slog.Any("error", err))
	}
	// Another round at once for what was announced again; a wait for the rest.
	for _, a := range ws.pending[hub] {
		if a.tries == 0 {
			retry = false
		}
	}
	return retry
}

// drop gives up the retries still waiting for hub, at Close.
func (ws *WebSub) drop(hub string) {
	ws.mu.Lock()
	defer ws.changed.Broadcast()
	defer ws.mu.Unlock()
	if n := len(ws.pending[hub]); n > 0 {
		ws.log.Warn("websub hub not notified; closing before its retries", "hub", hub, "feeds", n)
	}
	clear(ws.pending[hub])
}

// errHubDown marks an announcement not sent because its hub did not
// answer another in the same round.
var errHubDown = errors.New("hub did not answer; the rest of this round was not sent")

// round posts every URL to hub, Workers at a time, and returns those that
// failed and the last error. After the first failure that is not an
// answer (a timeout, a refused connection), the rest are not sent.
func (ws *WebSub) round(hub string, urls []string) (failed []string, last error) {
	var mu sync.Mutex
	var down atomic.Bool
	next := make(chan string)
	var wg sync.WaitGroup
	for range min(max(ws.Workers, 1), len(urls)) {
		wg.Go(func() {
			for u := range next {
				err := errHubDown
				if !down.Load() {
					err = ws.publish(hub, u)
				}
				if err == nil {
					continue
				}
				var answered *hubStatusError
				if !errors.As(err, &answered) {
					down.Store(true)
				}
				mu.Lock()
				failed = append(failed, u)
				if last == nil || !errors.Is(err, errHubDown) {
					last = err
				}
				mu.Unlock()
			}
		})
	}
	for _, u := range urls {
		next <- u
	}
	close(next)
	wg.Wait()
	return failed, last
}

// hubStatusError is a hub's answer other than 2xx.
type hubStatusError struct{ status string }

func (e *hubStatusError) Error() string { return "hub answered " + e.status }

// publish makes one request, bounded by Timeout.
func (ws *WebSub) publish(hub, feedURL string) error {
	ctx, cancel := context.WithTimeout(context.Background(), ws.Timeout)
	defer cancel()
	form := url.Values{"hub.mode": {"publish"}, "hub.url": {feedURL}}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, hub, strings.NewReader(form.Encode()))
	if err != nil {
		return fmt.Errorf("websub request: %w", err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := ws.client.Do(req)
	if err != nil {
		return fmt.Errorf("websub publish: %w", err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode/100 != 2 {
		return &hubStatusError{status: resp.Status}
	}
	return nil
}

func (ws *WebSub) after(d time.Duration) <-chan time.Time {
	if ws.After != nil {
		return ws.After(d)
	}
	return time.After(d)
}
