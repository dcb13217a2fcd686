package feed

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"
)

// WebSub announces changed feeds to hubs (hub.mode=publish). Announcements
// run in the background with retries; a failing hub is logged and never
// holds up publishing.
type WebSub struct {
	Hubs    []string
	Client  *http.Client
	Logger  *slog.Logger
	Backoff time.Duration // first retry delay, doubled each time
	Tries   int

	ctx context.Context
	wg  sync.WaitGroup
}

// NewWebSub returns an announcer whose background work ends with ctx.
func NewWebSub(ctx context.Context, hubs []string, log *slog.Logger) *WebSub {
	return &WebSub{Hubs: hubs, Client: &http.Client{Timeout: 15 * time.Second}, Logger: log,
		Backoff: 5 * time.Second, Tries: 5, ctx: ctx}
}

// Announce starts announcing each feed URL to each hub and returns at once.
func (ws *WebSub) Announce(feedURLs []string) {
	for _, hub := range ws.Hubs {
		for _, u := range feedURLs {
			ws.wg.Go(func() { ws.announce(hub, u) })
		}
	}
}

// Wait blocks until every announcement has finished or given up.
func (ws *WebSub) Wait() { ws.wg.Wait() }

func (ws *WebSub) announce(hub, feedURL string) {
	delay := ws.Backoff
	for try := 1; ; try++ {
		err := ws.publish(hub, feedURL)
		if err == nil {
			ws.Logger.Debug("websub hub notified", "hub", hub, "feed", feedURL)
			return
		}
		if try >= ws.Tries {
			ws.Logger.Warn("websub hub not notified", "hub", hub, "feed", feedURL, "tries", try, "error", err)
			return
		}
		select {
		case <-ws.ctx.Done():
			return
		case <-time.After(delay):
		}
		delay *= 2
	}
}

func (ws *WebSub) publish(hub, feedURL string) error {
	form := url.Values{"hub.mode": {"publish"}, "hub.url": {feedURL}}
	req, err := http.NewRequestWithContext(ws.ctx, http.MethodPost, hub, strings.NewReader(form.Encode()))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := ws.Client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("hub answered %s", resp.Status)
	}
	return nil
}
