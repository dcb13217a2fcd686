package main

import (
	"fmt"
	"io"
	"net"
	"path/filepath"
	"testing"
)

// gazette writes the config of a test site in dir that mails through the
// SMTP server on 127.0.0.1:smtpPort, with extra TOML (more tables,
// [[digests]]) after it, and returns the env that points at it and the
// content folder.
func gazette(t *testing.T, dir string, smtpPort int, extra string) (env map[string]string, content string) {
	t.Helper()
	content = filepath.Join(dir, "content")
	cfg := writeFile(t, dir, "tidings.toml", fmt.Sprintf(`
[site]
title = "The Harbour Gazette"
base_url = "https://gazette.example.org"
email = "news@gazette.example.org"
postal_address = "1 Quay Street, Harbourtown"
[database]
path = %q
[content]
dirs = [%q]
[feeds]
output_dir = %q
[smtp]
host = "127.0.0.1"
port = %d
tls = "none"
%s`, filepath.Join(dir, "t.db"), content, filepath.Join(dir, "public"), smtpPort, extra))
	return map[string]string{"TIDINGS_CONFIG": cfg}, content
}

// mustRunner runs command lines on env, failing the test on a non-zero
// exit, and returns what they printed.
func mustRunner(t *testing.T, env map[string]string) func(args ...string) string {
	return func(args ...string) string {
		t.Helper()
		out, errs, code := run(t, env, args...)
		if code != 0 {
			t.Fatalf("%v exited %d:\n%s%s", args, code, out, errs)
		}
		return out + errs
	}
}

// serveForBrowser boots serve for a browser test on a free loopback port,
// with the site's base URL set to it (links in pages and mail lead back
// there), after tweak, when set, has changed the config.
func serveForBrowser(t *testing.T, env map[string]string, tweak func(*Config)) (*Main, string) {
	t.Helper()
	cfg, err := LoadConfig(env["TIDINGS_CONFIG"], func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	base := "http://" + ln.Addr().String()
	cfg.Site.BaseURL = base
	if tweak != nil {
		tweak(&cfg)
	}
	return startRunning(t, &Main{Config: cfg, Listener: ln, Logs: io.Discard}), base
}
