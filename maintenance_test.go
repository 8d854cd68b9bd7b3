package tocsin

import (
	"errors"
	"testing"
	"time"
)

func window(from, until time.Time) Incident {
	return Incident{Title: "Mail server upgrade", ScheduledFor: &from, ScheduledUntil: &until}
}

func TestMaintenanceValidation(t *testing.T) {
	t0 := time.Date(2026, 12, 1, 22, 0, 0, 0, time.UTC)
	only := t0
	tests := []struct {
		name string
		inc  Incident
		key  string
	}{
		{"valid window", window(t0, t0.Add(2*time.Hour)), ""},
		{"ends before it starts", window(t0, t0.Add(-time.Hour)), "maintenance.window_order"},
		{"ends when it starts", window(t0, t0), "maintenance.window_order"},
		{"no end", Incident{Title: "x", ScheduledFor: &only}, "maintenance.window_missing"},
		{"no start", Incident{Title: "x", ScheduledUntil: &only}, "maintenance.window_missing"},
		{"over a month", window(t0, t0.Add(MaxMaintenance+time.Minute)), "maintenance.window_long"},
		{"empty title", Incident{Title: " ", ScheduledFor: &t0, ScheduledUntil: &t0}, "incidents.title_invalid"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.inc.Validate()
			var te *Error
			switch {
			case tt.key == "" && err != nil:
				t.Fatalf("valid maintenance refused: %v", err)
			case tt.key != "" && (!errors.As(err, &te) || te.Code != EINVALID || te.Key != tt.key):
				t.Fatalf("error %v, want EINVALID with key %s", err, tt.key)
			}
		})
	}

	t.Run("impact and services forced to maintenance", func(t *testing.T) {
		m := window(t0, t0.Add(time.Hour))
		m.Impact = ImpactCritical
		m.Services = []ServiceImpact{{1, StatusMajorOutage}, {2, ""}}
		if err := m.Validate(); err != nil {
			t.Fatal(err)
		}
		if m.Impact != ImpactMaintenance || m.Services[0].Status != StatusMaintenance || m.Services[1].Status != StatusMaintenance {
			t.Errorf("got impact %s, services %v", m.Impact, m.Services)
		}
	})
	t.Run("an incident cannot take the maintenance impact", func(t *testing.T) {
		inc := Incident{Title: "x", Impact: ImpactMaintenance}
		if err := inc.Validate(); ErrorCode(err) != EINVALID {
			t.Errorf("got %v", err)
		}
	})
}

func TestStatusFits(t *testing.T) {
	t0 := time.Date(2026, 12, 1, 22, 0, 0, 0, time.UTC)
	m, inc := window(t0, t0.Add(time.Hour)), Incident{Title: "x"}
	tests := []struct {
		inc    *Incident
		status IncidentStatus
		key    string
	}{
		{&m, MaintenanceScheduled, ""},
		{&m, MaintenanceInProgress, ""},
		{&m, MaintenanceVerifying, ""},
		{&m, MaintenanceCompleted, ""},
		{&m, IncidentInvestigating, "maintenance.status_invalid"},
		{&m, IncidentResolved, "maintenance.status_invalid"},
		{&inc, IncidentMonitoring, ""},
		{&inc, MaintenanceInProgress, "incidents.status_unknown"},
	}
	for _, tt := range tests {
		t.Run(string(tt.status)+"/maintenance="+map[bool]string{true: "yes", false: "no"}[tt.inc.Maintenance()], func(t *testing.T) {
			err := tt.inc.StatusFits(tt.status)
			var te *Error
			if tt.key == "" && err != nil || tt.key != "" && (!errors.As(err, &te) || te.Key != tt.key) {
				t.Errorf("StatusFits(%s) = %v, want key %q", tt.status, err, tt.key)
			}
		})
	}
	if !MaintenanceCompleted.Closed() || MaintenanceVerifying.Closed() || !MaintenanceVerifying.Underway() || MaintenanceScheduled.Underway() {
		t.Error("Closed or Underway is wrong for maintenance statuses")
	}
	if _, err := ParseIncidentStatus("in_progress"); err != nil {
		t.Errorf("in_progress refused: %v", err)
	}
}

func TestMaintenanceDue(t *testing.T) {
	from := time.Date(2026, 12, 1, 22, 0, 0, 0, time.UTC)
	until := from.Add(2 * time.Hour)
	pub := from.Add(-48 * time.Hour)
	reminded := from.Add(-time.Hour)
	m := func(st IncidentStatus, remindedAt *time.Time) *Incident {
		inc := window(from, until)
		inc.Status, inc.PublishedAt, inc.RemindedAt = st, &pub, remindedAt
		return &inc
	}
	draft := m(MaintenanceScheduled, nil)
	draft.PublishedAt = nil
	tests := []struct {
		name string
		inc  *Incident
		now  time.Time
		want MaintenanceStep
		next time.Time
	}{
		{"long before", m(MaintenanceScheduled, nil), from.Add(-3 * time.Hour), StepNone, from.Add(-time.Hour)},
		{"reminder point", m(MaintenanceScheduled, nil), from.Add(-time.Hour), StepRemind, from},
		{"reminded, waiting", m(MaintenanceScheduled, &reminded), from.Add(-time.Minute), StepNone, from},
		{"start", m(MaintenanceScheduled, &reminded), from, StepStart, until},
		{"restart mid-window, not started", m(MaintenanceScheduled, nil), from.Add(time.Hour), StepStart, until},
		{"under way", m(MaintenanceInProgress, &reminded), from.Add(time.Hour), StepNone, until},
		{"verifying at the end", m(MaintenanceVerifying, &reminded), until, StepComplete, time.Time{}},
		{"window missed entirely", m(MaintenanceScheduled, nil), until.Add(time.Hour), StepComplete, time.Time{}},
		{"completed (cancelled) before", m(MaintenanceCompleted, nil), from, StepNone, time.Time{}},
		{"draft", draft, from, StepNone, time.Time{}},
		{"an incident", &Incident{Title: "x", PublishedAt: &pub, Status: IncidentInvestigating}, from, StepNone, time.Time{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.inc.Due(tt.now, time.Hour); got != tt.want {
				t.Errorf("Due = %d, want %d", got, tt.want)
			}
			if got := tt.inc.NextStepAt(tt.now, time.Hour); !got.Equal(tt.next) {
				t.Errorf("NextStepAt = %v, want %v", got, tt.next)
			}
		})
	}
}

func TestMaintenanceCancelled(t *testing.T) {
	t0 := time.Date(2026, 12, 1, 22, 0, 0, 0, time.UTC)
	m := window(t0, t0.Add(time.Hour))
	m.Status = MaintenanceCompleted
	m.Updates = []*Update{{Status: MaintenanceCompleted}, {Status: MaintenanceScheduled}}
	if !m.Cancelled() {
		t.Error("completed without being under way is cancelled")
	}
	m.Updates = append(m.Updates, &Update{Status: MaintenanceInProgress})
	if m.Cancelled() {
		t.Error("completed after being in progress is not cancelled")
	}
	inc := Incident{Status: IncidentResolved}
	if inc.Cancelled() {
		t.Error("an incident is never cancelled")
	}
}
