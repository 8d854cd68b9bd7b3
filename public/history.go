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

// renderMonth returns one month's page, from the cache when none of its
// incidents changed (their fingerprints cover all the page shows of them).
func (b *Builder) renderMonth(lang string, v *view, m *monthView, shared uint64) (*Resource, error) {
	f := newFingerprint().int(int64(shared)).str(m.Key).str(m.Newer).str(m.Older).int(int64(len(m.Incidents)))
	for _, inc := range m.Incidents {
		f.int(int64(inc.fp))
	}
	key := monthKey{lang, m.Key}
	if r, ok := b.months.get(key, f.sum(), b.gen); ok {
		return r, nil
	}
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
	body, err := execute("month", &c)
	if err != nil {
		return nil, err
	}
	r := newResource(body, "text/html; charset=utf-8", pageCache, false, c.Updated)
	b.months.put(key, f.sum(), b.gen, r)
	return r, nil
}

type monthKey struct{ lang, month string }

// formatMonth names a month: "novembre 2026", "November 2026".
func formatMonth(lang string, t time.Time) string {
	if lang == "fr" {
		return fmt.Sprintf("%s %d", monthsFR[t.Month()-1], t.Year())
	}
	return t.Format("January 2006")
}

// addHistory adds the history index and one page per month in lang.
func (b *Builder) addHistory(site *Site, lang string, v *view, shared uint64, now time.Time) error {
	c := *v
	c.Lang = lang
	body, err := execute("history", &c)
	if err != nil {
		return err
	}
	site.add(historyPath(lang, ""), body, "text/html; charset=utf-8", pageCache, false, now)
	for _, m := range v.Months {
		r, err := b.renderMonth(lang, v, m, shared)
		if err != nil {
			return err
		}
		site.Resources[historyPath(lang, m.Key)] = r
	}
	return nil
}
