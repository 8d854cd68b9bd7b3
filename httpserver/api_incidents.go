package httpserver

import (
	"net/http"
	"strconv"
	"time"

	"github.com/tocsin-org/tocsin"
)

// incidentJSON is an incident as the staff API shows it, drafts included.
type incidentJSON struct {
	ID          int64                 `json:"id"`
	Title       string                `json:"title"`
	Status      string                `json:"status"`
	Impact      string                `json:"impact"`
	Services    []incidentServiceJSON `json:"services"`
	ShowOnSites bool                  `json:"show_on_sites"`
	Published   bool                  `json:"published"`
	PublishedAt *time.Time            `json:"published_at"`
	ResolvedAt  *time.Time            `json:"resolved_at"`
	CreatedBy   string                `json:"created_by"`
	CreatedAt   time.Time             `json:"created_at"`
	UpdatedAt   time.Time             `json:"updated_at"`
	Updates     []updateJSON          `json:"updates"`
	// A scheduled maintenance's window and reminder; null for an incident.
	ScheduledFor   *time.Time `json:"scheduled_for"`
	ScheduledUntil *time.Time `json:"scheduled_until"`
	RemindedAt     *time.Time `json:"reminded_at"`
}

type incidentServiceJSON struct {
	ID     int64  `json:"id"`
	Status string `json:"status"`
}

// updateJSON is one update, newest first in its incident; revisions are
// its earlier bodies, oldest first.
type updateJSON struct {
	ID        int64          `json:"id"`
	Status    string         `json:"status"`
	Body      string         `json:"body"`
	DisplayAt time.Time      `json:"display_at"`
	CreatedAt time.Time      `json:"created_at"`
	Backdated bool           `json:"backdated"`
	Author    string         `json:"author"`
	Revisions []revisionJSON `json:"revisions"`
}

type revisionJSON struct {
	Body     string    `json:"body"`
	EditedAt time.Time `json:"edited_at"`
	EditedBy string    `json:"edited_by"`
}

func toIncidentJSON(inc *tocsin.Incident) incidentJSON {
	out := incidentJSON{
		ID: inc.ID, Title: inc.Title, Status: string(inc.Status), Impact: string(inc.Impact),
		Services: []incidentServiceJSON{}, ShowOnSites: inc.ShowOnSites, Published: inc.Published(),
		PublishedAt: inc.PublishedAt, ResolvedAt: inc.ResolvedAt, CreatedBy: inc.CreatedBy,
		CreatedAt: inc.CreatedAt, UpdatedAt: inc.UpdatedAt, Updates: []updateJSON{},
		ScheduledFor: inc.ScheduledFor, ScheduledUntil: inc.ScheduledUntil, RemindedAt: inc.RemindedAt,
	}
	for _, s := range inc.Services {
		out.Services = append(out.Services, incidentServiceJSON{s.ServiceID, string(s.Status)})
	}
	for _, u := range inc.Updates {
		uj := updateJSON{ID: u.ID, Status: string(u.Status), Body: u.Body, DisplayAt: u.DisplayAt, CreatedAt: u.CreatedAt,
			Backdated: u.Backdated(), Author: u.Author, Revisions: []revisionJSON{}}
		for _, r := range u.Revisions {
			uj.Revisions = append(uj.Revisions, revisionJSON{r.Body, r.EditedAt, r.EditedBy})
		}
		out.Updates = append(out.Updates, uj)
	}
	return out
}

// incidentRequest declares an incident with its first update; with a
// window (scheduled_for, scheduled_until) it schedules a maintenance.
type incidentRequest struct {
	settingsRequest
	Status    string     `json:"status"`
	Body      string     `json:"body"`
	DisplayAt *time.Time `json:"display_at"`
	Publish   bool       `json:"publish"`
}

// settingsRequest is what PUT /api/v1/incidents/{id} replaces.
type settingsRequest struct {
	Title          string                `json:"title"`
	Impact         string                `json:"impact"`
	Services       []incidentServiceJSON `json:"services"`
	ShowOnSites    bool                  `json:"show_on_sites"`
	ScheduledFor   *time.Time            `json:"scheduled_for"`
	ScheduledUntil *time.Time            `json:"scheduled_until"`
}

func (q settingsRequest) incident(id int64) *tocsin.Incident {
	inc := &tocsin.Incident{ID: id, Title: q.Title, Impact: tocsin.Impact(q.Impact), ShowOnSites: q.ShowOnSites,
		ScheduledFor: q.ScheduledFor, ScheduledUntil: q.ScheduledUntil}
	for _, s := range q.Services {
		inc.Services = append(inc.Services, tocsin.ServiceImpact{ServiceID: s.ID, Status: tocsin.ServiceStatus(s.Status)})
	}
	return inc
}

// updateRequest appends an update; DisplayAt backdates it.
type updateRequest struct {
	Status    string     `json:"status"`
	Body      string     `json:"body"`
	DisplayAt *time.Time `json:"display_at"`
}

func (q updateRequest) update() *tocsin.Update {
	u := &tocsin.Update{Status: tocsin.IncidentStatus(q.Status), Body: q.Body}
	if q.DisplayAt != nil {
		u.DisplayAt = *q.DisplayAt
	}
	return u
}

type editUpdateRequest struct {
	Body string `json:"body"`
}

func (s *Server) apiIncidents(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	f := tocsin.IncidentFilter{Limit: 50}
	if v := q.Get("open"); v != "" {
		open, err := strconv.ParseBool(v)
		if err != nil {
			return tocsin.Errorf(tocsin.EINVALID, "open=%q: give true or false", v)
		}
		f.Open = &open
	}
	if v := q.Get("maintenance"); v != "" {
		m, err := strconv.ParseBool(v)
		if err != nil {
			return tocsin.Errorf(tocsin.EINVALID, "maintenance=%q: give true or false", v)
		}
		f.Maintenance = &m
	}
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 1000 {
			return tocsin.Errorf(tocsin.EINVALID, "limit=%q: give a number from 1 to 1000", v)
		}
		f.Limit = n
	}
	list, err := s.store.Incidents(r.Context(), f)
	if err != nil {
		return err
	}
	out := make([]incidentJSON, 0, len(list))
	for _, inc := range list {
		out = append(out, toIncidentJSON(inc))
	}
	return writeJSON(w, http.StatusOK, map[string]any{"incidents": out})
}

func (s *Server) apiIncident(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	return s.writeIncident(w, r, http.StatusOK, id)
}

// writeIncident answers with incident id as the store now has it.
func (s *Server) writeIncident(w http.ResponseWriter, r *http.Request, status int, id int64) error {
	inc, err := s.store.Incident(r.Context(), id)
	if err != nil {
		return err
	}
	return writeJSON(w, status, toIncidentJSON(inc))
}

func (s *Server) apiCreateIncident(w http.ResponseWriter, r *http.Request) error {
	var req incidentRequest
	if err := decodeJSON(w, r, &req); err != nil {
		return err
	}
	inc := req.settingsRequest.incident(0)
	if req.Publish {
		now := time.Now() // the store's clock, which dates the rest
		inc.PublishedAt = &now
	}
	first := updateRequest{Status: req.Status, Body: req.Body, DisplayAt: req.DisplayAt}.update()
	if err := s.store.CreateIncident(r.Context(), state(r).actor(), inc, first, nil); err != nil {
		return err
	}
	s.refreshAfter(r.Context())
	return s.writeIncident(w, r, http.StatusCreated, inc.ID)
}

func (s *Server) apiAddUpdate(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	var req updateRequest
	if err := decodeJSON(w, r, &req); err != nil {
		return err
	}
	if err := s.store.AddUpdate(r.Context(), state(r).actor(), id, req.update(), nil); err != nil {
		return err
	}
	s.refreshAfter(r.Context())
	return s.writeIncident(w, r, http.StatusOK, id)
}

func (s *Server) apiEditUpdate(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	var req editUpdateRequest
	if err := decodeJSON(w, r, &req); err != nil {
		return err
	}
	if err := s.store.EditUpdate(r.Context(), state(r).actor(), id, req.Body); err != nil {
		return err
	}
	s.refreshAfter(r.Context())
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) apiSetIncident(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	var req settingsRequest
	if err := decodeJSON(w, r, &req); err != nil {
		return err
	}
	if err := s.store.SetIncident(r.Context(), state(r).actor(), req.incident(id)); err != nil {
		return err
	}
	s.refreshAfter(r.Context())
	return s.writeIncident(w, r, http.StatusOK, id)
}

func (s *Server) apiPublishIncident(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	if err := s.store.PublishIncident(r.Context(), state(r).actor(), id, time.Time{}, nil); err != nil {
		return err
	}
	s.refreshAfter(r.Context())
	return s.writeIncident(w, r, http.StatusOK, id)
}
