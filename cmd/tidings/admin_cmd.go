package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"golang.org/x/term"

	"github.com/tidings/tidings/internal/admin"
)

// cliAccount is who the audit log names for an action on the server.
const cliAccount = "cli"

// adminCommand is one of the admin account commands; withPassword ones
// read a password first, from a prompt or --password-stdin.
func adminCommand(name, args, summary, detail, example string, nargs int, withPassword bool,
	run func(ctx context.Context, e *env, st *admin.Store, email, password string) error) *command {
	var fromStdin bool
	c := &command{name: "admin " + name, args: args, summary: summary, detail: detail, example: example, nargs: nargs}
	if withPassword {
		c.flags = func(fs *flag.FlagSet) {
			fs.BoolVar(&fromStdin, "password-stdin", false, "read the password from the first line of standard input")
		}
	}
	c.app = func(ctx context.Context, e *env, app *App, fs *flag.FlagSet) error {
		var pw string
		if withPassword {
			var err error
			if pw, err = readPassword(e, os.Stdin, fromStdin); err != nil {
				return err
			}
		}
		st := admin.NewStore(app.DB, func() time.Time { return app.Now() })
		return run(ctx, e, st, fs.Arg(0), pw)
	}
	return c
}

// readPassword reads a password: the first line of in with
// --password-stdin, else from a prompt, twice, without echo, when in is
// a terminal.
func readPassword(e *env, in *os.File, fromStdin bool) (string, error) {
	if fromStdin {
		line, err := bufio.NewReader(in).ReadString('\n')
		if err != nil && !errors.Is(err, io.EOF) {
			return "", fmt.Errorf("read password: %w", err)
		}
		pw := strings.TrimRight(line, "\r\n")
		if pw == "" {
			return "", errors.New("no password on standard input")
		}
		return pw, nil
	}
	fd := int(in.Fd())
	if !term.IsTerminal(fd) {
		return "", errors.New("standard input is not a terminal: pass the password with --password-stdin")
	}
	fmt.Fprint(e.stderr, "Password: ")
	pw, err := term.ReadPassword(fd)
	fmt.Fprintln(e.stderr)
	if err != nil {
		return "", fmt.Errorf("read password: %w", err)
	}
	fmt.Fprint(e.stderr, "Again: ")
	again, err := term.ReadPassword(fd)
	fmt.Fprintln(e.stderr)
	if err != nil {
		return "", fmt.Errorf("read password: %w", err)
	}
	if string(pw) != string(again) {
		return "", errors.New("the two passwords differ; nothing changed")
	}
	return string(pw), nil
}

func adminCommands() []*command {
	return []*command{
		adminCommand("add", "EMAIL", "create a web admin account",
			fmt.Sprintf("Creates an account that can log in at /admin. The password (at least %d characters) is asked for\n"+
				"twice on a terminal, or read from the first line of standard input with --password-stdin.", admin.MinPasswordLen),
			"tidings admin add ana@example.org\n  printf '%s\\n' \"$PW\" | tidings admin add ana@example.org --password-stdin", 1, true,
			func(ctx context.Context, e *env, st *admin.Store, email, pw string) error {
				a, err := st.AddAccount(ctx, email, pw)
				if err != nil {
					return err
				}
				if err := st.Audit(ctx, admin.AuditEntry{Account: cliAccount, Action: "account.add", Detail: a.Email}); err != nil {
					return err
				}
				fmt.Fprintf(e.stdout, "added admin account %s\n", a.Email)
				return nil
			}),
		adminCommand("passwd", "EMAIL", "set a web admin account's password",
			"Sets a new password, read as for admin add, and logs the account out everywhere. The way back in\n"+
				"when a password is lost or the login is rate-limited.",
			"tidings admin passwd ana@example.org", 1, true,
			func(ctx context.Context, e *env, st *admin.Store, email, pw string) error {
				if err := st.SetPassword(ctx, email, pw); err != nil {
					return err
				}
				if err := st.Audit(ctx, admin.AuditEntry{Account: cliAccount, Action: "account.password", Detail: email}); err != nil {
					return err
				}
				fmt.Fprintf(e.stdout, "password of %s changed; its sessions ended\n", email)
				return nil
			}),
		adminCommand("remove", "EMAIL", "remove a web admin account",
			"Deletes the account and ends its sessions; its entries in the audit log stay.",
			"tidings admin remove ana@example.org", 1, false,
			func(ctx context.Context, e *env, st *admin.Store, email, _ string) error {
				if err := st.RemoveAccount(ctx, email); err != nil {
					return err
				}
				if err := st.Audit(ctx, admin.AuditEntry{Account: cliAccount, Action: "account.remove", Detail: email}); err != nil {
					return err
				}
				fmt.Fprintf(e.stdout, "removed admin account %s\n", email)
				return nil
			}),
		adminCommand("list", "", "list the web admin accounts",
			"", "tidings admin list", 0, false,
			func(ctx context.Context, e *env, st *admin.Store, _, _ string) error {
				as, err := st.Accounts(ctx)
				if err != nil {
					return err
				}
				if len(as) == 0 {
					fmt.Fprintln(e.stdout, "no admin accounts; create one with: tidings admin add EMAIL")
					return nil
				}
				for _, a := range as {
					fmt.Fprintf(e.stdout, "%s\tcreated %s\tpassword set %s\t%d sessions\n", a.Email,
						a.CreatedAt.Format(time.RFC3339), a.ChangedAt.Format(time.RFC3339), a.Sessions)
				}
				return nil
			}),
	}
}
