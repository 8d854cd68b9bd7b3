package httpserver

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tocsin-org/tocsin"
	"github.com/tocsin-org/tocsin/notify"
)

// A webhook created through the API receives each published update of its
// services as signed JSON; the receiver here checks the signature as a
// real one would.
func TestWebhookDeliversSignedPayloads(t *testing.T) {
	e := newTestEnv(t)
	mail := &tocsin.Service{Name: "Mail"}
	wiki := &tocsin.Service{Name: "Wiki"}
	for _, s := range []*tocsin.Service{mail, wiki} {
		if err := e.store.CreateService(e.ctx, tocsin.CLI, s); err != nil {
			t.Fatal(err)
		}
	}
	token, _ := e.createToken("comm", tocsin.RoleCommunicator)

	var (
		mu       sync.Mutex
		secret   []byte
		received []map[string]any
		status   = http.StatusOK
	)
	hookSrv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		mu.Lock()
		defer mu.Unlock()
		if err := notify.VerifySignature(secret, r.Header.Get(notify.SignatureHeader), body, time.Now(), 5*time.Minute); err != nil {
			t.Errorf("signature: %v", err)
			http.Error(w, "bad signature", http.StatusUnauthorized)
			return
		}
		var p map[string]any
		if err := json.Unmarshal(body, &p); err != nil {
			t.Errorf("payload: %v", err)
		}
		received = append(received, p)
		w.WriteHeader(status)
	}))
	t.Cleanup(hookSrv.Close)

	create := func(body string) (int64, string) {
		r := e.call("POST", "/api/v1/webhooks", token, body)
		if r.Status != http.StatusCreated {
			t.Fatalf("create webhook = %d %s", r.Status, r.Body)
		}
		var out webhookJSON
		_ = json.Unmarshal([]byte(r.Body), &out)
		if !strings.HasPrefix(out.Secret, "whsec_") {
			t.Fatalf("no secret in %s", r.Body)
		}
		return out.ID, out.Secret
	}
	id, plain := create(fmt.Sprintf(`{"url":%q,"services":[%d]}`, hookSrv.URL+"/hook", mail.ID))
	secret = []byte(plain)
	create(fmt.Sprintf(`{"url":%q,"services":[%d]}`, hookSrv.URL+"/wiki", wiki.ID)) // not concerned
	if r := e.call("GET", "/api/v1/webhooks", token, ""); strings.Contains(r.Body, plain) {
		t.Error("the secret is shown again in the list")
	}

	if r := e.call("POST", "/api/v1/incidents", token, fmt.Sprintf(`{"title":"Mail down","impact":"major",
		"services":[{"id":%d,"status":"major_outage"}],"status":"investigating","body":"Looking.","publish":true}`, mail.ID)); r.Status != http.StatusCreated {
		t.Fatalf("incident = %d %s", r.Status, r.Body)
	}
	fan := notify.NewFanout(e.store, e.subscriberMail(), notify.FanoutOptions{}, nil)
	if _, err := fan.RunOnce(e.ctx); err != nil {
		t.Fatal(err)
	}
	var hooks []*tocsin.Message
	for _, m := range e.messages() {
		if m.Channel == tocsin.ChannelWebhook {
			hooks = append(hooks, m)
		}
	}
	if len(hooks) != 1 || hooks[0].To != hookSrv.URL+"/hook" {
		t.Fatalf("webhook messages %+v", hooks)
	}
	ch := &notify.Webhook{Store: e.store, Box: e.box}
	if err := ch.Validate(); err != nil {
		t.Fatal(err)
	}
	if err := ch.Send(e.ctx, hooks[0]); err != nil {
		t.Fatalf("send: %v", err)
	}
	mu.Lock()
	if len(received) != 1 {
		t.Fatalf("received %d payloads", len(received))
	}
	p := received[0]
	mu.Unlock()
	inc, _ := p["incident"].(map[string]any)
	updates, _ := inc["incident_updates"].([]any)
	comps, _ := p["component_updates"].([]any)
	if inc["name"] != "Mail down" || inc["status"] != "investigating" || inc["impact"] != "major" || len(updates) != 1 || len(comps) != 1 ||
		p["meta"] == nil || p["page"] == nil {
		t.Errorf("payload %v", p)
	}

	// A non-2xx answer is an error the outbox retries, not a permanent one.
	mu.Lock()
	status = http.StatusServiceUnavailable
	mu.Unlock()
	if err := ch.Send(e.ctx, hooks[0]); err == nil || notify.IsPermanent(err) {
		t.Errorf("503: %v, want a retryable error", err)
	}
	// A deleted subscription gives its queued messages up.
	if r := e.call("DELETE", fmt.Sprintf("/api/v1/webhooks/%d", id), token, ""); r.Status != http.StatusNoContent {
		t.Fatalf("delete = %d", r.Status)
	}
	if err := ch.Send(e.ctx, hooks[0]); !notify.IsPermanent(err) {
		t.Errorf("deleted webhook: %v, want permanent", err)
	}
	for _, a := range auditOf(t, e, "webhook.") {
		if strings.Contains(a.Before+a.After, plain) {
			t.Errorf("audit keeps the secret: %+v", a)
		}
	}
}

func TestWebhookSignature(t *testing.T) {
	secret, body, at := []byte("whsec_x"), []byte(`{"a":1}`), time.Unix(1_700_000_000, 0)
	h := notify.Sign(secret, at, body)
	for _, tc := range []struct {
		name   string
		secret []byte
		header string
		body   []byte
		now    time.Time
		ok     bool
	}{
		{"valid", secret, h, body, at.Add(time.Minute), true},
		{"tampered body", secret, h, []byte(`{"a":2}`), at, false},
		{"other secret", []byte("whsec_y"), h, body, at, false},
		{"replayed later", secret, h, body, at.Add(time.Hour), false},
		{"malformed", secret, "v1=abc", body, at, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := notify.VerifySignature(tc.secret, tc.header, tc.body, tc.now, 5*time.Minute)
			if (err == nil) != tc.ok {
				t.Errorf("VerifySignature = %v, want ok=%v", err, tc.ok)
			}
		})
	}
}

func TestConsoleWebhooks(t *testing.T) {
	e := newTestEnv(t)
	comm := e.signedIn(e.createUser("comm@example.org", tocsin.RoleCommunicator), "127.0.0.1")
	r := comm.post("/console/webhooks", map[string][]string{"url": {"javascript:alert(1)"}, "scope": {"all"}})
	if r.Status != http.StatusBadRequest || !strings.Contains(r.Text, "http:// or https://") {
		t.Fatalf("bad URL = %d", r.Status)
	}
	if hooks, _ := e.store.Webhooks(e.ctx); len(hooks) != 0 {
		t.Fatal("a refused webhook was stored")
	}
	r = comm.post("/console/webhooks", map[string][]string{"url": {"https://hooks.example.org/x"}, "scope": {"all"}})
	if r.Status != http.StatusCreated || !strings.Contains(r.Body, "whsec_") {
		t.Fatalf("create = %d", r.Status)
	}
	if r = comm.get("/console/webhooks"); strings.Contains(r.Body, "whsec_") {
		t.Error("the secret is shown again")
	}
	hooks, _ := e.store.Webhooks(e.ctx)
	if len(hooks) != 1 {
		t.Fatalf("%d webhooks", len(hooks))
	}
	if r = comm.post(fmt.Sprintf("/console/webhooks/%d/delete", hooks[0].ID), nil); r.Status != http.StatusSeeOther {
		t.Fatalf("delete = %d", r.Status)
	}
}
