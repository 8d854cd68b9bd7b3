package httpserver

import (
	"html/template"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/tocsin-org/tocsin"
	"github.com/tocsin-org/tocsin/i18n"
)

// The post-mortem of an incident, on the incident's console page: staff
// read it and its standing; responders write it; an approver who wrote
// none of it approves it; a communicator publishes it.

// postmortemForm is the writing form as typed, so that a refused form
// comes back as it was.
type postmortemForm struct {
	Summary, Timeline, Impact, RootCause, WentWell, Changes string
}

func postmortemFormOf(f url.Values) postmortemForm {
	return postmortemForm{
		Summary: f.Get("summary"), Timeline: f.Get("timeline"), Impact: f.Get("impact"), RootCause: f.Get("root_cause"),
		WentWell: f.Get("went_well"), Changes: f.Get("changes"),
	}
}

// postmortemPanel is what the incident page shows of the post-mortem.
type postmortemPanel struct {
	PM           *tocsin.Postmortem // nil when there is none yet
	Sections     []postmortemSection
	Timeline     []timelineRow
	Contributors string
	ApprovedAt   string
	PublishedAt  string
	Form         postmortemForm
	// OwnText: the reader wrote or edited it, so may not approve it.
	OwnText bool
}

type postmortemSection struct {
	Key  string
	HTML template.HTML
}

type timelineRow struct {
	At   string
	HTML template.HTML
}

// postmortemPanel reads incident id's post-mortem for the page; form, when
// set, is the writing form as the reader typed it.
func (s *Server) postmortemPanel(r *http.Request, id int64, form *postmortemForm) (*postmortemPanel, error) {
	pm, err := s.store.Postmortem(r.Context(), id)
	if tocsin.ErrorCode(err) == tocsin.ENOTFOUND {
		pm, err = nil, nil
	}
	if err != nil {
		return nil, err
	}
	p := &postmortemPanel{PM: pm}
	if pm != nil {
		for _, sec := range []struct{ key, body string }{{"postmortems.summary", pm.Summary}, {"postmortems.impact", pm.Impact},
			{"postmortems.root_cause", pm.RootCause}, {"postmortems.went_well", pm.WentWell}, {"postmortems.changes", pm.Changes}} {
			if sec.body != "" {
				p.Sections = append(p.Sections, postmortemSection{sec.key, renderMarkdown(sec.body)})
			}
		}
		for _, e := range pm.Timeline {
			p.Timeline = append(p.Timeline, timelineRow{s.fmtTime(e.At), renderMarkdown(e.Text)})
		}
		labels := make([]string, len(pm.Contributors))
		for i, c := range pm.Contributors {
			labels[i] = c.Label
		}
		p.Contributors = strings.Join(labels, ", ")
		if pm.ApprovedAt != nil {
			p.ApprovedAt = s.fmtTime(*pm.ApprovedAt)
		}
		if pm.PublishedAt != nil {
			p.PublishedAt = s.fmtTime(*pm.PublishedAt)
		}
		p.OwnText = pm.ContributedBy(tocsin.ActorKey(state(r).actor()))
		p.Form = postmortemForm{Summary: pm.Summary, Timeline: formatTimeline(pm.Timeline, s.loc), Impact: pm.Impact,
			RootCause: pm.RootCause, WentWell: pm.WentWell, Changes: pm.Changes}
	}
	if form != nil {
		p.Form = *form
	}
	return p, nil
}

// postmortemRefused shows the incident again with err's message in the
// post-mortem section when err is the reader's to act on: invalid input, a
// conflict (stale, not approved, published), or a refusal to approve one's
// own text.
func (s *Server) postmortemRefused(w http.ResponseWriter, r *http.Request, id int64, form *postmortemForm, err error) error {
	code := tocsin.ErrorCode(err)
	if code != tocsin.EINVALID && code != tocsin.ECONFLICT && code != tocsin.EFORBIDDEN {
		return err
	}
	return s.renderIncident(w, r, id, statusOf(code), incidentView{Where: "postmortem", Error: s.localized(r, err), Postmortem: form})
}

func (s *Server) savePostmortem(w http.ResponseWriter, r *http.Request) error {
	st := state(r)
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	form := postmortemFormOf(r.PostForm)
	old, err := s.store.Postmortem(r.Context(), id)
	if err != nil && tocsin.ErrorCode(err) != tocsin.ENOTFOUND {
		return err
	}
	pm := &tocsin.Postmortem{IncidentID: id, Summary: form.Summary, Impact: form.Impact, RootCause: form.RootCause,
		WentWell: form.WentWell, Changes: form.Changes}
	pm.Timeline, err = parseTimeline(form.Timeline, s.loc)
	if err == nil {
		err = s.store.SavePostmortem(r.Context(), st.actor(), pm)
	}
	if err != nil {
		return s.postmortemRefused(w, r, id, &form, err)
	}
	s.refreshAfter(r.Context())
	key := "postmortems.saved"
	if old != nil && old.Status == tocsin.PostmortemApproved && pm.Revision != old.Revision {
		key = "postmortems.saved_withdrawn"
	}
	return s.renderIncident(w, r, id, http.StatusOK, incidentView{Flash: i18n.T(st.lang, key, pm.Revision)})
}

func (s *Server) approvePostmortem(w http.ResponseWriter, r *http.Request) error {
	st := state(r)
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	// The version the approver read: a text edited since is not approved.
	revision, _ := strconv.Atoi(strings.TrimSpace(r.PostForm.Get("revision")))
	if err := s.store.ApprovePostmortem(r.Context(), st.actor(), st.user.Roles, id, revision); err != nil {
		return s.postmortemRefused(w, r, id, nil, err)
	}
	s.refreshAfter(r.Context())
	return s.renderIncident(w, r, id, http.StatusOK, incidentView{Flash: i18n.T(st.lang, "postmortems.approved")})
}

func (s *Server) publishPostmortem(w http.ResponseWriter, r *http.Request) error {
	st := state(r)
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	if err := s.store.PublishPostmortem(r.Context(), st.actor(), id, nil); err != nil {
		return s.postmortemRefused(w, r, id, nil, err)
	}
	s.refreshAfter(r.Context())
	return s.renderIncident(w, r, id, http.StatusOK, incidentView{Flash: i18n.T(st.lang, "postmortems.published")})
}
