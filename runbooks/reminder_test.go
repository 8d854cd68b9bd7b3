package runbooks_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/tocsin-org/tocsin"
	"github.com/tocsin-org/tocsin/deadline"
	"github.com/tocsin-org/tocsin/runbooks"
	"github.com/tocsin-org/tocsin/sqlstore"
)

// TestReminders replays an incident at a simulated Friday evening: the
// bucket runbook is applied at 16:40, the worker ticks past each due
// time, and each overdue task's owner gets one e-mail in their language
// (the scribe's task has nobody to remind: no scribe was named),
// however many ticks (or instances) pass over it.
func TestReminders(t *testing.T) {
	ctx := context.Background()
	db, err := sqlstore.Open(ctx, "", t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	clock := time.Date(2026, 11, 20, 16, 40, 0, 0, time.UTC)
	db.SetClock(func() time.Time { return clock })
	if _, err := runbooks.Load(ctx, db, tocsin.System, ""); err != nil {
		t.Fatal(err)
	}
	lead := &tocsin.User{Email: "lea@example.org", Name: "Léa", Lang: "fr", Roles: tocsin.Roles{tocsin.RoleResponder}, PasswordHash: "$argon2id$x"}
	comms := &tocsin.User{Email: "cal@example.org", Roles: tocsin.Roles{tocsin.RoleResponder}, PasswordHash: "$argon2id$x"}
	for _, u := range []*tocsin.User{lead, comms} {
		if err := db.CreateUser(ctx, tocsin.CLI, u); err != nil {
			t.Fatal(err)
		}
	}
	inc := &tocsin.SecurityIncident{Title: "Bucket listable", Severity: tocsin.SEV2, Kind: tocsin.KindDataExposure}
	if err := db.CreateSecurityIncident(ctx, tocsin.CLI, inc); err != nil {
		t.Fatal(err)
	}
	for role, u := range map[tocsin.IncidentRole]*tocsin.User{tocsin.RoleLead: lead, tocsin.RoleComms: comms} {
		if err := db.AssignSecurityRole(ctx, tocsin.CLI, inc.ID, role, u.ID); err != nil {
			t.Fatal(err)
		}
	}
	var rbID int64
	list, _ := db.Runbooks(ctx)
	for _, rb := range list {
		if rb.Slug == "public-object-storage" && rb.Lang == "en" {
			rbID = rb.ID
		}
	}
	if n, err := db.ApplyRunbook(ctx, tocsin.CLI, inc.ID, rbID); err != nil || n != 8 {
		t.Fatalf("apply: %d, %v", n, err)
	}
	paris, _ := time.LoadLocation("Europe/Paris")
	w := &deadline.Worker{Duties: []deadline.Duty{runbooks.Reminders(db, "https://tocsin.example.org/", paris)}}
	reminders := func() []*tocsin.Message {
		ms, err := db.Messages(ctx, 1000)
		if err != nil {
			t.Fatal(err)
		}
		var out []*tocsin.Message
		for _, m := range ms {
			if strings.HasPrefix(m.Key, "task:") {
				out = append(out, m)
			}
		}
		return out
	}

	for _, c := range []struct {
		name string
		at   time.Time
		sent int
		next time.Time
	}{
		{"applied", clock, 0, clock.Add(15 * time.Minute)},
		{"first due passed", clock.Add(16 * time.Minute), 1, clock.Add(30 * time.Minute)},
		{"again", clock.Add(17 * time.Minute), 1, clock.Add(30 * time.Minute)},
		{"saturday noon", time.Date(2026, 11, 21, 12, 4, 0, 0, time.UTC), 5, clock.Add(24 * time.Hour)},
		{"tuesday", time.Date(2026, 11, 24, 9, 0, 0, 0, time.UTC), 7, time.Time{}},
	} {
		t.Run(c.name, func(t *testing.T) {
			clock = c.at
			next, err := w.Tick(ctx, c.at)
			if err != nil {
				t.Fatal(err)
			}
			if got := reminders(); len(got) != c.sent {
				t.Fatalf("%d reminders, want %d", len(got), c.sent)
			}
			if !next.Equal(c.next) {
				t.Errorf("next %v, want %v", next, c.next)
			}
		})
	}
	byTo := map[string]int{}
	for _, m := range reminders() {
		byTo[m.To]++
		switch m.To {
		case lead.Email:
			if !strings.HasPrefix(m.Subject, "Tâche en retard : ") || !strings.Contains(m.Body, "https://tocsin.example.org/console/security/1#tasks-h") {
				t.Errorf("French reminder %q\n%s", m.Subject, m.Body)
			}
		case comms.Email:
			if !strings.HasPrefix(m.Subject, "Overdue task: ") || !strings.Contains(m.Body, "CET") {
				t.Errorf("English reminder %q\n%s", m.Subject, m.Body)
			}
		}
	}
	if byTo[lead.Email] != 6 || byTo[comms.Email] != 1 {
		t.Errorf("reminders by owner %v", byTo)
	}
}
