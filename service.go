package tocsin

import (
	"context"
	"slices"
	"strings"
	"time"
	"unicode/utf8"
)

// ServiceStatus is the state of a service as the public page shows it. The
// values are those of Atlassian Statuspage's components, so that its API
// clients read tocsin unchanged.
type ServiceStatus string

const (
	StatusOperational   ServiceStatus = "operational"
	StatusDegraded      ServiceStatus = "degraded_performance"
	StatusPartialOutage ServiceStatus = "partial_outage"
	StatusMajorOutage   ServiceStatus = "major_outage"
	StatusMaintenance   ServiceStatus = "under_maintenance"
)

// ServiceStatuses lists the statuses from best to worst; maintenance last.
var ServiceStatuses = []ServiceStatus{StatusOperational, StatusDegraded, StatusPartialOutage, StatusMajorOutage, StatusMaintenance}

// ParseServiceStatus validates a status name.
func ParseServiceStatus(s string) (ServiceStatus, error) {
	st := ServiceStatus(strings.TrimSpace(s))
	if slices.Contains(ServiceStatuses, st) {
		return st, nil
	}
	return "", Errorf(EINVALID, "unknown status %q: allowed are operational, degraded_performance, partial_outage, major_outage, under_maintenance", s).
		WithKey("services.status_unknown", s)
}

// Service is something a host runs for its users and shows on its status
// page: a Mastodon instance, mail, a wiki.
type Service struct {
	ID          int64
	Name        string
	Description string
	Link        string // optional URL of the service itself
	Group       string // "" for none; a group exists while a service names it
	Position    int    // order within its group
	Status      ServiceStatus
	// ConfigManaged services come from the configuration file, which wins
	// at every start; the console shows them as such.
	ConfigManaged bool
	// StatusPinned: a person set the status by hand, and the service's
	// checks leave it alone until it is unpinned.
	StatusPinned bool
	CreatedAt    time.Time
	UpdatedAt    time.Time
}

// Validate checks a service's fields and normalizes their spaces.
func (s *Service) Validate() error {
	s.Name = strings.TrimSpace(s.Name)
	s.Group = strings.TrimSpace(s.Group)
	s.Description = strings.TrimSpace(s.Description)
	s.Link = strings.TrimSpace(s.Link)
	switch {
	case s.Name == "" || utf8.RuneCountInString(s.Name) > 100:
		return Errorf(EINVALID, "a service needs a name of 1 to 100 characters").WithKey("services.name_invalid")
	case utf8.RuneCountInString(s.Group) > 100:
		return Errorf(EINVALID, "a group name has at most 100 characters").WithKey("services.group_invalid")
	case utf8.RuneCountInString(s.Description) > 1000:
		return Errorf(EINVALID, "a service description has at most 1000 characters").WithKey("services.description_invalid")
	case s.Link != "" && !strings.HasPrefix(s.Link, "https://") && !strings.HasPrefix(s.Link, "http://"):
		return Errorf(EINVALID, "link %q: give an http:// or https:// address", s.Link).WithKey("services.link_invalid", s.Link)
	case s.Position < 0 || s.Position > 10000:
		return Errorf(EINVALID, "position %d: give a number from 0 to 10000", s.Position).WithKey("services.position_invalid", s.Position)
	}
	if s.Status == "" {
		s.Status = StatusOperational
	}
	if _, err := ParseServiceStatus(string(s.Status)); err != nil {
		return err
	}
	return nil
}

// StatusChange is one entry of a service's status history, from which the
// uptime bars of the public page are computed.
type StatusChange struct {
	ServiceID int64
	Status    ServiceStatus
	At        time.Time
}

// ServiceService stores services and their status history.
type ServiceService interface {
	// Services returns every service, ordered by group (services without a
	// group first, then groups in the order of their first service's
	// position, then name) and position, then name.
	Services(ctx context.Context) ([]*Service, error)
	Service(ctx context.Context, id int64) (*Service, error)
	// CreateService inserts s; ECONFLICT if a service has the same name.
	CreateService(ctx context.Context, a Actor, s *Service) error
	// UpdateService replaces name, description, link, group and position;
	// ECONFLICT for a config-managed service (the file owns it).
	UpdateService(ctx context.Context, a Actor, s *Service) error
	// DeleteService removes a service and its history; ECONFLICT for a
	// config-managed one.
	DeleteService(ctx context.Context, a Actor, id int64) error
	// SetServiceStatus records a new status (nothing when it is unchanged).
	// Set by a person (any actor but System and Monitor), the status is
	// pinned: the service's checks no longer move it.
	SetServiceStatus(ctx context.Context, a Actor, id int64, status ServiceStatus, at time.Time) error
	// UnpinServiceStatus returns a pinned service to automatic status and
	// applies its checks' current standing at once.
	UnpinServiceStatus(ctx context.Context, a Actor, id int64) error
	// SyncConfigServices makes the config-managed services equal to specs:
	// it creates and updates them, marks services named in the file as
	// config-managed, and releases (but keeps) those no longer in it.
	SyncConfigServices(ctx context.Context, a Actor, specs []*Service) error
	// StatusHistory returns the changes since since, oldest first, plus the
	// last change before since of each service (its status at since).
	StatusHistory(ctx context.Context, since time.Time) ([]StatusChange, error)
}
