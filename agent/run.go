package agent

import (
	"context"
	"sync"
	"time"

	"github.com/tocsin-org/tocsin/monitor"
	"github.com/tocsin-org/tocsin/probe"
)

// Run runs the agent until ctx ends: the hub's checks on the monitor
// (the same scheduler as the hub's, with the Agent as its store), the
// list's refreshes and the sender. At the end the monitor stops and
// writes its queued results to the spool, one short try empties the spool
// to the hub, and the spool is closed; what was not sent stays on disk for
// the next run.
func (a *Agent) Run(ctx context.Context, prober *probe.Prober, o monitor.Options) error {
	if o.ReloadEvery <= 0 {
		o.ReloadEvery = a.o.Refresh
	}
	if o.Logger == nil {
		o.Logger = a.log
	}
	m := monitor.New(a, prober, o)
	if err := m.Start(ctx); err != nil {
		return err
	}
	var wg sync.WaitGroup
	sendCtx, stopSend := context.WithCancel(context.Background())
	wg.Go(func() { a.refreshLoop(ctx) })
	wg.Go(func() { a.sendLoop(sendCtx) })
	for running := true; running; {
		select {
		case <-ctx.Done():
			running = false
		case <-a.changed:
			m.Reload()
		}
	}
	m.Stop()
	stopSend()
	wg.Wait()
	flushCtx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	if err := a.Flush(flushCtx); err != nil {
		a.log.Warn("agent: results wait in the spool for the next run", "error", err, "spool", a.spool.Dir())
	}
	return a.spool.Close()
}
