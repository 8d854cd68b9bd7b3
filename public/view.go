package public

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"html"
	"html/template"
	"io/fs"
	"path"
	"slices"
	"strings"
	"time"

	"github.com/tocsin-org/tocsin"
	"github.com/tocsin-org/tocsin/i18n"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// assets are the public stylesheet and friends under content-hashed names.
var assets = loadAssets()

type asset struct {
	body        []byte
	contentType string
}

type assetSet struct {
	files  map[string]asset  // URL path → asset
	hashed map[string]string // file name → URL path
}

func loadAssets() assetSet {
	set := assetSet{files: map[string]asset{}, hashed: map[string]string{}}
	types := map[string]string{".css": "text/css; charset=utf-8", ".svg": "image/svg+xml"}
	err := fs.WalkDir(staticFS, "static", func(name string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		body, err := staticFS.ReadFile(name)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(body)
		base := path.Base(name)
		ext := path.Ext(base)
		url := "/assets/" + strings.TrimSuffix(base, ext) + "." + hex.EncodeToString(sum[:6]) + ext
		set.files[url] = asset{body, types[ext]}
		set.hashed[base] = url
		return nil
	})
	if err != nil {
		panic(err) // embedded at build time
	}
	return set
}

var pages = template.Must(template.New("").Funcs(template.FuncMap{
	"t":     i18n.T,
	"asset": func(name string) string { return assets.hashed[name] },
	"pct": func(v float64) string {
		return fmt.Sprintf("%.2f", v*100)
	},
	"statusKey":         func(s tocsin.ServiceStatus) string { return "status." + string(s) },
	"date":              func(lang string, t time.Time) string { return formatDate(lang, t) },
	"hasAt":             func(s string) bool { return strings.Contains(s, "@") },
	"time":              func(lang string, t time.Time) string { return formatDateTime(lang, t) },
	"incidentStatusKey": func(s tocsin.IncidentStatus) string { return "public.incident_status." + string(s) },
	"impactKey":         func(i tocsin.Impact) string { return "public.impact." + string(i) },
	"incidentPath":      incidentPath,
	"top": func(v *view, title, en, fr string) pageTop {
		return pageTop{V: v, Title: title, EN: en, FR: fr}
	},
	"postmortemPath":  postmortemPath,
	"postmortemsPath": postmortemsPath,
	"historyPath":     historyPath,
	"month":           formatMonth,
	"updateArgs":      func(lang string, u *updateView) updateArgs { return updateArgs{lang, u} },
	"window": func(lang string, from, until time.Time) string {
		return i18n.T(lang, "public.window", formatDateTime(lang, from), formatDateTime(lang, until))
	},
	"maintenanceArgs": func(lang, zone string, m *incidentView) maintenanceArgs {
		return maintenanceArgs{lang, zone, m}
	},
}).ParseFS(templateFS, "templates/*.html"))

// pageTop is what the "public-top" template shows: a page's title and its
// address in each language.
type pageTop struct {
	V             *view
	Title, EN, FR string
}

// updateArgs is what the "update" template shows: an update, in a language.
type updateArgs struct {
	Lang string
	U    *updateView
}

// maintenanceArgs is what the "maintenance" and "window" templates show.
type maintenanceArgs struct {
	Lang, Zone string
	M          *incidentView
}

// view is the data of the public pages, computed once for both languages.
type view struct {
	Title   string
	URL     string
	Contact string
	Zone    string
	Updated time.Time
	Overall tocsin.ServiceStatus // worst current status
	Groups  []groupView
	// Incidents are the published incidents, newest first; Active the open
	// ones among them, maintenances apart.
	Incidents []*incidentView
	Active    []*incidentView
	Lang      string        // set per rendering
	Incident  *incidentView // set when rendering an incident's page
	LangPath  string
	// Months are the history's months, newest first; Month is set when
	// rendering one of them.
	Months   []*monthView
	Month    *monthView
	Location *time.Location
	// Postmortems are the published post-mortems, most recent first;
	// Postmortem is set when rendering one's page.
	Postmortems []*postmortemView
	Postmortem  *postmortemView
	// Underway are the maintenances in progress; Upcoming those not begun,
	// soonest first. Neither is in Active.
	Underway []*incidentView
	Upcoming []*incidentView
}

type groupView struct {
	Name     string
	Services []serviceView
}

type serviceView struct {
	*tocsin.Service
	Days      []Day
	Spans     []Span
	Bars      map[string]template.HTML // the uptime bar's SVG, per language
	Uptime    float64
	HasUptime bool
	// AffectedBy are the open incidents that name the service.
	AffectedBy []*incidentView
	// DayLists list the bar's days with incidents, per language.
	DayLists map[string]template.HTML
	Grouped  bool                     // under a group's heading
	Items    map[string]template.HTML // the service's row on the page, per language
}

func (b *Builder) newView(s Snapshot) (*view, error) {
	v := &view{Title: s.Title, URL: s.URL, Contact: s.Contact, Zone: s.Location.String(), Updated: s.Now.In(s.Location),
		Overall: tocsin.StatusOperational, Location: s.Location}
	history := byService(s.History)
	checkDays := map[int64]map[int64]tocsin.CheckDay{} // service → midnight (Unix) → runs
	for _, c := range s.CheckDays {
		if checkDays[c.ServiceID] == nil {
			checkDays[c.ServiceID] = map[int64]tocsin.CheckDay{}
		}
		checkDays[c.ServiceID][c.Day.Unix()] = c
	}
	services := make(map[int64]*tocsin.Service, len(s.Services))
	for _, svc := range s.Services {
		services[svc.ID] = svc
	}
	v.Incidents = b.incidentViews(s, services)
	v.Postmortems = postmortemViews(s, v.Incidents)
	v.Months = historyMonths(v.Incidents, s.Location)
	affected := map[int64][]*incidentView{}
	named := map[int64][]*incidentView{} // every incident that named the service, open or not
	for _, inc := range v.Incidents {
		if inc.Ran() {
			for _, a := range inc.Affected {
				named[a.ID] = append(named[a.ID], inc)
			}
		}
		switch {
		case !inc.Open:
			continue
		case inc.Maintenance() && !inc.Status.Underway():
			v.Upcoming = append(v.Upcoming, inc)
			continue
		case inc.Maintenance():
			v.Underway = append(v.Underway, inc)
		default:
			v.Active = append(v.Active, inc)
		}
		for _, a := range inc.Affected {
			affected[a.ID] = append(affected[a.ID], inc)
		}
	}
	for _, svc := range s.Services {
		if len(v.Groups) == 0 || v.Groups[len(v.Groups)-1].Name != svc.Group {
			v.Groups = append(v.Groups, groupView{Name: svc.Group})
		}
		g := &v.Groups[len(v.Groups)-1]
		sv, err := b.serviceView(svc, history[svc.ID], checkDays[svc.ID], s, g.Name != "", affected[svc.ID], named[svc.ID])
		if err != nil {
			return nil, err
		}
		g.Services = append(g.Services, sv)
		if severity[svc.Status] > severity[v.Overall] {
			v.Overall = svc.Status
		}
	}
	// A maintenance under way shows in the banner when nothing is worse,
	// even if it names no service.
	if v.Overall == tocsin.StatusOperational && len(v.Underway) > 0 {
		v.Overall = tocsin.StatusMaintenance
	}
	slices.SortStableFunc(v.Upcoming, func(a, b *incidentView) int { return a.ScheduledFor.Compare(*b.ScheduledFor) })
	return v, nil
}

func execute(name string, c *view) ([]byte, error) {
	return executeData(name+".html", c.Lang, c)
}

func executeData(name, lang string, data any) ([]byte, error) {
	return executeSized(name, lang, data, 0)
}

// executeSized renders into a buffer of size bytes, so that a large page
// is not copied again and again as it grows.
func executeSized(name, lang string, data any, size int) ([]byte, error) {
	buf := bytes.NewBuffer(make([]byte, 0, size))
	if err := pages.ExecuteTemplate(buf, name, data); err != nil {
		return nil, fmt.Errorf("public: render %s (%s): %w", name, lang, err)
	}
	return buf.Bytes(), nil
}

// barSVG draws the uptime bar. It is written here rather than in the
// template because it is most of the page: executing it through
// html/template for 200 services was most of a rebuild's time. Every text
// in it is escaped.
func barSVG(spans []Span, lang string) template.HTML {
	var b strings.Builder
	b.WriteString(`<svg class="bar" viewBox="0 0 90 10" preserveAspectRatio="none" aria-hidden="true" focusable="false">`)
	for _, s := range spans {
		class := "unknown"
		if s.Known {
			class = "worst-" + string(s.Worst)
		}
		if len(s.Incidents) > 0 {
			class += " incident"
		}
		title := formatDate(lang, s.From)
		if s.Days > 1 {
			title += " – " + formatDate(lang, s.To)
		}
		if s.Known {
			title += " · " + fmt.Sprintf("%.2f", s.Uptime*100) + " %"
		}
		if share, ok := s.ChecksSucceeded(); ok {
			title += "\n" + i18n.T(lang, "public.checks_succeeded", share)
		}
		for _, inc := range s.Incidents {
			title += "\n" + inc.Title
		}
		fmt.Fprintf(&b, `<rect x="%d" width="%d" height="10" class="%s"><title>%s</title></rect>`, s.Start, s.Days, class, html.EscapeString(title))
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String())
}

var monthsFR = []string{"janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre", "octobre", "novembre", "décembre"}

func formatDate(lang string, t time.Time) string {
	if lang == "fr" {
		return fmt.Sprintf("%d %s %d", t.Day(), monthsFR[t.Month()-1], t.Year())
	}
	return t.Format("2 January 2006")
}

func formatDateTime(lang string, t time.Time) string {
	if lang == "fr" {
		return formatDate(lang, t) + t.Format(" à 15:04 MST")
	}
	return t.Format("2 January 2006, 15:04 MST")
}
