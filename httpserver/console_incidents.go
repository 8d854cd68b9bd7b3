package httpserver

import (
	"cmp"
	"html/template"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/tocsin-org/tocsin"
	"github.com/tocsin-org/tocsin/i18n"
	"github.com/tocsin-org/tocsin/markdown"
)

// The console's incidents: viewers read them, drafts included; the
// communicator role declares, publishes, updates and corrects them.

// dateTimeLocal is the value of an <input type="datetime-local">.
const dateTimeLocal = "2006-01-02T15:04"

// parseBackdate reads the optional "date it earlier" field, a wall time in
// the host's zone; empty means now (the zero time).
func (s *Server) parseBackdate(v string) (time.Time, error) {
	v = strings.TrimSpace(v)
	if v == "" {
		return time.Time{}, nil
	}
	return s.parseWallTime(v)
}

// parseWindow reads a maintenance's window from a form's wall times in the
// host's zone; both empty is no window (an incident), one empty is left to
// the domain's check.
func (s *Server) parseWindow(f incidentForm) (from, until *time.Time, err error) {
	for _, p := range []struct {
		v   string
		out **time.Time
	}{{f.From, &from}, {f.Until, &until}} {
		if v := strings.TrimSpace(p.v); v != "" {
			t, err := s.parseWallTime(v)
			if err != nil {
				return nil, nil, err
			}
			*p.out = &t
		}
	}
	return from, until, nil
}

// parseWallTime reads an <input type="datetime-local"> value in the host's zone.
func (s *Server) parseWallTime(v string) (time.Time, error) {
	for _, layout := range []string{dateTimeLocal, dateTimeLocal + ":05"} {
		if t, err := time.ParseInLocation(layout, v, s.loc); err == nil {
			return t, nil
		}
	}
	return time.Time{}, tocsin.Errorf(tocsin.EINVALID, "%q is not a date and time", v).WithKey("incidents.date_invalid", v)
}

// impactsOf reads the affected services of a form: a checkbox "service"
// per service (its ID) and a select "service_status_ID" for each. A value
// that is not a number is service 0, which the store refuses as unknown.
func impactsOf(f url.Values) []tocsin.ServiceImpact {
	var out []tocsin.ServiceImpact
	for _, v := range f["service"] {
		id, _ := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
		out = append(out, tocsin.ServiceImpact{ServiceID: id, Status: tocsin.ServiceStatus(f.Get("service_status_" + strings.TrimSpace(v)))})
	}
	return out
}

// serviceChoice is one line of the affected services' fieldset.
type serviceChoice struct {
	ID      int64
	Name    string
	Checked bool
	Status  tocsin.ServiceStatus
}

// serviceChoices lists every service, checked and with its status where
// chosen holds it; unchecked ones propose a partial outage.
func serviceChoices(all []*tocsin.Service, chosen []tocsin.ServiceImpact) []serviceChoice {
	out := make([]serviceChoice, 0, len(all))
	for _, svc := range all {
		c := serviceChoice{ID: svc.ID, Name: svc.Name, Status: tocsin.StatusPartialOutage}
		for _, im := range chosen {
			if im.ServiceID == svc.ID {
				c.Checked, c.Status = true, im.Status
			}
		}
		out = append(out, c)
	}
	return out
}

// incidentForm is what the creation and settings forms hold, so that a
// refused form comes back as typed.
type incidentForm struct {
	Title, Impact, Status, Body, DisplayAt string
	From, Until                            string // a maintenance's window, as typed
	Publish, ShowOnSites                   bool
	Services                               []tocsin.ServiceImpact
}

func incidentFormOf(f url.Values) incidentForm {
	return incidentForm{
		Title: f.Get("title"), Impact: f.Get("impact"), Status: f.Get("status"), Body: f.Get("body"),
		DisplayAt: f.Get("display_at"), Publish: f.Get("publish") != "", ShowOnSites: f.Get("show_on_sites") != "",
		From: f.Get("scheduled_for"), Until: f.Get("scheduled_until"), Services: impactsOf(f),
	}
}

// incident is the incident (or maintenance, with a window) the form
// describes, with the given ID.
func (s *Server) incidentOf(id int64, form incidentForm) (*tocsin.Incident, error) {
	inc := &tocsin.Incident{ID: id, Title: form.Title, Impact: tocsin.Impact(strings.TrimSpace(form.Impact)), Services: form.Services, ShowOnSites: form.ShowOnSites}
	var err error
	inc.ScheduledFor, inc.ScheduledUntil, err = s.parseWindow(form)
	return inc, err
}

// incidentRow is one line of the list.
type incidentRow struct {
	*tocsin.Incident
	Updated string
}

func (s *Server) incidents(w http.ResponseWriter, r *http.Request) error {
	return s.renderIncidents(w, r, http.StatusOK, "", nil)
}

// renderIncidents shows the list, open incidents first, with the creation
// form (and its refusal, if any).
func (s *Server) renderIncidents(w http.ResponseWriter, r *http.Request, status int, errMsg string, form *incidentForm) error {
	no := false
	list, err := s.store.Incidents(r.Context(), tocsin.IncidentFilter{Maintenance: &no, Limit: 1000})
	if err != nil {
		return err
	}
	services, err := s.store.Services(r.Context())
	if err != nil {
		return err
	}
	slices.SortStableFunc(list, func(a, b *tocsin.Incident) int {
		return cmp.Compare(boolInt(a.Status.Closed()), boolInt(b.Status.Closed()))
	})
	rows := make([]incidentRow, len(list))
	for i, inc := range list {
		rows[i] = incidentRow{inc, s.fmtTime(inc.UpdatedAt)}
	}
	if form == nil {
		form = &incidentForm{Impact: string(tocsin.ImpactMinor), Status: string(tocsin.IncidentInvestigating)}
	}
	data := map[string]any{
		"Incidents": rows,
		"Form":      form,
		"Services":  serviceChoices(services, form.Services),
		"Error":     errMsg,
		"CanEdit":   state(r).user.Roles.Allows(tocsin.RoleCommunicator),
	}
	addIncidentChoices(data, false)
	lr := r.Clone(r.Context())
	lr.URL.Path = "/console/incidents"
	s.render(w, lr, status, "incidents", data)
	return nil
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// addIncidentChoices adds the choices of the forms, a maintenance's
// statuses for one.
func addIncidentChoices(data map[string]any, maintenance bool) {
	data["Statuses"] = tocsin.IncidentStatuses
	if maintenance {
		data["Statuses"] = tocsin.MaintenanceStatuses
	}
	data["Impacts"] = tocsin.Impacts
	data["ServiceStatuses"] = tocsin.ServiceStatuses
}

func (s *Server) createIncident(w http.ResponseWriter, r *http.Request) error {
	st := state(r)
	form := incidentFormOf(r.PostForm)
	inc := &tocsin.Incident{Title: form.Title, Impact: tocsin.Impact(strings.TrimSpace(form.Impact)), Services: form.Services, ShowOnSites: form.ShowOnSites}
	first := &tocsin.Update{Status: tocsin.IncidentStatus(strings.TrimSpace(form.Status)), Body: form.Body}
	at, err := s.parseBackdate(form.DisplayAt)
	if err == nil {
		first.DisplayAt = at
		if form.Publish {
			now := time.Now() // the store's clock, which dates the rest
			inc.PublishedAt = &now
		}
		err = s.store.CreateIncident(r.Context(), st.actor(), inc, first, nil)
	}
	if err != nil {
		if code := tocsin.ErrorCode(err); code != tocsin.EINVALID {
			return err
		}
		return s.renderIncidents(w, r, http.StatusBadRequest, s.localized(r, err), &form)
	}
	s.refreshAfter(r.Context())
	key := "incidents.created_draft"
	if inc.Published() {
		key = "incidents.created_published"
	}
	return s.renderIncident(w, r, inc.ID, http.StatusOK, incidentView{Flash: i18n.T(st.lang, key, inc.Title)})
}

// incidentView is what the detail page shows besides the incident: a
// message, and the error and typed values of the form it is about.
type incidentView struct {
	Flash string
	// Where is the form Error is about: "update", "settings", "publish",
	// or "edit-N" for update N's correction.
	Where   string
	Error   string
	Update  *incidentForm // the add-update form as typed
	Preview template.HTML // the add-update form's body, rendered
	Edit    string        // the correction as typed
	Setting *incidentForm
	// Postmortem is the post-mortem form as typed (Where "postmortem").
	Postmortem *postmortemForm
}

// updateRow is one update on the detail page.
type updateRow struct {
	*tocsin.Update
	HTML      template.HTML
	Display   string
	Written   string
	Revisions []revisionRow
	Edit      string // the correction form's text
	Error     string
	Open      bool
}

type revisionRow struct {
	tocsin.UpdateRevision
	Edited string
}

// renderMarkdown is body as the public page renders it; a body the
// renderer refuses is shown as plain text.
func renderMarkdown(body string) template.HTML {
	h, err := markdown.Render(body)
	if err != nil {
		return template.HTML("<pre>" + template.HTMLEscapeString(body) + "</pre>")
	}
	return h
}

func (s *Server) incident(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	return s.renderIncident(w, r, id, http.StatusOK, incidentView{})
}

// renderIncident shows one incident with every update, its revisions and
// the forms acting on it. The layout is given the page's own path, for the
// language switch to come back to it.
func (s *Server) renderIncident(w http.ResponseWriter, r *http.Request, id int64, status int, v incidentView) error {
	inc, err := s.store.Incident(r.Context(), id)
	if err != nil {
		return err
	}
	services, err := s.store.Services(r.Context())
	if err != nil {
		return err
	}
	names := map[int64]string{}
	for _, svc := range services {
		names[svc.ID] = svc.Name
	}
	rows := make([]updateRow, len(inc.Updates))
	for i, u := range inc.Updates {
		row := updateRow{Update: u, HTML: renderMarkdown(u.Body), Display: s.fmtTime(u.DisplayAt), Written: s.fmtTime(u.CreatedAt), Edit: u.Body}
		for _, rev := range u.Revisions {
			row.Revisions = append(row.Revisions, revisionRow{rev, s.fmtTime(rev.EditedAt)})
		}
		if v.Where == "edit-"+strconv.FormatInt(u.ID, 10) {
			row.Error, row.Edit, row.Open = v.Error, v.Edit, true
		}
		rows[i] = row
	}
	type affected struct {
		Name   string
		Status tocsin.ServiceStatus
	}
	var aff []affected
	for _, im := range inc.Services {
		aff = append(aff, affected{cmp.Or(names[im.ServiceID], "#"+strconv.FormatInt(im.ServiceID, 10)), im.Status})
	}
	upd := v.Update
	if upd == nil {
		upd = &incidentForm{Status: string(inc.Status)}
	}
	set := v.Setting
	if set == nil {
		set = &incidentForm{Title: inc.Title, Impact: string(inc.Impact), ShowOnSites: inc.ShowOnSites, Services: inc.Services}
		if inc.Maintenance() {
			set.From, set.Until = inc.ScheduledFor.In(s.loc).Format(dateTimeLocal), inc.ScheduledUntil.In(s.loc).Format(dateTimeLocal)
		}
	}
	published := ""
	if inc.PublishedAt != nil {
		published = s.fmtTime(*inc.PublishedAt)
	}
	pm, err := s.postmortemPanel(r, id, v.Postmortem)
	if err != nil {
		return err
	}
	roles := state(r).user.Roles
	data := map[string]any{
		"Incident":   inc,
		"Published":  published,
		"Affected":   aff,
		"Updates":    rows,
		"UpdateForm": upd,
		"Preview":    v.Preview,
		"Settings":   set,
		"Services":   serviceChoices(services, set.Services),
		"Where":      v.Where,
		"Error":      v.Error,
		"Flash":      v.Flash,
		"CanEdit":    roles.Allows(tocsin.RoleCommunicator),
		"PM":         pm,
		// Who may do what to the post-mortem (routes.go): responders write
		// it, approvers approve it, communicators publish it.
		"CanWritePM":   roles.Allows(tocsin.RoleResponder),
		"CanApprovePM": roles.Allows(tocsin.RoleApprover),
		"CanPublishPM": roles.Allows(tocsin.RoleCommunicator),
		"Window":       s.windowOf(inc),
	}
	if inc.RemindedAt != nil {
		data["Reminded"] = s.fmtTime(*inc.RemindedAt)
	}
	addIncidentChoices(data, inc.Maintenance())
	lr := r.Clone(r.Context())
	lr.URL.Path = "/console/incidents/" + strconv.FormatInt(id, 10)
	s.render(w, lr, status, "incident", data)
	return nil
}

// incidentRefused shows the incident again with err's message at the form
// where (see incidentView) when err is the user's to fix: invalid input, or
// a conflict such as an update to a resolved incident.
func (s *Server) incidentRefused(w http.ResponseWriter, r *http.Request, id int64, v incidentView, err error) error {
	code := tocsin.ErrorCode(err)
	if code != tocsin.EINVALID && code != tocsin.ECONFLICT {
		return err
	}
	v.Error = s.localized(r, err)
	return s.renderIncident(w, r, id, statusOf(code), v)
}

func (s *Server) addIncidentUpdate(w http.ResponseWriter, r *http.Request) error {
	st := state(r)
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	form := incidentFormOf(r.PostForm)
	if r.PostForm.Get("preview") != "" {
		h, err := markdown.Render(form.Body)
		if err != nil {
			return s.incidentRefused(w, r, id, incidentView{Where: "update", Update: &form}, err)
		}
		return s.renderIncident(w, r, id, http.StatusOK, incidentView{Update: &form, Preview: h})
	}
	u := &tocsin.Update{Status: tocsin.IncidentStatus(strings.TrimSpace(form.Status)), Body: form.Body}
	at, err := s.parseBackdate(form.DisplayAt)
	if err == nil {
		u.DisplayAt = at
		err = s.store.AddUpdate(r.Context(), st.actor(), id, u, nil)
	}
	if err != nil {
		return s.incidentRefused(w, r, id, incidentView{Where: "update", Update: &form}, err)
	}
	s.refreshAfter(r.Context())
	return s.renderIncident(w, r, id, http.StatusOK, incidentView{Flash: i18n.T(st.lang, "incidents.update_added")})
}

func (s *Server) editIncidentUpdate(w http.ResponseWriter, r *http.Request) error {
	st := state(r)
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	updateID, err := pathID(r, "update")
	if err != nil {
		return err
	}
	inc, err := s.store.Incident(r.Context(), id)
	if err != nil {
		return err
	}
	if !slices.ContainsFunc(inc.Updates, func(u *tocsin.Update) bool { return u.ID == updateID }) {
		return tocsin.Errorf(tocsin.ENOTFOUND, "update %d is not one of incident %d's", updateID, id)
	}
	body := r.PostForm.Get("body")
	if err := s.store.EditUpdate(r.Context(), st.actor(), updateID, body); err != nil {
		return s.incidentRefused(w, r, id, incidentView{Where: "edit-" + strconv.FormatInt(updateID, 10), Edit: body}, err)
	}
	s.refreshAfter(r.Context())
	return s.renderIncident(w, r, id, http.StatusOK, incidentView{Flash: i18n.T(st.lang, "incidents.update_edited")})
}

func (s *Server) publishIncident(w http.ResponseWriter, r *http.Request) error {
	st := state(r)
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	if err := s.store.PublishIncident(r.Context(), st.actor(), id, time.Time{}, nil); err != nil {
		if tocsin.ErrorCode(err) == tocsin.ECONFLICT { // already published: the store's message has no key
			return s.renderIncident(w, r, id, http.StatusConflict, incidentView{Where: "publish", Error: i18n.T(st.lang, "incidents.already_published")})
		}
		return err
	}
	s.refreshAfter(r.Context())
	return s.renderIncident(w, r, id, http.StatusOK, incidentView{Flash: i18n.T(st.lang, "incidents.published")})
}

func (s *Server) setIncident(w http.ResponseWriter, r *http.Request) error {
	st := state(r)
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	form := incidentFormOf(r.PostForm)
	inc, err := s.incidentOf(id, form)
	if err == nil {
		err = s.store.SetIncident(r.Context(), st.actor(), inc)
	}
	if err != nil {
		return s.incidentRefused(w, r, id, incidentView{Where: "settings", Setting: &form}, err)
	}
	s.refreshAfter(r.Context())
	return s.renderIncident(w, r, id, http.StatusOK, incidentView{Flash: i18n.T(st.lang, "incidents.saved")})
}
