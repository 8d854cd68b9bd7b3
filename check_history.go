package tocsin

import (
	"context"
	"time"
)

// A check's raw results are kept for a while (checks.retention), then only
// their roll-ups remain: per check and day the runs, failures, degraded
// runs and a latency histogram, and the same per hour of the day. They are
// kept 400 days and feed the status page's 90-day bars.

// HistoryKeep is how long the hourly and daily roll-ups are kept.
const HistoryKeep = 400 * 24 * time.Hour

// CheckPoint is a check's runs over one step (an hour or a day) starting
// At. The quantiles are of the successful runs' durations, read from a
// log-scale histogram: each is within 5 % of the true value (0 when no run
// succeeded).
type CheckPoint struct {
	At                       time.Time
	Runs, Failures, Degraded int
	P50, P95, P99            time.Duration
}

// Availability is the share of runs that succeeded (degraded runs
// succeeded), and false when there was no run.
func (p CheckPoint) Availability() (float64, bool) {
	if p.Runs == 0 {
		return 0, false
	}
	return float64(p.Runs-p.Failures) / float64(p.Runs), true
}

// CheckDay is the runs of a service's checks on one day of the public
// page's zone: what the uptime bars show as "99.93 % of checks succeeded".
type CheckDay struct {
	ServiceID      int64
	Day            time.Time // midnight in the zone asked for
	Runs, Failures int
}

// CheckHistoryService reads checks' history and keeps its storage bounded.
type CheckHistoryService interface {
	// CheckHistory returns check checkID's points from from to to (steps
	// starting in [from, to)), step being an hour or a day (UTC), oldest
	// first; steps without runs are left out. Results not yet compacted
	// are counted too.
	CheckHistory(ctx context.Context, checkID int64, from, to time.Time, step time.Duration) ([]CheckPoint, error)
	// ServiceCheckDays returns, per service and day of loc from since's
	// day on, the runs and failures of its checks.
	ServiceCheckDays(ctx context.Context, since time.Time, loc *time.Location) ([]CheckDay, error)
	// CompactCheckResults folds every complete hour's raw results not yet
	// folded into the roll-ups, deletes raw results older than retention
	// and roll-ups older than HistoryKeep. It is idempotent and safe to
	// run from several instances at once. It returns how many results it
	// folded.
	CompactCheckResults(ctx context.Context, now time.Time, retention time.Duration) (int, error)
}
