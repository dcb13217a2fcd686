package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"github.com/tidings/tidings/mail"
)

// isTerminal reports whether w is a terminal someone watches.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	_, err := unix.IoctlGetTermios(int(f.Fd()), unix.TCGETS)
	return err == nil
}

// progressEvery is how often progress is shown: redrawn on a terminal,
// logged otherwise.
func progressEvery(terminal bool) time.Duration {
	if terminal {
		return time.Second
	}
	return 10 * time.Second
}

// showProgress reports how the editions being sent stand until stop is
// closed: a bar with rate and ETA redrawn on w when w is a terminal, a
// log line every ten seconds otherwise. It returns when it has stopped.
func (a *App) showProgress(w io.Writer, stop <-chan struct{}) {
	terminal := isTerminal(w)
	t := time.NewTicker(progressEvery(terminal))
	defer t.Stop()
	drawn := false
	for {
		select {
		case <-stop:
			if drawn {
				fmt.Fprintln(w)
			}
			return
		case <-t.C:
		}
		ps, err := a.Ledger.Progress(context.Background())
		if err != nil || len(ps) == 0 {
			continue
		}
		if terminal {
			fmt.Fprintf(w, "\r%s\033[K", progressLine(ps[0], 30))
			drawn = true
			continue
		}
		for _, p := range ps {
			a.Logger.Info("sending", "component", "deliver", "edition", p.Edition, "digest", p.Digest,
				"done", p.Done, "total", p.Total, "rate", fmt.Sprintf("%.0f/s", p.Rate), "eta", p.ETA.Round(time.Second))
		}
	}
}

// progressLine is one edition's bar: "[#####-----]  50%  500/1000  120 msg/s  ETA 4s  #12 daily".
func progressLine(p mail.Progress, width int) string {
	filled := int(p.Percent() / 100 * float64(width))
	bar := strings.Repeat("#", filled) + strings.Repeat("-", width-filled)
	eta := "ETA ?"
	if p.ETA > 0 {
		eta = "ETA " + p.ETA.Round(time.Second).String()
	}
	return fmt.Sprintf("[%s] %3.0f%%  %d/%d  %.0f msg/s  %s  #%d %s", bar, p.Percent(), p.Done, p.Total, p.Rate, eta, p.Edition, p.Digest)
}

// progressSummary is the progress column of status and editions show.
func progressSummary(p mail.Progress) string {
	s := fmt.Sprintf("%d/%d (%.0f%%)", p.Done, p.Total, p.Percent())
	if p.Rate > 0 {
		s += fmt.Sprintf(", %.0f msg/s, ETA %s", p.Rate, p.ETA.Round(time.Second))
	}
	return s
}
