package sqlstore

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/tocsin-org/tocsin"
)

// Audit entries of subscribers name them by ID with their language and
// services: never by address, which is personal data.

const subscriberColumns = `id, email, lang, all_services, status, nonce, confirm_until, confirm_sent_at, confirmed_at, created_at`

func scanSubscriber(sc rowScanner) (*tocsin.Subscriber, error) {
	var s tocsin.Subscriber
	err := sc.Scan(&s.ID, &s.Email, &s.Lang, &s.AllServices, &s.Status, &s.Nonce, nullTimeScan{&s.ConfirmUntil},
		nullTimeScan{&s.ConfirmSentAt}, nullTimeScan{&s.ConfirmedAt}, timeScan{&s.CreatedAt})
	if err != nil {
		return nil, err
	}
	return &s, nil
}

func subscriberNotFound(id int64) error {
	return tocsin.Errorf(tocsin.ENOTFOUND, "subscriber %d does not exist", id).WithKey("subscribers.not_found", id)
}

func linkNotFound() error {
	return tocsin.Errorf(tocsin.ENOTFOUND, "this confirmation link is not valid or has expired; subscribe again to get a new one").
		WithKey("subscribe.link_invalid")
}

func subscriberTarget(id int64) string { return fmt.Sprintf("subscriber:%d", id) }

// subscriberSummary is what an audit entry keeps of a subscriber.
func subscriberSummary(s *tocsin.Subscriber) string {
	services := "all"
	if !s.AllServices {
		parts := make([]string, len(s.ServiceIDs))
		for i, id := range s.ServiceIDs {
			parts[i] = strconv.FormatInt(id, 10)
		}
		services = strings.Join(parts, ",")
	}
	return fmt.Sprintf("status=%s lang=%s services=%s", s.Status, s.Lang, services)
}

// fillServices reads the chosen services of subs in one query.
func (c conn) fillServices(ctx context.Context, subs []*tocsin.Subscriber) error {
	if len(subs) == 0 {
		return nil
	}
	byID := make(map[int64]*tocsin.Subscriber, len(subs))
	ids := make([]int64, len(subs))
	for i, s := range subs {
		byID[s.ID], ids[i] = s, s.ID
		s.ServiceIDs = nil
	}
	type pair struct{ sub, svc int64 }
	pairs, err := list(ctx, c, func(sc rowScanner) (pair, error) {
		var p pair
		err := sc.Scan(&p.sub, &p.svc)
		return p, err
	}, `SELECT subscriber_id, service_id FROM subscriber_services WHERE subscriber_id IN (`+c.idsIn()+`)
		ORDER BY subscriber_id, service_id`, jsonIDs(ids))
	if err != nil {
		return fmt.Errorf("subscriber services: %w", err)
	}
	for _, p := range pairs {
		s := byID[p.sub]
		s.ServiceIDs = append(s.ServiceIDs, p.svc)
	}
	return nil
}

func (c conn) subscriberWhere(ctx context.Context, where string, args ...any) (*tocsin.Subscriber, error) {
	s, err := scanSubscriber(c.queryRow(ctx, `SELECT `+subscriberColumns+` FROM subscribers WHERE `+where, args...))
	if err != nil {
		return nil, err
	}
	if err := c.fillServices(ctx, []*tocsin.Subscriber{s}); err != nil {
		return nil, err
	}
	return s, nil
}

func (c conn) setSubscriberServices(ctx context.Context, id int64, ids []int64) error {
	if _, err := c.exec(ctx, `DELETE FROM subscriber_services WHERE subscriber_id = ?`, id); err != nil {
		return err
	}
	for _, svc := range ids {
		if _, err := c.exec(ctx, `INSERT INTO subscriber_services (subscriber_id, service_id) VALUES (?, ?)`, id, svc); err != nil {
			return err
		}
	}
	return nil
}

// checkServiceIDs returns EINVALID naming the first unknown service.
func (c conn) checkServiceIDs(ctx context.Context, ids []int64) error {
	for _, id := range ids {
		var one int
		err := c.queryRow(ctx, `SELECT 1 FROM services WHERE id = ?`, id).Scan(&one)
		if errors.Is(err, sql.ErrNoRows) {
			return tocsin.Errorf(tocsin.EINVALID, "there is no service %d", id).WithKey("subscribe.service_unknown", id)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

func newNonce() (string, error) {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return hex.EncodeToString(b), nil
}

// Subscribe records a subscription request; see tocsin.SubscriberService.
func (db *DB) Subscribe(ctx context.Context, a tocsin.Actor, req *tocsin.SubscribeRequest) (tocsin.SubscribeOutcome, error) {
	if err := req.Validate(); err != nil {
		return "", err
	}
	if req.TokenHash == "" || req.Confirm == nil {
		return "", tocsin.Errorf(tocsin.EINVALID, "a subscription needs a confirmation token and its mail")
	}
	now := db.now()
	var outcome tocsin.SubscribeOutcome
	err := db.update(ctx, func(tx conn) error {
		if err := tx.checkServiceIDs(ctx, req.ServiceIDs); err != nil {
			return err
		}
		if _, err := tx.exec(ctx, `INSERT INTO subscribe_attempts (at, net, email_hash) VALUES (?, ?, ?)`,
			now, req.Net, req.EmailHash); err != nil {
			return err
		}
		old, err := tx.subscriberWhere(ctx, `email = ?`, req.Email)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		if old != nil && old.Status == tocsin.SubscriberConfirmed {
			outcome = tocsin.SubscribeAlready
			return tx.audit(ctx, a, "subscriber.subscribe", subscriberTarget(old.ID), subscriberSummary(old), "unchanged")
		}
		until := now.Add(tocsin.ConfirmLifetime)
		s := &tocsin.Subscriber{Email: req.Email, Lang: req.Lang, AllServices: req.AllServices, ServiceIDs: req.ServiceIDs,
			Status: tocsin.SubscriberPending, CreatedAt: now}
		before := ""
		mail := old == nil || old.ConfirmSentAt == nil || now.Sub(*old.ConfirmSentAt) >= tocsin.ConfirmResendAfter
		if old == nil {
			if s.Nonce, err = newNonce(); err != nil {
				return err
			}
			err = tx.queryRow(ctx, `INSERT INTO subscribers (email, lang, all_services, status, nonce, confirm_hash, confirm_until, confirm_sent_at, created_at)
				VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
				s.Email, s.Lang, s.AllServices, string(s.Status), s.Nonce, req.TokenHash, until, now, now).Scan(&s.ID)
			if err != nil {
				return err
			}
		} else {
			s.ID, before = old.ID, subscriberSummary(old)
			if mail {
				_, err = tx.exec(ctx, `UPDATE subscribers SET lang = ?, all_services = ?, confirm_hash = ?, confirm_until = ?, confirm_sent_at = ?
					WHERE id = ?`, s.Lang, s.AllServices, req.TokenHash, until, now, s.ID)
			} else {
				_, err = tx.exec(ctx, `UPDATE subscribers SET lang = ?, all_services = ? WHERE id = ?`, s.Lang, s.AllServices, s.ID)
			}
			if err != nil {
				return err
			}
		}
		if err := tx.setSubscriberServices(ctx, s.ID, s.ServiceIDs); err != nil {
			return err
		}
		after := subscriberSummary(s)
		outcome = tocsin.SubscribeSuppressed
		if mail {
			outcome = tocsin.SubscribeMailed
			after += " confirmation=mailed"
		}
		if err := tx.audit(ctx, a, "subscriber.subscribe", subscriberTarget(s.ID), before, after); err != nil {
			return err
		}
		if mail {
			return tx.enqueue(ctx, []*tocsin.Message{req.Confirm})
		}
		return nil
	})
	if err != nil {
		return "", err
	}
	return outcome, nil
}

// CountSubscribeAttempts counts recorded attempts matching f.
func (db *DB) CountSubscribeAttempts(ctx context.Context, f tocsin.SubscribeAttemptFilter) (int, error) {
	where, args := []string{`at >= ?`}, []any{f.Since}
	if f.Net != "" {
		where, args = append(where, `net = ?`), append(args, f.Net)
	}
	if f.EmailHash != "" {
		where, args = append(where, `email_hash = ?`), append(args, f.EmailHash)
	}
	var n int
	err := db.read().queryRow(ctx, `SELECT COUNT(*) FROM subscribe_attempts WHERE `+strings.Join(where, ` AND `), args...).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("sqlstore: count subscribe attempts: %w", err)
	}
	return n, nil
}

// PendingSubscriberByToken returns the pending subscriber whose unexpired
// link has this hash.
func (db *DB) PendingSubscriberByToken(ctx context.Context, tokenHash string, now time.Time) (*tocsin.Subscriber, error) {
	s, err := db.read().subscriberWhere(ctx, `confirm_hash = ? AND status = 'pending' AND confirm_until > ?`, tokenHash, now)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, linkNotFound()
	}
	return s, wrapErr(err)
}

// ConfirmSubscriber confirms the pending subscriber whose unexpired link
// has this hash, with the audit entry "subscriber.confirm"; the link then
// stops working.
func (db *DB) ConfirmSubscriber(ctx context.Context, a tocsin.Actor, tokenHash string, now time.Time) (*tocsin.Subscriber, error) {
	var s *tocsin.Subscriber
	err := db.update(ctx, func(tx conn) error {
		var err error
		s, err = tx.subscriberWhere(ctx, `confirm_hash = ? AND status = 'pending' AND confirm_until > ?`, tokenHash, now)
		if errors.Is(err, sql.ErrNoRows) {
			return linkNotFound()
		}
		if err != nil {
			return err
		}
		before := subscriberSummary(s)
		at := now.UTC().Truncate(time.Microsecond)
		if _, err := tx.exec(ctx, `UPDATE subscribers SET status = 'confirmed', confirmed_at = ?, confirm_hash = NULL, confirm_until = NULL
			WHERE id = ?`, at, s.ID); err != nil {
			return err
		}
		s.Status, s.ConfirmedAt, s.ConfirmUntil = tocsin.SubscriberConfirmed, &at, nil
		return tx.audit(ctx, a, "subscriber.confirm", subscriberTarget(s.ID), before, subscriberSummary(s))
	})
	if err != nil {
		return nil, err
	}
	return s, nil
}

// Subscriber returns one subscriber with its services.
func (db *DB) Subscriber(ctx context.Context, id int64) (*tocsin.Subscriber, error) {
	s, err := db.read().subscriberWhere(ctx, `id = ?`, id)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, subscriberNotFound(id)
	}
	return s, wrapErr(err)
}

// Subscribers returns the subscribers f selects, newest first (at most 1000).
func (db *DB) Subscribers(ctx context.Context, f tocsin.SubscriberFilter) ([]*tocsin.Subscriber, error) {
	q, args := `SELECT `+subscriberColumns+` FROM subscribers`, []any{}
	if f.Status != "" {
		q, args = q+` WHERE status = ?`, append(args, string(f.Status))
	}
	q += ` ORDER BY id DESC LIMIT ? OFFSET ?`
	args = append(args, limitOr(f.Limit, 100, 1000), max(f.Offset, 0))
	c := db.read()
	out, err := list(ctx, c, scanSubscriber, q, args...)
	if err == nil {
		err = c.fillServices(ctx, out)
	}
	if err != nil {
		return nil, fmt.Errorf("sqlstore: subscribers: %w", err)
	}
	return out, nil
}

// CountSubscribers counts subscribers in status, or all for "".
func (db *DB) CountSubscribers(ctx context.Context, status tocsin.SubscriberStatus) (int, error) {
	var n int
	err := db.read().queryRow(ctx, `SELECT COUNT(*) FROM subscribers WHERE ? = '' OR status = ?`, string(status), string(status)).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("sqlstore: count subscribers: %w", err)
	}
	return n, nil
}

// DeleteSubscriber erases subscriber id and its services, with the audit
// entry action, which keeps its ID, status, language and services but not
// its address. Messages already queued for it stay until sent.
func (db *DB) DeleteSubscriber(ctx context.Context, a tocsin.Actor, id int64, action string) error {
	if action != "subscriber.unsubscribe" && action != "subscriber.erase" {
		return tocsin.Errorf(tocsin.EINVALID, "unknown subscriber deletion %q", action)
	}
	return db.update(ctx, func(tx conn) error {
		s, err := tx.subscriberWhere(ctx, `id = ?`, id)
		if errors.Is(err, sql.ErrNoRows) {
			return subscriberNotFound(id)
		}
		if err != nil {
			return err
		}
		if _, err := tx.exec(ctx, `DELETE FROM subscribers WHERE id = ?`, id); err != nil {
			return err
		}
		return tx.audit(ctx, a, action, subscriberTarget(id), subscriberSummary(s), "deleted")
	})
}

// PruneSubscribeAttempts deletes attempts older than before, and pending
// subscribers whose link expired before it (they never confirmed).
func (db *DB) PruneSubscribeAttempts(ctx context.Context, before time.Time) (int, error) {
	var n int64
	err := db.update(ctx, func(tx conn) error {
		res, err := tx.exec(ctx, `DELETE FROM subscribe_attempts WHERE at < ?`, before)
		if err != nil {
			return err
		}
		if n, err = res.RowsAffected(); err != nil {
			return err
		}
		res, err = tx.exec(ctx, `DELETE FROM subscribers WHERE status = 'pending' AND confirm_until < ?`, before)
		if err != nil {
			return err
		}
		m, err := res.RowsAffected()
		n += m
		return err
	})
	return int(n), err
}
