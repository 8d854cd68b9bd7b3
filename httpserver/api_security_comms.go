package httpserver

import (
	"net/http"
	"time"

	"github.com/tocsin-org/tocsin"
)

// The public side of a security incident over the API: its public
// incident, public updates and post-mortem draft. A token holds no
// incident role: linking and publishing need the communicator role (with
// which it could update the public incident directly anyway), drafting the
// post-mortem the responder role, as writing one does.

// publicLinkJSON is a security incident's public incident and its cadence.
type publicLinkJSON struct {
	SecurityIncidentID int64      `json:"security_incident_id"`
	IncidentID         int64      `json:"incident_id"`
	Title              string     `json:"title"`
	Status             string     `json:"status"`
	Published          bool       `json:"published"`
	CadenceMinutes     int        `json:"cadence_minutes"`
	LastPublicUpdateAt *time.Time `json:"last_public_update_at"`
	NextDueAt          *time.Time `json:"next_due_at"`
	Reminded           bool       `json:"reminded"`
	LinkedBy           string     `json:"linked_by"`
	LinkedAt           time.Time  `json:"linked_at"`
}

func (s *Server) toPublicLinkJSON(l *tocsin.PublicLink) publicLinkJSON {
	out := publicLinkJSON{
		SecurityIncidentID: l.SecurityID, IncidentID: l.IncidentID, Title: l.Title, Status: string(l.Status), Published: l.Published,
		CadenceMinutes: int(l.Every(s.cfg.Comms.Cadence) / time.Minute), Reminded: l.Reminded(), LinkedBy: l.LinkedBy, LinkedAt: l.LinkedAt,
	}
	if !l.LastPublic.IsZero() {
		at := l.LastPublic
		out.LastPublicUpdateAt = &at
	}
	if due, ok := l.Due(s.cfg.Comms.Cadence); ok {
		out.NextDueAt = &due
	}
	return out
}

func (s *Server) writePublicLink(w http.ResponseWriter, r *http.Request, status int, id int64) error {
	l, err := s.store.PublicLink(r.Context(), id)
	if err != nil {
		return err
	}
	return writeJSON(w, status, s.toPublicLinkJSON(l))
}

func (s *Server) apiPublicLink(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	return s.writePublicLink(w, r, http.StatusOK, id)
}

// publicIncidentRequest links an existing public incident (incident_id)
// or creates one (the fields of POST /api/v1/incidents).
type publicIncidentRequest struct {
	IncidentID int64 `json:"incident_id"`
	incidentRequest
}

func (s *Server) apiLinkPublicIncident(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	if err := s.checkComms(r, id, (*tocsin.SecurityIncident).CheckLinkPublic); err != nil {
		return err
	}
	var req publicIncidentRequest
	if err := decodeJSON(w, r, &req); err != nil {
		return err
	}
	a := state(r).actor()
	if req.IncidentID != 0 {
		err := s.store.LinkPublicIncident(r.Context(), a, id, req.IncidentID)
		if tocsin.ErrorCode(err) == tocsin.ENOTFOUND {
			return tocsin.Errorf(tocsin.EINVALID, "there is no public incident #%d", req.IncidentID).WithKey("comms.incident_unknown", req.IncidentID)
		}
		if err != nil {
			return err
		}
		return s.writePublicLink(w, r, http.StatusOK, id)
	}
	inc := req.settingsRequest.incident(0)
	if req.Publish {
		at := s.now() // the store dates it by its clock
		inc.PublishedAt = &at
	}
	first := updateRequest{Status: req.Status, Body: req.Body, DisplayAt: req.DisplayAt}.update()
	if err := s.store.CreatePublicIncident(r.Context(), a, id, inc, first, nil); err != nil {
		return err
	}
	s.refreshAfter(r.Context())
	return s.writePublicLink(w, r, http.StatusOK, id)
}

func (s *Server) apiPublishPublicUpdate(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	if err := s.checkComms(r, id, (*tocsin.SecurityIncident).CheckSpeak); err != nil {
		return err
	}
	var req updateRequest
	if err := decodeJSON(w, r, &req); err != nil {
		return err
	}
	if err := s.store.PublishSecurityUpdate(r.Context(), state(r).actor(), id, req.update(), nil); err != nil {
		return err
	}
	s.refreshAfter(r.Context())
	return s.writePublicLink(w, r, http.StatusOK, id)
}

func (s *Server) apiDraftPostmortem(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	pub, err := assemblePostmortem(s, r, state(r).actor(), id)
	if err != nil {
		return err
	}
	p, err := s.store.Postmortem(r.Context(), pub)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, toPostmortemJSON(p))
}
