package main

import (
	"context"
	"fmt"
	"strconv"
	"text/tabwriter"
	"time"

	"github.com/tocsin-org/tocsin"
	"github.com/tocsin-org/tocsin/auth"
)

func tokenCommands() map[string]subcommand {
	return map[string]subcommand{
		"create": {"create an API token and print it once on standard output", tokenCreate},
		"revoke": {"revoke an API token by name or ID", tokenRevoke},
		"list":   {"list API tokens (never the tokens themselves)", tokenList},
	}
}

func tokenCreate(ctx context.Context, e *env, args []string) error {
	f := newFlags(e, "token create", "token create --name N --role R [flags]",
		"Create an API token for /api/v1 with the given roles. The token is printed once on\nstandard output and only its hash is stored:\n\n  TOKEN=$(tocsin token create --name ci --role responder)")
	name := f.String("name", "", "a unique `name` for the token, such as ci or prometheus (required)")
	role := f.String("role", "", "comma-separated `roles` the token holds (required)")
	if err := f.parse(args); err != nil {
		return helpOK(err)
	}
	if *name == "" || *role == "" {
		return fmt.Errorf("token create needs --name and --role (see tocsin token create -h)")
	}
	roles, err := tocsin.ParseRoles(*role)
	if err != nil {
		return err
	}
	db, _, err := f.open(ctx, e)
	if err != nil {
		return err
	}
	defer db.Close()
	plain, t, err := auth.NewAPIToken(*name, roles, tocsin.CLI.Label, time.Now())
	if err != nil {
		return err
	}
	if err := db.CreateToken(ctx, tocsin.CLI, t); err != nil {
		return err
	}
	fmt.Fprintln(e.stdout, plain)
	return nil
}

func tokenRevoke(ctx context.Context, e *env, args []string) error {
	f := newFlags(e, "token revoke", "token revoke [flags] NAME|ID", "Revoke an API token; requests using it are refused at once.")
	if err := f.parse(args); err != nil {
		return helpOK(err)
	}
	if f.NArg() != 1 {
		return fmt.Errorf("token revoke needs one token name or ID")
	}
	db, _, err := f.open(ctx, e)
	if err != nil {
		return err
	}
	defer db.Close()
	id, _ := strconv.ParseInt(f.Arg(0), 10, 64)
	name := ""
	if id == 0 {
		name = f.Arg(0)
	}
	if err := db.RevokeToken(ctx, tocsin.CLI, id, name); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "revoked token %s\n", f.Arg(0))
	return nil
}

func tokenList(ctx context.Context, e *env, args []string) error {
	f := newFlags(e, "token list", "token list [flags]", "List API tokens.")
	if err := f.parse(args); err != nil {
		return helpOK(err)
	}
	db, _, err := f.open(ctx, e)
	if err != nil {
		return err
	}
	defer db.Close()
	tokens, err := db.Tokens(ctx)
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(e.stdout, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tNAME\tROLES\tCREATED\tSTATE")
	for _, t := range tokens {
		state := "active"
		if t.RevokedAt != nil {
			state = "revoked"
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\n", t.ID, t.Name, t.Roles, t.CreatedAt.Format(time.RFC3339), state)
	}
	return tw.Flush()
}
