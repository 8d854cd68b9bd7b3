package httpserver

import (
	"net/http"

	"github.com/tocsin-org/tocsin"
	"github.com/tocsin-org/tocsin/auth"
	"github.com/tocsin-org/tocsin/i18n"
)

// The public report form: anyone may report a suspected security problem
// without an account. It is a console page (CSRF-protected, since a
// forged report from a visitor's browser would be a flood under their
// name), throttled per source network, and a refused report comes back
// with everything typed and the reason.

// reportFormBytes bounds the form, above the description's own limit
// (tocsin.MaxSignalBody), so that a description a little too long is
// shown again with the message rather than lost to a bare refusal.
const reportFormBytes = 4 * tocsin.MaxSignalBody

// reportActor is who files a report from the form, for the audit log.
func reportActor(ip string) tocsin.Actor { return tocsin.Actor{Label: "public report form", IP: ip} }

// reportFields is the form as typed.
type reportFields struct{ Subject, Body, Contact string }

func (s *Server) reportForm(w http.ResponseWriter, r *http.Request) error {
	s.renderReport(w, r, http.StatusOK, "", reportFields{})
	return nil
}

func (s *Server) renderReport(w http.ResponseWriter, r *http.Request, status int, errMsg string, f reportFields) {
	s.render(w, r, status, "report", map[string]any{
		"Form":       f,
		"Error":      errMsg,
		"Email":      s.cfg.Intake.Email,
		"MaxBodyKiB": tocsin.MaxSignalBody / 1024,
	})
}

// report files the form as a signal and shows its receipt number.
func (s *Server) report(w http.ResponseWriter, r *http.Request) error {
	st := state(r)
	f := reportFields{Subject: r.PostForm.Get("subject"), Body: r.PostForm.Get("body"), Contact: r.PostForm.Get("contact")}
	n, newest, err := s.store.CountSignalsFrom(r.Context(), st.ip, s.now().Add(-throttleWindow))
	if err != nil {
		return err
	}
	if wait := auth.ReportBackoff.Wait(n, newest, s.now()); wait > 0 {
		key := "report.throttled"
		if s.cfg.Intake.Email != "" {
			key = "report.throttled_email"
		}
		s.renderReport(w, r, http.StatusTooManyRequests, i18n.T(st.lang, key, minutes(wait), s.cfg.Intake.Email), f)
		return nil
	}
	// Dated by the clock the throttle reads (the store keeps it unless it
	// lies ahead of its own).
	sig := &tocsin.Signal{Source: tocsin.SourceForm, Subject: f.Subject, Body: f.Body, Contact: f.Contact,
		SourceNet: tocsin.ThrottleNet(st.ip), ReceivedAt: s.now()}
	if err := s.store.CreateSignal(r.Context(), reportActor(st.ip), sig); err != nil {
		if tocsin.ErrorCode(err) != tocsin.EINVALID {
			return err
		}
		s.renderReport(w, r, http.StatusBadRequest, s.localized(r, err), f)
		return nil
	}
	s.kick() // its page, if someone is on call
	s.log.Info("report received", "signal", sig.ID, "source", sig.Source)
	s.render(w, r, http.StatusOK, "reported", map[string]any{"Receipt": sig.Receipt, "Contact": sig.Contact != ""})
	return nil
}
