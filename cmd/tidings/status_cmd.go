package main

import (
	"context"
	"flag"
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/tidings/tidings/mail"
)

func statusCommand() *command {
	return &command{
		name:    "status",
		summary: "next runs, last editions, queue depth",
		detail:  "For each digest: when it runs next, when it last ran, and its last edition with delivery counts.",
		example: "tidings status",
		nargs:   0,
		app: func(ctx context.Context, e *env, app *App, fs *flag.FlagSet) error {
			loc := app.Config.Location()
			now := app.Now()
			tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "DIGEST\tSCHEDULE\tNEXT RUN\tLAST RUN\tLAST EDITION\tSENT\tQUEUED\tSENDING\tFAILED")
			for _, name := range sortedKeys(app.Digests) {
				d := app.Digests[name]
				last, err := app.Ledger.LastRun(ctx, name)
				if err != nil {
					return err
				}
				edition, sent, queued, sending, failed := "none", "-", "-", "-", "-"
				eds, err := app.Ledger.Editions(ctx, name, 1)
				if err != nil {
					return err
				}
				// An edition made by digest send is a run too, though
				// not the scheduler's.
				if len(eds) > 0 && eds[0].CreatedAt.After(last) {
					last = eds[0].CreatedAt
				}
				lastRun := "never"
				if !last.IsZero() {
					lastRun = last.In(loc).Format("2006-01-02 15:04")
				}
				if len(eds) > 0 {
					ed := eds[0]
					c, err := app.Ledger.Counts(ctx, ed.ID)
					if err != nil {
						return err
					}
					state := ed.State
					if !ed.Paused.IsZero() {
						state = "paused: " + ed.PausedReason
					}
					edition = fmt.Sprintf("#%d %s (%s)", ed.ID, ed.ScheduledAt.In(loc).Format("2006-01-02 15:04"), state)
					sent = fmt.Sprint(c[mail.DeliverySent])
					queued = fmt.Sprint(c[mail.DeliveryQueued])
					// Sending rows are in an SMTP transaction now, or in
					// doubt after a crash: not the same as waiting.
					sending = fmt.Sprint(c[mail.DeliverySending])
					failed = fmt.Sprint(c[mail.DeliveryFailed])
				}
				schedule, next := d.Schedule, app.Scheduler.Next(name, now).In(loc).Format("2006-01-02 15:04")
				if d.Mode == mail.ModeEach {
					schedule, next = "each article", "+"+d.Delay.String()+" after one"
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", name, schedule, next, lastRun, edition, sent, queued, sending, failed)
			}
			if err := tw.Flush(); err != nil {
				return err
			}
			ps, err := app.Ledger.Progress(ctx)
			if err != nil {
				return err
			}
			if len(ps) > 0 {
				fmt.Fprintln(e.stdout, "\nSending:")
				for _, p := range ps {
					fmt.Fprintf(e.stdout, "  #%d %s %q: %s\n", p.Edition, p.Digest, p.Subject, progressSummary(p))
				}
			}
			depth, err := app.Ledger.QueueDepth(ctx)
			if err != nil {
				return err
			}
			fmt.Fprintf(e.stdout, "\nQueue: %d deliveries waiting (as of %s)\n", depth, now.In(loc).Format(time.RFC3339))
			return nil
		},
	}
}
