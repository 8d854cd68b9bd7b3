package httpserver

import (
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/tocsin-org/tocsin"
	"github.com/tocsin-org/tocsin/auth"
	"github.com/tocsin-org/tocsin/i18n"
)

// throttleWindow is how far back failed sign-ins count; after a quiet
// window everything is forgiven, so no lockout is ever permanent.
const throttleWindow = time.Hour

func (s *Server) signInForm(w http.ResponseWriter, r *http.Request) error {
	if st := state(r); s.fullySignedIn(st) {
		http.Redirect(w, r, "/console", http.StatusSeeOther)
		return nil
	}
	// Before the first account exists, say how to create the first admin.
	n, err := s.store.CountUsers(r.Context())
	if err != nil {
		return err
	}
	s.render(w, r, http.StatusOK, "signin", map[string]any{"Next": safeNext(r.URL.Query().Get("next")), "NoAccounts": n == 0})
	return nil
}

// signIn checks an e-mail and password. Throttled attempts are refused
// before any hash is computed; unknown accounts cost the same time as known
// ones; every failure is recorded and the account's owner is told.
func (s *Server) signIn(w http.ResponseWriter, r *http.Request) error {
	st := state(r)
	ctx := r.Context()
	email := strings.ToLower(strings.TrimSpace(r.PostForm.Get("email")))
	password := r.PostForm.Get("password")
	next := safeNext(r.PostForm.Get("next"))
	device := s.deviceHash(r)
	fail := func(status int, key string, args ...any) error {
		s.render(w, r, status, "signin", map[string]any{"Next": next, "Email": email, "Error": i18n.T(st.lang, key, args...)})
		return nil
	}

	u, err := s.store.UserByEmail(ctx, email)
	if err != nil && tocsin.ErrorCode(err) != tocsin.ENOTFOUND {
		return err
	}
	// Counted by the e-mail as typed, so that an address with no account is
	// throttled exactly like one with an account: throttling tells nothing.
	counters := []throttle{
		{tocsin.SignInFilter{IP: st.ip}, auth.IPBackoff},
		{tocsin.SignInFilter{Email: email, IP: st.ip}, auth.AccountIPBackoff},
	}
	if u == nil || !s.knownDevice(r, u, device) {
		counters = append(counters, throttle{tocsin.SignInFilter{Email: email}, auth.AccountBackoff})
	}
	if wait, err := s.throttledAny(r, counters...); err != nil {
		return err
	} else if wait > 0 {
		return fail(http.StatusTooManyRequests, "signin.throttled", minutes(wait))
	}

	attempt := &tocsin.SignIn{Email: email, At: s.now(), IP: st.ip, UserAgent: r.UserAgent(), Device: device}
	if u == nil || u.Disabled() || u.PasswordHash == "" {
		s.hasher.DummyVerify(ctx)
		if u != nil {
			attempt.UserID = u.ID
		}
		if err := s.recordFailure(r, attempt, nil); err != nil {
			return err
		}
		return fail(http.StatusUnauthorized, "signin.wrong")
	}
	attempt.UserID = u.ID
	ok, rehash, err := s.hasher.Verify(ctx, password, u.PasswordHash)
	if err != nil {
		return err
	}
	if !ok {
		if err := s.recordFailure(r, attempt, u); err != nil {
			return err
		}
		return fail(http.StatusUnauthorized, "signin.wrong")
	}
	if rehash {
		// Parameters were raised since this hash was made: upgrade it now,
		// while the password is at hand.
		if h, err := s.hasher.Hash(ctx, password); err == nil {
			_ = s.store.SetPassword(ctx, tocsin.Actor{UserID: u.ID, Label: u.Email, IP: st.ip}, u.ID, tocsin.PasswordChange{Hash: h, Temporary: u.MustChangePassword})
		}
	}
	return s.startSession(w, r, u, attempt, next)
}

// startSession creates a session for u after its password was checked,
// alerting its owner when the address or device is new.
func (s *Server) startSession(w http.ResponseWriter, r *http.Request, u *tocsin.User, attempt *tocsin.SignIn, next string) error {
	st := state(r)
	ctx := r.Context()
	if attempt.Device == "" {
		value, hash, err := auth.NewToken(auth.PrefixDevice)
		if err != nil {
			return err
		}
		s.setCookie(w, deviceCookie, value, 400*24*time.Hour)
		attempt.Device = hash
	}
	newIP, newDevice, err := s.newPlace(r, u.ID, attempt)
	if err != nil {
		return err
	}
	if old := s.cookie(r, sessionCookie); old != "" {
		_ = s.store.DeleteSession(ctx, st.actor(), auth.HashToken(old)) // no fixation
	}
	value, hash, err := auth.NewToken("tcs_")
	if err != nil {
		return err
	}
	now := s.now()
	sess := &tocsin.Session{
		ID: hash, UserID: u.ID, CreatedAt: now, LastSeenAt: now, ExpiresAt: now.Add(s.cfg.Session.MaxAge),
		IP: st.ip, UserAgent: truncate(r.UserAgent(), 300),
		Verified: !u.TwoFactorEnabled() && !u.Roles.NeedsTwoFactor(),
	}
	attempt.Success = true
	var msgs []*tocsin.Message
	if newIP || newDevice {
		msgs = append(msgs, s.signInAlert(u, attempt, hash, newIP, newDevice))
	}
	a := tocsin.Actor{UserID: u.ID, Label: u.Email, IP: st.ip}
	if err := s.store.CreateSession(ctx, a, sess, attempt, msgs); err != nil {
		return err
	}
	if len(msgs) > 0 {
		s.kick()
	}
	s.setCookie(w, sessionCookie, value, s.cfg.Session.MaxAge)
	switch {
	case sess.Verified:
		http.Redirect(w, r, next, http.StatusSeeOther)
	case u.TwoFactorEnabled():
		http.Redirect(w, r, "/signin/2fa?next="+url.QueryEscape(next), http.StatusSeeOther)
	default:
		http.Redirect(w, r, "/signin/2fa/enrol?next="+url.QueryEscape(next), http.StatusSeeOther)
	}
	return nil
}

// newPlace reports whether this sign-in comes from an address or a device
// that never signed in to this account before.
func (s *Server) newPlace(r *http.Request, userID int64, in *tocsin.SignIn) (newIP, newDevice bool, err error) {
	yes := true
	n, err := s.store.CountSignIns(r.Context(), tocsin.SignInFilter{UserID: userID, IP: in.IP, Success: &yes})
	if err != nil {
		return false, false, err
	}
	m, err := s.store.CountSignIns(r.Context(), tocsin.SignInFilter{UserID: userID, Device: in.Device, Success: &yes})
	if err != nil {
		return false, false, err
	}
	return n == 0, m == 0, nil
}

// knownDevice reports whether the browser's device cookie completed a
// sign-in to this account before, second factor included when the account
// has one. Such a browser skips the per-account back-off, so an attacker
// hammering an account cannot lock its owner out.
func (s *Server) knownDevice(r *http.Request, u *tocsin.User, device string) bool {
	if device == "" {
		return false
	}
	yes := true
	f := tocsin.SignInFilter{UserID: u.ID, Device: device, Success: &yes}
	if u.TwoFactorEnabled() {
		f.Factor = tocsin.FactorTOTP
	}
	n, err := s.store.CountSignIns(r.Context(), f)
	return err == nil && n > 0
}

// deviceHash is the hash of the browser's device cookie, "" without one.
func (s *Server) deviceHash(r *http.Request) string {
	if c := s.cookie(r, deviceCookie); c != "" {
		return auth.HashToken(c)
	}
	return ""
}

// throttle is one failure counter and the back-off it imposes.
type throttle struct {
	f tocsin.SignInFilter
	b auth.Backoff
}

// throttledAny returns the longest wait any of the counters imposes.
func (s *Server) throttledAny(r *http.Request, counters ...throttle) (time.Duration, error) {
	var longest time.Duration
	for _, c := range counters {
		wait, err := s.throttled(r, c.f, c.b)
		if err != nil {
			return 0, err
		}
		longest = max(longest, wait)
	}
	return longest, nil
}

// throttled returns how long the caller must still wait after the failures
// that match f: after n failures in the window, none may follow within
// backoff.Delay(n) of the last one.
func (s *Server) throttled(r *http.Request, f tocsin.SignInFilter, b auth.Backoff) (time.Duration, error) {
	no := false
	now := s.now()
	f.Success, f.Since = &no, now.Add(-throttleWindow)
	n, err := s.store.CountSignIns(r.Context(), f)
	if err != nil || n == 0 {
		return 0, err
	}
	delay := b.Delay(n)
	if delay == 0 {
		return 0, nil
	}
	f.Since = now.Add(-delay)
	recent, err := s.store.CountSignIns(r.Context(), f)
	if err != nil || recent == 0 {
		return 0, err
	}
	return delay, nil
}

// recordFailure stores a failed attempt. The account's owner gets one
// e-mail for the first failure in a window, not one per attempt.
func (s *Server) recordFailure(r *http.Request, in *tocsin.SignIn, u *tocsin.User) error {
	s.metrics.signInFailures.Add(1)
	var msgs []*tocsin.Message
	if u != nil {
		no := false
		n, err := s.store.CountSignIns(r.Context(), tocsin.SignInFilter{UserID: u.ID, Success: &no, Since: s.now().Add(-throttleWindow)})
		if err != nil {
			return err
		}
		if n == 0 {
			msgs = append(msgs, s.failureAlert(u, in))
		}
	}
	if err := s.store.RecordFailedSignIn(r.Context(), in, msgs); err != nil {
		return err
	}
	if len(msgs) > 0 {
		s.kick()
	}
	return nil
}

func (s *Server) signOut(w http.ResponseWriter, r *http.Request) error {
	st := state(r)
	if err := s.store.DeleteSession(r.Context(), st.actor(), st.session.ID); err != nil && tocsin.ErrorCode(err) != tocsin.ENOTFOUND {
		return err
	}
	s.clearCookie(w, sessionCookie)
	http.Redirect(w, r, "/signin", http.StatusSeeOther)
	return nil
}

// safeNext keeps redirects after sign-in on this site: a path, with no
// scheme, host, backslash or control character (browsers drop tabs and
// newlines, so "/\t/evil.example" would become "//evil.example").
func safeNext(next string) string {
	const home = "/console"
	if !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.ContainsFunc(next, func(r rune) bool {
		return r < 0x20 || r == 0x7f || r == '\\'
	}) {
		return home
	}
	u, err := url.Parse(next)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil || strings.HasPrefix(u.Path, "//") {
		return home
	}
	return next
}

func minutes(d time.Duration) int {
	return int((d + time.Minute - 1) / time.Minute)
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}
