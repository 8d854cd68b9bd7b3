package httpserver

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/tocsin-org/tocsin"
	"github.com/tocsin-org/tocsin/i18n"
)

// The console's private security incidents: viewers read them; responders
// open and work them. Nothing here reaches the public site.

// securityRow is one line of the list.
type securityRow struct {
	*tocsin.SecurityIncident
	Lead    string
	Updated string
}

func (s *Server) securityIncidents(w http.ResponseWriter, r *http.Request) error {
	return s.renderSecurityList(w, r, http.StatusOK, "", nil)
}

// renderSecurityList shows the list (open first, then by severity) and the
// creation form, with its refusal if any.
func (s *Server) renderSecurityList(w http.ResponseWriter, r *http.Request, status int, errMsg string, form url.Values) error {
	list, err := s.store.SecurityIncidents(r.Context(), tocsin.SecurityIncidentFilter{Limit: 1000})
	if err != nil {
		return err
	}
	rows := make([]securityRow, len(list))
	for i, inc := range list {
		rows[i] = securityRow{SecurityIncident: inc, Updated: s.fmtTime(inc.UpdatedAt)}
		if l := inc.Lead(); l != nil {
			rows[i].Lead = l.Email
		}
	}
	if form == nil {
		form = url.Values{"severity": {string(tocsin.SEV3)}, "kind": {string(tocsin.KindOther)}}
	}
	data := map[string]any{
		"Incidents": rows,
		"Form":      form,
		"Error":     errMsg,
		"CanWork":   state(r).user.Roles.Allows(tocsin.RoleResponder),
	}
	s.addSecurityChoices(r, data)
	lr := r.Clone(r.Context())
	lr.URL.Path = "/console/security"
	s.render(w, lr, status, "security", data)
	return nil
}

// severityChoice is a severity with its definition from the configuration.
type severityChoice struct {
	Value      tocsin.Severity
	Definition string
}

func (s *Server) addSecurityChoices(r *http.Request, data map[string]any) {
	lang := state(r).lang
	sev := make([]severityChoice, len(tocsin.Severities))
	for i, v := range tocsin.Severities {
		sev[i] = severityChoice{v, s.cfg.Severities.Of(string(v), lang)}
	}
	data["Severities"] = sev
	data["Kinds"] = tocsin.SecurityKinds
	data["Statuses"] = tocsin.SecurityStatuses
	data["IncidentRoles"] = tocsin.IncidentRoles
	data["LinkKinds"] = tocsin.LinkKinds
}

func (s *Server) createSecurityIncident(w http.ResponseWriter, r *http.Request) error {
	st := state(r)
	f := r.PostForm
	inc := &tocsin.SecurityIncident{Title: f.Get("title"), Summary: f.Get("summary"),
		Severity: tocsin.Severity(f.Get("severity")), Kind: tocsin.SecurityKind(f.Get("kind"))}
	if err := s.store.CreateSecurityIncident(r.Context(), st.actor(), inc); err != nil {
		if tocsin.ErrorCode(err) != tocsin.EINVALID {
			return err
		}
		return s.renderSecurityList(w, r, http.StatusBadRequest, s.localized(r, err), f)
	}
	return s.renderRoom(w, r, inc.ID, http.StatusOK, roomView{Flash: i18n.T(st.lang, "security.created", inc.Title)})
}

// roomView is what a room page shows besides the incident: a message, and
// the refusal and typed values of the form it is about.
type roomView struct {
	Flash string
	Where string // the form Error is about: "settings", "status", "reopen", "roles", "moments", "entry", "decision", "link", "comms", "comms-update", "comms-cadence", "comms-postmortem", "apply", "task", "tasks"
	Error string
	Form  url.Values
}

// roomPageSize is how many timeline entries a page of the room shows.
const roomPageSize = 200

func (s *Server) securityIncident(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	return s.renderRoom(w, r, id, http.StatusOK, roomView{})
}

// durationView is a computed duration as the room shows it.
type durationView struct {
	Label string
	Value string
}

// momentRow is one key moment: its label, when, and the form's value.
type momentRow struct {
	Name  tocsin.KeyMoment
	Label string
	At    string
	Input string
}

// renderRoom shows the room of incident id: roles, key moments and their
// durations, links, a page of the timeline (oldest first; the last page
// unless ?page= says otherwise) and the forms acting on it.
func (s *Server) renderRoom(w http.ResponseWriter, r *http.Request, id int64, status int, v roomView) error {
	st := state(r)
	inc, err := s.store.SecurityIncident(r.Context(), id)
	if err != nil {
		return err
	}
	// The newest page and the count come in one read; an earlier page
	// takes a second. Pages are cut from the newest end, so that the page
	// a responder lands on is full and the oldest one holds the remainder.
	entries, total, err := s.store.Timeline(r.Context(), id, tocsin.TimelineFilter{Limit: roomPageSize, Last: true})
	if err != nil {
		return err
	}
	pages := max(1, (total+roomPageSize-1)/roomPageSize)
	page := pages
	if p := r.URL.Query().Get("page"); p != "" {
		n, err := strconv.Atoi(p)
		if err != nil || n < 1 || n > pages {
			return tocsin.Errorf(tocsin.ENOTFOUND, "no such page of the timeline")
		}
		page = n
	}
	if page != pages {
		end := total - (pages-page)*roomPageSize
		start := max(end-roomPageSize, 0)
		if entries, _, err = s.store.Timeline(r.Context(), id, tocsin.TimelineFilter{Limit: end - start, Offset: start}); err != nil {
			return err
		}
	}
	users, err := s.store.Users(r.Context())
	if err != nil {
		return err
	}
	var active []*tocsin.User
	for _, u := range users {
		if !u.Disabled() {
			active = append(active, u)
		}
	}
	lang := st.lang
	moments := make([]momentRow, len(tocsin.AllKeyMoments))
	for i, m := range tocsin.AllKeyMoments {
		row := momentRow{Name: m, Label: i18n.T(lang, "security.moment."+string(m))}
		if t := inc.Moments.At(m); t != nil {
			row.At, row.Input = s.fmtTime(*t), t.In(s.loc).Format(dateTimeLocal)
		}
		if v.Where == "moments" {
			row.Input = v.Form.Get(string(m))
		}
		moments[i] = row
	}
	none := i18n.T(lang, "security.unknown")
	durations := []durationView{{Label: i18n.T(lang, "security.tta"), Value: none}, {Label: i18n.T(lang, "security.ttc"), Value: none},
		{Label: i18n.T(lang, "security.exposure"), Value: none}}
	if d, ok := inc.Moments.TimeToAcknowledge(); ok {
		durations[0].Value = tocsin.FormatDuration(d)
	}
	if d, ok := inc.Moments.TimeToContain(); ok {
		durations[1].Value = tocsin.FormatDuration(d)
	}
	if d, ok, ongoing := inc.Moments.ExposureDuration(); ok {
		durations[2].Value = tocsin.FormatDuration(d)
	} else if ongoing {
		durations[2].Value = i18n.T(lang, "security.ongoing", s.fmtTime(*inc.Moments.ExposureStarted))
	}
	rows := make([]securityEntryRow, len(entries))
	for i, e := range entries {
		rows[i] = s.securityEntryRow(lang, e)
	}
	// Read before the settings' values fill the form below: the public
	// incident's form must not get the private title.
	comms, err := s.roomComms(r, inc, v)
	if err != nil {
		return err
	}
	form := v.Form
	if form == nil || v.Where == "" {
		form = url.Values{}
	}
	if v.Where != "settings" {
		form.Set("title", inc.Title)
		form.Set("summary", inc.Summary)
		form.Set("severity", string(inc.Severity))
		form.Set("kind", string(inc.Kind))
	}
	data := map[string]any{
		"Incident":  inc,
		"Created":   s.fmtTime(inc.CreatedAt),
		"Severity":  s.cfg.Severities.Of(string(inc.Severity), lang),
		"Moments":   moments,
		"Durations": durations,
		"Timeline":  rows,
		"Total":     total,
		"Page":      page,
		"Pages":     pages,
		"Prev":      page - 1,
		"Next":      page + 1,
		"Users":     active,
		"Form":      form,
		"Where":     v.Where,
		"Error":     v.Error,
		"Flash":     v.Flash,
		"Closed":    !inc.Open(),
		"CanWork":   st.user.Roles.Allows(tocsin.RoleResponder),
		"Comms":     comms,
	}
	if err := s.addRoomTasks(r, id, data); err != nil {
		return err
	}
	s.addSecurityChoices(r, data)
	if err := s.addRoomEvidence(r, id, data); err != nil {
		return err
	}
	lr := r.Clone(r.Context())
	lr.URL.Path = "/console/security/" + strconv.FormatInt(id, 10)
	s.render(w, lr, status, "security_incident", data)
	return nil
}

// roomRefused shows the room again with err at the form where, when err
// is the user's to fix.
func (s *Server) roomRefused(w http.ResponseWriter, r *http.Request, id int64, where string, err error) error {
	code := tocsin.ErrorCode(err)
	if code != tocsin.EINVALID && code != tocsin.ECONFLICT {
		return err
	}
	return s.renderRoom(w, r, id, statusOf(code), roomView{Where: where, Error: s.localized(r, err), Form: r.PostForm})
}

// roomAction runs one change of the room from its form: refused, the form
// comes back with its message; done, the room with flash key.
func (s *Server) roomAction(where, flash string, fn func(r *http.Request, a tocsin.Actor, id int64) error) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		id, err := pathID(r, "id")
		if err != nil {
			return err
		}
		if _, err := s.store.SecurityIncident(r.Context(), id); err != nil {
			return err // an unknown incident is a 404, not a form to fix
		}
		if err := fn(r, state(r).actor(), id); err != nil {
			return s.roomRefused(w, r, id, where, err)
		}
		return s.renderRoom(w, r, id, http.StatusOK, roomView{Flash: i18n.T(state(r).lang, flash)})
	}
}

// formTime reads an optional datetime-local field in the host's zone.
func (s *Server) formTime(f url.Values, name string) (time.Time, error) {
	return s.parseBackdate(f.Get(name))
}

// formUser reads a user ID field; a value that is not a number is account
// 0, which the store refuses as unknown.
func formUser(f url.Values, name string) int64 {
	id, _ := strconv.ParseInt(strings.TrimSpace(f.Get(name)), 10, 64)
	return id
}

func (s *Server) setSecurityIncident(r *http.Request, a tocsin.Actor, id int64) error {
	f := r.PostForm
	inc := &tocsin.SecurityIncident{ID: id, Title: f.Get("title"), Summary: f.Get("summary"),
		Severity: tocsin.Severity(f.Get("severity")), Kind: tocsin.SecurityKind(f.Get("kind"))}
	return s.store.SetSecurityIncident(r.Context(), a, inc)
}

func (s *Server) setSecurityStatus(r *http.Request, a tocsin.Actor, id int64) error {
	return s.store.SetSecurityStatus(r.Context(), a, id, tocsin.SecurityStatus(r.PostForm.Get("status")), r.PostForm.Get("reason"))
}

func (s *Server) reopenSecurityIncident(r *http.Request, a tocsin.Actor, id int64) error {
	return s.store.ReopenSecurityIncident(r.Context(), a, id, tocsin.SecurityStatus(r.PostForm.Get("status")), r.PostForm.Get("reason"))
}

// setSecurityRole assigns a role, or takes it back when the form says
// remove.
func (s *Server) setSecurityRole(r *http.Request, a tocsin.Actor, id int64) error {
	f := r.PostForm
	role := tocsin.IncidentRole(f.Get("role"))
	if f.Get("remove") != "" {
		return s.store.UnassignSecurityRole(r.Context(), a, id, role, formUser(f, "user"))
	}
	return s.store.AssignSecurityRole(r.Context(), a, id, role, formUser(f, "user"))
}

// setKeyMoments reads the eight moments; a field left as shown keeps the
// stored time to the microsecond (the form shows minutes).
func (s *Server) setKeyMoments(r *http.Request, a tocsin.Actor, id int64) error {
	inc, err := s.store.SecurityIncident(r.Context(), id)
	if err != nil {
		return err
	}
	m := inc.Moments
	for _, km := range tocsin.AllKeyMoments {
		v := strings.TrimSpace(r.PostForm.Get(string(km)))
		p := m.Ref(km)
		if *p != nil && v == (*p).In(s.loc).Format(dateTimeLocal) {
			continue
		}
		t, err := s.parseBackdate(v)
		if err != nil {
			return err
		}
		if t.IsZero() {
			*p = nil
		} else {
			*p = &t
		}
	}
	return s.store.SetKeyMoments(r.Context(), a, id, m)
}

func (s *Server) addSecurityEntry(r *http.Request, a tocsin.Actor, id int64) error {
	at, err := s.formTime(r.PostForm, "occurred_at")
	if err != nil {
		return err
	}
	e := &tocsin.SecurityEntry{Kind: tocsin.EntryKind(r.PostForm.Get("kind")), Body: r.PostForm.Get("body"), OccurredAt: at}
	return s.store.AddTimelineEntry(r.Context(), a, id, e)
}

func (s *Server) recordSecurityDecision(r *http.Request, a tocsin.Actor, id int64) error {
	f := r.PostForm
	at, err := s.formTime(f, "decided_at")
	if err != nil {
		return err
	}
	d := &tocsin.Decision{Choice: f.Get("choice"), Options: f.Get("options"), Why: f.Get("why"), DecidedBy: formUser(f, "decided_by"), DecidedAt: at}
	return s.store.RecordDecision(r.Context(), a, id, d)
}

func (s *Server) linkSecurityIncident(r *http.Request, a tocsin.Actor, id int64) error {
	other, err := strconv.ParseInt(strings.TrimPrefix(strings.TrimSpace(r.PostForm.Get("other")), "#"), 10, 64)
	if err != nil {
		return tocsin.Errorf(tocsin.EINVALID, "give the number of the other incident").WithKey("security.link_number")
	}
	return s.store.LinkSecurityIncidents(r.Context(), a, id, other, tocsin.LinkKind(r.PostForm.Get("kind")))
}
