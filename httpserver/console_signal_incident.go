package httpserver

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/tocsin-org/tocsin"
	"github.com/tocsin-org/tocsin/i18n"
)

// From a signal to a security incident: a responder opens a new incident
// from it (title defaulting to its subject, "reported" at its receipt) or
// links it to an open one. Either is one store transaction.

// addSignalChoices puts what the signal page's incident forms offer in data.
func (s *Server) addSignalChoices(r *http.Request, data map[string]any) error {
	open := true
	list, err := s.store.SecurityIncidents(r.Context(), tocsin.SecurityIncidentFilter{Open: &open, Limit: 200})
	if err != nil {
		return err
	}
	data["OpenIncidents"] = list
	s.addSecurityChoices(r, data)
	return nil
}

func (s *Server) openIncidentFromSignal(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	st := state(r)
	f := r.PostForm
	inc := &tocsin.SecurityIncident{Title: f.Get("title"), Summary: f.Get("summary"),
		Severity: tocsin.Severity(f.Get("severity")), Kind: tocsin.SecurityKind(f.Get("kind"))}
	if err := s.store.OpenSecurityIncident(r.Context(), st.actor(), id, inc); err != nil {
		code := tocsin.ErrorCode(err)
		if code != tocsin.EINVALID && code != tocsin.ECONFLICT {
			return err
		}
		return s.renderSignal(w, r, id, statusOf(code), signalView{Error: s.localized(r, err)})
	}
	return s.renderRoom(w, r, inc.ID, http.StatusOK, roomView{Flash: i18n.T(st.lang, "security.created", inc.Title)})
}

func (s *Server) linkSignalForm(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	st := state(r)
	incidentID, _ := strconv.ParseInt(strings.TrimPrefix(strings.TrimSpace(r.PostForm.Get("incident")), "#"), 10, 64)
	if err := s.store.LinkSignal(r.Context(), st.actor(), id, incidentID); err != nil {
		code := tocsin.ErrorCode(err)
		if code != tocsin.EINVALID && code != tocsin.ECONFLICT {
			return err
		}
		return s.renderSignal(w, r, id, statusOf(code), signalView{Error: s.localized(r, err)})
	}
	return s.renderSignal(w, r, id, http.StatusOK, signalView{Flash: i18n.T(st.lang, "signals.linked_flash", incidentID)})
}
