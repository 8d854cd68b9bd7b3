package httpserver

import (
	"encoding/json"
	"net/http"
	"time"

	"github.com/tocsin-org/tocsin"
)

// Tasks and runbooks on the staff API.

type taskJSON struct {
	ID           int64      `json:"id"`
	IncidentID   int64      `json:"incident_id"`
	RunbookID    *int64     `json:"runbook_id"`
	RunbookTitle string     `json:"runbook_title,omitempty"`
	Title        string     `json:"title"`
	Detail       string     `json:"detail"`
	OwnerID      *int64     `json:"owner_id"`
	OwnerEmail   string     `json:"owner_email,omitempty"`
	DueAt        *time.Time `json:"due_at"`
	Overdue      bool       `json:"overdue"`
	Status       string     `json:"status"`
	Reason       string     `json:"reason,omitempty"`
	CreatedBy    string     `json:"created_by"`
	CreatedAt    time.Time  `json:"created_at"`
	UpdatedAt    time.Time  `json:"updated_at"`
}

func toTaskJSON(t *tocsin.Task, now time.Time) taskJSON {
	out := taskJSON{ID: t.ID, IncidentID: t.IncidentID, RunbookTitle: t.RunbookTitle, Title: t.Title, Detail: t.Detail,
		OwnerEmail: t.OwnerEmail, DueAt: t.DueAt, Overdue: t.Overdue(now), Status: string(t.Status), Reason: t.Reason,
		CreatedBy: t.CreatedBy, CreatedAt: t.CreatedAt, UpdatedAt: t.UpdatedAt}
	if t.RunbookID != 0 {
		out.RunbookID = &t.RunbookID
	}
	if t.OwnerID != 0 {
		out.OwnerID = &t.OwnerID
	}
	return out
}

type runbookJSON struct {
	ID        int64     `json:"id"`
	Slug      string    `json:"slug"`
	Lang      string    `json:"lang"`
	Title     string    `json:"title"`
	Version   int       `json:"version"`
	Builtin   bool      `json:"builtin"`
	UpdatedBy string    `json:"updated_by"`
	UpdatedAt time.Time `json:"updated_at"`
	Markdown  string    `json:"markdown"`
}

func (s *Server) apiRunbooks(w http.ResponseWriter, r *http.Request) error {
	list, err := s.store.Runbooks(r.Context())
	if err != nil {
		return err
	}
	out := make([]runbookJSON, 0, len(list))
	for _, rb := range list {
		out = append(out, runbookJSON{rb.ID, rb.Slug, rb.Lang, rb.Title, rb.Version, rb.Builtin, rb.UpdatedBy, rb.UpdatedAt, rb.Markdown})
	}
	return writeJSON(w, http.StatusOK, map[string]any{"runbooks": out})
}

// writeTasks answers with incident id's tasks.
func (s *Server) writeTasks(w http.ResponseWriter, r *http.Request, status int, id int64, extra map[string]any) error {
	tasks, err := s.store.Tasks(r.Context(), id)
	if err != nil {
		return err
	}
	now := s.now()
	out := make([]taskJSON, 0, len(tasks))
	for _, t := range tasks {
		out = append(out, toTaskJSON(t, now))
	}
	body := map[string]any{"tasks": out}
	for k, v := range extra {
		body[k] = v
	}
	return writeJSON(w, status, body)
}

func (s *Server) apiTasks(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	return s.writeTasks(w, r, http.StatusOK, id, nil)
}

type addTaskRequest struct {
	Title   string     `json:"title"`
	Detail  string     `json:"detail"`
	OwnerID int64      `json:"owner_id"`
	DueAt   *time.Time `json:"due_at"`
}

func (s *Server) apiAddTask(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	var req addTaskRequest
	if err := decodeJSON(w, r, &req); err != nil {
		return err
	}
	t := &tocsin.Task{Title: req.Title, Detail: req.Detail, OwnerID: req.OwnerID, DueAt: req.DueAt}
	if err := s.store.AddTask(r.Context(), state(r).actor(), id, t); err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, toTaskJSON(t, s.now()))
}

// patchTaskRequest: an absent field is left as it is; owner_id null or 0
// unassigns, due_at null removes the due time.
type patchTaskRequest struct {
	Status  *string          `json:"status"`
	Reason  string           `json:"reason"`
	OwnerID *json.RawMessage `json:"owner_id"`
	DueAt   *json.RawMessage `json:"due_at"`
}

func (s *Server) apiPatchTask(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	taskID, err := pathID(r, "task")
	if err != nil {
		return err
	}
	var req patchTaskRequest
	if err := decodeJSON(w, r, &req); err != nil {
		return err
	}
	var p tocsin.TaskPatch
	if req.Status != nil {
		st := tocsin.TaskStatus(*req.Status)
		p.Status, p.Reason = &st, req.Reason
	}
	if req.OwnerID != nil {
		var owner *int64
		if err := json.Unmarshal(*req.OwnerID, &owner); err != nil {
			return tocsin.Errorf(tocsin.EINVALID, "owner_id: give a user ID, or null to unassign")
		}
		var v int64
		if owner != nil {
			v = *owner
		}
		p.Owner = &v
	}
	if req.DueAt != nil {
		var due *time.Time
		if err := json.Unmarshal(*req.DueAt, &due); err != nil {
			return tocsin.Errorf(tocsin.EINVALID, "due_at: give an RFC 3339 time, or null to remove it")
		}
		p.Due, p.ClearDue = due, due == nil
	}
	t, err := s.store.UpdateTask(r.Context(), state(r).actor(), id, taskID, p)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, toTaskJSON(t, s.now()))
}

type applyRunbookRequest struct {
	Runbook int64 `json:"runbook"`
}

func (s *Server) apiApplyRunbook(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	var req applyRunbookRequest
	if err := decodeJSON(w, r, &req); err != nil {
		return err
	}
	n, err := s.store.ApplyRunbook(r.Context(), state(r).actor(), id, req.Runbook)
	if err != nil {
		return err
	}
	return s.writeTasks(w, r, http.StatusOK, id, map[string]any{"added": n})
}
