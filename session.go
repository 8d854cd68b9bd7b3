package tocsin

import (
	"context"
	"net/netip"
	"time"
)

// Session is a signed-in browser. The cookie holds a random value; only its
// SHA-256 (ID) is stored, so a database leak gives no usable session.
type Session struct {
	ID         string // hex SHA-256 of the cookie value
	UserID     int64
	CreatedAt  time.Time
	LastSeenAt time.Time
	ExpiresAt  time.Time // absolute expiry; idle expiry is LastSeenAt + idle timeout
	IP         string
	UserAgent  string
	// Verified is false between the password and the second factor (or the
	// mandatory enrolment); such a session opens only the 2FA pages.
	Verified bool
}

// SignIn is one sign-in attempt, kept for throttling, new-device alerts and
// the "previous sign-in" line shown after signing in.
type SignIn struct {
	ID        int64
	UserID    int64  // 0 when the e-mail matched no account
	Email     string // as typed, lower-cased
	At        time.Time
	IP        string
	UserAgent string
	Device    string // hex SHA-256 of the device cookie, "" if none
	Factor    string // FactorPassword or FactorTOTP: which step was attempted
	Success   bool
}

// Sign-in steps. The second-factor step is throttled on its own failures
// only, so that password guessers cannot keep an owner out of it.
const (
	FactorPassword = "password"
	FactorTOTP     = "totp"
)

// SignInFilter selects sign-in attempts for counting.
type SignInFilter struct {
	UserID  int64  // 0: any
	Email   string // the address as typed, lower-cased; "": any
	IP      string // same network as this address (see ThrottleNet); "": any
	Device  string // "": any
	Factor  string // "": any
	Success *bool
	Since   time.Time
}

// SessionService stores sessions and sign-in history.
type SessionService interface {
	// CreateSession stores s, records the successful sign-in, and enqueues
	// msgs (such as a new-device alert) in the same transaction.
	CreateSession(ctx context.Context, a Actor, s *Session, in *SignIn, msgs []*Message) error
	Session(ctx context.Context, id string) (*Session, error)
	// TouchSession moves LastSeenAt forward (not audited: it is not a change
	// a person makes).
	TouchSession(ctx context.Context, id string, at time.Time) error
	// VerifySession marks a session as past its second factor under a new
	// ID (the cookie from before the second factor stops working: no
	// session fixation) and records the successful sign-in in.
	VerifySession(ctx context.Context, a Actor, id, newID string, in *SignIn) error
	DeleteSession(ctx context.Context, a Actor, id string) error
	// DeleteUserSessions signs a user out everywhere except keepID ("" for all).
	DeleteUserSessions(ctx context.Context, a Actor, userID int64, keepID string) error
	UserSessions(ctx context.Context, userID int64) ([]*Session, error)
	DeleteExpiredSessions(ctx context.Context, idleBefore, now time.Time) (int, error)

	// RecordFailedSignIn stores a failed attempt and enqueues msgs with it.
	RecordFailedSignIn(ctx context.Context, in *SignIn, msgs []*Message) error
	CountSignIns(ctx context.Context, f SignInFilter) (int, error)
	// LastSignIns returns the newest successful sign-ins of a user, newest first.
	LastSignIns(ctx context.Context, userID int64, limit int) ([]*SignIn, error)
	// PruneSignIns deletes sign-in attempts older than before.
	PruneSignIns(ctx context.Context, before time.Time) (int, error)
}

// ThrottleNet is the network an address is counted in for throttling: the
// address itself for IPv4, its /64 for IPv6, where one host commonly holds
// a whole /64 and could otherwise change address at every attempt.
func ThrottleNet(ip string) string {
	a, err := netip.ParseAddr(ip)
	if err != nil {
		return ip
	}
	a = a.Unmap()
	if a.Is4() {
		return a.String()
	}
	p, err := a.Prefix(64)
	if err != nil {
		return ip
	}
	return p.String()
}
