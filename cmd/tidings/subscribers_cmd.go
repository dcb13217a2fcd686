package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/tidings/tidings/subscribers"
)

// subscriberCommand is the shape every subscribers subcommand shares.
func subscriberCommand(name, args, summary, detail, example string, flags func(*flag.FlagSet), nargs int,
	do func(ctx context.Context, e *env, app *App, fs *flag.FlagSet) error) *command {
	return &command{
		name: "subscribers " + name, args: args, summary: summary, detail: detail, example: example, flags: flags,
		nargs: nargs, app: do,
	}
}

var cliMeta = subscribers.Meta{Route: "cli"}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

func subscribersAddCommand() *command {
	var name, digests, status, zone string
	return subscriberCommand("add", "EMAIL", "add a subscriber, confirmed by the operator",
		"The address is recorded as consented by the operator (an event says so). --status pending sends nothing and waits for a sign-up.",
		"tidings subscribers add ana@example.org --name 'Ana Sousa' --digests daily,weekly",
		func(fs *flag.FlagSet) {
			fs.StringVar(&name, "name", "", "the subscriber's name")
			fs.StringVar(&digests, "digests", "", "comma-separated digest names (default: all)")
			fs.StringVar(&status, "status", "confirmed", "confirmed | pending | unsubscribed")
			fs.StringVar(&zone, "timezone", "", "the subscriber's IANA time zone, for digests with deliver_at (default: site.timezone)")
		}, 1,
		func(ctx context.Context, e *env, app *App, fs *flag.FlagSet) error {
			if _, err := subscribers.ParseTimeZone(zone); err != nil {
				return err
			}
			s, err := app.Subscribers.Add(ctx, fs.Arg(0), name, splitList(digests), subscribers.Status(status), cliMeta)
			if err == nil && zone != "" {
				s, err = app.Subscribers.SetTimeZone(ctx, s.ID, zone, cliMeta)
			}
			if err != nil {
				return err
			}
			fmt.Fprintf(e.stdout, "added %s (id %d, %s, digests %s)\n", s.Email, s.ID, s.Status, strings.Join(s.Digests, ", "))
			return nil
		})
}

func subscribersListCommand() *command {
	var status, digest, search string
	var limit int
	return subscriberCommand("list", "", "list subscribers",
		"", "tidings subscribers list --status confirmed --digest daily",
		func(fs *flag.FlagSet) {
			fs.StringVar(&status, "status", "", "only this status: pending | confirmed | unsubscribed | bounced | complained")
			fs.StringVar(&digest, "digest", "", "only subscribers of this digest")
			fs.StringVar(&search, "search", "", "only addresses or names containing this")
			fs.IntVar(&limit, "limit", 0, "at most this many (0: all)")
		}, 0,
		func(ctx context.Context, e *env, app *App, fs *flag.FlagSet) error {
			tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "ID\tEMAIL\tNAME\tSTATUS\tDIGESTS\tSINCE")
			n := 0
			f := subscribers.ListFilter{Status: subscribers.Status(status), Digest: digest, Search: search, Limit: 1000}
			for {
				subs, next, err := app.Subscribers.List(ctx, f)
				if err != nil {
					return err
				}
				for _, s := range subs {
					if limit > 0 && n >= limit {
						return tw.Flush()
					}
					n++
					fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\n", s.ID, s.Email, s.Name, s.Status, strings.Join(s.Digests, ","),
						s.CreatedAt.In(app.Config.Location()).Format("2006-01-02"))
				}
				if next == 0 {
					return tw.Flush()
				}
				f.After = next
			}
		})
}

func subscribersShowCommand() *command {
	return subscriberCommand("show", "EMAIL", "show one subscriber and the record of their consent",
		"", "tidings subscribers show ana@example.org", nil, 1,
		func(ctx context.Context, e *env, app *App, fs *flag.FlagSet) error {
			s, err := app.Subscribers.GetByEmail(ctx, fs.Arg(0))
			if err != nil {
				return err
			}
			loc := app.Config.Location()
			w := e.stdout
			zone := s.TimeZone
			if zone == "" {
				zone = "(the site's, " + app.Config.Site.Timezone + ")"
			}
			fmt.Fprintf(w, "ID:       %d\nEmail:    %s\nName:     %s\nStatus:   %s\nDigests:  %s\nTimezone: %s\nRoute:    %s\nCreated:  %s\n",
				s.ID, s.Email, s.Name, s.Status, strings.Join(s.Digests, ", "), zone, s.Route, s.CreatedAt.In(loc).Format(time.RFC3339))
			if s.ConfirmedAt != nil {
				fmt.Fprintf(w, "Confirmed: %s\n", s.ConfirmedAt.In(loc).Format(time.RFC3339))
			}
			if s.UnsubscribedAt != nil {
				fmt.Fprintf(w, "Left:     %s\n", s.UnsubscribedAt.In(loc).Format(time.RFC3339))
			}
			fmt.Fprintf(w, "Bounces:  %d\n\nEvents:\n", s.BounceCount)
			events, err := app.Subscribers.Events(ctx, s.ID)
			if err != nil {
				return err
			}
			tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "  WHEN\tEVENT\tROUTE\tIP\tUSER AGENT\tDETAIL")
			for _, ev := range events {
				fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\t%s\t%s\n", ev.At.In(loc).Format(time.RFC3339), ev.Kind, ev.Route, ev.IP, ev.UserAgent, ev.Detail)
			}
			return tw.Flush()
		})
}

func subscribersRemoveCommand() *command {
	return subscriberCommand("remove", "EMAIL", "unsubscribe an address (for mailto unsubscribe requests)",
		"Stops every later delivery, including ones already queued. The record stays; use forget to erase it.",
		"tidings subscribers remove ana@example.org", nil, 1,
		func(ctx context.Context, e *env, app *App, fs *flag.FlagSet) error {
			s, err := app.Subscribers.GetByEmail(ctx, fs.Arg(0))
			if err != nil {
				return err
			}
			if s, err = app.Subscribers.Unsubscribe(ctx, s.ID, cliMeta); err != nil {
				return err
			}
			fmt.Fprintf(e.stdout, "unsubscribed %s\n", s.Email)
			return nil
		})
}

func subscribersForgetCommand() *command {
	return subscriberCommand("forget", "EMAIL", "erase a person's data, keeping only a hash on a suppression list",
		"Deletes the subscriber and their events. A hash of the address stays so that an import cannot bring it back;\nthe person's own new sign-up can.",
		"tidings subscribers forget ana@example.org", nil, 1,
		func(ctx context.Context, e *env, app *App, fs *flag.FlagSet) error {
			if err := app.Subscribers.Forget(ctx, fs.Arg(0), cliMeta); err != nil {
				return err
			}
			fmt.Fprintf(e.stdout, "erased %s\n", fs.Arg(0))
			return nil
		})
}

func subscribersImportCommand() *command {
	var opts subscribers.ImportOptions
	return subscriberCommand("import", "FILE.csv", "import subscribers from CSV (header: email, name, digests, status, timezone)",
		"The header may also be an export of Mailchimp, Substack, Buttondown, listmonk or Ghost, recognised by its\n"+
			"columns (their other columns are left out, and said so); the delimiter (, ; tab |) is read from the header.\n"+
			"Idempotent: existing addresses are updated, never duplicated. Bad rows are reported with their line and skipped;\n"+
			"the next line is read on its own, so one broken row loses nothing after it. --confirmed records new rows as\n"+
			"consented by the operator. A no stays a no: addresses that unsubscribed, bounced, complained or were forgotten\n"+
			"are kept as they are, whatever the file says; only --resubscribe SOURCE (where the renewed consent came from,\n"+
			"recorded in each person's events) confirms those who left, and never forgotten ones. FILE may be - for standard input.",
		"tidings subscribers import --confirmed list.csv",
		func(fs *flag.FlagSet) {
			fs.BoolVar(&opts.Confirmed, "confirmed", false, "record new rows as confirmed, consent given to the operator")
			fs.StringVar(&opts.Resubscribe, "resubscribe", "", "confirm addresses that had left, citing this consent `source`")
		}, 1,
		func(ctx context.Context, e *env, app *App, fs *flag.FlagSet) error {
			var r io.Reader = os.Stdin
			if p := fs.Arg(0); p != "-" {
				f, err := os.Open(p)
				if err != nil {
					return err
				}
				defer f.Close()
				r = f
			}
			res, err := app.Subscribers.Import(ctx, r, opts, subscribers.Meta{Route: "import"})
			if err != nil {
				return err
			}
			if mp := res.Mapping; mp.Source != "" && mp.Source != "tidings" {
				fmt.Fprintf(e.stdout, "read as a %s export", mp.Source)
				if left := mp.Left(); len(left) > 0 {
					fmt.Fprintf(e.stdout, "; left out: %s", strings.Join(left, ", "))
				}
				fmt.Fprintln(e.stdout)
			}
			for _, re := range res.Errors {
				fmt.Fprintf(e.stdout, "skipped %s\n", re.Error())
			}
			fmt.Fprintf(e.stdout, "added %d, updated %d, skipped %d, kept unsubscribed %d%s\n", res.Added, res.Updated, res.Skipped, res.Kept, keptReasons(res.KeptBy))
			if opts.Resubscribe != "" {
				app.Logger.Warn("import resubscribed addresses that had left", "component", "subscribers", "consent_source", opts.Resubscribe, "updated", res.Updated)
			}
			if res.AddedPending > 0 {
				fmt.Fprintf(e.stdout, "%s added as pending: they get no digest until confirmed. If they consented elsewhere, import again with --confirmed; otherwise ask them to sign up at /subscribe.\n", plural(res.AddedPending, "address"))
			}
			if len(res.Errors) > 0 {
				return errFailed
			}
			return nil
		})
}

func subscribersExportCommand() *command {
	var output string
	return subscriberCommand("export", "", "write every subscriber as CSV",
		"The same columns import reads: email, name, digests, status.",
		"tidings subscribers export --output backup.csv",
		func(fs *flag.FlagSet) {
			fs.StringVar(&output, "output", "", "write to this file instead of standard output")
		}, 0,
		func(ctx context.Context, e *env, app *App, fs *flag.FlagSet) error {
			if output == "" {
				return app.Subscribers.Export(ctx, e.stdout)
			}
			f, err := os.Create(output)
			if err != nil {
				return err
			}
			err = app.Subscribers.Export(ctx, f)
			return errors.Join(err, f.Close())
		})
}

// keptReasons writes " (unsubscribed 2, forgotten 1)", or "".
func keptReasons(by map[string]int) string {
	var parts []string
	for _, k := range []string{"unsubscribed", "bounced", "complained", "forgotten"} {
		if n := by[k]; n > 0 {
			parts = append(parts, fmt.Sprintf("%s %d", k, n))
		}
	}
	if len(parts) == 0 {
		return ""
	}
	return " (" + strings.Join(parts, ", ") + ")"
}
