package deadline

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/tocsin-org/tocsin"
	"github.com/tocsin-org/tocsin/i18n"
)

// BreachStore is what the breach reminders read and write.
type BreachStore interface {
	Breaches(ctx context.Context) ([]*tocsin.Breach, error)
	SecurityIncident(ctx context.Context, id int64) (*tocsin.SecurityIncident, error)
	Users(ctx context.Context) ([]*tocsin.User, error)
	RemindBreach(ctx context.Context, a tocsin.Actor, id int64, what string, msgs []*tocsin.Message) (bool, error)
}

// BreachReminders is the duty that reminds the incident lead and the
// approvers of each running breach clock with nothing recorded, at 24 h,
// 12 h and 2 h left (tocsin.DueReminder): one e-mail per person and
// threshold, keyed gdpr:INC:CLOCK:24h:user:U, in the person's language
// (lang when they chose none). clocks are the clocks besides GDPR's that
// the host runs (config breach.nis2); baseURL links to the room; zone
// dates the deadline. It returns the next threshold of any clock.
func BreachReminders(store BreachStore, clocks []tocsin.ClockKind, lang, baseURL string, zone *time.Location) Duty {
	if zone == nil {
		zone = time.UTC
	}
	return Duty{Name: "breach reminders", Run: func(ctx context.Context, now time.Time) (time.Time, error) {
		breaches, err := store.Breaches(ctx)
		if err != nil {
			return time.Time{}, err
		}
		var next time.Time
		var users []*tocsin.User
		var errs []error
		for _, b := range breaches {
			for _, c := range b.Clocks(clocks) {
				if c.DoneAt != nil {
					continue
				}
				if n := tocsin.NextReminder(c.Deadline, now); !n.IsZero() && (next.IsZero() || n.Before(next)) {
					next = n
				}
				th, ok := tocsin.DueReminder(c.Deadline, now)
				if !ok {
					continue
				}
				if users == nil {
					if users, err = store.Users(ctx); err != nil {
						return next, err
					}
				}
				if err := remindBreach(ctx, store, users, b, c, th, now, lang, baseURL, zone); err != nil {
					errs = append(errs, fmt.Errorf("incident %d %s: %w", b.IncidentID, c.Kind, err))
				}
			}
		}
		return next, errors.Join(errs...)
	}}
}

// remindBreach enqueues the reminders of clock c's threshold th.
func remindBreach(ctx context.Context, store BreachStore, users []*tocsin.User, b *tocsin.Breach, c tocsin.Clock, th time.Duration,
	now time.Time, lang, baseURL string, zone *time.Location) error {
	inc, err := store.SecurityIncident(ctx, b.IncidentID)
	if err != nil {
		return err
	}
	var to []*tocsin.User
	add := func(u *tocsin.User) {
		if u != nil && !u.Disabled() && !slices.ContainsFunc(to, func(x *tocsin.User) bool { return x.ID == u.ID }) {
			to = append(to, u)
		}
	}
	if l := inc.Lead(); l != nil {
		for _, u := range users {
			if u.ID == l.UserID {
				add(u)
			}
		}
	}
	for _, u := range users {
		if u.Roles.Allows(tocsin.RoleApprover) {
			add(u)
		}
	}
	if len(to) == 0 {
		return nil
	}
	label := tocsin.ThresholdLabel(th)
	msgs := make([]*tocsin.Message, len(to))
	for i, u := range to {
		l := u.Lang
		if l == "" {
			l = lang
		}
		clock := i18n.T(l, "breach.clock."+string(c.Kind))
		msgs[i] = &tocsin.Message{
			Channel: tocsin.ChannelEmail, To: u.Email,
			Subject: i18n.T(l, "mail.breach_reminder.subject", label, clock, b.IncidentID, inc.Title),
			Body: i18n.T(l, "mail.breach_reminder.body", clock, b.IncidentID, inc.Title, c.Deadline.In(zone).Format("2006-01-02 15:04 MST"),
				tocsin.FormatDuration(c.Left(now)), fmt.Sprintf("%s/console/security/%d", baseURL, b.IncidentID)),
			Key: fmt.Sprintf("gdpr:%d:%s:%s:user:%d", b.IncidentID, c.Kind, label, u.ID),
		}
	}
	_, err = store.RemindBreach(ctx, tocsin.System, b.IncidentID, string(c.Kind)+":"+label, msgs)
	return err
}
