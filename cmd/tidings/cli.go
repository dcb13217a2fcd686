package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"sort"
	"strings"
)

// env is what every command gets: its output streams and environment.
type env struct {
	stdout, stderr io.Writer
	getenv         func(string) string
	configFlag     string
}

// command is one subcommand. Names of two words ("articles list") are
// looked up before names of one.
type command struct {
	name    string
	args    string // what follows the name in the usage line
	summary string
	detail  string
	example string
	flags   func(fs *flag.FlagSet) // extra flags, optional
	run     func(ctx context.Context, e *env, fs *flag.FlagSet) error

	// A command that works on the app sets app instead of run, and nargs:
	// how many arguments it takes. The app is opened for it and closed
	// after.
	app   func(ctx context.Context, e *env, app *App, fs *flag.FlagSet) error
	nargs int
}

// runApp checks the arguments, opens the app and runs c.app on it.
func (c *command) runApp(ctx context.Context, e *env, fs *flag.FlagSet) error {
	if fs.NArg() != c.nargs {
		return errUsage
	}
	app, err := e.openApp(ctx)
	if err != nil {
		return err
	}
	defer app.Close()
	return c.app(ctx, e, app, fs)
}

// errUsage makes a command print its usage; exit status 2.
var errUsage = errors.New("usage")

// errFailed means the command printed its own report and failed; exit 1.
var errFailed = errors.New("failed")

// errPending means the command did its part but work is left for later
// (deliveries waiting for a retry): exit 75, EX_TEMPFAIL, so that a script
// can tell "done" from "not done yet".
var errPending = errors.New("pending")

// exitPending is the exit status of errPending.
const exitPending = 75

func commands() []*command {
	cs := []*command{
		initCommand(), serveCommand(), runCommand(), ingestCommand(),
		articlesListCommand(), articlesShowCommand(),
		feedsBuildCommand(), configCheckCommand(), versionCommand(),
		subscribersAddCommand(), subscribersListCommand(), subscribersShowCommand(), subscribersRemoveCommand(),
		subscribersImportCommand(), subscribersExportCommand(), subscribersForgetCommand(),
		digestPreviewCommand(), digestSendCommand(), digestTestCommand(),
		broadcastPreviewCommand(), broadcastSendCommand(), broadcastTestCommand(),
		editionsListCommand(), editionsShowCommand(), editionsRetryCommand(), editionsResumeCommand(), statusCommand(),
		sourcesListCommand(), sourcesCheckCommand(),
		inboundProcessCommand(), inboundListCommand(),
		dbCopyCommand(),
	}
	return append(cs, adminCommands()...)
}

// Run runs the tidings command line and returns the exit status.
func Run(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) int {
	e := &env{stdout: stdout, stderr: stderr, getenv: getenv}
	top := flag.NewFlagSet("tidings", flag.ContinueOnError)
	top.SetOutput(io.Discard)
	top.StringVar(&e.configFlag, "config", "", "")
	if err := top.Parse(args); err != nil {
		fmt.Fprintf(stderr, "tidings: %v\n\n", err)
		printHelp(stderr)
		return 2
	}
	args = top.Args()
	if len(args) == 0 {
		printHelp(stderr)
		return 2
	}
	if args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		return helpCommand(e, args[1:])
	}
	cmd, rest := lookup(args)
	if cmd == nil {
		fmt.Fprintf(stderr, "tidings: unknown command %q; run \"tidings help\" for the list\n", strings.Join(args[:min(2, len(args))], " "))
		return 2
	}
	fs := flag.NewFlagSet("tidings "+cmd.name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.StringVar(&e.configFlag, "config", e.configFlag, "config file (default: $TIDINGS_CONFIG, else ./tidings.toml if present)")
	if cmd.flags != nil {
		cmd.flags(fs)
	}
	if err := parseInterspersed(fs, rest); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			printUsage(stdout, cmd, fs)
			return 0
		}
		fmt.Fprintf(stderr, "tidings %s: %v\n\n", cmd.name, err)
		printUsage(stderr, cmd, fs)
		return 2
	}
	run := cmd.run
	if cmd.app != nil {
		run = cmd.runApp
	}
	err := run(ctx, e, fs)
	switch {
	case err == nil:
		return 0
	case errors.Is(err, errUsage):
		printUsage(stderr, cmd, fs)
		return 2
	case errors.Is(err, errFailed):
		return 1
	case errors.Is(err, errPending):
		return exitPending
	default:
		fmt.Fprintf(stderr, "tidings %s: %v\n", cmd.name, err)
		return 1
	}
}

// parseInterspersed parses flags wherever they stand, as people type them
// ("subscribers add ana@example.org --name Ana"); the flag package alone
// stops at the first argument. After it, fs.Args() holds the arguments.
func parseInterspersed(fs *flag.FlagSet, args []string) error {
	var positional []string
	for {
		if err := fs.Parse(args); err != nil {
			return err
		}
		rest := fs.Args()
		if len(rest) == 0 {
			break
		}
		if len(args) > len(rest) && args[len(args)-len(rest)-1] == "--" {
			positional = append(positional, rest...) // everything after -- is an argument
			break
		}
		positional = append(positional, rest[0])
		args = rest[1:]
	}
	return fs.Parse(append([]string{"--"}, positional...))
}

// lookup finds the command named by the first one or two words of args.
func lookup(args []string) (*command, []string) {
	cs := commands()
	if len(args) >= 2 {
		for _, c := range cs {
			if c.name == args[0]+" "+args[1] {
				return c, args[2:]
			}
		}
	}
	for _, c := range cs {
		if c.name == args[0] {
			return c, args[1:]
		}
	}
	return nil, nil
}

func helpCommand(e *env, args []string) int {
	if len(args) == 0 {
		printHelp(e.stdout)
		return 0
	}
	cmd, _ := lookup(args)
	if cmd == nil {
		// "help articles" lists the commands of that group.
		var group []*command
		for _, c := range commands() {
			if strings.HasPrefix(c.name, args[0]+" ") {
				group = append(group, c)
			}
		}
		if len(group) == 0 {
			fmt.Fprintf(e.stderr, "tidings help: unknown command %q\n", strings.Join(args, " "))
			return 2
		}
		for _, c := range group {
			fmt.Fprintf(e.stdout, "  tidings %-28s %s\n", c.name+" "+c.args, c.summary)
		}
		return 0
	}
	fs := flag.NewFlagSet("tidings "+cmd.name, flag.ContinueOnError)
	fs.String("config", "", "config file (default: $TIDINGS_CONFIG, else ./tidings.toml if present)")
	if cmd.flags != nil {
		cmd.flags(fs)
	}
	printUsage(e.stdout, cmd, fs)
	return 0
}

func printHelp(w io.Writer) {
	fmt.Fprintln(w, "tidings publishes articles as RSS, Atom and JSON feeds and mails them as digest newsletters.")
	fmt.Fprintln(w, "\nUsage: tidings [--config PATH] COMMAND [ARGS]\n\nCommands:")
	cs := commands()
	sort.SliceStable(cs, func(i, j int) bool { return cs[i].name < cs[j].name })
	for _, c := range cs {
		fmt.Fprintf(w, "  %-32s %s\n", strings.TrimSpace(c.name+" "+c.args), c.summary)
	}
	fmt.Fprintln(w, "\nRun \"tidings help COMMAND\" for a command's flags and an example.")
	fmt.Fprintln(w, "Without --config or $TIDINGS_CONFIG, ./tidings.toml is read if present, else the built-in defaults apply.")
}

func printUsage(w io.Writer, c *command, fs *flag.FlagSet) {
	fmt.Fprintf(w, "Usage: tidings %s\n\n%s\n", strings.TrimSpace(c.name+" [flags] "+c.args), c.summary)
	if c.detail != "" {
		fmt.Fprintf(w, "\n%s\n", c.detail)
	}
	fmt.Fprintln(w, "\nFlags:")
	printFlags(w, fs)
	if c.example != "" {
		fmt.Fprintf(w, "\nExample:\n  %s\n", strings.ReplaceAll(c.example, "\n", "\n  "))
	}
}

// printFlags lists fs's flags as people type them and the README writes
// them: --name, not the flag package's -name.
func printFlags(w io.Writer, fs *flag.FlagSet) {
	fs.VisitAll(func(f *flag.Flag) {
		name, usage := flag.UnquoteUsage(f)
		line := "  --" + f.Name
		if name != "" {
			line += " " + name
		}
		line += "\n    \t" + strings.ReplaceAll(usage, "\n", "\n    \t")
		if f.DefValue != "" && f.DefValue != "false" && f.DefValue != "0" {
			line += fmt.Sprintf(" (default %q)", f.DefValue)
		}
		fmt.Fprintln(w, line)
	})
}

// plural is "1 article", "2 articles".
func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}
