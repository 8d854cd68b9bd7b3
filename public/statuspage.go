package public

import (
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"github.com/tocsin-org/tocsin"
)

// The JSON below follows Atlassian Statuspage's public API v2 (field names,
// types and status values), so that aggregators and widgets written for it
// read tocsin unchanged. Groups are components with "group": true.

type spPage struct {
	ID        string    `json:"id"`
	Name      string    `json:"name"`
	URL       string    `json:"url"`
	TimeZone  string    `json:"time_zone"`
	UpdatedAt time.Time `json:"updated_at"`
}

type spStatus struct {
	Indicator   string `json:"indicator"` // none, minor, major, critical
	Description string `json:"description"`
}

type spComponent struct {
	ID                 string    `json:"id"`
	Name               string    `json:"name"`
	Status             string    `json:"status"`
	CreatedAt          time.Time `json:"created_at"`
	UpdatedAt          time.Time `json:"updated_at"`
	Position           int       `json:"position"`
	Description        *string   `json:"description"`
	Showcase           bool      `json:"showcase"`
	StartDate          *string   `json:"start_date"`
	GroupID            *string   `json:"group_id"`
	PageID             string    `json:"page_id"`
	Group              bool      `json:"group"`
	OnlyShowIfDegraded bool      `json:"only_show_if_degraded"`
	Components         []string  `json:"components,omitempty"`
}

type spIncident struct {
	ID              string             `json:"id"`
	Name            string             `json:"name"`
	Status          string             `json:"status"`
	Impact          string             `json:"impact"`
	CreatedAt       time.Time          `json:"created_at"`
	UpdatedAt       time.Time          `json:"updated_at"`
	MonitoringAt    *time.Time         `json:"monitoring_at"`
	ResolvedAt      *time.Time         `json:"resolved_at"`
	Shortlink       string             `json:"shortlink"`
	StartedAt       time.Time          `json:"started_at"`
	PageID          string             `json:"page_id"`
	IncidentUpdates []spIncidentUpdate `json:"incident_updates"`
	Components      []spComponent      `json:"components"`
}

// spMaintenance is a scheduled maintenance: an incident with its window.
type spMaintenance struct {
	spIncident
	ScheduledFor   time.Time `json:"scheduled_for"`
	ScheduledUntil time.Time `json:"scheduled_until"`
}

func spMaintenanceOf(s Snapshot, m *incidentView, components map[string]spComponent) spMaintenance {
	return spMaintenance{spIncidentOf(s, m, components), m.ScheduledFor.UTC(), m.ScheduledUntil.UTC()}
}

type spIncidentUpdate struct {
	ID                   string    `json:"id"`
	Status               string    `json:"status"`
	Body                 string    `json:"body"`
	IncidentID           string    `json:"incident_id"`
	CreatedAt            time.Time `json:"created_at"`
	UpdatedAt            time.Time `json:"updated_at"`
	DisplayAt            time.Time `json:"display_at"`
	AffectedComponents   []any     `json:"affected_components"` // always null
	DeliverNotifications bool      `json:"deliver_notifications"`
	CustomTweet          *string   `json:"custom_tweet"`
	TweetID              *string   `json:"tweet_id"`
}

// IncidentsJSON is how many incidents /api/v2/incidents.json lists, as
// Statuspage does.
const IncidentsJSON = 50

func incidentID(id int64) string { return fmt.Sprintf("inc%d", id) }
func updateID(id int64) string   { return fmt.Sprintf("upd%d", id) }

// spIncidentOf is one incident in Statuspage's shape; components are the
// affected services as components.json shows them.
func spIncidentOf(s Snapshot, inc *incidentView, components map[string]spComponent) spIncident {
	out := spIncident{
		ID: incidentID(inc.ID), Name: inc.Title, Status: string(inc.Status), Impact: string(inc.Impact),
		CreatedAt: inc.CreatedAt.UTC(), UpdatedAt: inc.UpdatedAt.UTC(), StartedAt: inc.Started().UTC(),
		Shortlink: absolute(s.URL, incidentPath("", inc.ID)), PageID: pageID,
		IncidentUpdates: []spIncidentUpdate{}, Components: []spComponent{},
	}
	if inc.ResolvedAt != nil {
		t := inc.ResolvedAt.UTC()
		out.ResolvedAt = &t
	}
	for _, u := range inc.Updates { // newest first
		edited := u.CreatedAt
		for _, r := range u.Revisions {
			if r.EditedAt.After(edited) {
				edited = r.EditedAt
			}
		}
		out.IncidentUpdates = append(out.IncidentUpdates, spIncidentUpdate{
			ID: updateID(u.ID), Status: string(u.Status), Body: u.Body, IncidentID: out.ID,
			CreatedAt: u.CreatedAt.UTC(), UpdatedAt: edited.UTC(), DisplayAt: u.DisplayAt.UTC(),
			DeliverNotifications: true,
		})
		// Monitoring began with the first update in that status.
		if u.Status == tocsin.IncidentMonitoring {
			t := u.DisplayAt.UTC()
			out.MonitoringAt = &t
		}
	}
	for _, a := range inc.Affected {
		if c, ok := components[componentID(a.ID)]; ok {
			out.Components = append(out.Components, c)
		}
	}
	return out
}

// pageID is stable for a page: tocsin serves one page per instance.
const pageID = "tocsin"

func componentID(id int64) string { return fmt.Sprintf("svc%d", id) }
func groupID(i int) string        { return fmt.Sprintf("grp%d", i+1) }

// indicator maps the worst current status to Statuspage's overall
// indicator and its English description.
func indicator(worst tocsin.ServiceStatus) spStatus {
	switch worst {
	case tocsin.StatusMajorOutage:
		return spStatus{"critical", "Major System Outage"}
	case tocsin.StatusPartialOutage:
		return spStatus{"major", "Partial System Outage"}
	case tocsin.StatusDegraded:
		return spStatus{"minor", "Minor Service Outage"}
	case tocsin.StatusMaintenance:
		return spStatus{"maintenance", "Service Under Maintenance"}
	}
	return spStatus{"none", "All Systems Operational"}
}

// statuspageJSON renders the /api/v2 documents.
func statuspageJSON(s Snapshot, v *view) map[string][]byte {
	page := spPage{ID: pageID, Name: s.Title, URL: s.URL, TimeZone: s.Location.String(), UpdatedAt: s.Now.UTC()}
	var components []spComponent
	pos := 0
	for i, g := range v.Groups {
		var gid *string
		group := -1 // index of the group's component, whose list grows below
		if g.Name != "" {
			id := groupID(i)
			gid = &id
			pos++
			components = append(components, spComponent{
				ID: id, Name: g.Name, Status: string(worstOf(g.Services)), Position: pos, PageID: pageID, Group: true,
				CreatedAt: earliest(g.Services), UpdatedAt: latest(g.Services),
			})
			group = len(components) - 1
		}
		for _, svc := range g.Services {
			pos++
			c := spComponent{
				ID: componentID(svc.ID), Name: svc.Name, Status: string(svc.Status),
				CreatedAt: svc.CreatedAt.UTC(), UpdatedAt: svc.UpdatedAt.UTC(), Position: pos,
				Showcase: true, GroupID: gid, PageID: pageID,
			}
			if svc.Description != "" {
				d := svc.Description
				c.Description = &d
			}
			components = append(components, c)
			if group >= 0 {
				components[group].Components = append(components[group].Components, c.ID)
			}
		}
	}
	if components == nil {
		components = []spComponent{}
	}
	byID := make(map[string]spComponent, len(components))
	for _, c := range components {
		byID[c.ID] = c
	}
	all, unresolved := []spIncident{}, []spIncident{}
	maintenances, upcoming, active := []spMaintenance{}, []spMaintenance{}, []spMaintenance{}
	for _, m := range v.Upcoming {
		upcoming = append(upcoming, spMaintenanceOf(s, m, byID))
	}
	for _, m := range v.Underway {
		active = append(active, spMaintenanceOf(s, m, byID))
	}
	for _, inc := range v.Incidents {
		if inc.Maintenance() {
			if len(maintenances) < IncidentsJSON {
				maintenances = append(maintenances, spMaintenanceOf(s, inc, byID))
			}
			continue
		}
		if inc.Open {
			unresolved = append(unresolved, spIncidentOf(s, inc, byID))
		}
		if len(all) < IncidentsJSON {
			all = append(all, spIncidentOf(s, inc, byID))
		}
	}
	status := indicator(v.Overall)
	docs := map[string]any{
		"/api/v2/incidents.json":            map[string]any{"page": page, "incidents": all},
		"/api/v2/incidents/unresolved.json": map[string]any{"page": page, "incidents": unresolved},
		"/api/v2/status.json":               map[string]any{"page": page, "status": status},
		"/api/v2/components.json":           map[string]any{"page": page, "components": components},
		"/api/v2/summary.json": map[string]any{
			"page": page, "components": components, "status": status,
			"incidents": unresolved, "scheduled_maintenances": append(slices.Clip(active), upcoming...),
		},
		"/api/v2/scheduled-maintenances.json":          map[string]any{"page": page, "scheduled_maintenances": maintenances},
		"/api/v2/scheduled-maintenances/upcoming.json": map[string]any{"page": page, "scheduled_maintenances": upcoming},
		"/api/v2/scheduled-maintenances/active.json":   map[string]any{"page": page, "scheduled_maintenances": active},
	}
	out := map[string][]byte{}
	for path, doc := range docs {
		b, err := json.Marshal(doc)
		if err != nil {
			panic(err) // plain structs and maps: cannot fail
		}
		out[path] = b
	}
	return out
}

func worstOf(svcs []serviceView) tocsin.ServiceStatus {
	w := tocsin.StatusOperational
	for _, s := range svcs {
		if severity[s.Status] > severity[w] {
			w = s.Status
		}
	}
	return w
}

func earliest(svcs []serviceView) time.Time {
	ts := make([]time.Time, 0, len(svcs))
	for _, s := range svcs {
		ts = append(ts, s.CreatedAt.UTC())
	}
	return slices.MinFunc(ts, func(a, b time.Time) int { return a.Compare(b) })
}

func latest(svcs []serviceView) time.Time {
	ts := make([]time.Time, 0, len(svcs))
	for _, s := range svcs {
		ts = append(ts, s.UpdatedAt.UTC())
	}
	return slices.MaxFunc(ts, func(a, b time.Time) int { return a.Compare(b) })
}
