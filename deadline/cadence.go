package deadline

import (
	"context"
	"strconv"
	"time"

	"github.com/tocsin-org/tocsin"
	"github.com/tocsin-org/tocsin/i18n"
)

// CadenceStore is the store step of the cadence duty.
type CadenceStore interface {
	RemindCadence(ctx context.Context, now time.Time, def time.Duration, build func(*tocsin.CadenceReminder) *tocsin.Message) (time.Time, error)
}

// Cadence is the duty that reminds a security incident's communications
// lead (else its lead) when its open public incident went without a public
// update for longer than its cadence: every is the configured cadence (0:
// tocsin.DefaultCadence), baseURL the console's address for the link to
// the room, zone the time zone the message's times are written in. One
// e-mail per silence (key cadence:ID:since:UNIX), in the recipient's
// language.
func Cadence(store CadenceStore, every time.Duration, baseURL string, zone *time.Location) Duty {
	if zone == nil {
		zone = time.UTC
	}
	return Duty{Name: "cadence", Run: func(ctx context.Context, now time.Time) (time.Time, error) {
		return store.RemindCadence(ctx, now, every, func(r *tocsin.CadenceReminder) *tocsin.Message {
			return CadenceMessage(r, baseURL, zone)
		})
	}}
}

// CadenceMessage writes the reminder r as an e-mail.
func CadenceMessage(r *tocsin.CadenceReminder, baseURL string, zone *time.Location) *tocsin.Message {
	lang := r.Lang
	if !i18n.Supported(lang) {
		lang = i18n.Langs[0]
	}
	room := baseURL + "/console/security/" + strconv.FormatInt(r.SecurityID, 10)
	since := r.Since.In(zone).Format("2006-01-02 15:04 MST")
	return &tocsin.Message{
		Channel: tocsin.ChannelEmail,
		To:      r.Email,
		Key:     r.Key(),
		Subject: i18n.T(lang, "comms.mail.subject", r.SecurityID, r.PublicTitle),
		Body:    i18n.T(lang, "comms.mail.body", r.PublicTitle, since, tocsin.FormatDuration(r.Every), room),
	}
}
