package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"slices"
	"strconv"
	"text/tabwriter"
	"time"

	"github.com/tidings/tidings/mail"
)

func editionID(fs *flag.FlagSet) (int64, error) {
	if fs.NArg() != 1 {
		return 0, errUsage
	}
	id, err := strconv.ParseInt(fs.Arg(0), 10, 64)
	if err != nil || id <= 0 {
		return 0, fmt.Errorf("%q is not an edition id (see tidings editions list)", fs.Arg(0))
	}
	return id, nil
}

func editionsListCommand() *command {
	var digest string
	var limit int
	return &command{
		name: "editions list", summary: "list editions, newest first, with their delivery counts",
		example: "tidings editions list --digest daily",
		flags: func(fs *flag.FlagSet) {
			fs.StringVar(&digest, "digest", "", "only editions of this digest")
			fs.IntVar(&limit, "limit", 20, "at most this many")
		},
		nargs: 0,
		app: func(ctx context.Context, e *env, app *App, fs *flag.FlagSet) error {
			eds, err := app.Ledger.Editions(ctx, digest, limit)
			if err != nil {
				return err
			}
			tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "ID\tDIGEST\tSCHEDULED\tSTATE\tARTICLES\tSENT\tQUEUED\tFAILED\tSKIPPED\tSUBJECT")
			for _, ed := range eds {
				c, err := app.Ledger.Counts(ctx, ed.ID)
				if err != nil {
					return err
				}
				fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%d\t%d\t%d\t%d\t%d\t%s\n", ed.ID, ed.Digest,
					ed.ScheduledAt.In(app.Config.Location()).Format("2006-01-02 15:04"), ed.State, ed.ArticleCount,
					c[mail.DeliverySent], c[mail.DeliveryQueued]+c[mail.DeliverySending], c[mail.DeliveryFailed], c[mail.DeliverySkipped], ed.Subject)
			}
			return tw.Flush()
		},
	}
}

func editionsShowCommand() *command {
	return &command{
		name: "editions show", args: "ID", summary: "show one edition: articles, counts by state, each failure with its SMTP reply",
		example: "tidings editions show 12",
		nargs:   1,
		app: func(ctx context.Context, e *env, app *App, fs *flag.FlagSet) error {
			id, err := editionID(fs)
			if err != nil {
				return err
			}
			ed, err := app.Ledger.Edition(ctx, id)
			if err != nil {
				return err
			}
			loc := app.Config.Location()
			w := e.stdout
			fmt.Fprintf(w, "Edition:   %d\nDigest:    %s\nSubject:   %s\nScheduled: %s\nCreated:   %s\nState:     %s\n",
				ed.ID, ed.Digest, ed.Subject, ed.ScheduledAt.In(loc).Format(time.RFC3339), ed.CreatedAt.In(loc).Format(time.RFC3339), ed.State)
			if !ed.Paused.IsZero() {
				fmt.Fprintf(w, "Paused:    %s, %s (tidings editions resume %d goes on)\n", ed.Paused.In(loc).Format(time.RFC3339), ed.PausedReason, ed.ID)
			}
			fmt.Fprintf(w, "\nArticles (%d):\n", len(ed.Articles))
			for _, a := range ed.Articles {
				fmt.Fprintf(w, "  %s  %s\n", a.ID, a.Title)
			}
			c, err := app.Ledger.Counts(ctx, id)
			if err != nil {
				return err
			}
			if ps, err := app.Ledger.Progress(ctx); err == nil {
				for _, p := range ps {
					if p.Edition == id {
						fmt.Fprintf(w, "Progress:  %s\n", progressSummary(p))
					}
				}
			}
			fmt.Fprintf(w, "\nDeliveries: sent %d, queued %d, sending %d, failed %d, skipped %d\n",
				c[mail.DeliverySent], c[mail.DeliveryQueued], c[mail.DeliverySending], c[mail.DeliveryFailed], c[mail.DeliverySkipped])
			if r, err := app.Ledger.Returns(ctx, id); err != nil {
				return err
			} else if r["bounce"]+r["soft"]+r["complaint"]+r["unsubscribe"] > 0 {
				fmt.Fprintf(w, "Came back: hard bounces %d, soft bounces %d, complaints %d, unsubscribed by mail %d\n",
					r["bounce"], r["soft"], r["complaint"], r["unsubscribe"])
			}
			if err := printWaiting(ctx, w, app, id, loc); err != nil {
				return err
			}
			queued, err := app.Ledger.Deliveries(ctx, id, mail.DeliveryQueued)
			if err != nil {
				return err
			}
			retried := slices.DeleteFunc(queued, func(d mail.Delivery) bool { return d.Attempts == 0 })
			if len(retried) > 0 {
				tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
				fmt.Fprintln(tw, "\nWaiting to be retried:\n  EMAIL\tATTEMPTS\tNEXT TRY\tLAST REPLY")
				for _, d := range retried {
					fmt.Fprintf(tw, "  %s\t%d\t%s\t%s\n", d.Email, d.Attempts, d.NextAttemptAt.In(loc).Format(time.RFC3339), d.LastReply)
				}
				tw.Flush()
			}
			failures, err := app.Ledger.Failures(ctx, id)
			if err != nil {
				return err
			}
			if len(failures) > 0 {
				tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
				fmt.Fprintln(tw, "\nFailed:\n  EMAIL\tATTEMPTS\tCODE\tREPLY")
				for _, d := range failures {
					fmt.Fprintf(tw, "  %s\t%d\t%d\t%s\n", d.Email, d.Attempts, d.LastCode, d.LastReply)
				}
				tw.Flush()
				fmt.Fprintf(w, "\nRun \"tidings editions retry %d\" to send the failed ones again.\n", id)
			}
			return nil
		},
	}
}

func editionsResumeCommand() *command {
	var wait bool
	return &command{
		name: "editions resume", args: "ID", summary: "let an edition the reputation guard paused go on, and send what waits",
		example: "tidings editions resume 12",
		detail: "The guard pauses an edition whose spam complaints pass 0.3% or hard bounces 5% of 1,000 or more delivered.\n" +
			"Resuming turns the guard off for that edition. The exit status is as for digest send.",
		flags: func(fs *flag.FlagSet) {
			fs.BoolVar(&wait, "wait", false, "stay until every delivery is sent or failed, retries included")
		},
		nargs: 1,
		app: func(ctx context.Context, e *env, app *App, fs *flag.FlagSet) error {
			id, err := editionID(fs)
			if err != nil {
				return err
			}
			if err := app.Ledger.Resume(ctx, id); err != nil {
				return err
			}
			fmt.Fprintf(e.stdout, "edition %d: resumed\n", id)
			return app.sendDue(ctx, e.stdout, "", wait)
		},
	}
}

func editionsRetryCommand() *command {
	var wait bool
	return &command{
		name: "editions retry", args: "ID", summary: "queue the failed deliveries of an edition again, and send them",
		example: "tidings editions retry 12",
		detail:  "The exit status is 1 when a delivery failed for good again, 75 when some are left for a later try (without --wait).",
		flags: func(fs *flag.FlagSet) {
			fs.BoolVar(&wait, "wait", false, "stay until every delivery is sent or failed, retries included")
		},
		nargs: 1,
		app: func(ctx context.Context, e *env, app *App, fs *flag.FlagSet) error {
			id, err := editionID(fs)
			if err != nil {
				return err
			}
			n, err := app.Ledger.Retry(ctx, id)
			if err != nil {
				return err
			}
			fmt.Fprintf(e.stdout, "edition %d: %d failed deliveries queued again\n", id, n)
			return app.sendDue(ctx, e.stdout, "", wait)
		},
	}
}

// printWaiting says how many queued deliveries wait for which hour: a
// digest with deliver_at reaches each subscriber at their own.
func printWaiting(ctx context.Context, w io.Writer, app *App, id int64, loc *time.Location) error {
	ws, err := app.Ledger.Waiting(ctx, id)
	if err != nil || len(ws) == 0 {
		return err
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "\nQueued, by the hour they are due:\n  HOUR\tDELIVERIES")
	for _, x := range ws {
		fmt.Fprintf(tw, "  %s\t%d\n", x.Hour.In(loc).Format("2006-01-02 15:04 -07:00"), x.Count)
	}
	return tw.Flush()
}
