package public

import (
	"cmp"
	"fmt"
	"html"
	"html/template"
	"slices"
	"strings"
	"time"

	"github.com/tocsin-org/tocsin"
	"github.com/tocsin-org/tocsin/markdown"
)

// incidentView is a published incident as the pages, the feed and the JSON
// show it. Its updates' Markdown is rendered once, for every language.
type incidentView struct {
	*tocsin.Incident
	Open     bool
	Affected []affectedView
	Updates  []*updateView // newest first
	// Postmortem is its published post-mortem, nil if none.
	Postmortem *postmortemView
	// From and Until are a maintenance's window in the page's zone.
	From, Until time.Time
}

// Latest is the update shown on top, nil for an incident without updates.
func (i *incidentView) Latest() *updateView {
	if len(i.Updates) == 0 {
		return nil
	}
	return i.Updates[0]
}

// affectedView is one service an incident affects.
type affectedView struct {
	ID     int64
	Name   string
	Status tocsin.ServiceStatus // the service's own
	Impact tocsin.ServiceStatus // what the incident says of it
}

type updateView struct {
	*tocsin.Update
	At      time.Time // DisplayAt in the page's zone
	Written time.Time // CreatedAt in the page's zone
	HTML    template.HTML
}

// sortIncidents orders incidents newest first by creation, as the store does.
func sortIncidents(incs []*tocsin.Incident) {
	slices.SortStableFunc(incs, func(a, b *tocsin.Incident) int {
		if c := b.CreatedAt.Compare(a.CreatedAt); c != 0 {
			return c
		}
		return cmp.Compare(b.ID, a.ID)
	})
}

// incidentViews keeps the published incidents of s, newest first, and links
// the services they affect.
func incidentViews(s Snapshot, services map[int64]*tocsin.Service) []*incidentView {
	incs := make([]*tocsin.Incident, 0, len(s.Incidents))
	for _, inc := range s.Incidents {
		if inc.Published() { // drafts never reach the public site
			incs = append(incs, inc)
		}
	}
	sortIncidents(incs)
	out := make([]*incidentView, 0, len(incs))
	for _, inc := range incs {
		iv := &incidentView{Incident: inc, Open: !inc.Status.Closed()}
		if inc.Maintenance() {
			iv.From, iv.Until = inc.ScheduledFor.In(s.Location), inc.ScheduledUntil.In(s.Location)
		}
		for _, si := range inc.Services {
			svc := services[si.ServiceID]
			if svc == nil {
				continue // deleted since
			}
			iv.Affected = append(iv.Affected, affectedView{ID: svc.ID, Name: svc.Name, Status: svc.Status, Impact: si.Status})
		}
		ups := slices.Clone(inc.Updates)
		slices.SortStableFunc(ups, func(a, b *tocsin.Update) int {
			if c := b.DisplayAt.Compare(a.DisplayAt); c != 0 {
				return c
			}
			return cmp.Compare(b.ID, a.ID)
		})
		for _, u := range ups {
			iv.Updates = append(iv.Updates, &updateView{
				Update: u, At: u.DisplayAt.In(s.Location), Written: u.CreatedAt.In(s.Location), HTML: renderUpdate(u),
			})
		}
		out = append(out, iv)
	}
	return out
}

// renderUpdate renders an update's body, once per version of it: a body
// changes only by an edit, which adds a revision.
func renderUpdate(u *tocsin.Update) template.HTML {
	return renderBodyKey(digest("update", u.ID, len(u.Revisions), len(u.Body)), u.Body)
}

func renderBodyKey(key, body string) template.HTML {
	b, _ := cachedRender(key, func() ([]byte, error) {
		h, err := markdown.Render(body)
		if err != nil {
			return []byte(`<p class="plain">` + html.EscapeString(body) + `</p>`), nil
		}
		return []byte(h), nil
	})
	return template.HTML(b)
}

// incidentPath is the URL path of an incident's page in lang; "" for the
// negotiated one.
func incidentPath(lang string, id int64) string {
	if lang == "" {
		return fmt.Sprintf("/incidents/%d/", id)
	}
	return fmt.Sprintf("/%s/incidents/%d/", lang, id)
}

// absolute makes a site path absolute with the page's URL, when known.
func absolute(base, path string) string {
	return strings.TrimSuffix(base, "/") + path
}

// postmortemMark is 1 when inc links to a post-mortem, for the page's
// cache key (an int hashes without allocating).
func postmortemMark(inc *incidentView) int {
	if inc.Postmortem != nil {
		return 1
	}
	return 0
}

// renderIncident renders an incident's page, or takes it from the cache
// when nothing that goes into it changed. The page says when the incident
// last changed, not when the site was rebuilt, so that it can be reused.
func renderIncident(lang string, v *view, inc *incidentView) (body []byte, key string, err error) {
	parts := make([]any, 0, 16+4*len(inc.Affected)+5*len(inc.Updates)) // one allocation per page
	parts = append(parts, lang, v.Title, v.URL, v.Contact, v.Zone, inc.ID, inc.Title, string(inc.Status), string(inc.Impact),
		inc.UpdatedAt.UnixNano(), inc.PublishedAt, inc.ResolvedAt, len(inc.Updates), postmortemMark(inc), inc.ScheduledFor, inc.ScheduledUntil)
	for _, a := range inc.Affected {
		parts = append(parts, a.ID, a.Name, string(a.Status), string(a.Impact))
	}
	for _, u := range inc.Updates {
		// An update's body changes only by an edit, which adds a revision.
		parts = append(parts, u.ID, string(u.Status), u.DisplayAt.UnixNano(), u.CreatedAt.UnixNano(), len(u.Revisions))
	}
	key = digest("incident", parts...)
	body, err = cachedRender(key, func() ([]byte, error) {
		c := *v
		c.Lang = lang
		c.Incident = inc
		c.Updated = inc.UpdatedAt.In(v.Updated.Location())
		return execute("incident", &c)
	})
	return body, key, err
}
