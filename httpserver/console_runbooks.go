package httpserver

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/tocsin-org/tocsin"
	"github.com/tocsin-org/tocsin/i18n"
)

// The console's runbooks: viewers read them and their versions,
// responders write them. Each save that changes the text is a new version.

func (s *Server) runbooks(w http.ResponseWriter, r *http.Request) error {
	return s.renderRunbooks(w, r, http.StatusOK, "", url.Values{"markdown": {"# \n\n- [ ] (owner: lead, due: 30m)\n"}})
}

func (s *Server) renderRunbooks(w http.ResponseWriter, r *http.Request, status int, errMsg string, form url.Values) error {
	list, err := s.store.Runbooks(r.Context())
	if err != nil {
		return err
	}
	rows := make([]runbookRow, len(list))
	for i, rb := range list {
		rows[i] = runbookRow{Runbook: rb, Updated: s.fmtTime(rb.UpdatedAt)}
	}
	s.render(w, r, status, "runbooks", map[string]any{
		"Runbooks": rows, "Error": errMsg, "Form": form,
		"CanWork": state(r).user.Roles.Allows(tocsin.RoleResponder),
	})
	return nil
}

type runbookRow struct {
	*tocsin.Runbook
	Updated string
}

func (s *Server) createRunbook(w http.ResponseWriter, r *http.Request) error {
	f := r.PostForm
	rb := &tocsin.Runbook{Slug: strings.TrimSpace(f.Get("slug")), Lang: f.Get("lang"), Markdown: f.Get("markdown")}
	if err := s.store.SaveRunbook(r.Context(), state(r).actor(), rb); err != nil {
		if c := tocsin.ErrorCode(err); c != tocsin.EINVALID && c != tocsin.ECONFLICT {
			return err
		}
		return s.renderRunbooks(w, r, statusOf(tocsin.ErrorCode(err)), s.localized(r, err), f)
	}
	return s.renderRunbook(w, r, rb.ID, http.StatusOK, runbookView{Flash: i18n.T(state(r).lang, "runbook.created")})
}

// runbookView is what the runbook page shows besides the runbook: a
// message, and the typed text with its refusal or its check.
type runbookView struct {
	Flash    string
	Error    string
	Checked  string
	Markdown *string
}

func (s *Server) runbook(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	return s.renderRunbook(w, r, id, http.StatusOK, runbookView{})
}

// renderRunbook shows runbook id (the version ?version= names, else the
// current one), its versions and the edit form.
func (s *Server) renderRunbook(w http.ResponseWriter, r *http.Request, id int64, status int, v runbookView) error {
	current, err := s.store.Runbook(r.Context(), id, 0)
	if err != nil {
		return err
	}
	shown := current
	if q := r.URL.Query().Get("version"); q != "" {
		n, err := strconv.Atoi(q)
		if err != nil || n < 1 {
			return tocsin.Errorf(tocsin.ENOTFOUND, "no such version")
		}
		if shown, err = s.store.Runbook(r.Context(), id, n); err != nil {
			return err
		}
	}
	versions, err := s.store.RunbookVersions(r.Context(), id)
	if err != nil {
		return err
	}
	type versionRow struct {
		tocsin.RunbookVersion
		Created string
	}
	rows := make([]versionRow, len(versions))
	for i, vr := range versions {
		rows[i] = versionRow{vr, s.fmtTime(vr.CreatedAt)}
	}
	type itemRow struct {
		tocsin.RunbookItem
		DueText string
	}
	items := make([]itemRow, len(shown.Items))
	for i, it := range shown.Items {
		items[i].RunbookItem = it
		if it.Due > 0 {
			items[i].DueText = tocsin.FormatDuration(it.Due)
		}
	}
	markdown := current.Markdown
	if v.Markdown != nil {
		markdown = *v.Markdown
	}
	lr := r.Clone(r.Context())
	lr.URL.Path = "/console/runbooks/" + strconv.FormatInt(id, 10)
	s.render(w, lr, status, "runbook", map[string]any{
		"Runbook": shown, "Items": items, "Current": current, "Old": shown.Version != current.Version, "Versions": rows,
		"Markdown": markdown, "Flash": v.Flash, "Error": v.Error, "Checked": v.Checked,
		"CanWork": state(r).user.Roles.Allows(tocsin.RoleResponder),
	})
	return nil
}

// saveRunbook stores the edited text as a new version, or with "check"
// only reads it and says what is wrong with it.
func (s *Server) saveRunbook(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	md := r.PostForm.Get("markdown")
	lang := state(r).lang
	if r.PostForm.Get("check") != "" {
		rb, err := tocsin.ParseRunbook(md)
		if err != nil {
			return s.renderRunbook(w, r, id, http.StatusOK, runbookView{Error: s.localized(r, err), Markdown: &md})
		}
		return s.renderRunbook(w, r, id, http.StatusOK, runbookView{Checked: i18n.T(lang, "runbook.ok", len(rb.Items)), Markdown: &md})
	}
	rb := &tocsin.Runbook{ID: id, Markdown: md}
	if err := s.store.SaveRunbook(r.Context(), state(r).actor(), rb); err != nil {
		if tocsin.ErrorCode(err) != tocsin.EINVALID {
			return err
		}
		return s.renderRunbook(w, r, id, http.StatusBadRequest, runbookView{Error: s.localized(r, err), Markdown: &md})
	}
	return s.renderRunbook(w, r, id, http.StatusOK, runbookView{Flash: i18n.T(lang, "runbook.saved")})
}
