package main

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/tocsin-org/tocsin"
)

// auditVerify walks the hash chain and exits non-zero at the first break.
func auditVerify(ctx context.Context, e *env, args []string) error {
	f := newFlags(e, "audit verify", "audit verify [--head SEQ:HASH] [flags]",
		"Walk the audit log's hash chain from the first entry. Exit status 0 when it is intact;\n"+
			"1 with the first altered or missing entry named when it is not.\n\n"+
			"A chain cannot show that its newest entries were removed. Keep the head it prints\n"+
			"(somewhere else than this server) and pass it back with --head: verify then also\n"+
			"checks that this entry is still there, unchanged.")
	head := f.String("head", "", "a head printed by an earlier verify, `SEQ:HASH`, that must still be in the chain")
	if err := f.parse(args); err != nil {
		return helpOK(err)
	}
	var wantSeq int64
	var wantHash string
	if *head != "" {
		seq, hash, ok := strings.Cut(*head, ":")
		n, err := strconv.ParseInt(seq, 10, 64)
		if !ok || err != nil || n < 1 || len(hash) != 64 {
			return fmt.Errorf("--head %q: expected SEQ:HASH as printed by audit verify, such as 42:3fa2…(64 hex digits)", *head)
		}
		wantSeq, wantHash = n, strings.ToLower(hash)
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
		fmt.Fprintf(e.stderr, "audit log NOT intact: %v (%d entries in the log)\n", brk, n)
		return exitCode(1)
	}
	if n == 0 {
		if wantSeq > 0 {
			fmt.Fprintf(e.stderr, "audit log NOT intact: it is empty, but entry %d was recorded earlier\n", wantSeq)
			return exitCode(1)
		}
		fmt.Fprintln(e.stdout, "audit log intact: 0 entries")
		return nil
	}
	newest, err := db.AuditEntries(ctx, tocsin.AuditFilter{Limit: 1})
	if err != nil {
		return err
	}
	last := newest[0]
	if wantSeq > 0 {
		// The chain is intact, so seqs are contiguous and newest first: entry
		// wantSeq sits last.Seq-wantSeq rows from the top.
		var got *tocsin.AuditEntry
		if wantSeq <= last.Seq {
			es, err := db.AuditEntries(ctx, tocsin.AuditFilter{Limit: 1, Offset: int(last.Seq - wantSeq)})
			if err != nil {
				return err
			}
			if len(es) == 1 {
				got = es[0]
			}
		}
		switch {
		case got == nil:
			fmt.Fprintf(e.stderr, "audit log NOT intact: entry %d, recorded earlier, is missing: the newest entries were removed (the log now ends at %d)\n", wantSeq, last.Seq)
			return exitCode(1)
		case got.Hash != wantHash:
			fmt.Fprintf(e.stderr, "audit log NOT intact: entry %d no longer has the hash recorded earlier: the log was rewritten from there\n", wantSeq)
			return exitCode(1)
		}
	}
	fmt.Fprintf(e.stdout, "audit log intact: %d entries\nhead: %d:%s\n", n, last.Seq, last.Hash)
	return nil
}
