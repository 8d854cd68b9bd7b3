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

// The GDPR clock in the console: every page of an incident shows the time
// left on each running clock (security_room_clock.html, fed by
// addBreachViews for any page whose data holds the Incident), the room has
// the breach section (security_room_gdpr.html), and the register is
// exported as CSV and as a printable page.

// clockRow is one clock as the pages show it.
type clockRow struct {
	Kind     tocsin.ClockKind
	Label    string
	Deadline string
	Left     string // "2 d 23 h", or how long overdue
	DoneAt   string
	Done     bool
	Late     bool // done after the deadline
	Overdue  bool // deadline passed, nothing recorded
	Urgent   bool // 24 h or less left
}

// breachClockView is what the clock partial shows: whether the incident
// is a breach, its clocks, and the state of the notify decision.
type breachClockView struct {
	IncidentID int64
	Marked     bool
	Answer     tocsin.BreachAnswer
	AwareAt    string
	Clocks     []clockRow
	Decision   string // the authority decision, in words
	Late       bool
}

func (s *Server) extraClocks() []tocsin.ClockKind { return tocsin.ClockKindsOf(s.cfg.Breach.Clocks()) }

// breachClock makes the clock view of b (nil: not marked) at now.
func (s *Server) breachClock(lang string, id int64, b *tocsin.Breach, now time.Time) *breachClockView {
	v := &breachClockView{IncidentID: id}
	if b == nil {
		return v
	}
	v.Marked, v.Answer, v.AwareAt = true, b.Answer, s.fmtTime(b.AwareAt)
	for _, c := range b.Clocks(s.extraClocks()) {
		row := clockRow{Kind: c.Kind, Label: i18n.T(lang, "breach.clock."+string(c.Kind)), Deadline: s.fmtTime(c.Deadline),
			Done: c.DoneAt != nil, Late: c.Late(), Overdue: c.Overdue(now)}
		left := c.Left(now)
		switch {
		case c.DoneAt != nil:
			row.DoneAt = s.fmtTime(*c.DoneAt)
		case row.Overdue:
			row.Left = i18n.T(lang, "breach.overdue_by", tocsin.FormatDuration(-left))
		default:
			row.Left = i18n.T(lang, "breach.left", tocsin.FormatDuration(left))
			row.Urgent = left <= 24*time.Hour
		}
		v.Clocks = append(v.Clocks, row)
	}
	v.Decision = i18n.T(lang, "breach.decision_none")
	if d := b.NotifyDecision(); d != nil {
		key := "breach.decision_no"
		if d.Notify {
			key = "breach.decision_yes"
		}
		v.Decision = i18n.T(lang, key, s.fmtTime(d.DecidedAt), d.ByEmail)
		v.Late = d.Late
	}
	return v
}

// addBreachViews adds, to the data of any page about one security
// incident (data["Incident"]), the clock partial's view (BreachClock), and
// for the room the breach section's record and form (Breach, BreachForm).
func (s *Server) addBreachViews(r *http.Request, data map[string]any) {
	inc, ok := data["Incident"].(*tocsin.SecurityIncident)
	if !ok || inc == nil || data["BreachClock"] != nil {
		return
	}
	b, err := s.store.Breach(r.Context(), inc.ID)
	if err != nil {
		if tocsin.ErrorCode(err) != tocsin.ENOTFOUND {
			s.log.Error("breach clock", "incident", inc.ID, "err", err)
		}
		b = nil
	}
	lang := state(r).lang
	data["BreachClock"] = s.breachClock(lang, inc.ID, b, s.now())
	data["Breach"] = b
	data["BreachAnswers"] = tocsin.BreachAnswers
	data["BreachRisks"] = tocsin.BreachRisks
	data["BreachStatuses"] = tocsin.BreachStatuses
	data["ExtraClocks"] = s.extraClocks()
	where, _ := data["Where"].(string)
	if form, ok := data["Form"].(url.Values); ok && strings.HasPrefix(where, "breach") {
		data["BreachForm"] = form
		return
	}
	data["BreachForm"] = s.breachForm(b)
}

// breachForm fills the breach forms from the record.
func (s *Server) breachForm(b *tocsin.Breach) url.Values {
	f := url.Values{}
	if b == nil {
		return f
	}
	num := func(n *int64) string {
		if n == nil {
			return ""
		}
		return strconv.FormatInt(*n, 10)
	}
	local := func(t *time.Time) string {
		if t == nil {
			return ""
		}
		return t.In(s.loc).Format(dateTimeLocal)
	}
	f.Set("answer", string(b.Answer))
	f.Set("aware_at", local(&b.AwareAt))
	f.Set("type", b.Type)
	f.Set("risk", string(b.Risk))
	f.Set("status", string(b.Status))
	f.Set("categories", b.Categories)
	f.Set("people", num(b.People))
	f.Set("records", num(b.Records))
	f.Set("consequences", b.Consequences)
	f.Set("remedial", b.Remedial)
	f.Set("authority_at", local(b.AuthorityAt))
	f.Set("authority_ref", b.AuthorityRef)
	f.Set("subjects_at", local(b.SubjectsAt))
	f.Set("subjects_count", num(b.SubjectsCount))
	f.Set("subjects_how", b.SubjectsHow)
	return f
}

// markBreach answers "personal data breach?" with the moment of
// awareness; a field left as shown keeps the stored time.
func (s *Server) markBreach(r *http.Request, a tocsin.Actor, id int64) error {
	f := r.PostForm
	answer, err := tocsin.ParseBreachAnswer(f.Get("answer"))
	if err != nil {
		return err
	}
	v := strings.TrimSpace(f.Get("aware_at"))
	var aware time.Time
	if old, err := s.store.Breach(r.Context(), id); err == nil && v == old.AwareAt.In(s.loc).Format(dateTimeLocal) {
		aware = old.AwareAt
	} else if aware, err = s.parseBackdate(v); err != nil {
		return err
	}
	return s.store.MarkBreach(r.Context(), a, id, answer, aware)
}

// formNumber reads an optional whole number.
func formNumber(f url.Values, name, label string) (*int64, error) {
	v := strings.TrimSpace(strings.ReplaceAll(f.Get(name), " ", ""))
	if v == "" {
		return nil, nil
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		return nil, tocsin.Errorf(tocsin.EINVALID, "%s: give a whole number", label).WithKey("breach.number_invalid", label)
	}
	return &n, nil
}

// formOptionalTime reads an optional datetime-local field; empty is nil.
func (s *Server) formOptionalTime(f url.Values, name string) (*time.Time, error) {
	t, err := s.formTime(f, name)
	if err != nil || t.IsZero() {
		return nil, err
	}
	return &t, nil
}

func (s *Server) setBreachRegister(r *http.Request, a tocsin.Actor, id int64) error {
	f := r.PostForm
	lang := state(r).lang
	b := &tocsin.Breach{IncidentID: id, Type: f.Get("type"), Risk: tocsin.BreachRisk(f.Get("risk")), Status: tocsin.BreachStatus(f.Get("status")),
		Categories: f.Get("categories"), Consequences: f.Get("consequences"), Remedial: f.Get("remedial"),
		AuthorityRef: f.Get("authority_ref"), SubjectsHow: f.Get("subjects_how")}
	var err error
	for _, n := range []struct {
		name string
		p    **int64
	}{{"people", &b.People}, {"records", &b.Records}, {"subjects_count", &b.SubjectsCount}} {
		if *n.p, err = formNumber(f, n.name, i18n.T(lang, "breach.field."+n.name)); err != nil {
			return err
		}
	}
	if b.AuthorityAt, err = s.formOptionalTime(f, "authority_at"); err != nil {
		return err
	}
	if b.SubjectsAt, err = s.formOptionalTime(f, "subjects_at"); err != nil {
		return err
	}
	return s.store.SetBreachRegister(r.Context(), a, b)
}

// parseNotify reads a yes/no choice.
func parseNotify(v string) (bool, error) {
	switch strings.TrimSpace(v) {
	case "yes", "true":
		return true, nil
	case "no", "false":
		return false, nil
	}
	return false, tocsin.Errorf(tocsin.EINVALID, "choose whether to notify: yes or no").WithKey("breach.notify_choice")
}

func (s *Server) recordBreachDecision(r *http.Request, a tocsin.Actor, id int64) error {
	f := r.PostForm
	notify, err := parseNotify(f.Get("notify"))
	if err != nil {
		return err
	}
	at, err := s.formTime(f, "decided_at")
	if err != nil {
		return err
	}
	d := &tocsin.BreachDecision{Subjects: f.Get("who") == "subjects", Notify: notify, Why: f.Get("why"), LateReason: f.Get("late_reason"),
		DecidedBy: formUser(f, "decided_by"), DecidedAt: at}
	return s.store.RecordBreachDecision(r.Context(), a, id, d)
}

func (s *Server) recordBreachClock(r *http.Request, a tocsin.Actor, id int64) error {
	k, err := tocsin.ParseClockKind(r.PostForm.Get("clock"))
	if err != nil {
		return err
	}
	at, err := s.formTime(r.PostForm, "at")
	if err != nil {
		return err
	}
	return s.store.RecordClockDone(r.Context(), a, id, k, at)
}

// breachEntryText words a "breach" timeline entry in lang.
func (s *Server) breachEntryText(lang string, e *tocsin.SecurityEntry) string {
	when := func(v string) string {
		if t, err := time.Parse(time.RFC3339Nano, v); err == nil {
			return s.fmtTime(t)
		}
		return v
	}
	switch e.Subject {
	case "answer":
		if e.Old == "" {
			return i18n.T(lang, "breach.text.answer", i18n.T(lang, "breach.answer."+e.New))
		}
		return i18n.T(lang, "breach.text.answer_changed", i18n.T(lang, "breach.answer."+e.New), i18n.T(lang, "breach.answer."+e.Old))
	case "aware":
		if e.Old == "" {
			return i18n.T(lang, "breach.text.aware", when(e.New))
		}
		return i18n.T(lang, "breach.text.aware_changed", when(e.New), when(e.Old))
	case "register":
		if e.New != "" {
			return i18n.T(lang, "breach.text.register_status", e.Body, i18n.T(lang, "breach.status."+e.New))
		}
		return i18n.T(lang, "breach.text.register", e.Body)
	}
	return i18n.T(lang, "breach.text.report_sent", i18n.T(lang, "breach.clock."+e.Subject), when(e.New))
}
