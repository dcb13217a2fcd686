package main

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

// closedWithin reports whether the server closes conn within d: a read
// returns EOF or a reset, not a timeout of ours.
func closedWithin(t *testing.T, conn net.Conn, d time.Duration) bool {
	t.Helper()
	conn.SetReadDeadline(time.Now().Add(d))
	_, err := io.Copy(io.Discard, conn)
	if ne, ok := err.(net.Error); ok && ne.Timeout() {
		return false
	}
	return true
}

func TestServe_StalledClientsAreClosed(t *testing.T) {
	var base string
	base, _, _ = bootServeWith(t, func(c *Config) {
		c.HTTP.ReadHeaderTimeout = Duration{300 * time.Millisecond}
		c.HTTP.ReadTimeout = Duration{600 * time.Millisecond}
		c.HTTP.IdleTimeout = Duration{300 * time.Millisecond}
		// Small, so that the headers past it are few: a client still
		// writing when the server closes gets a reset, not the 431.
		c.HTTP.MaxHeaderBytes = 8 << 10
	})
	addr := strings.TrimPrefix(base, "http://")
	dial := func(t *testing.T) net.Conn {
		t.Helper()
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		return c
	}
	t.Run("slowloris headers", func(t *testing.T) {
		c := dial(t)
		io.WriteString(c, "GET / HTTP/1.1\r\nHost: x\r\n")
		if !closedWithin(t, c, 3*time.Second) {
			t.Error("a client that never finishes its headers is still connected after 3 s")
		}
	})
	t.Run("stalled body", func(t *testing.T) {
		c := dial(t)
		io.WriteString(c, "POST /subscribe HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 100\r\n\r\nemail=")
		if !closedWithin(t, c, 3*time.Second) {
			t.Error("a client whose body stalls is still connected after 3 s")
		}
	})
	t.Run("idle keep-alive", func(t *testing.T) {
		c := dial(t)
		io.WriteString(c, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
		resp, err := http.ReadResponse(bufio.NewReader(c), nil)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if !closedWithin(t, c, 3*time.Second) {
			t.Error("an idle keep-alive connection is still open after 3 s")
		}
	})
	t.Run("huge headers", func(t *testing.T) {
		req, _ := http.NewRequest("GET", base+"/", nil)
		req.Header.Set("X-Big", strings.Repeat("a", 16<<10))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusRequestHeaderFieldsTooLarge {
			t.Errorf("16 KiB of headers over a limit of 8 KiB: %d, want 431", resp.StatusCode)
		}
	})
}

func TestServe_MetricsBehindTokenOrOwnListener(t *testing.T) {
	t.Run("token", func(t *testing.T) {
		base, _, _ := bootServeWith(t, func(c *Config) {
			c.HTTP.AdminToken = "tok"
			c.HTTP.MetricsToken = true
		})
		if resp, _ := get(t, base+"/metrics"); resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("/metrics without the token: %d, want 401", resp.StatusCode)
		}
		if resp, body := get(t, base+"/metrics", "Authorization", "Bearer tok"); resp.StatusCode != 200 || !strings.Contains(body, "tidings_start_time_seconds") {
			t.Errorf("/metrics with the token: %d", resp.StatusCode)
		}
	})
	t.Run("own listener", func(t *testing.T) {
		mln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		cfg := lifeConfig(t)
		cfg.HTTP.MetricsListen = mln.Addr().String()
		m := &Main{Config: cfg, Listener: ln, MetricsListener: mln}
		startRunning(t, m)
		if resp, _ := get(t, "http://"+ln.Addr().String()+"/metrics"); resp.StatusCode != http.StatusNotFound {
			t.Errorf("/metrics on http.listen: %d, want 404 when it has its own listener", resp.StatusCode)
		}
		if resp, body := get(t, "http://"+mln.Addr().String()+"/metrics"); resp.StatusCode != 200 || !strings.Contains(body, "tidings_start_time_seconds") {
			t.Errorf("/metrics on http.metrics_listen: %d", resp.StatusCode)
		}
	})
}
