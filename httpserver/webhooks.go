package httpserver

import (
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/tocsin-org/tocsin"
	"github.com/tocsin-org/tocsin/auth"
	"github.com/tocsin-org/tocsin/i18n"
	"github.com/tocsin-org/tocsin/notify"
)

// Webhook subscriptions are created by staff (communicator, like the
// e-mail subscribers): the secret that signs their payloads is made here,
// sealed with the at-rest key, and shown once.

type webhookJSON struct {
	ID          int64     `json:"id"`
	URL         string    `json:"url"`
	AllServices bool      `json:"all_services"`
	Services    []int64   `json:"services"`
	CreatedBy   string    `json:"created_by"`
	CreatedAt   time.Time `json:"created_at"`
	// Secret is present only in the answer to the creation.
	Secret string `json:"secret,omitempty"`
}

func toWebhookJSON(w *tocsin.Webhook) webhookJSON {
	ids := w.ServiceIDs
	if ids == nil {
		ids = []int64{}
	}
	return webhookJSON{ID: w.ID, URL: w.URL, AllServices: w.AllServices, Services: ids, CreatedBy: w.CreatedBy, CreatedAt: w.CreatedAt}
}

// createWebhook makes w's secret, seals it and stores w; it returns the
// secret in the clear, for the creator to copy once.
func (s *Server) createWebhook(r *http.Request, w *tocsin.Webhook) (string, error) {
	if err := w.Validate(); err != nil {
		return "", err
	}
	plain, err := auth.RandomToken()
	if err != nil {
		return "", err
	}
	secret := "whsec_" + plain
	if w.SecretSealed, err = s.box.Seal([]byte(secret), []byte(notify.WebhookSecretAD)); err != nil {
		return "", err
	}
	if err := s.store.CreateWebhook(r.Context(), state(r).actor(), w); err != nil {
		return "", err
	}
	return secret, nil
}

type createWebhookRequest struct {
	URL         string  `json:"url"`
	AllServices bool    `json:"all_services"`
	Services    []int64 `json:"services"`
}

func (s *Server) apiWebhooks(w http.ResponseWriter, r *http.Request) error {
	hooks, err := s.store.Webhooks(r.Context())
	if err != nil {
		return err
	}
	out := make([]webhookJSON, len(hooks))
	for i, h := range hooks {
		out[i] = toWebhookJSON(h)
	}
	return writeJSON(w, http.StatusOK, map[string]any{"webhooks": out})
}

func (s *Server) apiCreateWebhook(w http.ResponseWriter, r *http.Request) error {
	var req createWebhookRequest
	if err := decodeJSON(w, r, &req); err != nil {
		return err
	}
	hook := &tocsin.Webhook{URL: req.URL, AllServices: req.AllServices, ServiceIDs: req.Services}
	secret, err := s.createWebhook(r, hook)
	if err != nil {
		return err
	}
	out := toWebhookJSON(hook)
	out.Secret = secret
	return writeJSON(w, http.StatusCreated, out)
}

func (s *Server) apiDeleteWebhook(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	if err := s.store.DeleteWebhook(r.Context(), state(r).actor(), id); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) webhooksPage(w http.ResponseWriter, r *http.Request, status int, data map[string]any) error {
	ctx := r.Context()
	hooks, err := s.store.Webhooks(ctx)
	if err != nil {
		return err
	}
	services, err := s.store.Services(ctx)
	if err != nil {
		return err
	}
	if data == nil {
		data = map[string]any{}
	}
	data["Hooks"], data["Services"] = hooks, services
	s.render(w, r, status, "webhooks", data)
	return nil
}

func (s *Server) webhooks(w http.ResponseWriter, r *http.Request) error {
	var data map[string]any
	if r.URL.Query().Get("deleted") != "" {
		data = map[string]any{"Flash": i18n.T(state(r).lang, "webhooks.deleted")}
	}
	return s.webhooksPage(w, r, http.StatusOK, data)
}

func (s *Server) createWebhookForm(w http.ResponseWriter, r *http.Request) error {
	f := r.PostForm
	hook := &tocsin.Webhook{URL: f.Get("url"), AllServices: f.Get("scope") != "some"}
	for _, v := range f["service"] {
		id, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return s.webhooksPage(w, r, http.StatusBadRequest, map[string]any{"URL": hook.URL,
				"Error": s.localized(r, tocsin.Errorf(tocsin.EINVALID, "%q is not a service", v).WithKey("subscribe.service_unknown", v))})
		}
		if !hook.AllServices {
			hook.ServiceIDs = append(hook.ServiceIDs, id)
		}
	}
	secret, err := s.createWebhook(r, hook)
	if tocsin.ErrorCode(err) == tocsin.EINVALID {
		return s.webhooksPage(w, r, http.StatusBadRequest, map[string]any{"URL": hook.URL, "Error": s.localized(r, err)})
	} else if err != nil {
		return err
	}
	return s.webhooksPage(w, r, http.StatusCreated, map[string]any{
		"Secret": secret, "Flash": i18n.T(state(r).lang, "webhooks.created", fmt.Sprint(hook.ID)),
	})
}

func (s *Server) deleteWebhookForm(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	if err := s.store.DeleteWebhook(r.Context(), state(r).actor(), id); err != nil {
		return err
	}
	http.Redirect(w, r, "/console/webhooks?deleted=1", http.StatusSeeOther)
	return nil
}
