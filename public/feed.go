package public

import (
	"cmp"
	"encoding/xml"
	"fmt"
	"slices"
	"time"

	"github.com/tocsin-org/tocsin/i18n"
)

// FeedEntries bounds the Atom feed to the most recent updates: a feed
// reader polls it and needs the news, not three months of history.
const FeedEntries = 200

type atomFeed struct {
	XMLName xml.Name    `xml:"http://www.w3.org/2005/Atom feed"`
	Lang    string      `xml:"http://www.w3.org/XML/1998/namespace lang,attr"`
	ID      string      `xml:"id"`
	Title   string      `xml:"title"`
	Updated string      `xml:"updated"`
	Links   []atomLink  `xml:"link"`
	Author  atomPerson  `xml:"author"`
	Entries []atomEntry `xml:"entry"`
}

type atomLink struct {
	Rel      string `xml:"rel,attr,omitempty"`
	Type     string `xml:"type,attr,omitempty"`
	Href     string `xml:"href,attr"`
	HrefLang string `xml:"hreflang,attr,omitempty"`
}

type atomPerson struct {
	Name string `xml:"name"`
}

type atomText struct {
	Type string `xml:"type,attr"`
	Body string `xml:",chardata"`
}

type atomEntry struct {
	ID        string   `xml:"id"`
	Title     string   `xml:"title"`
	Updated   string   `xml:"updated"`
	Published string   `xml:"published"`
	Link      atomLink `xml:"link"`
	Content   atomText `xml:"content"`
}

// feedID names a feed, or an entry, for ever: the page's URL when known, a
// URN otherwise.
func feedID(base, path, urn string) string {
	if base == "" {
		return "urn:tocsin:" + urn
	}
	return absolute(base, path)
}

// renderFeed renders the Atom feed in lang: one entry per update of the
// published incidents and one per published post-mortem, the most recent
// FeedEntries by their shown date.
func renderFeed(s Snapshot, v *view, lang string) []byte {
	// Entries are made for the newest FeedEntries items only: a site with
	// thousands of updates would otherwise format them all on every rebuild.
	type item struct {
		inc *incidentView
		up  *updateView     // nil for a post-mortem
		pm  *postmortemView // nil for an update
	}
	at := func(it item) time.Time {
		if it.pm != nil {
			return *it.pm.PublishedAt
		}
		return it.up.DisplayAt
	}
	// Ties: post-mortems after updates of the same time, then by ID.
	order := func(it item) int64 {
		if it.pm != nil {
			return 1<<62 + it.inc.ID
		}
		return it.up.ID
	}
	var items []item
	for _, inc := range v.Incidents {
		for _, u := range inc.Updates {
			items = append(items, item{inc: inc, up: u})
		}
	}
	for _, pm := range v.Postmortems {
		items = append(items, item{inc: pm.Incident, pm: pm})
	}
	slices.SortStableFunc(items, func(a, b item) int {
		if c := at(b).Compare(at(a)); c != 0 {
			return c
		}
		return cmp.Compare(order(b), order(a))
	})
	if len(items) > FeedEntries {
		items = items[:FeedEntries]
	}
	self := "/" + lang + "/feed.atom"
	f := atomFeed{
		Lang:    lang,
		ID:      feedID(s.URL, self, "feed:"+lang),
		Title:   i18n.T(lang, "public.feed_title", s.Title),
		Updated: rfc3339(s.Now),
		Links: []atomLink{
			{Rel: "self", Type: "application/atom+xml", Href: absolute(s.URL, self)},
			{Rel: "alternate", Type: "text/html", Href: absolute(s.URL, "/"+lang+"/"), HrefLang: lang},
		},
		Author: atomPerson{Name: s.Title},
	}
	if len(items) > 0 {
		f.Updated = rfc3339(at(items[0]))
	}
	for _, it := range items {
		f.Entries = append(f.Entries, feedEntry(s, lang, at(it), it.inc, it.up, it.pm))
	}
	b, err := xml.Marshal(f)
	if err != nil {
		panic(err) // plain structs of strings: cannot fail
	}
	return append([]byte(xml.Header), b...)
}

// feedEntry is one update of inc, or its post-mortem pm, as an Atom entry.
func feedEntry(s Snapshot, lang string, at time.Time, inc *incidentView, up *updateView, pm *postmortemView) atomEntry {
	if pm != nil {
		summary := ""
		if len(pm.Sections) > 0 {
			summary = string(pm.Sections[0].HTML)
		}
		return atomEntry{
			ID:        feedID(s.URL, postmortemPath("", inc.ID), fmt.Sprintf("incident:%d:postmortem", inc.ID)),
			Title:     i18n.T(lang, "public.postmortem_of", inc.Title),
			Updated:   rfc3339(at),
			Published: rfc3339(at),
			Link:      atomLink{Rel: "alternate", Type: "text/html", Href: absolute(s.URL, postmortemPath(lang, inc.ID))},
			Content:   atomText{Type: "html", Body: summary},
		}
	}
	return atomEntry{
		ID:        feedID(s.URL, fmt.Sprintf("%s#update-%d", incidentPath("", inc.ID), up.ID), fmt.Sprintf("incident:%d:update:%d", inc.ID, up.ID)),
		Title:     inc.Title + " — " + i18n.T(lang, "public.incident_status."+string(up.Status)),
		Updated:   rfc3339(at),
		Published: rfc3339(at),
		Link:      atomLink{Rel: "alternate", Type: "text/html", Href: absolute(s.URL, fmt.Sprintf("%s#update-%d", incidentPath(lang, inc.ID), up.ID))},
		Content:   atomText{Type: "html", Body: string(up.HTML)},
	}
}

func rfc3339(t time.Time) string { return t.UTC().Format(time.RFC3339) }
