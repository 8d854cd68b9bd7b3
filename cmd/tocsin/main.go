// Command tocsin is incident response and transparency for small hosting
// providers, in one binary. Run "tocsin help" for the commands.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/tocsin-org/tocsin"
)

// version is set at build time with -ldflags "-X main.version=…".
var version = "dev"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args, os.Getenv, os.Stdin, os.Stdout, os.Stderr)
	stop()
	if err != nil {
		var ec exitCode
		if errors.As(err, &ec) {
			os.Exit(int(ec))
		}
		fmt.Fprintln(os.Stderr, "tocsin:", describe(err))
		os.Exit(1)
	}
}

// describe gives the message of a domain error without its code prefix,
// and other errors as they are.
func describe(err error) string {
	var te *tocsin.Error
	if errors.As(err, &te) {
		return te.Message
	}
	return err.Error()
}

// exitCode ends the program with a status and no further message (the
// command printed its own).
type exitCode int

func (e exitCode) Error() string { return fmt.Sprintf("exit status %d", int(e)) }

// env is what a command receives from the outside world; tests pass their
// own, which is how the end-to-end tests run the real program.
type env struct {
	getenv func(string) string
	stdin  io.Reader
	stdout io.Writer
	stderr io.Writer
}

// run is the whole program: parse args, run the command, return its error.
func run(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) error {
	e := &env{getenv: getenv, stdin: stdin, stdout: stdout, stderr: stderr}
	if len(args) < 2 {
		usage(stderr)
		return exitCode(2)
	}
	name, rest := args[1], args[2:]
	if name == "help" || name == "-h" || name == "--help" {
		if len(rest) > 0 {
			if c := findCommand(rest[0]); c != nil {
				return c.run(ctx, e, []string{"-h"})
			}
		}
		usage(stdout)
		return nil
	}
	c := findCommand(name)
	if c == nil {
		fmt.Fprintf(stderr, "tocsin: unknown command %q\n\n", name)
		usage(stderr)
		return exitCode(2)
	}
	return c.run(ctx, e, rest)
}
