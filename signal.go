package tocsin

import (
	"context"
	"crypto/rand"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// A signal is one report of a suspected problem, as it arrived: from the
// public form, the API or the intake mailbox. Signals wait in the triage
// queue until a responder acknowledges them, links them to a security
// incident or dismisses them with a reason.

// SignalSource says how a signal arrived.
type SignalSource string

const (
	SourceForm  SignalSource = "form"  // the public /report form
	SourceAPI   SignalSource = "api"   // a script or another tool, with a token
	SourceEmail SignalSource = "email" // the intake mailbox, read over IMAP
	SourceCheck SignalSource = "check" // a check went down or saw something unsafe
)

// SignalSources lists the sources.
var SignalSources = []SignalSource{SourceForm, SourceAPI, SourceEmail, SourceCheck}

// SignalState is where a signal stands in the triage queue.
type SignalState string

const (
	SignalOpen         SignalState = "open"
	SignalAcknowledged SignalState = "acknowledged" // someone is looking at it
	SignalLinked       SignalState = "linked"       // it is part of a security incident
	SignalDismissed    SignalState = "dismissed"    // not a problem, with the reason why
)

// SignalStates lists the states in triage order.
var SignalStates = []SignalState{SignalOpen, SignalAcknowledged, SignalLinked, SignalDismissed}

// signalMoves is the state machine: a signal is acknowledged once; it is
// linked or dismissed from open or acknowledged, and then stays so.
var signalMoves = map[SignalState][]SignalState{
	SignalOpen:         {SignalAcknowledged, SignalLinked, SignalDismissed},
	SignalAcknowledged: {SignalLinked, SignalDismissed},
}

// CanMoveTo reports whether a signal in state s may move to next.
func (s SignalState) CanMoveTo(next SignalState) bool {
	return slices.Contains(signalMoves[s], next)
}

// Closed reports whether the signal left the queue.
func (s SignalState) Closed() bool { return s == SignalLinked || s == SignalDismissed }

// ParseSignalState validates a state name.
func ParseSignalState(v string) (SignalState, error) {
	st := SignalState(strings.TrimSpace(v))
	if slices.Contains(SignalStates, st) {
		return st, nil
	}
	return "", Errorf(EINVALID, "unknown signal state %q: allowed are open, acknowledged, linked, dismissed", v).
		WithKey("signals.state_unknown", v)
}

// Limits of a signal's fields. A body over MaxSignalBody is refused on the
// form and the API; a longer e-mail is cut, since its sender cannot be told
// and the whole message stays in the mailbox.
const (
	MaxSignalBody    = 64 << 10
	MaxSignalSubject = 200 // characters
	MaxSignalContact = 254 // characters: the longest e-mail address
	MaxSignalReason  = 2000
)

// Signal is one report in the triage queue. Contact is personal data:
// staff see it, logs and the audit log never hold it.
type Signal struct {
	ID      int64
	Receipt string // shown to the reporter; random, it grants access to nothing
	Source  SignalSource
	Subject string
	Body    string // plain text, shown escaped
	Contact string // how to reach the reporter; "" when not given
	// Attachments lists what an e-mail carried; their content is not kept.
	Attachments []Attachment
	// MessageID identifies an e-mail (its Message-ID, or a digest of it
	// when it has none), so that reading it twice makes one signal.
	MessageID string
	// SourceNet is the network a form was sent from (see ThrottleNet),
	// kept to throttle floods; "" for other sources.
	SourceNet  string
	ReceivedAt time.Time

	State          SignalState
	AcknowledgedBy string // actor label
	AcknowledgedAt *time.Time
	ClosedBy       string // who linked or dismissed it
	ClosedAt       *time.Time
	Reason         string // why it was dismissed
	// SecurityIncidentID is the security incident a linked signal belongs to.
	SecurityIncidentID *int64
}

// Attachment is what is noted of an attachment of an e-mail.
type Attachment struct {
	Name string `json:"name"`
	Type string `json:"type"`
	Size int64  `json:"size"` // decoded bytes
}

// receiptAlphabet is Crockford's base 32: no I, L, O or U to misread.
const receiptAlphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"

// NewReceipt returns a receipt number such as "K7QM-2XD9": 40 random bits,
// so that receipts say nothing about how many reports arrive.
func NewReceipt() string {
	var b [8]byte
	_, _ = rand.Read(b[:]) // never fails (crypto/rand)
	out := make([]byte, 0, 9)
	for i, c := range b {
		if i == 4 {
			out = append(out, '-')
		}
		out = append(out, receiptAlphabet[c&31])
	}
	return string(out)
}

// Validate checks and tidies a new signal's reported fields: the subject
// is one line, the body not empty, nothing over its limit, no control
// characters other than tab and line ends.
func (s *Signal) Validate() error {
	if !slices.Contains(SignalSources, s.Source) {
		return Errorf(EINVALID, "unknown signal source %q: allowed are form, api, email, check", s.Source).WithKey("signals.source_unknown", string(s.Source))
	}
	s.Subject = strings.Join(strings.Fields(s.Subject), " ")
	s.Contact = strings.TrimSpace(s.Contact)
	for _, f := range []struct{ name, v string }{{"subject", s.Subject}, {"body", s.Body}, {"contact", s.Contact}} {
		if !utf8.ValidString(f.v) {
			return Errorf(EINVALID, "the %s is not valid UTF-8", f.name).WithKey("signals.not_text")
		}
		if i := strings.IndexFunc(f.v, isControlChar); i >= 0 {
			return Errorf(EINVALID, "the %s contains the control character %U", f.name, []rune(f.v[i:])[0]).WithKey("signals.not_text")
		}
	}
	if s.Subject == "" {
		return Errorf(EINVALID, "a report needs a subject").WithKey("signals.subject_empty")
	}
	if utf8.RuneCountInString(s.Subject) > MaxSignalSubject {
		return Errorf(EINVALID, "the subject is over %d characters", MaxSignalSubject).WithKey("signals.subject_long", MaxSignalSubject)
	}
	if strings.TrimSpace(s.Body) == "" {
		return Errorf(EINVALID, "a report needs a description").WithKey("signals.body_empty")
	}
	if len(s.Body) > MaxSignalBody {
		return Errorf(EINVALID, "the description is %d bytes, over the limit of %d (64 KiB)", len(s.Body), MaxSignalBody).
			WithKey("signals.body_long", len(s.Body)/1024+1, MaxSignalBody/1024)
	}
	if utf8.RuneCountInString(s.Contact) > MaxSignalContact || strings.ContainsAny(s.Contact, "\r\n") {
		return Errorf(EINVALID, "the contact address is one line of at most %d characters", MaxSignalContact).WithKey("signals.contact_invalid", MaxSignalContact)
	}
	return nil
}

// ValidateReason checks the reason a signal is dismissed for.
func ValidateReason(reason string) (string, error) {
	reason = strings.TrimSpace(reason)
	if reason == "" {
		return "", Errorf(EINVALID, "say why the signal is dismissed").WithKey("signals.reason_empty")
	}
	if utf8.RuneCountInString(reason) > MaxSignalReason || strings.IndexFunc(reason, isControlChar) >= 0 {
		return "", Errorf(EINVALID, "the reason is text of at most %d characters", MaxSignalReason).WithKey("signals.reason_long", MaxSignalReason)
	}
	return reason, nil
}

// isControlChar reports the control characters text fields may not hold:
// all but tab, line feed and carriage return.
func isControlChar(r rune) bool {
	return unicode.IsControl(r) && r != '\t' && r != '\n' && r != '\r'
}

// SignalFilter selects signals; zero fields select all.
type SignalFilter struct {
	State  SignalState // "": every state
	Limit  int
	Offset int
}

// SignalService stores signals. Every mutation writes its audit entry in
// its transaction; the audit entry never holds the reporter's contact.
type SignalService interface {
	// CreateSignal validates s and stores it as open with a new receipt;
	// ReceivedAt is now unless set earlier. A signal whose MessageID is
	// already stored is not stored twice: ECONFLICT.
	CreateSignal(ctx context.Context, a Actor, s *Signal) error
	// Signal returns one signal; ENOTFOUND if there is none.
	Signal(ctx context.Context, id int64) (*Signal, error)
	// Signals returns matching signals, open first, then newest first.
	Signals(ctx context.Context, f SignalFilter) ([]*Signal, error)
	// CountSignalsFrom counts the signals received from the network of ip
	// since since, and returns when the newest arrived.
	CountSignalsFrom(ctx context.Context, ip string, since time.Time) (n int, newest time.Time, err error)
	// AcknowledgeSignal marks an open signal as seen by the actor.
	AcknowledgeSignal(ctx context.Context, a Actor, id int64) error
	// DismissSignal closes a signal that is not a problem, with the reason.
	DismissSignal(ctx context.Context, a Actor, id int64, reason string) error
	// LinkSignal closes a signal as part of security incident incidentID,
	// with a "signal" entry on the incident's timeline.
	LinkSignal(ctx context.Context, a Actor, id, incidentID int64) error
	// OpenSecurityIncident creates inc from signal id and links the signal
	// to it in one transaction: the title defaults to the signal's subject,
	// the "reported" moment is the signal's receipt, and the "created"
	// entry names the receipt (Subject). ECONFLICT naming the state for a
	// signal already linked or dismissed.
	OpenSecurityIncident(ctx context.Context, a Actor, id int64, inc *SecurityIncident) error
}
