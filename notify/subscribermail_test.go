package notify

import (
	"strings"
	"testing"
	"time"

	"github.com/tocsin-org/tocsin"
)

func TestSubscriberMail(t *testing.T) {
	paris, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 11, 24, 17, 40, 0, 0, time.UTC)
	sub := &tocsin.Subscriber{ID: 7, Email: "reader@example.org", Nonce: "nonce"}
	tests := []struct {
		name, lang string
		loc        *time.Location
		n          tocsin.Notice
		subject    string
		body       []string
	}{
		{"incident in French, host zone", "fr", paris,
			tocsin.Notice{ID: 3, Kind: tocsin.NoticeIncident, Title: "Mail lent", Status: "investigating", Body: "On **cherche**.", Path: "/incidents/2/", At: at},
			"Mail lent", []string{"2026-11-24 18:40 CET (Europe/Paris)", "On cherche.", "https://status.example.org/fr/incidents/2/"}},
		{"maintenance reminder in English, UTC by default", "en", nil,
			tocsin.Notice{ID: 4, Kind: tocsin.NoticeMaintenance, Title: "Upgrade", Status: tocsin.NoticeReminder, Body: "Tonight.", Path: "/incidents/5/", At: at},
			"Upgrade: Starts soon", []string{"2026-11-24 17:40 UTC (UTC)", "Details of this maintenance:"}},
		{"maintenance status named", "en", paris,
			tocsin.Notice{ID: 5, Kind: tocsin.NoticeMaintenance, Title: "Upgrade", Status: "in_progress", Body: "Started.", Path: "/incidents/5/", At: at},
			"Upgrade: In progress", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := *sub
			s.Lang = tt.lang
			c := SubscriberMail{BaseURL: "https://status.example.org", Key: []byte("0123456789abcdef0123456789abcdef"), Location: tt.loc}
			m := c.Compose(&tt.n, noticeText(&tt.n), &s)
			if !strings.HasPrefix(m.Subject, tt.subject) {
				t.Errorf("subject %q, want it to start with %q", m.Subject, tt.subject)
			}
			for _, want := range tt.body {
				if !strings.Contains(m.Body, want) {
					t.Errorf("body lacks %q:\n%s", want, m.Body)
				}
			}
			if m.To != s.Email || m.Headers["List-Unsubscribe-Post"] != "List-Unsubscribe=One-Click" || !strings.HasPrefix(m.Headers["List-Unsubscribe"], "<https://status.example.org/unsubscribe/7/") {
				t.Errorf("message %+v", m)
			}
		})
	}
}
