package httpserver

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/tocsin-org/tocsin"
	"github.com/tocsin-org/tocsin/auth"
	"github.com/tocsin-org/tocsin/notify"
)

// confirmedSubscriber subscribes email through the store and confirms it.
func (e *testEnv) confirmedSubscriber(t *testing.T, email, lang string, services ...int64) *tocsin.Subscriber {
	t.Helper()
	plain, hash, err := auth.NewToken("tcc_")
	if err != nil {
		t.Fatal(err)
	}
	req := &tocsin.SubscribeRequest{Email: email, Lang: lang, AllServices: len(services) == 0, ServiceIDs: services,
		TokenHash: hash, Confirm: &tocsin.Message{Channel: tocsin.ChannelEmail, To: email, Subject: "confirm", Body: plain, Key: "confirm:" + hash},
		Net: "127.0.0.1", EmailHash: email}
	if _, err := e.store.Subscribe(e.ctx, tocsin.CLI, req); err != nil {
		t.Fatal(err)
	}
	s, err := e.store.ConfirmSubscriber(e.ctx, tocsin.CLI, hash, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func (e *testEnv) subscriberMail() notify.SubscriberMail {
	return notify.SubscriberMail{BaseURL: e.cfg.PublicURL(), Key: e.box.DeriveKey(notify.UnsubscribeKeyLabel)}
}

var confirmLinkRE = regexp.MustCompile(`/subscribe/confirm\?token=([A-Za-z0-9_%-]+)`)

func subscribeValues(email string) url.Values {
	return url.Values{"email": {email}, "lang": {"en"}, "scope": {"all"}}
}

func TestSubscribeDoubleOptIn(t *testing.T) {
	e := newTestEnv(t)
	b := e.browser("127.0.0.1")
	if r := b.get("/"); !strings.Contains(r.Body, `href="/subscribe"`) {
		t.Error("the public page does not link to /subscribe")
	}
	if r := b.get("/subscribe"); r.Status != http.StatusOK || !strings.Contains(r.Body, `name="email"`) {
		t.Fatalf("GET /subscribe = %d\n%s", r.Status, r.Body)
	}
	first := b.post("/subscribe", subscribeValues("Ada@Example.org"))
	if first.Status != http.StatusOK {
		t.Fatalf("POST /subscribe = %d\n%s", first.Status, first.Body)
	}
	msgs := e.messages()
	if len(msgs) != 1 || msgs[0].To != "ada@example.org" {
		t.Fatalf("want one confirmation mail to the lower-cased address, got %+v", msgs)
	}
	m := confirmLinkRE.FindStringSubmatch(msgs[0].Body)
	if m == nil {
		t.Fatalf("no confirmation link in\n%s", msgs[0].Body)
	}
	token, _ := url.QueryUnescape(m[1])

	// Asking again, pending then confirmed, shows the same page and mails nothing.
	again := b.post("/subscribe", subscribeValues("ada@example.org"))
	if again.Status != http.StatusOK || again.Body != first.Body {
		t.Errorf("a second request for a pending address answered differently (%d)", again.Status)
	}

	// GET shows a button and confirms nothing (mail scanners prefetch links).
	if r := b.get("/subscribe/confirm?token=" + url.QueryEscape(token)); r.Status != http.StatusOK || !strings.Contains(r.Body, `name="token"`) {
		t.Fatalf("GET confirm = %d\n%s", r.Status, r.Body)
	}
	if n, _ := e.store.CountSubscribers(e.ctx, tocsin.SubscriberConfirmed); n != 0 {
		t.Fatal("a GET of the confirmation link confirmed the subscription")
	}
	if r := b.post("/subscribe/confirm", url.Values{"token": {token}}); r.Status != http.StatusOK {
		t.Fatalf("POST confirm = %d\n%s", r.Status, r.Body)
	}
	if n, _ := e.store.CountSubscribers(e.ctx, tocsin.SubscriberConfirmed); n != 1 {
		t.Fatalf("confirmed subscribers = %d, want 1", n)
	}
	if r := b.post("/subscribe/confirm", url.Values{"token": {token}}); r.Status != http.StatusNotFound {
		t.Errorf("a used link = %d, want 404", r.Status)
	}
	confirmed := b.post("/subscribe", subscribeValues("ada@example.org"))
	if confirmed.Status != http.StatusOK || confirmed.Body != first.Body {
		t.Errorf("a request for a confirmed address answered differently (%d)", confirmed.Status)
	}
	if n := len(e.messages()); n != 1 {
		t.Errorf("%d messages after asking again, want still 1", n)
	}
	for _, a := range auditOf(t, e, "subscriber.") {
		if strings.Contains(strings.ToLower(a.Before+a.After+a.Target), "ada@") {
			t.Errorf("audit entry %s holds the address: %+v", a.Action, a)
		}
	}
}

func auditOf(t *testing.T, e *testEnv, prefix string) []*tocsin.AuditEntry {
	t.Helper()
	out, err := e.store.AuditEntries(e.ctx, tocsin.AuditFilter{Action: prefix, Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestConfirmationLinkExpires(t *testing.T) {
	e := newTestEnv(t)
	b := e.browser("127.0.0.1")
	b.post("/subscribe", subscribeValues("late@example.org"))
	token, _ := url.QueryUnescape(confirmLinkRE.FindStringSubmatch(e.messages()[0].Body)[1])
	e.clock.Advance(tocsin.ConfirmLifetime + time.Minute)
	if r := b.get("/subscribe/confirm?token=" + url.QueryEscape(token)); r.Status != http.StatusNotFound || !strings.Contains(r.Body, "expired") {
		t.Errorf("GET of an expired link = %d\n%s", r.Status, r.Body)
	}
	if r := b.post("/subscribe/confirm", url.Values{"token": {token}}); r.Status != http.StatusNotFound {
		t.Errorf("POST of an expired link = %d", r.Status)
	}
}

func TestSubscribeBadInput(t *testing.T) {
	e := newTestEnv(t)
	svc := &tocsin.Service{Name: "Mail"}
	if err := e.store.CreateService(e.ctx, tocsin.CLI, svc); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		form url.Values
		want string
	}{
		{"no address", url.Values{"lang": {"en"}, "scope": {"all"}}, "Enter one e-mail address"},
		{"two addresses", url.Values{"email": {"a@example.org, b@example.org"}, "lang": {"en"}, "scope": {"all"}}, "Enter one e-mail address"},
		{"display name", url.Values{"email": {"Ada <ada@example.org>"}, "lang": {"en"}, "scope": {"all"}}, "Enter one e-mail address"},
		{"header injection", url.Values{"email": {"ada@example.org\r\nBcc: x@example.org"}, "lang": {"en"}, "scope": {"all"}}, "Enter one e-mail address"},
		{"no domain dot", url.Values{"email": {"ada@localhost"}, "lang": {"en"}, "scope": {"all"}}, "Enter one e-mail address"},
		{"too long", url.Values{"email": {strings.Repeat("a", 250) + "@example.org"}, "lang": {"en"}, "scope": {"all"}}, "Enter one e-mail address"},
		{"bad language", url.Values{"email": {"ada@example.org"}, "lang": {"de"}, "scope": {"all"}}, "French or English"},
		{"no scope", url.Values{"email": {"ada@example.org"}, "lang": {"en"}}, "Choose all services"},
		{"some but none", url.Values{"email": {"ada@example.org"}, "lang": {"en"}, "scope": {"some"}}, "Choose all services"},
		{"unknown service", url.Values{"email": {"ada@example.org"}, "lang": {"en"}, "scope": {"some"}, "service": {"999999"}}, "There is no service 999999"},
		{"not a number", url.Values{"email": {"ada@example.org"}, "lang": {"en"}, "scope": {"some"}, "service": {"mail"}}, "There is no service mail"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := e.browser("127.0.0.1")
			b.Header.Set("Accept-Language", "en")
			r := b.post("/subscribe", tc.form)
			if r.Status != http.StatusBadRequest || !strings.Contains(r.Body, tc.want) {
				t.Errorf("status %d, want 400 with %q\n%s", r.Status, tc.want, r.Body)
			}
			if n, _ := e.store.CountSubscribers(e.ctx, ""); n != 0 {
				t.Errorf("%d subscribers written", n)
			}
			if n := len(e.messages()); n != 0 {
				t.Errorf("%d messages written", n)
			}
		})
	}
}

// A flood of requests is cut per network and per address, and one
// address never gets more than one confirmation mail per period.
func TestSubscribeFlood(t *testing.T) {
	e := newTestEnv(t)
	t.Run("one network, many addresses", func(t *testing.T) {
		b := e.browser("127.0.0.2")
		var codes []int
		for i := range subscribeNetLimit + 5 {
			codes = append(codes, b.post("/subscribe", subscribeValues(fmt.Sprintf("flood%d@example.org", i))).Status)
		}
		for i, c := range codes {
			want := http.StatusOK
			if i >= subscribeNetLimit {
				want = http.StatusTooManyRequests
			}
			if c != want {
				t.Fatalf("request %d = %d, want %d (all: %v)", i, c, want, codes)
			}
		}
	})
	t.Run("one address, many networks", func(t *testing.T) {
		before := len(e.messages())
		var codes []int
		for i := range subscribeAddrLimit + 3 {
			b := e.browser(fmt.Sprintf("127.0.1.%d", i+1))
			codes = append(codes, b.post("/subscribe", subscribeValues("victim@example.org")).Status)
		}
		for i, c := range codes {
			want := http.StatusOK
			if i >= subscribeAddrLimit {
				want = http.StatusTooManyRequests
			}
			if c != want {
				t.Fatalf("request %d = %d, want %d (all: %v)", i, c, want, codes)
			}
		}
		n := 0
		for _, m := range e.messages()[:len(e.messages())-before] {
			if m.To == "victim@example.org" {
				n++
			}
		}
		if n != 1 {
			t.Errorf("%d confirmation mails to the flooded address, want 1", n)
		}
	})
}

func TestUnsubscribeOneClick(t *testing.T) {
	e := newTestEnv(t)
	sub := e.confirmedSubscriber(t, "ada@example.org", "fr")
	other := e.confirmedSubscriber(t, "bob@example.org", "en")
	link := e.subscriberMail().UnsubscribeURL(sub)
	path := strings.TrimPrefix(link, e.cfg.PublicURL())

	// A mail provider's one-click POST: no cookie, no CSRF token.
	post := func(p string) int {
		req, _ := http.NewRequest(http.MethodPost, e.ts.URL+p, strings.NewReader("List-Unsubscribe=One-Click"))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		return e.do(req).Status
	}
	otherPath := fmt.Sprintf("/unsubscribe/%d/%s", other.ID, strings.TrimPrefix(path, fmt.Sprintf("/unsubscribe/%d/", sub.ID)))
	for _, bad := range []string{path + "x", otherPath, "/unsubscribe/abc/x"} {
		if got := post(bad); got != http.StatusNotFound {
			t.Errorf("POST %s = %d, want 404", bad, got)
		}
	}
	if r := e.browser("").get(path); r.Status != http.StatusOK || !strings.Contains(r.Body, `method="post"`) {
		t.Fatalf("GET of the link = %d", r.Status)
	}
	if _, err := e.store.Subscriber(e.ctx, sub.ID); err != nil {
		t.Fatalf("a GET unsubscribed: %v", err)
	}
	if got := post(path); got != http.StatusOK {
		t.Fatalf("one-click POST = %d", got)
	}
	if _, err := e.store.Subscriber(e.ctx, sub.ID); tocsin.ErrorCode(err) != tocsin.ENOTFOUND {
		t.Fatalf("subscriber still there: %v", err)
	}
	if _, err := e.store.Subscriber(e.ctx, other.ID); err != nil {
		t.Fatalf("the other subscriber went too: %v", err)
	}
	if got := post(path); got != http.StatusNotFound {
		t.Errorf("second POST = %d, want 404", got)
	}
	req, _ := http.NewRequest(http.MethodPost, e.ts.URL+path, strings.NewReader("List-Unsubscribe=One-Click"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "text/html")
	if r := e.do(req); r.Status != http.StatusNotFound || !strings.Contains(r.Body, "<html") {
		t.Errorf("a person pressing a used link's button: %d %q", r.Status, r.Header.Get("Content-Type"))
	}
	entries := auditOf(t, e, "subscriber.unsubscribe")
	if len(entries) != 1 || strings.Contains(entries[0].Before+entries[0].After, "ada") {
		t.Errorf("audit entries %+v", entries)
	}
}

func TestConsoleSubscribers(t *testing.T) {
	e := newTestEnv(t)
	sub := e.confirmedSubscriber(t, "ada@example.org", "fr")
	comm := e.signedIn(e.createUser("comm@example.org", tocsin.RoleCommunicator), "127.0.0.1")
	viewer := e.signedIn(e.createUser("view@example.org", tocsin.RoleViewer), "127.0.0.1")
	if r := viewer.get("/console/subscribers"); r.Status != http.StatusForbidden {
		t.Errorf("viewer: %d, want 403", r.Status)
	}
	r := comm.get("/console/subscribers")
	if r.Status != http.StatusOK || !strings.Contains(r.Body, "ada@example.org") {
		t.Fatalf("list = %d\n%s", r.Status, r.Body)
	}
	r = comm.get(fmt.Sprintf("/console/subscribers/%d/export", sub.ID))
	if r.Status != http.StatusOK || !strings.HasPrefix(r.Header.Get("Content-Disposition"), "attachment") {
		t.Fatalf("export = %d %v", r.Status, r.Header)
	}
	var got subscriberExport
	if err := json.Unmarshal([]byte(r.Body), &got); err != nil || got.Email != "ada@example.org" || got.Lang != "fr" || !got.AllServices {
		t.Fatalf("export %v: %s", err, r.Body)
	}
	if len(auditOf(t, e, "subscriber.export")) != 1 {
		t.Error("the export is not in the audit log")
	}
	r = comm.post(fmt.Sprintf("/console/subscribers/%d/erase", sub.ID), nil)
	if r.Status != http.StatusSeeOther {
		t.Fatalf("erase = %d\n%s", r.Status, r.Body)
	}
	if _, err := e.store.Subscriber(e.ctx, sub.ID); tocsin.ErrorCode(err) != tocsin.ENOTFOUND {
		t.Fatalf("erased subscriber still there: %v", err)
	}
	for _, a := range auditOf(t, e, "subscriber.") {
		if strings.Contains(a.Before+a.After+a.Target, "ada@") {
			t.Errorf("audit entry %s keeps the address: %+v", a.Action, a)
		}
	}
	if r := comm.post(fmt.Sprintf("/console/subscribers/%d/erase", sub.ID), nil); r.Status != http.StatusNotFound {
		t.Errorf("erasing again = %d, want 404", r.Status)
	}
}

// Publishing an incident and updating it notify each matching confirmed
// subscriber once, in its language, with the RFC 8058 headers.
func TestFanoutOfPublishedUpdates(t *testing.T) {
	e := newTestEnv(t)
	var mail, wiki tocsin.Service
	mail.Name, wiki.Name = "Mail", "Wiki"
	for _, s := range []*tocsin.Service{&mail, &wiki} {
		if err := e.store.CreateService(e.ctx, tocsin.CLI, s); err != nil {
			t.Fatal(err)
		}
	}
	all := e.confirmedSubscriber(t, "all@example.org", "fr")
	mailOnly := e.confirmedSubscriber(t, "mail@example.org", "en", mail.ID)
	e.confirmedSubscriber(t, "wiki@example.org", "en", wiki.ID)
	plain, hash, _ := auth.NewToken("tcc_")
	pending := &tocsin.SubscribeRequest{Email: "pending@example.org", Lang: "en", AllServices: true, TokenHash: hash,
		Confirm: &tocsin.Message{Channel: tocsin.ChannelEmail, To: "pending@example.org", Body: plain, Key: "c:" + hash}}
	if _, err := e.store.Subscribe(e.ctx, tocsin.CLI, pending); err != nil {
		t.Fatal(err)
	}
	token, _ := e.createToken("comm2", tocsin.RoleCommunicator)
	r := e.call("POST", "/api/v1/incidents", token, fmt.Sprintf(`{"title":"Mail down","services":[{"id":%d,"status":"major_outage"}],
		"status":"investigating","body":"We are **looking**.","publish":true}`, mail.ID))
	if r.Status != http.StatusCreated {
		t.Fatalf("create = %d %s", r.Status, r.Body)
	}
	var inc struct{ ID int64 }
	_ = json.Unmarshal([]byte(r.Body), &inc)
	draft := e.call("POST", "/api/v1/incidents", token, `{"title":"Draft","status":"investigating","body":"Not public."}`)
	if draft.Status != http.StatusCreated {
		t.Fatal(draft.Body)
	}

	fan := notify.NewFanout(e.store, e.subscriberMail(), notify.FanoutOptions{BatchSize: 1}, nil)
	run := func() int {
		n, err := fan.RunOnce(e.ctx)
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	if n := run(); n != 2 {
		t.Fatalf("first fan-out enqueued %d, want 2 (all + mail)", n)
	}
	if n := run(); n != 0 {
		t.Fatalf("second fan-out enqueued %d, want 0", n)
	}
	byTo := map[string]*tocsin.Message{}
	for _, m := range e.messages() {
		if strings.HasPrefix(m.Key, "notice:") {
			if byTo[m.To] != nil {
				t.Errorf("two messages to %s", m.To)
			}
			byTo[m.To] = m
		}
	}
	fr, en := byTo["all@example.org"], byTo["mail@example.org"]
	if fr == nil || en == nil || len(byTo) != 2 {
		t.Fatalf("recipients %v", byTo)
	}
	if !strings.Contains(fr.Subject, "Analyse en cours") || !strings.Contains(fr.Body, "We are looking.") ||
		!strings.Contains(fr.Body, fmt.Sprintf("/fr/incidents/%d/", inc.ID)) || !strings.Contains(fr.Body, e.subscriberMail().UnsubscribeURL(all)) {
		t.Errorf("French mail:\n%s\n%s", fr.Subject, fr.Body)
	}
	if en.Headers["List-Unsubscribe"] != "<"+e.subscriberMail().UnsubscribeURL(mailOnly)+">" ||
		en.Headers["List-Unsubscribe-Post"] != "List-Unsubscribe=One-Click" {
		t.Errorf("headers %v", en.Headers)
	}

	if r := e.call("POST", fmt.Sprintf("/api/v1/incidents/%d/updates", inc.ID), token, `{"status":"resolved","body":"Fixed."}`); r.Status != http.StatusOK {
		t.Fatalf("update = %d %s", r.Status, r.Body)
	}
	if n := run(); n != 2 {
		t.Fatalf("the resolution enqueued %d, want 2", n)
	}
}

// failingAdvance makes the fan-out's transaction fail once, after a given
// number of batches, as a crash between two batches would.
type failingAdvance struct {
	notify.FanoutStore
	okBatches int
	calls     int
}

func (f *failingAdvance) AdvanceNotice(ctx context.Context, id, cursor int64, done bool, msgs []*tocsin.Message) error {
	f.calls++
	if f.calls == f.okBatches+1 {
		return errors.New("connection lost")
	}
	return f.FanoutStore.AdvanceNotice(ctx, id, cursor, done, msgs)
}

// A fan-out stopped between batches resumes from the notice's cursor and
// sends each subscriber one message in all.
func TestFanoutResumesAfterAFailedBatch(t *testing.T) {
	e := newTestEnv(t)
	const n = 25
	for i := range n {
		e.confirmedSubscriber(t, fmt.Sprintf("s%02d@example.org", i), "en")
	}
	if err := e.store.NotifySubscribers(e.ctx, tocsin.CLI, &tocsin.Notice{Key: "maintenance:7:reminder", Kind: tocsin.NoticeMaintenance,
		Title: "Database upgrade", Status: "scheduled", Body: "Tonight, *22:00*.", Path: "/maintenance/7/"}); err != nil {
		t.Fatal(err)
	}
	broken := &failingAdvance{FanoutStore: e.store, okBatches: 2}
	if _, err := notify.NewFanout(broken, e.subscriberMail(), notify.FanoutOptions{BatchSize: 10}, nil).RunOnce(e.ctx); err == nil {
		t.Fatal("the failed batch was not reported")
	}
	notices := func() []*tocsin.Message {
		var out []*tocsin.Message
		for _, m := range e.messages() {
			if strings.HasPrefix(m.Key, "notice:") {
				out = append(out, m)
			}
		}
		return out
	}
	if got := len(notices()); got != 20 {
		t.Fatalf("%d messages after two batches, want 20", got)
	}
	if _, err := notify.NewFanout(e.store, e.subscriberMail(), notify.FanoutOptions{BatchSize: 10}, nil).RunOnce(e.ctx); err != nil {
		t.Fatal(err)
	}
	seen := map[string]int{}
	for _, m := range notices() {
		seen[m.To]++
		if !strings.Contains(m.Body, "Details of this maintenance") || !strings.Contains(m.Body, "/en/maintenance/7/") {
			t.Fatalf("maintenance mail:\n%s", m.Body)
		}
	}
	if len(seen) != n {
		t.Fatalf("%d recipients, want %d", len(seen), n)
	}
	for to, k := range seen {
		if k != 1 {
			t.Errorf("%s got %d messages", to, k)
		}
	}
}
