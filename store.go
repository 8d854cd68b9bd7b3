package tocsin

import "context"

// Store is everything tocsin keeps. sqlstore implements it over SQLite and
// PostgreSQL.
type Store interface {
	UserService
	SessionService
	TokenService
	AuditService
	OutboxService
	ServiceService
	IncidentService
	SignalService
	SecurityIncidentService
	BreachService
	EvidenceService
	RunbookService
	SecurityCommsService
	SubscriberService
	NoticeService
	WebhookService
	MaintenanceService
	PostmortemService
	PagingService
	CheckService
	CheckHistoryService
	Ping(ctx context.Context) error
	Close() error
}
