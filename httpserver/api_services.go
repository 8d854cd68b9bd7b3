package httpserver

import (
	"net/http"
	"time"

	"github.com/tocsin-org/tocsin"
)

// serviceJSON is a service as the API shows it.
type serviceJSON struct {
	ID            int64     `json:"id"`
	Name          string    `json:"name"`
	Description   string    `json:"description"`
	Link          string    `json:"link"`
	Group         string    `json:"group"`
	Position      int       `json:"position"`
	Status        string    `json:"status"`
	ConfigManaged bool      `json:"config_managed"`
	StatusPinned  bool      `json:"status_pinned"`
	CreatedAt     time.Time `json:"created_at"`
	UpdatedAt     time.Time `json:"updated_at"`
}

func toServiceJSON(s *tocsin.Service) serviceJSON {
	return serviceJSON{s.ID, s.Name, s.Description, s.Link, s.Group, s.Position, string(s.Status), s.ConfigManaged, s.StatusPinned, s.CreatedAt, s.UpdatedAt}
}

// serviceRequest is the body that creates a service or replaces its
// fields. Status is not among them: it has its own route and role.
type serviceRequest struct {
	Name        string `json:"name"`
	Description string `json:"description"`
	Link        string `json:"link"`
	Group       string `json:"group"`
	Position    int    `json:"position"`
}

func (q serviceRequest) service() *tocsin.Service {
	return &tocsin.Service{Name: q.Name, Description: q.Description, Link: q.Link, Group: q.Group, Position: q.Position}
}

type serviceStatusRequest struct {
	Status string `json:"status"`
}

func (s *Server) apiServices(w http.ResponseWriter, r *http.Request) error {
	list, err := s.store.Services(r.Context())
	if err != nil {
		return err
	}
	out := make([]serviceJSON, 0, len(list))
	for _, svc := range list {
		out = append(out, toServiceJSON(svc))
	}
	return writeJSON(w, http.StatusOK, map[string]any{"services": out})
}

func (s *Server) apiService(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	svc, err := s.store.Service(r.Context(), id)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, toServiceJSON(svc))
}

func (s *Server) apiCreateService(w http.ResponseWriter, r *http.Request) error {
	var req serviceRequest
	if err := decodeJSON(w, r, &req); err != nil {
		return err
	}
	svc := req.service()
	if err := s.store.CreateService(r.Context(), state(r).actor(), svc); err != nil {
		return err
	}
	s.refreshAfter(r.Context())
	return writeJSON(w, http.StatusCreated, toServiceJSON(svc))
}

func (s *Server) apiUpdateService(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	var req serviceRequest
	if err := decodeJSON(w, r, &req); err != nil {
		return err
	}
	svc := req.service()
	svc.ID = id
	if err := s.store.UpdateService(r.Context(), state(r).actor(), svc); err != nil {
		return err
	}
	s.refreshAfter(r.Context())
	return writeJSON(w, http.StatusOK, toServiceJSON(svc))
}

func (s *Server) apiDeleteService(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	if err := s.store.DeleteService(r.Context(), state(r).actor(), id); err != nil {
		return err
	}
	s.refreshAfter(r.Context())
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) apiSetServiceStatus(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	var req serviceStatusRequest
	if err := decodeJSON(w, r, &req); err != nil {
		return err
	}
	status, err := tocsin.ParseServiceStatus(req.Status)
	if err != nil {
		return err
	}
	if err := s.changeStatus(r, id, status); err != nil {
		return err
	}
	svc, err := s.store.Service(r.Context(), id)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, toServiceJSON(svc))
}
