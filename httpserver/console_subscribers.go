package httpserver

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/tocsin-org/tocsin"
	"github.com/tocsin-org/tocsin/i18n"
)

// subscriberJSON is a subscriber as staff see it, in the API and in an
// export: everything tocsin keeps about the address.
type subscriberJSON struct {
	ID               int64      `json:"id"`
	Email            string     `json:"email"`
	Status           string     `json:"status"`
	Lang             string     `json:"lang"`
	AllServices      bool       `json:"all_services"`
	Services         []int64    `json:"services"`
	CreatedAt        time.Time  `json:"created_at"`
	ConfirmedAt      *time.Time `json:"confirmed_at"`
	ConfirmationSent *time.Time `json:"confirmation_sent_at"`
}

func toSubscriberJSON(s *tocsin.Subscriber) subscriberJSON {
	ids := s.ServiceIDs
	if ids == nil {
		ids = []int64{}
	}
	return subscriberJSON{
		ID: s.ID, Email: s.Email, Status: string(s.Status), Lang: s.Lang, AllServices: s.AllServices, Services: ids,
		CreatedAt: s.CreatedAt, ConfirmedAt: s.ConfirmedAt, ConfirmationSent: s.ConfirmSentAt,
	}
}

// subscriberExport is the answer to a data-subject access request: the
// subscriber's data with the names of its services.
type subscriberExport struct {
	subscriberJSON
	ServiceNames []string  `json:"service_names"`
	ExportedAt   time.Time `json:"exported_at"`
}

// exportSubscriber writes subscriber id's data as a JSON download and
// records who exported it.
func (s *Server) exportSubscriber(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	ctx := r.Context()
	sub, err := s.store.Subscriber(ctx, id)
	if err != nil {
		return err
	}
	services, err := s.store.Services(ctx)
	if err != nil {
		return err
	}
	names := map[int64]string{}
	for _, svc := range services {
		names[svc.ID] = svc.Name
	}
	out := subscriberExport{subscriberJSON: toSubscriberJSON(sub), ServiceNames: []string{}, ExportedAt: s.now().UTC()}
	for _, sid := range sub.ServiceIDs {
		out.ServiceNames = append(out.ServiceNames, names[sid])
	}
	if err := s.store.AppendAudit(ctx, state(r).actor(), "subscriber.export", fmt.Sprintf("subscriber:%d", id), "", ""); err != nil {
		return err
	}
	body, err := json.MarshalIndent(out, "", "  ")
	if err != nil {
		return err
	}
	h := w.Header()
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Set("Content-Disposition", fmt.Sprintf(`attachment; filename="subscriber-%d.json"`, id))
	h.Set("Cache-Control", "no-store")
	_, err = w.Write(append(body, '\n'))
	return err
}

func (s *Server) subscribers(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	subs, err := s.store.Subscribers(ctx, tocsin.SubscriberFilter{Limit: 500})
	if err != nil {
		return err
	}
	total, err := s.store.CountSubscribers(ctx, "")
	if err != nil {
		return err
	}
	confirmed, err := s.store.CountSubscribers(ctx, tocsin.SubscriberConfirmed)
	if err != nil {
		return err
	}
	type row struct {
		*tocsin.Subscriber
		Created, Confirmed string
	}
	rows := make([]row, len(subs))
	for i, sub := range subs {
		rows[i] = row{Subscriber: sub, Created: s.fmtTime(sub.CreatedAt)}
		if sub.ConfirmedAt != nil {
			rows[i].Confirmed = s.fmtTime(*sub.ConfirmedAt)
		}
	}
	data := map[string]any{"Rows": rows, "Total": total, "Confirmed": confirmed}
	if r.URL.Query().Get("erased") != "" {
		data["Flash"] = i18n.T(state(r).lang, "subscribers.erased")
	}
	s.render(w, r, http.StatusOK, "subscribers", data)
	return nil
}

func (s *Server) eraseSubscriber(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	if err := s.store.DeleteSubscriber(r.Context(), state(r).actor(), id, "subscriber.erase"); err != nil {
		return err
	}
	http.Redirect(w, r, "/console/subscribers?erased=1", http.StatusSeeOther)
	return nil
}

// API.

func (s *Server) apiSubscribers(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	f := tocsin.SubscriberFilter{Status: tocsin.SubscriberStatus(q.Get("status"))}
	switch f.Status {
	case "", tocsin.SubscriberPending, tocsin.SubscriberConfirmed:
	default:
		return tocsin.Errorf(tocsin.EINVALID, "status must be pending or confirmed")
	}
	var err error
	if f.Limit, f.Offset, err = pageParams(q); err != nil {
		return err
	}
	subs, err := s.store.Subscribers(r.Context(), f)
	if err != nil {
		return err
	}
	out := make([]subscriberJSON, len(subs))
	for i, sub := range subs {
		out[i] = toSubscriberJSON(sub)
	}
	return writeJSON(w, http.StatusOK, map[string]any{"subscribers": out})
}

func (s *Server) apiSubscriber(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	sub, err := s.store.Subscriber(r.Context(), id)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, toSubscriberJSON(sub))
}

func (s *Server) apiDeleteSubscriber(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	if err := s.store.DeleteSubscriber(r.Context(), state(r).actor(), id, "subscriber.erase"); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// pageParams reads ?limit (1–1000) and ?offset (≥ 0).
func pageParams(q url.Values) (limit, offset int, err error) {
	if v := q.Get("limit"); v != "" {
		if limit, err = strconv.Atoi(v); err != nil || limit < 1 || limit > 1000 {
			return 0, 0, tocsin.Errorf(tocsin.EINVALID, "limit=%q: give a number from 1 to 1000", v)
		}
	}
	if v := q.Get("offset"); v != "" {
		if offset, err = strconv.Atoi(v); err != nil || offset < 0 {
			return 0, 0, tocsin.Errorf(tocsin.EINVALID, "offset=%q: give a number from 0", v)
		}
	}
	return limit, offset, nil
}
