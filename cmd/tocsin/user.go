package main

import (
	"bufio"
	"context"
	"fmt"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/tocsin-org/tocsin"
	"github.com/tocsin-org/tocsin/auth"
)

func userCommands() map[string]subcommand {
	return map[string]subcommand{
		"add":  {"create an account; the password is read from standard input", userAdd},
		"list": {"list accounts", userList},
		"disable": {"disable an account and end its sessions", func(ctx context.Context, e *env, args []string) error {
			return userChange(ctx, e, "disable", "Disable an account and end its sessions.", args)
		}},
		"reset-2fa": {"remove an account's second factor so that it enrols again", func(ctx context.Context, e *env, args []string) error {
			return userChange(ctx, e, "reset-2fa", "Remove an account's second factor and end its sessions, so that it enrols again at next sign-in.", args)
		}},
	}
}

func userAdd(ctx context.Context, e *env, args []string) error {
	f := newFlags(e, "user add", "user add --email E --role R [--name N] [flags] < password",
		"Create an account. The password is the first line of standard input, so that it never\nappears in the process list or shell history:\n\n  printf '%s\\n' \"$PASSWORD\" | tocsin user add --email alice@example.org --role admin\n\nAccounts with the admin or approver role set up two-factor authentication at first sign-in.")
	email := f.String("email", "", "e-mail `address` of the account (required)")
	role := f.String("role", "", "comma-separated `roles`: viewer, responder, communicator, approver, admin (required)")
	name := f.String("name", "", "display `name`")
	temporary := f.Bool("temporary", false, "the password is temporary: its owner chooses a new one at first sign-in")
	if err := f.parse(args); err != nil {
		return helpOK(err)
	}
	if *email == "" || *role == "" {
		return fmt.Errorf("user add needs --email and --role (see tocsin user add -h)")
	}
	roles, err := tocsin.ParseRoles(*role)
	if err != nil {
		return err
	}
	password, err := readPassword(e)
	if err != nil {
		return err
	}
	db, c, err := f.open(ctx, e)
	if err != nil {
		return err
	}
	defer db.Close()
	hasher, err := newHasher(c)
	if err != nil {
		return err
	}
	u, err := auth.NewUser(ctx, hasher, *email, *name, roles, password)
	if err != nil {
		return err
	}
	u.MustChangePassword = *temporary
	if err := db.CreateUser(ctx, tocsin.CLI, u); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "created account %d: %s (%s)\n", u.ID, u.Email, u.Roles)
	return nil
}

// readPassword reads the first line of standard input.
func readPassword(e *env) (string, error) {
	sc := bufio.NewScanner(e.stdin)
	sc.Buffer(make([]byte, 4096), 4096)
	if !sc.Scan() {
		if err := sc.Err(); err != nil {
			return "", fmt.Errorf("reading the password from standard input: %w", err)
		}
		return "", fmt.Errorf("no password on standard input: pipe it in, e.g. printf '%%s\\n' \"$PASSWORD\" | tocsin user add …")
	}
	return strings.TrimRight(sc.Text(), "\r"), nil
}

func userList(ctx context.Context, e *env, args []string) error {
	f := newFlags(e, "user list", "user list [flags]", "List accounts.")
	if err := f.parse(args); err != nil {
		return helpOK(err)
	}
	db, _, err := f.open(ctx, e)
	if err != nil {
		return err
	}
	defer db.Close()
	users, err := db.Users(ctx)
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(e.stdout, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tEMAIL\tROLES\t2FA\tSTATE")
	for _, u := range users {
		state := "active"
		if u.Disabled() {
			state = "disabled"
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%v\t%s\n", u.ID, u.Email, u.Roles, u.TwoFactorEnabled(), state)
	}
	return tw.Flush()
}

// userChange disables an account or resets its second factor, found by
// e-mail or ID.
func userChange(ctx context.Context, e *env, sub, help string, args []string) error {
	f := newFlags(e, "user "+sub, "user "+sub+" [flags] EMAIL|ID", help)
	if err := f.parse(args); err != nil {
		return helpOK(err)
	}
	if f.NArg() != 1 {
		return fmt.Errorf("user %s needs one account: its e-mail address or ID", sub)
	}
	db, _, err := f.open(ctx, e)
	if err != nil {
		return err
	}
	defer db.Close()
	u, err := findUser(ctx, db, f.Arg(0))
	if err != nil {
		return err
	}
	if sub == "disable" {
		err = db.DisableUser(ctx, tocsin.CLI, u.ID)
	} else {
		err = db.ResetTwoFactor(ctx, tocsin.CLI, u.ID, nil)
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "%s: done for %s\n", sub, u.Email)
	return nil
}

func findUser(ctx context.Context, db tocsin.UserService, ref string) (*tocsin.User, error) {
	if id, err := strconv.ParseInt(ref, 10, 64); err == nil {
		return db.User(ctx, id)
	}
	return db.UserByEmail(ctx, strings.ToLower(strings.TrimSpace(ref)))
}
