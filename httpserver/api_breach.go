package httpserver

import (
	"fmt"
	"net/http"
	"time"

	"github.com/tocsin-org/tocsin"
)

// The breach record and the register over the staff API.

type breachJSON struct {
	IncidentID int64       `json:"incident_id"`
	Title      string      `json:"title"`
	Answer     string      `json:"answer"`
	AwareAt    time.Time   `json:"aware_at"`
	Clocks     []clockJSON `json:"clocks"`
	registerJSON
	Decisions []breachDecisionJSON `json:"decisions"`
	CreatedAt time.Time            `json:"created_at"`
	UpdatedAt time.Time            `json:"updated_at"`
}

// registerJSON is the register's fields, read and written alike.
type registerJSON struct {
	Type          string     `json:"type"`
	Risk          string     `json:"risk"`
	Status        string     `json:"status"`
	Categories    string     `json:"categories"`
	People        *int64     `json:"people"`
	Records       *int64     `json:"records"`
	Consequences  string     `json:"consequences"`
	Remedial      string     `json:"remedial"`
	AuthorityAt   *time.Time `json:"authority_notified_at"`
	AuthorityRef  string     `json:"authority_reference"`
	SubjectsAt    *time.Time `json:"subjects_notified_at"`
	SubjectsCount *int64     `json:"subjects_count"`
	SubjectsHow   string     `json:"subjects_how"`
}

type clockJSON struct {
	Clock       string     `json:"clock"`
	Deadline    time.Time  `json:"deadline"`
	LeftSeconds int64      `json:"left_seconds"` // negative once overdue
	DoneAt      *time.Time `json:"done_at"`
	Overdue     bool       `json:"overdue"`
	Late        bool       `json:"late"`
}

type breachDecisionJSON struct {
	ID         int64     `json:"id"`
	Who        string    `json:"who"` // authority or subjects
	Notify     bool      `json:"notify"`
	Why        string    `json:"why"`
	Late       bool      `json:"late"`
	LateReason string    `json:"late_reason"`
	DecidedBy  int64     `json:"decided_by"`
	Email      string    `json:"decided_by_email"`
	DecidedAt  time.Time `json:"decided_at"`
	DecisionID int64     `json:"decision_id"`
}

func (s *Server) toBreachJSON(b *tocsin.Breach, now time.Time) breachJSON {
	out := breachJSON{IncidentID: b.IncidentID, Title: b.Title, Answer: string(b.Answer), AwareAt: b.AwareAt, Clocks: []clockJSON{},
		registerJSON: registerJSON{Type: b.Type, Risk: string(b.Risk), Status: string(b.Status), Categories: b.Categories, People: b.People,
			Records: b.Records, Consequences: b.Consequences, Remedial: b.Remedial, AuthorityAt: b.AuthorityAt, AuthorityRef: b.AuthorityRef,
			SubjectsAt: b.SubjectsAt, SubjectsCount: b.SubjectsCount, SubjectsHow: b.SubjectsHow},
		Decisions: []breachDecisionJSON{}, CreatedAt: b.CreatedAt, UpdatedAt: b.UpdatedAt}
	for _, c := range b.Clocks(s.extraClocks()) {
		out.Clocks = append(out.Clocks, clockJSON{string(c.Kind), c.Deadline, int64(c.Left(now) / time.Second), c.DoneAt, c.Overdue(now), c.Late()})
	}
	for _, d := range b.Decisions {
		who := "authority"
		if d.Subjects {
			who = "subjects"
		}
		out.Decisions = append(out.Decisions, breachDecisionJSON{d.ID, who, d.Notify, d.Why, d.Late, d.LateReason, d.DecidedBy, d.ByEmail, d.DecidedAt, d.DecisionID})
	}
	return out
}

func (s *Server) writeBreach(w http.ResponseWriter, r *http.Request, id int64) error {
	b, err := s.store.Breach(r.Context(), id)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, s.toBreachJSON(b, s.now()))
}

func (s *Server) apiBreach(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	if _, err := s.store.SecurityIncident(r.Context(), id); err != nil {
		return err
	}
	return s.writeBreach(w, r, id)
}

// apiBreachChange decodes a request into T, applies it with fn and
// answers with the breach record as it now is.
func apiBreachChange[T any](s *Server, fn func(r *http.Request, a tocsin.Actor, id int64, req T) error) handlerFunc {
	return apiIncidentChange(fn, s.writeBreach)
}

type markBreachRequest struct {
	Answer  string     `json:"answer"`
	AwareAt *time.Time `json:"aware_at"`
}

func (s *Server) apiMarkBreach(w http.ResponseWriter, r *http.Request) error {
	return apiBreachChange(s, func(r *http.Request, a tocsin.Actor, id int64, req markBreachRequest) error {
		var aware time.Time
		if req.AwareAt != nil {
			aware = *req.AwareAt
		}
		return s.store.MarkBreach(r.Context(), a, id, tocsin.BreachAnswer(req.Answer), aware)
	})(w, r)
}

func (s *Server) apiSetBreachRegister(w http.ResponseWriter, r *http.Request) error {
	return apiBreachChange(s, func(r *http.Request, a tocsin.Actor, id int64, q registerJSON) error {
		return s.store.SetBreachRegister(r.Context(), a, &tocsin.Breach{IncidentID: id, Type: q.Type, Risk: tocsin.BreachRisk(q.Risk),
			Status: tocsin.BreachStatus(q.Status), Categories: q.Categories, People: q.People, Records: q.Records, Consequences: q.Consequences,
			Remedial: q.Remedial, AuthorityAt: q.AuthorityAt, AuthorityRef: q.AuthorityRef, SubjectsAt: q.SubjectsAt,
			SubjectsCount: q.SubjectsCount, SubjectsHow: q.SubjectsHow})
	})(w, r)
}

type breachDecisionRequest struct {
	Who        string     `json:"who"`
	Notify     *bool      `json:"notify"`
	Why        string     `json:"why"`
	LateReason string     `json:"late_reason"`
	DecidedBy  int64      `json:"decided_by"`
	DecidedAt  *time.Time `json:"decided_at"`
}

func (s *Server) apiRecordBreachDecision(w http.ResponseWriter, r *http.Request) error {
	return apiBreachChange(s, func(r *http.Request, a tocsin.Actor, id int64, q breachDecisionRequest) error {
		if q.Notify == nil {
			return tocsin.Errorf(tocsin.EINVALID, "notify: give true or false").WithKey("breach.notify_choice")
		}
		if q.Who != "" && q.Who != "authority" && q.Who != "subjects" {
			return tocsin.Errorf(tocsin.EINVALID, "who: authority or subjects, not %q", q.Who).WithKey("breach.who_unknown", q.Who)
		}
		d := &tocsin.BreachDecision{Subjects: q.Who == "subjects", Notify: *q.Notify, Why: q.Why, LateReason: q.LateReason, DecidedBy: q.DecidedBy}
		if q.DecidedAt != nil {
			d.DecidedAt = *q.DecidedAt
		}
		return s.store.RecordBreachDecision(r.Context(), a, id, d)
	})(w, r)
}

type breachClockRequest struct {
	Clock  string     `json:"clock"`
	SentAt *time.Time `json:"sent_at"`
}

func (s *Server) apiRecordBreachClock(w http.ResponseWriter, r *http.Request) error {
	return apiBreachChange(s, func(r *http.Request, a tocsin.Actor, id int64, q breachClockRequest) error {
		k, err := tocsin.ParseClockKind(q.Clock)
		if err != nil {
			return err
		}
		var at time.Time
		if q.SentAt != nil {
			at = *q.SentAt
		}
		return s.store.RecordClockDone(r.Context(), a, id, k, at)
	})(w, r)
}

func (s *Server) apiBreachRegister(w http.ResponseWriter, r *http.Request) error {
	bs, err := s.store.Breaches(r.Context())
	if err != nil {
		return err
	}
	if err := s.store.AppendAudit(r.Context(), state(r).actor(), "breach.export", "breach-register", "", fmt.Sprintf("format=json rows=%d", len(bs))); err != nil {
		return err
	}
	now := s.now()
	out := make([]breachJSON, len(bs))
	for i, b := range bs {
		out[i] = s.toBreachJSON(b, now)
	}
	return writeJSON(w, http.StatusOK, map[string]any{"breaches": out})
}
