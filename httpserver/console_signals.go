package httpserver

import (
	"net/http"
	"time"

	"github.com/tocsin-org/tocsin"
	"github.com/tocsin-org/tocsin/i18n"
)

// The console's triage queue: every role reads signals, open ones first;
// responders acknowledge or dismiss them. Everything a reporter typed is
// shown as text (html/template escapes it), never as markup.

// signalRow is one line of the queue.
type signalRow struct {
	*tocsin.Signal
	Received string
	Age      string
}

// age says how long ago t was, in the largest whole unit.
func age(lang string, d time.Duration) string {
	d = max(d, 0) // a clock a little behind the one that dated the signal
	switch {
	case d < time.Hour:
		return i18n.T(lang, "signals.age_minutes", int(d/time.Minute))
	case d < 48*time.Hour:
		return i18n.T(lang, "signals.age_hours", int(d/time.Hour))
	}
	return i18n.T(lang, "signals.age_days", int(d/(24*time.Hour)))
}

func (s *Server) signals(w http.ResponseWriter, r *http.Request) error {
	st := state(r)
	list, err := s.store.Signals(r.Context(), tocsin.SignalFilter{Limit: 500})
	if err != nil {
		return err
	}
	now := s.now()
	rows := make([]signalRow, len(list))
	for i, sig := range list {
		rows[i] = signalRow{sig, s.fmtTime(sig.ReceivedAt), age(st.lang, now.Sub(sig.ReceivedAt))}
	}
	s.render(w, r, http.StatusOK, "signals", map[string]any{"Signals": rows})
	return nil
}

// signalView is what the detail page shows besides the signal: a message,
// and the dismissal form's error and text.
type signalView struct {
	Flash, Error, Reason string
}

func (s *Server) signal(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	return s.renderSignal(w, r, id, http.StatusOK, signalView{})
}

func (s *Server) renderSignal(w http.ResponseWriter, r *http.Request, id int64, status int, v signalView) error {
	st := state(r)
	sig, err := s.store.Signal(r.Context(), id)
	if err != nil {
		return err
	}
	data := map[string]any{
		"Signal":   sig,
		"Received": s.fmtTime(sig.ReceivedAt),
		"Age":      age(st.lang, s.now().Sub(sig.ReceivedAt)),
		"CanAct":   st.user.Roles.Allows(tocsin.RoleResponder),
		"Flash":    v.Flash,
		"Error":    v.Error,
		"Reason":   v.Reason,
	}
	if data["CanAct"] == true && !sig.State.Closed() {
		if err := s.addSignalChoices(r, data); err != nil {
			return err
		}
	}
	if sig.AcknowledgedAt != nil {
		data["Acknowledged"] = s.fmtTime(*sig.AcknowledgedAt)
	}
	if sig.ClosedAt != nil {
		data["Closed"] = s.fmtTime(*sig.ClosedAt)
	}
	lr := r.Clone(r.Context())
	lr.URL.Path = "/console/signals"
	s.render(w, lr, status, "signal", data)
	return nil
}

func (s *Server) acknowledgeSignal(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	st := state(r)
	if err := s.store.AcknowledgeSignal(r.Context(), st.actor(), id); err != nil {
		if tocsin.ErrorCode(err) != tocsin.ECONFLICT {
			return err
		}
		return s.renderSignal(w, r, id, http.StatusConflict, signalView{Error: s.localized(r, err)})
	}
	return s.renderSignal(w, r, id, http.StatusOK, signalView{Flash: i18n.T(st.lang, "signals.acknowledged_flash")})
}

func (s *Server) dismissSignal(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	st := state(r)
	reason := r.PostForm.Get("reason")
	if err := s.store.DismissSignal(r.Context(), st.actor(), id, reason); err != nil {
		code := tocsin.ErrorCode(err)
		if code != tocsin.EINVALID && code != tocsin.ECONFLICT {
			return err
		}
		return s.renderSignal(w, r, id, statusOf(code), signalView{Error: s.localized(r, err), Reason: reason})
	}
	return s.renderSignal(w, r, id, http.StatusOK, signalView{Flash: i18n.T(st.lang, "signals.dismissed_flash")})
}
