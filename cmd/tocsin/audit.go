package main

import (
	"context"
	"fmt"
)

func cmdAudit(ctx context.Context, e *env, args []string) error {
	if len(args) == 0 || args[0] != "verify" {
		subcommandUsage(e, "audit", map[string]string{"verify": "check the audit log's hash chain"})
		if len(args) > 0 && (args[0] == "-h" || args[0] == "--help") {
			return nil
		}
		return exitCode(2)
	}
	f := newFlags(e, "audit verify", "audit verify [flags]",
		"Walk the audit log's hash chain from the first entry. Exit status 0 when it is intact;\n1 with the first altered or missing entry named when it is not.")
	if err := f.parse(args[1:]); err != nil {
		return helpOK(err)
	}
	db, _, err := f.open(ctx, e)
	if err != nil {
		return err
	}
	defer db.Close()
	n, brk, err := db.VerifyAudit(ctx)
	if err != nil {
		return err
	}
	if brk != nil {
		fmt.Fprintf(e.stderr, "audit log NOT intact: %v (%d entries checked before it)\n", brk, n)
		return exitCode(1)
	}
	fmt.Fprintf(e.stdout, "audit log intact: %d entries\n", n)
	return nil
}
