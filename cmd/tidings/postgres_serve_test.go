package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/tidings/tidings/internal/database"
	"github.com/tidings/tidings/internal/database/databasetest"
)

// pgProxy forwards 127.0.0.1 connections to the test PostgreSQL server
// and can cut them all and refuse new ones: a database that goes away
// and comes back, without touching the server others use.
type pgProxy struct {
	t      *testing.T
	addr   string // where it listens, kept across cut and restore
	target string

	mu    sync.Mutex
	ln    net.Listener
	conns []net.Conn
}

func newPGProxy(t *testing.T, target string) *pgProxy {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &pgProxy{t: t, addr: ln.Addr().String(), target: target}
	ln.Close()
	t.Cleanup(p.cut)
	return p
}

// restore accepts and forwards connections again.
func (p *pgProxy) restore() {
	ln, err := net.Listen("tcp", p.addr)
	if err != nil {
		p.t.Fatalf("proxy: %v", err)
	}
	p.mu.Lock()
	p.ln = ln
	p.mu.Unlock()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			s, err := net.Dial("tcp", p.target)
			if err != nil {
				c.Close()
				continue
			}
			p.mu.Lock()
			p.conns = append(p.conns, c, s)
			p.mu.Unlock()
			go func() { io.Copy(s, c); s.Close() }()
			go func() { io.Copy(c, s); c.Close() }()
		}
	}()
}

// cut closes every connection and refuses new ones.
func (p *pgProxy) cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ln != nil {
		p.ln.Close()
		p.ln = nil
	}
	for _, c := range p.conns {
		c.Close()
	}
	p.conns = nil
}

// serve started while PostgreSQL is away waits for it, then serves;
// while the database is away again readyz says not ready, and ready once
// it is back.
func TestPostgres_ServeWaitsAndReadyzFollowsTheDatabase(t *testing.T) {
	dbURL, proxy := proxied(t, databasetest.NewPostgres(t))
	dir := t.TempDir()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	base := "http://" + ln.Addr().String()
	cfg := Default()
	cfg.Site.BaseURL = base
	cfg.Database.URL = dbURL
	cfg.Content.Dirs = []string{filepath.Join(dir, "content")}
	cfg.Feeds.OutputDir = filepath.Join(dir, "public")
	cfg.SMTP.OutboxDir = filepath.Join(dir, "outbox")
	m := &Main{Config: cfg, Logs: io.Discard, Listener: ln}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	opened := make(chan error, 1)
	go func() { opened <- m.Open(ctx) }()
	select {
	case err := <-opened:
		t.Fatalf("serve opened without a database: %v", err)
	case <-time.After(time.Second):
	}
	proxy.restore()
	select {
	case err := <-opened:
		if err != nil {
			t.Fatalf("open once the database is there: %v", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("serve did not open 20s after the database came")
	}
	startRunning(t, m)
	if resp, body := get(t, base+"/readyz"); resp.StatusCode != 200 || !strings.Contains(body, "database: postgres, reachable") {
		t.Fatalf("readyz %d:\n%s", resp.StatusCode, body)
	}
	proxy.cut()
	waitFor(t, func() bool {
		resp, body := get(t, base+"/readyz")
		return resp.StatusCode == 503 && strings.Contains(body, "database: postgres, not reachable")
	})
	if resp, body := get(t, base+"/healthz"); resp.StatusCode != 200 || !strings.Contains(body, "not reachable") {
		t.Errorf("healthz while the database is away %d:\n%s", resp.StatusCode, body)
	}
	proxy.restore()
	waitFor(t, func() bool {
		resp, _ := get(t, base+"/readyz")
		return resp.StatusCode == 200
	})
}

// A command on a PostgreSQL that does not answer gives up after a short
// wait with an error that says so; the URL's password is not in it.
func TestPostgres_CommandGivesUpOnAnUnreachableDatabase(t *testing.T) {
	if !databasetest.Postgres() {
		t.Skipf("%s is not set", databasetest.Env)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	cfg := writeFile(t, t.TempDir(), "tidings.toml", "")
	env := map[string]string{"TIDINGS_CONFIG": cfg, "TIDINGS_DATABASE_URL": "postgres://news:hunter2@" + addr + "/news"}
	start := time.Now()
	_, errs, code := run(t, env, "subscribers", "list")
	took := time.Since(start)
	if code == 0 || !strings.Contains(errs, "not reachable") || !strings.Contains(errs, "gave up waiting") || strings.Contains(errs, "hunter2") {
		t.Errorf("exit %d after %v:\n%s", code, took, errs)
	}
	if took < commandDatabaseWait-time.Second || took > commandDatabaseWait+10*time.Second {
		t.Errorf("gave up after %v, want about %v", took, commandDatabaseWait)
	}
}

// A command refuses a database it must not write: one set read-only (as
// a replica would be) and one a newer tidings migrated; each says what
// to do, and the newer schema is left as it was.
func TestPostgres_RefusesReadOnlyAndNewerSchema(t *testing.T) {
	dbURL := databasetest.NewPostgres(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	db, err := database.Open(ctx, dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	u, _ := url.Parse(dbURL)
	name := strings.TrimPrefix(u.Path, "/")
	env := map[string]string{"TIDINGS_CONFIG": writeFile(t, t.TempDir(), "tidings.toml", ""), "TIDINGS_DATABASE_URL": dbURL}

	if _, err := db.Write.ExecContext(ctx, `ALTER DATABASE `+pgx.Identifier{name}.Sanitize()+` SET default_transaction_read_only = on`); err != nil {
		t.Fatal(err)
	}
	_, errs, code := run(t, env, "subscribers", "list")
	if code == 0 || !strings.Contains(errs, "read-only") || !strings.Contains(errs, "default_transaction_read_only is on") {
		t.Errorf("on a read-only database: exit %d\n%s", code, errs)
	}
	if _, err := db.Write.ExecContext(ctx, `ALTER DATABASE `+pgx.Identifier{name}.Sanitize()+` RESET default_transaction_read_only`); err != nil {
		t.Fatal(err)
	}

	next := database.LatestVersion(database.Postgres) + 1
	if _, err := db.Write.ExecContext(ctx, `INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, 'future.sql', 'x')`, next); err != nil {
		t.Fatal(err)
	}
	_, errs, code = run(t, env, "subscribers", "list")
	if code == 0 || !strings.Contains(errs, fmt.Sprintf("schema version %d", next)) || !strings.Contains(errs, "upgrade tidings") {
		t.Errorf("on a newer schema: exit %d\n%s", code, errs)
	}
	if v, err := db.SchemaVersion(ctx); err != nil || v != next {
		t.Errorf("schema version %d, %v after the refusal; want %d untouched", v, err, next)
	}
}

// A serve whose database another, newer instance migrated stops with an
// error saying so, rather than write to a schema it does not know.
func TestPostgres_ServeStopsWhenANewerInstanceMigrated(t *testing.T) {
	dbURL := databasetest.NewPostgres(t)
	dir := t.TempDir()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	cfg := Default()
	cfg.Site.BaseURL = "http://" + ln.Addr().String()
	cfg.Database.URL = dbURL
	cfg.Content.Dirs = []string{filepath.Join(dir, "content")}
	cfg.Feeds.OutputDir = filepath.Join(dir, "public")
	cfg.SMTP.OutboxDir = filepath.Join(dir, "outbox")
	m := &Main{Config: cfg, Logs: io.Discard, Listener: ln}
	defer m.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if err := m.Open(ctx); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- m.Run(ctx) }()
	select {
	case err := <-done:
		t.Fatalf("serve ended on a current schema: %v", err)
	case <-time.After(time.Second):
	}
	next := database.LatestVersion(database.Postgres) + 1
	if _, err := m.App.DB.Write.ExecContext(ctx, `INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, 'future.sql', 'x')`, next); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		if !errors.Is(err, database.ErrTooNew) || !strings.Contains(err.Error(), "this instance stops") {
			t.Errorf("serve = %v, want ErrTooNew saying it stops", err)
		}
	case <-time.After(3 * dbWatchEvery):
		t.Fatal("serve went on on a schema it does not know")
	}
}
