package main

import (
	"strings"
	"testing"
	"time"

	"github.com/tidings/tidings/mail"
)

func TestProgressLine(t *testing.T) {
	p := mail.Progress{Edition: 12, Digest: "daily", Total: 1000, Done: 500, Sent: 500, Rate: 120, ETA: 4 * time.Second}
	got := progressLine(p, 10)
	if got != "[#####-----]  50%  500/1000  120 msg/s  ETA 4s  #12 daily" {
		t.Errorf("progressLine = %q", got)
	}
	if got := progressSummary(p); got != "500/1000 (50%), 120 msg/s, ETA 4s" {
		t.Errorf("progressSummary = %q", got)
	}
	if got := progressLine(mail.Progress{Total: 10}, 4); !strings.Contains(got, "ETA ?") || !strings.HasPrefix(got, "[----]") {
		t.Errorf("before any send: %q", got)
	}
	if isTerminal(&strings.Builder{}) {
		t.Error("a buffer is no terminal")
	}
}
