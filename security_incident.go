package tocsin

import (
	"context"
	"slices"
	"strings"
	"time"
	"unicode/utf8"
)

// A SecurityIncident is private: a breach, a compromise or a vulnerability
// being worked by staff. It is not the public Incident of the status page;
// nothing of it reaches the public site.

// Severity grades a security incident, SEV1 the worst. What each level
// means is written in the configuration (severities:).
type Severity string

const (
	SEV1 Severity = "SEV1"
	SEV2 Severity = "SEV2"
	SEV3 Severity = "SEV3"
	SEV4 Severity = "SEV4"
)

// Severities lists the levels from the worst.
var Severities = []Severity{SEV1, SEV2, SEV3, SEV4}

// ParseSeverity validates a severity, in either case ("sev2" is SEV2).
func ParseSeverity(s string) (Severity, error) {
	v := Severity(strings.ToUpper(strings.TrimSpace(s)))
	if slices.Contains(Severities, v) {
		return v, nil
	}
	return "", Errorf(EINVALID, "unknown severity %q: allowed are SEV1, SEV2, SEV3, SEV4", s).WithKey("security.severity_unknown", s)
}

// SecurityStatus is where the response stands. Statuses follow each other
// in SecurityStatuses' order.
type SecurityStatus string

const (
	SecTriage        SecurityStatus = "triage"
	SecInvestigating SecurityStatus = "investigating"
	SecContained     SecurityStatus = "contained"
	SecEradicated    SecurityStatus = "eradicated"
	SecRecovered     SecurityStatus = "recovered"
	SecClosed        SecurityStatus = "closed"
)

// SecurityStatuses lists the statuses in the order a response goes through.
var SecurityStatuses = []SecurityStatus{SecTriage, SecInvestigating, SecContained, SecEradicated, SecRecovered, SecClosed}

// Rank is the status's place in SecurityStatuses; -1 for an unknown one.
func (s SecurityStatus) Rank() int { return slices.Index(SecurityStatuses, s) }

// ParseSecurityStatus validates a status name.
func ParseSecurityStatus(s string) (SecurityStatus, error) {
	v := SecurityStatus(strings.TrimSpace(s))
	if v.Rank() >= 0 {
		return v, nil
	}
	return "", Errorf(EINVALID, "unknown status %q: allowed are triage, investigating, contained, eradicated, recovered, closed", s).
		WithKey("security.status_unknown", s)
}

// CheckStatusChange checks a move from one status to another. Moving forward
// needs nothing; moving back needs a reason, recorded on the timeline; a
// closed incident is reopened (ReopenCheck), not moved.
func CheckStatusChange(from, to SecurityStatus, reason string) error {
	if _, err := ParseSecurityStatus(string(to)); err != nil {
		return err
	}
	switch {
	case from == to:
		return Errorf(ECONFLICT, "the incident is already %s", to).WithKey("security.status_same")
	case from == SecClosed:
		return Errorf(ECONFLICT, "this incident is closed: reopen it, with the reason").WithKey("security.closed")
	case to.Rank() < from.Rank() && strings.TrimSpace(reason) == "":
		return Errorf(EINVALID, "going back from %s to %s needs a reason", from, to).WithKey("security.back_reason")
	}
	return checkText("reason", reason, 0, MaxSecurityText)
}

// ReopenCheck checks the reopening of an incident now in status from to
// status to (not closed), with the reason required.
func ReopenCheck(from, to SecurityStatus, reason string) error {
	if from != SecClosed {
		return Errorf(ECONFLICT, "only a closed incident can be reopened").WithKey("security.not_closed")
	}
	if _, err := ParseSecurityStatus(string(to)); err != nil {
		return err
	}
	if to == SecClosed {
		return Errorf(EINVALID, "reopen to a status other than closed").WithKey("security.reopen_closed")
	}
	if strings.TrimSpace(reason) == "" {
		return Errorf(EINVALID, "reopening needs a reason").WithKey("security.reopen_reason")
	}
	return checkText("reason", reason, 1, MaxSecurityText)
}

// SecurityKind is what happened.
type SecurityKind string

const (
	KindDataExposure      SecurityKind = "data_exposure"
	KindAccountCompromise SecurityKind = "account_compromise"
	KindServerCompromise  SecurityKind = "server_compromise"
	KindVulnerability     SecurityKind = "vulnerability"
	KindMisconfiguration  SecurityKind = "misconfiguration"
	KindOther             SecurityKind = "other"
)

// SecurityKinds lists the kinds.
var SecurityKinds = []SecurityKind{KindDataExposure, KindAccountCompromise, KindServerCompromise, KindVulnerability, KindMisconfiguration, KindOther}

// ParseSecurityKind validates a kind.
func ParseSecurityKind(s string) (SecurityKind, error) {
	v := SecurityKind(strings.TrimSpace(s))
	if slices.Contains(SecurityKinds, v) {
		return v, nil
	}
	return "", Errorf(EINVALID, "unknown kind %q: allowed are data_exposure, account_compromise, server_compromise, vulnerability, misconfiguration, other", s).
		WithKey("security.kind_unknown", s)
}

// IncidentRole is a role held on one incident by a user account.
type IncidentRole string

const (
	RoleLead   IncidentRole = "lead"   // runs the response
	RoleComms  IncidentRole = "comms"  // the one voice to the public
	RoleScribe IncidentRole = "scribe" // keeps the timeline
	RoleMember IncidentRole = "member" // works on it; any number
)

// IncidentRoles lists the roles; all but member are held by one person.
var IncidentRoles = []IncidentRole{RoleLead, RoleComms, RoleScribe, RoleMember}

// Single reports whether one person at a time holds the role.
func (r IncidentRole) Single() bool { return r != RoleMember }

// ParseIncidentRole validates a role name.
func ParseIncidentRole(s string) (IncidentRole, error) {
	v := IncidentRole(strings.TrimSpace(s))
	if slices.Contains(IncidentRoles, v) {
		return v, nil
	}
	return "", Errorf(EINVALID, "unknown incident role %q: allowed are lead, comms, scribe, member", s).WithKey("security.role_unknown", s)
}

// RoleHolder is a user holding a role on an incident.
type RoleHolder struct {
	Role     IncidentRole
	UserID   int64
	Email    string
	Name     string
	Disabled bool // disabled since: shown, so that someone takes over
}

// MaxSecurityText bounds free text (summary, entries, reasons) in bytes.
const MaxSecurityText = 16 << 10

// SecurityIncident is a private security incident.
type SecurityIncident struct {
	ID        int64
	Title     string
	Summary   string
	Severity  Severity
	Status    SecurityStatus
	Kind      SecurityKind
	Moments   KeyMoments
	Roles     []RoleHolder // by role (lead, comms, scribe, member), then e-mail
	Links     []SecurityLink
	CreatedBy string // actor label
	CreatedAt time.Time
	UpdatedAt time.Time
	ClosedAt  *time.Time
}

// Holders returns the holders of role r.
func (i *SecurityIncident) Holders(r IncidentRole) []RoleHolder {
	var out []RoleHolder
	for _, h := range i.Roles {
		if h.Role == r {
			out = append(out, h)
		}
	}
	return out
}

// Lead returns the incident lead, nil when nobody is.
func (i *SecurityIncident) Lead() *RoleHolder {
	if hs := i.Holders(RoleLead); len(hs) > 0 {
		return &hs[0]
	}
	return nil
}

// Open reports whether the incident is not closed.
func (i *SecurityIncident) Open() bool { return i.Status != SecClosed }

func checkText(field, s string, least, most int) error {
	if len(strings.TrimSpace(s)) < least || len(s) > most || !utf8.ValidString(s) {
		return Errorf(EINVALID, "%s: give %d to %d bytes of text", field, least, most).WithKey("security.text_invalid", field, most)
	}
	return nil
}

// Validate checks and normalizes the fields a person sets: title, summary,
// severity and kind. A new incident starts in triage.
func (i *SecurityIncident) Validate() error {
	i.Title = strings.TrimSpace(i.Title)
	if i.Title == "" || utf8.RuneCountInString(i.Title) > 200 {
		return Errorf(EINVALID, "a security incident needs a title of 1 to 200 characters").WithKey("security.title_invalid")
	}
	if err := checkText("summary", i.Summary, 0, MaxSecurityText); err != nil {
		return err
	}
	sev, err := ParseSeverity(string(i.Severity))
	if err != nil {
		return err
	}
	kind, err := ParseSecurityKind(string(i.Kind))
	if err != nil {
		return err
	}
	i.Severity, i.Kind = sev, kind
	if i.Status == "" {
		i.Status = SecTriage
	}
	_, err = ParseSecurityStatus(string(i.Status))
	return err
}

// SecurityIncidentFilter selects incidents; zero fields select all.
type SecurityIncidentFilter struct {
	Open   *bool
	Limit  int
	Offset int
}

// SecurityIncidentService stores private security incidents. Every
// mutation writes its audit entry and its timeline entries in one
// transaction; the timeline is append-only.
type SecurityIncidentService interface {
	// CreateSecurityIncident stores inc (in triage) with a "created" entry.
	CreateSecurityIncident(ctx context.Context, a Actor, inc *SecurityIncident) error
	// SecurityIncident returns one incident with its roles and links.
	SecurityIncident(ctx context.Context, id int64) (*SecurityIncident, error)
	// SecurityIncidents returns open incidents first, then by severity and
	// newest, with their roles.
	SecurityIncidents(ctx context.Context, f SecurityIncidentFilter) ([]*SecurityIncident, error)
	// SetSecurityIncident replaces title, summary, severity and kind.
	SetSecurityIncident(ctx context.Context, a Actor, inc *SecurityIncident) error
	// SetSecurityStatus moves the incident (see CheckStatusChange).
	SetSecurityStatus(ctx context.Context, a Actor, id int64, to SecurityStatus, reason string) error
	// ReopenSecurityIncident reopens a closed incident (see ReopenCheck).
	ReopenSecurityIncident(ctx context.Context, a Actor, id int64, to SecurityStatus, reason string) error
	// AssignSecurityRole gives role to a user, replacing the holder of a
	// single role; EINVALID for an unknown or disabled account.
	AssignSecurityRole(ctx context.Context, a Actor, id int64, role IncidentRole, userID int64) error
	// UnassignSecurityRole takes role from a user; ENOTFOUND if not held.
	UnassignSecurityRole(ctx context.Context, a Actor, id int64, role IncidentRole, userID int64) error
	// SetKeyMoments replaces the key moments (see KeyMoments.Check); each
	// change is a timeline entry dated at the moment.
	SetKeyMoments(ctx context.Context, a Actor, id int64, m KeyMoments) error
	// AddTimelineEntry appends a manual entry (observation or action).
	AddTimelineEntry(ctx context.Context, a Actor, id int64, e *SecurityEntry) error
	// RecordDecision stores d and its timeline entry.
	RecordDecision(ctx context.Context, a Actor, id int64, d *Decision) error
	// LinkSecurityIncidents links id to other (see LinkKind).
	LinkSecurityIncidents(ctx context.Context, a Actor, id, other int64, kind LinkKind) error
	// Timeline returns one page of an incident's entries, oldest first,
	// and how many there are in all.
	Timeline(ctx context.Context, id int64, f TimelineFilter) ([]*SecurityEntry, int, error)
}
