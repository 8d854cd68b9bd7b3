package runbooks

import (
	"context"
	"strconv"
	"strings"
	"time"

	"github.com/tocsin-org/tocsin"
	"github.com/tocsin-org/tocsin/deadline"
	"github.com/tocsin-org/tocsin/i18n"
)

// Reminders is the duty that e-mails the owner of each overdue task once
// per due time, in the owner's language (English when they chose none),
// with a link to the incident's room at baseURL and the due time in loc.
func Reminders(s tocsin.RunbookService, baseURL string, loc *time.Location) deadline.Duty {
	baseURL = strings.TrimSuffix(baseURL, "/")
	return deadline.Duty{
		Name: "task reminders",
		Run: func(ctx context.Context, now time.Time) (time.Time, error) {
			return s.RemindOverdueTasks(ctx, now, func(t *tocsin.Task, owner *tocsin.User) *tocsin.Message {
				return ReminderMessage(t, owner, baseURL, loc)
			})
		},
	}
}

// ReminderMessage is the e-mail reminding owner of overdue task t.
func ReminderMessage(t *tocsin.Task, owner *tocsin.User, baseURL string, loc *time.Location) *tocsin.Message {
	lang := owner.Lang
	if lang == "" {
		lang = "en"
	}
	id := strconv.FormatInt(t.IncidentID, 10)
	due := t.DueAt.In(loc).Format("2006-01-02 15:04 MST")
	return &tocsin.Message{
		Channel: tocsin.ChannelEmail,
		To:      owner.Email,
		Subject: i18n.T(lang, "task.reminder_subject", t.Title, id),
		Body:    i18n.T(lang, "task.reminder_body", t.Title, id, due, baseURL+"/console/security/"+id+"#tasks-h"),
	}
}
