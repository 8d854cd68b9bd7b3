// Command seed fills a tocsin data directory for bench/public.sh with the
// size the targets name: 200 services in 20 groups (a few of them
// not operational) and 2,000 past incidents, published, each with two
// updates and two affected services, all through the store, as the API
// would write them.
//
//	seed -data DIR
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/tocsin-org/tocsin"
	"github.com/tocsin-org/tocsin/sqlstore"
)

func main() {
	data := flag.String("data", "", "tocsin data `directory` (SQLite)")
	services := flag.Int("services", 200, "number of services, 10 per group")
	incidents := flag.Int("incidents", 2000, "number of past incidents")
	flag.Parse()
	if *data == "" {
		fmt.Fprintln(os.Stderr, "seed: -data is required")
		os.Exit(2)
	}
	if err := run(context.Background(), *data, *services, *incidents); err != nil {
		fmt.Fprintln(os.Stderr, "seed:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, data string, nServices, nIncidents int) error {
	db, err := sqlstore.Open(ctx, "", data)
	if err != nil {
		return err
	}
	defer db.Close()
	if _, err := db.Migrate(ctx); err != nil {
		return err
	}
	actor := tocsin.CLI
	var ids []int64
	for i := range nServices {
		s := &tocsin.Service{Name: fmt.Sprintf("Service %d", i+1), Group: fmt.Sprintf("Group %d", i/10+1),
			Description: "A service of the host", Position: i}
		if err := db.CreateService(ctx, actor, s); err != nil {
			return err
		}
		ids = append(ids, s.ID)
	}
	// A few services with problems, so that the page is not all green.
	for i, st := range []tocsin.ServiceStatus{tocsin.StatusDegraded, tocsin.StatusPartialOutage, tocsin.StatusMaintenance} {
		if err := db.SetServiceStatus(ctx, actor, ids[(i*37)%len(ids)], st, time.Time{}); err != nil {
			return err
		}
	}
	now := time.Now()
	step := 89 * 24 * time.Hour / time.Duration(nIncidents)
	for i := range nIncidents {
		// Spread over the last 89 days, newest first by index.
		at := now.Add(-time.Duration(i+1) * step)
		inc := &tocsin.Incident{
			Title: fmt.Sprintf("Incident %d: uploads fail", i+1), Impact: tocsin.ImpactMinor, PublishedAt: &at,
			Services: []tocsin.ServiceImpact{{ServiceID: ids[i%len(ids)], Status: tocsin.StatusPartialOutage},
				{ServiceID: ids[(i+7)%len(ids)], Status: tocsin.StatusDegraded}},
		}
		first := &tocsin.Update{Status: tocsin.IncidentInvestigating, DisplayAt: at,
			Body: "We are **looking** into slow uploads on [the instance](https://example.org).\nMore in a moment."}
		if err := db.CreateIncident(ctx, actor, inc, first, nil); err != nil {
			return fmt.Errorf("incident %d: %w", i+1, err)
		}
		resolved := &tocsin.Update{Status: tocsin.IncidentResolved, DisplayAt: at.Add(40 * time.Minute),
			Body: "Uploads work again; the queue is **empty**."}
		if err := db.AddUpdate(ctx, actor, inc.ID, resolved, nil); err != nil {
			return fmt.Errorf("incident %d: %w", i+1, err)
		}
	}
	fmt.Fprintf(os.Stderr, "seeded %d services and %d incidents\n", nServices, nIncidents)
	return nil
}
