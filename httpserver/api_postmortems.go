package httpserver

import (
	"net/http"
	"time"

	"github.com/tocsin-org/tocsin"
)

// postmortemJSON is a post-mortem as the staff API shows it, drafts
// included, with who wrote it and where it stands.
type postmortemJSON struct {
	IncidentID   int64               `json:"incident_id"`
	Status       string              `json:"status"`
	Revision     int                 `json:"revision"`
	Summary      string              `json:"summary"`
	Timeline     []timelineEntryJSON `json:"timeline"`
	Impact       string              `json:"impact"`
	RootCause    string              `json:"root_cause"`
	WentWell     string              `json:"went_well"`
	Changes      string              `json:"changes"`
	Contributors []string            `json:"contributors"`
	ApprovedBy   string              `json:"approved_by"`
	ApprovedAt   *time.Time          `json:"approved_at"`
	PublishedBy  string              `json:"published_by"`
	PublishedAt  *time.Time          `json:"published_at"`
	// PublishedSHA256 is the digest of the text as published (Postmortem.Digest).
	PublishedSHA256 string    `json:"published_sha256"`
	CreatedAt       time.Time `json:"created_at"`
	UpdatedAt       time.Time `json:"updated_at"`
}

type timelineEntryJSON struct {
	At   time.Time `json:"at"`
	Text string    `json:"text"`
}

func toPostmortemJSON(p *tocsin.Postmortem) postmortemJSON {
	out := postmortemJSON{
		IncidentID: p.IncidentID, Status: string(p.Status), Revision: p.Revision, Summary: p.Summary,
		Timeline: []timelineEntryJSON{}, Impact: p.Impact, RootCause: p.RootCause, WentWell: p.WentWell, Changes: p.Changes,
		Contributors: []string{}, ApprovedBy: p.ApprovedBy, ApprovedAt: p.ApprovedAt, PublishedBy: p.PublishedBy,
		PublishedAt: p.PublishedAt, PublishedSHA256: p.PublishedSHA256, CreatedAt: p.CreatedAt, UpdatedAt: p.UpdatedAt,
	}
	for _, e := range p.Timeline {
		out.Timeline = append(out.Timeline, timelineEntryJSON{e.At, e.Text})
	}
	for _, c := range p.Contributors {
		out.Contributors = append(out.Contributors, c.Label)
	}
	return out
}

// postmortemRequest is the whole text of a post-mortem; fields left out
// are emptied.
type postmortemRequest struct {
	Summary   string              `json:"summary"`
	Timeline  []timelineEntryJSON `json:"timeline"`
	Impact    string              `json:"impact"`
	RootCause string              `json:"root_cause"`
	WentWell  string              `json:"went_well"`
	Changes   string              `json:"changes"`
}

// approveRequest names the version the approver read.
type approveRequest struct {
	Revision int `json:"revision"`
}

// writePostmortem answers with incident id's post-mortem as stored.
func (s *Server) writePostmortem(w http.ResponseWriter, r *http.Request, id int64) error {
	p, err := s.store.Postmortem(r.Context(), id)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, toPostmortemJSON(p))
}

func (s *Server) apiPostmortem(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	return s.writePostmortem(w, r, id)
}

func (s *Server) apiSavePostmortem(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	var req postmortemRequest
	if err := decodeJSON(w, r, &req); err != nil {
		return err
	}
	p := &tocsin.Postmortem{IncidentID: id, Summary: req.Summary, Impact: req.Impact, RootCause: req.RootCause,
		WentWell: req.WentWell, Changes: req.Changes}
	for _, e := range req.Timeline {
		p.Timeline = append(p.Timeline, tocsin.TimelineEntry{At: e.At, Text: e.Text})
	}
	if err := s.store.SavePostmortem(r.Context(), state(r).actor(), p); err != nil {
		return err
	}
	s.refreshAfter(r.Context())
	return writeJSON(w, http.StatusOK, toPostmortemJSON(p))
}

func (s *Server) apiApprovePostmortem(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	var req approveRequest
	if err := decodeJSON(w, r, &req); err != nil {
		return err
	}
	if req.Revision < 1 {
		return tocsin.Errorf(tocsin.EINVALID, "give the revision you read and approve, as GET …/postmortem shows it")
	}
	st := state(r)
	if err := s.store.ApprovePostmortem(r.Context(), st.actor(), st.token.Roles, id, req.Revision); err != nil {
		return err
	}
	s.refreshAfter(r.Context())
	return s.writePostmortem(w, r, id)
}

func (s *Server) apiPublishPostmortem(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	if err := s.store.PublishPostmortem(r.Context(), state(r).actor(), id, nil); err != nil {
		return err
	}
	s.refreshAfter(r.Context())
	return s.writePostmortem(w, r, id)
}
