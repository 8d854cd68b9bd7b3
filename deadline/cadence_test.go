package deadline

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tocsin-org/tocsin"
	"github.com/tocsin-org/tocsin/i18n"
	"github.com/tocsin-org/tocsin/internal/testpeer"
	"github.com/tocsin-org/tocsin/sqlstore"
)

// cadenceStore opens a migrated store of each backend.
func cadenceStores(t *testing.T, fn func(t *testing.T, db *sqlstore.DB)) {
	for name, database := range map[string]func(t testing.TB) string{
		"sqlite":   func(t testing.TB) string { return "sqlite:" + filepath.Join(t.TempDir(), "tocsin.db") },
		"postgres": testpeer.PostgresSchema,
	} {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			db, err := sqlstore.Open(ctx, database(t), "")
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { db.Close() })
			if _, err := db.Migrate(ctx); err != nil {
				t.Fatal(err)
			}
			fn(t, db)
		})
	}
}

// TestCadenceDuty replays a silent status page on a simulated clock from
// Friday 2026-11-20 16:40 UTC: the communications lead is reminded once
// after 60 minutes without a public update, in their language, not again
// for the same silence, again after the next silence, and never once the
// public incident is resolved.
func TestCadenceDuty(t *testing.T) {
	cadenceStores(t, func(t *testing.T, db *sqlstore.DB) {
		ctx := context.Background()
		friday := time.Date(2026, 11, 20, 16, 40, 0, 0, time.UTC)
		clock := friday
		db.SetClock(func() time.Time { return clock })
		defer db.SetClock(nil)
		paris, err := time.LoadLocation("Europe/Paris")
		if err != nil {
			t.Fatal(err)
		}
		w := &Worker{Duties: []Duty{Cadence(db, 0, "https://tocsin.example.org", paris)}}
		tick := func(at time.Time) time.Time {
			t.Helper()
			clock = at
			next, err := w.Tick(ctx, at)
			if err != nil {
				t.Fatalf("Tick at %v: %v", at, err)
			}
			return next
		}
		reminders := func() []*tocsin.Message {
			t.Helper()
			ms, err := db.Messages(ctx, 100)
			if err != nil {
				t.Fatal(err)
			}
			var out []*tocsin.Message
			for _, m := range ms {
				if strings.HasPrefix(m.Key, "cadence:") {
					out = append(out, m)
				}
			}
			return out
		}

		comms := &tocsin.User{Email: "comms@example.org", Name: "Camille", Roles: tocsin.Roles{tocsin.RoleCommunicator}, PasswordHash: "$argon2id$x"}
		if err := db.CreateUser(ctx, tocsin.CLI, comms); err != nil {
			t.Fatal(err)
		}
		if err := db.SetLang(ctx, tocsin.CLI, comms.ID, "fr"); err != nil {
			t.Fatal(err)
		}
		sec := &tocsin.SecurityIncident{Title: "Bucket", Severity: tocsin.SEV1, Kind: tocsin.KindDataExposure}
		if err := db.CreateSecurityIncident(ctx, tocsin.CLI, sec); err != nil {
			t.Fatal(err)
		}
		if err := db.AssignSecurityRole(ctx, tocsin.CLI, sec.ID, tocsin.RoleComms, comms.ID); err != nil {
			t.Fatal(err)
		}
		if next := tick(friday); !next.IsZero() {
			t.Errorf("no public incident, next = %v", next)
		}
		pub := &tocsin.Incident{Title: "Fichiers listés publiquement", PublishedAt: &friday}
		if err := db.CreatePublicIncident(ctx, tocsin.CLI, sec.ID, pub, &tocsin.Update{Status: tocsin.IncidentInvestigating, Body: "Nous enquêtons."}, nil); err != nil {
			t.Fatal(err)
		}

		steps := []struct {
			name     string
			at       time.Duration
			update   tocsin.IncidentStatus // published from the room at this time, before the tick
			wantNext time.Duration         // from friday; 0: none
			want     int                   // reminders queued so far
		}{
			{"59 min of silence", 59 * time.Minute, "", 60 * time.Minute, 0},
			{"60 min of silence", 60 * time.Minute, "", 0, 1},
			{"same silence later", 100 * time.Minute, "", 0, 1},
			{"an update ends the silence", 110 * time.Minute, tocsin.IncidentIdentified, 170 * time.Minute, 1},
			{"the next silence", 171 * time.Minute, "", 0, 2},
			{"resolved", 180 * time.Minute, tocsin.IncidentResolved, 0, 2},
			{"long after resolution", 30 * time.Hour, "", 0, 2},
		}
		for _, s := range steps {
			t.Run(s.name, func(t *testing.T) {
				clock = friday.Add(s.at)
				if s.update != "" {
					if err := db.PublishSecurityUpdate(ctx, tocsin.Actor{UserID: comms.ID, Label: comms.Email}, sec.ID,
						&tocsin.Update{Status: s.update, Body: "Point à " + clock.Format("15:04")}, nil); err != nil {
						t.Fatal(err)
					}
				}
				next := tick(friday.Add(s.at))
				if want := friday.Add(s.wantNext); s.wantNext == 0 && !next.IsZero() || s.wantNext != 0 && !next.Equal(want) {
					t.Errorf("next = %v, want %v", next, s.wantNext)
				}
				if got := reminders(); len(got) != s.want {
					t.Errorf("%d reminders, want %d", len(got), s.want)
				}
			})
		}
		ms := reminders()
		if len(ms) != 2 {
			t.Fatalf("reminders: %d", len(ms))
		}
		first := ms[len(ms)-1] // newest first
		wantKey := fmt.Sprintf("cadence:%d:since:%d", sec.ID, friday.Unix())
		room := fmt.Sprintf("https://tocsin.example.org/console/security/%d", sec.ID)
		if first.Key != wantKey || first.To != "comms@example.org" || first.Channel != tocsin.ChannelEmail ||
			first.Subject != i18n.T("fr", "comms.mail.subject", sec.ID, "Fichiers listés publiquement") ||
			!strings.Contains(first.Body, "17:40 CET") || !strings.Contains(first.Body, room) || !strings.Contains(first.Body, "Aucune mise à jour publique") {
			t.Errorf("first reminder = %+v", first)
		}
		es, _, err := db.Timeline(ctx, sec.ID, tocsin.TimelineFilter{Limit: 100})
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, e := range es {
			if e.Kind == tocsin.EntryCadence {
				n++
			}
		}
		if n != 2 {
			t.Errorf("%d reminder entries on the timeline, want 2", n)
		}
	})
}

// A message in a language tocsin lacks is written in English.
func TestCadenceMessageLanguage(t *testing.T) {
	r := &tocsin.CadenceReminder{SecurityID: 4, PublicTitle: "Mail", Since: time.Date(2026, 11, 20, 16, 40, 0, 0, time.UTC),
		Every: time.Hour, Email: "a@example.org"}
	for _, tt := range []struct{ lang, want string }{{"", "No public update"}, {"de", "No public update"}, {"fr", "Aucune mise à jour"}, {"en", "No public update"}} {
		t.Run(tt.lang, func(t *testing.T) {
			r.Lang = tt.lang
			m := CadenceMessage(r, "https://x.example", time.UTC)
			if !strings.Contains(m.Body, tt.want) || m.Key != "cadence:4:since:1795192800" || !strings.Contains(m.Body, "16:40 UTC") {
				t.Errorf("message = %+v", m)
			}
		})
	}
}
