package public

import (
	"cmp"
	"html"
	"html/template"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/tocsin-org/tocsin"
	"github.com/tocsin-org/tocsin/i18n"
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

	// HistoryRows are its entry in the history's month, per language.
	HistoryRows map[string]template.HTML

	fp uint64 // fingerprint of what its page shows, set by Build
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
func (b *Builder) incidentViews(s Snapshot, services map[int64]*tocsin.Service) []*incidentView {
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
				Update: u, At: u.DisplayAt.In(s.Location), Written: u.CreatedAt.In(s.Location), HTML: b.renderBody(u.Body),
			})
		}
		out = append(out, iv)
	}
	return out
}

// renderBody renders an update's Markdown body, once per distinct text:
// the text itself is the key, so an edit renders the new text and nothing
// else.
func (b *Builder) renderBody(body string) template.HTML {
	if h, ok := b.markdown.get(body, 0, b.gen); ok {
		return h
	}
	out, err := markdown.Render(body)
	if err != nil {
		out = template.HTML(`<p class="plain">` + html.EscapeString(body) + `</p>`)
	}
	b.markdown.put(body, 0, b.gen, out)
	return out
}

// incidentPath is the URL path of an incident's page in lang; "" for the
// negotiated one.
func incidentPath(lang string, id int64) string {
	if lang == "" {
		return "/incidents/" + strconv.FormatInt(id, 10) + "/"
	}
	return "/" + lang + "/incidents/" + strconv.FormatInt(id, 10) + "/"
}

// absolute makes a site path absolute with the page's URL, when known.
func absolute(base, path string) string {
	return strings.TrimSuffix(base, "/") + path
}

// postmortemMark is 1 when inc links to a post-mortem.
func postmortemMark(inc *incidentView) int64 {
	if inc.Postmortem != nil {
		return 1
	}
	return 0
}

// incidentFingerprint hashes everything an incident's page shows besides
// the site-wide inputs (shared): a page is re-rendered only when one of
// these changed.
func incidentFingerprint(shared uint64, inc *incidentView) uint64 {
	f := newFingerprint().int(int64(shared)).int(inc.ID).str(inc.Title).str(string(inc.Status)).str(string(inc.Impact)).
		time(inc.UpdatedAt).timePtr(inc.PublishedAt).timePtr(inc.ResolvedAt).int(postmortemMark(inc)).
		timePtr(inc.ScheduledFor).timePtr(inc.ScheduledUntil).int(int64(len(inc.Affected)))
	for _, a := range inc.Affected {
		f.int(a.ID).str(a.Name).str(string(a.Status)).str(string(a.Impact))
	}
	f.int(int64(len(inc.Updates)))
	for _, u := range inc.Updates {
		f.int(u.ID).str(string(u.Status)).time(u.DisplayAt).time(u.CreatedAt).str(u.Body)
	}
	return f.sum()
}

// renderIncident returns an incident's pages, one per language of
// i18n.Langs, from the cache when nothing that goes into them changed. A
// page says when the incident last changed, not when the site was rebuilt,
// so that it can be reused.
func (b *Builder) renderIncident(v *view, inc *incidentView) ([]*Resource, error) {
	if rs, ok := b.incidents.get(inc.ID, inc.fp, b.gen); ok {
		return rs, nil
	}
	rs := make([]*Resource, len(i18n.Langs))
	for i, lang := range i18n.Langs {
		c := *v
		c.Lang = lang
		c.Incident = inc
		c.Updated = inc.UpdatedAt.In(v.Updated.Location())
		body, err := execute("incident", &c)
		if err != nil {
			return nil, err
		}
		rs[i] = newResource(body, "text/html; charset=utf-8", pageCache, false, inc.UpdatedAt)
	}
	b.incidents.put(inc.ID, inc.fp, b.gen, rs)
	return rs, nil
}

// historyRows returns an incident's entry in the history, per language,
// from the cache while the incident is unchanged.
func (b *Builder) historyRows(inc *incidentView, loc *time.Location) (map[string]template.HTML, error) {
	if rows, ok := b.rows.get(inc.ID, inc.fp, b.gen); ok {
		return rows, nil
	}
	rows := make(map[string]template.HTML, len(i18n.Langs))
	for _, lang := range i18n.Langs {
		body, err := executeData("history-row", lang, &historyRow{incidentView: inc, Lang: lang, Location: loc})
		if err != nil {
			return nil, err
		}
		rows[lang] = template.HTML(body)
	}
	b.rows.put(inc.ID, inc.fp, b.gen, rows)
	return rows, nil
}

// historyRow is what the "history-row" template shows.
type historyRow struct {
	*incidentView
	Lang     string
	Location *time.Location
}
