package httpserver

import (
	"encoding/base64"
	"fmt"
	"html/template"
	"net/http"
	"strings"

	"github.com/tocsin-org/tocsin"
	"github.com/tocsin-org/tocsin/auth"
	"github.com/tocsin-org/tocsin/i18n"
)

func totpAAD(userID int64) []byte { return fmt.Appendf(nil, "totp:user:%d", userID) }

// challengeForm asks a signed-in browser for its TOTP or recovery code.
func (s *Server) challengeForm(w http.ResponseWriter, r *http.Request) error {
	st := state(r)
	if s.fullySignedIn(st) {
		http.Redirect(w, r, "/console", http.StatusSeeOther)
		return nil
	}
	if !st.user.TwoFactorEnabled() {
		http.Redirect(w, r, "/signin/2fa/enrol", http.StatusSeeOther)
		return nil
	}
	s.render(w, r, http.StatusOK, "challenge", map[string]any{"Next": safeNext(r.URL.Query().Get("next"))})
	return nil
}

// challenge checks a TOTP code (refusing one already used) or a recovery
// code; failures count toward the account's sign-in back-off.
func (s *Server) challenge(w http.ResponseWriter, r *http.Request) error {
	st := state(r)
	ctx := r.Context()
	u := st.user
	next := safeNext(r.PostForm.Get("next"))
	fail := func(status int, key string, args ...any) error {
		s.render(w, r, status, "challenge", map[string]any{"Next": next, "Error": i18n.T(st.lang, key, args...)})
		return nil
	}
	if !u.TwoFactorEnabled() {
		http.Redirect(w, r, "/signin/2fa/enrol", http.StatusSeeOther)
		return nil
	}
	// Only second-factor failures of this account count here, so password
	// guessers, who never reach this step, cannot keep its owner out; and no
	// device is exempt, since whoever holds the password reaches this step
	// from a device that has just passed the password. The source network
	// is throttled on every failure.
	if wait, err := s.throttledAny(r,
		throttle{tocsin.SignInFilter{UserID: u.ID, Factor: tocsin.FactorTOTP}, auth.AccountBackoff},
		throttle{tocsin.SignInFilter{IP: st.ip}, auth.IPBackoff},
	); err != nil {
		return err
	} else if wait > 0 {
		return fail(http.StatusTooManyRequests, "signin.throttled", minutes(wait))
	}
	a := st.actor()
	code := strings.TrimSpace(r.PostForm.Get("code"))
	ok := false
	if digits := strings.ReplaceAll(code, " ", ""); len(digits) == 6 {
		secret, err := s.box.Open(u.TOTPSecret, totpAAD(u.ID))
		if err != nil {
			return fmt.Errorf("open TOTP secret of user %d: %w", u.ID, err)
		}
		step, valid := auth.ValidateTOTP(secret, digits, s.now())
		if valid {
			if err := s.store.UseTOTPStep(ctx, u.ID, step); tocsin.ErrorCode(err) == tocsin.ECONFLICT {
				return fail(http.StatusBadRequest, "2fa.replayed")
			} else if err != nil {
				return err
			}
			ok = true
		}
	} else if code != "" {
		err := s.store.UseRecoveryCode(ctx, a, u.ID, auth.HashRecoveryCode(code))
		if err == nil {
			ok = true
		} else if tocsin.ErrorCode(err) != tocsin.ENOTFOUND {
			return err
		}
	}
	if !ok {
		attempt := &tocsin.SignIn{UserID: u.ID, Email: u.Email, At: s.now(), IP: st.ip, UserAgent: r.UserAgent(), Device: s.deviceHash(r), Factor: tocsin.FactorTOTP}
		if err := s.recordFailure(r, attempt, u); err != nil {
			return err
		}
		return fail(http.StatusUnauthorized, "2fa.wrong")
	}
	if err := s.verifySession(w, r); err != nil {
		return err
	}
	http.Redirect(w, r, next, http.StatusSeeOther)
	return nil
}

// verifySession marks the browser's session as past its second factor
// under a new ID and cookie, so that a session identifier planted or seen
// before the second factor is worth nothing after it.
func (s *Server) verifySession(w http.ResponseWriter, r *http.Request) error {
	st := state(r)
	value, hash, err := auth.NewToken(auth.PrefixSession)
	if err != nil {
		return err
	}
	in := &tocsin.SignIn{Email: st.user.Email, At: s.now(), IP: st.ip, UserAgent: r.UserAgent(), Device: s.deviceHash(r), Factor: tocsin.FactorTOTP}
	if err := s.store.VerifySession(r.Context(), st.actor(), st.session.ID, hash, in); err != nil {
		return err
	}
	s.setCookie(w, sessionCookie, value, st.session.ExpiresAt.Sub(s.now()))
	st.session.ID, st.session.Verified = hash, true
	return nil
}

// enrolForm shows a new TOTP secret as a QR code and as text. The secret
// travels in the form sealed with the server key and bound to the session,
// so nothing is stored until a code proves the authenticator has it.
func (s *Server) enrolForm(w http.ResponseWriter, r *http.Request) error {
	st := state(r)
	if st.user.TwoFactorEnabled() {
		http.Redirect(w, r, "/signin/2fa", http.StatusSeeOther)
		return nil
	}
	secret, err := auth.NewTOTPSecret()
	if err != nil {
		return err
	}
	return s.renderEnrol(w, r, http.StatusOK, secret, safeNext(r.URL.Query().Get("next")), "")
}

func (s *Server) renderEnrol(w http.ResponseWriter, r *http.Request, status int, secret []byte, next, errText string) error {
	st := state(r)
	uri := auth.TOTPURI(secret, "tocsin", st.user.Email)
	png, err := auth.TOTPQRCodePNG(uri)
	if err != nil {
		return err
	}
	sealed, err := s.box.Seal(secret, []byte("enrol:"+st.session.ID))
	if err != nil {
		return err
	}
	s.render(w, r, status, "enrol", map[string]any{
		"Next":   next,
		"Sealed": base64.RawURLEncoding.EncodeToString(sealed),
		"Secret": auth.TOTPSecretText(secret),
		// A data: URL is trusted here because the server made it from PNG bytes;
		// html/template would otherwise replace it with #ZgotmplZ.
		"QR":    template.URL("data:image/png;base64," + base64.StdEncoding.EncodeToString(png)),
		"Error": errText,
	})
	return nil
}

// enrol confirms a new TOTP secret with a code from the authenticator,
// stores it sealed, and shows the recovery codes once.
func (s *Server) enrol(w http.ResponseWriter, r *http.Request) error {
	st := state(r)
	u := st.user
	if u.TwoFactorEnabled() {
		return tocsin.Errorf(tocsin.ECONFLICT, "%s", i18n.T(st.lang, "2fa.already"))
	}
	next := safeNext(r.PostForm.Get("next"))
	sealed, err := base64.RawURLEncoding.DecodeString(r.PostForm.Get("sealed"))
	if err != nil {
		return tocsin.Errorf(tocsin.EINVALID, "%s", i18n.T(st.lang, "2fa.expired"))
	}
	secret, err := s.box.Open(sealed, []byte("enrol:"+st.session.ID))
	if err != nil {
		return tocsin.Errorf(tocsin.EINVALID, "%s", i18n.T(st.lang, "2fa.expired"))
	}
	step, ok := auth.ValidateTOTP(secret, strings.ReplaceAll(r.PostForm.Get("code"), " ", ""), s.now())
	if !ok {
		return s.renderEnrol(w, r, http.StatusBadRequest, secret, next, i18n.T(st.lang, "2fa.wrong"))
	}
	stored, err := s.box.Seal(secret, totpAAD(u.ID))
	if err != nil {
		return err
	}
	codes, hashes, err := auth.NewRecoveryCodes(10)
	if err != nil {
		return err
	}
	a := st.actor()
	if err := s.store.EnableTwoFactor(r.Context(), a, u.ID, stored, step, hashes); err != nil {
		return err
	}
	if err := s.verifySession(w, r); err != nil {
		return err
	}
	st.user.TOTPSecret = stored
	s.render(w, r, http.StatusOK, "recovery", map[string]any{"Codes": codes, "Next": next})
	return nil
}
