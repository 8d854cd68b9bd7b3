package public

import (
	"fmt"
	"math"
	"time"

	"github.com/tocsin-org/tocsin"
)

// Day is one bar of a service's uptime: the share of the day the service
// was up, and the worst status it had.
type Day struct {
	Date   time.Time // midnight, in the page's zone
	Uptime float64   // 0..1 of the part of the day the service existed
	Worst  tocsin.ServiceStatus
	Known  bool // false before the service existed
	// Incidents are the published incidents that named the service that
	// day (public/days.go), newest first.
	Incidents []dayIncident
	// Checks and CheckFailures are the runs of the service's checks that
	// day and how many failed.
	Checks, CheckFailures int
}

// ChecksSucceeded is the share of the day's check runs that succeeded,
// as the bars write it ("99.93"): rounded down, so that a day with one
// failure in ten thousand does not read 100.00. False without runs.
func (d Day) ChecksSucceeded() (string, bool) {
	if d.Checks <= 0 {
		return "", false
	}
	ok := d.Checks - min(max(d.CheckFailures, 0), d.Checks)
	return fmt.Sprintf("%.2f", math.Floor(float64(ok)*10000/float64(d.Checks))/100), true
}

// severity orders statuses for "worst of the day"; maintenance is shown but
// not counted as downtime, since it was announced.
var severity = map[tocsin.ServiceStatus]int{
	tocsin.StatusOperational: 0, tocsin.StatusMaintenance: 1, tocsin.StatusDegraded: 2,
	tocsin.StatusPartialOutage: 3, tocsin.StatusMajorOutage: 4,
}

// down reports whether a status counts against uptime. A degraded service
// still serves; partial and major outages do not.
func down(s tocsin.ServiceStatus) bool {
	return s == tocsin.StatusPartialOutage || s == tocsin.StatusMajorOutage
}

// DailyUptime computes the last n days (today last) of one service from its
// status changes, oldest first, as StatusHistory returns them.
func DailyUptime(changes []tocsin.StatusChange, serviceID int64, n int, now time.Time, loc *time.Location) []Day {
	return dailyUptime(byService(changes)[serviceID], n, now, loc)
}

// byService splits changes by service, keeping their order.
func byService(changes []tocsin.StatusChange) map[int64][]tocsin.StatusChange {
	out := map[int64][]tocsin.StatusChange{}
	for _, c := range changes {
		out[c.ServiceID] = append(out[c.ServiceID], c)
	}
	return out
}

func dailyUptime(mine []tocsin.StatusChange, n int, now time.Time, loc *time.Location) []Day {
	today := midnight(now, loc)
	days := make([]Day, n)
	first := 0 // the change in force when the day starts
	for i := range days {
		start := today.AddDate(0, 0, i-n+1)
		end := start.AddDate(0, 0, 1)
		if end.After(now) {
			end = now
		}
		// Changes that ended before this day cannot touch it, nor any
		// later day: each day looks only at its own (a rebuild drew 200
		// services × 90 days × all their changes before).
		for first+1 < len(mine) && !mine[first+1].At.After(start) {
			first++
		}
		days[i] = dayOf(mine[first:], start, end)
	}
	return days
}

func dayOf(changes []tocsin.StatusChange, start, end time.Time) Day {
	d := Day{Date: start, Worst: tocsin.StatusOperational}
	var total, bad time.Duration
	for i, c := range changes {
		if !c.At.Before(end) {
			break // changes are in time order: the rest start later still
		}
		from := c.At
		to := end
		if i+1 < len(changes) {
			to = changes[i+1].At
		}
		if from.Before(start) {
			from = start
		}
		if to.After(end) {
			to = end
		}
		if !to.After(from) {
			continue
		}
		d.Known = true
		total += to.Sub(from)
		if down(c.Status) {
			bad += to.Sub(from)
		}
		if severity[c.Status] > severity[d.Worst] {
			d.Worst = c.Status
		}
	}
	if total > 0 {
		d.Uptime = 1 - float64(bad)/float64(total)
	}
	return d
}

func midnight(t time.Time, loc *time.Location) time.Time {
	t = t.In(loc)
	return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, loc)
}

// Span is a run of consecutive days that look the same on the bar (same
// worst status, same uptime, same share of checks succeeded, no incident), drawn as one rectangle: a quiet
// service is one rectangle, not ninety. A day with an incident is a span
// of its own, whose title names the incidents.
type Span struct {
	From, To time.Time // first and last day
	Start    int       // index of the first day
	Days     int
	Day      // what every day of the run looks like
}

// Spans groups days into runs.
func Spans(days []Day) []Span {
	var out []Span
	for i, d := range days {
		if n := len(out); n > 0 {
			last := &out[n-1]
			lastChecks, _ := last.ChecksSucceeded()
			checks, _ := d.ChecksSucceeded()
			if last.Known == d.Known && last.Worst == d.Worst && last.Uptime == d.Uptime && lastChecks == checks &&
				len(last.Incidents) == 0 && len(d.Incidents) == 0 {
				last.To = d.Date
				last.Days++
				continue
			}
		}
		out = append(out, Span{From: d.Date, To: d.Date, Start: i, Days: 1, Day: d})
	}
	return out
}

// Uptime is the share of the days' known time the service was up.
func Uptime(days []Day) (float64, bool) {
	var sum float64
	var n int
	for _, d := range days {
		if d.Known {
			sum += d.Uptime
			n++
		}
	}
	if n == 0 {
		return 0, false
	}
	return sum / float64(n), true
}
