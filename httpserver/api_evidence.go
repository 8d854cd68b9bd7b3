package httpserver

import (
	"net/http"
	"strconv"
	"time"

	"github.com/tocsin-org/tocsin"
)

// evidenceJSON is an item of evidence as the API shows it.
type evidenceJSON struct {
	ID              int64         `json:"id"`
	IncidentID      int64         `json:"security_incident_id"`
	Kind            string        `json:"kind"`
	Description     string        `json:"description"`
	SHA256          string        `json:"sha256"`
	Size            int64         `json:"size"`
	MediaType       string        `json:"media_type"`
	Filename        string        `json:"filename"`
	Location        string        `json:"location"`
	Source          string        `json:"source"`
	CollectedBy     string        `json:"collected_by"`
	CollectedAt     time.Time     `json:"collected_at"`
	AddedBy         string        `json:"added_by"`
	AddedAt         time.Time     `json:"added_at"`
	WithdrawnAt     *time.Time    `json:"withdrawn_at"`
	WithdrawnBy     string        `json:"withdrawn_by"`
	WithdrawnReason string        `json:"withdrawn_reason"`
	Custody         []custodyJSON `json:"custody,omitempty"`
}

type custodyJSON struct {
	Action string    `json:"action"`
	Actor  string    `json:"actor"`
	At     time.Time `json:"at"`
	Detail string    `json:"detail"`
}

func toEvidenceJSON(e *tocsin.Evidence, log []*tocsin.CustodyEvent) evidenceJSON {
	out := evidenceJSON{ID: e.ID, IncidentID: e.IncidentID, Kind: string(e.Kind), Description: e.Description, SHA256: e.SHA256, Size: e.Size,
		MediaType: e.MediaType, Filename: e.Filename, Location: e.Location, Source: e.Source, CollectedBy: e.CollectedBy,
		CollectedAt: e.CollectedAt, AddedBy: e.AddedBy, AddedAt: e.AddedAt, WithdrawnAt: e.WithdrawnAt, WithdrawnBy: e.WithdrawnBy,
		WithdrawnReason: e.WithdrawnReason}
	for _, ev := range log {
		out.Custody = append(out.Custody, custodyJSON{Action: string(ev.Action), Actor: ev.Actor, At: ev.At, Detail: ev.Detail})
	}
	return out
}

func (s *Server) apiEvidenceList(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	list, err := s.store.EvidenceList(r.Context(), id)
	if err != nil {
		return err
	}
	out := make([]evidenceJSON, len(list))
	for i, e := range list {
		out[i] = toEvidenceJSON(e, nil)
	}
	return writeJSON(w, http.StatusOK, map[string]any{"evidence": out})
}

// writeEvidence answers with one item and its custody log.
func (s *Server) writeEvidence(w http.ResponseWriter, r *http.Request, status int, incidentID, id int64) error {
	e, log, err := s.store.EvidenceItem(r.Context(), incidentID, id)
	if err != nil {
		return err
	}
	return writeJSON(w, status, toEvidenceJSON(e, log))
}

func (s *Server) apiEvidence(w http.ResponseWriter, r *http.Request) error {
	incidentID, id, err := evidencePath(r)
	if err != nil {
		return err
	}
	if err := s.store.RecordCustody(r.Context(), state(r).actor(), incidentID, id, tocsin.CustodyViewed, ""); err != nil {
		return err
	}
	return s.writeEvidence(w, r, http.StatusOK, incidentID, id)
}

// evidenceRequest is a reference as JSON, or the text fields of an upload.
type evidenceRequest struct {
	Description string     `json:"description"`
	SHA256      string     `json:"sha256"`
	Size        *int64     `json:"size"`
	Location    string     `json:"location"`
	Source      string     `json:"source"`
	CollectedBy string     `json:"collected_by"`
	CollectedAt *time.Time `json:"collected_at"`
}

// apiAddEvidence takes a reference as JSON or a file as multipart/form-data.
func (s *Server) apiAddEvidence(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	var in evidenceInput
	if boundary := multipartBoundary(r); boundary != "" {
		up, err := readUpload(http.MaxBytesReader(w, r.Body, s.evidenceFormBytes()), boundary, s.evidenceMax())
		if err != nil {
			return err
		}
		if up.Content == nil {
			return tocsin.Errorf(tocsin.EINVALID, "a multipart body carries the file in the field %q; send a reference as JSON", uploadFileField).WithKey("evidence.no_file")
		}
		f := up.Fields
		at, err := parseOptionalTime(f.Get("collected_at"))
		if err != nil {
			return err
		}
		in = evidenceInput{Description: f.Get("description"), SHA256: f.Get("sha256"), Source: f.Get("source"),
			CollectedBy: f.Get("collected_by"), CollectedAt: at, File: up}
	} else {
		var req evidenceRequest
		if err := decodeJSON(w, r, &req); err != nil {
			return err
		}
		in = evidenceInput{Description: req.Description, SHA256: req.SHA256, Location: req.Location, Source: req.Source, CollectedBy: req.CollectedBy}
		if req.CollectedAt != nil {
			in.CollectedAt = *req.CollectedAt
		}
		if req.Size != nil {
			in.Size = strconv.FormatInt(*req.Size, 10)
		}
	}
	e, err := s.addEvidence(r.Context(), state(r).actor(), id, in)
	if err != nil {
		return err
	}
	return s.writeEvidence(w, r, http.StatusCreated, id, e.ID)
}

// parseOptionalTime reads an RFC 3339 time; "" is the zero time (now).
func parseOptionalTime(v string) (time.Time, error) {
	if v == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339, v)
	if err != nil {
		return time.Time{}, tocsin.Errorf(tocsin.EINVALID, "collected_at: give an RFC 3339 time such as 2026-11-20T17:40:00+01:00")
	}
	return t, nil
}

func (s *Server) apiVerifyEvidence(w http.ResponseWriter, r *http.Request) error {
	incidentID, id, err := evidencePath(r)
	if err != nil {
		return err
	}
	if _, err := s.verifyEvidence(r.Context(), state(r).actor(), incidentID, id); err != nil {
		return err
	}
	return s.writeEvidence(w, r, http.StatusOK, incidentID, id)
}

func (s *Server) apiWithdrawEvidence(w http.ResponseWriter, r *http.Request) error {
	incidentID, id, err := evidencePath(r)
	if err != nil {
		return err
	}
	var req dismissRequest
	if err := decodeJSON(w, r, &req); err != nil {
		return err
	}
	if err := s.store.WithdrawEvidence(r.Context(), state(r).actor(), incidentID, id, req.Reason); err != nil {
		return err
	}
	return s.writeEvidence(w, r, http.StatusOK, incidentID, id)
}

// openSignalRequest opens an incident from a signal; the title defaults to
// the signal's subject.
type openSignalRequest struct {
	Title    string `json:"title"`
	Summary  string `json:"summary"`
	Severity string `json:"severity"`
	Kind     string `json:"kind"`
}

func (s *Server) apiOpenIncidentFromSignal(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	var req openSignalRequest
	if err := decodeJSON(w, r, &req); err != nil {
		return err
	}
	inc := &tocsin.SecurityIncident{Title: req.Title, Summary: req.Summary, Severity: tocsin.Severity(req.Severity), Kind: tocsin.SecurityKind(req.Kind)}
	if err := s.store.OpenSecurityIncident(r.Context(), state(r).actor(), id, inc); err != nil {
		return err
	}
	return s.writeSecurity(w, r, http.StatusCreated, inc.ID, tocsin.TimelineFilter{Last: true})
}

type linkSignalRequest struct {
	SecurityIncidentID int64 `json:"security_incident_id"`
}

func (s *Server) apiLinkSignal(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	var req linkSignalRequest
	if err := decodeJSON(w, r, &req); err != nil {
		return err
	}
	if err := s.store.LinkSignal(r.Context(), state(r).actor(), id, req.SecurityIncidentID); err != nil {
		return err
	}
	return s.writeSignal(w, r, http.StatusOK, id)
}
