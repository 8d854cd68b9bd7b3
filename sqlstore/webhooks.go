package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/tocsin-org/tocsin"
)

const webhookColumns = `id, url, all_services, secret_sealed, created_by, created_at`

func scanWebhook(sc rowScanner) (*tocsin.Webhook, error) {
	var w tocsin.Webhook
	if err := sc.Scan(&w.ID, &w.URL, &w.AllServices, &w.SecretSealed, &w.CreatedBy, timeScan{&w.CreatedAt}); err != nil {
		return nil, err
	}
	return &w, nil
}

func webhookNotFound(id int64) error {
	return tocsin.Errorf(tocsin.ENOTFOUND, "webhook %d does not exist", id).WithKey("webhooks.not_found", id)
}

// fillWebhookServices reads the chosen services of ws in one query.
func (c conn) fillWebhookServices(ctx context.Context, ws []*tocsin.Webhook) error {
	if len(ws) == 0 {
		return nil
	}
	byID := make(map[int64]*tocsin.Webhook, len(ws))
	ids := make([]int64, len(ws))
	for i, w := range ws {
		byID[w.ID], ids[i] = w, w.ID
		w.ServiceIDs = nil
	}
	type pair struct{ hook, svc int64 }
	pairs, err := list(ctx, c, func(sc rowScanner) (pair, error) {
		var p pair
		err := sc.Scan(&p.hook, &p.svc)
		return p, err
	}, `SELECT webhook_id, service_id FROM webhook_services WHERE webhook_id IN (`+c.idsIn()+`) ORDER BY webhook_id, service_id`, jsonIDs(ids))
	for _, p := range pairs {
		byID[p.hook].ServiceIDs = append(byID[p.hook].ServiceIDs, p.svc)
	}
	return err
}

func webhookSummary(w *tocsin.Webhook) string {
	services := "all"
	if !w.AllServices {
		parts := make([]string, len(w.ServiceIDs))
		for i, id := range w.ServiceIDs {
			parts[i] = strconv.FormatInt(id, 10)
		}
		services = strings.Join(parts, ",")
	}
	return fmt.Sprintf("url=%q services=%s", w.URL, services)
}

// CreateWebhook validates w and stores it with the audit entry
// "webhook.create" (which keeps the URL, not the secret).
func (db *DB) CreateWebhook(ctx context.Context, a tocsin.Actor, w *tocsin.Webhook) error {
	if err := w.Validate(); err != nil {
		return err
	}
	if len(w.SecretSealed) == 0 {
		return tocsin.Errorf(tocsin.EINVALID, "a webhook needs a sealed secret")
	}
	w.CreatedBy, w.CreatedAt = a.Label, db.now()
	return db.update(ctx, func(tx conn) error {
		if err := tx.checkServiceIDs(ctx, w.ServiceIDs); err != nil {
			return err
		}
		err := tx.queryRow(ctx, `INSERT INTO webhooks (url, all_services, secret_sealed, created_by, created_at) VALUES (?, ?, ?, ?, ?) RETURNING id`,
			w.URL, w.AllServices, w.SecretSealed, w.CreatedBy, w.CreatedAt).Scan(&w.ID)
		if err != nil {
			return err
		}
		for _, svc := range w.ServiceIDs {
			if _, err := tx.exec(ctx, `INSERT INTO webhook_services (webhook_id, service_id) VALUES (?, ?)`, w.ID, svc); err != nil {
				return err
			}
		}
		return tx.audit(ctx, a, "webhook.create", fmt.Sprintf("webhook:%d", w.ID), "", webhookSummary(w))
	})
}

// Webhook returns one webhook with its services.
func (db *DB) Webhook(ctx context.Context, id int64) (*tocsin.Webhook, error) {
	c := db.read()
	w, err := scanWebhook(c.queryRow(ctx, `SELECT `+webhookColumns+` FROM webhooks WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, webhookNotFound(id)
	}
	if err == nil {
		err = c.fillWebhookServices(ctx, []*tocsin.Webhook{w})
	}
	return w, wrapErr(err)
}

// Webhooks returns every webhook, oldest first.
func (db *DB) Webhooks(ctx context.Context) ([]*tocsin.Webhook, error) {
	c := db.read()
	out, err := list(ctx, c, scanWebhook, `SELECT `+webhookColumns+` FROM webhooks ORDER BY id`)
	if err == nil {
		err = c.fillWebhookServices(ctx, out)
	}
	if err != nil {
		return nil, fmt.Errorf("sqlstore: webhooks: %w", err)
	}
	return out, nil
}

// DeleteWebhook deletes webhook id with the audit entry "webhook.delete";
// messages already queued for it are given up by the channel.
func (db *DB) DeleteWebhook(ctx context.Context, a tocsin.Actor, id int64) error {
	return db.update(ctx, func(tx conn) error {
		w, err := scanWebhook(tx.queryRow(ctx, `SELECT `+webhookColumns+` FROM webhooks WHERE id = ?`, id))
		if errors.Is(err, sql.ErrNoRows) {
			return webhookNotFound(id)
		}
		if err != nil {
			return err
		}
		if err := tx.fillWebhookServices(ctx, []*tocsin.Webhook{w}); err != nil {
			return err
		}
		if _, err := tx.exec(ctx, `DELETE FROM webhooks WHERE id = ?`, id); err != nil {
			return err
		}
		return tx.audit(ctx, a, "webhook.delete", fmt.Sprintf("webhook:%d", id), webhookSummary(w), "deleted")
	})
}

// NoticeWebhooks returns the webhooks whose services n concerns.
func (db *DB) NoticeWebhooks(ctx context.Context, n *tocsin.Notice) ([]*tocsin.Webhook, error) {
	c := db.read()
	q, args := `SELECT `+webhookColumns+` FROM webhooks`, []any{}
	if !n.AllServices {
		q += ` WHERE all_services = ? OR EXISTS (SELECT 1 FROM webhook_services ws
			WHERE ws.webhook_id = webhooks.id AND ws.service_id IN (` + c.idsIn() + `))`
		args = append(args, true, jsonIDs(n.ServiceIDs))
	}
	out, err := list(ctx, c, scanWebhook, q+` ORDER BY id`, args...)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: notice webhooks: %w", err)
	}
	return out, nil
}
