package httpserver

import (
	"net/http"
	"strconv"
	"time"

	"github.com/tocsin-org/tocsin"
)

// The on-call API: rotas, overrides, the escalation policy and contacts
// (admins), pages (viewers read, responders open and acknowledge).

type pageJSON struct {
	ID                 int64          `json:"id"`
	SignalID           *int64         `json:"signal_id"`
	SecurityIncidentID *int64         `json:"security_incident_id"`
	Subject            string         `json:"subject"`
	State              string         `json:"state"`
	Step               int            `json:"step"`
	NextAt             *time.Time     `json:"next_at"`
	OpenedBy           string         `json:"opened_by"`
	OpenedAt           time.Time      `json:"opened_at"`
	AcknowledgedBy     string         `json:"acknowledged_by"`
	AcknowledgedAt     *time.Time     `json:"acknowledged_at"`
	TTA                *int64         `json:"time_to_acknowledge_seconds"`
	Paged              []pageSentJSON `json:"paged"`
}

type pageSentJSON struct {
	UserID   int64     `json:"user_id"`
	Email    string    `json:"email"`
	Level    int       `json:"level"`
	Round    int       `json:"round"`
	Step     int       `json:"step"`
	Messages int       `json:"messages"`
	PagedAt  time.Time `json:"paged_at"`
}

func toPageJSON(p *tocsin.Page) pageJSON {
	out := pageJSON{ID: p.ID, SignalID: p.SignalID, SecurityIncidentID: p.SecurityIncidentID, Subject: p.Subject, State: string(p.State),
		Step: p.Step, NextAt: p.NextAt, OpenedBy: p.OpenedBy, OpenedAt: p.OpenedAt, AcknowledgedBy: p.AcknowledgedBy,
		AcknowledgedAt: p.AcknowledgedAt, Paged: []pageSentJSON{}}
	if p.AcknowledgedAt != nil {
		s := int64(p.TimeToAcknowledge() / time.Second)
		out.TTA = &s
	}
	for _, n := range p.Notifications {
		out.Paged = append(out.Paged, pageSentJSON{UserID: n.UserID, Email: n.UserLabel, Level: n.Level + 1, Round: n.Round + 1, Step: n.Step, Messages: n.Contacts, PagedAt: n.PagedAt})
	}
	return out
}

func (s *Server) apiPages(w http.ResponseWriter, r *http.Request) error {
	f := tocsin.PageFilter{Limit: 100}
	if v := r.URL.Query().Get("open"); v != "" {
		open, err := strconv.ParseBool(v)
		if err != nil {
			return tocsin.Errorf(tocsin.EINVALID, "open=%q: give true or false", v)
		}
		f.Open = open
	}
	list, err := s.store.Pages(r.Context(), f)
	if err != nil {
		return err
	}
	out := make([]pageJSON, 0, len(list))
	for _, p := range list {
		out = append(out, toPageJSON(p))
	}
	return writeJSON(w, http.StatusOK, map[string]any{"pages": out})
}

func (s *Server) writePage(w http.ResponseWriter, r *http.Request, status int, id int64) error {
	p, err := s.store.Page(r.Context(), id)
	if err != nil {
		return err
	}
	return writeJSON(w, status, toPageJSON(p))
}

func (s *Server) apiPage(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	return s.writePage(w, r, http.StatusOK, id)
}

type openPageRequest struct {
	Subject            string `json:"subject"`
	SecurityIncidentID *int64 `json:"security_incident_id"`
}

func (s *Server) apiOpenPage(w http.ResponseWriter, r *http.Request) error {
	var req openPageRequest
	if err := decodeJSON(w, r, &req); err != nil {
		return err
	}
	p := &tocsin.Page{Subject: req.Subject, SecurityIncidentID: req.SecurityIncidentID}
	if err := s.store.OpenPage(r.Context(), state(r).actor(), p); err != nil {
		return err
	}
	s.kick()
	return s.writePage(w, r, http.StatusCreated, p.ID)
}

func (s *Server) apiAcknowledgePage(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	if err := s.store.AcknowledgePage(r.Context(), state(r).actor(), id); err != nil {
		return err
	}
	return s.writePage(w, r, http.StatusOK, id)
}

type rotaJSON struct {
	ID         int64          `json:"id"`
	Name       string         `json:"name"`
	Zone       string         `json:"zone"`
	Start      time.Time      `json:"start"`
	PeriodDays int            `json:"period_days"`
	Members    []int64        `json:"members"`
	Overrides  []overrideJSON `json:"overrides"`
	OnCall     *int64         `json:"on_call"`
	ShiftEnds  *time.Time     `json:"shift_ends"`
}

type overrideJSON struct {
	ID     int64     `json:"id"`
	UserID int64     `json:"user_id"`
	From   time.Time `json:"from"`
	Until  time.Time `json:"until"`
	Note   string    `json:"note"`
}

type levelJSON struct {
	RotaID       int64   `json:"rota_id,omitempty"`
	UserIDs      []int64 `json:"user_ids"`
	DelayMinutes int     `json:"delay_minutes"`
}

type policyJSON struct {
	Levels []levelJSON `json:"levels"`
	Repeat int         `json:"repeat"`
}

func (s *Server) toRotaJSON(rt *tocsin.Rota) rotaJSON {
	out := rotaJSON{ID: rt.ID, Name: rt.Name, Zone: rt.Zone, Start: rt.Start, PeriodDays: rt.PeriodDays, Members: rt.Members, Overrides: []overrideJSON{}}
	if out.Members == nil {
		out.Members = []int64{}
	}
	for _, o := range rt.Overrides {
		out.Overrides = append(out.Overrides, overrideJSON{ID: o.ID, UserID: o.UserID, From: o.From, Until: o.Until, Note: o.Note})
	}
	now := s.now()
	if who, err := rt.OnCall(now); err == nil && who > 0 {
		out.OnCall = &who
	}
	if _, _, until, err := rt.Shift(now); err == nil {
		until = until.UTC()
		out.ShiftEnds = &until
	}
	return out
}

func (s *Server) apiOncall(w http.ResponseWriter, r *http.Request) error {
	rotas, err := s.store.Rotas(r.Context())
	if err != nil {
		return err
	}
	out := map[string]any{"rotas": []rotaJSON{}, "policy": nil}
	list := make([]rotaJSON, 0, len(rotas))
	for _, rt := range rotas {
		list = append(list, s.toRotaJSON(rt))
	}
	out["rotas"] = list
	pol, err := s.store.EscalationPolicy(r.Context())
	switch tocsin.ErrorCode(err) {
	case "":
		pj := policyJSON{Repeat: pol.Repeat, Levels: []levelJSON{}}
		for _, l := range pol.Levels {
			ids := l.UserIDs
			if ids == nil {
				ids = []int64{}
			}
			pj.Levels = append(pj.Levels, levelJSON{RotaID: l.RotaID, UserIDs: ids, DelayMinutes: int(l.Delay / time.Minute)})
		}
		out["policy"] = pj
	case tocsin.ENOTFOUND:
	default:
		return err
	}
	return writeJSON(w, http.StatusOK, out)
}

type rotaRequest struct {
	Name       string    `json:"name"`
	Zone       string    `json:"zone"`
	Start      time.Time `json:"start"`
	PeriodDays int       `json:"period_days"`
	Members    []int64   `json:"members"`
}

func (s *Server) saveRotaJSON(w http.ResponseWriter, r *http.Request, id int64, status int) error {
	var req rotaRequest
	if err := decodeJSON(w, r, &req); err != nil {
		return err
	}
	rt := &tocsin.Rota{ID: id, Name: req.Name, Zone: req.Zone, Start: req.Start, PeriodDays: req.PeriodDays, Members: req.Members}
	if err := s.store.SaveRota(r.Context(), state(r).actor(), rt); err != nil {
		return err
	}
	saved, err := s.store.Rota(r.Context(), rt.ID)
	if err != nil {
		return err
	}
	return writeJSON(w, status, s.toRotaJSON(saved))
}

func (s *Server) apiCreateRota(w http.ResponseWriter, r *http.Request) error {
	return s.saveRotaJSON(w, r, 0, http.StatusCreated)
}

func (s *Server) apiUpdateRota(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	return s.saveRotaJSON(w, r, id, http.StatusOK)
}

func (s *Server) apiDeleteRota(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	if err := s.store.DeleteRota(r.Context(), state(r).actor(), id); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

type overrideRequest struct {
	UserID int64     `json:"user_id"`
	From   time.Time `json:"from"`
	Until  time.Time `json:"until"`
	Note   string    `json:"note"`
}

func (s *Server) apiAddOverride(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	var req overrideRequest
	if err := decodeJSON(w, r, &req); err != nil {
		return err
	}
	o := &tocsin.Override{UserID: req.UserID, From: req.From, Until: req.Until, Note: req.Note}
	if err := s.store.AddOverride(r.Context(), state(r).actor(), id, o); err != nil {
		return err
	}
	rt, err := s.store.Rota(r.Context(), id)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, s.toRotaJSON(rt))
}

func (s *Server) apiDeleteOverride(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	oid, err := pathID(r, "override")
	if err != nil {
		return err
	}
	if err := s.store.DeleteOverride(r.Context(), state(r).actor(), id, oid); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) apiSetPolicy(w http.ResponseWriter, r *http.Request) error {
	var req policyJSON
	if err := decodeJSON(w, r, &req); err != nil {
		return err
	}
	p := &tocsin.EscalationPolicy{Repeat: req.Repeat}
	for _, l := range req.Levels {
		d := time.Duration(l.DelayMinutes) * time.Minute
		if l.DelayMinutes < 0 {
			d = -1
		}
		p.Levels = append(p.Levels, tocsin.EscalationLevel{RotaID: l.RotaID, UserIDs: l.UserIDs, Delay: d})
	}
	if err := s.store.SetEscalationPolicy(r.Context(), state(r).actor(), p); err != nil {
		return err
	}
	return s.apiOncall(w, r)
}

type contactJSON struct {
	ID      int64     `json:"id"`
	Kind    string    `json:"kind"`
	Address string    `json:"address"`
	Created time.Time `json:"created_at"`
}

func (s *Server) writeContacts(w http.ResponseWriter, r *http.Request, user int64) error {
	if _, err := s.store.User(r.Context(), user); err != nil {
		return err
	}
	cs, err := s.store.Contacts(r.Context(), user)
	if err != nil {
		return err
	}
	out := make([]contactJSON, 0, len(cs))
	for _, c := range cs {
		out = append(out, contactJSON{ID: c.ID, Kind: string(c.Kind), Address: c.Address, Created: c.CreatedAt})
	}
	return writeJSON(w, http.StatusOK, map[string]any{"contacts": out})
}

func (s *Server) apiContacts(w http.ResponseWriter, r *http.Request) error {
	user, err := pathID(r, "user")
	if err != nil {
		return err
	}
	return s.writeContacts(w, r, user)
}

func (s *Server) apiAddContact(w http.ResponseWriter, r *http.Request) error {
	user, err := pathID(r, "user")
	if err != nil {
		return err
	}
	var req struct {
		Kind    string `json:"kind"`
		Address string `json:"address"`
	}
	if err := decodeJSON(w, r, &req); err != nil {
		return err
	}
	if err := s.store.AddContact(r.Context(), state(r).actor(), &tocsin.Contact{UserID: user, Kind: tocsin.ContactKind(req.Kind), Address: req.Address}); err != nil {
		return err
	}
	return s.writeContacts(w, r, user)
}

func (s *Server) apiDeleteContact(w http.ResponseWriter, r *http.Request) error {
	user, err := pathID(r, "user")
	if err != nil {
		return err
	}
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	if err := s.store.DeleteContact(r.Context(), state(r).actor(), user, id); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
