package agent

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	mrand "math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tocsin-org/tocsin"
)

// Options tune an Agent; zero values take the defaults.
type Options struct {
	// Location is the name the agent expects the hub to know it by (its
	// token's name); "" takes the hub's word.
	Location string
	// Refresh is how often the list of checks is fetched (1 min).
	Refresh time.Duration
	// RetryMin and RetryMax bound the back-off while the hub does not
	// answer (1 s doubling up to 1 min).
	RetryMin, RetryMax time.Duration
	// Linger gathers the results of this long into one send (1 s).
	Linger time.Duration
	// Batch is how many results one request carries (200).
	Batch int
	Log   *slog.Logger
}

// Agent is the monitor's store on an agent: Checks answers the hub's last
// list, RecordCheckResults writes to the spool, and its workers (Run)
// refresh the list and send the spool.
type Agent struct {
	hub   *Hub
	spool *Spool
	o     Options
	log   *slog.Logger

	mu       sync.Mutex
	checks   []*tocsin.Check
	location string

	wake    chan struct{} // results were spooled
	changed chan struct{} // the list of checks changed

	// Counters, for the logs and tests.
	Stored, Skipped, Unknown atomic.Int64
}

// New makes an agent sending to hub from spool.
func New(hub *Hub, spool *Spool, o Options) *Agent {
	if o.Refresh <= 0 {
		o.Refresh = time.Minute
	}
	if o.RetryMin <= 0 {
		o.RetryMin = time.Second
	}
	if o.RetryMax < o.RetryMin {
		o.RetryMax = max(time.Minute, o.RetryMin)
	}
	if o.Linger < 0 {
		o.Linger = 0
	} else if o.Linger == 0 {
		o.Linger = time.Second
	}
	if o.Batch <= 0 || o.Batch > tocsin.MaxAgentBatch {
		o.Batch = 200
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	return &Agent{hub: hub, spool: spool, o: o, log: o.Log, location: o.Location,
		wake: make(chan struct{}, 1), changed: make(chan struct{}, 1)}
}

// Location is the agent's location ("" until the hub or the cache said).
func (a *Agent) Location() string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.location
}

// Checks returns the last list of checks the hub gave (the monitor's
// Store). While the hub does not answer, the last list stays.
func (a *Agent) Checks(ctx context.Context) ([]*tocsin.Check, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	out := make([]*tocsin.Check, len(a.checks))
	for i, c := range a.checks {
		cc := *c
		out[i] = &cc
	}
	return out, nil
}

// RecordCheckResults writes results to the spool (the monitor's Store),
// each with the agent's location and a unique key, and wakes the sender.
// When it returns nil the results are on disk.
func (a *Agent) RecordCheckResults(ctx context.Context, results []*tocsin.CheckResult) error {
	loc := a.Location()
	if loc == "" {
		return errors.New("agent: no location yet: the hub has not answered")
	}
	out := make([]tocsin.AgentResult, 0, len(results))
	for _, r := range results {
		r.Location = loc
		if r.Key == "" {
			r.Key = NewKey(loc, r.CheckID, r.StartedAt)
		}
		out = append(out, tocsin.ToAgentResult(r))
	}
	if err := a.spool.Append(out); err != nil {
		return err
	}
	select {
	case a.wake <- struct{}{}:
	default:
	}
	return nil
}

// NewKey is a result's unique key: its location, check and start, and
// random bits so that two runs in the same instant differ too.
func NewKey(location string, checkID int64, started time.Time) string {
	var b [8]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err) // crypto/rand does not fail on supported systems
	}
	return location + "/" + strconv.FormatInt(checkID, 10) + "/" + started.UTC().Format("20060102T150405.000000000Z") + "/" + hex.EncodeToString(b[:])
}

// cacheFile keeps the last list of checks beside the spool, so that an
// agent restarted while the hub is down runs them still.
const cacheFile = "checks.json"

// Start fetches the checks once. A refused token (401, 403) or a token of
// another location is an error; an unreachable hub is not, when a list
// cached by an earlier run exists (or later fetches will bring one).
func (a *Agent) Start(ctx context.Context) error {
	err := a.Refresh(ctx)
	var he *HubError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &he) && he.Refused(), errors.Is(err, errWrongLocation):
		return err
	}
	if cerr := a.loadCache(); cerr == nil {
		a.log.Warn("agent: running the checks of the last list until the hub answers", "error", err)
		return nil
	}
	a.log.Warn("agent: no list of checks yet; asking the hub again every minute", "error", err)
	return nil
}

var errWrongLocation = errors.New("wrong location")

// Refresh fetches the list of checks from the hub; on failure the last
// list stays.
func (a *Agent) Refresh(ctx context.Context) error {
	got, err := a.hub.Checks(ctx)
	if err != nil {
		return err
	}
	if a.o.Location != "" && got.Location != a.o.Location {
		return fmt.Errorf("%w: this token belongs to location %q on the hub, not %q: give --location %s, or the token made for %s",
			errWrongLocation, got.Location, a.o.Location, got.Location, a.o.Location)
	}
	a.setChecks(got)
	if err := a.saveCache(got); err != nil {
		a.log.Warn("agent: cannot keep the list of checks on disk", "error", err)
	}
	return nil
}

func (a *Agent) setChecks(got *tocsin.AgentChecks) {
	list := make([]*tocsin.Check, 0, len(got.Checks))
	for _, c := range got.Checks {
		list = append(list, c.Check())
	}
	a.mu.Lock()
	a.checks, a.location = list, got.Location
	a.mu.Unlock()
	select {
	case a.changed <- struct{}{}:
	default:
	}
}

func (a *Agent) saveCache(got *tocsin.AgentChecks) error {
	b, err := json.Marshal(got)
	if err != nil {
		return err
	}
	tmp := filepath.Join(a.spool.Dir(), cacheFile+".tmp")
	if err := os.WriteFile(tmp, b, 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, filepath.Join(a.spool.Dir(), cacheFile))
}

func (a *Agent) loadCache() error {
	b, err := os.ReadFile(filepath.Join(a.spool.Dir(), cacheFile))
	if err != nil {
		return err
	}
	var got tocsin.AgentChecks
	if err := json.Unmarshal(b, &got); err != nil {
		return err
	}
	if a.o.Location != "" && got.Location != a.o.Location {
		return fmt.Errorf("the cached list is for location %q", got.Location)
	}
	a.setChecks(&got)
	return nil
}

// refreshLoop fetches the list every Refresh until ctx ends.
func (a *Agent) refreshLoop(ctx context.Context) {
	t := time.NewTicker(a.o.Refresh)
	defer t.Stop()
	failing := false
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		err := a.Refresh(ctx)
		switch {
		case err != nil && ctx.Err() != nil:
			return
		case err != nil && !failing:
			a.log.Warn("agent: cannot refresh the list of checks; keeping the last one", "error", err)
		case err == nil && failing:
			a.log.Info("agent: list of checks refreshed again")
		}
		failing = err != nil
	}
}

// sendLoop sends the spool whenever results arrive (after Linger), and
// backs off while the hub does not take them.
func (a *Agent) sendLoop(ctx context.Context) {
	periodic := time.NewTicker(30 * time.Second) // files left by an earlier run, or a wake missed
	defer periodic.Stop()
	backoff := time.Duration(0)
	first := true
	for {
		wait := backoff
		if first {
			wait = 0 // the spool of an earlier run goes at once
		}
		if backoff == 0 && !first {
			select {
			case <-ctx.Done():
				return
			case <-a.wake:
			case <-periodic.C:
			}
			wait = a.o.Linger
		}
		first = false
		if !sleep(ctx, wait) {
			return
		}
		err := a.Flush(ctx)
		if ctx.Err() != nil {
			return
		}
		if err != nil {
			if backoff == 0 {
				a.log.Warn("agent: cannot send results; they wait in the spool", "error", err, "spool", a.spool.Dir())
				backoff = a.o.RetryMin
			} else {
				backoff = min(backoff*2, a.o.RetryMax)
			}
			// Jitter, so that agents cut off together do not come back
			// together.
			backoff = backoff/2 + mrand.N(backoff/2+1)
			continue
		}
		if backoff != 0 {
			a.log.Info("agent: the hub takes results again; spool sent")
		}
		backoff = 0
	}
}

func sleep(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return ctx.Err() == nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

// Flush sends every spooled result, file by file, oldest first, and
// deletes a file once the hub took all of it. A file the hub refuses as
// invalid (400) is moved to rejected/ so that it does not block the rest.
func (a *Agent) Flush(ctx context.Context) error {
	files, err := a.spool.Seal()
	if err != nil {
		return err
	}
	for _, f := range files {
		results, bad, err := ReadFile(f)
		if err != nil {
			return err
		}
		if bad > 0 {
			a.log.Error("agent: damaged lines in a spool file were skipped", "file", f, "lines", bad)
		}
		if err := a.sendAll(ctx, results); err != nil {
			var he *HubError
			if errors.As(err, &he) && (he.Status == http.StatusBadRequest || he.Status == http.StatusRequestEntityTooLarge) {
				to, rerr := a.spool.Reject(f)
				if rerr != nil {
					return rerr
				}
				a.log.Error("agent: the hub refused results as invalid; kept aside for a person to look at", "file", to, "error", err)
				continue
			}
			return err
		}
		if err := a.spool.Remove(f); err != nil {
			return err
		}
	}
	return nil
}

// sendAll posts results in batches; a batch the hub finds too large is
// split in two.
func (a *Agent) sendAll(ctx context.Context, results []tocsin.AgentResult) error {
	for len(results) > 0 {
		n := min(len(results), a.o.Batch)
		if err := a.sendBatch(ctx, results[:n]); err != nil {
			return err
		}
		results = results[n:]
	}
	return nil
}

func (a *Agent) sendBatch(ctx context.Context, batch []tocsin.AgentResult) error {
	got, err := a.hub.Send(ctx, batch)
	var he *HubError
	if errors.As(err, &he) && he.Status == http.StatusRequestEntityTooLarge && len(batch) > 1 {
		if err := a.sendBatch(ctx, batch[:len(batch)/2]); err != nil {
			return err
		}
		return a.sendBatch(ctx, batch[len(batch)/2:])
	}
	if err != nil {
		return err
	}
	a.Stored.Add(int64(got.Stored))
	a.Skipped.Add(int64(got.Skipped))
	a.Unknown.Add(int64(got.Unknown))
	if got.Unknown > 0 {
		a.log.Info("agent: results of checks the hub no longer has were dropped", "count", got.Unknown)
	}
	return nil
}
