package public

import (
	"cmp"
	"fmt"
	"html/template"
	"slices"
	"time"

	"github.com/tocsin-org/tocsin"
)

// postmortemView is a published post-mortem as its page, the list and the
// feed show it, its Markdown rendered once for both languages.
type postmortemView struct {
	*tocsin.Postmortem
	Incident  *incidentView
	Published time.Time // PublishedAt in the page's zone
	Sections  []sectionView
	Timeline  []timelineView
}

// sectionView is one titled part of a post-mortem; Key names its title.
type sectionView struct {
	Key  string
	HTML template.HTML
}

type timelineView struct {
	At   time.Time // in the page's zone
	UTC  time.Time
	HTML template.HTML
}

// postmortemViews keeps the published post-mortems of published incidents
// in s, most recently published first, and links each to its incident.
// Drafts and approved texts never reach the public site, whatever the
// snapshot holds.
func postmortemViews(s Snapshot, incidents []*incidentView) []*postmortemView {
	byID := make(map[int64]*incidentView, len(incidents))
	for _, inc := range incidents {
		byID[inc.ID] = inc
	}
	var out []*postmortemView
	for _, p := range s.Postmortems {
		inc := byID[p.IncidentID]
		if !p.Published() || p.PublishedAt == nil || inc == nil {
			continue
		}
		// A published text never changes, so its publication time and
		// incident name its renderings.
		key := func(part string, i int) string {
			return digest("postmortem", p.IncidentID, p.PublishedAt, p.Revision, part, i)
		}
		pv := &postmortemView{Postmortem: p, Incident: inc, Published: p.PublishedAt.In(s.Location)}
		for _, sec := range []struct {
			key, body string
		}{{"postmortems.summary", p.Summary}, {"postmortems.impact", p.Impact}, {"postmortems.root_cause", p.RootCause},
			{"postmortems.went_well", p.WentWell}, {"postmortems.changes", p.Changes}} {
			if sec.body != "" {
				pv.Sections = append(pv.Sections, sectionView{sec.key, renderBodyKey(key(sec.key, 0), sec.body)})
			}
		}
		for i, e := range p.Timeline {
			pv.Timeline = append(pv.Timeline, timelineView{e.At.In(s.Location), e.At.UTC(), renderBodyKey(key("timeline", i), e.Text)})
		}
		inc.Postmortem = pv
		out = append(out, pv)
	}
	slices.SortStableFunc(out, func(a, b *postmortemView) int {
		if c := b.PublishedAt.Compare(*a.PublishedAt); c != 0 {
			return c
		}
		return cmp.Compare(b.IncidentID, a.IncidentID)
	})
	return out
}

// postmortemPath is the URL path of an incident's post-mortem in lang; ""
// for the negotiated one.
func postmortemPath(lang string, id int64) string {
	return incidentPath(lang, id) + "postmortem/"
}

// postmortemsPath is the URL path of the list of post-mortems in lang.
func postmortemsPath(lang string) string {
	if lang == "" {
		return "/postmortems/"
	}
	return fmt.Sprintf("/%s/postmortems/", lang)
}

// renderPostmortem renders a post-mortem's page in lang, or takes it from
// the cache: a published text never changes, so the page changes only with
// the page's settings and its incident's heading. It is dated by its
// publication.
func renderPostmortem(lang string, v *view, pm *postmortemView) (body []byte, key string, err error) {
	inc := pm.Incident
	key = digest("postmortem-page", lang, v.Title, v.URL, v.Contact, v.Zone, inc.ID, inc.Title, string(inc.Status),
		string(inc.Impact), pm.PublishedAt, pm.Revision)
	body, err = cachedRender(key, func() ([]byte, error) {
		c := *v
		c.Lang = lang
		c.Postmortem = pm
		c.Incident = inc
		c.Updated = pm.Published
		return execute("postmortem", &c)
	})
	return body, key, err
}
