package agent

import (
	"context"
	"math/rand/v2"
	"reflect"
	"sync"
	"time"

	"github.com/tocsin-org/tocsin"
	"github.com/tocsin-org/tocsin/probe"
)

// The agent's scheduler: each check runs every interval, from a random
// offset within its first interval so that checks spread out, with at
// most Concurrency probes at once. It reads its checks from the Agent and
// records into it, as the hub's monitor does with its store.

// DefaultConcurrency bounds the probes running at once.
const DefaultConcurrency = 20

type job struct {
	check  *tocsin.Check
	cancel context.CancelFunc
	done   chan struct{}
}

// Run runs the agent until ctx ends: the list's refreshes, the sender,
// and the checks with prober. At the end it stops the checks, tries once
// more to send the spool (briefly) and closes it; results not sent stay
// on disk for the next run.
func (a *Agent) Run(ctx context.Context, prober *probe.Prober, concurrency int) error {
	if concurrency <= 0 {
		concurrency = DefaultConcurrency
	}
	var wg sync.WaitGroup
	sendCtx, stopSend := context.WithCancel(context.Background())
	wg.Go(func() { a.refreshLoop(ctx) })
	wg.Go(func() { a.sendLoop(sendCtx) })

	sem := make(chan struct{}, concurrency)
	jobs := map[int64]*job{}
	stop := func(j *job) {
		j.cancel()
		<-j.done
	}
	reconcile := func() {
		list, _ := a.Checks(ctx)
		seen := map[int64]bool{}
		for _, c := range list {
			seen[c.ID] = true
			if j := jobs[c.ID]; j != nil {
				if reflect.DeepEqual(j.check, c) {
					continue
				}
				stop(j)
			}
			jctx, cancel := context.WithCancel(ctx)
			j := &job{check: c, cancel: cancel, done: make(chan struct{})}
			jobs[c.ID] = j
			go func() {
				defer close(j.done)
				a.runCheck(jctx, prober, c, sem)
			}()
		}
		for id, j := range jobs {
			if !seen[id] {
				stop(j)
				delete(jobs, id)
			}
		}
	}
	reconcile()
	for running := true; running; {
		select {
		case <-ctx.Done():
			running = false
		case <-a.changed:
			reconcile()
		}
	}
	for _, j := range jobs {
		stop(j)
	}
	// The spool is on disk already; one short try to empty it.
	stopSend()
	wg.Wait()
	flushCtx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	if err := a.Flush(flushCtx); err != nil {
		a.log.Warn("agent: results wait in the spool for the next run", "error", err, "spool", a.spool.Dir())
	}
	return a.spool.Close()
}

// runCheck runs c every interval until ctx ends.
func (a *Agent) runCheck(ctx context.Context, prober *probe.Prober, c *tocsin.Check, sem chan struct{}) {
	every := max(c.Interval, tocsin.MinCheckInterval)
	if !sleep(ctx, rand.N(every)) {
		return
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
			return
		}
		r := prober.Run(ctx, c)
		<-sem
		if ctx.Err() != nil {
			return // a run cut short by the stop says nothing of the target
		}
		if err := a.RecordCheckResults(ctx, []*tocsin.CheckResult{r}); err != nil {
			a.log.Error("agent: cannot record a result", "check", c.ID, "error", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
