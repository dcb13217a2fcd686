package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"text/tabwriter"
	"time"

	"github.com/tidings/tidings/internal/database"
)

func dbCopyCommand() *command {
	var to string
	return &command{
		name: "db copy", args: "--to URL|PATH",
		summary: "copy the database into a new PostgreSQL database or SQLite file, and verify every table",
		detail: "Copies every table of the configured database (database.url, else the SQLite file database.path) into\n" +
			"the one named by --to, either kind: articles, subscribers with their events and consent, the token\n" +
			"secret, editions, the ledger, sources, admin accounts, the inbound log. Ids are kept. The target must be\n" +
			"new: a file that does not exist yet, or a PostgreSQL database just created (createdb); one that holds\n" +
			"data is refused, naming the tables. The source is read as one snapshot; an SQLite source is locked, so\n" +
			"the copy refuses while serve or run use it (stop them first). The target is written in one transaction\n" +
			"and checked before it commits, table by table, by row count and a checksum over every value: any\n" +
			"difference, or a value the target cannot take, and nothing is written. Exit status 0 when every table\n" +
			"verified, 1 otherwise. Afterwards point the config's [database] at the target (url, or path for a file).",
		example: "tidings db copy --to postgres://tidings@db.internal/tidings\ntidings --config pg.toml db copy --to ./data/back.db",
		flags: func(fs *flag.FlagSet) {
			fs.StringVar(&to, "to", "", "the database to copy into: a postgres:// URL or an SQLite file path")
		},
		run: func(ctx context.Context, e *env, fs *flag.FlagSet) error {
			if fs.NArg() != 0 || to == "" {
				return errUsage
			}
			cfg, err := e.loadConfig()
			if err != nil {
				return err
			}
			return copyDatabase(ctx, e, cfg.Database.Where(), to)
		},
	}
}

// copyDatabase copies from into to and prints the report.
func copyDatabase(ctx context.Context, e *env, from, to string) error {
	// SQLite's instance lock keeps serve and run off both files for the
	// copy's length (the target's once Open has made its folder); the
	// source is read as one snapshot besides, which is all there is for
	// PostgreSQL.
	if !database.IsURL(from) {
		l, err := lockInstance(DatabaseConfig{Path: from}, "db copy")
		if err != nil {
			return err
		}
		defer l.release()
	}
	src, err := database.Open(ctx, from)
	if err != nil {
		return err
	}
	defer src.Close()
	dst, err := database.Open(ctx, to)
	if err != nil {
		return err
	}
	defer dst.Close()
	if !database.IsURL(to) && !sameFile(from, to) { // the same file: Copy refuses it
		l, err := lockInstance(DatabaseConfig{Path: to}, "db copy")
		if err != nil {
			return err
		}
		defer l.release()
	}
	fmt.Fprintf(e.stderr, "copying %s to %s …\n", src, dst)
	start := time.Now()
	rep, err := database.Copy(ctx, src, dst)
	took := time.Since(start)
	if len(rep.Tables) > 0 {
		tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "TABLE\tROWS\tCHECKSUM\tOK")
		var rows int64
		for _, t := range rep.Tables {
			ok := "yes"
			if !t.Verified {
				ok = "NO"
			}
			rows += t.Rows
			fmt.Fprintf(tw, "%s\t%d\t%.16s\t%s\n", t.Table, t.Rows, t.Checksum, ok)
		}
		tw.Flush()
		if err == nil {
			fmt.Fprintf(e.stdout, "copied %s, %s, from %s to %s in %s; every table verified\n",
				plural(len(rep.Tables), "table"), plural(int(rows), "row"), src, dst, took.Round(time.Millisecond))
		}
	}
	return err
}

// sameFile reports whether two paths name one file.
func sameFile(a, b string) bool {
	ai, err := os.Stat(a)
	if err != nil {
		return false
	}
	bi, err := os.Stat(b)
	return err == nil && os.SameFile(ai, bi)
}
