package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"maps"
	"slices"

	"github.com/tocsin-org/tocsin/config"
)

// command is one subcommand; groups such as "user" dispatch to their own.
type command struct {
	name    string
	summary string
	run     func(ctx context.Context, e *env, args []string) error
}

func commands() []command {
	return []command{
		{"serve", "run the web server, the console, the API and the workers", cmdServe},
		{"migrate", "apply database migrations and exit", cmdMigrate},
		{"agent", "run the hub's checks from another place and send the results to it", cmdAgent},
		{"export", "write the public site as static files", cmdExport},
		{"user", "manage accounts: add, list, disable, reset-2fa", group("user", userCommands())},
		{"token", "manage API tokens: create, revoke, list", group("token", tokenCommands())},
		{"runbook", "manage runbooks: import, list", group("runbook", runbookCommands())},
		{"audit", "check the audit log: verify", group("audit", map[string]subcommand{
			"verify": {"check the audit log's hash chain", auditVerify},
		})},
		{"version", "print the version", cmdVersion},
	}
}

func findCommand(name string) *command {
	for _, c := range commands() {
		if c.name == name {
			return &c
		}
	}
	return nil
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "tocsin — incident response and transparency for small hosting providers")
	fmt.Fprintln(w, "\nUsage: tocsin COMMAND [flags]\n\nCommands:")
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-9s %s\n", c.name, c.summary)
	}
	fmt.Fprintln(w, "\nRun \"tocsin COMMAND -h\" for the flags of a command.")
	fmt.Fprintln(w, "\nEvery configuration key can be set in the YAML file (--config, default tocsin.yaml")
	fmt.Fprintln(w, "if present) or by an environment variable:")
	for _, k := range config.Keys() {
		fmt.Fprintf(w, "  %-26s %s\n", k, config.EnvName(k))
	}
	fmt.Fprintln(w, "  (secret key)               TOCSIN_SECRET_KEY, base64 of 32 bytes; default: DATA/secret.key")
}

// flags is a FlagSet with the flags every data command shares.
type flags struct {
	*flag.FlagSet
	data       *string
	configFile *string
}

func newFlags(e *env, name, usageLine, help string) *flags {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	f := &flags{FlagSet: fs}
	f.configFile = fs.String("config", "", "YAML configuration `file` (default: tocsin.yaml if it exists)")
	f.data = fs.String("data", "", "data `directory` (SQLite database, secret key); overrides data_dir")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: tocsin %s\n\n%s\n\nFlags:\n", usageLine, help)
		fs.PrintDefaults()
	}
	return f
}

// parse parses args; -h prints the help and succeeds.
func (f *flags) parse(args []string) error {
	if err := f.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return errHelp
		}
		return exitCode(2)
	}
	return nil
}

// errHelp ends a command after its help was printed, with status 0.
var errHelp = errors.New("help shown")

// config loads the configuration with the command-line overrides.
func (f *flags) config(e *env) (config.Config, error) {
	c, err := config.Load(*f.configFile, e.getenv)
	if err != nil {
		return c, err
	}
	if *f.data != "" {
		c.DataDir = *f.data
	}
	return c, c.Validate()
}

// helpOK turns errHelp into success.
func helpOK(err error) error {
	if errors.Is(err, errHelp) {
		return nil
	}
	return err
}

// subcommand is one verb of a command group, such as "user add".
type subcommand struct {
	summary string
	run     func(ctx context.Context, e *env, args []string) error
}

// group makes a command that dispatches to its subcommands.
func group(name string, subs map[string]subcommand) func(context.Context, *env, []string) error {
	return func(ctx context.Context, e *env, args []string) error {
		if len(args) == 0 || args[0] == "-h" || args[0] == "--help" {
			groupUsage(e, name, subs)
			if len(args) == 0 {
				return exitCode(2)
			}
			return nil
		}
		sub, ok := subs[args[0]]
		if !ok {
			fmt.Fprintf(e.stderr, "tocsin %s: unknown subcommand %q\n\n", name, args[0])
			groupUsage(e, name, subs)
			return exitCode(2)
		}
		return sub.run(ctx, e, args[1:])
	}
}

func groupUsage(e *env, name string, subs map[string]subcommand) {
	fmt.Fprintf(e.stderr, "Usage: tocsin %s SUBCOMMAND [flags]\n\nSubcommands:\n", name)
	names := slices.Sorted(maps.Keys(subs))
	for _, n := range names {
		fmt.Fprintf(e.stderr, "  %-10s %s\n", n, subs[n].summary)
	}
	fmt.Fprintf(e.stderr, "\nRun \"tocsin %s SUBCOMMAND -h\" for its flags.\n", name)
}
