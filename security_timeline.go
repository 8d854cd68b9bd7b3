package tocsin

import (
	"slices"
	"strings"
	"time"
)

// EntryKind says what a timeline entry records. Observations and actions
// are written by people; the others are written by tocsin as the incident
// changes, in the transaction of the change.
type EntryKind string

const (
	EntryCreated     EntryKind = "created"
	EntryStatus      EntryKind = "status"   // Old → New, Body the reason (going back)
	EntryReopened    EntryKind = "reopened" // Old → New, Body the reason
	EntryRole        EntryKind = "role"     // Subject the role, New the user given it, Old the one who lost it
	EntryMoment      EntryKind = "moment"   // Subject the moment, Old → New as RFC 3339 ("" unset)
	EntryDecision    EntryKind = "decision" // Decision set
	EntryLink        EntryKind = "link"     // Subject the link as seen from this incident, New the other incident's ID
	EntrySeverity    EntryKind = "severity" // Old → New
	EntryEdited      EntryKind = "edited"   // Subject the fields changed ("title,kind")
	EntryEvidence    EntryKind = "evidence" // Subject the item's ID, New its SHA-256, Body its description; Old "withdrawn" (Body the reason) or "mismatch"
	EntrySignal      EntryKind = "signal"   // a signal linked: Subject its ID, New its receipt
	EntryNotified    EntryKind = "notified" // messages sent about it: Subject what (page, gdpr, task), New the people, Body what about
	EntryObservation EntryKind = "observation"
	EntryAction      EntryKind = "action"
	// Tasks (runbook.go): Subject the task's title.
	EntryTaskAdded      EntryKind = "task_added"
	EntryTaskStatus     EntryKind = "task_status"     // Old → New, Body the reason for skipping
	EntryTaskOwner      EntryKind = "task_owner"      // Old → New as e-mails ("" unassigned)
	EntryTaskDue        EntryKind = "task_due"        // Old → New as RFC 3339 ("" none)
	EntryRunbookApplied EntryKind = "runbook_applied" // Subject the runbook's title, New the number of tasks added
)

// ManualKinds are the kinds a person may add.
var ManualKinds = []EntryKind{EntryObservation, EntryAction}

// SecurityEntry is one dated line of an incident's timeline.
type SecurityEntry struct {
	ID         int64
	IncidentID int64
	Kind       EntryKind
	// OccurredAt is when it happened; CreatedAt when it was written. An
	// observation may be written hours after what it observed.
	OccurredAt time.Time
	CreatedAt  time.Time
	Author     string // actor label
	Subject    string
	Old, New   string
	Body       string
	Decision   *Decision // for EntryDecision
}

// Backdated reports whether the entry was written well after it happened.
func (e *SecurityEntry) Backdated() bool { return e.CreatedAt.Sub(e.OccurredAt) > time.Minute }

// ValidateManual checks a manual entry against the clock and the
// incident's creation; a zero OccurredAt means now.
func (e *SecurityEntry) ValidateManual(now, created time.Time) error {
	e.Kind = EntryKind(strings.TrimSpace(string(e.Kind)))
	if !slices.Contains(ManualKinds, e.Kind) {
		return Errorf(EINVALID, "an entry is an observation or an action, not %q", e.Kind).WithKey("security.entry_kind", string(e.Kind))
	}
	if strings.TrimSpace(e.Body) == "" {
		return Errorf(EINVALID, "an entry needs text").WithKey("security.entry_empty")
	}
	if err := checkText("text", e.Body, 1, MaxSecurityText); err != nil {
		return err
	}
	if e.OccurredAt.IsZero() {
		e.OccurredAt = now
	}
	if err := NotFuture(e.OccurredAt, now); err != nil {
		return err
	}
	return NotTooEarly(e.OccurredAt, created)
}

// TimelineFilter selects a page of a timeline, oldest first. Last pages
// from the end: the newest Limit entries, still oldest first.
type TimelineFilter struct {
	Limit  int
	Offset int
	Last   bool
}

// Decision is a choice made during the response, with what was weighed.
type Decision struct {
	ID        int64
	Choice    string // what was decided
	Options   string // the options weighed
	Why       string
	DecidedBy int64 // a user account
	// DecidedByEmail and DecidedByName are read back from the account.
	DecidedByEmail string
	DecidedByName  string
	DecidedAt      time.Time
}

// Validate checks a decision; a zero DecidedAt means now.
func (d *Decision) Validate(now, created time.Time) error {
	if strings.TrimSpace(d.Choice) == "" {
		return Errorf(EINVALID, "a decision needs the choice made").WithKey("security.decision_choice")
	}
	if strings.TrimSpace(d.Why) == "" {
		return Errorf(EINVALID, "a decision needs the reason for it").WithKey("security.decision_why")
	}
	for _, f := range []struct{ name, v string }{{"choice", d.Choice}, {"options", d.Options}, {"why", d.Why}} {
		if err := checkText(f.name, f.v, 0, MaxSecurityText); err != nil {
			return err
		}
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
	return NotTooEarly(d.DecidedAt, created)
}

// LinkKind says how two incidents are linked, read from the incident the
// link is made on: "duplicate" means this one duplicates the other,
// "parent" that this one is the other's parent.
type LinkKind string

const (
	LinkRelated    LinkKind = "related"
	LinkDuplicate  LinkKind = "duplicate"     // this duplicates the other
	LinkDuplicated LinkKind = "duplicated_by" // the other duplicates this
	LinkParent     LinkKind = "parent"        // this is the other's parent
	LinkChild      LinkKind = "child"         // this is the other's child
)

// LinkKinds lists what a person chooses from.
var LinkKinds = []LinkKind{LinkRelated, LinkDuplicate, LinkDuplicated, LinkParent, LinkChild}

// ParseLinkKind validates a link kind.
func ParseLinkKind(s string) (LinkKind, error) {
	v := LinkKind(strings.TrimSpace(s))
	if slices.Contains(LinkKinds, v) {
		return v, nil
	}
	return "", Errorf(EINVALID, "unknown link %q: allowed are related, duplicate, duplicated_by, parent, child", s).WithKey("security.link_unknown", s)
}

// Inverse is the link as the other incident sees it.
func (k LinkKind) Inverse() LinkKind {
	switch k {
	case LinkDuplicate:
		return LinkDuplicated
	case LinkDuplicated:
		return LinkDuplicate
	case LinkParent:
		return LinkChild
	case LinkChild:
		return LinkParent
	}
	return k
}

// SecurityLink is a link as seen from one incident.
type SecurityLink struct {
	Kind    LinkKind
	OtherID int64
	Title   string // the other incident's
	Status  SecurityStatus
}
