package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"time"

	"github.com/tocsin-org/tocsin/agent"
	"github.com/tocsin-org/tocsin/monitor"
	"github.com/tocsin-org/tocsin/probe"
)

// cmdAgent runs the hub's checks from this machine and sends the results
// to the hub (see package agent).
func cmdAgent(ctx context.Context, e *env, args []string) error {
	fs := flag.NewFlagSet("agent", flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	hubURL := fs.String("hub", "", "`URL` of the tocsin instance the results go to, such as https://status.example.org (required)")
	token := fs.String("token", "", "the agent's API `token` (role agent); prefer TOCSIN_AGENT_TOKEN, which the process list does not show")
	spoolDir := fs.String("spool", "tocsin-agent-spool", "`directory` where results wait until the hub has them")
	location := fs.String("location", "", "the location `name` this agent expects its token to have (default: the token's name)")
	caFile := fs.String("ca-file", "", "PEM `file` of the CA that signed the hub's certificate, for a private CA")
	insecure := fs.Bool("insecure-http", false, "allow an http:// hub on a loopback address (a TLS proxy on this machine, or tests)")
	refresh := fs.Duration("refresh", time.Minute, "how often the list of checks is fetched from the hub")
	retryMax := fs.Duration("retry-max", time.Minute, "longest wait between tries while the hub does not answer")
	concurrency := fs.Int("concurrency", 64, "checks running at once at most")
	perHost := fs.Int("per-host", 8, "checks running at once against one host at most")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: tocsin agent --hub URL [flags]\n\n%s\n\nFlags:\n",
			"Run the hub's checks from this machine, so that a check can need several locations to\n"+
				"agree before its status changes. Results are written to the spool first and sent to\n"+
				"the hub over HTTPS; while the hub does not answer they wait on disk, and each is\n"+
				"stored once however often it is sent. On the hub:\n\n"+
				"  tocsin token create --role agent --name paris\n\n"+
				"then here:\n\n"+
				"  TOCSIN_AGENT_TOKEN=... tocsin agent --hub https://status.example.org")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return exitCode(2)
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("agent takes no arguments, got %q (see tocsin agent -h)", fs.Args())
	}
	if *hubURL == "" {
		return fmt.Errorf("agent needs --hub URL, the tocsin instance to send results to (see tocsin agent -h)")
	}
	if *refresh < time.Second || *retryMax < time.Second {
		return fmt.Errorf("--refresh and --retry-max must be at least 1s")
	}
	if *concurrency < 1 || *concurrency > 10000 {
		return fmt.Errorf("--concurrency %d: give 1 to 10000", *concurrency)
	}
	if *perHost < 1 || *perHost > 1000 {
		return fmt.Errorf("--per-host %d: give 1 to 1000", *perHost)
	}
	tok := *token
	if tok == "" {
		tok = e.getenv("TOCSIN_AGENT_TOKEN")
	}
	log := slog.New(slog.NewTextHandler(e.stderr, nil))
	userAgent := func(loc string) string {
		if loc == "" {
			loc = "not yet named by the hub"
		}
		return fmt.Sprintf("tocsin-agent/%s (location %s)", version, loc)
	}
	hub, err := agent.NewHub(*hubURL, tok, agent.HubOptions{CAFile: *caFile, InsecureHTTP: *insecure, UserAgent: userAgent(*location)})
	if err != nil {
		return err
	}
	spool, err := agent.OpenSpool(*spoolDir, 0)
	if err != nil {
		return err
	}
	a := agent.New(hub, spool, agent.Options{Location: *location, Refresh: *refresh, RetryMax: *retryMax, Log: log})
	if err := a.Start(ctx); err != nil {
		spool.Close()
		return err
	}
	loc := a.Location()
	if loc == "" {
		loc = *location
	}
	hub.SetUserAgent(userAgent(loc))
	prober := probe.New(fmt.Sprintf("tocsin/%s (agent %s; +%s)", version, loc, hub.URL()))
	prober.Location = loc
	prober.Getenv = e.getenv // a bucket check's secret comes from this machine's environment
	fmt.Fprintf(e.stderr, "tocsin agent %s: location %q, sending to %s, spool in %s\n", version, loc, hub.URL(), spool.Dir())
	err = a.Run(ctx, prober, monitor.Options{Concurrency: *concurrency, PerHost: *perHost, Logger: log})
	fmt.Fprintln(e.stderr, "tocsin agent stopped")
	return err
}
