package sqlstore

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/tocsin-org/tocsin"
)

// newMaintenance schedules a published maintenance of window [from, until)
// on services.
func newMaintenance(t *testing.T, db *DB, title string, from, until time.Time, services ...int64) *tocsin.Incident {
	t.Helper()
	pub := now()
	m := &tocsin.Incident{Title: title, PublishedAt: &pub, ScheduledFor: &from, ScheduledUntil: &until}
	for _, id := range services {
		m.Services = append(m.Services, tocsin.ServiceImpact{ServiceID: id})
	}
	if err := db.CreateIncident(context.Background(), admin, m, &tocsin.Update{Body: "We upgrade the mail server."}, nil); err != nil {
		t.Fatalf("CreateIncident %s: %v", title, err)
	}
	return m
}

func statusOf(t *testing.T, db *DB, id int64) tocsin.ServiceStatus {
	t.Helper()
	svc, err := db.Service(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return svc.Status
}

func TestCreateMaintenance(t *testing.T) {
	forEachStore(t, func(t *testing.T, db *DB) {
		ctx := context.Background()
		mail := newService(t, db, &tocsin.Service{Name: "Mail"})
		from := time.Date(2030, 1, 2, 22, 0, 0, 0, time.FixedZone("CET", 3600))
		until := from.Add(2 * time.Hour)
		var m *tocsin.Incident
		e := audited(t, db, func() error {
			m = &tocsin.Incident{Title: "Mail upgrade", Impact: tocsin.ImpactMajor, ScheduledFor: &from, ScheduledUntil: &until,
				Services: []tocsin.ServiceImpact{{ServiceID: mail.ID, Status: tocsin.StatusMajorOutage}}}
			return db.CreateIncident(ctx, admin, m, &tocsin.Update{Body: "Planned."}, nil)
		})
		wantEntry(t, e, "incident.create", incidentTarget(m.ID), "",
			`title="Mail upgrade" status=scheduled impact=maintenance services=1:under_maintenance draft window=2030-01-02T21:00:00Z/2030-01-02T23:00:00Z`)
		got := getIncident(t, db, m.ID)
		if !got.Maintenance() || !got.ScheduledFor.Equal(from) || !got.ScheduledUntil.Equal(until) || got.ScheduledFor.Location() != time.UTC ||
			got.Status != tocsin.MaintenanceScheduled || got.Impact != tocsin.ImpactMaintenance || got.RemindedAt != nil {
			t.Errorf("stored maintenance = %+v", got)
		}
		if statusOf(t, db, mail.ID) != tocsin.StatusOperational {
			t.Error("scheduling a maintenance moved its service")
		}

		bad := []struct {
			name        string
			from, until time.Time
			status      tocsin.IncidentStatus
			services    []int64
			code, key   string
		}{
			{"ends before it starts", from, from.Add(-time.Minute), "", nil, tocsin.EINVALID, "maintenance.window_order"},
			{"ends when it starts", from, from, "", nil, tocsin.EINVALID, "maintenance.window_order"},
			{"unknown service", from, until, "", []int64{9999}, tocsin.EINVALID, "incidents.service_unknown"},
			{"incident status", from, until, tocsin.IncidentInvestigating, nil, tocsin.EINVALID, "maintenance.status_invalid"},
			{"created in progress", from, until, tocsin.MaintenanceInProgress, nil, tocsin.EINVALID, "maintenance.first_scheduled"},
		}
		for _, tt := range bad {
			t.Run(tt.name, func(t *testing.T) {
				before := count(t, db, `SELECT COUNT(*) FROM incidents`)
				err := notAudited(t, db, func() error {
					m := &tocsin.Incident{Title: "x", ScheduledFor: &tt.from, ScheduledUntil: &tt.until}
					for _, id := range tt.services {
						m.Services = append(m.Services, tocsin.ServiceImpact{ServiceID: id})
					}
					return db.CreateIncident(ctx, admin, m, &tocsin.Update{Status: tt.status, Body: "x"}, nil)
				})
				var te *tocsin.Error
				if !asError(err, &te) || te.Code != tt.code || te.Key != tt.key {
					t.Fatalf("got %v, want %s %s", err, tt.code, tt.key)
				}
				if n := count(t, db, `SELECT COUNT(*) FROM incidents`); n != before {
					t.Errorf("incidents %d → %d", before, n)
				}
			})
		}
	})
}

func TestMaintenanceFilterAndUpdates(t *testing.T) {
	forEachStore(t, func(t *testing.T, db *DB) {
		ctx := context.Background()
		from := now().Add(time.Hour)
		m := newMaintenance(t, db, "Upgrade", from, from.Add(time.Hour))
		inc := newIncident(t, db, "Outage", tocsin.IncidentInvestigating)
		yes, no := true, false
		for _, tt := range []struct {
			maint *bool
			want  []int64
		}{{&yes, []int64{m.ID}}, {&no, []int64{inc.ID}}, {nil, []int64{inc.ID, m.ID}}} {
			list, err := db.Incidents(ctx, tocsin.IncidentFilter{Maintenance: tt.maint})
			if err != nil {
				t.Fatal(err)
			}
			var ids []int64
			for _, i := range list {
				ids = append(ids, i.ID)
			}
			if !slices.Equal(ids, tt.want) {
				t.Errorf("Maintenance=%v: %v, want %v", tt.maint, ids, tt.want)
			}
		}
		wrong := []struct {
			id     int64
			status tocsin.IncidentStatus
			key    string
		}{
			{m.ID, tocsin.IncidentIdentified, "maintenance.status_invalid"},
			{inc.ID, tocsin.MaintenanceVerifying, "incidents.status_unknown"},
		}
		for _, tt := range wrong {
			err := notAudited(t, db, func() error {
				return db.AddUpdate(ctx, admin, tt.id, &tocsin.Update{Status: tt.status, Body: "x"}, nil)
			})
			var te *tocsin.Error
			if !asError(err, &te) || te.Key != tt.key {
				t.Errorf("update %s to %d: %v, want %s", tt.status, tt.id, err, tt.key)
			}
		}
		// An incident stays one, a maintenance stays one.
		set := getIncident(t, db, inc.ID)
		set.ScheduledFor, set.ScheduledUntil = &from, &from
		set.ScheduledUntil = new(from.Add(time.Hour))
		var te *tocsin.Error
		if err := notAudited(t, db, func() error { return db.SetIncident(ctx, admin, set) }); !asError(err, &te) || te.Key != "maintenance.kind_fixed" {
			t.Errorf("incident made a maintenance: %v", err)
		}
		if _, err := db.StartMaintenance(ctx, tocsin.System, inc.ID, from, "x", nil); tocsin.ErrorCode(err) != tocsin.EINVALID {
			t.Errorf("StartMaintenance on an incident: %v", err)
		}
		if _, err := db.StartMaintenance(ctx, tocsin.System, 9999, from, "x", nil); tocsin.ErrorCode(err) != tocsin.ENOTFOUND {
			t.Errorf("StartMaintenance on nothing: %v", err)
		}
	})
}

func TestMaintenanceStartAndComplete(t *testing.T) {
	forEachStore(t, func(t *testing.T, db *DB) {
		ctx := context.Background()
		plain := newService(t, db, &tocsin.Service{Name: "Mail"})
		hand := newService(t, db, &tocsin.Service{Name: "Wiki"})     // a communicator changes it meanwhile
		hurt := newService(t, db, &tocsin.Service{Name: "Chat"})     // an open incident names it
		shared := newService(t, db, &tocsin.Service{Name: "Backup"}) // another maintenance covers it
		from := now().Add(-time.Hour)
		until := from.Add(3 * time.Hour)
		m := newMaintenance(t, db, "Big upgrade", from, until, plain.ID, hand.ID, hurt.ID, shared.ID)
		other := newMaintenance(t, db, "Backup move", from, until.Add(time.Hour), shared.ID)

		before := count(t, db, `SELECT COUNT(*) FROM audit_log`)
		ok, err := db.StartMaintenance(ctx, tocsin.System, m.ID, from, "Started.", msg("start-1"))
		if err != nil || !ok {
			t.Fatalf("StartMaintenance = %v, %v", ok, err)
		}
		if n := count(t, db, `SELECT COUNT(*) FROM messages`); n != 1 {
			t.Errorf("%d messages enqueued with the start, want 1", n)
		}
		if n := count(t, db, `SELECT COUNT(*) FROM audit_log`); n != before+5 {
			t.Errorf("audit entries +%d, want 5 (the step and 4 services)", n-before)
		}
		if n := count(t, db, `SELECT COUNT(*) FROM audit_log WHERE action = 'maintenance.start' AND actor = 'system'`); n != 1 {
			t.Errorf("maintenance.start by system: %d entries", n)
		}
		for _, id := range []int64{plain.ID, hand.ID, hurt.ID, shared.ID} {
			if st := statusOf(t, db, id); st != tocsin.StatusMaintenance {
				t.Errorf("service %d is %s after the start", id, st)
			}
			if n := count(t, db, `SELECT COUNT(*) FROM service_status_history WHERE service_id = ? AND status = 'under_maintenance'`, id); n != 1 {
				t.Errorf("service %d: %d history rows under maintenance", id, n)
			}
		}
		// Created after its window began (as in this test), the start is
		// dated no earlier than the maintenance's first update.
		got := getIncident(t, db, m.ID)
		if got.Status != tocsin.MaintenanceInProgress || got.Updates[0].Body != "Started." || got.Updates[0].Author != "system" || got.Updates[0].DisplayAt.Before(got.Updates[1].DisplayAt) {
			t.Errorf("after start: %s %+v", got.Status, got.Updates[0])
		}
		// Again, as a restarted worker would: nothing.
		if ok, err := db.StartMaintenance(ctx, tocsin.System, m.ID, from, "Started.", msg("start-2")); err != nil || ok {
			t.Errorf("second StartMaintenance = %v, %v", ok, err)
		}
		if n := count(t, db, `SELECT COUNT(*) FROM messages`); n != 1 {
			t.Error("a step that did not act enqueued its messages")
		}
		if n := count(t, db, `SELECT COUNT(*) FROM audit_log`); n != before+5 {
			t.Error("second start wrote")
		}

		// Meanwhile: a communicator changes one service, an incident names
		// another, the other maintenance starts.
		if err := db.SetServiceStatus(ctx, admin, hand.ID, tocsin.StatusMajorOutage, time.Time{}); err != nil {
			t.Fatal(err)
		}
		newIncident(t, db, "Chat is slow", tocsin.IncidentIdentified, hurt.ID) // declares partial_outage
		if ok, err := db.StartMaintenance(ctx, tocsin.System, other.ID, from, "Started.", nil); err != nil || !ok {
			t.Fatalf("start other: %v %v", ok, err)
		}

		ok, err = db.CompleteMaintenance(ctx, tocsin.System, m.ID, until, "Done.", nil)
		if err != nil || !ok {
			t.Fatalf("CompleteMaintenance = %v, %v", ok, err)
		}
		want := map[int64]tocsin.ServiceStatus{
			plain.ID: tocsin.StatusOperational, hand.ID: tocsin.StatusMajorOutage,
			hurt.ID: tocsin.StatusPartialOutage, shared.ID: tocsin.StatusMaintenance,
		}
		for id, st := range want {
			if got := statusOf(t, db, id); got != st {
				t.Errorf("service %d after completion: %s, want %s", id, got, st)
			}
		}
		got = getIncident(t, db, m.ID)
		if got.Status != tocsin.MaintenanceCompleted || got.ResolvedAt == nil || !got.ResolvedAt.Equal(until) || got.Cancelled() || got.Updates[0].Body != "Done." {
			t.Errorf("after completion: %+v", got)
		}
		if ok, err := notAuditedOK(t, db, func() (bool, error) { return db.CompleteMaintenance(ctx, tocsin.System, m.ID, until, "Done.", nil) }); err != nil || ok {
			t.Errorf("second CompleteMaintenance = %v, %v", ok, err)
		}
		var te *tocsin.Error
		if err := db.AddUpdate(ctx, admin, m.ID, &tocsin.Update{Status: tocsin.MaintenanceVerifying, Body: "x"}, nil); !asError(err, &te) || te.Key != "maintenance.closed" {
			t.Errorf("update to a completed maintenance: %v", err)
		}
	})
}

func notAuditedOK(t *testing.T, db *DB, fn func() (bool, error)) (bool, error) {
	t.Helper()
	var ok bool
	err := notAudited(t, db, func() error {
		var err error
		ok, err = fn()
		return err
	})
	return ok, err
}

func TestMaintenanceMovedByHand(t *testing.T) {
	forEachStore(t, func(t *testing.T, db *DB) {
		ctx := context.Background()
		mail := newService(t, db, &tocsin.Service{Name: "Mail"})
		from := now().Add(time.Hour)
		m := newMaintenance(t, db, "Early start", from, from.Add(time.Hour), mail.ID)
		// A communicator starts it early: the service follows, audited as them.
		if err := db.AddUpdate(ctx, admin, m.ID, &tocsin.Update{Status: tocsin.MaintenanceInProgress, Body: "Starting early."}, nil); err != nil {
			t.Fatal(err)
		}
		if statusOf(t, db, mail.ID) != tocsin.StatusMaintenance {
			t.Error("an in_progress update did not move the service")
		}
		if n := count(t, db, `SELECT COUNT(*) FROM audit_log WHERE action = 'service.status' AND actor = ?`, admin.Label); n != 1 {
			t.Errorf("service.status by the communicator: %d", n)
		}
		if err := db.AddUpdate(ctx, admin, m.ID, &tocsin.Update{Status: tocsin.MaintenanceVerifying, Body: "Checking."}, nil); err != nil {
			t.Fatal(err)
		}
		if statusOf(t, db, mail.ID) != tocsin.StatusMaintenance {
			t.Error("verifying is still under way")
		}
		if err := db.AddUpdate(ctx, admin, m.ID, &tocsin.Update{Status: tocsin.MaintenanceCompleted, Body: "Done early."}, nil); err != nil {
			t.Fatal(err)
		}
		if statusOf(t, db, mail.ID) != tocsin.StatusOperational {
			t.Error("completing by hand did not put the service back")
		}

		// Cancelled before its window: nothing moves, and the worker's
		// steps find nothing to do.
		c := newMaintenance(t, db, "Cancelled", from, from.Add(time.Hour), mail.ID)
		if err := db.AddUpdate(ctx, admin, c.ID, &tocsin.Update{Status: tocsin.MaintenanceCompleted, Body: "Cancelled."}, nil); err != nil {
			t.Fatal(err)
		}
		if ok, err := db.StartMaintenance(ctx, tocsin.System, c.ID, from, "x", nil); ok || err != nil {
			t.Errorf("start of a cancelled maintenance: %v %v", ok, err)
		}
		if !getIncident(t, db, c.ID).Cancelled() || statusOf(t, db, mail.ID) != tocsin.StatusOperational {
			t.Error("cancelled maintenance not cancelled, or its service moved")
		}
	})
}

func TestRemindMaintenance(t *testing.T) {
	forEachStore(t, func(t *testing.T, db *DB) {
		ctx := context.Background()
		from := now().Add(30 * time.Minute)
		m := newMaintenance(t, db, "Upgrade", from, from.Add(time.Hour))
		at := from.Add(-time.Hour)
		var ok bool
		e := audited(t, db, func() error {
			var err error
			ok, err = db.RemindMaintenance(ctx, tocsin.System, m.ID, at, msg("remind-1"))
			return err
		})
		if !ok {
			t.Fatal("first reminder not recorded")
		}
		wantEntry(t, e, "maintenance.remind", incidentTarget(m.ID), "", "reminded_at="+at.Format(time.RFC3339)+windowSummary(m))
		if n := count(t, db, `SELECT COUNT(*) FROM messages`); n != 1 {
			t.Errorf("%d messages enqueued, want 1", n)
		}
		if got := getIncident(t, db, m.ID); got.RemindedAt == nil || !got.RemindedAt.Equal(at) {
			t.Errorf("RemindedAt = %v", got.RemindedAt)
		}
		if ok, err := notAuditedOK(t, db, func() (bool, error) { return db.RemindMaintenance(ctx, tocsin.System, m.ID, at, msg("remind-2")) }); ok || err != nil {
			t.Errorf("second reminder: %v %v", ok, err)
		}
		if n := count(t, db, `SELECT COUNT(*) FROM messages`); n != 1 {
			t.Error("second reminder enqueued messages")
		}
		// Subscribers heard of the maintenance when it was published, and
		// once of the reminder, dated at the window's start.
		ns, err := db.PendingNotices(ctx, 10)
		if err != nil {
			t.Fatal(err)
		}
		var keys []string
		for _, n := range ns {
			keys = append(keys, n.Key)
			if n.Kind != tocsin.NoticeMaintenance || n.Title != "Upgrade" || n.Path != fmt.Sprintf("/incidents/%d/", m.ID) {
				t.Errorf("notice %+v", n)
			}
		}
		want := []string{fmt.Sprintf("incident:%d:update:%d", m.ID, m.Updates[0].ID), fmt.Sprintf("maintenance:%d:reminder", m.ID)}
		if !slices.Equal(keys, want) {
			t.Fatalf("notices %v, want %v", keys, want)
		}
		if r := ns[1]; r.Status != tocsin.NoticeReminder || !r.At.Equal(from.UTC().Truncate(time.Microsecond)) || r.Body != "We upgrade the mail server." {
			t.Errorf("reminder notice %+v", r)
		}

		// Moved later: reminded again before the new start. Edited otherwise
		// (title): the reminder stays done.
		got := getIncident(t, db, m.ID)
		got.Title = "Upgrade, renamed"
		if err := db.SetIncident(ctx, admin, got); err != nil {
			t.Fatal(err)
		}
		if getIncident(t, db, m.ID).RemindedAt == nil {
			t.Error("a new title reset the reminder")
		}
		later, end := from.Add(24*time.Hour), from.Add(25*time.Hour)
		got.ScheduledFor, got.ScheduledUntil = &later, &end
		e = audited(t, db, func() error { return db.SetIncident(ctx, admin, got) })
		if e.After != "window="+later.Format(time.RFC3339)+"/"+end.Format(time.RFC3339) {
			t.Errorf("audit after = %q", e.After)
		}
		if getIncident(t, db, m.ID).RemindedAt != nil {
			t.Error("moving the window kept the reminder as done")
		}
		bad := getIncident(t, db, m.ID)
		bad.ScheduledUntil = new(later.Add(-time.Hour))
		var te *tocsin.Error
		if err := notAudited(t, db, func() error { return db.SetIncident(ctx, admin, bad) }); !asError(err, &te) || te.Key != "maintenance.window_order" {
			t.Errorf("window edited to end first: %v", err)
		}
	})
}

func TestMaintenanceServicesEditedUnderWay(t *testing.T) {
	forEachStore(t, func(t *testing.T, db *DB) {
		ctx := context.Background()
		mail := newService(t, db, &tocsin.Service{Name: "Mail"})
		wiki := newService(t, db, &tocsin.Service{Name: "Wiki"})
		from := now().Add(time.Hour)
		m := newMaintenance(t, db, "Upgrade", from, from.Add(time.Hour), mail.ID)
		// Edited while scheduled: nothing moves.
		got := getIncident(t, db, m.ID)
		got.Services = []tocsin.ServiceImpact{{ServiceID: mail.ID}, {ServiceID: wiki.ID}}
		if err := db.SetIncident(ctx, admin, got); err != nil {
			t.Fatal(err)
		}
		if statusOf(t, db, wiki.ID) != tocsin.StatusOperational {
			t.Error("a service added to a scheduled maintenance moved")
		}
		if _, err := db.StartMaintenance(ctx, tocsin.System, m.ID, from, "Started.", nil); err != nil {
			t.Fatal(err)
		}
		// Under way: the one added goes under maintenance, the one removed back.
		got = getIncident(t, db, m.ID)
		third := newService(t, db, &tocsin.Service{Name: "Chat"})
		got.Services = []tocsin.ServiceImpact{{ServiceID: wiki.ID}, {ServiceID: third.ID}}
		if err := db.SetIncident(ctx, admin, got); err != nil {
			t.Fatal(err)
		}
		for id, want := range map[int64]tocsin.ServiceStatus{mail.ID: tocsin.StatusOperational, wiki.ID: tocsin.StatusMaintenance, third.ID: tocsin.StatusMaintenance} {
			if st := statusOf(t, db, id); st != want {
				t.Errorf("service %d: %s, want %s", id, st, want)
			}
		}
	})
}
