package main

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/tocsin-org/tocsin"
	"github.com/tocsin-org/tocsin/config"
	"github.com/tocsin-org/tocsin/httpserver"
	"github.com/tocsin-org/tocsin/public"
)

func cmdExport(ctx context.Context, e *env, args []string) error {
	f := newFlags(e, "export", "export --out DIR [flags]",
		"Write the public site — the status page in each language, the Statuspage JSON, the Atom\n"+
			"feeds, the maintenance calendar and the assets — as static files that any web server or\n"+
			"object store serves at the same URLs, so that a copy on another host stays up when this\n"+
			"one is down.")
	out := f.String("out", "", "output `directory` (created if missing; files an earlier export wrote are replaced or removed, others left alone)")
	if err := f.parse(args); err != nil {
		return helpOK(err)
	}
	if *out == "" {
		return fmt.Errorf("export needs --out DIR (see tocsin export -h)")
	}
	db, c, err := f.open(ctx, e)
	if err != nil {
		return err
	}
	defer db.Close()
	if err := syncServices(ctx, db, c); err != nil {
		return err
	}
	loc, err := time.LoadLocation(c.TimeZone)
	if err != nil {
		return err
	}
	snap, err := public.Read(ctx, db, db, db, db, httpserver.PageOf(c, loc), time.Now())
	if err != nil {
		return err
	}
	site, err := public.Build(snap)
	if err != nil {
		return err
	}
	// As serve does with export.dir: changed files replaced atomically,
	// files an earlier export wrote that are gone removed.
	n, removed, err := public.NewExporter(*out, c.Lang).Export(site)
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "exported %d files to %s (%d removed)\n", n, *out, removed)
	return nil
}

// syncServices makes the services declared in the configuration file exist
// as written there.
func syncServices(ctx context.Context, db tocsin.ServiceService, c config.Config) error {
	specs := make([]*tocsin.Service, 0, len(c.Services))
	for i, s := range c.Services {
		specs = append(specs, &tocsin.Service{Name: s.Name, Group: s.Group, Description: s.Description, Link: s.Link, Position: i})
	}
	if err := db.SyncConfigServices(ctx, tocsin.System, specs); err != nil {
		return fmt.Errorf("services from the configuration file: %w", err)
	}
	return nil
}

// syncChecks makes the checks declared under the file's services exist as
// written there, and removes config-managed checks the file no longer has.
func syncChecks(ctx context.Context, db interface {
	tocsin.ServiceService
	tocsin.CheckService
}, c config.Config) error {
	services, err := db.Services(ctx)
	if err != nil {
		return err
	}
	ids := map[string]int64{}
	for _, s := range services {
		ids[strings.ToLower(s.Name)] = s.ID
	}
	var specs []*tocsin.Check
	for i, s := range c.Services {
		for j, cc := range s.Checks {
			chk, err := cc.Check(c.Checks.Defaults())
			if err != nil { // Validate ran at load; kept for a caller that skipped it
				return fmt.Errorf("config: services[%d].checks[%d].%w", i, j, err)
			}
			chk.ServiceID = ids[strings.ToLower(strings.TrimSpace(s.Name))]
			specs = append(specs, chk)
		}
	}
	if err := db.SyncConfigChecks(ctx, tocsin.System, specs); err != nil {
		return fmt.Errorf("checks from the configuration file: %w", err)
	}
	return nil
}
