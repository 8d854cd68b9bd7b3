package httpserver

import (
	"net/http"
	"strconv"
	"time"

	"github.com/tocsin-org/tocsin"
)

// securityJSON is a private security incident as the staff API shows it.
type securityJSON struct {
	ID        int64              `json:"id"`
	Title     string             `json:"title"`
	Summary   string             `json:"summary"`
	Severity  string             `json:"severity"`
	Status    string             `json:"status"`
	Kind      string             `json:"kind"`
	Moments   map[string]*string `json:"key_moments"` // RFC 3339, null when unknown
	Durations durationsJSON      `json:"durations"`
	Roles     []roleJSON         `json:"roles"`
	Links     []linkJSON         `json:"links"`
	CreatedBy string             `json:"created_by"`
	CreatedAt time.Time          `json:"created_at"`
	UpdatedAt time.Time          `json:"updated_at"`
	ClosedAt  *time.Time         `json:"closed_at"`
	// Timeline and TimelineTotal are set for a single incident.
	Timeline      []securityEntryJSON `json:"timeline,omitempty"`
	TimelineTotal *int                `json:"timeline_total,omitempty"`
}

// durationsJSON holds computed durations in seconds, null when a moment
// they need is unknown.
type durationsJSON struct {
	TimeToAcknowledge *int64 `json:"time_to_acknowledge_seconds"`
	TimeToContain     *int64 `json:"time_to_contain_seconds"`
	Exposure          *int64 `json:"exposure_seconds"`
	ExposureOngoing   bool   `json:"exposure_ongoing"`
}

type roleJSON struct {
	Role     string `json:"role"`
	UserID   int64  `json:"user_id"`
	Email    string `json:"email"`
	Disabled bool   `json:"disabled"`
}

type linkJSON struct {
	Kind   string `json:"kind"`
	ID     int64  `json:"id"`
	Title  string `json:"title"`
	Status string `json:"status"`
}

type securityEntryJSON struct {
	ID         int64                 `json:"id"`
	Kind       string                `json:"kind"`
	OccurredAt time.Time             `json:"occurred_at"`
	CreatedAt  time.Time             `json:"created_at"`
	Author     string                `json:"author"`
	Subject    string                `json:"subject,omitempty"`
	Old        string                `json:"old,omitempty"`
	New        string                `json:"new,omitempty"`
	Body       string                `json:"body,omitempty"`
	Decision   *securityDecisionJSON `json:"decision,omitempty"`
}

type securityDecisionJSON struct {
	ID        int64     `json:"id"`
	Choice    string    `json:"choice"`
	Options   string    `json:"options"`
	Why       string    `json:"why"`
	DecidedBy int64     `json:"decided_by"`
	Email     string    `json:"decided_by_email"`
	DecidedAt time.Time `json:"decided_at"`
}

func seconds(d time.Duration, ok bool) *int64 {
	if !ok {
		return nil
	}
	v := int64(d / time.Second)
	return &v
}

func toSecurityJSON(inc *tocsin.SecurityIncident) securityJSON {
	out := securityJSON{
		ID: inc.ID, Title: inc.Title, Summary: inc.Summary, Severity: string(inc.Severity), Status: string(inc.Status),
		Kind: string(inc.Kind), Moments: map[string]*string{}, Roles: []roleJSON{}, Links: []linkJSON{},
		CreatedBy: inc.CreatedBy, CreatedAt: inc.CreatedAt, UpdatedAt: inc.UpdatedAt, ClosedAt: inc.ClosedAt,
	}
	for _, m := range tocsin.AllKeyMoments {
		out.Moments[string(m)] = nil
		if t := inc.Moments.At(m); t != nil {
			v := t.UTC().Format(time.RFC3339Nano)
			out.Moments[string(m)] = &v
		}
	}
	out.Durations.TimeToAcknowledge = seconds(inc.Moments.TimeToAcknowledge())
	out.Durations.TimeToContain = seconds(inc.Moments.TimeToContain())
	d, ok, ongoing := inc.Moments.ExposureDuration()
	out.Durations.Exposure, out.Durations.ExposureOngoing = seconds(d, ok), ongoing
	for _, h := range inc.Roles {
		out.Roles = append(out.Roles, roleJSON{string(h.Role), h.UserID, h.Email, h.Disabled})
	}
	for _, l := range inc.Links {
		out.Links = append(out.Links, linkJSON{string(l.Kind), l.OtherID, l.Title, string(l.Status)})
	}
	return out
}

func toSecurityEntryJSON(e *tocsin.SecurityEntry) securityEntryJSON {
	out := securityEntryJSON{ID: e.ID, Kind: string(e.Kind), OccurredAt: e.OccurredAt, CreatedAt: e.CreatedAt, Author: e.Author,
		Subject: e.Subject, Old: e.Old, New: e.New, Body: e.Body}
	if d := e.Decision; d != nil {
		out.Decision = &securityDecisionJSON{d.ID, d.Choice, d.Options, d.Why, d.DecidedBy, d.DecidedByEmail, d.DecidedAt}
	}
	return out
}

func (s *Server) apiSecurityIncidents(w http.ResponseWriter, r *http.Request) error {
	f := tocsin.SecurityIncidentFilter{Limit: 100}
	if v := r.URL.Query().Get("open"); v != "" {
		open, err := strconv.ParseBool(v)
		if err != nil {
			return tocsin.Errorf(tocsin.EINVALID, "open=%q: give true or false", v)
		}
		f.Open = &open
	}
	list, err := s.store.SecurityIncidents(r.Context(), f)
	if err != nil {
		return err
	}
	out := make([]securityJSON, 0, len(list))
	for _, inc := range list {
		out = append(out, toSecurityJSON(inc))
	}
	return writeJSON(w, http.StatusOK, map[string]any{"security_incidents": out})
}

// queryInt reads an optional non-negative integer query parameter.
func queryInt(r *http.Request, name string, most int) (int, bool, error) {
	v := r.URL.Query().Get(name)
	if v == "" {
		return 0, false, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 || n > most {
		return 0, false, tocsin.Errorf(tocsin.EINVALID, "%s=%q: give a number from 0 to %d", name, v, most)
	}
	return n, true, nil
}

func (s *Server) apiSecurityIncident(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	f := tocsin.TimelineFilter{Limit: roomPageSize, Last: true}
	if n, ok, err := queryInt(r, "limit", 1000); err != nil {
		return err
	} else if ok {
		f.Limit = max(n, 1)
	}
	if n, ok, err := queryInt(r, "offset", 1<<30); err != nil {
		return err
	} else if ok {
		f.Offset, f.Last = n, false
	}
	return s.writeSecurity(w, r, http.StatusOK, id, f)
}

// writeSecurity answers with incident id and a page of its timeline.
func (s *Server) writeSecurity(w http.ResponseWriter, r *http.Request, status int, id int64, f tocsin.TimelineFilter) error {
	inc, err := s.store.SecurityIncident(r.Context(), id)
	if err != nil {
		return err
	}
	entries, total, err := s.store.Timeline(r.Context(), id, f)
	if err != nil {
		return err
	}
	out := toSecurityJSON(inc)
	out.Timeline, out.TimelineTotal = make([]securityEntryJSON, 0, len(entries)), &total
	for _, e := range entries {
		out.Timeline = append(out.Timeline, toSecurityEntryJSON(e))
	}
	return writeJSON(w, status, out)
}

// securityRequest creates an incident or replaces its settings.
type securityRequest struct {
	Title    string `json:"title"`
	Summary  string `json:"summary"`
	Severity string `json:"severity"`
	Kind     string `json:"kind"`
}

func (q securityRequest) incident(id int64) *tocsin.SecurityIncident {
	return &tocsin.SecurityIncident{ID: id, Title: q.Title, Summary: q.Summary, Severity: tocsin.Severity(q.Severity), Kind: tocsin.SecurityKind(q.Kind)}
}

func (s *Server) apiCreateSecurityIncident(w http.ResponseWriter, r *http.Request) error {
	var req securityRequest
	if err := decodeJSON(w, r, &req); err != nil {
		return err
	}
	inc := req.incident(0)
	if err := s.store.CreateSecurityIncident(r.Context(), state(r).actor(), inc); err != nil {
		return err
	}
	return s.writeSecurity(w, r, http.StatusCreated, inc.ID, tocsin.TimelineFilter{Last: true})
}

// apiSecurityChange decodes a request into T, applies it with fn and
// answers with the incident as it now is.
func apiSecurityChange[T any](s *Server, fn func(r *http.Request, a tocsin.Actor, id int64, req T) error) handlerFunc {
	return apiIncidentChange(fn, func(w http.ResponseWriter, r *http.Request, id int64) error {
		return s.writeSecurity(w, r, http.StatusOK, id, tocsin.TimelineFilter{Last: true})
	})
}

// apiIncidentChange decodes a request into T, applies it with fn to the
// security incident of the path and answers with answer: the one shape
// of every JSON change to an incident and its parts.
func apiIncidentChange[T any](fn func(r *http.Request, a tocsin.Actor, id int64, req T) error, answer func(w http.ResponseWriter, r *http.Request, id int64) error) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		id, err := pathID(r, "id")
		if err != nil {
			return err
		}
		var req T
		if err := decodeJSON(w, r, &req); err != nil {
			return err
		}
		if err := fn(r, state(r).actor(), id, req); err != nil {
			return err
		}
		return answer(w, r, id)
	}
}

func (s *Server) apiSetSecurityIncident(w http.ResponseWriter, r *http.Request) error {
	return apiSecurityChange(s, func(r *http.Request, a tocsin.Actor, id int64, req securityRequest) error {
		return s.store.SetSecurityIncident(r.Context(), a, req.incident(id))
	})(w, r)
}

type statusRequest struct {
	Status string `json:"status"`
	Reason string `json:"reason"`
}

func (s *Server) apiSetSecurityStatus(w http.ResponseWriter, r *http.Request) error {
	return apiSecurityChange(s, func(r *http.Request, a tocsin.Actor, id int64, req statusRequest) error {
		return s.store.SetSecurityStatus(r.Context(), a, id, tocsin.SecurityStatus(req.Status), req.Reason)
	})(w, r)
}

func (s *Server) apiReopenSecurityIncident(w http.ResponseWriter, r *http.Request) error {
	return apiSecurityChange(s, func(r *http.Request, a tocsin.Actor, id int64, req statusRequest) error {
		if req.Status == "" {
			req.Status = string(tocsin.SecInvestigating)
		}
		return s.store.ReopenSecurityIncident(r.Context(), a, id, tocsin.SecurityStatus(req.Status), req.Reason)
	})(w, r)
}

// momentsRequest maps key moment names to times; a name left out or null
// is cleared.
type momentsRequest map[string]*time.Time

func (s *Server) apiSetKeyMoments(w http.ResponseWriter, r *http.Request) error {
	return apiSecurityChange(s, func(r *http.Request, a tocsin.Actor, id int64, req momentsRequest) error {
		var m tocsin.KeyMoments
		for name, t := range req {
			km, err := tocsin.ParseKeyMoment(name)
			if err != nil {
				return err
			}
			*m.Ref(km) = t
		}
		return s.store.SetKeyMoments(r.Context(), a, id, m)
	})(w, r)
}

type entryRequest struct {
	Kind       string     `json:"kind"`
	Body       string     `json:"body"`
	OccurredAt *time.Time `json:"occurred_at"`
}

func (s *Server) apiAddSecurityEntry(w http.ResponseWriter, r *http.Request) error {
	return apiSecurityChange(s, func(r *http.Request, a tocsin.Actor, id int64, req entryRequest) error {
		e := &tocsin.SecurityEntry{Kind: tocsin.EntryKind(req.Kind), Body: req.Body}
		if req.OccurredAt != nil {
			e.OccurredAt = *req.OccurredAt
		}
		return s.store.AddTimelineEntry(r.Context(), a, id, e)
	})(w, r)
}

type decisionRequest struct {
	Choice    string     `json:"choice"`
	Options   string     `json:"options"`
	Why       string     `json:"why"`
	DecidedBy int64      `json:"decided_by"`
	DecidedAt *time.Time `json:"decided_at"`
}

func (s *Server) apiRecordSecurityDecision(w http.ResponseWriter, r *http.Request) error {
	return apiSecurityChange(s, func(r *http.Request, a tocsin.Actor, id int64, req decisionRequest) error {
		d := &tocsin.Decision{Choice: req.Choice, Options: req.Options, Why: req.Why, DecidedBy: req.DecidedBy}
		if req.DecidedAt != nil {
			d.DecidedAt = *req.DecidedAt
		}
		return s.store.RecordDecision(r.Context(), a, id, d)
	})(w, r)
}

type roleRequest struct {
	Role   string `json:"role"`
	UserID int64  `json:"user_id"`
	Remove bool   `json:"remove"`
}

func (s *Server) apiSetSecurityRole(w http.ResponseWriter, r *http.Request) error {
	return apiSecurityChange(s, func(r *http.Request, a tocsin.Actor, id int64, req roleRequest) error {
		if req.Remove {
			return s.store.UnassignSecurityRole(r.Context(), a, id, tocsin.IncidentRole(req.Role), req.UserID)
		}
		return s.store.AssignSecurityRole(r.Context(), a, id, tocsin.IncidentRole(req.Role), req.UserID)
	})(w, r)
}

type linkRequest struct {
	Kind    string `json:"kind"`
	OtherID int64  `json:"other_id"`
}

func (s *Server) apiLinkSecurityIncident(w http.ResponseWriter, r *http.Request) error {
	return apiSecurityChange(s, func(r *http.Request, a tocsin.Actor, id int64, req linkRequest) error {
		return s.store.LinkSecurityIncidents(r.Context(), a, id, req.OtherID, tocsin.LinkKind(req.Kind))
	})(w, r)
}
