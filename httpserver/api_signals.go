package httpserver

import (
	"net/http"
	"strconv"
	"time"

	"github.com/tocsin-org/tocsin"
)

// signalJSON is a signal as the staff API shows it, contact included:
// tokens are staff.
type signalJSON struct {
	ID                 int64               `json:"id"`
	Receipt            string              `json:"receipt"`
	Source             string              `json:"source"`
	Subject            string              `json:"subject"`
	Body               string              `json:"body"`
	Contact            string              `json:"contact"`
	Attachments        []tocsin.Attachment `json:"attachments"`
	ReceivedAt         time.Time           `json:"received_at"`
	State              string              `json:"state"`
	AcknowledgedBy     string              `json:"acknowledged_by"`
	AcknowledgedAt     *time.Time          `json:"acknowledged_at"`
	ClosedBy           string              `json:"closed_by"`
	ClosedAt           *time.Time          `json:"closed_at"`
	Reason             string              `json:"reason"`
	SecurityIncidentID *int64              `json:"security_incident_id"`
}

func toSignalJSON(s *tocsin.Signal) signalJSON {
	out := signalJSON{
		ID: s.ID, Receipt: s.Receipt, Source: string(s.Source), Subject: s.Subject, Body: s.Body, Contact: s.Contact,
		Attachments: s.Attachments, ReceivedAt: s.ReceivedAt, State: string(s.State), AcknowledgedBy: s.AcknowledgedBy,
		AcknowledgedAt: s.AcknowledgedAt, ClosedBy: s.ClosedBy, ClosedAt: s.ClosedAt, Reason: s.Reason,
		SecurityIncidentID: s.SecurityIncidentID,
	}
	if out.Attachments == nil {
		out.Attachments = []tocsin.Attachment{}
	}
	return out
}

// signalRequest reports a problem through the API.
type signalRequest struct {
	Subject string `json:"subject"`
	Body    string `json:"body"`
	Contact string `json:"contact"`
}

type dismissRequest struct {
	Reason string `json:"reason"`
}

func (s *Server) apiSignals(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	f := tocsin.SignalFilter{Limit: 100}
	if v := q.Get("state"); v != "" {
		st, err := tocsin.ParseSignalState(v)
		if err != nil {
			return err
		}
		f.State = st
	}
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 1000 {
			return tocsin.Errorf(tocsin.EINVALID, "limit=%q: give a number from 1 to 1000", v)
		}
		f.Limit = n
	}
	list, err := s.store.Signals(r.Context(), f)
	if err != nil {
		return err
	}
	out := make([]signalJSON, 0, len(list))
	for _, sig := range list {
		out = append(out, toSignalJSON(sig))
	}
	return writeJSON(w, http.StatusOK, map[string]any{"signals": out})
}

func (s *Server) apiSignal(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	return s.writeSignal(w, r, http.StatusOK, id)
}

func (s *Server) writeSignal(w http.ResponseWriter, r *http.Request, status int, id int64) error {
	sig, err := s.store.Signal(r.Context(), id)
	if err != nil {
		return err
	}
	return writeJSON(w, status, toSignalJSON(sig))
}

func (s *Server) apiCreateSignal(w http.ResponseWriter, r *http.Request) error {
	var req signalRequest
	if err := decodeJSON(w, r, &req); err != nil {
		return err
	}
	sig := &tocsin.Signal{Source: tocsin.SourceAPI, Subject: req.Subject, Body: req.Body, Contact: req.Contact}
	if err := s.store.CreateSignal(r.Context(), state(r).actor(), sig); err != nil {
		return err
	}
	s.kick() // its page, if someone is on call
	return s.writeSignal(w, r, http.StatusCreated, sig.ID)
}

func (s *Server) apiAcknowledgeSignal(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	if err := s.store.AcknowledgeSignal(r.Context(), state(r).actor(), id); err != nil {
		return err
	}
	return s.writeSignal(w, r, http.StatusOK, id)
}

func (s *Server) apiDismissSignal(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	var req dismissRequest
	if err := decodeJSON(w, r, &req); err != nil {
		return err
	}
	if err := s.store.DismissSignal(r.Context(), state(r).actor(), id, req.Reason); err != nil {
		return err
	}
	return s.writeSignal(w, r, http.StatusOK, id)
}
