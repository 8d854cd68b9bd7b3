package tocsin

import (
	"context"
	"net/url"
	"slices"
	"strings"
	"time"
)

// ChannelWebhook delivers a signed JSON payload to a webhook subscription.
const ChannelWebhook = "webhook"

// Webhook is a subscription staff create for a program: every announced
// update of its services (or of all) is POSTed to URL as JSON, signed with
// HMAC-SHA256 under a secret shown once at creation and kept sealed with
// the at-rest key.
type Webhook struct {
	ID           int64
	URL          string
	AllServices  bool
	ServiceIDs   []int64
	SecretSealed []byte
	CreatedBy    string
	CreatedAt    time.Time
}

// Validate checks the URL (absolute http or https, with a host and no
// credentials) and the services.
func (w *Webhook) Validate() error {
	w.URL = strings.TrimSpace(w.URL)
	u, err := url.Parse(w.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil || len(w.URL) > 2000 || u.Fragment != "" {
		return Errorf(EINVALID, "the webhook URL must be an absolute http:// or https:// address without credentials").WithKey("webhooks.url_invalid")
	}
	if w.AllServices {
		w.ServiceIDs = nil
	} else {
		if len(w.ServiceIDs) == 0 {
			return Errorf(EINVALID, "choose all services or at least one").WithKey("subscribe.services_empty")
		}
		slices.Sort(w.ServiceIDs)
		w.ServiceIDs = slices.Compact(w.ServiceIDs)
	}
	return nil
}

// WebhookService keeps webhook subscriptions; creating and deleting one
// writes its audit entry.
type WebhookService interface {
	CreateWebhook(ctx context.Context, a Actor, w *Webhook) error
	Webhook(ctx context.Context, id int64) (*Webhook, error)
	Webhooks(ctx context.Context) ([]*Webhook, error)
	DeleteWebhook(ctx context.Context, a Actor, id int64) error
	// NoticeWebhooks returns the webhooks n concerns.
	NoticeWebhooks(ctx context.Context, n *Notice) ([]*Webhook, error)
}
