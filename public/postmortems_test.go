package public

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mmcdole/gofeed"
	"github.com/tocsin-org/tocsin"
)

// postmortemSnapshot is incidentSnapshot() with a published post-mortem
// of the resolved incident 2 (hostile Markdown in it), and texts that must
// never reach the public: a draft of the open incident's, an approved but
// unpublished one, and a "published" one of the draft incident.
func postmortemSnapshot() Snapshot {
	s := incidentSnapshot()
	now := s.Now
	at := func(t time.Time) *time.Time { return &t }
	s.Postmortems = []*tocsin.Postmortem{
		{IncidentID: 2, Status: tocsin.PostmortemPublished, Revision: 4, PublishedAt: at(now.Add(-2 * time.Hour)),
			Summary:   "Mail was **delayed** <script>alert(1)</script> [x](javascript:alert(1))",
			RootCause: "A full queue disk.", WentWell: "Alerts fired.", Changes: "Disk alerts at 80 %.",
			Timeline: []tocsin.TimelineEntry{{At: now.AddDate(0, 0, -10), Text: "Alert on queue size"}, {At: now.AddDate(0, 0, -10).Add(2 * time.Hour), Text: "Queue drained"}}},
		{IncidentID: 1, Status: tocsin.PostmortemDraft, Revision: 1, Summary: "Secret draft analysis"},
		{IncidentID: 1, Status: tocsin.PostmortemApproved, Revision: 2, Summary: "Secret approved analysis", ApprovedAt: at(now)},
		{IncidentID: 3, Status: tocsin.PostmortemPublished, Revision: 1, PublishedAt: at(now), Summary: "Secret analysis of a draft incident"},
	}
	return s
}

func TestPostmortemsOnPublicSite(t *testing.T) {
	site, err := Build(postmortemSnapshot())
	if err != nil {
		t.Fatal(err)
	}
	for path, r := range site.Resources {
		if bytes.Contains(r.Body, []byte("Secret")) {
			t.Errorf("%s shows a draft, an unpublished or a draft incident's post-mortem", path)
		}
	}
	for _, p := range []string{"/en/incidents/1/postmortem/", "/fr/incidents/1/postmortem/", "/en/incidents/3/postmortem/"} {
		if _, ok := site.Resources[p]; ok {
			t.Errorf("%s exists", p)
		}
	}
	for _, tt := range []struct {
		lang, heading, section, date string
	}{
		{"en", "Post-mortem: Mail delayed", "What went well", "Published "},
		{"fr", "Post-mortem : Mail delayed", "Ce qui a bien fonctionné", "Publié le "},
	} {
		t.Run(tt.lang, func(t *testing.T) {
			pm, ok := site.Resources["/"+tt.lang+"/incidents/2/postmortem/"]
			if !ok {
				t.Fatal("no post-mortem page")
			}
			b := pm.Body
			if !bytes.Contains(b, []byte(`<html lang="`+tt.lang+`">`)) || !inOrder(b, "<h1", tt.heading, tt.date, "<strong>delayed</strong>",
				"A full queue disk.", tt.section, "Alerts fired.", "Disk alerts", "Alert on queue size", "Queue drained") {
				t.Errorf("post-mortem page:\n%s", b)
			}
			if bytes.Contains(b, []byte("<script")) || bytes.Contains(b, []byte("javascript:")) || bytes.Contains(b, []byte("style=")) {
				t.Error("hostile Markdown or inline style on the page")
			}
			if !bytes.Contains(b, []byte(`href="/`+tt.lang+`/incidents/2/"`)) || !bytes.Contains(b, []byte(`href="/`+tt.lang+`/postmortems/"`)) {
				t.Error("the post-mortem does not link to its incident and the list")
			}
			inc := site.Resources["/"+tt.lang+"/incidents/2/"].Body
			if !bytes.Contains(inc, []byte(`href="/`+tt.lang+`/incidents/2/postmortem/"`)) {
				t.Error("the incident page does not link to its post-mortem")
			}
			if open := site.Resources["/"+tt.lang+"/incidents/1/"].Body; bytes.Contains(open, []byte("/postmortem/")) {
				t.Error("the open incident links to a post-mortem it does not have")
			}
			if idx := site.Resources["/"+tt.lang+"/"].Body; !bytes.Contains(idx, []byte(`href="/`+tt.lang+`/postmortems/"`)) {
				t.Error("the main page does not link to the post-mortems")
			}
			list := site.Resources["/"+tt.lang+"/postmortems/"].Body
			if !inOrder(list, "<h1", `href="/`+tt.lang+`/incidents/2/postmortem/"`, "Mail delayed", "<strong>delayed</strong>") ||
				bytes.Contains(list, []byte("Peertube")) {
				t.Errorf("list of post-mortems:\n%s", list)
			}
		})
	}

	t.Run("negotiated", func(t *testing.T) {
		for _, p := range []string{"/postmortems/", "/postmortems/index.html", "/incidents/2/postmortem/", "/incidents/2/postmortem/index.html"} {
			r, ok := site.Lookup(p, "fr-FR", "en")
			if !ok || !bytes.Contains(r.Body, []byte(`<html lang="fr">`)) {
				t.Errorf("%s: not found or not French", p)
			}
			if !Negotiated(p) {
				t.Errorf("%s is not negotiated", p)
			}
		}
	})

	t.Run("feed", func(t *testing.T) {
		feed, err := gofeed.NewParser().Parse(bytes.NewReader(site.Resources["/en/feed.atom"].Body))
		if err != nil {
			t.Fatal(err)
		}
		var found *gofeed.Item
		for _, it := range feed.Items {
			if strings.HasPrefix(it.Title, "Post-mortem") {
				if found != nil {
					t.Fatal("two post-mortem entries")
				}
				found = it
			}
		}
		if found == nil || found.Title != "Post-mortem: Mail delayed" || found.Link != "https://status.example.org/en/incidents/2/postmortem/" ||
			found.GUID != "https://status.example.org/incidents/2/postmortem/" || !strings.Contains(found.Content, "<strong>delayed</strong>") ||
			strings.Contains(found.Content, "<script") {
			t.Errorf("post-mortem entry: %+v", found)
		}
	})

	t.Run("export", func(t *testing.T) {
		dir := t.TempDir()
		if _, err := site.WriteDir(dir, "fr"); err != nil {
			t.Fatal(err)
		}
		for _, f := range []string{"postmortems/index.html", "en/postmortems/index.html", "fr/postmortems/index.html",
			"incidents/2/postmortem/index.html", "en/incidents/2/postmortem/index.html", "fr/incidents/2/postmortem/index.html"} {
			if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
				t.Error(err)
			}
		}
	})
}

func TestNoPostmortems(t *testing.T) {
	site, err := Build(incidentSnapshot())
	if err != nil {
		t.Fatal(err)
	}
	if b := site.Resources["/en/postmortems/"].Body; !bytes.Contains(b, []byte("No post-mortem has been published yet.")) {
		t.Errorf("empty list:\n%s", b)
	}
}
