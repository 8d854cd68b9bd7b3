package httpserver

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/tocsin-org/tocsin"
	"github.com/tocsin-org/tocsin/i18n"
)

// The room's communications section: the public incident a security
// incident speaks through, its public updates and their cadence, and the
// draft of its post-mortem. Who may do what is the domain's
// (SecurityIncident.CheckLinkPublic, CheckSpeak); the routes only ask for
// a signed-in account, since a communications lead need not be a responder.

// commsView is what the section shows.
type commsView struct {
	Link      *tocsin.PublicLink
	Speaker   *tocsin.RoleHolder
	CanLink   bool // create or link the public incident, set the cadence
	CanSpeak  bool // publish a public update
	CanDraft  bool // assemble the post-mortem (responders)
	Every     string
	Minutes   int // the incident's own cadence in minutes; 0 the default
	Default   string
	LastAt    string
	LastAgo   string
	DueAt     string
	Overdue   string             // how late the update is, "" when not
	NoCadence string             // why no cadence runs, "" when one does
	Incidents []*tocsin.Incident // open public incidents to link
	Services  []serviceChoice
	Form      incidentForm
	// Postmortem is the public incident's, nil when it has none.
	Postmortem *tocsin.Postmortem
	Statuses   []tocsin.IncidentStatus
	Impacts    []tocsin.Impact
	SvcStatus  []tocsin.ServiceStatus
}

// actorRoles are the roles of whoever makes the request.
func actorRoles(st *reqState) tocsin.Roles {
	switch {
	case st.user != nil:
		return st.user.Roles
	case st.token != nil:
		return st.token.Roles
	}
	return nil
}

// cadence is the configured cadence.
func (s *Server) cadence() time.Duration {
	if s.cfg.Comms.Cadence > 0 {
		return s.cfg.Comms.Cadence
	}
	return tocsin.DefaultCadence
}

// roomComms reads what the communications section of inc's room shows; v
// is the room's view, for a refused form to come back as typed.
func (s *Server) roomComms(r *http.Request, inc *tocsin.SecurityIncident, v roomView) (*commsView, error) {
	st := state(r)
	lang, roles, a := st.lang, actorRoles(st), st.actor()
	c := &commsView{
		Speaker: inc.Speaker(), CanLink: inc.CheckLinkPublic(a, roles) == nil, CanSpeak: inc.CheckSpeak(a, roles) == nil,
		CanDraft: roles.Allows(tocsin.RoleResponder), Default: tocsin.FormatDuration(s.cadence()),
		Statuses: []tocsin.IncidentStatus{tocsin.IncidentInvestigating, tocsin.IncidentIdentified, tocsin.IncidentMonitoring, tocsin.IncidentResolved},
		Impacts:  tocsin.Impacts, SvcStatus: tocsin.ServiceStatuses,
	}
	if v.Where == "comms" || v.Where == "comms-update" {
		c.Form = incidentFormOf(v.Form)
	} else {
		c.Form = incidentForm{Publish: true, Impact: string(tocsin.ImpactMinor), Status: string(tocsin.IncidentInvestigating)}
	}
	l, err := s.store.PublicLink(r.Context(), inc.ID)
	switch tocsin.ErrorCode(err) {
	case "":
	case tocsin.ENOTFOUND:
		if c.CanLink {
			open, notMaint := true, false
			if c.Incidents, err = s.store.Incidents(r.Context(), tocsin.IncidentFilter{Open: &open, Maintenance: &notMaint, Limit: 100}); err != nil {
				return nil, err
			}
			all, err := s.store.Services(r.Context())
			if err != nil {
				return nil, err
			}
			c.Services = serviceChoices(all, c.Form.Services)
		}
		return c, nil
	default:
		return nil, err
	}
	c.Link = l
	c.Every, c.Minutes = tocsin.FormatDuration(l.Every(s.cfg.Comms.Cadence)), int(l.Cadence/time.Minute)
	now := s.now()
	if !l.LastPublic.IsZero() {
		c.LastAt = s.fmtTime(l.LastPublic)
		c.LastAgo = tocsin.FormatDuration(now.Sub(l.LastPublic).Truncate(time.Minute))
	}
	if due, ok := l.Due(s.cfg.Comms.Cadence); ok {
		c.DueAt = s.fmtTime(due)
		if now.After(due) {
			c.Overdue = tocsin.FormatDuration(now.Sub(due).Truncate(time.Minute))
		}
	} else if !l.Published {
		c.NoCadence = i18n.T(lang, "comms.no_cadence_draft")
	} else {
		c.NoCadence = i18n.T(lang, "comms.no_cadence_closed")
	}
	pm, err := s.store.Postmortem(r.Context(), l.IncidentID)
	if err != nil && tocsin.ErrorCode(err) != tocsin.ENOTFOUND {
		return nil, err
	}
	c.Postmortem = pm
	return c, nil
}

// commsEntryRow writes the automatic entries of the public side.
func (s *Server) commsEntryRow(lang string, e *tocsin.SecurityEntry, row *securityEntryRow) {
	switch e.Kind {
	case tocsin.EntryPublicLink:
		row.Text = i18n.T(lang, "comms.text.linked", e.New, e.Body)
		row.Body = ""
	case tocsin.EntryPublicUpdate:
		row.Text = i18n.T(lang, "comms.text.update", i18n.T(lang, "public.incident_status."+e.Subject))
	case tocsin.EntryCadence:
		if t, err := time.Parse(time.RFC3339, e.Old); err == nil {
			row.Text = i18n.T(lang, "comms.text.reminded", e.Subject, s.fmtTime(t), e.New)
		}
	case tocsin.EntryPostmortem:
		row.Text = i18n.T(lang, "comms.text.postmortem", e.New, e.Subject)
	}
}

// checkComms reads incident id and applies check to the request's actor.
func (s *Server) checkComms(r *http.Request, id int64, check func(*tocsin.SecurityIncident, tocsin.Actor, tocsin.Roles) error) error {
	inc, err := s.store.SecurityIncident(r.Context(), id)
	if err != nil {
		return err
	}
	st := state(r)
	return check(inc, st.actor(), actorRoles(st))
}

// linkPublicIncident creates the public incident from the form, or links
// the one chosen ("incident" holds its number).
func (s *Server) linkPublicIncident(r *http.Request, a tocsin.Actor, id int64) error {
	if err := s.checkComms(r, id, (*tocsin.SecurityIncident).CheckLinkPublic); err != nil {
		return err
	}
	f := r.PostForm
	if v := strings.TrimSpace(f.Get("incident")); v != "" {
		other, err := strconv.ParseInt(strings.TrimPrefix(v, "#"), 10, 64)
		if err != nil {
			return tocsin.Errorf(tocsin.EINVALID, "give the number of the public incident").WithKey("comms.incident_number")
		}
		err = s.store.LinkPublicIncident(r.Context(), a, id, other)
		if tocsin.ErrorCode(err) == tocsin.ENOTFOUND {
			// The form's to fix, not a missing page.
			return tocsin.Errorf(tocsin.EINVALID, "there is no public incident #%d", other).WithKey("comms.incident_unknown", other)
		}
		return err
	}
	form := incidentFormOf(f)
	inc := &tocsin.Incident{Title: form.Title, Impact: tocsin.Impact(strings.TrimSpace(form.Impact)), Services: form.Services, ShowOnSites: form.ShowOnSites}
	first := &tocsin.Update{Status: tocsin.IncidentStatus(strings.TrimSpace(form.Status)), Body: form.Body}
	if form.Publish {
		at := s.now() // the store dates it by its clock
		inc.PublishedAt = &at
	}
	if err := s.store.CreatePublicIncident(r.Context(), a, id, inc, first, nil); err != nil {
		return err
	}
	s.refreshAfter(r.Context())
	return nil
}

func (s *Server) publishPublicUpdate(r *http.Request, a tocsin.Actor, id int64) error {
	if err := s.checkComms(r, id, (*tocsin.SecurityIncident).CheckSpeak); err != nil {
		return err
	}
	u := &tocsin.Update{Status: tocsin.IncidentStatus(strings.TrimSpace(r.PostForm.Get("status"))), Body: r.PostForm.Get("body")}
	if err := s.store.PublishSecurityUpdate(r.Context(), a, id, u, nil); err != nil {
		return err
	}
	s.refreshAfter(r.Context())
	return nil
}

func (s *Server) setPublicCadence(r *http.Request, a tocsin.Actor, id int64) error {
	if err := s.checkComms(r, id, (*tocsin.SecurityIncident).CheckLinkPublic); err != nil {
		return err
	}
	v := strings.TrimSpace(r.PostForm.Get("minutes"))
	n, err := strconv.Atoi(v)
	if v == "" {
		n, err = 0, nil
	}
	if err != nil || n < 0 || n > int(tocsin.MaxCadence/time.Minute) {
		return tocsin.Errorf(tocsin.EINVALID, "a cadence is a whole number of minutes").WithKey("comms.cadence_invalid")
	}
	return s.store.SetCadence(r.Context(), a, id, time.Duration(n)*time.Minute)
}

// assemblePostmortem drafts the post-mortem of incident id's public
// incident from its timeline, decisions and key moments, in the reader's
// language, and saves it as a new version; refused when one exists (the
// editor then has it).
func assemblePostmortem(s *Server, r *http.Request, a tocsin.Actor, id int64) (int64, error) {
	inc, err := s.store.SecurityIncident(r.Context(), id)
	if err != nil {
		return 0, err
	}
	l, err := s.store.PublicLink(r.Context(), id)
	if err != nil {
		if tocsin.ErrorCode(err) == tocsin.ENOTFOUND {
			return 0, tocsin.Errorf(tocsin.ECONFLICT, "link a public incident first").WithKey("comms.link_first")
		}
		return 0, err
	}
	if _, err := s.store.Postmortem(r.Context(), l.IncidentID); err == nil {
		return l.IncidentID, tocsin.Errorf(tocsin.ECONFLICT, "public incident #%d has a post-mortem already: edit it there", l.IncidentID).
			WithKey("comms.postmortem_exists", l.IncidentID)
	} else if tocsin.ErrorCode(err) != tocsin.ENOTFOUND {
		return 0, err
	}
	pub, err := s.store.Incident(r.Context(), l.IncidentID)
	if err != nil {
		return 0, err
	}
	var entries []*tocsin.SecurityEntry
	for offset := 0; ; offset += 1000 {
		page, total, err := s.store.Timeline(r.Context(), id, tocsin.TimelineFilter{Limit: 1000, Offset: offset})
		if err != nil {
			return 0, err
		}
		entries = append(entries, page...)
		if len(page) == 0 || offset+len(page) >= total {
			break
		}
	}
	lang := state(r).lang
	p := tocsin.AssemblePostmortem(inc, entries, pub, func(key string, args ...any) string { return i18n.T(lang, key, args...) })
	if err := s.store.SaveSecurityPostmortem(r.Context(), a, id, p); err != nil {
		return 0, err
	}
	return l.IncidentID, nil
}

// draftPostmortem assembles the draft and opens it in the editor.
func (s *Server) draftPostmortem(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	pub, err := assemblePostmortem(s, r, state(r).actor(), id)
	if err != nil {
		if tocsin.ErrorCode(err) == tocsin.ECONFLICT || tocsin.ErrorCode(err) == tocsin.EINVALID {
			return s.roomRefused(w, r, id, "comms-postmortem", err)
		}
		return err
	}
	http.Redirect(w, r, "/console/incidents/"+strconv.FormatInt(pub, 10)+"#postmortem", http.StatusSeeOther)
	return nil
}
