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
	s.render(w, r, http.StatusOK, "signin", map[string]any{"Next": safeNext(r.URL.Query().Get("next"))})
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
	device := auth.HashToken(s.cookie(r, deviceCookie))
	if s.cookie(r, deviceCookie) == "" {
		device = ""
	}
	fail := func(status int, key string, args ...any) error {
		s.render(w, r, status, "signin", map[string]any{"Next": next, "Email": email, "Error": i18n.T(st.lang, key, args...)})
		return nil
	}

	if wait, err := s.throttled(r, tocsin.SignInFilter{IP: st.ip}, auth.IPBackoff); err != nil {
		return err
	} else if wait > 0 {
		return fail(http.StatusTooManyRequests, "signin.throttled", minutes(wait))
	}
	u, err := s.store.UserByEmail(ctx, email)
	if err != nil && tocsin.ErrorCode(err) != tocsin.ENOTFOUND {
		return err
	}
	if u != nil {
		if wait, err := s.signInWait(r, u, st.ip, device, ""); err != nil {
			return err
		} else if wait > 0 {
			return fail(http.StatusTooManyRequests, "signin.throttled", minutes(wait))
		}
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
			_ = s.store.SetPassword(ctx, tocsin.Actor{UserID: u.ID, Label: u.Email, IP: st.ip}, u.ID, h, u.MustChangePassword, nil)
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

// signInWait applies the per-account counters to a sign-in step (factor ""
// counts failures of every step): per account and IP always, per account
// from anywhere unless the browser is a device that signed in before.
func (s *Server) signInWait(r *http.Request, u *tocsin.User, ip, device, factor string) (time.Duration, error) {
	wait, err := s.throttled(r, tocsin.SignInFilter{UserID: u.ID, IP: ip, Factor: factor}, auth.AccountIPBackoff)
	if err != nil || wait > 0 || s.knownDevice(r, u.ID, device) {
		return wait, err
	}
	return s.throttled(r, tocsin.SignInFilter{UserID: u.ID, Factor: factor}, auth.AccountBackoff)
}

// knownDevice reports whether the browser's device cookie has signed in to
// this account before; such a browser skips the per-account back-off, so an
// attacker hammering an account cannot lock its owner out.
func (s *Server) knownDevice(r *http.Request, userID int64, device string) bool {
	if device == "" {
		return false
	}
	yes := true
	n, err := s.store.CountSignIns(r.Context(), tocsin.SignInFilter{UserID: userID, Device: device, Success: &yes})
	return err == nil && n > 0
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

// safeNext keeps redirects after sign-in on this site.
func safeNext(next string) string {
	if next == "" || !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.HasPrefix(next, "/\\") || strings.ContainsAny(next, "\r\n") {
		return "/console"
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
