package public

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/tocsin-org/tocsin"
)

// TestIncidentDays checks that the days an incident ran are marked on the
// bars of the services it named, shown on hover (the SVG title) and listed
// under the bar, while only open incidents are on top of the page.
func TestIncidentDays(t *testing.T) {
	s := incidentSnapshot()
	site, err := Build(s)
	if err != nil {
		t.Fatal(err)
	}
	body := site.Resources["/fr/"].Body
	top, services, ok := bytes.Cut(body, []byte(`<section class="group"`))
	if !ok {
		t.Fatal("no service group on the page")
	}
	if bytes.Contains(top, []byte("Mail delayed")) {
		t.Error("the resolved incident is among the current ones")
	}
	for _, want := range []string{
		// Resolved incident 2 on service 3, ten days ago.
		`<summary>Jours avec incident sur 90 jours : 1</summary>`,
		`<time datetime="2026-11-14">14 novembre 2026</time> — <a href="/fr/incidents/2/">Mail delayed</a>`,
		// Open incident 1 on service 2, today.
		`<time datetime="2026-11-24">24 novembre 2026</time> — <a href="/fr/incidents/1/">Peertube uploads fail &amp; &lt;slow&gt;</a>`,
		"14 novembre 2026 · 100.00 %\nMail delayed</title>",
	} {
		if !bytes.Contains(services, []byte(want)) {
			t.Errorf("/fr/ lacks %q", want)
		}
	}
	if bytes.Contains(body, []byte("Secret draft")) {
		t.Error("a draft is on the bars")
	}
}

func TestMarkIncidents(t *testing.T) {
	loc := time.UTC
	day := func(d int) time.Time { return time.Date(2026, 11, d, 0, 0, 0, 0, loc) }
	now := day(10).Add(15 * time.Hour)
	at := func(d, h int) *time.Time { t := day(d).Add(time.Duration(h) * time.Hour); return &t }
	inc := func(id int64, from time.Time, resolved *time.Time) *incidentView {
		return &incidentView{Incident: &tocsin.Incident{ID: id, Title: "i", CreatedAt: from, ResolvedAt: resolved}}
	}
	tests := []struct {
		name string
		inc  *incidentView
		want string // days 1..10 with an incident, as x
	}{
		{"within one day", inc(1, *at(3, 1), at(3, 5)), "..x......."},
		{"over midnight", inc(1, *at(3, 22), at(4, 2)), "..xx......"},
		{"still open", inc(1, *at(8, 9), nil), ".......xxx"},
		{"before the bar", inc(1, day(1).AddDate(0, 0, -5), at(1, 3)), "x........."},
		{"resolved at midnight", inc(1, *at(5, 20), at(6, 0)), "....xx...."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			days := dailyUptime(nil, 10, now, loc)
			markIncidents(days, []*incidentView{tt.inc}, now)
			var got strings.Builder
			for _, d := range days {
				if len(d.Incidents) > 0 {
					got.WriteByte('x')
				} else {
					got.WriteByte('.')
				}
			}
			if got.String() != tt.want {
				t.Errorf("got %s, want %s", got.String(), tt.want)
			}
			// Each day with an incident is a rectangle of its own, so
			// that its title names the incident; quiet days still merge.
			runs := strings.Count(tt.want, "x") + len(strings.FieldsFunc(tt.want, func(r rune) bool { return r == 'x' }))
			if n := len(Spans(days)); n != runs {
				t.Errorf("%d spans, want %d", n, runs)
			}
		})
	}
}
