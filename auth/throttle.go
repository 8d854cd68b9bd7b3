package auth

import "time"

// Backoff is an exponential delay after failed sign-ins: none for the first
// Free failures, then Base, 2·Base, 4·Base… up to Max. It is a pure
// schedule; the server counts the failures.
//
// The policy the server applies, on every password or second-factor
// failure, is the longest delay of three counters, each counting failures
// in the last hour:
//
//   - per account and IP address (AccountIPBackoff): one source guessing
//     one account. It applies even on a known device.
//   - per IP address (IPBackoff): one source spraying many accounts. Free
//     is higher, since an office or a NAT shares one address.
//   - per account, from any address (AccountBackoff): a botnet guessing
//     one account from many addresses. Sign-ins from a device that
//     signed in to this account before (the known-device cookie) are
//     exempt, so an attacker cannot lock the owner out.
//
// A throttled attempt is refused with ETOOMANY and the time to wait, before
// the password is even hashed. The delay is capped and always ends: there
// is no permanent lockout an attacker could trigger against a victim. A
// throttled attempt is not counted as a failure, so waiting always works.
type Backoff struct {
	Free int           // failures allowed without delay
	Base time.Duration // delay after failure Free+1
	Max  time.Duration // the longest delay; 0 means no cap
}

// Default back-offs. With Base 1 s and Max 15 min, the delay reaches its
// cap after 11 delayed failures; then an attacker gets 4 guesses an hour
// per counter, about 100 a day, while a person who mistypes a few times
// waits seconds.
var (
	AccountIPBackoff = Backoff{Free: 5, Base: time.Second, Max: 15 * time.Minute}
	IPBackoff        = Backoff{Free: 10, Base: time.Second, Max: 15 * time.Minute}
	AccountBackoff   = Backoff{Free: 5, Base: time.Second, Max: 15 * time.Minute}
)

// ReportBackoff throttles the public report form per source network,
// counting the reports of the last hour: a few in a row pass (a reporter
// may send several findings), then each waits a minute, two, four… up to
// an hour, so that a flood cannot bury real reports in the triage queue.
var ReportBackoff = Backoff{Free: 5, Base: time.Minute, Max: time.Hour}

// Delay returns the delay after failures consecutive failures: 0 while
// failures ≤ Free, then Base·2^(failures−Free−1), capped at Max.
func (b Backoff) Delay(failures int) time.Duration {
	n := failures - b.Free
	if n <= 0 || b.Base <= 0 {
		return 0
	}
	d := b.Base
	for i := 1; i < n; i++ {
		if d > (1<<62)/2 || (b.Max > 0 && d >= b.Max) {
			break // doubling again would overflow or pass the cap anyway
		}
		d *= 2
	}
	if b.Max > 0 && d > b.Max {
		d = b.Max
	}
	return d
}

// Wait returns how long to wait at now before the next attempt is allowed,
// after failures failures the last of which was at last; 0 when it is
// allowed now.
func (b Backoff) Wait(failures int, last, now time.Time) time.Duration {
	return max(last.Add(b.Delay(failures)).Sub(now), 0)
}
