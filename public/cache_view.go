package public

import (
	"html/template"
	"math"

	"github.com/tocsin-org/tocsin"
	"github.com/tocsin-org/tocsin/i18n"
)

// serviceView computes a service's row: its uptime over the last days (the
// complete days from the cache while its history is unchanged, today
// afresh, since today's share moves with the clock), its bar and its row
// on the page, each drawn again only when its inputs changed.
func (b *Builder) serviceView(svc *tocsin.Service, mine []tocsin.StatusChange, checkDays map[int64]tocsin.CheckDay, s Snapshot, grouped bool, affectedBy, named []*incidentView) (serviceView, error) {
	today := midnight(s.Now, s.Location)
	f := newFingerprint().time(today).str(s.Location.String()).int(int64(len(mine)))
	for _, c := range mine {
		f.time(c.At).str(string(c.Status))
	}
	past, ok := b.days.get(svc.ID, f.sum(), b.gen)
	if !ok {
		past = dailyUptime(mine, UptimeDays, today, s.Location)[:UptimeDays-1]
		b.days.put(svc.ID, f.sum(), b.gen, past)
	}
	days := make([]Day, UptimeDays)
	copy(days, past)
	days[UptimeDays-1] = dayOf(mine, today, s.Now)
	for i := range days {
		if c, ok := checkDays[days[i].Date.Unix()]; ok {
			days[i].Checks, days[i].CheckFailures = c.Runs, c.Failures
		}
	}
	markIncidents(days, named, s.Now)
	up, hasUptime := Uptime(days)
	spans := Spans(days)
	bars, barsFP := b.uptimeBars(svc.ID, spans, days)
	sv := serviceView{Service: svc, Days: days, Spans: spans, Bars: bars.svg, DayLists: bars.dayLists, Uptime: up, HasUptime: hasUptime,
		AffectedBy: affectedBy, Grouped: grouped}

	f = newFingerprint().int(int64(barsFP)).int(svc.ID).str(svc.Name).str(svc.Link).str(svc.Description).str(string(svc.Status)).
		int(int64(math.Float64bits(up))).int(boolInt(hasUptime)).int(boolInt(grouped)).int(int64(len(affectedBy)))
	for _, inc := range affectedBy {
		f.int(inc.ID).str(inc.Title)
	}
	if items, ok := b.items.get(svc.ID, f.sum(), b.gen); ok {
		sv.Items = items
		return sv, nil
	}
	sv.Items = make(map[string]template.HTML, len(i18n.Langs))
	for _, lang := range i18n.Langs {
		body, err := executeData("service", lang, &serviceItem{serviceView: &sv, Lang: lang})
		if err != nil {
			return sv, err
		}
		sv.Items[lang] = template.HTML(body)
	}
	b.items.put(svc.ID, f.sum(), b.gen, sv.Items)
	return sv, nil
}

// serviceItem is what the "service" template shows: a service's row, in a
// language.
type serviceItem struct {
	*serviceView
	Lang string
}

// bars are a service's uptime bar and the list of its days with
// incidents, per language.
type bars struct {
	svg, dayLists map[string]template.HTML
}

// uptimeBars draws a service's uptime bar and its list of days with
// incidents in every language, again only when its runs of days changed
// (most rebuilds change none). A day with incidents is a run of its own,
// so the runs cover the list too. It returns them and the fingerprint of
// the runs.
func (b *Builder) uptimeBars(id int64, spans []Span, days []Day) (bars, uint64) {
	f := newFingerprint().int(int64(len(spans)))
	for _, s := range spans {
		f.time(s.From).str(s.From.Location().String()).time(s.To).int(int64(s.Start)).int(int64(s.Days)).
			str(string(s.Worst)).int(int64(math.Float64bits(s.Uptime))).int(boolInt(s.Known)).int(int64(len(s.Incidents))).
			int(int64(s.Checks)).int(int64(s.CheckFailures))
		for _, inc := range s.Incidents {
			f.int(inc.ID).str(inc.Title)
		}
	}
	fp := f.sum()
	if out, ok := b.bars.get(id, fp, b.gen); ok {
		return out, fp
	}
	out := bars{svg: make(map[string]template.HTML, len(i18n.Langs)), dayLists: dayLists(days)}
	for _, lang := range i18n.Langs {
		out.svg[lang] = barSVG(spans, lang)
	}
	b.bars.put(id, fp, b.gen, out)
	return out, fp
}

func boolInt(v bool) int64 {
	if v {
		return 1
	}
	return 0
}
