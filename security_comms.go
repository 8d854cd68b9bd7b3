package tocsin

import (
	"context"
	"strconv"
	"time"
)

// A security incident speaks to the public through one public incident of
// the status page, linked from its room. The private title and timeline
// stay private: the public incident's title, impact and services are
// chosen by whoever links it, and each public update is written for the
// public and published through the public incident's own path (status
// page, feeds, subscribers).

// Timeline entries of the public side of a security incident.
const (
	EntryPublicLink   EntryKind = "public_link"      // New the public incident's ID, Body its public title
	EntryPublicUpdate EntryKind = "public_update"    // Subject the public status, New the update's ID, Body its text
	EntryCadence      EntryKind = "cadence_reminder" // Subject who was reminded, Old the silence's start (RFC 3339)
	EntryPostmortem   EntryKind = "postmortem_draft" // New the public incident's ID, Subject the revision
)

// DefaultCadence is how long the public may go without an update before
// the communications lead is reminded, when the configuration says nothing.
const DefaultCadence = 60 * time.Minute

// Bounds of a cadence set on one incident.
const (
	MinCadence = 5 * time.Minute
	MaxCadence = 24 * time.Hour
)

// CheckCadence validates a per-incident cadence; 0 means the configured one.
func CheckCadence(d time.Duration) error {
	if d != 0 && (d < MinCadence || d > MaxCadence || d%time.Minute != 0) {
		return Errorf(EINVALID, "a cadence is a whole number of minutes from 5 to 1440, or 0 for the default").WithKey("comms.cadence_invalid")
	}
	return nil
}

// PublicLink is a security incident's public incident, as its room shows it.
type PublicLink struct {
	SecurityID int64
	IncidentID int64
	Title      string // the public incident's
	Status     IncidentStatus
	Published  bool
	// Cadence is this incident's own cadence; 0 follows the configuration.
	Cadence time.Duration
	// LastPublic is when the public last heard of the incident: its newest
	// update as written, or its publication if later; zero for a draft.
	LastPublic time.Time
	// RemindedSince is the LastPublic the communications lead was last
	// reminded of; equal to LastPublic when this silence was reminded.
	RemindedSince *time.Time
	LinkedBy      string
	LinkedAt      time.Time
}

// Every is the cadence that applies, def being the configured one (0:
// DefaultCadence).
func (l *PublicLink) Every(def time.Duration) time.Duration {
	switch {
	case l.Cadence > 0:
		return l.Cadence
	case def > 0:
		return def
	}
	return DefaultCadence
}

// Due returns when the next public update is due; ok is false when no
// cadence runs: the public incident is a draft (nothing public yet) or
// resolved (nothing more to say).
func (l *PublicLink) Due(def time.Duration) (at time.Time, ok bool) {
	if !l.Published || l.Status.Closed() || l.LastPublic.IsZero() {
		return time.Time{}, false
	}
	return l.LastPublic.Add(l.Every(def)), true
}

// Reminded reports whether the current silence was already reminded.
func (l *PublicLink) Reminded() bool {
	return l.RemindedSince != nil && l.RemindedSince.Equal(l.LastPublic)
}

// Speaker is who publishes the incident's public updates: the
// communications lead, else the incident lead when no communications lead
// is named; nil when neither is.
func (i *SecurityIncident) Speaker() *RoleHolder {
	if hs := i.Holders(RoleComms); len(hs) > 0 {
		return &hs[0]
	}
	return i.Lead()
}

// CheckSpeak says whether a may publish a public update for i. People:
// only the Speaker, so that the public hears one voice, and only if their
// account is a responder or a communicator. An API token is
// no person and holds no incident role: it needs the communicator role,
// with which it may already update the public incident directly.
func (i *SecurityIncident) CheckSpeak(a Actor, roles Roles) error {
	if a.UserID == 0 {
		if roles.Allows(RoleCommunicator) {
			return nil
		}
	} else if s := i.Speaker(); s != nil && s.UserID == a.UserID && speaks(roles) {
		return nil
	}
	return Errorf(EFORBIDDEN, "only the communications lead (or, when none is named, the incident lead) publishes public updates").
		WithKey("comms.not_speaker")
}

// speaks reports whether an account's roles let it speak for the host at
// all: a viewer named on an incident reads, it does not publish.
func speaks(roles Roles) bool { return roles.Allows(RoleCommunicator) || roles.Allows(RoleResponder) }

// CheckLinkPublic says whether a may create or link the public incident
// or set its cadence: the communications lead or the incident lead (a
// responder or communicator account), or an admin; an API token with the
// communicator role.
func (i *SecurityIncident) CheckLinkPublic(a Actor, roles Roles) error {
	if a.UserID == 0 {
		if roles.Allows(RoleCommunicator) {
			return nil
		}
	} else if roles.Allows(RoleAdmin) {
		return nil
	} else if speaks(roles) {
		for _, r := range []IncidentRole{RoleComms, RoleLead} {
			for _, h := range i.Holders(r) {
				if h.UserID == a.UserID {
					return nil
				}
			}
		}
	}
	return Errorf(EFORBIDDEN, "only the communications lead, the incident lead or an admin links a public incident").
		WithKey("comms.not_linker")
}

// CadenceReminder is one reminder the cadence duty queues.
type CadenceReminder struct {
	SecurityID  int64
	IncidentID  int64
	PublicTitle string
	Since       time.Time // the last public update
	Every       time.Duration
	Email       string // of the communications lead (or the lead)
	Name        string
	Lang        string
}

// Key is the reminder's outbox key: one message per silence.
func (r *CadenceReminder) Key() string {
	return "cadence:" + strconv.FormatInt(r.SecurityID, 10) + ":since:" + strconv.FormatInt(r.Since.Unix(), 10)
}

// SecurityCommsService is the public side of security incidents. Every
// mutation writes its audit entry and its timeline entry in the
// transaction of the public change.
type SecurityCommsService interface {
	// PublicLink returns the public incident linked to security incident
	// id; ENOTFOUND when there is none.
	PublicLink(ctx context.Context, id int64) (*PublicLink, error)
	// CreatePublicIncident creates inc with its first update (as
	// CreateIncident does) and links it to security incident id.
	// ECONFLICT when one is linked already.
	CreatePublicIncident(ctx context.Context, a Actor, id int64, inc *Incident, first *Update, msgs []*Message) error
	// LinkPublicIncident links the existing public incident incidentID.
	LinkPublicIncident(ctx context.Context, a Actor, id, incidentID int64) error
	// SetCadence sets the incident's own cadence (0: the configured one).
	SetCadence(ctx context.Context, a Actor, id int64, every time.Duration) error
	// PublishSecurityUpdate appends u to the linked public incident (as
	// AddUpdate does) with a "public_update" entry. The caller checks
	// CheckSpeak; ENOTFOUND when no public incident is linked.
	PublishSecurityUpdate(ctx context.Context, a Actor, id int64, u *Update, msgs []*Message) error
	// RemindCadence queues, at now, one message (made by build) for each
	// silence longer than its cadence (def the configured one) not reminded
	// yet, with a "cadence_reminder" entry; it returns when the next one
	// falls due (zero if none runs).
	RemindCadence(ctx context.Context, now time.Time, def time.Duration, build func(*CadenceReminder) *Message) (time.Time, error)
	// SaveSecurityPostmortem saves p, assembled from security incident id,
	// as the linked public incident's post-mortem (as SavePostmortem does)
	// with a "postmortem_draft" entry.
	SaveSecurityPostmortem(ctx context.Context, a Actor, id int64, p *Postmortem) error
}
