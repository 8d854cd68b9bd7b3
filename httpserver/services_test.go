package httpserver

import (
	"cmp"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/tocsin-org/tocsin"
	"github.com/tocsin-org/tocsin/i18n"
)

// addService stores a service as the command line would.
func (e *testEnv) addService(name, group string) *tocsin.Service {
	e.t.Helper()
	s := &tocsin.Service{Name: name, Group: group}
	if err := e.store.CreateService(e.ctx, tocsin.CLI, s); err != nil {
		e.t.Fatal(err)
	}
	return s
}

// configService declares services in the "configuration file", as
// tocsin serve does at start.
func (e *testEnv) configService(specs ...*tocsin.Service) {
	e.t.Helper()
	if err := e.store.SyncConfigServices(e.ctx, tocsin.System, specs); err != nil {
		e.t.Fatal(err)
	}
}

// serviceState is what a refused request must leave unchanged: every
// service with all its fields, and the length of the audit log.
func (e *testEnv) serviceState() string {
	e.t.Helper()
	ss, err := e.store.Services(e.ctx)
	if err != nil {
		e.t.Fatal(err)
	}
	b, err := json.Marshal(ss)
	if err != nil {
		e.t.Fatal(err)
	}
	return fmt.Sprintf("%s audit=%d", b, e.counts().Audit)
}

// publicPage reads a page or JSON document of the public site.
func (e *testEnv) publicPage(path string) string {
	e.t.Helper()
	r := e.call(http.MethodGet, path, "", "")
	if r.Status != http.StatusOK {
		e.t.Fatalf("GET %s: %d", path, r.Status)
	}
	return r.Text
}

// component returns the Statuspage component of this name from
// /api/v2/components.json, nil if there is none.
func (e *testEnv) component(name string) map[string]any {
	e.t.Helper()
	var doc struct {
		Components []map[string]any `json:"components"`
	}
	if err := json.Unmarshal([]byte(e.publicPage("/api/v2/components.json")), &doc); err != nil {
		e.t.Fatal(err)
	}
	for _, c := range doc.Components {
		if c["name"] == name {
			return c
		}
	}
	return nil
}

func servicePath(id int64, action string) string {
	return fmt.Sprintf("/console/services/%d/%s", id, action)
}

func wantFlash(t *testing.T, r *response, want string) {
	t.Helper()
	if r.Status != http.StatusOK {
		t.Fatalf("status %d, want 200: %s", r.Status, r.Text)
	}
	if !strings.Contains(r.Text, `<p class="flash" role="status">`+want+`</p>`) {
		t.Errorf("no flash %q on the page:\n%s", want, r.Text)
	}
}

// TestConsoleServiceLifecycle: each change made in the console is on the
// public page and in the Statuspage JSON at once.
func TestConsoleServiceLifecycle(t *testing.T) {
	e := newTestEnv(t)
	staff := e.createUser("staff@example.org", tocsin.RoleAdmin, tocsin.RoleCommunicator)
	b := e.signedIn(staff, "127.0.0.1")
	if r := b.get("/console/services"); r.Status != http.StatusOK || !strings.Contains(r.Text, i18n.T("en", "services.empty")) {
		t.Fatalf("empty list: %d %s", r.Status, r.Text)
	}
	if !strings.Contains(e.publicPage("/en/"), i18n.T("en", "public.no_services")) {
		t.Fatal("the public page should start without services")
	}

	var id int64
	t.Run("create", func(t *testing.T) {
		r := b.post("/console/services", url.Values{
			"name": {" Mastodon "}, "group": {"Social"}, "description": {"Our Mastodon instance"},
			"link": {"https://social.example.org"}, "position": {"3"},
		})
		wantFlash(t, r, "Service Mastodon created.")
		ss, err := e.store.Services(e.ctx)
		if err != nil || len(ss) != 1 {
			t.Fatalf("services %v, %v", ss, err)
		}
		s := ss[0]
		id = s.ID
		if s.Name != "Mastodon" || s.Group != "Social" || s.Description != "Our Mastodon instance" ||
			s.Link != "https://social.example.org" || s.Position != 3 || s.Status != tocsin.StatusOperational || s.ConfigManaged {
			t.Errorf("stored %+v", s)
		}
		for _, want := range []string{
			`<h2 id="group-0">Social</h2>`, `<a href="https://social.example.org" rel="noopener noreferrer">`,
			"Our Mastodon instance", "Operational",
			`<datalist id="service-groups"><option value="Social"></datalist>`,
			// The layout sees the list, not the POST address: the menu
			// marks it and the language switch returns to it.
			`<a href="/console/services" aria-current="page">Services</a>`,
			`name="next" value="/console/services"`,
		} {
			if !strings.Contains(r.Body, want) {
				t.Errorf("the list lacks %s", want)
			}
		}
		if p := e.publicPage("/en/"); !strings.Contains(p, "Mastodon") || !strings.Contains(p, "Our Mastodon instance") {
			t.Errorf("the public page does not show the new service:\n%s", p)
		}
		if c := e.component("Mastodon"); c == nil || c["status"] != "operational" {
			t.Errorf("components.json: %v", c)
		}
	})

	t.Run("edit", func(t *testing.T) {
		r := b.post(servicePath(id, "edit"), url.Values{
			"name": {"Mastodon social"}, "group": {"Fediverse"}, "description": {"Toots"}, "link": {""}, "position": {""},
		})
		wantFlash(t, r, "Service Mastodon social saved.")
		s, err := e.store.Service(e.ctx, id)
		if err != nil || s.Name != "Mastodon social" || s.Group != "Fediverse" || s.Description != "Toots" || s.Link != "" || s.Position != 0 {
			t.Fatalf("stored %+v, %v", s, err)
		}
		p := e.publicPage("/en/")
		if !strings.Contains(p, "Mastodon social") || !strings.Contains(p, "Fediverse") || strings.Contains(p, "Our Mastodon instance") {
			t.Errorf("the public page does not show the edit:\n%s", p)
		}
		if e.component("Mastodon social") == nil {
			t.Error("components.json does not show the new name")
		}
	})

	t.Run("set status", func(t *testing.T) {
		if p := e.publicPage("/en/"); !strings.Contains(p, "banner-operational") {
			t.Fatalf("banner before: %s", p)
		}
		r := b.post(servicePath(id, "status"), url.Values{"status": {"major_outage"}})
		wantFlash(t, r, "Mastodon social is now shown as: Major outage.")
		if !strings.Contains(r.Body, `<option value="major_outage" selected>Major outage</option>`) {
			t.Error("the list does not select the new status")
		}
		if p := e.publicPage("/en/"); !strings.Contains(p, "banner-major_outage") || !strings.Contains(p, i18n.T("en", "public.banner.major_outage")) {
			t.Errorf("the public banner did not change:\n%s", p)
		}
		if p := e.publicPage("/fr/"); !strings.Contains(p, i18n.T("fr", "public.banner.major_outage")) {
			t.Errorf("the French public banner did not change:\n%s", p)
		}
		if c := e.component("Mastodon social"); c == nil || c["status"] != "major_outage" {
			t.Errorf("components.json: %v", c)
		}
		if st := e.publicPage("/api/v2/status.json"); !strings.Contains(st, `"indicator":"critical"`) {
			t.Errorf("status.json: %s", st)
		}
	})

	t.Run("delete", func(t *testing.T) {
		r := b.post(servicePath(id, "delete"), nil)
		wantFlash(t, r, "Service Mastodon social deleted.")
		if _, err := e.store.Service(e.ctx, id); tocsin.ErrorCode(err) != tocsin.ENOTFOUND {
			t.Errorf("still stored: %v", err)
		}
		if p := e.publicPage("/en/"); strings.Contains(p, "Mastodon") || !strings.Contains(p, "banner-operational") {
			t.Errorf("the public page still shows the service:\n%s", p)
		}
		if e.component("Mastodon social") != nil {
			t.Error("components.json still lists the service")
		}
	})

	t.Run("each change is audited", func(t *testing.T) {
		entries, err := e.store.AuditEntries(e.ctx, tocsin.AuditFilter{Action: "service.", Limit: 10})
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, a := range entries {
			if a.Actor != staff.Email {
				t.Errorf("%s by %q, want %q", a.Action, a.Actor, staff.Email)
			}
			got = append(got, a.Action)
		}
		if want := "service.delete service.status service.update service.create"; strings.Join(got, " ") != want {
			t.Errorf("audit %q, want %q", got, want)
		}
	})
}

// TestConsoleServiceErrors: every refused form shows the list again with
// the message in the reader's language, keeps what was typed, and writes
// nothing.
func TestConsoleServiceErrors(t *testing.T) {
	e := newTestEnv(t)
	mail := e.addService("Mail", "Communication")
	wiki := e.addService("Wiki", "")
	tests := []struct {
		name   string
		path   string
		form   url.Values
		status int
		key    string
		args   []any
		typed  string // a value the refused form shows again
	}{
		{"no name", "/console/services", url.Values{"name": {"   "}}, 400, "services.name_invalid", nil, ""},
		{"long name", "/console/services", url.Values{"name": {strings.Repeat("n", 101)}}, 400, "services.name_invalid", nil, ""},
		{"long group", "/console/services", url.Values{"name": {"Blog"}, "group": {strings.Repeat("g", 101)}}, 400, "services.group_invalid", nil, `value="Blog"`},
		{"long description", "/console/services", url.Values{"name": {"Blog"}, "description": {strings.Repeat("d", 1001)}}, 400, "services.description_invalid", nil, `value="Blog"`},
		{"script link", "/console/services", url.Values{"name": {"Blog"}, "link": {"javascript:alert(1)"}}, 400, "services.link_invalid", []any{"javascript:alert(1)"}, `value="Blog"`},
		{"position not a number", "/console/services", url.Values{"name": {"Blog"}, "position": {"first"}}, 400, "services.position_not_number", []any{"first"}, `value="first"`},
		{"negative position", "/console/services", url.Values{"name": {"Blog"}, "position": {"-1"}}, 400, "services.position_invalid", []any{-1}, `value="-1"`},
		{"position too large", "/console/services", url.Values{"name": {"Blog"}, "position": {"10001"}}, 400, "services.position_invalid", []any{10001}, ""},
		{"name taken", "/console/services", url.Values{"name": {"MAIL"}}, 409, "services.name_taken", []any{"MAIL"}, `value="MAIL"`},
		{"edit: no name", servicePath(wiki.ID, "edit"), url.Values{"name": {""}, "group": {"Docs"}}, 400, "services.name_invalid", nil, `value="Docs"`},
		{"edit: bad link", servicePath(wiki.ID, "edit"), url.Values{"name": {"Wiki"}, "link": {"ftp://wiki"}}, 400, "services.link_invalid", []any{"ftp://wiki"}, `value="ftp://wiki"`},
		{"edit: name taken", servicePath(wiki.ID, "edit"), url.Values{"name": {"mail"}}, 409, "services.name_taken", []any{"mail"}, ""},
		{"status: unknown", servicePath(mail.ID, "status"), url.Values{"status": {"down"}}, 400, "services.status_unknown", []any{"down"}, ""},
		{"status: none", servicePath(mail.ID, "status"), url.Values{}, 400, "services.status_unknown", []any{""}, ""},
	}
	staff := e.createUser("staff@example.org", tocsin.RoleAdmin, tocsin.RoleCommunicator)
	switcher := e.createUser("switcher@example.org", tocsin.RoleAdmin, tocsin.RoleCommunicator)
	for _, lang := range []string{"en", "fr"} {
		// One reader asks in its Accept-Language; the other presses the
		// language switch while on the list.
		byHeader := e.signedIn(staff, "127.0.0.1")
		byHeader.Header.Set("Accept-Language", map[string]string{"en": "en-GB", "fr": "fr-FR,fr;q=0.9"}[lang])
		bySwitch := e.signedIn(switcher, "127.0.0.2")
		bySwitch.get("/console/services")
		if r := bySwitch.post("/lang", url.Values{"lang": {lang}, "next": {"/console/services"}}); r.Status != http.StatusSeeOther || r.location() != "/console/services" {
			t.Fatalf("language switch: %d %s", r.Status, r.location())
		}
		for who, b := range map[string]*browser{"Accept-Language": byHeader, "switch": bySwitch} {
			for _, tt := range tests {
				t.Run(lang+" "+who+" "+tt.name, func(t *testing.T) {
					before := e.serviceState()
					r := b.post(tt.path, maps.Clone(tt.form)) // post adds the browser's CSRF token
					if r.Status != tt.status {
						t.Errorf("status %d, want %d", r.Status, tt.status)
					}
					msg := i18n.T(lang, tt.key, tt.args...)
					if !strings.Contains(r.Text, `<p class="error" role="alert">`+msg+`</p>`) {
						t.Errorf("message %q not shown:\n%s", msg, r.Text)
					}
					if !strings.Contains(r.Body, `<html lang="`+lang+`">`) {
						t.Errorf("page not in %s", lang)
					}
					if tt.typed != "" && !strings.Contains(r.Text, tt.typed) {
						t.Errorf("the form does not show %s again", tt.typed)
					}
					if after := e.serviceState(); after != before {
						t.Errorf("a refused form wrote:\nbefore %s\nafter  %s", before, after)
					}
				})
			}
		}
	}

	t.Run("the French messages are French", func(t *testing.T) {
		if got := i18n.T("fr", "services.name_taken", "Mail"); !strings.Contains(got, "existe déjà") {
			t.Errorf("fr services.name_taken = %q", got)
		}
	})

	t.Run("unknown service", func(t *testing.T) {
		b := e.signedIn(staff, "127.0.0.1")
		for _, path := range []string{
			servicePath(999999, "edit"), servicePath(999999, "delete"), servicePath(999999, "status"),
			"/console/services/abc/edit", "/console/services/0/status",
		} {
			before := e.serviceState()
			r := b.post(path, url.Values{"name": {"Ghost"}, "status": {"major_outage"}})
			if r.Status != http.StatusNotFound || !strings.Contains(r.Text, i18n.T("en", "error.not_found")) {
				t.Errorf("%s: %d, want 404: %s", path, r.Status, r.Text)
			}
			if e.serviceState() != before {
				t.Errorf("%s wrote", path)
			}
		}
	})
}

// TestConsoleConfigManagedService: a service declared in the
// configuration file is marked as such; its fields are the file's, so
// editing and deleting are refused with the reason, but its status is
// set in the console like any other.
func TestConsoleConfigManagedService(t *testing.T) {
	e := newTestEnv(t)
	spec := &tocsin.Service{Name: "Mastodon", Group: "Social", Description: "Our Mastodon instance"}
	e.configService(spec)
	own := e.addService("Blog", "")
	staff := e.createUser("staff@example.org", tocsin.RoleAdmin, tocsin.RoleCommunicator)

	for _, lang := range []string{"en", "fr"} {
		t.Run(lang, func(t *testing.T) {
			b := e.signedIn(staff, "127.0.0.1")
			b.Header.Set("Accept-Language", lang)
			r := b.get("/console/services")
			if r.Status != http.StatusOK {
				t.Fatalf("list: %d", r.Status)
			}
			badge := `<strong class="badge config-managed">` + i18n.T(lang, "services.from_config") + `</strong>`
			if strings.Count(r.Text, badge) != 1 {
				t.Errorf("want one badge %q:\n%s", badge, r.Text)
			}
			for _, want := range []string{
				i18n.T(lang, "services.config_managed_help"),
				fmt.Sprintf(`<button type="button" disabled aria-describedby="config-%d">`, spec.ID),
			} {
				if !strings.Contains(r.Text, want) {
					t.Errorf("the list lacks %q", want)
				}
			}
			for _, action := range []string{"edit", "delete"} {
				if strings.Contains(r.Body, servicePath(spec.ID, action)) {
					t.Errorf("the list offers to %s the configured service", action)
				}
				if !strings.Contains(r.Body, servicePath(own.ID, action)) {
					t.Errorf("the list does not offer to %s a service made in the console", action)
				}
			}
			if !strings.Contains(r.Body, servicePath(spec.ID, "status")) {
				t.Error("the list does not offer to set the configured service's status")
			}

			msg := i18n.T(lang, "services.config_managed", "Mastodon")
			for action, form := range map[string]url.Values{
				"edit":   {"name": {"Mastodon"}, "group": {"Elsewhere"}},
				"delete": {},
			} {
				before := e.serviceState()
				r := b.post(servicePath(spec.ID, action), form)
				if r.Status != http.StatusConflict || !strings.Contains(r.Text, `<p class="error" role="alert">`+msg+`</p>`) {
					t.Errorf("%s: %d, want 409 with %q:\n%s", action, r.Status, msg, r.Text)
				}
				if e.serviceState() != before {
					t.Errorf("%s of a configured service wrote", action)
				}
			}

			status := map[string]tocsin.ServiceStatus{"en": tocsin.StatusMaintenance, "fr": tocsin.StatusPartialOutage}[lang]
			r = b.post(servicePath(spec.ID, "status"), url.Values{"status": {string(status)}})
			wantFlash(t, r, i18n.T(lang, "services.status_set", "Mastodon", i18n.T(lang, "status."+string(status))))
			if s, err := e.store.Service(e.ctx, spec.ID); err != nil || s.Status != status || !s.ConfigManaged {
				t.Errorf("stored %+v, %v", s, err)
			}
			if c := e.component("Mastodon"); c == nil || c["status"] != string(status) {
				t.Errorf("components.json: %v", c)
			}
		})
	}
}

// TestConsoleServiceRoles: every role reads the list and sees the forms
// its role may send; the others are refused with 403 and write nothing.
func TestConsoleServiceRoles(t *testing.T) {
	e := newTestEnv(t)
	svc := e.addService("Mail", "Communication")
	for _, role := range tocsin.AllRoles {
		t.Run(string(role), func(t *testing.T) {
			u := e.createUser(string(role)+"@example.org", role)
			b := e.signedIn(u, "127.0.0.1")
			r := b.get("/console/services")
			if r.Status != http.StatusOK || !strings.Contains(r.Text, "Mail") || !strings.Contains(r.Text, "Communication") {
				t.Fatalf("list: %d %s", r.Status, r.Text)
			}
			if !strings.Contains(r.Body, `<a href="/console/services" aria-current="page">`) {
				t.Error("no Services link in the menu")
			}
			if r := b.get("/console"); !strings.Contains(r.Body, `<a href="/console/services">`) {
				t.Error("no Services link in the menu of the dashboard")
			}
			canEdit, canStatus := role == tocsin.RoleAdmin, role == tocsin.RoleCommunicator
			if got := strings.Contains(r.Body, `action="/console/services"`); got != canEdit {
				t.Errorf("creation form shown: %v, want %v", got, canEdit)
			}
			if got := strings.Contains(r.Body, servicePath(svc.ID, "status")); got != canStatus {
				t.Errorf("status form shown: %v, want %v", got, canStatus)
			}

			doomed := e.addService("Doomed "+string(role), "")
			for _, c := range []struct {
				path    string
				form    url.Values
				allowed bool
			}{
				{"/console/services", url.Values{"name": {"New " + string(role)}}, canEdit},
				{servicePath(svc.ID, "edit"), url.Values{"name": {"Mail"}, "group": {"Mail " + string(role)}}, canEdit},
				{servicePath(doomed.ID, "delete"), nil, canEdit},
				{servicePath(svc.ID, "status"), url.Values{"status": {"degraded_performance"}}, canStatus},
			} {
				before := e.serviceState()
				r := b.post(c.path, c.form)
				switch {
				case c.allowed && r.Status != http.StatusOK:
					t.Errorf("POST %s: %d, want 200: %s", c.path, r.Status, r.Text)
				case !c.allowed && r.Status != http.StatusForbidden:
					t.Errorf("POST %s: %d, want 403", c.path, r.Status)
				case !c.allowed && e.serviceState() != before:
					t.Errorf("POST %s refused but wrote", c.path)
				}
			}
		})
	}
}

// TestAPIServices walks the service API's happy path; each change reaches
// the public site at once.
func TestAPIServices(t *testing.T) {
	e := newTestEnv(t)
	admin, _ := e.createToken("admin", tocsin.RoleAdmin)
	comm, _ := e.createToken("comm", tocsin.RoleCommunicator)
	viewerTok, _ := e.createToken("viewer", tocsin.RoleViewer)
	spec := &tocsin.Service{Name: "Mastodon", Group: "Social"}
	e.configService(spec)

	r := e.call(http.MethodPost, "/api/v1/services", admin,
		`{"name":"Mail","group":"Communication","description":"IMAP and SMTP","link":"https://mail.example.org","position":2}`)
	if r.Status != http.StatusCreated {
		t.Fatalf("create: %d %s", r.Status, r.Body)
	}
	created := decodeAs[serviceJSON](t, r)
	if created.ID == 0 || created.Name != "Mail" || created.Group != "Communication" || created.Description != "IMAP and SMTP" ||
		created.Link != "https://mail.example.org" || created.Position != 2 || created.Status != "operational" ||
		created.ConfigManaged || created.CreatedAt.IsZero() || created.UpdatedAt.IsZero() {
		t.Errorf("created %+v", created)
	}
	for _, key := range []string{"id", "name", "description", "link", "group", "position", "status", "config_managed", "created_at", "updated_at"} {
		if !strings.Contains(r.Body, `"`+key+`":`) {
			t.Errorf("the service JSON lacks %q: %s", key, r.Body)
		}
	}
	if c := e.component("Mail"); c == nil || c["description"] != "IMAP and SMTP" {
		t.Errorf("components.json after create: %v", c)
	}
	one := fmt.Sprintf("/api/v1/services/%d", created.ID)

	t.Run("list and read, with the viewer role", func(t *testing.T) {
		r := e.call(http.MethodGet, "/api/v1/services", viewerTok, "")
		var list struct{ Services []serviceJSON }
		if err := json.Unmarshal([]byte(r.Body), &list); r.Status != http.StatusOK || err != nil {
			t.Fatalf("list: %d %s", r.Status, r.Body)
		}
		// Ungrouped first, then groups by their smallest position: the
		// configured Mastodon has position 0, Mail 2.
		if len(list.Services) != 2 || list.Services[0].Name != "Mastodon" || !list.Services[0].ConfigManaged || list.Services[1].ID != created.ID {
			t.Errorf("list %+v", list.Services)
		}
		if got := decodeAs[serviceJSON](t, e.call(http.MethodGet, one, viewerTok, "")); got != created {
			t.Errorf("read %+v, want %+v", got, created)
		}
	})

	t.Run("replace", func(t *testing.T) {
		r := e.call(http.MethodPut, one, admin, `{"name":"E-mail","group":"Communication"}`)
		if r.Status != http.StatusOK {
			t.Fatalf("%d %s", r.Status, r.Body)
		}
		got := decodeAs[serviceJSON](t, r)
		// Fields left out are emptied; status and creation are kept.
		if got.Name != "E-mail" || got.Description != "" || got.Link != "" || got.Position != 0 ||
			got.Status != "operational" || !got.CreatedAt.Equal(created.CreatedAt) {
			t.Errorf("replaced %+v", got)
		}
		if e.component("E-mail") == nil || e.component("Mail") != nil {
			t.Error("components.json does not show the new name")
		}
	})

	t.Run("status", func(t *testing.T) {
		for _, st := range []struct {
			status, banner string
		}{{"major_outage", "banner-major_outage"}, {"degraded_performance", "banner-degraded_performance"}, {"operational", "banner-operational"}} {
			r := e.call(http.MethodPost, one+"/status", comm, `{"status":"`+st.status+`"}`)
			if r.Status != http.StatusOK || decodeAs[serviceJSON](t, r).Status != st.status {
				t.Fatalf("%s: %d %s", st.status, r.Status, r.Body)
			}
			if p := e.publicPage("/en/"); !strings.Contains(p, st.banner) {
				t.Errorf("%s: the public banner is not %s", st.status, st.banner)
			}
			if c := e.component("E-mail"); c == nil || c["status"] != st.status {
				t.Errorf("%s: components.json %v", st.status, c)
			}
		}
		// A configured service's status is not configuration.
		r := e.call(http.MethodPost, fmt.Sprintf("/api/v1/services/%d/status", spec.ID), comm, `{"status":"under_maintenance"}`)
		if got := decodeAs[serviceJSON](t, r); r.Status != http.StatusOK || got.Status != "under_maintenance" || !got.ConfigManaged {
			t.Errorf("configured service: %d %s", r.Status, r.Body)
		}
	})

	t.Run("delete", func(t *testing.T) {
		if r := e.call(http.MethodDelete, one, admin, ""); r.Status != http.StatusNoContent || r.Body != "" {
			t.Fatalf("%d %s", r.Status, r.Body)
		}
		apiError(t, e.call(http.MethodGet, one, admin, ""), http.StatusNotFound, tocsin.ENOTFOUND)
		if e.component("E-mail") != nil || strings.Contains(e.publicPage("/en/"), "E-mail") {
			t.Error("the public site still shows the deleted service")
		}
	})
}

// TestAPIServiceErrors: each refusal has its status, code and message,
// and writes nothing.
func TestAPIServiceErrors(t *testing.T) {
	e := newTestEnv(t)
	admin, _ := e.createToken("admin", tocsin.RoleAdmin)
	comm, _ := e.createToken("comm", tocsin.RoleCommunicator)
	viewerTok, _ := e.createToken("viewer", tocsin.RoleViewer)
	responder, _ := e.createToken("responder", tocsin.RoleResponder)
	mail := e.addService("Mail", "")
	e.addService("Wiki", "")
	spec := &tocsin.Service{Name: "Mastodon"}
	e.configService(spec)
	m := fmt.Sprintf("/api/v1/services/%d", mail.ID)
	cfg := fmt.Sprintf("/api/v1/services/%d", spec.ID)

	tests := []struct {
		name         string
		method, path string
		token        string
		ctype        string // application/json unless set
		body         string
		status       int
		code         string
		message      string // part of the message
	}{
		// Access.
		{"list without a token", "GET", "/api/v1/services", "", "", "", 401, tocsin.EUNAUTHORIZED, ""},
		{"read with a bad token", "GET", m, "tcn_nope", "", "", 401, tocsin.EUNAUTHORIZED, ""},
		{"create as viewer", "POST", "/api/v1/services", viewerTok, "", `{"name":"Blog"}`, 403, tocsin.EFORBIDDEN, ""},
		{"create as communicator", "POST", "/api/v1/services", comm, "", `{"name":"Blog"}`, 403, tocsin.EFORBIDDEN, ""},
		{"replace as responder", "PUT", m, responder, "", `{"name":"Post"}`, 403, tocsin.EFORBIDDEN, ""},
		{"replace as communicator", "PUT", m, comm, "", `{"name":"Post"}`, 403, tocsin.EFORBIDDEN, ""},
		{"delete as communicator", "DELETE", m, comm, "", "", 403, tocsin.EFORBIDDEN, ""},
		{"status as viewer", "POST", m + "/status", viewerTok, "", `{"status":"major_outage"}`, 403, tocsin.EFORBIDDEN, ""},
		{"status as admin only", "POST", m + "/status", admin, "", `{"status":"major_outage"}`, 403, tocsin.EFORBIDDEN, ""},
		{"create without a token", "POST", "/api/v1/services", "", "", `{"name":"Blog"}`, 401, tocsin.EUNAUTHORIZED, ""},

		// Unknown services.
		{"read unknown", "GET", "/api/v1/services/999999", admin, "", "", 404, tocsin.ENOTFOUND, ""},
		{"read non-number", "GET", "/api/v1/services/mail", admin, "", "", 404, tocsin.ENOTFOUND, ""},
		{"replace unknown", "PUT", "/api/v1/services/999999", admin, "", `{"name":"Ghost"}`, 404, tocsin.ENOTFOUND, "does not exist"},
		{"delete unknown", "DELETE", "/api/v1/services/999999", admin, "", "", 404, tocsin.ENOTFOUND, "does not exist"},
		{"status of unknown", "POST", "/api/v1/services/999999/status", comm, "", `{"status":"major_outage"}`, 404, tocsin.ENOTFOUND, "does not exist"},
		{"status of id 0", "POST", "/api/v1/services/0/status", comm, "", `{"status":"major_outage"}`, 404, tocsin.ENOTFOUND, ""},

		// The configuration file owns these.
		{"replace configured", "PUT", cfg, admin, "", `{"name":"Mastodon","group":"Social"}`, 409, tocsin.ECONFLICT, "configuration file"},
		{"delete configured", "DELETE", cfg, admin, "", "", 409, tocsin.ECONFLICT, "configuration file"},

		// Names are unique regardless of case.
		{"create taken", "POST", "/api/v1/services", admin, "", `{"name":"MAIL"}`, 409, tocsin.ECONFLICT, "already exists"},
		{"create taken by configured", "POST", "/api/v1/services", admin, "", `{"name":"mastodon"}`, 409, tocsin.ECONFLICT, "already exists"},
		{"rename to taken", "PUT", m, admin, "", `{"name":"wiki"}`, 409, tocsin.ECONFLICT, "already exists"},

		// Bad fields.
		{"no name", "POST", "/api/v1/services", admin, "", `{"group":"Social"}`, 400, tocsin.EINVALID, "name of 1 to 100"},
		{"blank name", "PUT", m, admin, "", `{"name":"  "}`, 400, tocsin.EINVALID, "name of 1 to 100"},
		{"long name", "POST", "/api/v1/services", admin, "", `{"name":"` + strings.Repeat("n", 101) + `"}`, 400, tocsin.EINVALID, "name of 1 to 100"},
		{"long group", "POST", "/api/v1/services", admin, "", `{"name":"Blog","group":"` + strings.Repeat("g", 101) + `"}`, 400, tocsin.EINVALID, "group"},
		{"long description", "PUT", m, admin, "", `{"name":"Mail","description":"` + strings.Repeat("d", 1001) + `"}`, 400, tocsin.EINVALID, "description"},
		{"script link", "POST", "/api/v1/services", admin, "", `{"name":"Blog","link":"javascript:alert(1)"}`, 400, tocsin.EINVALID, "http:// or https://"},
		{"negative position", "POST", "/api/v1/services", admin, "", `{"name":"Blog","position":-1}`, 400, tocsin.EINVALID, "position -1"},
		{"huge position", "PUT", m, admin, "", `{"name":"Mail","position":10001}`, 400, tocsin.EINVALID, "position 10001"},
		{"fractional position", "POST", "/api/v1/services", admin, "", `{"name":"Blog","position":1.5}`, 400, tocsin.EINVALID, "position"},
		{"position as text", "POST", "/api/v1/services", admin, "", `{"name":"Blog","position":"1"}`, 400, tocsin.EINVALID, "position"},
		{"status at creation", "POST", "/api/v1/services", admin, "", `{"name":"Blog","status":"major_outage"}`, 400, tocsin.EINVALID, "unknown field"},
		{"config flag", "PUT", m, admin, "", `{"name":"Mail","config_managed":true}`, 400, tocsin.EINVALID, "unknown field"},
		{"unknown status", "POST", m + "/status", comm, "", `{"status":"down"}`, 400, tocsin.EINVALID, `unknown status "down"`},
		{"empty status", "POST", m + "/status", comm, "", `{"status":""}`, 400, tocsin.EINVALID, "unknown status"},
		{"no status", "POST", m + "/status", comm, "", `{}`, 400, tocsin.EINVALID, "unknown status"},
		{"status with extra field", "POST", m + "/status", comm, "", `{"status":"major_outage","at":"2020-01-01T00:00:00Z"}`, 400, tocsin.EINVALID, "unknown field"},
		{"status as number", "POST", m + "/status", comm, "", `{"status":3}`, 400, tocsin.EINVALID, "status"},

		// Bodies decodeJSON refuses.
		{"empty body", "POST", "/api/v1/services", admin, "", "", 400, tocsin.EINVALID, "empty"},
		{"null", "PUT", m, admin, "", "null", 400, tocsin.EINVALID, "name"},
		{"malformed", "POST", "/api/v1/services", admin, "", `{"name":"Blog"`, 400, tocsin.EINVALID, "JSON"},
		{"two objects", "POST", m + "/status", comm, "", `{"status":"major_outage"}{}`, 400, tocsin.EINVALID, "one JSON object"},
		{"control character", "POST", "/api/v1/services", admin, "", `{"name":"Bl\u0000og"}`, 400, tocsin.EINVALID, "control character"},
		{"invalid UTF-8", "PUT", m, admin, "", "{\"name\":\"M\xffail\"}", 400, tocsin.EINVALID, "UTF-8"},
		{"form body", "POST", "/api/v1/services", admin, "application/x-www-form-urlencoded", "name=Blog", 415, tocsin.EUNSUPPORTED, "application/json"},
		{"oversized", "PUT", m, admin, "", `{"name":"Mail","description":"` + strings.Repeat("d", maxJSONBytes) + `"}`, 413, tocsin.ETOOLARGE, "bytes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := e.serviceState()
			req, err := http.NewRequest(tt.method, e.ts.URL+tt.path, strings.NewReader(tt.body))
			if err != nil {
				t.Fatal(err)
			}
			if tt.token != "" {
				req.Header.Set("Authorization", "Bearer "+tt.token)
			}
			if tt.method == http.MethodPost || tt.method == http.MethodPut {
				req.Header.Set("Content-Type", cmp.Or(tt.ctype, "application/json"))
			}
			r := e.do(req)
			apiError(t, r, tt.status, tt.code)
			var body struct{ Error struct{ Message string } }
			if err := json.Unmarshal([]byte(r.Body), &body); err != nil || !strings.Contains(body.Error.Message, tt.message) {
				t.Errorf("message lacks %q: %s", tt.message, r.Body)
			}
			if after := e.serviceState(); after != before {
				t.Errorf("a refused request wrote:\nbefore %s\nafter  %s", before, after)
			}
		})
	}
}
