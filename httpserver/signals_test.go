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
	"github.com/tocsin-org/tocsin/config"
)

var receiptRe = regexp.MustCompile(`<strong id="receipt">([0-9A-Z]{4}-[0-9A-Z]{4})</strong>`)

// onlySignal returns the one signal stored, failing unless there is exactly one.
func (e *testEnv) signals() []*tocsin.Signal {
	e.t.Helper()
	list, err := e.store.Signals(e.ctx, tocsin.SignalFilter{})
	if err != nil {
		e.t.Fatal(err)
	}
	return list
}

func TestReportForm(t *testing.T) {
	script := `<script>alert("x")</script>`
	long := strings.Repeat("é", tocsin.MaxSignalBody/2) + "TAIL-MARKER" // 64 KiB + a little, in bytes
	tests := []struct {
		name        string
		form        url.Values
		lang        string
		wantStatus  int
		wantText    []string // in the page, entities decoded
		wantRaw     []string // in the page as sent (escaping checked)
		stored      bool
		wantSubject string
	}{
		{
			name:       "valid, with contact",
			form:       url.Values{"subject": {"Bucket lists its files"}, "body": {"https://s3.example/backups/?list-type=2"}, "contact": {"finder@example.net"}},
			wantStatus: http.StatusOK, wantText: []string{"Report received", "We will write to the address you gave"},
			stored: true, wantSubject: "Bucket lists its files",
		},
		{
			name:       "valid, anonymous, in French",
			form:       url.Values{"subject": {"Clé TLS publiée"}, "body": {"Dans le dépôt public."}},
			lang:       "fr",
			wantStatus: http.StatusOK, wantText: []string{"Signalement reçu", "Vous n’avez pas laissé d’adresse de contact"},
			stored: true, wantSubject: "Clé TLS publiée",
		},
		{
			name:       "script everywhere is kept as text and shown escaped",
			form:       url.Values{"subject": {script}, "body": {script}, "contact": {"x"}},
			wantStatus: http.StatusOK, wantRaw: []string{"Report received"},
			stored: true, wantSubject: script,
		},
		{
			name:       "empty subject: refused, text kept",
			form:       url.Values{"subject": {"  "}, "body": {"My precious findings " + script}, "contact": {"me@example.net"}},
			wantStatus: http.StatusBadRequest,
			wantText:   []string{"A report needs a subject.", "My precious findings " + script, `value="me@example.net"`},
			wantRaw:    []string{"&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;"},
		},
		{
			name:       "empty description, in French",
			form:       url.Values{"subject": {"Objet"}, "body": {"\r\n"}},
			lang:       "fr",
			wantStatus: http.StatusBadRequest, wantText: []string{"Un signalement a besoin d’une description.", `value="Objet"`},
		},
		{
			name:       "description over 64 KiB: refused, text kept",
			form:       url.Values{"subject": {"Long"}, "body": {long}},
			wantStatus: http.StatusBadRequest, wantText: []string{"over the limit of 64 KiB", "TAIL-MARKER"},
		},
		{
			name:       "control character",
			form:       url.Values{"subject": {"NUL"}, "body": {"a\x00b"}},
			wantStatus: http.StatusBadRequest, wantText: []string{"control character"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newTestEnv(t)
			b := e.browser("127.0.0.1")
			if tc.lang != "" {
				b.Header.Set("Accept-Language", tc.lang)
			}
			b.get("/report")
			r := b.post("/report", tc.form)
			if r.Status != tc.wantStatus {
				t.Fatalf("status %d, want %d: %.500s", r.Status, tc.wantStatus, r.Text)
			}
			for _, w := range tc.wantText {
				if !strings.Contains(r.Text, w) {
					t.Errorf("page lacks %q", w)
				}
			}
			for _, w := range tc.wantRaw {
				if !strings.Contains(r.Body, w) {
					t.Errorf("page source lacks %q", w)
				}
			}
			if strings.Contains(r.Body, script) {
				t.Errorf("the page holds the script unescaped")
			}
			got := e.signals()
			if !tc.stored {
				if len(got) != 0 {
					t.Fatalf("a refused report was stored: %+v", got[0])
				}
				return
			}
			if len(got) != 1 {
				t.Fatalf("%d signals stored, want 1", len(got))
			}
			m := receiptRe.FindStringSubmatch(r.Body)
			if m == nil || m[1] != got[0].Receipt {
				t.Errorf("receipt shown %v, stored %q", m, got[0].Receipt)
			}
			s := got[0]
			if s.Source != tocsin.SourceForm || s.Subject != tc.wantSubject || s.Body != tc.form.Get("body") ||
				s.Contact != tc.form.Get("contact") || s.SourceNet != "127.0.0.1" || s.State != tocsin.SignalOpen {
				t.Errorf("stored %+v", s)
			}
		})
	}

	t.Run("form over the transport limit", func(t *testing.T) {
		e := newTestEnv(t)
		b := e.browser("127.0.0.1")
		r := b.post("/report", url.Values{"subject": {"Huge"}, "body": {strings.Repeat("a", reportFormBytes+1)}})
		if r.Status != http.StatusRequestEntityTooLarge || !strings.Contains(r.Text, "nothing was saved") {
			t.Fatalf("status %d: %.300s", r.Status, r.Text)
		}
		if n := len(e.signals()); n != 0 {
			t.Fatalf("%d signals stored", n)
		}
	})
	t.Run("forged from another site", func(t *testing.T) {
		e := newTestEnv(t)
		b := e.browser("127.0.0.1")
		r := b.postRaw("/report", url.Values{"subject": {"s"}, "body": {"b"}}.Encode())
		if r.Status != http.StatusForbidden || len(e.signals()) != 0 {
			t.Fatalf("status %d without a CSRF token, %d signals", r.Status, len(e.signals()))
		}
	})
	t.Run("no cookie but the CSRF one, no session needed", func(t *testing.T) {
		e := newTestEnv(t)
		r := e.browser("127.0.0.1").get("/report")
		if r.Status != http.StatusOK || !strings.Contains(r.Text, "Report a security problem") {
			t.Fatalf("status %d", r.Status)
		}
		for _, c := range r.Header.Values("Set-Cookie") {
			if strings.HasPrefix(c, sessionCookie) {
				t.Errorf("a session cookie was set: %s", c)
			}
		}
	})
}

func TestReportThrottle(t *testing.T) {
	e := newTestEnv(t, func(c *config.Config) { c.Intake.Email = "security@example.org" })
	flood := e.browser("127.0.0.2")
	send := func(b *browser, i int) *response {
		return b.post("/report", url.Values{"subject": {fmt.Sprintf("Report %d", i)}, "body": {fmt.Sprintf("Body %d", i)}})
	}
	// ReportBackoff lets 5 through freely, the 6th right after them too
	// (the delay starts after it), then makes the 7th wait a minute.
	for i := 1; i <= 6; i++ {
		if r := send(flood, i); r.Status != http.StatusOK {
			t.Fatalf("report %d: status %d: %.300s", i, r.Status, r.Text)
		}
	}
	r := send(flood, 7)
	if r.Status != http.StatusTooManyRequests {
		t.Fatalf("report 7: status %d, want 429", r.Status)
	}
	for _, w := range []string{"Too many reports came from your network", "Try again in 1 minute", "security@example.org", "Body 7", `value="Report 7"`} {
		if !strings.Contains(r.Text, w) {
			t.Errorf("refusal lacks %q: %.600s", w, r.Text)
		}
	}
	if n := len(e.signals()); n != 6 {
		t.Fatalf("%d signals stored, want 6", n)
	}
	if r := send(e.browser("127.0.0.3"), 1); r.Status != http.StatusOK {
		t.Errorf("another network: status %d, want 200", r.Status)
	}
	e.clock.Advance(2 * time.Minute)
	if r := send(flood, 8); r.Status != http.StatusOK {
		t.Errorf("after the wait: status %d, want 200", r.Status)
	}
}

func TestSecurityTxt(t *testing.T) {
	tests := []struct {
		name  string
		tweak func(*config.Config)
		want  map[string][]string // field → values, in order
	}{
		{
			name:  "form only",
			tweak: func(c *config.Config) { c.BaseURL = "https://tocsin.example.org/" },
			want: map[string][]string{
				"Contact":             {"https://tocsin.example.org/report"},
				"Preferred-Languages": {"fr, en"},
				"Canonical":           {"https://tocsin.example.org/.well-known/security.txt"},
			},
		},
		{
			name: "mailbox, policy and a status page address",
			tweak: func(c *config.Config) {
				c.BaseURL = "https://tocsin.example.org"
				c.Page.URL = "https://status.example.org/"
				c.Intake.Email = "security@example.org"
				c.Intake.Policy = "https://example.org/disclosure"
			},
			want: map[string][]string{
				"Contact":             {"mailto:security@example.org", "https://tocsin.example.org/report"},
				"Preferred-Languages": {"fr, en"},
				"Canonical":           {"https://tocsin.example.org/.well-known/security.txt", "https://status.example.org/.well-known/security.txt"},
				"Policy":              {"https://example.org/disclosure"},
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newTestEnv(t, tc.tweak)
			r := e.call(http.MethodGet, "/.well-known/security.txt", "", "")
			if r.Status != http.StatusOK {
				t.Fatalf("status %d", r.Status)
			}
			// RFC 9116 §3: text/plain, UTF-8.
			if ct := r.Header.Get("Content-Type"); ct != "text/plain; charset=utf-8" {
				t.Errorf("Content-Type %q", ct)
			}
			if len(r.Header.Values("Set-Cookie")) > 0 {
				t.Errorf("cookies set: %v", r.Header.Values("Set-Cookie"))
			}
			got := map[string][]string{}
			for _, line := range strings.Split(strings.TrimSuffix(r.Body, "\n"), "\n") {
				// §4: "field-name: value", names case-insensitive, no blank or
				// comment lines needed.
				name, value, ok := strings.Cut(line, ": ")
				if !ok || name == "" || strings.TrimSpace(value) != value || value == "" {
					t.Fatalf("line %q is not a field", line)
				}
				got[name] = append(got[name], value)
			}
			// §2.5.5: Expires exactly once, an RFC 3339 time in the future, less than a year ahead.
			exp := got["Expires"]
			delete(got, "Expires")
			if len(exp) != 1 {
				t.Fatalf("Expires %v, want exactly one", exp)
			}
			at, err := time.Parse(time.RFC3339, exp[0])
			if err != nil {
				t.Fatalf("Expires %q: %v", exp[0], err)
			}
			if now := e.clock.Now(); !at.After(now) || at.After(now.AddDate(1, 0, 0)) {
				t.Errorf("Expires %v is not within a year ahead of %v", at, now)
			}
			// §2.5.3: at least one Contact, each a URI (mailto: or https:).
			for _, c := range got["Contact"] {
				if u, err := url.Parse(c); err != nil || (u.Scheme != "mailto" && u.Scheme != "https") {
					t.Errorf("Contact %q is not a mailto: or https: URI", c)
				}
			}
			// §2.5.8: Preferred-Languages at most once; §2.5.2 and §2.5.7:
			// Canonical and Policy are https URIs.
			if len(got["Preferred-Languages"]) > 1 {
				t.Errorf("Preferred-Languages appears %d times", len(got["Preferred-Languages"]))
			}
			for _, k := range []string{"Canonical", "Policy"} {
				for _, v := range got[k] {
					if !strings.HasPrefix(v, "https://") {
						t.Errorf("%s %q is not https", k, v)
					}
				}
			}
			if fmt.Sprint(got) != fmt.Sprint(tc.want) {
				t.Errorf("fields\n got %v\nwant %v", got, tc.want)
			}
		})
	}
}

func TestConsoleSignals(t *testing.T) {
	e := newTestEnv(t)
	script := `<img src=x onerror=alert(1)>`
	sig := &tocsin.Signal{Source: tocsin.SourceEmail, Subject: "Bucket " + script, Body: "Listing:\n" + script, Contact: "finder@example.net",
		Attachments: []tocsin.Attachment{{Name: script + ".txt", Type: "text/plain", Size: 12}}}
	if err := e.store.CreateSignal(e.ctx, tocsin.System, sig); err != nil {
		t.Fatal(err)
	}
	older := &tocsin.Signal{Source: tocsin.SourceForm, Subject: "Older", Body: "b", ReceivedAt: e.clock.Now().Add(-3 * time.Hour)}
	if err := e.store.CreateSignal(e.ctx, tocsin.System, older); err != nil {
		t.Fatal(err)
	}
	viewer := e.signedIn(e.createUser("viewer@example.org", tocsin.RoleViewer), "127.0.0.1")
	responder := e.signedIn(e.createUser("responder@example.org", tocsin.RoleResponder), "127.0.0.1")
	detail := fmt.Sprintf("/console/signals/%d", sig.ID)

	t.Run("viewer reads the queue and the report, escaped", func(t *testing.T) {
		r := viewer.get("/console/signals")
		if r.Status != http.StatusOK {
			t.Fatalf("status %d", r.Status)
		}
		if strings.Contains(r.Body, script) || !strings.Contains(r.Text, "Bucket "+script) {
			t.Errorf("subject not shown escaped")
		}
		if i, j := strings.Index(r.Body, "Bucket"), strings.Index(r.Body, "Older"); i < 0 || j < i {
			t.Errorf("newest open signal not first")
		}
		if !strings.Contains(r.Text, "3 h ago") || !strings.Contains(r.Text, "E-mail") || !strings.Contains(r.Text, "Public form") {
			t.Errorf("age or source missing: %.1000s", r.Text)
		}
		r = viewer.get(detail)
		if r.Status != http.StatusOK || strings.Contains(r.Body, script) {
			t.Fatalf("detail: status %d, or script unescaped", r.Status)
		}
		for _, w := range []string{"Listing:\n" + script, "finder@example.net", script + ".txt (text/plain, 12 bytes)", sig.Receipt} {
			if !strings.Contains(r.Text, w) {
				t.Errorf("detail lacks %q", w)
			}
		}
		if strings.Contains(r.Body, "/dismiss") {
			t.Errorf("a viewer is offered the dismissal form")
		}
		if r := viewer.post(detail+"/acknowledge", nil); r.Status != http.StatusForbidden {
			t.Errorf("viewer acknowledges: status %d", r.Status)
		}
	})
	t.Run("French", func(t *testing.T) {
		fr := e.signedIn(e.createUser("fr@example.org", tocsin.RoleViewer), "127.0.0.1")
		fr.Header.Set("Accept-Language", "fr")
		r := fr.get("/console/signals")
		if !strings.Contains(r.Text, "Signalements") || !strings.Contains(r.Text, "Courriel") || !strings.Contains(r.Text, "il y a 3 h") {
			t.Errorf("not in French: %.800s", r.Text)
		}
	})
	t.Run("responder acknowledges then dismisses with a reason", func(t *testing.T) {
		r := responder.post(detail+"/acknowledge", nil)
		if r.Status != http.StatusOK || !strings.Contains(r.Text, "Signal acknowledged.") || !strings.Contains(r.Text, "responder@example.org") {
			t.Fatalf("acknowledge: status %d: %.500s", r.Status, r.Text)
		}
		if r := responder.post(detail+"/acknowledge", nil); r.Status != http.StatusConflict || !strings.Contains(r.Text, "cannot become acknowledged") {
			t.Errorf("second acknowledgement: status %d", r.Status)
		}
		// The states are named in the reader's language.
		responder.Header.Set("Accept-Language", "fr")
		if r := responder.post(detail+"/acknowledge", nil); r.Status != http.StatusConflict ||
			!strings.Contains(r.Text, "à l’état « pris en compte » ; il ne peut pas passer à « pris en compte »") {
			t.Errorf("second acknowledgement in French: status %d: %.600s", r.Status, r.Text)
		}
		responder.Header.Del("Accept-Language")
		r = responder.post(detail+"/dismiss", url.Values{"reason": {"  "}})
		if r.Status != http.StatusBadRequest || !strings.Contains(r.Text, "Say why the signal is dismissed.") {
			t.Fatalf("dismiss without reason: status %d", r.Status)
		}
		reason := "Our own scanner <b>test</b>."
		r = responder.post(detail+"/dismiss", url.Values{"reason": {reason}})
		if r.Status != http.StatusOK || !strings.Contains(r.Text, reason) || strings.Contains(r.Body, "<b>test</b>") {
			t.Fatalf("dismiss: status %d", r.Status)
		}
		got, _ := e.store.Signal(e.ctx, sig.ID)
		if got.State != tocsin.SignalDismissed || got.Reason != reason || got.ClosedBy != "responder@example.org" {
			t.Errorf("stored %+v", got)
		}
		if r := responder.post(detail+"/dismiss", url.Values{"reason": {"again"}}); r.Status != http.StatusConflict {
			t.Errorf("second dismissal: status %d", r.Status)
		}
	})
	t.Run("unknown signal", func(t *testing.T) {
		if r := viewer.get("/console/signals/424242"); r.Status != http.StatusNotFound {
			t.Errorf("status %d", r.Status)
		}
	})
}

func TestAPISignalsBadInput(t *testing.T) {
	e := newTestEnv(t)
	tok, _ := e.createToken("script", tocsin.RoleResponder)
	tests := []struct {
		name   string
		body   string
		status int
		code   string
	}{
		{"description over 64 KiB", fmt.Sprintf(`{"subject":"s","body":%q}`, strings.Repeat("a", tocsin.MaxSignalBody+1)), 400, tocsin.EINVALID},
		{"body over the API limit", fmt.Sprintf(`{"subject":"s","body":%q}`, strings.Repeat("a", maxJSONBytes)), 413, tocsin.ETOOLARGE},
		{"empty subject", `{"subject":"","body":"b"}`, 400, tocsin.EINVALID},
		{"unknown field", `{"subject":"s","body":"b","source":"email"}`, 400, tocsin.EINVALID},
		{"NUL escape", `{"subject":"s","body":"a\u0000b"}`, 400, tocsin.EINVALID},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			apiError(t, e.call(http.MethodPost, "/api/v1/signals", tok, tc.body), tc.status, tc.code)
		})
	}
	if n := len(e.signals()); n != 0 {
		t.Fatalf("%d signals stored from bad input", n)
	}
	t.Run("HTML stays text in JSON", func(t *testing.T) {
		r := e.call(http.MethodPost, "/api/v1/signals", tok, `{"subject":"<script>x</script>","body":"b"}`)
		if r.Status != http.StatusCreated || strings.Contains(r.Body, "<script>") {
			t.Fatalf("status %d: %s", r.Status, r.Body)
		}
		got := decodeAs[signalJSON](t, r)
		if got.Subject != "<script>x</script>" || got.Source != "api" || got.State != "open" {
			t.Errorf("created %+v", got)
		}
	})
}
