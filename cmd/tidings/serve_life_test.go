package main

import (
	"context"
	"errors"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pelletier/go-toml/v2"
	"go.uber.org/goleak"

	"github.com/tidings/tidings/internal/database"
)

// lifeConfig is a serve config over a temp folder.
func lifeConfig(t *testing.T) Config {
	t.Helper()
	dir := t.TempDir()
	cfg := Default()
	cfg.Database.Path = filepath.Join(dir, "data", "tidings.db")
	cfg.Content.Dirs = []string{filepath.Join(dir, "content")}
	cfg.Content.Poll = Duration{50 * time.Millisecond}
	cfg.Feeds.OutputDir = filepath.Join(dir, "public")
	cfg.SMTP.OutboxDir = filepath.Join(dir, "outbox")
	return cfg
}

// runMain runs m until it returns and gives back its error, failing the
// test if that takes longer than within.
func runMain(t *testing.T, ctx context.Context, m *Main, within time.Duration, during func()) error {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- m.Run(ctx) }()
	if during != nil {
		during()
	}
	select {
	case err := <-done:
		return err
	case <-time.After(within):
		t.Fatalf("serve still running after %v", within)
		return nil
	}
}

func TestServe_PortInUseExitsNamingTheAddress(t *testing.T) {
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	cfg := lifeConfig(t)
	cfg.HTTP.Listen = taken.Addr().String()
	path := writeConfig(t, cfg)
	start := time.Now()
	_, stderr, code := run(t, nil, "--config", path, "serve")
	if code == 0 || !strings.Contains(stderr, taken.Addr().String()) || !strings.Contains(stderr, "http.listen") {
		t.Errorf("serve on a taken port: exit %d, stderr %q; want non-zero naming %s and http.listen", code, stderr, taken.Addr())
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("serve took %v to give up", d)
	}
}

// When the HTTP server fails under a running serve, every loop stops and
// Run returns the cause.
func TestServe_HTTPFailureStopsEverything(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	m := &Main{Config: lifeConfig(t), Listener: ln}
	defer m.Close()
	if err := m.Open(context.Background()); err != nil {
		t.Fatal(err)
	}
	err = runMain(t, context.Background(), m, 5*time.Second, func() {
		time.Sleep(100 * time.Millisecond)
		ln.Close()
	})
	if err == nil || !strings.Contains(err.Error(), ln.Addr().String()) {
		t.Errorf("Run = %v, want the HTTP server's failure naming %s", err, ln.Addr())
	}
}

func TestServe_DatabaseGoneStopsCleanly(t *testing.T) {
	for _, tt := range []struct {
		name   string
		change func(path string) error
	}{
		{"removed", os.Remove},
		{"made read-only", func(p string) error { return os.Chmod(p, 0o444) }},
	} {
		t.Run(tt.name, func(t *testing.T) {
			defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			cfg := lifeConfig(t)
			m := &Main{Config: cfg, Listener: ln, Logs: &syncBuffer{}}
			defer m.Close()
			if err := m.Open(context.Background()); err != nil {
				t.Fatal(err)
			}
			err = runMain(t, context.Background(), m, 10*time.Second, func() {
				time.Sleep(200 * time.Millisecond)
				if err := tt.change(cfg.Database.Path); err != nil {
					t.Error(err)
				}
			})
			if !errors.Is(err, database.ErrGone) || !strings.Contains(err.Error(), cfg.Database.Path) {
				t.Errorf("Run = %v, want ErrGone naming %s", err, cfg.Database.Path)
			}
		})
	}
}

// A graceful stop leaves no goroutine of tidings running.
func TestServe_StopLeavesNoGoroutine(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	cfg := lifeConfig(t)
	cfg.Site.BaseURL = "http://" + ln.Addr().String()
	m := &Main{Config: cfg, Listener: ln}
	if err := m.Open(context.Background()); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	err = runMain(t, ctx, m, 10*time.Second, func() {
		waitFor(t, func() bool {
			resp, _ := get(t, cfg.Site.BaseURL+"/healthz")
			return resp.StatusCode == 200
		})
		cancel()
	})
	if err != nil {
		t.Errorf("Run after cancel = %v, want nil", err)
	}
	if err := m.Close(); err != nil {
		t.Errorf("Close = %v", err)
	}
}

// writeConfig writes cfg as a tidings.toml in a temp folder.
func writeConfig(t *testing.T, cfg Config) string {
	t.Helper()
	b, err := toml.Marshal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return writeFile(t, t.TempDir(), "tidings.toml", string(b))
}
