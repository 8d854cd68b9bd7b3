package public

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/tocsin-org/tocsin"
)

// Page is the public page's settings.
type Page struct {
	Title, URL, Contact, Lang string
	Location                  *time.Location
}

// Read takes the snapshot the public site is built from. Every published
// incident is read (the history pages list them all, by month), and every
// published post-mortem; drafts never reach the public site.
func Read(ctx context.Context, src tocsin.ServiceService, incs tocsin.IncidentService, pms tocsin.PostmortemService,
	checks tocsin.CheckHistoryService, p Page, now time.Time) (Snapshot, error) {
	services, err := src.Services(ctx)
	if err != nil {
		return Snapshot{}, err
	}
	history, err := src.StatusHistory(ctx, now.AddDate(0, 0, -UptimeDays-1))
	if err != nil {
		return Snapshot{}, err
	}
	var published []*tocsin.Incident
	for yes := true; ; {
		const page = 1000 // the most the store returns at once
		batch, err := incs.Incidents(ctx, tocsin.IncidentFilter{Published: &yes, Limit: page, Offset: len(published)})
		if err != nil {
			return Snapshot{}, err
		}
		published = append(published, batch...)
		if len(batch) < page {
			break
		}
	}
	postmortems, err := pms.PublishedPostmortems(ctx)
	if err != nil {
		return Snapshot{}, err
	}
	loc := p.Location
	if loc == nil {
		loc = time.UTC
	}
	checkDays, err := checks.ServiceCheckDays(ctx, now.AddDate(0, 0, -UptimeDays), loc)
	if err != nil {
		return Snapshot{}, err
	}
	return Snapshot{
		Title: p.Title, URL: p.URL, Contact: p.Contact, Lang: p.Lang, Location: p.Location,
		Now: now, Services: services, History: history, Incidents: published, Postmortems: postmortems,
		CheckDays: checkDays,
	}, nil
}

// WriteDir writes the site as static files under dir, at the same URLs:
// "/fr/" becomes fr/index.html, and the site's root index.html is the page
// in lang, since a static server cannot negotiate languages.
func (site *Site) WriteDir(dir, lang string) (int, error) {
	n := 0
	write := func(urlPath string, body []byte) error {
		rel := strings.TrimPrefix(urlPath, "/")
		if rel == "" || strings.HasSuffix(rel, "/") {
			rel += "index.html"
		}
		path := filepath.Join(dir, filepath.FromSlash(rel))
		if !strings.HasPrefix(path, filepath.Clean(dir)+string(filepath.Separator)) {
			return fmt.Errorf("export: %q leaves the output directory", urlPath)
		}
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			return err
		}
		tmp := path + ".tmp"
		if err := os.WriteFile(tmp, body, 0o644); err != nil {
			return err
		}
		n++
		return os.Rename(tmp, path) // a reader never sees half a file
	}
	for urlPath, r := range site.Resources {
		if err := write(urlPath, r.Body); err != nil {
			return n, err
		}
	}
	// The negotiated URLs (/, /incidents/N/, /postmortems/, /feed.atom…) are written in
	// the default language.
	prefix := "/" + lang + "/"
	for urlPath, r := range site.Resources {
		if rest, ok := strings.CutPrefix(urlPath, prefix); ok {
			if err := write("/"+rest, r.Body); err != nil {
				return n, err
			}
		}
	}
	return n, nil
}
