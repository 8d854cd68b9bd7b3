package httpserver

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/tocsin-org/tocsin"
	"github.com/tocsin-org/tocsin/i18n"
)

// The console's scheduled maintenances: a list (upcoming, in progress,
// past) and the form that schedules one. A maintenance is an incident with
// a window, so its own page, updates and corrections are the incident's
// (console_incidents.go).

// maintenanceRow is one line of the lists.
type maintenanceRow struct {
	*tocsin.Incident
	Window string
}

// maintenanceList is one of the lists, Key naming its heading.
type maintenanceList struct {
	Key  string
	Rows []maintenanceRow
}

// windowOf is a maintenance's window as the console shows it, "" for an
// incident.
func (s *Server) windowOf(inc *tocsin.Incident) string {
	if !inc.Maintenance() {
		return ""
	}
	return s.fmtTime(*inc.ScheduledFor) + " – " + s.fmtTime(*inc.ScheduledUntil)
}

func (s *Server) maintenances(w http.ResponseWriter, r *http.Request) error {
	return s.renderMaintenances(w, r, http.StatusOK, "", nil)
}

func (s *Server) renderMaintenances(w http.ResponseWriter, r *http.Request, status int, errMsg string, form *incidentForm) error {
	yes := true
	list, err := s.store.Incidents(r.Context(), tocsin.IncidentFilter{Maintenance: &yes, Limit: 1000})
	if err != nil {
		return err
	}
	services, err := s.store.Services(r.Context())
	if err != nil {
		return err
	}
	var upcoming, active, past []maintenanceRow
	for _, m := range list {
		row := maintenanceRow{m, s.windowOf(m)}
		switch {
		case m.Status.Closed():
			past = append(past, row) // newest first, as listed
		case m.Status.Underway():
			active = append(active, row)
		default:
			upcoming = append(upcoming, row)
		}
	}
	slices.SortStableFunc(upcoming, func(a, b maintenanceRow) int { return a.ScheduledFor.Compare(*b.ScheduledFor) })
	if form == nil {
		form = &incidentForm{Publish: true}
	}
	data := map[string]any{
		"Lists":    []maintenanceList{{"upcoming", upcoming}, {"active", active}, {"past", past}},
		"Form":     form,
		"Services": serviceChoices(services, form.Services),
		"Error":    errMsg,
		"Lead":     leadText(s.reminderLead()),
		"CanEdit":  state(r).user.Roles.Allows(tocsin.RoleCommunicator),
	}
	lr := r.Clone(r.Context())
	lr.URL.Path = "/console/maintenance"
	s.render(w, lr, status, "maintenance", data)
	return nil
}

// leadText writes a reminder lead the way people do: "1 h", "90 min".
func leadText(d time.Duration) string {
	if d%time.Hour == 0 {
		return fmt.Sprintf("%d h", d/time.Hour)
	}
	return fmt.Sprintf("%d min", d/time.Minute)
}

func (s *Server) reminderLead() time.Duration {
	if s.cfg.Maintenance.ReminderLead > 0 {
		return s.cfg.Maintenance.ReminderLead
	}
	return tocsin.DefaultReminderLead
}

func (s *Server) createMaintenance(w http.ResponseWriter, r *http.Request) error {
	st := state(r)
	form := incidentFormOf(r.PostForm)
	m, err := s.incidentOf(0, form)
	if err == nil && m.ScheduledFor == nil && m.ScheduledUntil == nil {
		err = tocsin.Errorf(tocsin.EINVALID, "a maintenance needs a start and an end").WithKey("maintenance.window_missing")
	}
	if err == nil {
		if form.Publish {
			now := time.Now() // the store's clock, which dates the rest
			m.PublishedAt = &now
		}
		err = s.store.CreateIncident(r.Context(), st.actor(), m, &tocsin.Update{Status: tocsin.MaintenanceScheduled, Body: form.Body}, nil)
	}
	if err != nil {
		if tocsin.ErrorCode(err) != tocsin.EINVALID {
			return err
		}
		return s.renderMaintenances(w, r, http.StatusBadRequest, s.localized(r, err), &form)
	}
	s.refreshAfter(r.Context())
	return s.renderIncident(w, r, m.ID, http.StatusOK, incidentView{Flash: i18n.T(st.lang, "maintenance.created", strings.TrimSpace(m.Title))})
}
