package tocsin

import (
	"context"
	"net/mail"
	"slices"
	"strings"
	"time"
)

// SubscriberStatus is where an e-mail subscription stands: pending until
// its address is confirmed by the link mailed to it (double opt-in).
type SubscriberStatus string

const (
	SubscriberPending   SubscriberStatus = "pending"
	SubscriberConfirmed SubscriberStatus = "confirmed"
)

// Subscriber is one e-mail address that receives the public updates of all
// services or of a chosen few. The address is personal data: only staff
// with a role that needs it see it, and logs and the audit log never hold
// it.
type Subscriber struct {
	ID          int64
	Email       string
	Lang        string // fr or en: the language of its mail
	AllServices bool
	ServiceIDs  []int64 // when not AllServices, sorted
	Status      SubscriberStatus
	// Nonce is random and secret; unsubscribe links carry an HMAC of the
	// subscriber's ID and nonce, so that nothing stored opens them.
	Nonce         string
	CreatedAt     time.Time
	ConfirmedAt   *time.Time
	ConfirmSentAt *time.Time // the last confirmation mail
	ConfirmUntil  *time.Time // when the pending confirmation link expires
}

// Confirmation links expire after ConfirmLifetime; an address gets at most
// one confirmation mail per ConfirmResendAfter, however often it is typed
// into the form.
const (
	ConfirmLifetime    = 48 * time.Hour
	ConfirmResendAfter = time.Hour
)

// MaxEmailBytes bounds an address (RFC 5321's path limit).
const MaxEmailBytes = 254

// NormalizeSubscriberEmail validates a bare address (no display name, no
// angle brackets, no spaces, a dotted domain) and returns it lower-cased,
// so that one mailbox is one subscriber and one rate-limit counter.
func NormalizeSubscriberEmail(s string) (string, error) {
	s = strings.TrimSpace(s)
	bad := Errorf(EINVALID, "enter one e-mail address, such as name@example.org").WithKey("subscribe.email_invalid")
	if s == "" || len(s) > MaxEmailBytes || strings.ContainsAny(s, " <>,;\"\\()[]:\r\n\t") {
		return "", bad
	}
	a, err := mail.ParseAddress(s)
	if err != nil || a.Name != "" || a.Address != s {
		return "", bad
	}
	local, domain, ok := strings.Cut(s, "@")
	if !ok || local == "" || !strings.Contains(domain, ".") || strings.HasPrefix(domain, ".") || strings.HasSuffix(domain, ".") {
		return "", bad
	}
	for _, r := range s {
		if r < 0x21 || r == 0x7f {
			return "", bad
		}
	}
	return strings.ToLower(s), nil
}

// SubscribeRequest is what the public subscription form asks for.
type SubscribeRequest struct {
	Email       string
	Lang        string
	AllServices bool
	ServiceIDs  []int64
	// TokenHash is the SHA-256 of a fresh confirmation token, and Confirm
	// the mail that carries it; the store uses both only when it sends a
	// confirmation (see SubscriberService.Subscribe).
	TokenHash string
	Confirm   *Message
	// Net is the source network (ThrottleNet of the client address) and
	// EmailHash a digest of the address, both kept for rate limits.
	Net       string
	EmailHash string
}

// Validate normalizes and checks the request's own fields.
func (r *SubscribeRequest) Validate() error {
	e, err := NormalizeSubscriberEmail(r.Email)
	if err != nil {
		return err
	}
	r.Email = e
	if r.Lang != "fr" && r.Lang != "en" {
		return Errorf(EINVALID, "the language must be fr or en").WithKey("subscribe.lang_invalid")
	}
	if r.AllServices {
		r.ServiceIDs = nil
	} else {
		if len(r.ServiceIDs) == 0 {
			return Errorf(EINVALID, "choose all services or at least one").WithKey("subscribe.services_empty")
		}
		slices.Sort(r.ServiceIDs)
		r.ServiceIDs = slices.Compact(r.ServiceIDs)
		if len(r.ServiceIDs) > 1000 {
			return Errorf(EINVALID, "choose at most 1000 services").WithKey("subscribe.services_too_many")
		}
	}
	return nil
}

// SubscribeOutcome says what Subscribe did. The public page says the same
// thing whatever it is, so that it reveals nothing about an address.
type SubscribeOutcome string

const (
	SubscribeMailed     SubscribeOutcome = "mailed"     // a confirmation mail was queued
	SubscribeSuppressed SubscribeOutcome = "suppressed" // pending, mailed recently: no new mail
	SubscribeAlready    SubscribeOutcome = "already"    // confirmed already: nothing changed
)

// SubscribeAttemptFilter counts subscription attempts for rate limits;
// empty fields match everything.
type SubscribeAttemptFilter struct {
	Net       string
	EmailHash string
	Since     time.Time
}

// SubscriberFilter selects subscribers for staff.
type SubscriberFilter struct {
	Status SubscriberStatus // "" for all
	Limit  int
	Offset int
}

// SubscriberService keeps e-mail subscribers. Every mutation writes its
// audit entry, which never holds the address.
type SubscriberService interface {
	// Subscribe records req (validated) and an attempt for rate limits. A
	// new or pending address gets req.Confirm (with req.TokenHash as its
	// link's hash, valid ConfirmLifetime) unless it was mailed less than
	// ConfirmResendAfter ago; a pending address takes the new language and
	// services. A confirmed address is left as it is.
	Subscribe(ctx context.Context, a Actor, req *SubscribeRequest) (SubscribeOutcome, error)
	CountSubscribeAttempts(ctx context.Context, f SubscribeAttemptFilter) (int, error)
	// PendingSubscriberByToken returns the pending subscriber whose link
	// has this hash; ENOTFOUND when none, or when the link has expired.
	PendingSubscriberByToken(ctx context.Context, tokenHash string, now time.Time) (*Subscriber, error)
	// ConfirmSubscriber confirms the pending subscriber whose link has this
	// hash; ENOTFOUND as PendingSubscriberByToken.
	ConfirmSubscriber(ctx context.Context, a Actor, tokenHash string, now time.Time) (*Subscriber, error)
	Subscriber(ctx context.Context, id int64) (*Subscriber, error)
	Subscribers(ctx context.Context, f SubscriberFilter) ([]*Subscriber, error)
	CountSubscribers(ctx context.Context, status SubscriberStatus) (int, error)
	// DeleteSubscriber erases a subscriber; action is "subscriber.unsubscribe"
	// (its own link) or "subscriber.erase" (staff, on request).
	DeleteSubscriber(ctx context.Context, a Actor, id int64, action string) error
	// PruneSubscribeAttempts deletes attempts, and pending subscribers
	// whose link expired, older than before.
	PruneSubscribeAttempts(ctx context.Context, before time.Time) (int, error)
}

// NoticeKind says what a notice announces.
type NoticeKind string

const (
	NoticeIncident    NoticeKind = "incident"
	NoticeMaintenance NoticeKind = "maintenance"

	// NoticeReminder is the Status of a maintenance's reminder notice,
	// sent before its window opens.
	NoticeReminder = "reminder"
)

// Notice is one public update to announce to subscribers: written in the
// transaction that publishes it, then expanded by a fan-out step into one
// outbox message per matching subscriber, in batches, so that publishing
// never waits on thousands of inserts. Its content is frozen when written.
type Notice struct {
	ID int64
	// Key is unique: recording a notice twice keeps one (for example
	// "incident:12:update:40"); each message's key is derived from it and
	// the subscriber, so a fan-out resumed after a crash sends nothing twice.
	Key         string
	Kind        NoticeKind
	SubjectID   int64 // the incident's (or the maintenance's) ID
	Title       string
	Status      string // an IncidentStatus for incidents
	Body        string // Markdown
	Path        string // of the public page, such as /incidents/12/ (no language prefix)
	ServiceIDs  []int64
	AllServices bool // every subscriber, whatever services they chose
	At          time.Time
	// Cursor is the highest subscriber ID already expanded; DoneAt is set
	// once every subscriber was.
	Cursor    int64
	DoneAt    *time.Time
	CreatedAt time.Time
}

// Validate checks a notice before it is stored.
func (n *Notice) Validate() error {
	switch {
	case strings.TrimSpace(n.Key) == "":
		return Errorf(EINVALID, "a notice needs a key")
	case n.Kind != NoticeIncident && n.Kind != NoticeMaintenance:
		return Errorf(EINVALID, "unknown notice kind %q", n.Kind)
	case strings.TrimSpace(n.Title) == "":
		return Errorf(EINVALID, "a notice needs a title")
	case !strings.HasPrefix(n.Path, "/"):
		return Errorf(EINVALID, "a notice's path must start with /")
	}
	if !n.AllServices && len(n.ServiceIDs) == 0 {
		n.AllServices = true // an update that names no service concerns everyone
	}
	return nil
}

// NoticeService records notices and lets the fan-out expand them.
type NoticeService interface {
	// NotifySubscribers records n for every confirmed subscriber whose
	// services intersect n's (or who chose all): the one call that
	// announces something to subscribers (incidents record theirs when
	// published; a maintenance reminder calls it). A notice whose key is
	// already recorded is left alone.
	NotifySubscribers(ctx context.Context, a Actor, n *Notice) error
	// PendingNotices returns notices not yet fully expanded, oldest first.
	PendingNotices(ctx context.Context, limit int) ([]*Notice, error)
	// NoticeRecipients returns up to limit confirmed subscribers of n with
	// an ID above after, by ID.
	NoticeRecipients(ctx context.Context, n *Notice, after int64, limit int) ([]*Subscriber, error)
	// AdvanceNotice enqueues msgs (a message whose key exists is skipped)
	// and moves n's cursor to cursor, done when done, in one transaction.
	AdvanceNotice(ctx context.Context, id, cursor int64, done bool, msgs []*Message) error
}
