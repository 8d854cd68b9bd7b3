package tocsin

import (
	"context"
	"slices"
	"strings"
	"time"
)

// A personal data breach (GDPR art. 4(12)) is a security incident that
// reached personal data. Marking an incident a breach starts clocks from
// the moment the host became aware of it: GDPR art. 33's 72 hours to
// notify the supervisory authority, always, and NIS2's (art. 23) early
// warning, notification and final report where the host is subject to it.
// The register (art. 33(5)) keeps every breach, notified or not.

// BreachAnswer is whether an incident is a personal data breach.
type BreachAnswer string

const (
	BreachYes    BreachAnswer = "yes"
	BreachLikely BreachAnswer = "likely"
	BreachNo     BreachAnswer = "no"
)

// BreachAnswers lists the answers.
var BreachAnswers = []BreachAnswer{BreachYes, BreachLikely, BreachNo}

// ParseBreachAnswer validates an answer.
func ParseBreachAnswer(s string) (BreachAnswer, error) {
	v := BreachAnswer(strings.TrimSpace(strings.ToLower(s)))
	if slices.Contains(BreachAnswers, v) {
		return v, nil
	}
	return "", Errorf(EINVALID, "unknown answer %q: a personal data breach is yes, likely or no", s).WithKey("breach.answer_unknown", s)
}

// Running reports whether the answer starts the clocks: a likely breach is
// treated as one until someone decides otherwise.
func (a BreachAnswer) Running() bool { return a == BreachYes || a == BreachLikely }

// BreachRisk is the risk to people's rights and freedoms: none (no need to
// notify the authority), risk (notify the authority), high (notify the
// people too, art. 34). "" is not assessed yet.
type BreachRisk string

const (
	RiskNone BreachRisk = "none"
	RiskSome BreachRisk = "risk"
	RiskHigh BreachRisk = "high"
)

// BreachRisks lists the levels.
var BreachRisks = []BreachRisk{RiskNone, RiskSome, RiskHigh}

// ParseBreachRisk validates a risk level; "" is not assessed.
func ParseBreachRisk(s string) (BreachRisk, error) {
	v := BreachRisk(strings.TrimSpace(strings.ToLower(s)))
	if v == "" || slices.Contains(BreachRisks, v) {
		return v, nil
	}
	return "", Errorf(EINVALID, "unknown risk level %q: allowed are none, risk, high", s).WithKey("breach.risk_unknown", s)
}

// BreachStatus is where the breach stands in the register.
type BreachStatus string

const (
	BreachDiscovered        BreachStatus = "discovered"
	BreachInvestigating     BreachStatus = "investigating"
	BreachAuthorityNotified BreachStatus = "authority_notified"
	BreachSubjectsNotified  BreachStatus = "subjects_notified"
	BreachClosed            BreachStatus = "closed"
)

// BreachStatuses lists the statuses in order.
var BreachStatuses = []BreachStatus{BreachDiscovered, BreachInvestigating, BreachAuthorityNotified, BreachSubjectsNotified, BreachClosed}

// ParseBreachStatus validates a status.
func ParseBreachStatus(s string) (BreachStatus, error) {
	v := BreachStatus(strings.TrimSpace(s))
	if slices.Contains(BreachStatuses, v) {
		return v, nil
	}
	return "", Errorf(EINVALID, "unknown breach status %q: allowed are discovered, investigating, authority_notified, subjects_notified, closed", s).
		WithKey("breach.status_unknown", s)
}

// ClockKind names a notification deadline.
type ClockKind string

const (
	ClockGDPR             ClockKind = "gdpr"               // art. 33: notify the authority within 72 h
	ClockNIS2EarlyWarning ClockKind = "nis2_early_warning" // art. 23(4)(a): 24 h
	ClockNIS2Notification ClockKind = "nis2_notification"  // art. 23(4)(b): 72 h
	ClockNIS2FinalReport  ClockKind = "nis2_final_report"  // art. 23(4)(d): one month
)

// NIS2Clocks are the clocks a host subject to NIS2 runs besides GDPR's.
var NIS2Clocks = []ClockKind{ClockNIS2EarlyWarning, ClockNIS2Notification, ClockNIS2FinalReport}

// AllClocks lists every clock.
var AllClocks = append([]ClockKind{ClockGDPR}, NIS2Clocks...)

// ParseClockKind validates a clock name.
func ParseClockKind(s string) (ClockKind, error) {
	v := ClockKind(strings.TrimSpace(s))
	if slices.Contains(AllClocks, v) {
		return v, nil
	}
	return "", Errorf(EINVALID, "unknown clock %q", s).WithKey("breach.clock_unknown", s)
}

// Deadline is when clock k runs out for a breach the host became aware of
// at aware. A month is a calendar month in UTC, ending on the same day of
// the next month, or on its last day when it has no such day (31 January
// → 28 or 29 February), never spilling into the month after.
func (k ClockKind) Deadline(aware time.Time) time.Time {
	aware = aware.UTC()
	switch k {
	case ClockNIS2EarlyWarning:
		return aware.Add(24 * time.Hour)
	case ClockNIS2FinalReport:
		y, m, d := aware.Date()
		first := time.Date(y, m+1, 1, 0, 0, 0, 0, time.UTC)
		last := first.AddDate(0, 1, -1).Day()
		h, mi, s := aware.Clock()
		return time.Date(first.Year(), first.Month(), min(d, last), h, mi, s, aware.Nanosecond(), time.UTC)
	}
	return aware.Add(72 * time.Hour)
}

// Clock is one running deadline of a breach.
type Clock struct {
	Kind     ClockKind
	Deadline time.Time
	// DoneAt is when what the clock asks for was recorded: for GDPR the
	// decision whether to notify the authority, for NIS2 the report sent.
	DoneAt *time.Time
}

// Left is the time left at now; negative once overdue.
func (c Clock) Left(now time.Time) time.Duration { return c.Deadline.Sub(now) }

// Overdue reports whether the deadline passed with nothing recorded.
func (c Clock) Overdue(now time.Time) bool { return c.DoneAt == nil && !now.Before(c.Deadline) }

// Late reports whether what was recorded came after the deadline.
func (c Clock) Late() bool { return c.DoneAt != nil && c.DoneAt.After(c.Deadline) }

// ReminderThresholds are the times left at which the incident lead and the
// approvers are reminded of a clock with nothing recorded.
var ReminderThresholds = []time.Duration{24 * time.Hour, 12 * time.Hour, 2 * time.Hour}

// DueReminder returns the threshold whose reminder is due at now for a
// clock running out at deadline: the smallest threshold not below the time
// left, so that a clock marked with 5 h left is reminded once (2 h later,
// not three times at once). ok is false when no reminder is due: more than
// the largest threshold left, or overdue.
func DueReminder(deadline, now time.Time) (threshold time.Duration, ok bool) {
	left := deadline.Sub(now)
	if left <= 0 {
		return 0, false
	}
	for i := len(ReminderThresholds) - 1; i >= 0; i-- {
		if left <= ReminderThresholds[i] {
			return ReminderThresholds[i], true
		}
	}
	return 0, false
}

// NextReminder returns the first time after now at which a reminder of a
// clock running out at deadline falls due; zero when none is left.
func NextReminder(deadline, now time.Time) time.Time {
	for _, t := range ReminderThresholds { // largest first
		if at := deadline.Add(-t); at.After(now) {
			return at
		}
	}
	return time.Time{}
}

// ThresholdLabel names a threshold in message keys: "24h", "12h", "2h".
func ThresholdLabel(t time.Duration) string {
	return strings.TrimSuffix(strings.TrimSuffix(t.String(), "0s"), "0m")
}

// EntryBreach is the timeline entry of a change of the breach record:
// Subject "answer" (Old → New answers), "aware" (Old → New as RFC 3339),
// "register" (Body the fields changed) or a ClockKind (New the report's
// time, RFC 3339).
const EntryBreach EntryKind = "breach"

// BreachDecision is a recorded decision whether to notify the authority
// (Subjects false) or the people concerned (Subjects true), with the
// reason, as the register keeps it.
type BreachDecision struct {
	ID         int64
	Subjects   bool
	Notify     bool
	Why        string
	DecidedBy  int64
	DecidedAt  time.Time
	Late       bool   // recorded after the GDPR deadline
	LateReason string // why it is late, required then
	DecisionID int64  // the incident's decision entry
	ByEmail    string
}

// Breach is an incident's breach record: the answer and the moment of
// awareness that start the clocks, and the register's fields.
type Breach struct {
	IncidentID int64
	Title      string // the incident's
	Answer     BreachAnswer
	AwareAt    time.Time // when the host became aware: the clocks start here

	Type          string // what kind of breach: confidentiality, availability, integrity, in words
	Risk          BreachRisk
	Status        BreachStatus
	Categories    string // categories of people and of records concerned
	People        *int64 // approximate number of people concerned
	Records       *int64 // approximate number of records concerned
	Consequences  string
	Remedial      string // measures taken or proposed
	AuthorityAt   *time.Time
	AuthorityRef  string
	SubjectsAt    *time.Time
	SubjectsCount *int64
	SubjectsHow   string

	// ClocksDone holds when each NIS2 report was sent.
	ClocksDone map[ClockKind]time.Time
	Decisions  []BreachDecision // oldest first

	CreatedAt time.Time
	UpdatedAt time.Time
}

// NotifyDecision is the latest decision about notifying the authority, nil
// while none is recorded.
func (b *Breach) NotifyDecision() *BreachDecision {
	for i := len(b.Decisions) - 1; i >= 0; i-- {
		if !b.Decisions[i].Subjects {
			return &b.Decisions[i]
		}
	}
	return nil
}

// Clocks returns the clocks running for b (none when it is not a breach):
// GDPR's and those of extra, in that order.
func (b *Breach) Clocks(extra []ClockKind) []Clock {
	if b == nil || !b.Answer.Running() {
		return nil
	}
	kinds := append([]ClockKind{ClockGDPR}, extra...)
	out := make([]Clock, 0, len(kinds))
	for _, k := range kinds {
		c := Clock{Kind: k, Deadline: k.Deadline(b.AwareAt)}
		if k == ClockGDPR {
			if d := b.firstNotifyDecision(); d != nil {
				at := d.DecidedAt
				c.DoneAt = &at
			}
		} else if at, ok := b.ClocksDone[k]; ok {
			c.DoneAt = &at
		}
		out = append(out, c)
	}
	return out
}

// firstNotifyDecision is the first authority decision: it stops the clock.
func (b *Breach) firstNotifyDecision() *BreachDecision {
	for i := range b.Decisions {
		if !b.Decisions[i].Subjects {
			return &b.Decisions[i]
		}
	}
	return nil
}

// CheckAwareness refuses a moment of awareness in the future (beyond
// MomentSkew) or more than EarliestPast before the incident; zero is now.
func CheckAwareness(aware, now, created time.Time) (time.Time, error) {
	if aware.IsZero() {
		aware = now
	}
	if aware.After(now.Add(MomentSkew)) {
		return time.Time{}, Errorf(EINVALID, "the moment of awareness %s is in the future; give when you became aware", aware.UTC().Format(time.RFC3339)).
			WithKey("breach.aware_future")
	}
	if err := NotTooEarly(aware, created); err != nil {
		return time.Time{}, err
	}
	return aware.UTC().Truncate(time.Microsecond), nil
}

// MaxBreachField bounds the register's short text fields in bytes.
const MaxBreachField = 1 << 10

// ValidateRegister checks and normalizes the register's fields.
func (b *Breach) ValidateRegister(now time.Time) error {
	b.Type = strings.TrimSpace(b.Type)
	if err := checkText("type", b.Type, 0, MaxBreachField); err != nil {
		return err
	}
	if err := checkText("reference", b.AuthorityRef, 0, MaxBreachField); err != nil {
		return err
	}
	for _, f := range []struct{ name, v string }{{"categories", b.Categories}, {"consequences", b.Consequences},
		{"remedial", b.Remedial}, {"how", b.SubjectsHow}} {
		if err := checkText(f.name, f.v, 0, MaxSecurityText); err != nil {
			return err
		}
	}
	risk, err := ParseBreachRisk(string(b.Risk))
	if err != nil {
		return err
	}
	b.Risk = risk
	if b.Status == "" {
		b.Status = BreachDiscovered
	}
	if b.Status, err = ParseBreachStatus(string(b.Status)); err != nil {
		return err
	}
	for _, n := range []*int64{b.People, b.Records, b.SubjectsCount} {
		if n != nil && *n < 0 {
			return Errorf(EINVALID, "a number of people or records cannot be negative").WithKey("breach.negative")
		}
	}
	for _, t := range []*time.Time{b.AuthorityAt, b.SubjectsAt} {
		if t != nil {
			if err := NotFuture(*t, now); err != nil {
				return err
			}
		}
	}
	return nil
}

// ValidateDecision checks d against the breach's GDPR deadline: a decision
// after it is accepted with the reason for the delay (art. 33(1)).
func (b *Breach) ValidateDecision(d *BreachDecision, now time.Time) error {
	if !b.Answer.Running() {
		return Errorf(ECONFLICT, "mark the incident a personal data breach (yes or likely) first").WithKey("breach.not_breach")
	}
	if strings.TrimSpace(d.Why) == "" {
		return Errorf(EINVALID, "a notification decision needs the reason for it").WithKey("breach.why_required")
	}
	if err := checkText("why", d.Why, 1, MaxSecurityText); err != nil {
		return err
	}
	if err := checkText("late", d.LateReason, 0, MaxSecurityText); err != nil {
		return err
	}
	if d.DecidedBy <= 0 {
		return Errorf(EINVALID, "a decision needs who decided").WithKey("security.decision_by")
	}
	if d.DecidedAt.IsZero() {
		d.DecidedAt = now
	}
	if err := NotFuture(d.DecidedAt, now); err != nil {
		return err
	}
	d.DecidedAt = d.DecidedAt.UTC().Truncate(time.Microsecond)
	d.Late = d.DecidedAt.After(ClockGDPR.Deadline(b.AwareAt))
	if d.Late && !d.Subjects && strings.TrimSpace(d.LateReason) == "" {
		return Errorf(EINVALID, "the 72 hours have passed: give the reason for the delay (art. 33(1))").WithKey("breach.late_reason")
	}
	return nil
}

// BreachService keeps breach records and the register. Every mutation
// writes its audit entry and its timeline entries in one transaction.
type BreachService interface {
	// MarkBreach sets the answer and the moment of awareness (zero: now),
	// creating the record on first use; a change is a timeline entry.
	MarkBreach(ctx context.Context, a Actor, id int64, answer BreachAnswer, aware time.Time) error
	// Breach returns incident id's record; ENOTFOUND when it has none.
	Breach(ctx context.Context, id int64) (*Breach, error)
	// Breaches returns the register: every incident answered yes or
	// likely, oldest awareness first.
	Breaches(ctx context.Context) ([]*Breach, error)
	// SetBreachRegister replaces the register's fields of id's record.
	SetBreachRegister(ctx context.Context, a Actor, b *Breach) error
	// RecordBreachDecision records whether to notify the authority (or the
	// people), also as a decision on the incident's timeline.
	RecordBreachDecision(ctx context.Context, a Actor, id int64, d *BreachDecision) error
	// RecordClockDone records when the report a NIS2 clock asks for was sent.
	RecordClockDone(ctx context.Context, a Actor, id int64, k ClockKind, at time.Time) error
	// RemindBreach enqueues msgs, the reminders of one clock threshold, and
	// audits them; it reports false, storing nothing, when all were queued
	// before.
	RemindBreach(ctx context.Context, a Actor, id int64, what string, msgs []*Message) (bool, error)
}

// ClockKindsOf converts clock names (config's breach clocks) to kinds.
func ClockKindsOf(names []string) []ClockKind {
	out := make([]ClockKind, len(names))
	for i, n := range names {
		out[i] = ClockKind(n)
	}
	return out
}
