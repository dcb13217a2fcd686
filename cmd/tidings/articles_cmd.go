package main

import (
	"context"
	"flag"
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/tidings/tidings/feed"
	"github.com/tidings/tidings/feed/content"
)

func articlesListCommand() *command {
	var all bool
	var tag string
	var limit int
	return &command{
		name:    "articles list",
		summary: "list stored articles, newest first",
		detail:  "Without --all only published articles are listed (no drafts, no future dates, no removed files).",
		example: "tidings articles list --tag politics --limit 20",
		flags: func(fs *flag.FlagSet) {
			fs.BoolVar(&all, "all", false, "include drafts, scheduled and removed articles")
			fs.StringVar(&tag, "tag", "", "only articles with this tag")
			fs.IntVar(&limit, "limit", 0, "at most this many (0: all)")
		},
		nargs: 0,
		app: func(ctx context.Context, e *env, app *App, fs *flag.FlagSet) error {
			now := app.Now()
			o := feed.ListOptions{Limit: limit, All: all, Now: now}
			if tag != "" {
				o.Tags = []string{tag}
			}
			as, err := app.Articles.List(ctx, o)
			if err != nil {
				return err
			}
			tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "ID\tPUBLISHED\tSTATE\tTITLE")
			for _, a := range as {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", a.ID, a.Published.In(app.Config.Location()).Format("2006-01-02 15:04"), state(a, now), a.Title)
			}
			return tw.Flush()
		},
	}
}

// state names where an article stands, for people.
func state(a *feed.Article, now time.Time) string {
	switch {
	case a.Removed != nil:
		return "removed"
	case a.Draft:
		return "draft"
	case a.Published.After(now):
		return "scheduled"
	}
	return "published"
}

func articlesShowCommand() *command {
	return &command{
		name:    "articles show",
		args:    "ID",
		summary: "show one article: metadata, HTML and text",
		example: "tidings articles show 2026/ceasefire-talks",
		nargs:   1,
		app: func(ctx context.Context, e *env, app *App, fs *flag.FlagSet) error {
			a, err := app.Articles.Get(ctx, fs.Arg(0))
			if err != nil {
				return err
			}
			loc := app.Config.Location()
			w := e.stdout
			fmt.Fprintf(w, "ID:         %s\n", a.ID)
			fmt.Fprintf(w, "Title:      %s\n", a.Title)
			fmt.Fprintf(w, "Slug:       %s\n", a.Slug)
			fmt.Fprintf(w, "State:      %s\n", state(a, app.Now()))
			fmt.Fprintf(w, "Source:     %s %s\n", a.Source, a.Path)
			fmt.Fprintf(w, "Author:     %s\n", content.JoinAuthor(a.Author, a.AuthorEmail))
			fmt.Fprintf(w, "Tags:       %s\n", strings.Join(a.Tags, ", "))
			fmt.Fprintf(w, "Published:  %s\n", a.Published.In(loc).Format(time.RFC3339))
			fmt.Fprintf(w, "Updated:    %s\n", a.Updated.In(loc).Format(time.RFC3339))
			fmt.Fprintf(w, "First seen: %s\n", a.FirstSeen.In(loc).Format(time.RFC3339))
			if a.Image != "" {
				fmt.Fprintf(w, "Image:      %s\n", a.Image)
			}
			fmt.Fprintf(w, "Hash:       %s\n", a.ContentHash)
			fmt.Fprintf(w, "Summary:    %s\n", a.Summary)
			fmt.Fprintf(w, "\n--- HTML ---\n%s\n\n--- Text ---\n%s", a.ContentHTML, a.ContentText)
			return nil
		},
	}
}
