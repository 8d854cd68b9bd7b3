package tocsin

import (
	"context"
	"time"
)

// Channel names a way of delivering a message. A webhook's is in
// webhook.go; ChannelMatrix posts to a Matrix room.
const (
	ChannelEmail  = "email"
	ChannelMatrix = "matrix"
)

// Message is one outgoing message to one recipient, written to the outbox in
// the same transaction as the change that causes it, and delivered by a
// worker. A message never has several recipients.
type Message struct {
	ID      int64
	Channel string
	To      string
	Subject string
	Body    string            // text/plain, UTF-8
	Headers map[string]string // extra headers, such as List-Unsubscribe
	// Key is unique: enqueuing the same key twice stores one message. The
	// delivery uses it too (the e-mail Message-ID), so a receiver can drop a
	// copy sent again after a crash between send and acknowledgement.
	Key string

	Attempts      int
	NextAttemptAt time.Time
	LockedUntil   *time.Time
	SentAt        *time.Time
	DeadAt        *time.Time // gave up after the last retry
	LastError     string
	CreatedAt     time.Time
}

// OutboxStats counts messages by state, for metrics and the console.
type OutboxStats struct {
	Pending int // not sent, not given up
	Dead    int
	Sent    int
}

// OutboxService is the outbox as the delivery worker sees it.
type OutboxService interface {
	// ClaimMessages leases up to limit due messages of the given channels
	// until now+lease and counts an attempt on each. A worker that dies
	// loses its lease, and the message is claimed again after it expires.
	// Messages of other channels wait, untouched, until a worker that has
	// their channel claims them (e-mail without smtp.host, say).
	ClaimMessages(ctx context.Context, now time.Time, lease time.Duration, limit int, channels []string) ([]*Message, error)
	MarkSent(ctx context.Context, id int64, at time.Time) error
	// MarkRetry releases the lease and schedules the next attempt.
	MarkRetry(ctx context.Context, id int64, errText string, next time.Time) error
	MarkDead(ctx context.Context, id int64, errText string, at time.Time) error
	OutboxStats(ctx context.Context) (OutboxStats, error)
	// PruneMessages deletes messages sent or given up before before.
	PruneMessages(ctx context.Context, before time.Time) (int, error)
	Messages(ctx context.Context, limit int) ([]*Message, error)
}
