package httpserver

import (
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/tocsin-org/tocsin"
	"github.com/tocsin-org/tocsin/notify"
)

// pagingEnv is a server whose pages carry signed links, with Ann (French,
// responder) alone in a weekly rota that the policy pages.
func pagingEnv(t *testing.T) (*testEnv, *testUser) {
	t.Helper()
	e := newTestEnv(t)
	e.store.SetPageComposer(notify.Pages{BaseURL: e.ts.URL, Key: e.box.DeriveKey(notify.PageAckKeyLabel), Location: e.srv.loc})
	ann := e.createUser("ann@example.org", tocsin.RoleResponder)
	if err := e.store.SetLang(e.ctx, tocsin.CLI, ann.ID, "fr"); err != nil {
		t.Fatal(err)
	}
	rota := &tocsin.Rota{Name: "Ops", Zone: "Europe/Paris", Start: time.Date(2026, 1, 5, 8, 0, 0, 0, time.UTC), PeriodDays: 7, Members: []int64{ann.ID}}
	if err := e.store.SaveRota(e.ctx, tocsin.CLI, rota); err != nil {
		t.Fatal(err)
	}
	if err := e.store.SetEscalationPolicy(e.ctx, tocsin.CLI, &tocsin.EscalationPolicy{Levels: []tocsin.EscalationLevel{{RotaID: rota.ID}}}); err != nil {
		t.Fatal(err)
	}
	return e, ann
}

var ackLinkRe = regexp.MustCompile(`/ack/[A-Za-z0-9_.-]+`)

// pageLink returns the acknowledgement link of the newest page mail.
func pageLink(t *testing.T, e *testEnv) (string, *tocsin.Message) {
	t.Helper()
	for _, m := range e.messages() {
		if strings.HasPrefix(m.Key, "page:") {
			link := ackLinkRe.FindString(m.Body)
			if link == "" {
				t.Fatalf("no acknowledgement link in the page:\n%s", m.Body)
			}
			return link, m
		}
	}
	t.Fatal("no page in the outbox")
	return "", nil
}

func onlyPage(t *testing.T, e *testEnv) *tocsin.Page {
	t.Helper()
	ps, err := e.store.Pages(e.ctx, tocsin.PageFilter{})
	if err != nil || len(ps) == 0 {
		t.Fatalf("pages = %v, %v", ps, err)
	}
	return ps[0]
}

func TestReportPagesOnCall(t *testing.T) {
	e, ann := pagingEnv(t)
	before := e.kicks.Load()
	b := e.browser("127.0.0.9")
	b.get("/report")
	if r := b.post("/report", url.Values{"subject": {"Bucket lists its files"}, "body": {"https://s3.example.org/backups/ lists every file."}}); r.Status != http.StatusOK {
		t.Fatalf("report: %d %s", r.Status, r.Text)
	}
	if e.kicks.Load() == before {
		t.Error("the outbox was not kicked after a report that pages")
	}
	link, m := pageLink(t, e)
	if m.To != ann.Email || m.Channel != tocsin.ChannelEmail {
		t.Fatalf("page went to %s %s, want Ann's e-mail", m.Channel, m.To)
	}
	for _, want := range []string{"[tocsin] Alerte : Bucket lists its files", "Formulaire public", "Reçu", "Prendre en compte"} {
		if !strings.Contains(m.Subject+"\n"+m.Body, want) {
			t.Errorf("the French page lacks %q:\n%s\n%s", want, m.Subject, m.Body)
		}
	}

	t.Run("a GET changes nothing (mail scanners)", func(t *testing.T) {
		r := e.browser("127.0.0.10").get(link)
		if r.Status != http.StatusOK || !strings.Contains(r.Body, "Bucket lists its files") || !strings.Contains(r.Body, `method="post"`) {
			t.Fatalf("GET link: %d\n%s", r.Status, r.Text)
		}
		if p := onlyPage(t, e); p.State != tocsin.PageOpen {
			t.Fatalf("page is %s after a GET", p.State)
		}
	})
	t.Run("forged links are refused", func(t *testing.T) {
		enc, sig, _ := strings.Cut(strings.TrimPrefix(link, "/ack/"), ".")
		other := tocsin.PageAck{PageID: onlyPage(t, e).ID, UserID: ann.ID, Expires: e.clock.Now().Add(time.Hour)}.Sign([]byte("not the server's key, not at all!"))
		for _, bad := range []string{"/ack/" + enc + "." + strings.Repeat("A", len(sig)), "/ack/" + other, "/ack/garbage"} {
			fb := e.browser("127.0.0.11")
			r := fb.get(bad)
			if r.Status != http.StatusBadRequest || !strings.Contains(r.Text, "not valid") {
				t.Fatalf("GET %s: %d %s", bad, r.Status, r.Text)
			}
			fb.get("/report") // a CSRF token from another page
			if r := fb.post(bad, nil); r.Status != http.StatusBadRequest {
				t.Fatalf("POST %s: %d %s", bad, r.Status, r.Text)
			}
		}
		if p := onlyPage(t, e); p.State != tocsin.PageOpen {
			t.Fatalf("page is %s after forged links", p.State)
		}
	})
	t.Run("a POST without the CSRF token changes nothing", func(t *testing.T) {
		r := e.browser("127.0.0.12").postRaw(link, "")
		if r.Status != http.StatusForbidden {
			t.Fatalf("POST without csrf: %d", r.Status)
		}
	})
	t.Run("one click acknowledges the page and the signal", func(t *testing.T) {
		ab := e.browser("127.0.0.13")
		ab.get(link)
		e.clock.Advance(3 * time.Minute)
		r := ab.post(link, nil)
		if r.Status != http.StatusOK || !strings.Contains(r.Body, `id="ack-done"`) {
			t.Fatalf("POST link: %d %s", r.Status, r.Text)
		}
		p := onlyPage(t, e)
		if p.State != tocsin.PageAcknowledged || p.AcknowledgedBy != ann.Email || p.NextAt != nil {
			t.Fatalf("page = %+v", p)
		}
		sig, err := e.store.Signal(e.ctx, *p.SignalID)
		if err != nil || sig.State != tocsin.SignalAcknowledged || sig.AcknowledgedBy != ann.Email {
			t.Fatalf("signal = %+v, %v", sig, err)
		}
	})
	t.Run("a replayed link says who acknowledged, nothing more", func(t *testing.T) {
		audit := len(auditActions(t, e))
		rb := e.browser("127.0.0.14")
		r := rb.get(link)
		if r.Status != http.StatusConflict || !strings.Contains(r.Text, ann.Email) {
			t.Fatalf("GET replay: %d %s", r.Status, r.Text)
		}
		rb.get("/report")
		if r := rb.post(link, nil); r.Status != http.StatusConflict {
			t.Fatalf("POST replay: %d %s", r.Status, r.Text)
		}
		if got := len(auditActions(t, e)); got != audit {
			t.Fatalf("a replay wrote %d audit entries", got-audit)
		}
	})
	t.Run("an expired link is refused", func(t *testing.T) {
		s := &tocsin.Signal{Source: tocsin.SourceAPI, Subject: "Second report", Body: "x"}
		if err := e.store.CreateSignal(e.ctx, tocsin.CLI, s); err != nil {
			t.Fatal(err)
		}
		link, _ := pageLink(t, e)
		e.clock.Advance(tocsin.PageAckLifetime + time.Hour)
		xb := e.browser("127.0.0.15")
		if r := xb.get(link); r.Status != http.StatusConflict || !strings.Contains(r.Text, "expired") {
			t.Fatalf("GET expired: %d %s", r.Status, r.Text)
		}
		if p := onlyPage(t, e); p.State != tocsin.PageOpen {
			t.Fatalf("the expired link's page is %s", p.State)
		}
	})
}

func auditActions(t *testing.T, e *testEnv) []string {
	t.Helper()
	es, err := e.store.AuditEntries(e.ctx, tocsin.AuditFilter{Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	out := make([]string, len(es))
	for i, a := range es {
		out[i] = a.Action
	}
	return out
}

func TestConsolePages(t *testing.T) {
	e, ann := pagingEnv(t)
	s := &tocsin.Signal{Source: tocsin.SourceAPI, Subject: "Open <b>bucket</b>", Body: "x"}
	if err := e.store.CreateSignal(e.ctx, tocsin.CLI, s); err != nil {
		t.Fatal(err)
	}
	p := onlyPage(t, e)
	viewer := e.signedIn(e.createUser("viewer@example.org", tocsin.RoleViewer), "127.0.0.20")
	r := viewer.get("/console/pages")
	if r.Status != http.StatusOK || !strings.Contains(r.Body, "Open &lt;b&gt;bucket&lt;/b&gt;") || !strings.Contains(r.Text, ann.Email+" — level 1, round 1") {
		t.Fatalf("pages list: %d\n%s", r.Status, r.Text)
	}
	if strings.Contains(r.Body, "/acknowledge") {
		t.Error("a viewer is offered the acknowledge button")
	}
	if r := viewer.post(fmt.Sprintf("/console/pages/%d/acknowledge", p.ID), nil); r.Status != http.StatusForbidden {
		t.Fatalf("viewer acknowledges: %d", r.Status)
	}
	resp := e.signedIn(ann, "127.0.0.21")
	e.clock.Advance(4 * time.Minute)
	if r := resp.post(fmt.Sprintf("/console/pages/%d/acknowledge", p.ID), nil); r.Status != http.StatusOK || !strings.Contains(r.Body, `id="pages-done"`) {
		t.Fatalf("acknowledge: %d %s", r.Status, r.Text)
	}
	if r := resp.post(fmt.Sprintf("/console/pages/%d/acknowledge", p.ID), nil); r.Status != http.StatusConflict || !strings.Contains(r.Text, "Déjà prise en compte par") {
		t.Fatalf("acknowledge twice: %d %s", r.Status, r.Text)
	}
	// By hand, about a security incident; bad input keeps what was typed.
	inc := &tocsin.SecurityIncident{Title: "Server compromise", Severity: tocsin.SEV1, Kind: tocsin.KindServerCompromise}
	if err := e.store.CreateSecurityIncident(e.ctx, tocsin.CLI, inc); err != nil {
		t.Fatal(err)
	}
	if r := resp.post("/console/pages", url.Values{"subject": {"Root shell on web-3"}, "incident": {"abc"}}); r.Status != http.StatusBadRequest || !strings.Contains(r.Body, `value="Root shell on web-3"`) {
		t.Fatalf("bad incident: %d %s", r.Status, r.Text)
	}
	if r := resp.post("/console/pages", url.Values{"subject": {"Root shell on web-3"}, "incident": {"99999"}}); r.Status != http.StatusNotFound {
		t.Fatalf("unknown incident: %d %s", r.Status, r.Text)
	}
	if r := resp.post("/console/pages", url.Values{"subject": {"Root shell on web-3"}, "incident": {fmt.Sprint(inc.ID)}}); r.Status != http.StatusOK || !strings.Contains(r.Body, fmt.Sprintf(`href="/console/security/%d"`, inc.ID)) {
		t.Fatalf("open by hand: %d %s", r.Status, r.Text)
	}
	if got := onlyPage(t, e); got.SecurityIncidentID == nil || *got.SecurityIncidentID != inc.ID || got.OpenedBy != ann.Email {
		t.Fatalf("page by hand = %+v", got)
	}
}

func TestConsoleOncall(t *testing.T) {
	e := newTestEnv(t)
	adm := e.createUser("admin@example.org", tocsin.RoleAdmin)
	bob := e.createUser("bob@example.org", tocsin.RoleResponder)
	if r := e.signedIn(bob, "127.0.0.30").get("/console/oncall"); r.Status != http.StatusForbidden {
		t.Fatalf("a responder opens /console/oncall: %d", r.Status)
	}
	b := e.signedIn(adm, "127.0.0.31")
	rota := url.Values{"name": {"Ops"}, "zone": {"Europe/Paris"}, "start": {"2026-11-16T09:00"}, "period_days": {"7"}, "members": {"admin@example.org\nbob@example.org"}}
	steps := []struct {
		name   string
		path   string
		form   url.Values
		status int
		want   string
	}{
		{"unknown zone keeps the form", "/console/oncall/rotas", with(rota, "zone", "Europe/Atlantis"), 400, `value="Europe/Atlantis"`},
		{"unknown member", "/console/oncall/rotas", with(rota, "members", "carol@example.org"), 400, "carol@example.org"},
		{"bad start", "/console/oncall/rotas", with(rota, "start", "Friday"), 400, "not a date"},
		{"rota", "/console/oncall/rotas", rota, 200, "Rota saved."},
		{"a failed edit keeps what was typed", "/console/oncall/rotas", with(with(with(rota, "id", "1"), "name", "Ops renamed"), "zone", "Mars/Olympus"), 400, `value="Ops renamed"`},
		{"override backwards", "/console/oncall/rotas/1/overrides", url.Values{"who": {"bob@example.org"}, "from": {"2026-12-24T09:00"}, "until": {"2026-12-20T09:00"}}, 400, "ends after it starts"},
		{"override", "/console/oncall/rotas/1/overrides", url.Values{"who": {"bob@example.org"}, "from": {"2026-12-24T09:00"}, "until": {"2026-12-28T09:00"}, "note": {"Christmas"}}, 200, "Christmas"},
		{"policy naming nobody", "/console/oncall/policy", url.Values{"repeat": {"0"}, "rota": {"0"}, "people": {""}, "delay": {"15"}}, 400, "1 to 10 levels"},
		{"policy with a bad delay", "/console/oncall/policy", url.Values{"repeat": {"0"}, "rota": {"1", "0"}, "people": {"", "admin@example.org"}, "delay": {"0", "15"}}, 400, "from 1 minute"},
		{"policy", "/console/oncall/policy", url.Values{"repeat": {"0"}, "rota": {"1", "0"}, "people": {"", "admin@example.org"}, "delay": {"15", "10"}}, 200, "Escalation policy saved."},
		{"matrix contact that is a user", "/console/oncall/contacts", url.Values{"user": {fmt.Sprint(bob.ID)}, "kind": {"matrix"}, "address": {"@bob:example.org"}}, 400, "not a Matrix room"},
		{"sms contact", "/console/oncall/contacts", url.Values{"user": {fmt.Sprint(bob.ID)}, "kind": {"sms"}, "address": {"+33600000000"}}, 400, "Unknown contact kind"},
		{"matrix contact", "/console/oncall/contacts", url.Values{"user": {fmt.Sprint(bob.ID)}, "kind": {"matrix"}, "address": {"!bob:example.org"}}, 200, "!bob:example.org"},
		{"rota in use", "/console/oncall/rotas/1/delete", nil, 409, "change the policy first"},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			r := b.post(st.path, st.form)
			if r.Status != st.status || !strings.Contains(r.Body, st.want) {
				t.Fatalf("%s: %d, want %d with %q\n%s", st.path, r.Status, st.status, st.want, r.Text)
			}
		})
	}
	pol, err := e.store.EscalationPolicy(e.ctx)
	if err != nil || len(pol.Levels) != 2 || pol.Levels[1].Delay != 10*time.Minute || pol.Levels[1].UserIDs[0] != adm.ID {
		t.Fatalf("policy = %+v, %v", pol, err)
	}
	r := b.get("/console/oncall")
	if !strings.Contains(r.Text, "On call now:") {
		t.Errorf("the rota does not say who is on call:\n%s", r.Text)
	}
}

func with(v url.Values, key, value string) url.Values {
	out := url.Values{}
	for k, vs := range v {
		out[k] = append([]string(nil), vs...)
	}
	out.Set(key, value)
	return out
}
