package tocsin

import (
	"slices"
	"time"
)

// How a check's results move its state, and its state the service's
// status. Apply is the whole rule, kept pure so that the store only loads,
// applies and saves:
//
//   - Each location (tocsin itself "", or an agent) counts its own
//     consecutive failures and successes. A location is down after
//     FailThreshold failures in a row, and up again after PassThreshold
//     successes in a row.
//   - The check is down when at least Quorum locations are down; a down
//     check is up again as soon as fewer than Quorum are. A pending check
//     (new, or back from a maintenance) becomes up when one location has
//     PassThreshold successes.
//   - A degraded result (it worked, slower than max_latency) is a success:
//     the check stays up, and while its latest result is degraded the
//     service shows degraded_performance.
//   - FlapChanges changes between up and down within FlapWindow make the
//     check flapping: the service is held at the check's FailStatus and no
//     signal or page is sent until FlapWindow passes with no change.
//   - A location silent for LocationStaleIntervals intervals (an agent
//     stopped) no longer counts toward the quorum.

// Flap damping: this many state changes within the window make a check
// flapping; the window passing with no change ends it.
const (
	FlapChanges = 4
	FlapWindow  = 30 * time.Minute
	// LocationStaleIntervals intervals without a result from a location
	// drop it from the quorum.
	LocationStaleIntervals = 5
)

// Monitor is the actor of what checks do on their own: status changes,
// signals, findings.
var Monitor = Actor{Label: "monitor"}

// LocationRun is one location's consecutive results of a check.
type LocationRun struct {
	Fails  int       `json:"fails"`
	Passes int       `json:"passes"`
	Down   bool      `json:"down"`
	At     time.Time `json:"at"` // its latest result's start
}

// CheckTransition is what one result did to a check's state.
type CheckTransition struct {
	From, To    CheckState
	FlapStarted bool
	FlapEnded   bool
	// Ignored: the result was older than its location's latest and moved
	// nothing (an agent sending late).
	Ignored bool
}

// Changed reports whether the state changed.
func (t CheckTransition) Changed() bool { return t.From != t.To }

// WentDown reports a change to down.
func (t CheckTransition) WentDown() bool { return t.Changed() && t.To == CheckDown }

// Apply moves s by result r of check c, received at now (r's start, when
// set and not later, dates what changes). See the rules above.
func (s *CheckStatus) Apply(c *Check, r *CheckResult, now time.Time) CheckTransition {
	if s.State == "" || s.State == CheckPaused {
		s.State = CheckPending
	}
	t := CheckTransition{From: s.State, To: s.State}
	at := r.StartedAt
	if at.IsZero() || at.After(now) {
		at = now
	}
	if s.Locations == nil {
		s.Locations = map[string]*LocationRun{}
	}
	loc := s.Locations[r.Location]
	if loc != nil && at.Before(loc.At) {
		t.Ignored = true
		return t
	}
	if loc == nil {
		loc = &LocationRun{}
		s.Locations[r.Location] = loc
	}
	if r.OK {
		loc.Passes++
		loc.Fails = 0
		if loc.Passes >= c.PassThreshold {
			loc.Down = false
		}
	} else {
		loc.Fails++
		loc.Passes = 0
		if loc.Fails >= c.FailThreshold {
			loc.Down = true
		}
	}
	loc.At = at
	s.LastResult = &CheckResult{CheckID: r.CheckID, Location: r.Location, Key: r.Key, StartedAt: at, Duration: r.Duration,
		OK: r.OK, Degraded: r.Degraded, StatusCode: r.StatusCode, Error: r.Error}
	if r.OK {
		s.LastSuccess = &at
	}

	stale := at.Add(-time.Duration(LocationStaleIntervals) * max(c.Interval, MinCheckInterval))
	down, up := 0, false
	var fails []int
	s.Passes = 0
	for name, l := range s.Locations {
		if name != r.Location && l.At.Before(stale) {
			delete(s.Locations, name)
			continue
		}
		if l.Down {
			down++
		} else if l.Passes >= c.PassThreshold {
			up = true
		}
		fails = append(fails, l.Fails)
		s.Passes = max(s.Passes, l.Passes)
	}
	// Fails is what the quorum agrees on: the Quorum-th largest run.
	slices.Sort(fails)
	slices.Reverse(fails)
	s.Fails = 0
	if q := max(c.Quorum, 1); len(fails) >= q {
		s.Fails = fails[q-1]
	}

	next := s.State
	switch {
	case down >= max(c.Quorum, 1):
		next = CheckDown
	case s.State == CheckDown, up:
		next = CheckUp
	}
	if next != s.State {
		if s.State != CheckPending {
			s.Transitions = append(s.Transitions, at)
		}
		s.State, t.To = next, next
		s.ChangedAt = &at
	}
	cut := at.Add(-FlapWindow)
	s.Transitions = slices.DeleteFunc(s.Transitions, func(x time.Time) bool { return !x.After(cut) })
	switch {
	case !s.Flapping && len(s.Transitions) >= FlapChanges:
		s.Flapping, t.FlapStarted = true, true
	case s.Flapping && len(s.Transitions) == 0:
		s.Flapping, t.FlapEnded = false, true
	}
	return t
}

// Reset makes s pending again, forgetting its runs: a maintenance silences
// a check, which starts over after it.
func (s *CheckStatus) Reset() {
	s.State, s.Fails, s.Passes, s.Flapping, s.Transitions, s.Locations = CheckPending, 0, 0, false, nil, nil
}

// ServiceStatus is the status check c in standing s gives its service:
// its FailStatus when down or flapping, degraded_performance when up with a
// degraded latest result, operational otherwise (pending and paused
// included).
func (s *CheckStatus) ServiceStatus(c *Check) ServiceStatus {
	switch {
	case c.Paused || s.State == CheckPaused:
		return StatusOperational
	case s.Flapping || s.State == CheckDown:
		return c.FailStatus
	case s.State == CheckUp && s.LastResult != nil && s.LastResult.OK && s.LastResult.Degraded:
		return StatusDegraded
	}
	return StatusOperational
}

// WorstStatus returns the worst of statuses (operational for none), in
// the order of ServiceStatuses.
func WorstStatus(statuses ...ServiceStatus) ServiceStatus {
	worst := StatusOperational
	for _, st := range statuses {
		if slices.Index(ServiceStatuses, st) > slices.Index(ServiceStatuses, worst) {
			worst = st
		}
	}
	return worst
}

// KeyChangedAt answers "when did the key of this endpoint last change?"
// from TLSKeys' answer (newest first): the first sighting of the key
// served now, and whether an earlier key was ever seen (false: the
// endpoint has served one key since tocsin first looked).
func KeyChangedAt(keys []*TLSKeySeen) (time.Time, bool) {
	if len(keys) == 0 {
		return time.Time{}, false
	}
	return keys[0].FirstSeen, len(keys) > 1
}
