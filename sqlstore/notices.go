package sqlstore

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/tocsin-org/tocsin"
)

// A notice is written in the transaction that publishes what it announces
// (one row, whatever the number of subscribers); the fan-out then turns it
// into outbox messages in batches, each batch in a transaction of its own
// that also moves the notice's cursor. Message keys are derived from the
// notice and the subscriber, and inserted with ON CONFLICT DO NOTHING, so a
// batch replayed after a crash adds nothing.

const noticeColumns = `id, key, kind, subject_id, title, status, body, path, services, all_services, at, cursor, done_at, created_at`

func scanNotice(sc rowScanner) (*tocsin.Notice, error) {
	var (
		n        tocsin.Notice
		services string
	)
	err := sc.Scan(&n.ID, &n.Key, &n.Kind, &n.SubjectID, &n.Title, &n.Status, &n.Body, &n.Path, &services, &n.AllServices,
		timeScan{&n.At}, &n.Cursor, nullTimeScan{&n.DoneAt}, timeScan{&n.CreatedAt})
	if err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(services), &n.ServiceIDs); err != nil {
		return nil, fmt.Errorf("notice %d services: %w", n.ID, err)
	}
	return &n, nil
}

// insertNotice records n inside tx, the transaction of the change it
// announces; a notice whose key exists is left alone. Other mutations that
// announce something call it in their own transaction.
func (c conn) insertNotice(ctx context.Context, n *tocsin.Notice) error {
	if err := n.Validate(); err != nil {
		return err
	}
	now := c.now()
	if n.At.IsZero() {
		n.At = now
	}
	n.CreatedAt = now
	ids := n.ServiceIDs
	if ids == nil {
		ids = []int64{}
	}
	_, err := c.exec(ctx, `INSERT INTO notices (key, kind, subject_id, title, status, body, path, services, all_services, at, cursor, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0, ?) ON CONFLICT (key) DO NOTHING`,
		n.Key, string(n.Kind), n.SubjectID, n.Title, n.Status, n.Body, n.Path, jsonIDs(ids), n.AllServices, n.At, n.CreatedAt)
	if err != nil {
		return fmt.Errorf("record notice: %w", err)
	}
	return c.queryRow(ctx, `SELECT id FROM notices WHERE key = ?`, n.Key).Scan(&n.ID)
}

// noticeOfUpdate is the notice of a published incident's update.
func (c conn) noticeOfUpdate(ctx context.Context, incidentID, updateID int64) error {
	inc, err := c.incident(ctx, incidentID)
	if err != nil {
		return err
	}
	var u *tocsin.Update
	for _, x := range inc.Updates {
		if x.ID == updateID {
			u = x
		}
	}
	if u == nil {
		return fmt.Errorf("update %d of incident %d not found", updateID, incidentID)
	}
	n := noticeOf(inc, fmt.Sprintf("incident:%d:update:%d", incidentID, updateID), string(u.Status), u.Body, u.DisplayAt)
	return c.insertNotice(ctx, n)
}

// noticeOf is a notice about inc, to the subscribers of its services. A
// maintenance's updates (announced, started, completed) and its reminder
// go out like an incident's.
func noticeOf(inc *tocsin.Incident, key, status, body string, at time.Time) *tocsin.Notice {
	n := &tocsin.Notice{
		Key: key, Kind: tocsin.NoticeIncident, SubjectID: inc.ID,
		Title: inc.Title, Status: status, Body: body,
		Path: fmt.Sprintf("/incidents/%d/", inc.ID), At: at,
	}
	if inc.Maintenance() {
		n.Kind = tocsin.NoticeMaintenance
	}
	for _, s := range inc.Services {
		n.ServiceIDs = append(n.ServiceIDs, s.ServiceID)
	}
	return n
}

// noticeOfReminder tells the subscribers of maintenance id's services that
// it starts soon, with its latest update's text; nothing for a draft.
func (c conn) noticeOfReminder(ctx context.Context, id int64) error {
	inc, err := c.incident(ctx, id)
	if err != nil || !inc.Published() || len(inc.Updates) == 0 || inc.ScheduledFor == nil {
		return err
	}
	n := noticeOf(inc, fmt.Sprintf("maintenance:%d:reminder", id), tocsin.NoticeReminder, inc.Updates[0].Body, *inc.ScheduledFor)
	return c.insertNotice(ctx, n)
}

// NotifySubscribers records n, with the audit entry "notice.create"; see
// tocsin.NoticeService.
func (db *DB) NotifySubscribers(ctx context.Context, a tocsin.Actor, n *tocsin.Notice) error {
	return db.update(ctx, func(tx conn) error {
		if err := tx.insertNotice(ctx, n); err != nil {
			return err
		}
		return tx.audit(ctx, a, "notice.create", fmt.Sprintf("notice:%d", n.ID), "", "key="+n.Key)
	})
}

// PendingNotices returns notices not yet fully expanded, oldest first.
func (db *DB) PendingNotices(ctx context.Context, limit int) ([]*tocsin.Notice, error) {
	out, err := list(ctx, db.read(), scanNotice, `SELECT `+noticeColumns+` FROM notices WHERE done_at IS NULL ORDER BY id LIMIT ?`,
		limitOr(limit, 10, 100))
	if err != nil {
		return nil, fmt.Errorf("sqlstore: pending notices: %w", err)
	}
	return out, nil
}

// NoticeRecipients returns confirmed subscribers of n above after, by ID.
func (db *DB) NoticeRecipients(ctx context.Context, n *tocsin.Notice, after int64, limit int) ([]*tocsin.Subscriber, error) {
	c := db.read()
	where := []string{`status = 'confirmed'`, `id > ?`}
	args := []any{after}
	if !n.AllServices {
		where = append(where, `(all_services = ? OR EXISTS (SELECT 1 FROM subscriber_services ss
			WHERE ss.subscriber_id = subscribers.id AND ss.service_id IN (`+c.idsIn()+`)))`)
		args = append(args, true, jsonIDs(n.ServiceIDs))
	}
	args = append(args, limitOr(limit, 500, 5000))
	out, err := list(ctx, c, scanSubscriber, `SELECT `+subscriberColumns+` FROM subscribers WHERE `+strings.Join(where, ` AND `)+
		` ORDER BY id LIMIT ?`, args...)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: notice recipients: %w", err)
	}
	return out, nil
}

// AdvanceNotice enqueues msgs and moves the notice's cursor (never back),
// marking it done when done, in one transaction.
func (db *DB) AdvanceNotice(ctx context.Context, id, cursor int64, done bool, msgs []*tocsin.Message) error {
	return db.update(ctx, func(tx conn) error {
		if err := tx.enqueueBatch(ctx, msgs); err != nil {
			return err
		}
		var doneAt any
		if done {
			doneAt = db.now()
		}
		return tx.execOne(ctx, tocsin.Errorf(tocsin.ENOTFOUND, "notice %d does not exist", id),
			`UPDATE notices SET cursor = CASE WHEN cursor > ? THEN cursor ELSE ? END, done_at = COALESCE(done_at, ?) WHERE id = ?`,
			cursor, cursor, doneAt, id)
	})
}

// enqueueBatch is enqueue for the fan-out: the same checks and
// insert-or-ignore, without reading back each message's ID.
func (c conn) enqueueBatch(ctx context.Context, msgs []*tocsin.Message) error {
	now := c.now()
	for _, m := range msgs {
		if strings.TrimSpace(m.Key) == "" || m.Channel == "" || m.To == "" {
			return tocsin.Errorf(tocsin.EINVALID, "an outgoing message needs a key, a channel and a recipient")
		}
		headers := []byte("{}")
		if len(m.Headers) > 0 {
			var err error
			if headers, err = json.Marshal(m.Headers); err != nil {
				return fmt.Errorf("message headers: %w", err)
			}
		}
		_, err := c.exec(ctx, `INSERT INTO messages (channel, recipient, subject, body, headers, key, attempts, next_attempt_at, created_at)
			VALUES (?, ?, ?, ?, ?, ?, 0, ?, ?)
			ON CONFLICT (key) DO NOTHING`,
			m.Channel, m.To, m.Subject, m.Body, string(headers), m.Key, now, now)
		if err != nil {
			return fmt.Errorf("enqueue message: %w", err)
		}
	}
	return nil
}
