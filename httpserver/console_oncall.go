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

// /console/oncall: admins set the rotas (members in order, hand-over,
// zone), their overrides, the escalation policy and everyone's paging
// contacts. Times typed in a rota's forms are in the rota's zone.

const localMinute = "2006-01-02T15:04" // <input type="datetime-local">

// rotaRow is a rota as its form shows it: Name, Zone, Period, Start and
// Members are the stored values, or what was typed when saving them failed.
type rotaRow struct {
	*tocsin.Rota
	Name, Zone, Period, Start, Members string
	OnCall, Until                      string
	Overrides                          []overrideRow
}

type overrideRow struct {
	ID                     int64
	Who, From, Until, Note string
}

type contactRow struct {
	User     *tocsin.User
	Contacts []*tocsin.Contact
}

type levelRow struct {
	Number       int
	RotaID       int64
	People       string
	DelayMinutes int
}

type oncallView struct {
	Flash, Error string
	Form         url.Values
	status       int
}

func (s *Server) oncall(w http.ResponseWriter, r *http.Request) error {
	return s.renderOncall(w, r, oncallView{status: http.StatusOK})
}

func (s *Server) renderOncall(w http.ResponseWriter, r *http.Request, v oncallView) error {
	ctx := r.Context()
	users, err := s.store.Users(ctx)
	if err != nil {
		return err
	}
	email := map[int64]string{}
	for _, u := range users {
		email[u.ID] = u.Email
	}
	rotas, err := s.store.Rotas(ctx)
	if err != nil {
		return err
	}
	now := s.now()
	rows := make([]rotaRow, len(rotas))
	for i, rt := range rotas {
		loc, _ := rt.Location()
		row := rotaRow{Rota: rt, Start: rt.Start.In(loc).Format(localMinute)}
		if who, err := rt.OnCall(now); err == nil && who > 0 {
			row.OnCall = email[who]
		}
		if _, _, until, err := rt.Shift(now); err == nil {
			row.Until = until.In(loc).Format("2006-01-02 15:04 MST")
		}
		names := make([]string, len(rt.Members))
		for j, id := range rt.Members {
			names[j] = email[id]
		}
		row.Members = strings.Join(names, "\n")
		row.Name, row.Zone, row.Period = rt.Name, rt.Zone, strconv.Itoa(rt.PeriodDays)
		if f := v.Form; f != nil && f.Get("id") == strconv.FormatInt(rt.ID, 10) {
			row.Name, row.Zone, row.Period, row.Start, row.Members = f.Get("name"), f.Get("zone"), f.Get("period_days"), f.Get("start"), f.Get("members")
		}
		for _, o := range rt.Overrides {
			row.Overrides = append(row.Overrides, overrideRow{ID: o.ID, Who: email[o.UserID], Note: o.Note,
				From: o.From.In(loc).Format("2006-01-02 15:04 MST"), Until: o.Until.In(loc).Format("2006-01-02 15:04 MST")})
		}
		rows[i] = row
	}
	var levels []levelRow
	repeat := 0
	pol, err := s.store.EscalationPolicy(ctx)
	switch tocsin.ErrorCode(err) {
	case "":
		repeat = pol.Repeat
		for _, l := range pol.Levels {
			names := make([]string, len(l.UserIDs))
			for j, id := range l.UserIDs {
				names[j] = email[id]
			}
			levels = append(levels, levelRow{Number: len(levels) + 1, RotaID: l.RotaID, People: strings.Join(names, ", "), DelayMinutes: int(l.Delay / time.Minute)})
		}
	case tocsin.ENOTFOUND:
	default:
		return err
	}
	if len(levels) < tocsin.MaxEscalationLevels {
		levels = append(levels, levelRow{Number: len(levels) + 1, DelayMinutes: int(tocsin.DefaultEscalationDelay / time.Minute)})
	}
	contacts := make([]contactRow, 0, len(users))
	for _, u := range users {
		if u.Disabled() {
			continue
		}
		cs, err := s.store.Contacts(ctx, u.ID)
		if err != nil {
			return err
		}
		contacts = append(contacts, contactRow{User: u, Contacts: cs})
	}
	form := v.Form
	if form == nil {
		form = url.Values{}
	}
	s.render(w, r, v.status, "oncall", map[string]any{
		"Rotas": rows, "Levels": levels, "Repeat": repeat, "Contacts": contacts, "Users": users,
		"Kinds": tocsin.ContactKinds, "Flash": v.Flash, "Error": v.Error, "Form": form,
		"DefaultZone": s.loc.String(),
	})
	return nil
}

// oncallDone re-renders the page after a change: the flash, or the
// refusal with what was typed.
func (s *Server) oncallDone(w http.ResponseWriter, r *http.Request, err error, flash string) error {
	if err == nil {
		return s.renderOncall(w, r, oncallView{status: http.StatusOK, Flash: i18n.T(state(r).lang, flash)})
	}
	code := tocsin.ErrorCode(err)
	if code != tocsin.EINVALID && code != tocsin.ENOTFOUND && code != tocsin.ECONFLICT {
		return err
	}
	return s.renderOncall(w, r, oncallView{status: statusOf(code), Error: s.localized(r, err), Form: r.PostForm})
}

// usersByEmail turns a list of e-mails (commas or line breaks) into IDs.
func (s *Server) usersByEmail(r *http.Request, list string) ([]int64, error) {
	var ids []int64
	for _, e := range strings.FieldsFunc(list, func(c rune) bool { return c == ',' || c == '\n' || c == '\r' || c == ' ' || c == ';' }) {
		u, err := s.store.UserByEmail(r.Context(), strings.ToLower(e))
		if tocsin.ErrorCode(err) == tocsin.ENOTFOUND {
			return nil, tocsin.Errorf(tocsin.EINVALID, "no account has the e-mail %q", e).WithKey("oncall.email_unknown", e)
		}
		if err != nil {
			return nil, err
		}
		ids = append(ids, u.ID)
	}
	return ids, nil
}

// localTime reads a datetime-local field in zone.
func localTime(v, zone string) (time.Time, error) {
	loc, err := (&tocsin.Rota{Zone: zone}).Location()
	if err != nil {
		return time.Time{}, err
	}
	t, err := time.ParseInLocation(localMinute, strings.TrimSpace(v), loc)
	if err != nil {
		return time.Time{}, tocsin.Errorf(tocsin.EINVALID, "%q is not a date and time (YYYY-MM-DDTHH:MM)", v).WithKey("oncall.time_invalid", v)
	}
	return t, nil
}

func (s *Server) saveRota(w http.ResponseWriter, r *http.Request) error {
	f := r.PostForm
	rt := &tocsin.Rota{Name: f.Get("name"), Zone: strings.TrimSpace(f.Get("zone"))}
	err := func() error {
		if v := f.Get("id"); v != "" {
			id, err := strconv.ParseInt(v, 10, 64)
			if err != nil || id <= 0 {
				return tocsin.Errorf(tocsin.ENOTFOUND, "no such rota").WithKey("oncall.rota_not_found", v)
			}
			rt.ID = id
		}
		days, err := strconv.Atoi(strings.TrimSpace(f.Get("period_days")))
		if err != nil {
			return tocsin.Errorf(tocsin.EINVALID, "a shift lasts 1 to %d days", tocsin.MaxRotaPeriodDays).WithKey("oncall.period_invalid", tocsin.MaxRotaPeriodDays)
		}
		rt.PeriodDays = days
		if rt.Start, err = localTime(f.Get("start"), rt.Zone); err != nil {
			return err
		}
		if rt.Members, err = s.usersByEmail(r, f.Get("members")); err != nil {
			return err
		}
		return s.store.SaveRota(r.Context(), state(r).actor(), rt)
	}()
	return s.oncallDone(w, r, err, "oncall.rota_saved")
}

func (s *Server) deleteRota(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	return s.oncallDone(w, r, s.store.DeleteRota(r.Context(), state(r).actor(), id), "oncall.rota_deleted")
}

func (s *Server) addOverride(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	err = func() error {
		rt, err := s.store.Rota(r.Context(), id)
		if err != nil {
			return err
		}
		f := r.PostForm
		o := &tocsin.Override{Note: f.Get("note")}
		ids, err := s.usersByEmail(r, f.Get("who"))
		if err != nil {
			return err
		}
		if len(ids) != 1 {
			return tocsin.Errorf(tocsin.EINVALID, "an override names who covers").WithKey("oncall.override_user")
		}
		o.UserID = ids[0]
		if o.From, err = localTime(f.Get("from"), rt.Zone); err != nil {
			return err
		}
		if o.Until, err = localTime(f.Get("until"), rt.Zone); err != nil {
			return err
		}
		return s.store.AddOverride(r.Context(), state(r).actor(), id, o)
	}()
	return s.oncallDone(w, r, err, "oncall.override_added")
}

func (s *Server) deleteOverride(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	oid, err := pathID(r, "override")
	if err != nil {
		return err
	}
	return s.oncallDone(w, r, s.store.DeleteOverride(r.Context(), state(r).actor(), id, oid), "oncall.override_deleted")
}

func (s *Server) savePolicy(w http.ResponseWriter, r *http.Request) error {
	f := r.PostForm
	err := func() error {
		p := &tocsin.EscalationPolicy{}
		var err error
		if p.Repeat, err = strconv.Atoi(strings.TrimSpace(f.Get("repeat"))); err != nil {
			return tocsin.Errorf(tocsin.EINVALID, "repeat the policy 0 (until acknowledged) to %d times", tocsin.MaxEscalationRounds).WithKey("oncall.repeat_invalid", tocsin.MaxEscalationRounds)
		}
		rotas, people, delays := f["rota"], f["people"], f["delay"]
		if len(rotas) != len(people) || len(rotas) != len(delays) || len(rotas) > tocsin.MaxEscalationLevels+1 {
			return tocsin.Errorf(tocsin.EINVALID, "a policy has 1 to %d levels", tocsin.MaxEscalationLevels).WithKey("oncall.levels_count", tocsin.MaxEscalationLevels)
		}
		for i := range rotas {
			var l tocsin.EscalationLevel
			if v := strings.TrimSpace(rotas[i]); v != "" && v != "0" {
				if l.RotaID, err = strconv.ParseInt(v, 10, 64); err != nil {
					return tocsin.Errorf(tocsin.EINVALID, "level %d: no such rota", i+1).WithKey("oncall.rota_not_found", v)
				}
			}
			if l.UserIDs, err = s.usersByEmail(r, people[i]); err != nil {
				return err
			}
			if l.RotaID == 0 && len(l.UserIDs) == 0 {
				continue // the spare empty row
			}
			min, err := strconv.Atoi(strings.TrimSpace(delays[i]))
			if err != nil {
				return tocsin.Errorf(tocsin.EINVALID, "level %d: a delay is from 1 minute to 24 hours", i+1).WithKey("oncall.delay_invalid", i+1)
			}
			l.Delay = time.Duration(min) * time.Minute
			if min == 0 {
				l.Delay = -1 // zero would mean the default: refuse it instead
			}
			p.Levels = append(p.Levels, l)
		}
		return s.store.SetEscalationPolicy(r.Context(), state(r).actor(), p)
	}()
	return s.oncallDone(w, r, err, "oncall.policy_saved")
}

func (s *Server) addContact(w http.ResponseWriter, r *http.Request) error {
	f := r.PostForm
	err := func() error {
		uid, err := strconv.ParseInt(f.Get("user"), 10, 64)
		if err != nil || uid <= 0 {
			return tocsin.Errorf(tocsin.EINVALID, "choose a person").WithKey("oncall.override_user")
		}
		return s.store.AddContact(r.Context(), state(r).actor(), &tocsin.Contact{UserID: uid, Kind: tocsin.ContactKind(f.Get("kind")), Address: f.Get("address")})
	}()
	return s.oncallDone(w, r, err, "oncall.contact_added")
}

func (s *Server) deleteContact(w http.ResponseWriter, r *http.Request) error {
	uid, err := pathID(r, "user")
	if err != nil {
		return err
	}
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	return s.oncallDone(w, r, s.store.DeleteContact(r.Context(), state(r).actor(), uid, id), "oncall.contact_deleted")
}
