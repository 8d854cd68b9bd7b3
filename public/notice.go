package public

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/tocsin-org/tocsin/i18n"
	"github.com/tocsin-org/tocsin/markdown"
)

// The site notice is the banner a host's own apps embed while an incident
// is marked "show on sites": /notice.json for scripts, /notice.js to include
// with one <script> tag, and /notice.html for an <iframe> inside <noscript>.

//go:embed script/notice.js
var noticeScript []byte

// noticeCache is short: a banner must appear, and go, within a minute.
const noticeCache = "public, max-age=15, stale-while-revalidate=15, stale-if-error=3600"

// noticeMessageRunes bounds the latest update's text in a notice: a banner
// is one line, the full text is one click away.
const noticeMessageRunes = 280

// noticeDoc is /notice.json.
type noticeDoc struct {
	Active  bool         `json:"active"`
	Page    noticePage   `json:"page"`
	Notices []noticeItem `json:"notices"`
	// Labels are the banner's words in each language, so that notice.js
	// carries no text of its own.
	Labels map[string]noticeLabels `json:"labels"`
}

type noticePage struct {
	Name string `json:"name"`
	URL  string `json:"url"`
}

type noticeItem struct {
	ID        string            `json:"id"` // as in /api/v2/incidents.json
	Kind      string            `json:"kind"`
	Title     string            `json:"title"`
	Status    string            `json:"status"`
	Impact    string            `json:"impact"`
	Message   string            `json:"message"` // the latest update, as plain text
	UpdatedAt time.Time         `json:"updated_at"`
	URL       string            `json:"url"`  // negotiated by language
	URLs      map[string]string `json:"urls"` // per language
	// StatusLabel is the status in words, per language.
	StatusLabel map[string]string `json:"status_label"`
}

type noticeLabels struct {
	Incident string `json:"incident"`
	More     string `json:"more"`
	Dismiss  string `json:"dismiss"`
	Region   string `json:"region"`
}

// notices lists the open incidents marked "show on sites", newest first,
// then the maintenances under way so marked (kind "maintenance").
func notices(s Snapshot, v *view) []noticeItem {
	out := []noticeItem{}
	for _, inc := range slices.Concat(v.Active, v.Underway) {
		if !inc.ShowOnSites {
			continue
		}
		kind := "incident"
		if inc.Maintenance() {
			kind = "maintenance"
		}
		n := noticeItem{
			ID: incidentID(inc.ID), Kind: kind, Title: inc.Title, Status: string(inc.Status), Impact: string(inc.Impact),
			UpdatedAt: inc.UpdatedAt.UTC(), URL: absolute(s.URL, incidentPath("", inc.ID)),
			URLs: map[string]string{}, StatusLabel: map[string]string{},
		}
		if u := inc.Latest(); u != nil {
			n.Message = noticeText(u.Body)
		}
		for _, lang := range i18n.Langs {
			n.URLs[lang] = absolute(s.URL, incidentPath(lang, inc.ID))
			n.StatusLabel[lang] = i18n.T(lang, "public.incident_status."+string(inc.Status))
		}
		out = append(out, n)
	}
	return out
}

// noticeText is an update's plain text on one line, cut to a banner's length.
func noticeText(body string) string {
	text, err := markdown.Text(body)
	if err != nil {
		text = body
	}
	text = strings.Join(strings.Fields(text), " ")
	if utf8.RuneCountInString(text) <= noticeMessageRunes {
		return text
	}
	r := []rune(text)[:noticeMessageRunes-1]
	return strings.TrimRight(string(r), " ") + "…"
}

// addNotice adds /notice.json, /notice.js and /notice.html to the site.
func addNotice(site *Site, s Snapshot, v *view) error {
	items := notices(s, v)
	doc := noticeDoc{
		Active: len(items) > 0, Page: noticePage{Name: s.Title, URL: absolute(s.URL, "/")},
		Notices: items, Labels: map[string]noticeLabels{},
	}
	for _, lang := range i18n.Langs {
		doc.Labels[lang] = noticeLabels{
			Incident: i18n.T(lang, "notice.incident"), More: i18n.T(lang, "notice.more"),
			Dismiss: i18n.T(lang, "notice.dismiss"), Region: i18n.T(lang, "notice.region"),
		}
	}
	body, err := json.Marshal(doc)
	if err != nil {
		return fmt.Errorf("public: notice.json: %w", err)
	}
	site.add("/notice.json", body, "application/json; charset=utf-8", noticeCache, true, s.Now)

	// notice.js is the same for every build; its ETag (a hash of the body)
	// lets browsers keep it.
	site.add("/notice.js", noticeScript, "text/javascript; charset=utf-8", "public, max-age=3600", true, s.Now)
	for _, lang := range i18n.Langs {
		var buf bytes.Buffer
		err := pages.ExecuteTemplate(&buf, "notice.html", noticeFrame{Lang: lang, Notices: items, Labels: doc.Labels[lang]})
		if err != nil {
			return fmt.Errorf("public: notice.html (%s): %w", lang, err)
		}
		r := site.add("/"+lang+"/notice.html", buf.Bytes(), "text/html; charset=utf-8", noticeCache, false, s.Now)
		r.Frameable = true
	}
	return nil
}

// noticeFrame is what notice.html shows.
type noticeFrame struct {
	Lang    string
	Notices []noticeItem
	Labels  noticeLabels
}

func (f noticeFrame) StatusOf(n noticeItem) string { return n.StatusLabel[f.Lang] }
func (f noticeFrame) URLOf(n noticeItem) string    { return n.URLs[f.Lang] }
