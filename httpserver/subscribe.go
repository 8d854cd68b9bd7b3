package httpserver

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/tocsin-org/tocsin"
	"github.com/tocsin-org/tocsin/auth"
	"github.com/tocsin-org/tocsin/i18n"
)

// Subscription floods are cut three ways: accepted requests are counted per
// source network and per address in the last hour, and an address gets at
// most one confirmation mail per tocsin.ConfirmResendAfter whatever the
// counts (the store decides that, in the transaction that would send it).
// A refused request is not counted, so waiting always works.
const (
	subscribeWindow    = time.Hour
	subscribeNetLimit  = 20 // an office or a NAT shares one address
	subscribeAddrLimit = 5
)

// subscribeForm is the subscription form as typed, kept to show it again.
type subscribeForm struct {
	Email    string
	Lang     string
	All      bool
	Services map[int64]bool
}

// parseSubscribeForm decodes the public form into a request. It checks the
// shape (scope, service IDs); the request's Validate checks the values.
func parseSubscribeForm(form url.Values) (subscribeForm, *tocsin.SubscribeRequest, error) {
	f := subscribeForm{Email: strings.TrimSpace(form.Get("email")), Lang: form.Get("lang"), Services: map[int64]bool{}}
	req := &tocsin.SubscribeRequest{Email: f.Email, Lang: f.Lang}
	switch form.Get("scope") {
	case "all":
		f.All, req.AllServices = true, true
	case "some":
	default:
		return f, req, tocsin.Errorf(tocsin.EINVALID, "choose all services or some").WithKey("subscribe.services_empty")
	}
	if len(form["service"]) > 1000 {
		return f, req, tocsin.Errorf(tocsin.EINVALID, "choose at most 1000 services").WithKey("subscribe.services_too_many")
	}
	for _, v := range form["service"] {
		id, err := strconv.ParseInt(v, 10, 64)
		if err != nil || id <= 0 {
			return f, req, tocsin.Errorf(tocsin.EINVALID, "%q is not a service", v).WithKey("subscribe.service_unknown", v)
		}
		f.Services[id] = true
		if !req.AllServices {
			req.ServiceIDs = append(req.ServiceIDs, id)
		}
	}
	return f, req, req.Validate()
}

func (s *Server) subscribeFormPage(w http.ResponseWriter, r *http.Request) error {
	return s.renderSubscribe(w, r, http.StatusOK, subscribeForm{Lang: state(r).lang, All: true}, nil)
}

func (s *Server) renderSubscribe(w http.ResponseWriter, r *http.Request, status int, f subscribeForm, err error) error {
	services, serr := s.store.Services(r.Context())
	if serr != nil {
		return serr
	}
	data := map[string]any{"Form": f, "Services": services}
	if err != nil {
		data["Error"] = s.localized(r, err)
	}
	s.render(w, r, status, "subscribe", data)
	return nil
}

// emailDigest is what rate limits keep of an address: an HMAC, so that the
// table of attempts cannot be turned back into addresses by guessing.
func (s *Server) emailDigest(email string) string {
	mac := hmac.New(sha256.New, s.digestKey)
	mac.Write([]byte(email))
	return hex.EncodeToString(mac.Sum(nil))
}

// subscribe answers the same page whether the address is new, pending or
// confirmed, so that the form tells nobody who subscribed.
func (s *Server) subscribe(w http.ResponseWriter, r *http.Request) error {
	st := state(r)
	ctx := r.Context()
	f, req, err := parseSubscribeForm(r.PostForm)
	if err != nil {
		if tocsin.ErrorCode(err) == tocsin.EINVALID {
			return s.renderSubscribe(w, r, http.StatusBadRequest, f, err)
		}
		return err
	}
	req.Net, req.EmailHash = tocsin.ThrottleNet(st.ip), s.emailDigest(req.Email)
	since := s.now().Add(-subscribeWindow)
	for _, c := range []struct {
		f     tocsin.SubscribeAttemptFilter
		limit int
	}{
		{tocsin.SubscribeAttemptFilter{Net: req.Net, Since: since}, subscribeNetLimit},
		{tocsin.SubscribeAttemptFilter{EmailHash: req.EmailHash, Since: since}, subscribeAddrLimit},
	} {
		n, err := s.store.CountSubscribeAttempts(ctx, c.f)
		if err != nil {
			return err
		}
		if n >= c.limit {
			s.metrics.subscribeThrottled.Add(1)
			return s.renderSubscribe(w, r, http.StatusTooManyRequests, f,
				tocsin.Errorf(tocsin.ETOOMANY, "too many subscription requests; try again in an hour").WithKey("subscribe.throttled"))
		}
	}
	plain, hash, err := auth.NewToken("tcc_")
	if err != nil {
		return err
	}
	req.TokenHash = hash
	req.Confirm = s.confirmMail(req, plain)
	outcome, err := s.store.Subscribe(ctx, st.actor(), req)
	if err != nil {
		if tocsin.ErrorCode(err) == tocsin.EINVALID {
			return s.renderSubscribe(w, r, http.StatusBadRequest, f, err)
		}
		return err
	}
	if outcome == tocsin.SubscribeMailed {
		s.kick()
	}
	s.render(w, r, http.StatusOK, "subscribe_sent", nil)
	return nil
}

// confirmMail is the double opt-in mail, in the language chosen on the form.
func (s *Server) confirmMail(req *tocsin.SubscribeRequest, token string) *tocsin.Message {
	lang := req.Lang
	link := s.cfg.PublicURL() + "/subscribe/confirm?token=" + url.QueryEscape(token)
	hours := int(tocsin.ConfirmLifetime / time.Hour)
	return &tocsin.Message{
		Channel: tocsin.ChannelEmail,
		To:      req.Email,
		Subject: i18n.T(lang, "subscribe.mail_subject"),
		Body:    i18n.T(lang, "subscribe.mail_body", link, hours),
		Key:     "subscribe-confirm:" + req.TokenHash,
	}
}

// confirmForm shows a button rather than confirming: mail scanners fetch
// the links of every mail they see, and must not confirm on their own.
func (s *Server) confirmForm(w http.ResponseWriter, r *http.Request) error {
	token := r.URL.Query().Get("token")
	if _, err := s.store.PendingSubscriberByToken(r.Context(), auth.HashToken(token), s.now()); err != nil {
		return s.linkInvalid(w, r, err)
	}
	s.render(w, r, http.StatusOK, "subscribe_confirm", map[string]any{"Token": token})
	return nil
}

func (s *Server) confirm(w http.ResponseWriter, r *http.Request) error {
	token := r.PostForm.Get("token")
	if _, err := s.store.ConfirmSubscriber(r.Context(), state(r).actor(), auth.HashToken(token), s.now()); err != nil {
		return s.linkInvalid(w, r, err)
	}
	s.render(w, r, http.StatusOK, "subscribe_done", nil)
	return nil
}

// linkInvalid explains an unknown or expired link, and what to do.
func (s *Server) linkInvalid(w http.ResponseWriter, r *http.Request, err error) error {
	if tocsin.ErrorCode(err) != tocsin.ENOTFOUND {
		return err
	}
	s.render(w, r, http.StatusNotFound, "error", map[string]any{"Status": http.StatusNotFound, "Message": s.localized(r, err)})
	return nil
}

// subscriberByLink returns the subscriber an unsubscribe link names, after
// checking its HMAC; ENOTFOUND for any link that is not valid.
func (s *Server) subscriberByLink(r *http.Request) (*tocsin.Subscriber, error) {
	invalid := tocsin.Errorf(tocsin.ENOTFOUND, "this unsubscribe link is not valid; perhaps it was used already").
		WithKey("unsubscribe.invalid")
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		return nil, invalid
	}
	sub, err := s.store.Subscriber(r.Context(), id)
	if tocsin.ErrorCode(err) == tocsin.ENOTFOUND {
		return nil, invalid
	} else if err != nil {
		return nil, err
	}
	if !auth.CheckSubscriberToken(s.unsubKey, sub.ID, sub.Nonce, r.PathValue("token")) {
		return nil, invalid
	}
	return sub, nil
}

// unsubscribeForm shows the button of an unsubscribe link (a GET must not
// unsubscribe: scanners fetch links).
func (s *Server) unsubscribeForm(w http.ResponseWriter, r *http.Request) error {
	if _, err := s.subscriberByLink(r); err != nil {
		return s.linkInvalid(w, r, err)
	}
	s.render(w, r, http.StatusOK, "unsubscribe", nil)
	return nil
}

// unsubscribe erases the subscriber of a valid link. It serves the button
// of unsubscribeForm and RFC 8058 one-click POSTs from mail providers
// alike; the link's HMAC is its authority (see routes.go).
func (s *Server) unsubscribe(w http.ResponseWriter, r *http.Request) error {
	st := state(r)
	st.lang = s.langFor(r, nil)
	sub, err := s.subscriberByLink(r)
	if err == nil {
		err = s.store.DeleteSubscriber(r.Context(), st.actor(), sub.ID, "subscriber.unsubscribe")
	}
	if err != nil {
		if tocsin.ErrorCode(err) != tocsin.ENOTFOUND {
			return err
		}
		// A person who pressed the button reads a page; a mail provider
		// reads the status.
		if strings.Contains(r.Header.Get("Accept"), "text/html") {
			return s.linkInvalid(w, r, err)
		}
		return tocsin.Errorf(tocsin.ENOTFOUND, "%s", s.localized(r, err))
	}
	s.render(w, r, http.StatusOK, "unsubscribed", nil)
	return nil
}
