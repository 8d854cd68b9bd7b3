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

// serviceFields are a service's editable fields as a form holds them, so
// that a refused form comes back with what was typed.
type serviceFields struct {
	Name, Group, Description, Link, Position string
}

func fieldsOf(s *tocsin.Service) serviceFields {
	return serviceFields{s.Name, s.Group, s.Description, s.Link, strconv.Itoa(s.Position)}
}

func formFields(f url.Values) serviceFields {
	return serviceFields{f.Get("name"), f.Get("group"), f.Get("description"), f.Get("link"), f.Get("position")}
}

// service turns the fields into a service to store; the store validates
// the rest. An empty position is 0, the top of its group.
func (f serviceFields) service() (*tocsin.Service, error) {
	pos := 0
	if p := strings.TrimSpace(f.Position); p != "" {
		n, err := strconv.Atoi(p)
		if err != nil {
			return nil, tocsin.Errorf(tocsin.EINVALID, "position %q: give a number from 0 to 10000", f.Position).
				WithKey("services.position_not_number", f.Position)
		}
		pos = n
	}
	return &tocsin.Service{Name: f.Name, Group: f.Group, Description: f.Description, Link: f.Link, Position: pos}, nil
}

// serviceForm is what the template of a service's fields needs: the
// prefix of its element IDs (the page has one form per service), the
// language and the values.
type serviceForm struct {
	ID, Lang string
	Form     serviceFields
}

// serviceRow is one line of the list, with its edit form's values and the
// error of the action just refused on it, if any.
type serviceRow struct {
	*tocsin.Service
	Edit  serviceForm
	Open  bool // the edit form was refused: show it open with what was typed
	Error string
}

type serviceGroup struct {
	Name string // "" for the services without a group
	Rows []*serviceRow
}

// servicesView is what the list shows besides the services: a message on
// one service (Row) or on the creation form, and the creation form's
// values after a refusal.
type servicesView struct {
	Flash string
	Row   int64 // the service Error and Form are about; 0 for the creation form
	Error string
	Form  *serviceFields
}

func (s *Server) services(w http.ResponseWriter, r *http.Request) error {
	return s.renderServices(w, r, http.StatusOK, servicesView{})
}

// renderServices shows the list, grouped as on the public page. Every form
// of the page answers with it, so the layout is given the list's path: the
// menu marks it, and the language switch comes back to it rather than to a
// POST-only address.
func (s *Server) renderServices(w http.ResponseWriter, r *http.Request, status int, v servicesView) error {
	list, err := s.store.Services(r.Context())
	if err != nil {
		return err
	}
	lang := state(r).lang
	var groups []*serviceGroup
	var groupNames []string
	for _, svc := range list {
		if len(groups) == 0 || groups[len(groups)-1].Name != svc.Group {
			groups = append(groups, &serviceGroup{Name: svc.Group})
			if svc.Group != "" {
				groupNames = append(groupNames, svc.Group)
			}
		}
		row := &serviceRow{Service: svc, Edit: serviceForm{"edit-" + strconv.FormatInt(svc.ID, 10), lang, fieldsOf(svc)}}
		if v.Row == svc.ID {
			row.Error = v.Error
			if v.Form != nil {
				row.Edit.Form, row.Open = *v.Form, true
			}
		}
		groups[len(groups)-1].Rows = append(groups[len(groups)-1].Rows, row)
	}
	roles := state(r).user.Roles
	data := map[string]any{
		"Groups":       groups,
		"GroupNames":   groupNames,
		"Statuses":     tocsin.ServiceStatuses,
		"CanEdit":      roles.Allows(tocsin.RoleAdmin),
		"CanSetStatus": roles.Allows(tocsin.RoleCommunicator),
		"Flash":        v.Flash,
	}
	newForm := serviceForm{"new", lang, serviceFields{Position: "0"}}
	if v.Row == 0 {
		data["Error"] = v.Error
		if v.Form != nil {
			newForm.Form = *v.Form
		}
	}
	data["New"] = newForm
	lr := r.Clone(r.Context())
	lr.URL.Path = "/console/services"
	s.render(w, lr, status, "services", data)
	return nil
}

// serviceRefused shows the list again with err's message on the service id
// (0: the creation form) when err is the user's to fix; other errors go to
// the error page. Conflicts carry no i18n key from the store, so they are
// told here: the service belongs to the configuration file, or its name is
// taken.
func (s *Server) serviceRefused(w http.ResponseWriter, r *http.Request, id int64, form *serviceFields, err error) error {
	code := tocsin.ErrorCode(err)
	msg := s.localized(r, err)
	switch code {
	case tocsin.EINVALID:
	case tocsin.ECONFLICT:
		lang := state(r).lang
		if old, gerr := s.store.Service(r.Context(), id); id != 0 && gerr == nil && old.ConfigManaged {
			msg = i18n.T(lang, "services.config_managed", old.Name)
		} else if form != nil {
			msg = i18n.T(lang, "services.name_taken", strings.TrimSpace(form.Name))
		}
	default:
		return err
	}
	return s.renderServices(w, r, statusOf(code), servicesView{Row: id, Error: msg, Form: form})
}

func (s *Server) createService(w http.ResponseWriter, r *http.Request) error {
	st := state(r)
	form := formFields(r.PostForm)
	svc, err := form.service()
	if err == nil {
		err = s.store.CreateService(r.Context(), st.actor(), svc)
	}
	if err != nil {
		return s.serviceRefused(w, r, 0, &form, err)
	}
	s.refreshAfter(r.Context())
	return s.renderServices(w, r, http.StatusOK, servicesView{Flash: i18n.T(st.lang, "services.created", svc.Name)})
}

func (s *Server) editService(w http.ResponseWriter, r *http.Request) error {
	st := state(r)
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	form := formFields(r.PostForm)
	svc, err := form.service()
	if err == nil {
		svc.ID = id
		err = s.store.UpdateService(r.Context(), st.actor(), svc)
	}
	if err != nil {
		return s.serviceRefused(w, r, id, &form, err)
	}
	s.refreshAfter(r.Context())
	return s.renderServices(w, r, http.StatusOK, servicesView{Flash: i18n.T(st.lang, "services.updated", svc.Name)})
}

func (s *Server) deleteService(w http.ResponseWriter, r *http.Request) error {
	st := state(r)
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	svc, err := s.store.Service(r.Context(), id) // for its name in the message
	if err != nil {
		return err
	}
	if err := s.store.DeleteService(r.Context(), st.actor(), id); err != nil {
		return s.serviceRefused(w, r, id, nil, err)
	}
	s.refreshAfter(r.Context())
	return s.renderServices(w, r, http.StatusOK, servicesView{Flash: i18n.T(st.lang, "services.deleted", svc.Name)})
}

func (s *Server) setServiceStatus(w http.ResponseWriter, r *http.Request) error {
	st := state(r)
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	status, err := tocsin.ParseServiceStatus(r.PostForm.Get("status"))
	if err == nil {
		err = s.changeStatus(r, id, status)
	}
	if err != nil {
		return s.serviceRefused(w, r, id, nil, err)
	}
	svc, err := s.store.Service(r.Context(), id)
	if err != nil {
		return err
	}
	msg := i18n.T(st.lang, "services.status_set", svc.Name, i18n.T(st.lang, "status."+string(svc.Status)))
	return s.renderServices(w, r, http.StatusOK, servicesView{Flash: msg})
}

// changeStatus records a service's new status and rebuilds the public site;
// the console and the API share it. The change is dated by the store's
// clock, the one that dates the service's creation and the rest of its
// history, so that the history stays in order.
func (s *Server) changeStatus(r *http.Request, id int64, status tocsin.ServiceStatus) error {
	if err := s.store.SetServiceStatus(r.Context(), state(r).actor(), id, status, time.Time{}); err != nil {
		return err
	}
	s.refreshAfter(r.Context())
	return nil
}

// unpinServiceConsole returns a service whose status was set by hand to
// the status its checks give it.
func (s *Server) unpinServiceConsole(w http.ResponseWriter, r *http.Request) error {
	st := state(r)
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	if err := s.store.UnpinServiceStatus(r.Context(), st.actor(), id); err != nil {
		return s.serviceRefused(w, r, id, nil, err)
	}
	s.refreshAfter(r.Context())
	svc, err := s.store.Service(r.Context(), id)
	if err != nil {
		return err
	}
	msg := i18n.T(st.lang, "services.unpinned", svc.Name, i18n.T(st.lang, "status."+string(svc.Status)))
	return s.renderServices(w, r, http.StatusOK, servicesView{Flash: msg})
}
