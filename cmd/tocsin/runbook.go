package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/tocsin-org/tocsin"
	"github.com/tocsin-org/tocsin/runbooks"
)

func runbookCommands() map[string]subcommand {
	return map[string]subcommand{
		"import": {"import runbooks from Markdown files, or the shipped ones with --builtin", runbookImport},
		"list":   {"list runbooks", runbookList},
	}
}

func runbookImport(ctx context.Context, e *env, args []string) error {
	f := newFlags(e, "runbook import", "runbook import [flags] FILE... | --builtin [--lang fr|en]",
		"Import runbooks. A file NAME.md becomes the runbook named NAME, NAME.fr.md or NAME.en.md\n"+
			"the one in that language; a file whose text differs from the runbook's current version\n"+
			"makes a new version. --builtin imports the runbooks tocsin ships, never over one edited here.")
	builtin := f.Bool("builtin", false, "import the runbooks tocsin ships")
	lang := f.String("lang", "", "with --builtin, only the runbooks in this `language` (fr or en)")
	if err := f.parse(args); err != nil {
		return helpOK(err)
	}
	paths := f.Args()
	if *builtin == (len(paths) > 0) {
		return errors.New("runbook import needs either files or --builtin (see tocsin runbook import -h)")
	}
	if *lang != "" && !*builtin {
		return errors.New("--lang goes with --builtin; a file's language is in its name (NAME.fr.md)")
	}
	// Read and check every file before opening the store, so that one bad
	// file stops the import before anything is written.
	var rbs []*tocsin.Runbook
	for _, p := range paths {
		rb, err := runbookFile(p)
		if err != nil {
			return err
		}
		rbs = append(rbs, rb)
	}
	db, _, err := f.open(ctx, e)
	if err != nil {
		return err
	}
	defer db.Close()
	if *builtin {
		res, err := runbooks.Load(ctx, db, tocsin.CLI, *lang)
		if err != nil {
			return err
		}
		keys := make([]string, 0, len(res))
		for k := range res {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for _, k := range keys {
			fmt.Fprintf(e.stdout, "%s\t%s\n", k, res[k])
		}
		return nil
	}
	for i, rb := range rbs {
		res, err := db.ImportRunbook(ctx, tocsin.CLI, rb, false)
		if err != nil {
			return fmt.Errorf("%s: %w", paths[i], err)
		}
		fmt.Fprintf(e.stdout, "%s\t%s\n", paths[i], res)
	}
	return nil
}

// runbookFile reads a runbook file: its name gives the slug and language.
func runbookFile(p string) (*tocsin.Runbook, error) {
	st, err := os.Stat(p)
	if err != nil {
		return nil, err
	}
	if st.Size() > tocsin.MaxRunbookSize {
		return nil, fmt.Errorf("%s: a runbook is at most %d bytes", p, tocsin.MaxRunbookSize)
	}
	b, err := os.ReadFile(p)
	if err != nil {
		return nil, err
	}
	name := strings.TrimSuffix(filepath.Base(p), filepath.Ext(p))
	lang := ""
	if base, l, ok := strings.Cut(name, "."); ok {
		name, lang = base, l
	}
	rb := &tocsin.Runbook{Slug: name, Lang: lang, Markdown: string(b)}
	if err := tocsin.ValidateSlug(name); err != nil {
		return nil, fmt.Errorf("%s: %w", p, err)
	}
	if err := tocsin.ValidateLang(lang); err != nil {
		return nil, fmt.Errorf("%s: %w", p, err)
	}
	if _, err := tocsin.ParseRunbook(rb.Markdown); err != nil {
		return nil, fmt.Errorf("%s: %w", p, err)
	}
	return rb, nil
}

func runbookList(ctx context.Context, e *env, args []string) error {
	f := newFlags(e, "runbook list", "runbook list [flags]", "List runbooks with their current version.")
	if err := f.parse(args); err != nil {
		return helpOK(err)
	}
	db, _, err := f.open(ctx, e)
	if err != nil {
		return err
	}
	defer db.Close()
	list, err := db.Runbooks(ctx)
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(e.stdout, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tNAME\tLANG\tVERSION\tSHIPPED\tTITLE")
	for _, rb := range list {
		fmt.Fprintf(tw, "%d\t%s\t%s\t%d\t%v\t%s\n", rb.ID, rb.Slug, rb.Lang, rb.Version, rb.Builtin, rb.Title)
	}
	return tw.Flush()
}
