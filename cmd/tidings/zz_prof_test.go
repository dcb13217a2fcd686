package main

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"runtime/pprof"
	"strings"
	"testing"
	"time"

	gosmtp "github.com/emersion/go-smtp"
)

func TestZZProf(t *testing.T) {
	if os.Getenv("ZZPROF") == "" {
		t.Skip()
	}
	n := 20000
	sink := &countSink{}
	srv := gosmtp.NewServer(sink)
	srv.Domain = "localhost"
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	go srv.Serve(ln)
	defer srv.Close()
	port := ln.Addr().(*net.TCPAddr).Port
	dir := t.TempDir()
	var csv strings.Builder
	csv.WriteString("email,name,digests\n")
	for i := range n {
		fmt.Fprintf(&csv, "reader%d@r%d.example,Reader %d,daily\n", i, i%1000, i)
	}
	list := writeFile(t, dir, "list.csv", csv.String())
	article := "---\ntitle: The harbour in numbers\n---\n\n" + strings.Repeat("The harbour council met on Tuesday to talk about the ferry, the bridge and the budget. ", 250) + "\n"
	writeFile(t, filepath.Join(dir, "content"), "a.md", article)
	dkim := os.Getenv("ZZDKIM")
	cfg := writeFile(t, dir, "tidings.toml", fmt.Sprintf(`
[site]
title = "Bench News"
base_url = "https://news.example.org"
email = "news@example.org"
postal_address = "1 Quay Street"
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
connections = 4
[[digests]]
name = "daily"
schedule = "0 7 * * *"
full_content = true
%s`, filepath.Join(dir, "t.db"), filepath.Join(dir, "content"), filepath.Join(dir, "public"), port, dkim))
	env := map[string]string{"TIDINGS_CONFIG": cfg}
	run(t, env, "subscribers", "import", "--confirmed", list)
	run(t, env, "ingest")
	f, _ := os.Create("/tmp/cpu.prof")
	pprof.StartCPUProfile(f)
	t0 := time.Now()
	var out, errb bytes.Buffer
	code := Run(context.Background(), []string{"digest", "send", "daily"}, &out, &errb, func(k string) string { return env[k] })
	d := time.Since(t0)
	pprof.StopCPUProfile()
	t.Logf("code %d in %v: %.0f msgs/s; sink %d\n%s%s", code, d, float64(n)/d.Seconds(), sink.n.Load(), out.String(), errb.String())
}
