package tocsin

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// KeyMoment names one of the moments every security incident records.
type KeyMoment string

const (
	MomentExposureStarted KeyMoment = "exposure_started"
	MomentExposureEnded   KeyMoment = "exposure_ended"
	MomentDetected        KeyMoment = "detected"
	MomentReported        KeyMoment = "reported"
	MomentAcknowledged    KeyMoment = "acknowledged"
	MomentContained       KeyMoment = "contained"
	MomentLogsReviewed    KeyMoment = "logs_reviewed"
	MomentResolved        KeyMoment = "resolved"
)

// AllKeyMoments lists the moments in the order a response usually meets them.
var AllKeyMoments = []KeyMoment{MomentExposureStarted, MomentExposureEnded, MomentDetected, MomentReported,
	MomentAcknowledged, MomentContained, MomentLogsReviewed, MomentResolved}

// ParseKeyMoment validates a moment name.
func ParseKeyMoment(s string) (KeyMoment, error) {
	v := KeyMoment(strings.TrimSpace(s))
	if slices.Contains(AllKeyMoments, v) {
		return v, nil
	}
	return "", Errorf(EINVALID, "unknown key moment %q", s).WithKey("security.moment_unknown", s)
}

// KeyMoments holds when each key moment happened; nil when not (yet) known.
type KeyMoments struct {
	ExposureStarted *time.Time
	ExposureEnded   *time.Time
	Detected        *time.Time
	Reported        *time.Time // reported to us, by someone outside
	Acknowledged    *time.Time
	Contained       *time.Time
	LogsReviewed    *time.Time
	Resolved        *time.Time
}

// Ref returns the field holding moment m.
func (k *KeyMoments) Ref(m KeyMoment) **time.Time {
	switch m {
	case MomentExposureStarted:
		return &k.ExposureStarted
	case MomentExposureEnded:
		return &k.ExposureEnded
	case MomentDetected:
		return &k.Detected
	case MomentReported:
		return &k.Reported
	case MomentAcknowledged:
		return &k.Acknowledged
	case MomentContained:
		return &k.Contained
	case MomentLogsReviewed:
		return &k.LogsReviewed
	case MomentResolved:
		return &k.Resolved
	}
	panic("tocsin: unknown key moment " + string(m))
}

// At returns when moment m happened, nil if unknown.
func (k KeyMoments) At(m KeyMoment) *time.Time { return *k.Ref(m) }

// momentOrder lists the pairs of moments whose order is not a matter of
// opinion: the first cannot come after the second. Other pairs are left
// free (a vulnerability can be detected before any exposure; logs can be
// reviewed at any time).
var momentOrder = [][2]KeyMoment{
	{MomentExposureStarted, MomentExposureEnded},
	{MomentExposureStarted, MomentContained},
	{MomentDetected, MomentAcknowledged},
	{MomentReported, MomentAcknowledged},
	{MomentDetected, MomentContained},
	{MomentContained, MomentResolved},
	{MomentDetected, MomentResolved},
	{MomentExposureStarted, MomentResolved},
}

// MomentSkew is how far ahead of the server's clock a time may be (a
// browser's clock runs a little ahead).
const MomentSkew = time.Minute

// Check refuses moments in the future (after now) and pairs in an
// impossible order, naming both moments (as KeyMoment arguments, which the
// console translates).
func (k KeyMoments) Check(now time.Time) error {
	for _, m := range AllKeyMoments {
		if t := k.At(m); t != nil {
			if err := NotFuture(*t, now); err != nil {
				return Errorf(EINVALID, "%s cannot be in the future", m).WithKey("security.moment_future", m)
			}
		}
	}
	for _, p := range momentOrder {
		a, b := k.At(p[0]), k.At(p[1])
		if a != nil && b != nil && a.After(*b) {
			return Errorf(EINVALID, "%s (%s) cannot be after %s (%s)", p[0], a.UTC().Format(time.RFC3339), p[1], b.UTC().Format(time.RFC3339)).
				WithKey("security.moment_order", p[0], p[1])
		}
	}
	return nil
}

// NotFuture refuses a time after now (with MomentSkew of slack).
func NotFuture(t, now time.Time) error {
	if t.After(now.Add(MomentSkew)) {
		return Errorf(EINVALID, "%s is in the future; give the time it happened", t.UTC().Format(time.RFC3339)).WithKey("security.future")
	}
	return nil
}

// EarliestPast is how far before an incident's creation an entry or a
// moment may be dated: an exposure can start months before anyone notices,
// but a date decades back is a typo.
const EarliestPast = 10 * 366 * 24 * time.Hour

// NotTooEarly refuses a time more than EarliestPast before created.
func NotTooEarly(t, created time.Time) error {
	if t.Before(created.Add(-EarliestPast)) {
		return Errorf(EINVALID, "%s is more than ten years before the incident was opened", t.UTC().Format(time.RFC3339)).WithKey("security.too_early")
	}
	return nil
}

// Durations computed from key moments; ok is false when a moment it needs
// is unknown.

// TimeToAcknowledge is acknowledged − reported, or − detected when nobody
// reported it.
func (k KeyMoments) TimeToAcknowledge() (time.Duration, bool) {
	if k.Acknowledged == nil {
		return 0, false
	}
	from := k.Reported
	if from == nil {
		from = k.Detected
	}
	if from == nil {
		return 0, false
	}
	return k.Acknowledged.Sub(*from), true
}

// TimeToContain is contained − detected.
func (k KeyMoments) TimeToContain() (time.Duration, bool) {
	if k.Contained == nil || k.Detected == nil {
		return 0, false
	}
	return k.Contained.Sub(*k.Detected), true
}

// ExposureDuration is exposure ended − exposure started; ongoing is true
// when it started and has not ended.
func (k KeyMoments) ExposureDuration() (d time.Duration, ok, ongoing bool) {
	switch {
	case k.ExposureStarted == nil:
		return 0, false, false
	case k.ExposureEnded == nil:
		return 0, false, true
	}
	return k.ExposureEnded.Sub(*k.ExposureStarted), true, false
}

// FormatDuration writes d for people: "3 d 4 h", "2 h 05 min", "11 min",
// "40 s".
func FormatDuration(d time.Duration) string {
	if d < 0 {
		return "-" + FormatDuration(-d)
	}
	d = d.Round(time.Second)
	days, hours, mins := int(d/(24*time.Hour)), int(d%(24*time.Hour)/time.Hour), int(d%time.Hour/time.Minute)
	switch {
	case days > 0:
		return fmt.Sprintf("%d d %d h", days, hours)
	case hours > 0:
		return fmt.Sprintf("%d h %02d min", hours, mins)
	case mins > 0:
		return fmt.Sprintf("%d min", mins)
	}
	return fmt.Sprintf("%d s", int(d/time.Second))
}
