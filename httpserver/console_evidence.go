package httpserver

import (
	"net/http"
	"strconv"

	"github.com/tocsin-org/tocsin"
	"github.com/tocsin-org/tocsin/i18n"
)

// The room's evidence section and each item's page with its chain of
// custody. Viewers see the list and the details (their view is recorded);
// responders add, download, verify and withdraw.

// evidenceRow is an item as the room and its page show it.
type evidenceRow struct {
	*tocsin.Evidence
	Collected string
	Added     string
	Withdrew  string
	SizeText  string
}

func (s *Server) evidenceRow(lang string, e *tocsin.Evidence) evidenceRow {
	row := evidenceRow{Evidence: e, Collected: s.fmtTime(e.CollectedAt), Added: s.fmtTime(e.AddedAt)}
	if e.WithdrawnAt != nil {
		row.Withdrew = s.fmtTime(*e.WithdrawnAt)
	}
	if e.Size > 0 || e.Kind == tocsin.EvidenceFile {
		row.SizeText = i18n.T(lang, "signals.bytes", e.Size)
	}
	return row
}

// addRoomEvidence puts the incident's evidence and the form's limit in
// the room's data.
func (s *Server) addRoomEvidence(r *http.Request, id int64, data map[string]any) error {
	list, err := s.store.EvidenceList(r.Context(), id)
	if err != nil {
		return err
	}
	rows := make([]evidenceRow, len(list))
	for i, e := range list {
		rows[i] = s.evidenceRow(state(r).lang, e)
	}
	data["Evidence"] = rows
	data["EvidenceMaxMiB"] = (s.evidenceMax() + (1 << 20) - 1) >> 20
	return nil
}

func (s *Server) addEvidenceForm(r *http.Request, a tocsin.Actor, id int64) error {
	in, err := s.evidenceInputFromForm(r)
	if err != nil {
		return err
	}
	_, err = s.addEvidence(r.Context(), a, id, in)
	return err
}

// evidencePage shows one item and its custody log, recording the view
// first so that the log shown includes it.
func (s *Server) evidencePage(w http.ResponseWriter, r *http.Request) error {
	incidentID, id, err := evidencePath(r)
	if err != nil {
		return err
	}
	if err := s.store.RecordCustody(r.Context(), state(r).actor(), incidentID, id, tocsin.CustodyViewed, ""); err != nil {
		return err
	}
	return s.renderEvidence(w, r, incidentID, id, http.StatusOK, "", "")
}

func (s *Server) renderEvidence(w http.ResponseWriter, r *http.Request, incidentID, id int64, status int, flash, errMsg string) error {
	st := state(r)
	inc, err := s.store.SecurityIncident(r.Context(), incidentID)
	if err != nil {
		return err
	}
	e, log, err := s.store.EvidenceItem(r.Context(), incidentID, id)
	if err != nil {
		return err
	}
	type custodyRow struct {
		*tocsin.CustodyEvent
		When, Action string
	}
	rows := make([]custodyRow, len(log))
	for i, ev := range log {
		rows[i] = custodyRow{ev, s.fmtTime(ev.At), i18n.T(st.lang, "evidence.custody."+string(ev.Action))}
	}
	data := map[string]any{
		"Incident": inc,
		"Item":     s.evidenceRow(st.lang, e),
		"Custody":  rows,
		"CanWork":  st.user.Roles.Allows(tocsin.RoleResponder),
		"Flash":    flash,
		"Error":    errMsg,
	}
	lr := r.Clone(r.Context())
	lr.URL.Path = "/console/security/" + strconv.FormatInt(incidentID, 10)
	s.render(w, lr, status, "security_evidence", data)
	return nil
}

func (s *Server) verifyEvidenceForm(w http.ResponseWriter, r *http.Request) error {
	incidentID, id, err := evidencePath(r)
	if err != nil {
		return err
	}
	lang := state(r).lang
	result, err := s.verifyEvidence(r.Context(), state(r).actor(), incidentID, id)
	if err != nil {
		if tocsin.ErrorCode(err) != tocsin.EINVALID {
			return err
		}
		return s.renderEvidence(w, r, incidentID, id, http.StatusBadRequest, "", s.localized(r, err))
	}
	if result != tocsin.VerifyMatch {
		return s.renderEvidence(w, r, incidentID, id, http.StatusOK, "", i18n.T(lang, "evidence.verify_mismatch", result))
	}
	return s.renderEvidence(w, r, incidentID, id, http.StatusOK, i18n.T(lang, "evidence.verify_match"), "")
}

func (s *Server) withdrawEvidenceForm(w http.ResponseWriter, r *http.Request) error {
	incidentID, id, err := evidencePath(r)
	if err != nil {
		return err
	}
	if err := s.store.WithdrawEvidence(r.Context(), state(r).actor(), incidentID, id, r.PostForm.Get("reason")); err != nil {
		code := tocsin.ErrorCode(err)
		if code != tocsin.EINVALID && code != tocsin.ECONFLICT {
			return err
		}
		return s.renderEvidence(w, r, incidentID, id, statusOf(code), "", s.localized(r, err))
	}
	return s.renderEvidence(w, r, incidentID, id, http.StatusOK, i18n.T(state(r).lang, "evidence.withdrawn_flash"), "")
}
