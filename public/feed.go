package public

import (
	"bytes"
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
// published incidents, the most recent FeedEntries by their shown date.
func (b *Builder) renderFeed(s Snapshot, v *view, lang string) []byte {
	type item struct {
		inc *incidentView
		up  *updateView
	}
	var items []item
	for _, inc := range v.Incidents {
		for _, u := range inc.Updates {
			items = append(items, item{inc, u})
		}
	}
	slices.SortStableFunc(items, func(a, b item) int {
		if c := b.up.DisplayAt.Compare(a.up.DisplayAt); c != 0 {
			return c
		}
		return cmp.Compare(b.up.ID, a.up.ID)
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
		f.Updated = rfc3339(items[0].up.DisplayAt)
	}
	head, err := xml.Marshal(f)
	if err != nil {
		panic(err) // plain structs of strings: cannot fail
	}
	// Entries are marshalled one by one, and kept while their incident
	// is unchanged, then spliced in before the end tag: the bytes are those
	// of marshalling the whole feed at once.
	end := []byte("</feed>")
	out := bytes.NewBuffer(make([]byte, 0, len(xml.Header)+len(head)+len(items)*1024))
	out.WriteString(xml.Header)
	out.Write(head[:len(head)-len(end)])
	for _, it := range items {
		key := feedKey{lang, it.up.ID}
		entry, ok := b.entries.get(key, it.inc.fp, b.gen)
		if !ok {
			entry = feedEntry(s, lang, it.inc, it.up)
			b.entries.put(key, it.inc.fp, b.gen, entry)
		}
		out.Write(entry)
	}
	out.Write(end)
	return out.Bytes()
}

type feedKey struct {
	lang string
	id   int64
}

// feedEntry marshals one update's entry in the feed.
func feedEntry(s Snapshot, lang string, inc *incidentView, up *updateView) []byte {
	page := incidentPath(lang, inc.ID)
	e := atomEntry{
		ID:        feedID(s.URL, fmt.Sprintf("%s#update-%d", incidentPath("", inc.ID), up.ID), fmt.Sprintf("incident:%d:update:%d", inc.ID, up.ID)),
		Title:     inc.Title + " — " + i18n.T(lang, "public.incident_status."+string(up.Status)),
		Updated:   rfc3339(up.DisplayAt),
		Published: rfc3339(up.DisplayAt),
		Link:      atomLink{Rel: "alternate", Type: "text/html", Href: absolute(s.URL, fmt.Sprintf("%s#update-%d", page, up.ID))},
		Content:   atomText{Type: "html", Body: string(up.HTML)},
	}
	var buf bytes.Buffer
	if err := xml.NewEncoder(&buf).EncodeElement(e, xml.StartElement{Name: xml.Name{Local: "entry"}}); err != nil {
		panic(err) // plain structs of strings: cannot fail
	}
	return buf.Bytes()
}

func rfc3339(t time.Time) string { return t.UTC().Format(time.RFC3339) }
