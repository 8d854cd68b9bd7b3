package tocsin

import (
	"context"
	"net/url"
	"slices"
	"strings"
	"time"
)

// Paging: every new signal (and, by hand, a security incident) opens a
// page. The escalation policy's first level is paged at once; while nobody
// acknowledges, each level's delay later the next level is paged, and after
// the last level the policy starts again, until someone acknowledges (or
// Repeat rounds are done). Each person is paged on every contact they have.

// EscalationLevel is one level of the policy: whoever is on call in RotaID,
// or the named users.
type EscalationLevel struct {
	RotaID  int64   // 0: none
	UserIDs []int64 // named people
	// Delay is how long this level has to acknowledge before the next is
	// paged (DefaultEscalationDelay when zero).
	Delay time.Duration
}

// DefaultEscalationDelay is a level's delay unless set.
const DefaultEscalationDelay = 15 * time.Minute

// Limits of a policy.
const (
	MaxEscalationLevels = 10
	MaxEscalationRounds = 100
	MinEscalationDelay  = time.Minute
	MaxEscalationDelay  = 24 * time.Hour
)

// EscalationPolicy is the host's one escalation policy.
type EscalationPolicy struct {
	Levels []EscalationLevel
	// Repeat is how many times the levels are gone through; 0 pages again
	// and again until someone acknowledges.
	Repeat    int
	UpdatedAt time.Time
	UpdatedBy string
}

// Validate checks a policy: 1 to 10 levels, each naming a rota or people,
// delays from a minute to a day (zero: the default).
func (p *EscalationPolicy) Validate() error {
	if len(p.Levels) == 0 || len(p.Levels) > MaxEscalationLevels {
		return Errorf(EINVALID, "a policy has 1 to %d levels", MaxEscalationLevels).WithKey("oncall.levels_count", MaxEscalationLevels)
	}
	if p.Repeat < 0 || p.Repeat > MaxEscalationRounds {
		return Errorf(EINVALID, "repeat the policy 0 (until acknowledged) to %d times", MaxEscalationRounds).WithKey("oncall.repeat_invalid", MaxEscalationRounds)
	}
	for i := range p.Levels {
		l := &p.Levels[i]
		if l.Delay == 0 {
			l.Delay = DefaultEscalationDelay
		}
		if l.Delay < MinEscalationDelay || l.Delay > MaxEscalationDelay {
			return Errorf(EINVALID, "level %d: a delay is from 1 minute to 24 hours", i+1).WithKey("oncall.delay_invalid", i+1)
		}
		slices.Sort(l.UserIDs)
		l.UserIDs = slices.Compact(l.UserIDs)
		if l.RotaID <= 0 && len(l.UserIDs) == 0 {
			return Errorf(EINVALID, "level %d names nobody: choose a rota or people", i+1).WithKey("oncall.level_empty", i+1)
		}
		if len(l.UserIDs) > 0 && l.UserIDs[0] <= 0 {
			return Errorf(EINVALID, "level %d names an unknown user", i+1).WithKey("oncall.level_empty", i+1)
		}
	}
	return nil
}

// Step says which level and round paging step n (0 first) is, and whether
// the policy still has it.
func (p *EscalationPolicy) Step(n int) (level, round int, ok bool) {
	if len(p.Levels) == 0 || n < 0 {
		return 0, 0, false
	}
	level, round = n%len(p.Levels), n/len(p.Levels)
	if p.Repeat > 0 && round >= p.Repeat {
		return 0, 0, false
	}
	return level, round, true
}

// ContactKind is how a person is paged.
type ContactKind string

const (
	ContactEmail   ContactKind = ChannelEmail
	ContactMatrix  ContactKind = ChannelMatrix
	ContactWebhook ContactKind = ChannelWebhook
)

// ContactKinds lists the kinds.
var ContactKinds = []ContactKind{ContactEmail, ContactMatrix, ContactWebhook}

// Contact is one way of paging a user.
type Contact struct {
	ID     int64
	UserID int64
	Kind   ContactKind
	// Address: an e-mail address, a Matrix room ID or alias (a direct chat
	// with the person), or an https:// webhook URL.
	Address   string
	CreatedAt time.Time
}

// MaxContacts bounds a user's contacts.
const MaxContacts = 10

// Validate checks a contact's address for its kind.
func (c *Contact) Validate() error {
	c.Address = strings.TrimSpace(c.Address)
	switch c.Kind {
	case ContactEmail:
		a, err := NormalizeEmail(c.Address)
		if err != nil {
			return err
		}
		c.Address = a
	case ContactMatrix:
		if _, err := ParseMatrixRoom(c.Address); err != nil {
			return err
		}
	case ContactWebhook:
		u, err := url.Parse(c.Address)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.User != nil || u.Fragment != "" || len(c.Address) > 2000 {
			return Errorf(EINVALID, "a webhook is an absolute http:// or https:// address without credentials").WithKey("webhooks.url_invalid")
		}
	default:
		return Errorf(EINVALID, "unknown contact kind %q: allowed are email, matrix, webhook", c.Kind).WithKey("oncall.contact_kind", string(c.Kind))
	}
	return nil
}

// PageState is where a page stands.
type PageState string

const (
	PageOpen         PageState = "open"
	PageAcknowledged PageState = "acknowledged"
	PageExhausted    PageState = "exhausted" // the policy's rounds ran out unacknowledged
)

// Page is one alert going through the escalation policy.
type Page struct {
	ID                 int64
	SignalID           *int64
	SecurityIncidentID *int64
	Subject            string
	State              PageState
	// Step is the last step paged (see EscalationPolicy.Step); NextAt when
	// the next is due, nil once acknowledged or exhausted.
	Step     int
	NextAt   *time.Time
	OpenedAt time.Time
	OpenedBy string

	AcknowledgedBy     string
	AcknowledgedUserID int64
	AcknowledgedAt     *time.Time

	Notifications []PageNotification
}

// TimeToAcknowledge is how long the page waited, or zero while open.
func (p *Page) TimeToAcknowledge() time.Duration {
	if p.AcknowledgedAt == nil {
		return 0
	}
	return p.AcknowledgedAt.Sub(p.OpenedAt)
}

// PageNotification records one person paged at one step.
type PageNotification struct {
	Step, Level, Round int
	UserID             int64
	UserLabel          string
	Contacts           int // messages queued
	PagedAt            time.Time
}

// PageNote is what a PageComposer turns into messages: one person paged at
// one step, with the signal (or incident) the page is about.
type PageNote struct {
	Page     *Page
	Signal   *Signal // nil for a page opened by hand
	Step     int
	Level    int // 0-based
	Round    int
	User     *User
	Contacts []*Contact
	At       time.Time
}

// PageComposer writes the messages of a page (texts in the recipient's
// language, signed acknowledgement links). Every message's Key must be
// unique to its page, step, user and contact, so a repeat stores nothing.
type PageComposer interface {
	PageMessages(n PageNote) []*Message
}

// PageFilter selects pages.
type PageFilter struct {
	Open  bool // only open pages
	Limit int
}

// PagingService keeps rotas, the policy, contacts and pages.
type PagingService interface {
	Rotas(ctx context.Context) ([]*Rota, error)
	Rota(ctx context.Context, id int64) (*Rota, error)
	// SaveRota creates (ID 0) or replaces a rota with its members.
	SaveRota(ctx context.Context, a Actor, r *Rota) error
	DeleteRota(ctx context.Context, a Actor, id int64) error
	AddOverride(ctx context.Context, a Actor, rotaID int64, o *Override) error
	DeleteOverride(ctx context.Context, a Actor, rotaID, id int64) error
	// EscalationPolicy returns the policy; ENOTFOUND when none is set.
	EscalationPolicy(ctx context.Context) (*EscalationPolicy, error)
	SetEscalationPolicy(ctx context.Context, a Actor, p *EscalationPolicy) error

	Contacts(ctx context.Context, userID int64) ([]*Contact, error)
	AddContact(ctx context.Context, a Actor, c *Contact) error
	DeleteContact(ctx context.Context, a Actor, userID, id int64) error

	// OpenPage opens a page by hand (about a security incident) and pages
	// the first level in the same transaction.
	OpenPage(ctx context.Context, a Actor, p *Page) error
	Page(ctx context.Context, id int64) (*Page, error)
	Pages(ctx context.Context, f PageFilter) ([]*Page, error)
	// AcknowledgePage stops page id's escalation and acknowledges its
	// signal if still open; ECONFLICT if no longer open.
	AcknowledgePage(ctx context.Context, a Actor, id int64) error
	// EscalatePages pages the next step of every open page due by the
	// store's clock, each once however many instances call it, and returns
	// when the next page falls due (zero if none).
	EscalatePages(ctx context.Context) (time.Time, error)
}
