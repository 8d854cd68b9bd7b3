// Package monitor runs every check on its interval: it spreads the checks
// over their interval, bounds how many run at once (in all and per host),
// and writes their results to the store in batches. It is an owned worker:
// Start it, Stop it; Stop waits for every goroutine it started and flushes
// the results still queued.
package monitor

import (
	"container/heap"
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"log/slog"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/tocsin-org/tocsin"
	"github.com/tocsin-org/tocsin/probe"
)

// Store is what the monitor needs of the store: the checks, and somewhere
// to write their results.
type Store interface {
	Checks(ctx context.Context) ([]*tocsin.Check, error)
	RecordCheckResults(ctx context.Context, results []*tocsin.CheckResult) error
}

// Options tune the monitor; zero values take the defaults.
type Options struct {
	Concurrency int           // checks running at once (64)
	PerHost     int           // checks running at once against one host (8)
	BatchSize   int           // results written in one call (200)
	FlushEvery  time.Duration // longest a result waits to be written (1 s)
	// QueueSize bounds the results waiting to be written (10,000); when
	// the store falls that far behind, new results are dropped (logged
	// and counted) rather than blocking the checks.
	QueueSize int
	// ReloadEvery re-reads the checks even without Reload, to see edits
	// made by another instance (1 min).
	ReloadEvery time.Duration
	Logger      *slog.Logger
	Now         func() time.Time
}

func (o *Options) defaults() {
	def := func(v *int, d int) {
		if *v <= 0 {
			*v = d
		}
	}
	def(&o.Concurrency, 64)
	def(&o.PerHost, 8)
	def(&o.BatchSize, 200)
	def(&o.QueueSize, 10000)
	if o.FlushEvery <= 0 {
		o.FlushEvery = time.Second
	}
	if o.ReloadEvery <= 0 {
		o.ReloadEvery = time.Minute
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.Now == nil {
		o.Now = time.Now
	}
}

// Monitor schedules and runs checks. Use New.
type Monitor struct {
	store  Store
	prober *probe.Prober
	o      Options
	log    *slog.Logger

	sem     chan struct{} // one token per running check
	hostsMu sync.Mutex
	hosts   map[string]chan struct{} // per-host tokens

	mu      sync.Mutex
	entries map[int64]*entry
	queue   schedule
	wake    chan struct{} // the schedule changed
	reload  chan struct{} // re-read the checks now

	results chan *tocsin.CheckResult
	stats   stats
	metrics metrics

	cancel    context.CancelFunc
	stopFlush chan struct{}
	workers   sync.WaitGroup // scheduler, loader
	runs      sync.WaitGroup // checks running
	flusher   sync.WaitGroup
	started   bool
}

// New returns a monitor of store's checks, run by p.
func New(store Store, p *probe.Prober, o Options) *Monitor {
	o.defaults()
	return &Monitor{
		store:   store,
		prober:  p,
		o:       o,
		log:     o.Logger,
		sem:     make(chan struct{}, o.Concurrency),
		hosts:   map[string]chan struct{}{},
		entries: map[int64]*entry{},
		wake:    make(chan struct{}, 1),
		reload:  make(chan struct{}, 1),
		results: make(chan *tocsin.CheckResult, o.QueueSize),
		stats:   newStats(),
		metrics: metrics{checks: map[int64]*checkMetrics{}},
	}
}

// Start loads the checks and runs them in the background until Stop. It
// fails when the checks cannot be read.
func (m *Monitor) Start(ctx context.Context) error {
	if m.started {
		return errors.New("monitor: started twice")
	}
	checks, err := m.store.Checks(ctx)
	if err != nil {
		return fmt.Errorf("monitor: reading the checks: %w", err)
	}
	m.started = true
	m.apply(checks)
	ctx, m.cancel = context.WithCancel(ctx)
	m.stopFlush = make(chan struct{})
	m.workers.Go(func() { m.schedule(ctx) })
	m.workers.Go(func() { m.load(ctx) })
	m.flusher.Go(m.flush)
	return nil
}

// Stop ends the runs under way (their results are not recorded: they were
// cut short by the stop, not by the target), waits for every goroutine,
// and writes the results still queued.
func (m *Monitor) Stop() {
	if !m.started {
		return
	}
	m.cancel()
	m.workers.Wait()
	m.runs.Wait()
	close(m.stopFlush)
	m.flusher.Wait()
	m.started = false
}

// Reload asks for the checks to be read again now, after an edit; it
// never blocks.
func (m *Monitor) Reload() {
	select {
	case m.reload <- struct{}{}:
	default: // a reload is already asked for
	}
}

// RunNow runs check id at once (whatever its schedule, paused or not),
// records its result and returns it.
func (m *Monitor) RunNow(ctx context.Context, id int64) (*tocsin.CheckResult, error) {
	m.mu.Lock()
	var c *tocsin.Check
	if e := m.entries[id]; e != nil {
		c = e.check
	}
	m.mu.Unlock()
	if c == nil {
		checks, err := m.store.Checks(ctx)
		if err != nil {
			return nil, err
		}
		for _, x := range checks {
			if x.ID == id {
				c = x
			}
		}
		if c == nil {
			return nil, tocsin.Errorf(tocsin.ENOTFOUND, "check %d does not exist", id)
		}
	}
	release, err := m.acquire(ctx, c.Host())
	if err != nil {
		return nil, err
	}
	r := m.prober.Run(ctx, c)
	release()
	m.metrics.observe(c, r)
	m.stats.ran()
	if err := m.store.RecordCheckResults(ctx, []*tocsin.CheckResult{r}); err != nil {
		return r, err
	}
	return r, nil
}

// entry is one scheduled check.
type entry struct {
	check   *tocsin.Check
	slot    time.Time // the next slot on the check's stable grid
	due     time.Time // slot plus jitter: when it runs
	running bool
	index   int // in the schedule heap; -1 when out of it
}

// Spreading. A check's slots are offset + k·interval from the Unix epoch,
// where offset = FNV-1a(check ID) mod interval: the checks of one interval
// spread evenly over it instead of all starting at the minute, and a
// restart keeps each check on the same slots. Each run starts at its slot
// ± jitter, jitter uniform within min(interval/20, 1 s), so that checks
// whose offsets collide still spread a little; the jitter does not drift
// the grid. A check whose first slot is more than a minute away (a check
// of 1 h) runs once within its first minute, at the same offset taken
// modulo a minute, so a new or restarted check shows a result soon.

const firstRunWithin = time.Minute

func offset(id int64, interval time.Duration) time.Duration {
	h := fnv.New64a()
	var b [8]byte
	for i := range b {
		b[i] = byte(id >> (8 * i))
	}
	h.Write(b[:])
	return time.Duration(h.Sum64() % uint64(interval))
}

// firstSlot is the check's next slot at or after now.
func firstSlot(id int64, interval time.Duration, now time.Time) time.Time {
	off := offset(id, interval)
	since := now.Sub(time.Unix(0, 0).Add(off))
	k := since / interval
	slot := time.Unix(0, 0).Add(off + k*interval)
	if slot.Before(now) {
		slot = slot.Add(interval)
	}
	return slot
}

func jitter(interval time.Duration) time.Duration {
	j := min(interval/20, time.Second)
	if j <= 0 {
		return 0
	}
	return time.Duration(rand.Int64N(int64(2*j+1))) - j
}

// apply makes the schedule match checks: new ones are scheduled, changed
// ones keep their slots unless their interval changed, paused and deleted
// ones leave it.
func (m *Monitor) apply(checks []*tocsin.Check) {
	now := m.o.Now()
	m.mu.Lock()
	defer m.mu.Unlock()
	seen := map[int64]bool{}
	for _, c := range checks {
		if c.Paused || c.Interval <= 0 || c.Timeout <= 0 {
			continue
		}
		seen[c.ID] = true
		e := m.entries[c.ID]
		if e != nil && e.check.Interval == c.Interval {
			e.check = c
			continue
		}
		if e == nil {
			e = &entry{index: -1}
			m.entries[c.ID] = e
		}
		e.check = c
		e.slot = firstSlot(c.ID, c.Interval, now)
		e.due = e.slot.Add(jitter(c.Interval))
		if e.due.Before(now) { // a negative jitter on a slot just ahead
			e.due = now
		}
		if e.slot.Sub(now) > firstRunWithin {
			e.due = now.Add(offset(c.ID, firstRunWithin))
		}
		if e.index >= 0 {
			heap.Fix(&m.queue, e.index)
		} else {
			heap.Push(&m.queue, e)
		}
	}
	for id, e := range m.entries {
		if !seen[id] {
			if e.index >= 0 {
				heap.Remove(&m.queue, e.index)
			}
			delete(m.entries, id)
		}
	}
	m.metrics.keep(seen)
	select {
	case m.wake <- struct{}{}:
	default:
	}
}

// load re-reads the checks on Reload and every ReloadEvery.
func (m *Monitor) load(ctx context.Context) {
	t := time.NewTicker(m.o.ReloadEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-m.reload:
		case <-t.C:
		}
		checks, err := m.store.Checks(ctx)
		if err != nil {
			if ctx.Err() == nil {
				m.log.Error("monitor: reading the checks; keeping the ones loaded", "err", err)
			}
			continue
		}
		m.apply(checks)
	}
}

// schedule starts each check when it is due.
func (m *Monitor) schedule(ctx context.Context) {
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		m.mu.Lock()
		now := m.o.Now()
		for len(m.queue) > 0 && !m.queue[0].due.After(now) {
			e := m.queue[0]
			if e.running {
				// The previous run is still going (held by the per-host or
				// global limit, or a slow target): this slot is skipped.
				m.stats.skip()
			} else {
				e.running = true
				m.start(ctx, e, e.check, e.due)
			}
			interval := e.check.Interval
			e.slot = e.slot.Add(interval)
			if !e.slot.After(now) { // fell behind: back on the grid after now
				e.slot = firstSlot(e.check.ID, interval, now)
			}
			e.due = e.slot.Add(jitter(interval))
			heap.Fix(&m.queue, 0)
		}
		wait := time.Hour
		if len(m.queue) > 0 {
			wait = m.queue[0].due.Sub(now)
		}
		m.mu.Unlock()
		timer.Reset(wait)
		select {
		case <-ctx.Done():
			return
		case <-m.wake:
		case <-timer.C:
		}
	}
}

// start runs c in its own goroutine once a slot is free, and queues its
// result. Called with m.mu held.
func (m *Monitor) start(ctx context.Context, e *entry, c *tocsin.Check, due time.Time) {
	m.runs.Go(func() {
		defer func() {
			m.mu.Lock()
			e.running = false
			m.mu.Unlock()
		}()
		release, err := m.acquire(ctx, c.Host())
		if err != nil {
			return // stopping
		}
		m.stats.delay(m.o.Now().Sub(due))
		r := m.prober.Run(ctx, c)
		release()
		if ctx.Err() != nil {
			return // cut short by Stop: not the target's failure
		}
		m.stats.ran()
		m.metrics.observe(c, r)
		m.enqueue(r)
	})
}

// acquire takes a slot for host, then one of the global slots, so that a
// check waiting for its busy host holds no global slot meanwhile.
func (m *Monitor) acquire(ctx context.Context, host string) (release func(), err error) {
	var hostSem chan struct{}
	if host != "" {
		m.hostsMu.Lock()
		hostSem = m.hosts[host]
		if hostSem == nil {
			hostSem = make(chan struct{}, m.o.PerHost)
			m.hosts[host] = hostSem
		}
		m.hostsMu.Unlock()
		select {
		case hostSem <- struct{}{}:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	select {
	case m.sem <- struct{}{}:
	case <-ctx.Done():
		if hostSem != nil {
			<-hostSem
		}
		return nil, ctx.Err()
	}
	return func() {
		<-m.sem
		if hostSem != nil {
			<-hostSem
		}
	}, nil
}

// enqueue queues r for writing; when the queue is full r is dropped, so
// that a slow store never holds the checks.
func (m *Monitor) enqueue(r *tocsin.CheckResult) {
	select {
	case m.results <- r:
	default:
		if n := m.stats.drop(1); n == 1 || n%1000 == 0 {
			m.log.Warn("monitor: the result queue is full (the store is not keeping up); dropping results", "dropped", n, "queue", cap(m.results))
		}
	}
}

// Retries of a batch the store refused: the waits between attempts.
var retryWaits = []time.Duration{time.Second, 3 * time.Second, 10 * time.Second}

// flush writes queued results in batches of BatchSize, or every
// FlushEvery, until Stop; then it writes what is left.
func (m *Monitor) flush() {
	batch := make([]*tocsin.CheckResult, 0, m.o.BatchSize)
	t := time.NewTicker(m.o.FlushEvery)
	defer t.Stop()
	for {
		select {
		case r := <-m.results:
			batch = append(batch, r)
			if len(batch) >= m.o.BatchSize {
				batch = m.write(batch, false)
			}
		case <-t.C:
			if len(batch) > 0 {
				batch = m.write(batch, false)
			}
		case <-m.stopFlush:
			for {
				select {
				case r := <-m.results:
					batch = append(batch, r)
					if len(batch) >= m.o.BatchSize {
						batch = m.write(batch, true)
					}
					continue
				default:
				}
				break
			}
			if len(batch) > 0 {
				m.write(batch, true)
			}
			return
		}
	}
}

// write stores batch, retrying a few times, and returns it emptied. When
// stopping it tries once, so that Stop stays prompt.
func (m *Monitor) write(batch []*tocsin.CheckResult, stopping bool) []*tocsin.CheckResult {
	for attempt := 0; ; attempt++ {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		err := m.store.RecordCheckResults(ctx, batch)
		cancel()
		if err == nil {
			m.stats.wrote(len(batch))
			break
		}
		if stopping || attempt == len(retryWaits) {
			n := m.stats.drop(len(batch))
			m.log.Error("monitor: writing check results failed; dropping the batch", "results", len(batch), "attempts", attempt+1, "dropped", n, "err", err)
			break
		}
		m.log.Warn("monitor: writing check results failed; retrying", "results", len(batch), "attempt", attempt+1, "err", err)
		select {
		case <-time.After(retryWaits[attempt]):
		case <-m.stopFlush:
			stopping = true
		}
	}
	clear(batch)
	return batch[:0]
}

// schedule is a min-heap of entries by due time.
type schedule []*entry

func (s schedule) Len() int           { return len(s) }
func (s schedule) Less(i, j int) bool { return s[i].due.Before(s[j].due) }
func (s schedule) Swap(i, j int) {
	s[i], s[j] = s[j], s[i]
	s[i].index, s[j].index = i, j
}
func (s *schedule) Push(x any) {
	e := x.(*entry)
	e.index = len(*s)
	*s = append(*s, e)
}
func (s *schedule) Pop() any {
	old := *s
	e := old[len(old)-1]
	old[len(old)-1] = nil
	e.index = -1
	*s = old[:len(old)-1]
	return e
}
