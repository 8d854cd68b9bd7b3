package main

import (
	"context"
	"fmt"

	"github.com/tocsin-org/tocsin/config"
	"github.com/tocsin-org/tocsin/sqlstore"
)

// openStore opens the database and brings its schema up to date, telling
// the user which migrations it applied.
func openStore(ctx context.Context, e *env, c config.Config) (*sqlstore.DB, error) {
	db, err := sqlstore.Open(ctx, c.Database, c.DataDir)
	if err != nil {
		return nil, err
	}
	applied, err := db.Migrate(ctx)
	if err != nil {
		db.Close()
		return nil, err
	}
	for _, name := range applied {
		fmt.Fprintf(e.stderr, "applied migration %s\n", name)
	}
	return db, nil
}

// open loads the configuration and opens the store, for commands that
// work on the data.
func (f *flags) open(ctx context.Context, e *env) (*sqlstore.DB, config.Config, error) {
	c, err := f.config(e)
	if err != nil {
		return nil, c, err
	}
	db, err := openStore(ctx, e, c)
	return db, c, err
}

func cmdMigrate(ctx context.Context, e *env, args []string) error {
	f := newFlags(e, "migrate", "migrate [flags]", "Apply the database migrations this binary embeds, then exit. `tocsin serve` does this\nat start too; run it alone to upgrade the schema before starting several instances.")
	if err := f.parse(args); err != nil {
		return helpOK(err)
	}
	db, _, err := f.open(ctx, e)
	if err != nil {
		return err
	}
	defer db.Close()
	fmt.Fprintln(e.stdout, "database schema is up to date")
	return nil
}

func cmdVersion(ctx context.Context, e *env, args []string) error {
	f := newFlags(e, "version", "version", "Print the version of this binary.")
	if err := f.parse(args); err != nil {
		return helpOK(err)
	}
	fmt.Fprintln(e.stdout, "tocsin", version)
	return nil
}
