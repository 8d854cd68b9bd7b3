package httpserver

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/tocsin-org/tocsin"
	"github.com/tocsin-org/tocsin/i18n"
)

// Pages in the console: who was paged when, at which level, who
// acknowledged and how long it took. Responders acknowledge here or open a
// page by hand for a security incident. The one-click link of a page's
// message (/ack/TOKEN) shows a button: a GET never acknowledges, since
// mail scanners fetch links; the POST carries the CSRF token.

type pageRow struct {
	*tocsin.Page
	Opened, Acknowledged, Next, TTA string
	Paged                           []pagedRow
}

type pagedRow struct {
	Who, At      string
	Level, Round int
}

func (s *Server) pageRow(p *tocsin.Page) pageRow {
	row := pageRow{Page: p, Opened: s.fmtTime(p.OpenedAt)}
	if p.AcknowledgedAt != nil {
		row.Acknowledged = s.fmtTime(*p.AcknowledgedAt)
		row.TTA = tocsin.FormatDuration(p.TimeToAcknowledge())
	}
	if p.NextAt != nil {
		row.Next = s.fmtTime(*p.NextAt)
	}
	for _, n := range p.Notifications {
		row.Paged = append(row.Paged, pagedRow{Who: n.UserLabel, At: s.fmtTime(n.PagedAt), Level: n.Level + 1, Round: n.Round + 1})
	}
	return row
}

type pagesView struct {
	Flash, Error, Subject, Incident string
	status                          int
}

func (s *Server) consolePages(w http.ResponseWriter, r *http.Request) error {
	return s.renderPages(w, r, pagesView{status: http.StatusOK})
}

func (s *Server) renderPages(w http.ResponseWriter, r *http.Request, v pagesView) error {
	st := state(r)
	list, err := s.store.Pages(r.Context(), tocsin.PageFilter{Limit: 200})
	if err != nil {
		return err
	}
	var open, done []pageRow
	for _, p := range list {
		if p.State == tocsin.PageAcknowledged {
			done = append(done, s.pageRow(p))
		} else {
			open = append(open, s.pageRow(p))
		}
	}
	lr := r.Clone(r.Context())
	lr.URL.Path = "/console/pages"
	s.render(w, lr, v.status, "pages", map[string]any{
		"Open": open, "Done": done, "CanAct": st.user.Roles.Allows(tocsin.RoleResponder),
		"Flash": v.Flash, "Error": v.Error, "Subject": v.Subject, "Incident": v.Incident,
	})
	return nil
}

func (s *Server) acknowledgePageConsole(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	st := state(r)
	if err := s.store.AcknowledgePage(r.Context(), st.actor(), id); err != nil {
		if tocsin.ErrorCode(err) != tocsin.ECONFLICT {
			return err
		}
		return s.renderPages(w, r, pagesView{status: http.StatusConflict, Error: s.localized(r, err)})
	}
	return s.renderPages(w, r, pagesView{status: http.StatusOK, Flash: i18n.T(st.lang, "pages.acknowledged_flash")})
}

// openPageConsole pages the on-call person by hand, about a security
// incident when one is named.
func (s *Server) openPageConsole(w http.ResponseWriter, r *http.Request) error {
	st := state(r)
	v := pagesView{Subject: r.PostForm.Get("subject"), Incident: strings.TrimSpace(r.PostForm.Get("incident"))}
	p := &tocsin.Page{Subject: v.Subject}
	if v.Incident != "" {
		id, err := strconv.ParseInt(v.Incident, 10, 64)
		if err != nil || id <= 0 {
			v.status, v.Error = http.StatusBadRequest, i18n.T(st.lang, "pages.incident_invalid")
			return s.renderPages(w, r, v)
		}
		p.SecurityIncidentID = &id
	}
	if err := s.store.OpenPage(r.Context(), st.actor(), p); err != nil {
		code := tocsin.ErrorCode(err)
		if code != tocsin.EINVALID && code != tocsin.ENOTFOUND {
			return err
		}
		v.status, v.Error = statusOf(code), s.localized(r, err)
		return s.renderPages(w, r, v)
	}
	s.kick()
	return s.renderPages(w, r, pagesView{status: http.StatusOK, Flash: i18n.T(st.lang, "pages.opened_flash")})
}

// ackLink checks the token of an acknowledgement link and returns what it
// names; a forged or expired link gets a page that says so, nothing more.
func (s *Server) ackLink(w http.ResponseWriter, r *http.Request) (tocsin.PageAck, *tocsin.Page, bool, error) {
	a, err := tocsin.ParsePageAck(s.pageKey, r.PathValue("token"), s.now())
	if err != nil {
		s.renderAck(w, r, statusOf(tocsin.ErrorCode(err)), map[string]any{"Error": s.localized(r, err)})
		return a, nil, false, nil
	}
	p, err := s.store.Page(r.Context(), a.PageID)
	if tocsin.ErrorCode(err) == tocsin.ENOTFOUND {
		s.renderAck(w, r, http.StatusNotFound, map[string]any{"Error": s.localized(r, err)})
		return a, nil, false, nil
	}
	if err != nil {
		return a, nil, false, err
	}
	if p.State == tocsin.PageAcknowledged {
		s.renderAck(w, r, http.StatusConflict, map[string]any{"Page": p, "Error": i18n.T(state(r).lang, "pages.already_acknowledged",
			p.AcknowledgedBy, s.fmtTime(*p.AcknowledgedAt))})
		return a, nil, false, nil
	}
	return a, p, true, nil
}

func (s *Server) renderAck(w http.ResponseWriter, r *http.Request, status int, data map[string]any) {
	lr := r.Clone(r.Context())
	lr.URL.Path = "/ack"
	data["Action"] = r.URL.Path
	s.render(w, lr, status, "ack", data)
}

// ackForm shows the page a link acknowledges and the button.
func (s *Server) ackForm(w http.ResponseWriter, r *http.Request) error {
	_, p, ok, err := s.ackLink(w, r)
	if !ok || err != nil {
		return err
	}
	s.renderAck(w, r, http.StatusOK, map[string]any{"Page": p, "Opened": s.fmtTime(p.OpenedAt)})
	return nil
}

// ack acknowledges the page of a valid link as the person it was sent to.
func (s *Server) ack(w http.ResponseWriter, r *http.Request) error {
	a, p, ok, err := s.ackLink(w, r)
	if !ok || err != nil {
		return err
	}
	u, err := s.store.User(r.Context(), a.UserID)
	if err != nil && tocsin.ErrorCode(err) != tocsin.ENOTFOUND {
		return err
	}
	if err != nil || u.Disabled() {
		s.renderAck(w, r, http.StatusForbidden, map[string]any{"Error": i18n.T(state(r).lang, "pages.ack_disabled")})
		return nil
	}
	actor := tocsin.Actor{UserID: u.ID, Label: u.Email, IP: state(r).ip}
	if err := s.store.AcknowledgePage(r.Context(), actor, p.ID); err != nil {
		if tocsin.ErrorCode(err) != tocsin.ECONFLICT {
			return err
		}
		s.renderAck(w, r, http.StatusConflict, map[string]any{"Error": s.localized(r, err)})
		return nil
	}
	s.log.Info("page acknowledged by link", "page", p.ID, "user", u.ID)
	s.renderAck(w, r, http.StatusOK, map[string]any{"Done": true, "Page": p})
	return nil
}
