package maintenance

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/tocsin-org/tocsin"
	"github.com/tocsin-org/tocsin/deadline"
	"github.com/tocsin-org/tocsin/sqlstore"
)

// The worker runs against a real SQLite store; time is a field the test
// moves (the store dates what it writes itself, the steps by the clock).

type fixture struct {
	t       *testing.T
	db      *sqlstore.DB
	now     time.Time
	changed int
	steps   []string // "ID:step" for each Messages call
	mail    *tocsin.Service
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	ctx := context.Background()
	db, err := sqlstore.Open(ctx, "sqlite:"+filepath.Join(t.TempDir(), "tocsin.db"), "")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if _, err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	f := &fixture{t: t, db: db, mail: &tocsin.Service{Name: "Mail"}}
	if err := db.CreateService(ctx, tocsin.CLI, f.mail); err != nil {
		t.Fatal(err)
	}
	return f
}

// worker is a new worker, as after a restart, reading the fixture's clock.
func (f *fixture) worker() *Worker {
	return &Worker{
		Store: f.db, Lang: "en", Lead: time.Hour,
		Now:     func() time.Time { return f.now },
		Changed: func(context.Context) error { f.changed++; return nil },
		Messages: func(_ context.Context, m *tocsin.Incident, step tocsin.MaintenanceStep) ([]*tocsin.Message, error) {
			f.steps = append(f.steps, fmt.Sprintf("%d:%d", m.ID, step))
			return []*tocsin.Message{{Channel: tocsin.ChannelEmail, To: "sub@example.org", Subject: "Maintenance " + m.Title,
				Body: "News.", Key: fmt.Sprintf("maintenance-%d-%d", m.ID, step)}}, nil
		},
	}
}

// schedule publishes a maintenance on Mail, starting in an hour and a half
// (real time, so that its first update is dated before the window).
func (f *fixture) schedule(title string) (*tocsin.Incident, time.Time, time.Time) {
	f.t.Helper()
	from := time.Now().UTC().Truncate(time.Minute).Add(90 * time.Minute)
	until := from.Add(2 * time.Hour)
	pub := time.Now()
	m := &tocsin.Incident{Title: title, PublishedAt: &pub, ScheduledFor: &from, ScheduledUntil: &until,
		Services: []tocsin.ServiceImpact{{ServiceID: f.mail.ID}}}
	if err := f.db.CreateIncident(context.Background(), tocsin.CLI, m, &tocsin.Update{Body: "Planned."}, nil); err != nil {
		f.t.Fatal(err)
	}
	return m, from, until
}

func (f *fixture) tick(w *Worker, at time.Time) time.Time {
	f.t.Helper()
	f.now = at
	next, err := w.Tick(context.Background())
	if err != nil {
		f.t.Fatalf("Tick at %s: %v", at, err)
	}
	return next
}

func (f *fixture) state(id int64) (tocsin.IncidentStatus, tocsin.ServiceStatus) {
	f.t.Helper()
	m, err := f.db.Incident(context.Background(), id)
	if err != nil {
		f.t.Fatal(err)
	}
	svc, err := f.db.Service(context.Background(), f.mail.ID)
	if err != nil {
		f.t.Fatal(err)
	}
	return m.Status, svc.Status
}

func (f *fixture) want(id int64, st tocsin.IncidentStatus, svc tocsin.ServiceStatus, changed int) {
	f.t.Helper()
	gotSt, gotSvc := f.state(id)
	if gotSt != st || gotSvc != svc || f.changed != changed {
		f.t.Fatalf("maintenance %s, service %s, %d refreshes; want %s, %s, %d", gotSt, gotSvc, f.changed, st, svc, changed)
	}
}

func TestWorkerThroughAWindow(t *testing.T) {
	f := newFixture(t)
	m, from, until := f.schedule("Mail upgrade")
	w := f.worker()

	if next := f.tick(w, from.Add(-2*time.Hour)); !next.Equal(from.Add(-time.Hour)) {
		t.Errorf("next step at %v, want the reminder point", next)
	}
	f.want(m.ID, tocsin.MaintenanceScheduled, tocsin.StatusOperational, 0)

	f.tick(w, from.Add(-time.Hour))
	f.tick(w, from.Add(-30*time.Minute)) // reminded once only
	if want := fmt.Sprintf("[%d:%d]", m.ID, tocsin.StepRemind); fmt.Sprint(f.steps) != want {
		t.Errorf("messages asked for %v, want %s", f.steps, want)
	}
	stats, err := f.db.OutboxStats(context.Background())
	if err != nil || stats.Pending != 1 {
		t.Errorf("outbox: %+v %v, want the reminder's message", stats, err)
	}
	f.want(m.ID, tocsin.MaintenanceScheduled, tocsin.StatusOperational, 0)

	if next := f.tick(w, from); !next.Equal(until) {
		t.Errorf("next step at %v, want the end", next)
	}
	f.want(m.ID, tocsin.MaintenanceInProgress, tocsin.StatusMaintenance, 1)
	got, _ := f.db.Incident(context.Background(), m.ID)
	if u := got.Updates[0]; u.Author != "system" || u.Body != "The scheduled maintenance has begun." || !u.DisplayAt.Equal(from) {
		t.Errorf("automatic update %+v", u)
	}

	f.tick(w, from.Add(time.Minute)) // nothing more to do mid-window
	f.want(m.ID, tocsin.MaintenanceInProgress, tocsin.StatusMaintenance, 1)

	if next := f.tick(w, until.Add(10*time.Second)); !next.IsZero() {
		t.Errorf("next step at %v after the end", next)
	}
	f.want(m.ID, tocsin.MaintenanceCompleted, tocsin.StatusOperational, 2)
	got, _ = f.db.Incident(context.Background(), m.ID)
	if !got.ResolvedAt.Equal(until) || got.Updates[0].Body != "The scheduled maintenance is completed." {
		t.Errorf("completed at %v with %q, want the window's end", got.ResolvedAt, got.Updates[0].Body)
	}
	if stats, err := f.db.OutboxStats(context.Background()); err != nil || stats.Pending != 3 {
		t.Errorf("outbox %+v %v: want the reminder's, the start's and the end's messages", stats, err)
	}
	history, err := f.db.StatusHistory(context.Background(), from.Add(-24*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	var seen []string
	for _, c := range history {
		seen = append(seen, string(c.Status)+"@"+c.At.Sub(from).String())
	}
	if fmt.Sprint(seen) != fmt.Sprintf("[operational@%s under_maintenance@0s operational@2h0m0s]", f.mail.CreatedAt.Sub(from)) {
		t.Errorf("status history %v", seen)
	}
}

func TestWorkerRestartedMidWindow(t *testing.T) {
	f := newFixture(t)
	m, from, _ := f.schedule("Mail upgrade")
	// Down through the reminder point and the start: the first pass after
	// the restart starts it, without a late reminder.
	f.tick(f.worker(), from.Add(30*time.Minute))
	f.want(m.ID, tocsin.MaintenanceInProgress, tocsin.StatusMaintenance, 1)
	if want := fmt.Sprintf("[%d:%d]", m.ID, tocsin.StepStart); fmt.Sprint(f.steps) != want {
		t.Errorf("messages asked for %v, want the start's only (no late reminder)", f.steps)
	}
	// Restarted again: the same instant, and a second instance at once.
	f.tick(f.worker(), from.Add(30*time.Minute))
	f.tick(f.worker(), from.Add(31*time.Minute))
	f.want(m.ID, tocsin.MaintenanceInProgress, tocsin.StatusMaintenance, 1)
	got, _ := f.db.Incident(context.Background(), m.ID)
	if len(got.Updates) != 2 {
		t.Errorf("%d updates, want the first and one automatic start", len(got.Updates))
	}
}

func TestWorkerWindowMissed(t *testing.T) {
	f := newFixture(t)
	m, _, until := f.schedule("Mail upgrade")
	f.tick(f.worker(), until.Add(time.Hour))
	f.want(m.ID, tocsin.MaintenanceCompleted, tocsin.StatusOperational, 1)
	got, _ := f.db.Incident(context.Background(), m.ID)
	if !got.Cancelled() {
		t.Error("a window that passed while tocsin was down never started its maintenance")
	}
}

func TestWorkerCancelledOrMovedBeforeStart(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	cancelled, from, _ := f.schedule("Cancelled")
	moved, _, _ := f.schedule("Moved")
	if err := f.db.AddUpdate(ctx, tocsin.CLI, cancelled.ID, &tocsin.Update{Status: tocsin.MaintenanceCompleted, Body: "Cancelled."}, nil); err != nil {
		t.Fatal(err)
	}
	later, end := from.Add(24*time.Hour), from.Add(26*time.Hour)
	m, _ := f.db.Incident(ctx, moved.ID)
	m.ScheduledFor, m.ScheduledUntil = &later, &end
	if err := f.db.SetIncident(ctx, tocsin.CLI, m); err != nil {
		t.Fatal(err)
	}
	w := f.worker()
	if next := f.tick(w, from); !next.Equal(later.Add(-time.Hour)) {
		t.Errorf("next step %v, want the moved maintenance's reminder", next)
	}
	f.want(cancelled.ID, tocsin.MaintenanceCompleted, tocsin.StatusOperational, 0)
	f.want(moved.ID, tocsin.MaintenanceScheduled, tocsin.StatusOperational, 0)
	f.tick(w, later)
	f.want(moved.ID, tocsin.MaintenanceInProgress, tocsin.StatusMaintenance, 1)
}

func TestWorkerDraftsWait(t *testing.T) {
	f := newFixture(t)
	from := time.Now().Add(time.Hour)
	until := from.Add(time.Hour)
	m := &tocsin.Incident{Title: "Draft", ScheduledFor: &from, ScheduledUntil: &until, Services: []tocsin.ServiceImpact{{ServiceID: f.mail.ID}}}
	if err := f.db.CreateIncident(context.Background(), tocsin.CLI, m, &tocsin.Update{Body: "x"}, nil); err != nil {
		t.Fatal(err)
	}
	f.tick(f.worker(), from.Add(time.Minute))
	f.want(m.ID, tocsin.MaintenanceScheduled, tocsin.StatusOperational, 0)
}

// passes tells the test when the worker has read the maintenances.
type passes struct {
	*sqlstore.DB
	read chan struct{}
}

func (p passes) Incidents(ctx context.Context, f tocsin.IncidentFilter) ([]*tocsin.Incident, error) {
	defer func() { p.read <- struct{}{} }()
	return p.DB.Incidents(ctx, f)
}

// TestWorkerAsDuty runs the worker as serve does, as a duty of the
// deadline worker: the first pass reads the maintenances, and a kick makes
// a pass although the next one is an hour away.
func TestWorkerAsDuty(t *testing.T) {
	f := newFixture(t)
	store := passes{f.db, make(chan struct{}, 10)}
	changed := make(chan struct{}, 1)
	w := &Worker{Store: store, Lang: "en",
		Changed: func(context.Context) error { changed <- struct{}{}; return nil }}
	d := &deadline.Worker{Poll: time.Hour, Duties: []deadline.Duty{w.Duty()}}
	d.Kick() // before Start: nothing, and no block
	d.Start(context.Background())
	defer d.Stop()
	<-store.read // the first pass found nothing to do
	from, until := time.Now().Add(-time.Minute), time.Now().Add(time.Hour)
	pub := time.Now()
	m := &tocsin.Incident{Title: "Now", PublishedAt: &pub, ScheduledFor: &from, ScheduledUntil: &until}
	if err := f.db.CreateIncident(context.Background(), tocsin.CLI, m, &tocsin.Update{Body: "x"}, nil); err != nil {
		t.Fatal(err)
	}
	d.Kick()
	d.Kick() // twice: still one pass asked for, and no block
	select {
	case <-changed:
	case <-time.After(30 * time.Second):
		t.Fatal("a kick did not make a pass (the next one was an hour away)")
	}
	if st, _ := f.state(m.ID); st != tocsin.MaintenanceInProgress {
		t.Errorf("status %s", st)
	}
}
