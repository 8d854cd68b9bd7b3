package public

import (
	"bytes"
	"testing"
	"time"

	"github.com/tocsin-org/tocsin"
)

func TestHistoryMonths(t *testing.T) {
	loc := paris
	at := func(y int, m time.Month, d, h int) time.Time { return time.Date(y, m, d, h, 0, 0, 0, loc) }
	inc := func(id int64, created time.Time, backdated ...time.Time) *incidentView {
		iv := &incidentView{Incident: &tocsin.Incident{ID: id, CreatedAt: created}}
		for _, b := range backdated {
			iv.Updates = append(iv.Updates, &updateView{Update: &tocsin.Update{DisplayAt: b}})
		}
		return iv
	}
	incs := []*incidentView{ // newest first by creation, as the view has them
		inc(5, at(2026, 11, 20, 9)),
		inc(4, at(2026, 11, 1, 0).Add(30*time.Minute)), // 23:30 UTC in October, November in Paris
		inc(3, at(2026, 9, 2, 9), at(2026, 8, 30, 22)), // declared in September, began in August
		inc(2, at(2026, 8, 3, 9)),
		inc(1, at(2025, 12, 31, 23)),
	}
	months := historyMonths(incs, loc)
	type got struct {
		key, newer, older string
		ids               []int64
	}
	want := []got{
		{"2026-11", "", "2026-08", []int64{5, 4}},
		{"2026-08", "2026-11", "2025-12", []int64{3, 2}},
		{"2025-12", "2026-08", "", []int64{1}},
	}
	if len(months) != len(want) {
		t.Fatalf("%d months, want %d", len(months), len(want))
	}
	for i, m := range months {
		var ids []int64
		for _, inc := range m.Incidents {
			ids = append(ids, inc.ID)
		}
		g := got{m.Key, m.Newer, m.Older, ids}
		if g.key != want[i].key || g.newer != want[i].newer || g.older != want[i].older || len(ids) != len(want[i].ids) {
			t.Errorf("month %d: %+v, want %+v", i, g, want[i])
			continue
		}
		for j := range ids {
			if ids[j] != want[i].ids[j] {
				t.Errorf("month %s: incidents %v, want %v", m.Key, ids, want[i].ids)
			}
		}
	}
}

func TestHistoryPages(t *testing.T) {
	site := buildIncidents(t)
	tests := []struct {
		path, accept string
		want         []string
		absent       []string
	}{
		{path: "/fr/history/", want: []string{`<html lang="fr">`, "Historique des incidents", `<a href="/fr/history/2026-11/">novembre 2026</a> — incidents : 2`}, absent: []string{"Secret draft"}},
		{path: "/en/history/", want: []string{`<a href="/en/history/2026-11/">November 2026</a> — incidents: 2`, `href="/fr/history/"`}},
		{path: "/history/", accept: "en", want: []string{`<html lang="en">`}},
		{path: "/en/history/2026-11/", want: []string{"Incident history: November 2026",
			`<a href="/en/incidents/1/">Peertube uploads fail &amp; &lt;slow&gt;</a>`, `<a href="/en/incidents/2/">Mail delayed</a>`,
			"Resolved", "Impact: minor", `href="/fr/history/2026-11/"`, `href="/en/history/"`}, absent: []string{"Secret draft", `rel="next"`, `rel="prev"`}},
		{path: "/history/2026-11/", accept: "fr", want: []string{"Historique des incidents : novembre 2026"}},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			r, ok := site.Lookup(tt.path, tt.accept, "fr")
			if !ok {
				t.Fatal("missing")
			}
			for _, w := range tt.want {
				if !bytes.Contains(r.Body, []byte(w)) {
					t.Errorf("lacks %q", w)
				}
			}
			for _, a := range tt.absent {
				if bytes.Contains(r.Body, []byte(a)) {
					t.Errorf("has %q", a)
				}
			}
		})
	}
	if !bytes.Contains(site.Resources["/fr/"].Body, []byte(`<a href="/fr/history/">Historique des incidents</a>`)) {
		t.Error("the status page does not link to the history")
	}
}
