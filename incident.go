package tocsin

import (
	"context"
	"slices"
	"strings"
	"time"
	"unicode/utf8"
)

// IncidentStatus is where a public incident stands. The values are those of
// Atlassian Statuspage's incidents.
type IncidentStatus string

const (
	IncidentInvestigating IncidentStatus = "investigating"
	IncidentIdentified    IncidentStatus = "identified"
	IncidentMonitoring    IncidentStatus = "monitoring"
	IncidentResolved      IncidentStatus = "resolved"
	IncidentPostmortem    IncidentStatus = "postmortem"
)

// IncidentStatuses lists the statuses in their usual order.
var IncidentStatuses = []IncidentStatus{IncidentInvestigating, IncidentIdentified, IncidentMonitoring, IncidentResolved, IncidentPostmortem}

// Closed reports whether an incident (or a maintenance) in this status is over.
func (s IncidentStatus) Closed() bool {
	return s == IncidentResolved || s == IncidentPostmortem || s == MaintenanceCompleted
}

// ParseIncidentStatus validates a status name, of an incident or of a
// scheduled maintenance (see StatusFits for which one an incident takes).
func ParseIncidentStatus(s string) (IncidentStatus, error) {
	st := IncidentStatus(strings.TrimSpace(s))
	if slices.Contains(IncidentStatuses, st) || slices.Contains(MaintenanceStatuses, st) {
		return st, nil
	}
	return "", Errorf(EINVALID, "unknown incident status %q: allowed are investigating, identified, monitoring, resolved, postmortem (scheduled, in_progress, verifying, completed for a maintenance)", s).
		WithKey("incidents.status_unknown", s)
}

// Impact is how bad an incident is, as Statuspage grades it.
type Impact string

const (
	ImpactNone     Impact = "none"
	ImpactMinor    Impact = "minor"
	ImpactMajor    Impact = "major"
	ImpactCritical Impact = "critical"
)

// Impacts lists the impacts from least to most severe.
var Impacts = []Impact{ImpactNone, ImpactMinor, ImpactMajor, ImpactCritical}

// ParseImpact validates an impact name.
func ParseImpact(s string) (Impact, error) {
	im := Impact(strings.TrimSpace(s))
	if slices.Contains(Impacts, im) {
		return im, nil
	}
	return "", Errorf(EINVALID, "unknown impact %q: allowed are none, minor, major, critical", s).WithKey("incidents.impact_unknown", s)
}

// Incident is a public incident: what the status page says went wrong, in
// dated updates. An unpublished incident is a draft that only staff see.
//
// An incident with a window (ScheduledFor and ScheduledUntil) is a scheduled
// maintenance, as Statuspage models them: its statuses are those of
// MaintenanceStatuses, its impact is "maintenance", and its services are
// under maintenance while it is in progress (see maintenance.go).
type Incident struct {
	ID       int64
	Title    string
	Status   IncidentStatus // that of its newest update; postmortem once its post-mortem is published
	Impact   Impact
	Services []ServiceImpact // the services it affects, and how
	// ScheduledFor and ScheduledUntil are a maintenance's window; nil for
	// an incident.
	ScheduledFor   *time.Time
	ScheduledUntil *time.Time
	// RemindedAt is when the reminder before a maintenance's window was
	// recorded; nil until then.
	RemindedAt *time.Time
	// ShowOnSites shows the incident in the banner the host's own apps
	// embed (notice.json, notice.js) while it is open.
	ShowOnSites bool
	PublishedAt *time.Time // nil for a draft
	ResolvedAt  *time.Time
	CreatedBy   string // actor label
	CreatedAt   time.Time
	UpdatedAt   time.Time
	Updates     []*Update // newest first (by DisplayAt)
}

// Published reports whether the public sees the incident.
func (i *Incident) Published() bool { return i.PublishedAt != nil }

// ServiceImpact is one affected service and the status it shows while the
// incident is open.
type ServiceImpact struct {
	ServiceID int64
	Status    ServiceStatus
}

// Update is one dated entry of an incident. Updates are append-only for the
// public: a correction is a new update; editing a typo keeps the previous
// text as a revision that staff can see.
type Update struct {
	ID         int64
	IncidentID int64
	Status     IncidentStatus
	Body       string // Markdown
	// DisplayAt is when the update is shown as written; earlier than
	// CreatedAt for an update written after the fact (backdated).
	DisplayAt time.Time
	CreatedAt time.Time
	Author    string
	Revisions []UpdateRevision // earlier bodies, oldest first
}

// Backdated reports whether the update is dated before it was written, as
// the page shows.
func (u *Update) Backdated() bool { return u.CreatedAt.Sub(u.DisplayAt) > time.Minute }

// UpdateRevision is a body an update had before an edit.
type UpdateRevision struct {
	Body     string
	EditedAt time.Time
	EditedBy string
}

// MaxUpdateBytes bounds an update's body (the Markdown renderer's limit).
const MaxUpdateBytes = 64 << 10

// Validate checks an incident's own fields.
func (i *Incident) Validate() error {
	i.Title = strings.TrimSpace(i.Title)
	if i.Title == "" || utf8.RuneCountInString(i.Title) > 200 {
		return Errorf(EINVALID, "an incident needs a title of 1 to 200 characters").WithKey("incidents.title_invalid")
	}
	if err := i.validateWindow(); err != nil {
		return err
	}
	if i.Impact == "" {
		i.Impact = ImpactMinor
	}
	if i.Maintenance() {
		i.Impact = ImpactMaintenance
	} else if _, err := ParseImpact(string(i.Impact)); err != nil {
		return err
	}
	seen := map[int64]bool{}
	for n, s := range i.Services {
		if seen[s.ServiceID] {
			return Errorf(EINVALID, "service %d is listed twice", s.ServiceID).WithKey("incidents.service_twice", s.ServiceID)
		}
		seen[s.ServiceID] = true
		if i.Maintenance() {
			i.Services[n].Status = StatusMaintenance
		} else if _, err := ParseServiceStatus(string(s.Status)); err != nil {
			return err
		}
	}
	return nil
}

// Validate checks an update's fields; now is when it is being written.
func (u *Update) Validate(now time.Time) error {
	if _, err := ParseIncidentStatus(string(u.Status)); err != nil {
		return err
	}
	if strings.TrimSpace(u.Body) == "" {
		return Errorf(EINVALID, "an update needs a message").WithKey("incidents.body_empty")
	}
	if len(u.Body) > MaxUpdateBytes {
		return Errorf(EINVALID, "the message is over %d bytes", MaxUpdateBytes).WithKey("markdown.too_long", MaxUpdateBytes)
	}
	if u.DisplayAt.IsZero() {
		u.DisplayAt = now
	}
	if u.DisplayAt.After(now.Add(time.Minute)) {
		return Errorf(EINVALID, "an update cannot be dated in the future").WithKey("incidents.future")
	}
	return nil
}

// IncidentFilter selects incidents; zero fields select all.
type IncidentFilter struct {
	Published *bool     // nil: drafts and published alike
	Open      *bool     // nil: open and closed alike
	Since     time.Time // created at or after
	Until     time.Time // created before
	Limit     int
	Offset    int
	// Maintenance selects scheduled maintenances (true) or incidents
	// (false); nil: both.
	Maintenance *bool
}

// IncidentService stores public incidents. Every mutation writes its audit
// entry, and any message it causes, in one transaction.
type IncidentService interface {
	// CreateIncident stores inc and its first update; published when
	// inc.PublishedAt is set, a draft otherwise.
	CreateIncident(ctx context.Context, a Actor, inc *Incident, first *Update, msgs []*Message) error
	// Incident returns one incident with its updates and their revisions.
	Incident(ctx context.Context, id int64) (*Incident, error)
	// Incidents returns matching incidents, newest first, with their updates.
	Incidents(ctx context.Context, f IncidentFilter) ([]*Incident, error)
	// PublishIncident makes a draft public at at; ECONFLICT if already public.
	PublishIncident(ctx context.Context, a Actor, id int64, at time.Time, msgs []*Message) error
	// AddUpdate appends u, whose status becomes the incident's (resolving it
	// sets ResolvedAt). ECONFLICT when the incident is resolved and u is not
	// a postmortem note: reopening is a decision of its own.
	AddUpdate(ctx context.Context, a Actor, incidentID int64, u *Update, msgs []*Message) error
	// EditUpdate replaces an update's body, keeping the old one as a revision.
	EditUpdate(ctx context.Context, a Actor, updateID int64, body string) error
	// SetIncident replaces title, impact, affected services and ShowOnSites.
	SetIncident(ctx context.Context, a Actor, inc *Incident) error
}
