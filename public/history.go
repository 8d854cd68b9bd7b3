package public

import (
	"fmt"
	"time"
)

// monthView is one month of the history pages: the published incidents
// that began in it, newest first.
type monthView struct {
	Key       string    // "2026-11", its URL segment
	Start     time.Time // first day, in the page's zone
	Incidents []*incidentView
	// Newer and Older are the neighbouring months that have incidents, ""
	// at either end.
	Newer, Older string
}

// historyMonths groups incidents (newest first) by the month they began in,
// in the page's zone, newest month first. Months without incidents are
// skipped: a quiet year is not twelve empty pages.
func historyMonths(incs []*incidentView, loc *time.Location) []*monthView {
	var out []*monthView
	for _, inc := range incs {
		if !inc.Ran() {
			continue // a maintenance to come, or cancelled, is not history
		}
		start := inc.Started().In(loc)
		key := start.Format("2006-01")
		var m *monthView
		for _, have := range out {
			if have.Key == key {
				m = have
				break
			}
		}
		if m == nil {
			m = &monthView{Key: key, Start: time.Date(start.Year(), start.Month(), 1, 0, 0, 0, 0, loc)}
			out = append(out, m)
		}
		m.Incidents = append(m.Incidents, inc)
	}
	// Incidents are sorted by creation; a backdated start can move one
	// before its neighbours, so months are put in order here.
	sortMonths(out)
	for i, m := range out {
		if i > 0 {
			m.Newer = out[i-1].Key
		}
		if i+1 < len(out) {
			m.Older = out[i+1].Key
		}
	}
	return out
}

func sortMonths(ms []*monthView) {
	for i := 1; i < len(ms); i++ {
		for j := i; j > 0 && ms[j].Key > ms[j-1].Key; j-- {
			ms[j], ms[j-1] = ms[j-1], ms[j]
		}
	}
}

// historyPath is the URL path of the history index (month "") or of one
// month, in lang.
func historyPath(lang, month string) string {
	if month == "" {
		return "/" + lang + "/history/"
	}
	return "/" + lang + "/history/" + month + "/"
}

// renderMonth renders one month's page, or takes it from the cache when
// none of its incidents changed.
func renderMonth(lang string, v *view, m *monthView) ([]byte, string, error) {
	parts := []any{lang, v.Title, v.URL, v.Contact, v.Zone, m.Key, m.Newer, m.Older}
	for _, inc := range m.Incidents {
		parts = append(parts, inc.ID, inc.Title, string(inc.Status), string(inc.Impact), inc.UpdatedAt.UnixNano(), inc.ResolvedAt)
		for _, a := range inc.Affected {
			parts = append(parts, a.Name)
		}
	}
	key := digest("month", parts...)
	body, err := cachedRender(key, func() ([]byte, error) {
		c := *v
		c.Lang = lang
		c.Month = m
		// The page says when its newest incident changed, not when the site
		// was rebuilt, so that it can be reused.
		c.Updated = m.Start
		for _, inc := range m.Incidents {
			if u := inc.UpdatedAt.In(v.Location); u.After(c.Updated) {
				c.Updated = u
			}
		}
		return execute("month", &c)
	})
	return body, key, err
}

// formatMonth names a month: "novembre 2026", "November 2026".
func formatMonth(lang string, t time.Time) string {
	if lang == "fr" {
		return fmt.Sprintf("%s %d", monthsFR[t.Month()-1], t.Year())
	}
	return t.Format("January 2006")
}

// addHistory adds the history index and one page per month in lang.
func addHistory(site *Site, lang string, v *view, now time.Time) error {
	body, err := renderPage("history", lang, v)
	if err != nil {
		return err
	}
	site.add(historyPath(lang, ""), body, "text/html; charset=utf-8", pageCache, false, now)
	for _, m := range v.Months {
		body, key, err := renderMonth(lang, v, m)
		if err != nil {
			return err
		}
		site.add(historyPath(lang, m.Key), body, "text/html; charset=utf-8", pageCache, false, now, key)
	}
	return nil
}
