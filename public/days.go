package public

import (
	"fmt"
	"html"
	"html/template"
	"strings"
	"time"

	"github.com/tocsin-org/tocsin/i18n"
)

// Started is when the incident began: its earliest update, which may be
// backdated before the incident was declared; for a maintenance, the start
// of its window.
func (i *incidentView) Started() time.Time {
	if i.Maintenance() {
		return *i.ScheduledFor // announced before, it began with its window
	}
	at := i.CreatedAt
	for _, u := range i.Updates {
		if u.DisplayAt.Before(at) {
			at = u.DisplayAt
		}
	}
	return at
}

// Ran reports whether the incident affected its services: every incident,
// and the maintenances that went under way (not those to come, nor the
// cancelled).
func (i *incidentView) Ran() bool {
	if !i.Maintenance() {
		return true
	}
	return i.Status.Underway() || (i.Status.Closed() && !i.Cancelled())
}

// dayIncident is an incident on one day of a service's uptime bar.
type dayIncident struct {
	ID    int64
	Title string
}

// markIncidents records on each day the incidents that affected the
// service that day (newest first, as incs are), so that the bar can show
// them on hover and the page list them. An open incident runs until now.
func markIncidents(days []Day, incs []*incidentView, now time.Time) {
	if len(days) == 0 {
		return
	}
	// Each day ends where the next begins; the days' bounds are computed
	// once, not once per incident (AddDate was most of a rebuild).
	ends := make([]time.Time, len(days))
	for i := range days {
		if i+1 < len(days) {
			ends[i] = days[i+1].Date
		} else {
			ends[i] = days[i].Date.AddDate(0, 0, 1)
		}
	}
	first, last := days[0].Date, ends[len(ends)-1]
	for _, inc := range incs {
		from, to := inc.Started(), now
		if inc.ResolvedAt != nil {
			to = *inc.ResolvedAt
		}
		if !from.Before(last) || to.Before(first) {
			continue // outside the bar
		}
		for i := range days {
			if from.Before(ends[i]) && !to.Before(days[i].Date) {
				days[i].Incidents = append(days[i].Incidents, dayIncident{inc.ID, inc.Title})
			}
		}
	}
}

// dayListMax bounds the days listed under a bar: a service with an incident
// every few days would otherwise make the page heavy on a phone. The
// count says how many there were; older ones are on the incident pages.
const dayListMax = 10

// dayLists renders, per language, the list of the bar's days with
// incidents, newest first: what the bar's titles show on hover, for
// keyboards, screen readers and phones. It is written here rather than in
// the template for the same reason as barSVG; every text is escaped.
func dayLists(days []Day) map[string]template.HTML {
	var marked []Day
	for i := len(days) - 1; i >= 0; i-- {
		if len(days[i].Incidents) > 0 {
			marked = append(marked, days[i])
		}
	}
	if len(marked) == 0 {
		return nil
	}
	out := map[string]template.HTML{}
	for _, lang := range i18n.Langs {
		var b strings.Builder
		b.WriteString(`<details class="days"><summary>`)
		b.WriteString(html.EscapeString(i18n.T(lang, "public.incident_days", len(marked))))
		b.WriteString(`</summary><ul>`)
		for _, d := range marked[:min(len(marked), dayListMax)] {
			fmt.Fprintf(&b, `<li><time datetime="%s">%s</time> — `, d.Date.Format("2006-01-02"), html.EscapeString(formatDate(lang, d.Date)))
			if share, ok := d.ChecksSucceeded(); ok {
				b.WriteString(html.EscapeString(i18n.T(lang, "public.checks_succeeded", share)) + " — ")
			}
			for i, inc := range d.Incidents {
				if i > 0 {
					b.WriteString(", ")
				}
				fmt.Fprintf(&b, `<a href="%s">%s</a>`, incidentPath(lang, inc.ID), html.EscapeString(inc.Title))
			}
			b.WriteString(`</li>`)
		}
		b.WriteString(`</ul></details>`)
		out[lang] = template.HTML(b.String())
	}
	return out
}
