package notify

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"github.com/tocsin-org/tocsin"
)

// The webhook payload follows Atlassian Statuspage's webhook shape (meta,
// page, incident with its updates, component updates), so that receivers
// written for Statuspage read most of it unchanged.

type webhookPayload struct {
	Meta             webhookMeta        `json:"meta"`
	Page             webhookPage        `json:"page"`
	Incident         *webhookIncident   `json:"incident,omitempty"`
	ComponentUpdates []webhookComponent `json:"component_updates,omitempty"`
	Notice           webhookNotice      `json:"notice"`
}

type webhookMeta struct {
	Unsubscribe   string    `json:"unsubscribe"`
	Documentation string    `json:"documentation"`
	GeneratedAt   time.Time `json:"generated_at"`
}

type webhookPage struct {
	ID  string `json:"id"`
	URL string `json:"url"`
}

type webhookIncident struct {
	ID              string          `json:"id"`
	Name            string          `json:"name"`
	Status          string          `json:"status"`
	Impact          string          `json:"impact"`
	Shortlink       string          `json:"shortlink"`
	CreatedAt       time.Time       `json:"created_at"`
	UpdatedAt       time.Time       `json:"updated_at"`
	PublishedAt     *time.Time      `json:"published_at"`
	ResolvedAt      *time.Time      `json:"resolved_at"`
	IncidentUpdates []webhookUpdate `json:"incident_updates"`
}

type webhookUpdate struct {
	ID        string    `json:"id"`
	Status    string    `json:"status"`
	Body      string    `json:"body"`
	DisplayAt time.Time `json:"display_at"`
	CreatedAt time.Time `json:"created_at"`
}

type webhookComponent struct {
	ComponentID string `json:"component_id"`
	NewStatus   string `json:"new_status"`
}

// webhookNotice is what was announced, for every kind of notice.
type webhookNotice struct {
	Kind   string    `json:"kind"`
	Title  string    `json:"title"`
	Status string    `json:"status"`
	Body   string    `json:"body"`
	URL    string    `json:"url"`
	At     time.Time `json:"at"`
}

// webhookMessages are the messages of notice n to its webhooks.
func (f *Fanout) webhookMessages(ctx context.Context, n *tocsin.Notice) ([]*tocsin.Message, error) {
	hooks, err := f.store.NoticeWebhooks(ctx, n)
	if err != nil || len(hooks) == 0 {
		return nil, err
	}
	base := f.mail.BaseURL
	p := webhookPayload{
		Meta: webhookMeta{GeneratedAt: n.CreatedAt, Documentation: base + "/api/v1/openapi.json", Unsubscribe: base + "/console/webhooks"},
		Page: webhookPage{ID: base, URL: base + "/"},
		Notice: webhookNotice{Kind: string(n.Kind), Title: n.Title, Status: n.Status, Body: n.Body,
			URL: base + n.Path, At: n.At},
	}
	if n.Kind == tocsin.NoticeIncident && n.SubjectID != 0 {
		inc, err := f.store.Incident(ctx, n.SubjectID)
		if err != nil && tocsin.ErrorCode(err) != tocsin.ENOTFOUND {
			return nil, err
		}
		if inc != nil {
			wi := &webhookIncident{
				ID: strconv.FormatInt(inc.ID, 10), Name: inc.Title, Status: string(inc.Status), Impact: string(inc.Impact),
				Shortlink: base + n.Path, CreatedAt: inc.CreatedAt, UpdatedAt: inc.UpdatedAt,
				PublishedAt: inc.PublishedAt, ResolvedAt: inc.ResolvedAt, IncidentUpdates: []webhookUpdate{},
			}
			if len(inc.Updates) > 0 { // the latest, as Statuspage sends it
				u := inc.Updates[0]
				wi.IncidentUpdates = append(wi.IncidentUpdates, webhookUpdate{ID: strconv.FormatInt(u.ID, 10),
					Status: string(u.Status), Body: u.Body, DisplayAt: u.DisplayAt, CreatedAt: u.CreatedAt})
			}
			p.Incident = wi
			for _, s := range inc.Services {
				p.ComponentUpdates = append(p.ComponentUpdates, webhookComponent{ComponentID: strconv.FormatInt(s.ServiceID, 10), NewStatus: string(s.Status)})
			}
		}
	}
	out := make([]*tocsin.Message, len(hooks))
	for i, h := range hooks {
		body, err := json.Marshal(p)
		if err != nil {
			return nil, err
		}
		out[i] = &tocsin.Message{
			Channel: tocsin.ChannelWebhook, To: h.URL, Subject: n.Title, Body: string(body),
			Headers: map[string]string{webhookIDHeader: strconv.FormatInt(h.ID, 10)},
			Key:     fmt.Sprintf("notice:%d:webhook:%d", n.ID, h.ID),
		}
	}
	return out, nil
}
