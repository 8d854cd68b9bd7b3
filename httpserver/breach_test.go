package httpserver

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/tocsin-org/tocsin"
	"github.com/tocsin-org/tocsin/config"
	"github.com/tocsin-org/tocsin/i18n"
)

var tags, spaces = regexp.MustCompile(`<[^>]*>`), regexp.MustCompile(`\s+`)

// plain is a page's text without tags, spaces collapsed.
func plain(r *response) string {
	return spaces.ReplaceAllString(tags.ReplaceAllString(r.Text, " "), " ")
}

// breachState is what a refused breach request must leave unchanged.
func (e *testEnv) breachState(id int64) string {
	e.t.Helper()
	b, err := e.store.Breach(e.ctx, id)
	if err != nil && tocsin.ErrorCode(err) != tocsin.ENOTFOUND {
		e.t.Fatal(err)
	}
	j, _ := json.Marshal(b)
	return e.securityState() + string(j)
}

// TestConsoleBreachClock marks an incident a breach from the room and
// follows the clocks: time left in English and French, overdue shown, the
// decision refused without the reason for the delay, then recorded late,
// and the register.
func TestConsoleBreachClock(t *testing.T) {
	e := newTestEnv(t, func(c *config.Config) { c.Breach.NIS2 = true })
	ann := e.createUser("ann@example.org", tocsin.RoleResponder)
	inc := &tocsin.SecurityIncident{Title: "Bucket world-listable", Severity: tocsin.SEV1, Kind: tocsin.KindDataExposure}
	if err := e.store.CreateSecurityIncident(e.ctx, tocsin.CLI, inc); err != nil {
		t.Fatal(err)
	}
	b := e.signedIn(ann, "127.0.0.1")
	local := func(d time.Duration) string { return time.Now().Add(d).In(e.srv.loc).Format(dateTimeLocal) }

	r := b.get(roomPath(inc.ID, ""))
	if r.Status != 200 || !strings.Contains(r.Text, i18n.T("en", "breach.unmarked")) {
		t.Fatalf("unmarked room: %d\n%s", r.Status, r.Text)
	}

	// Aware 60 hours ago: about 12 h left on GDPR's clock, the NIS2 early
	// warning already overdue.
	r = b.post(roomPath(inc.ID, "breach"), url.Values{"answer": {"yes"}, "aware_at": {local(-60 * time.Hour)}})
	if r.Status != 200 || !strings.Contains(r.Text, i18n.T("en", "breach.marked")) {
		t.Fatalf("mark: %d\n%s", r.Status, r.Text)
	}
	leftEN := regexp.MustCompile(`GDPR: notify the authority \(72 h\) — due [^—]+ — 1[12] h \d\d min left`)
	if !leftEN.MatchString(plain(r)) {
		t.Errorf("GDPR time left not shown in English:\n%s", r.Text)
	}
	for _, want := range []string{"NIS2: early warning (24 h)", "OVERDUE by 1 d 12 h", "NIS2: final report (one month)",
		"Decision on notifying the authority: not recorded yet", "personal data breach: Yes"} {
		if !strings.Contains(plain(r), want) {
			t.Errorf("room lacks %q", want)
		}
	}
	if !strings.Contains(r.Body, `class="breach-clock overdue"`) {
		t.Error("the overdue clock is not marked as such")
	}

	b.Header.Set("Accept-Language", "fr")
	r = b.get(roomPath(inc.ID, ""))
	b.Header.Del("Accept-Language")
	leftFR := regexp.MustCompile(`RGPD : notification à l'autorité \(72 h\) — échéance [^—]+ — reste 1[12] h \d\d min`)
	if !leftFR.MatchString(plain(r)) || !strings.Contains(r.Text, "DÉPASSÉ de 1 d 12 h") || !strings.Contains(r.Text, "pas encore enregistrée") {
		t.Errorf("time left not shown in French:\n%s", r.Text)
	}

	// Awareness moved to 80 hours ago: GDPR's clock is overdue, and a
	// decision now needs the reason for the delay.
	r = b.post(roomPath(inc.ID, "breach"), url.Values{"answer": {"yes"}, "aware_at": {local(-80 * time.Hour)}})
	if !strings.Contains(r.Text, "OVERDUE by 8 h") {
		t.Errorf("GDPR clock not overdue:\n%s", r.Text)
	}
	before := e.breachState(inc.ID)
	r = b.post(roomPath(inc.ID, "breach/decision"), url.Values{"who": {"authority"}, "notify": {"no"}, "why": {"only test accounts"}, "decided_by": {fmt.Sprint(ann.ID)}})
	wantError(t, r, 400, i18n.T("en", "breach.late_reason"))
	if !strings.Contains(r.Body, ">only test accounts</textarea>") {
		t.Error("the typed reason is not given back")
	}
	if after := e.breachState(inc.ID); after != before {
		t.Errorf("a refused decision changed the store")
	}
	r = b.post(roomPath(inc.ID, "breach/decision"), url.Values{"who": {"authority"}, "notify": {"no"}, "why": {"only test accounts"},
		"late_reason": {"the logs came on Monday"}, "decided_by": {fmt.Sprint(ann.ID)}})
	if r.Status != 200 || !strings.Contains(plain(r), "do not notify the authority (decided") || !strings.Contains(plain(r), "recorded late") {
		t.Errorf("late decision: %d\n%s", r.Status, r.Text)
	}
	// On the timeline as a decision too.
	if !strings.Contains(r.Text, "do not notify the supervisory authority") || !strings.Contains(r.Text, "the logs came on Monday") {
		t.Error("the decision is not on the timeline")
	}
	// A NIS2 report sent stops its clock.
	r = b.post(roomPath(inc.ID, "breach/clock"), url.Values{"clock": {"nis2_early_warning"}, "at": {local(-time.Hour)}})
	if r.Status != 200 || strings.Contains(r.Text, "OVERDUE by 2 d") {
		t.Errorf("report sent: %d", r.Status)
	}

	// The register, edited from the room, exported.
	r = b.post(roomPath(inc.ID, "breach/register"), url.Values{"type": {"confidentiality"}, "risk": {"high"}, "status": {"investigating"},
		"categories": {"=HYPERLINK(\"http://evil\")"}, "people": {"1 200"}, "records": {"5000"}, "authority_ref": {"+33 CNIL"}})
	if r.Status != 200 || !strings.Contains(r.Text, i18n.T("en", "breach.register_saved")) {
		t.Fatalf("register: %d\n%s", r.Status, r.Text)
	}
	audit := e.counts().Audit
	r = b.get("/console/breaches")
	if r.Status != 200 || !strings.Contains(r.Text, "#1 Bucket world-listable") || !strings.Contains(r.Text, "high risk") || !strings.Contains(r.Text, "1200") {
		t.Errorf("register page: %d\n%s", r.Status, r.Text)
	}
	r = b.get("/console/breaches.csv")
	if r.Status != 200 || !strings.HasPrefix(r.Header.Get("Content-Type"), "text/csv") || !strings.Contains(r.Header.Get("Content-Disposition"), "attachment") {
		t.Fatalf("csv: %d %v", r.Status, r.Header)
	}
	rows, err := csv.NewReader(strings.NewReader(r.Body)).ReadAll()
	if err != nil || len(rows) != 2 {
		t.Fatalf("csv rows %v, %v", rows, err)
	}
	cell := func(col string) string {
		for i, c := range rows[0] {
			if c == col {
				return rows[1][i]
			}
		}
		t.Fatalf("no column %s", col)
		return ""
	}
	if cell("categories") != `'=HYPERLINK("http://evil")` || cell("authority_reference") != "'+33 CNIL" || cell("risk") != "high risk" {
		t.Errorf("csv cells: %q %q %q", cell("categories"), cell("authority_reference"), cell("risk"))
	}
	if !strings.Contains(cell("decisions"), "do not notify — only test accounts") || !strings.Contains(cell("decisions"), "late: the logs came on Monday") {
		t.Errorf("decisions cell %q", cell("decisions"))
	}
	if got := e.counts().Audit; got != audit+2 {
		t.Errorf("exports audited %d times, want 2", got-audit)
	}
	entries, err := e.store.AuditEntries(e.ctx, tocsin.AuditFilter{Limit: 2})
	if err == nil && len(entries) == 2 && (entries[0].Action != "breach.export" || entries[1].Action != "breach.export") {
		t.Errorf("last audit entries %s %s", entries[0].Action, entries[1].Action)
	}
}

// TestConsoleBreachRefusals: bad input gets its message, nothing written;
// viewers read the clock and the register but change nothing.
func TestConsoleBreachRefusals(t *testing.T) {
	e := newTestEnv(t, func(c *config.Config) { c.Breach.NIS2 = true })
	ann := e.createUser("ann@example.org", tocsin.RoleResponder)
	inc := &tocsin.SecurityIncident{Title: "Leaked dump", Severity: tocsin.SEV2, Kind: tocsin.KindDataExposure}
	if err := e.store.CreateSecurityIncident(e.ctx, tocsin.CLI, inc); err != nil {
		t.Fatal(err)
	}
	other := &tocsin.SecurityIncident{Title: "Unmarked", Severity: tocsin.SEV3, Kind: tocsin.KindOther}
	if err := e.store.CreateSecurityIncident(e.ctx, tocsin.CLI, other); err != nil {
		t.Fatal(err)
	}
	if err := e.store.MarkBreach(e.ctx, tocsin.CLI, inc.ID, tocsin.BreachLikely, time.Time{}); err != nil {
		t.Fatal(err)
	}
	b := e.signedIn(ann, "127.0.0.1")
	local := func(d time.Duration) string { return time.Now().Add(d).In(e.srv.loc).Format(dateTimeLocal) }
	tests := []struct {
		name   string
		id     int64
		action string
		form   url.Values
		status int
		msg    string
	}{
		{"awareness in the future", inc.ID, "breach", url.Values{"answer": {"yes"}, "aware_at": {local(3 * time.Hour)}}, 400, i18n.T("en", "breach.aware_future")},
		{"unknown answer", inc.ID, "breach", url.Values{"answer": {"perhaps"}}, 400, i18n.T("en", "breach.answer_unknown", "perhaps")},
		{"bad date", inc.ID, "breach", url.Values{"answer": {"yes"}, "aware_at": {"friday"}}, 400, i18n.T("en", "incidents.date_invalid", "friday")},
		{"unknown risk level", inc.ID, "breach/register", url.Values{"risk": {"severe"}, "status": {"discovered"}}, 400, i18n.T("en", "breach.risk_unknown", "severe")},
		{"unknown status", inc.ID, "breach/register", url.Values{"status": {"gone"}}, 400, i18n.T("en", "breach.status_unknown", "gone")},
		{"people not a number", inc.ID, "breach/register", url.Values{"people": {"many"}}, 400, i18n.T("en", "breach.number_invalid", "Approximate number of people")},
		{"negative records", inc.ID, "breach/register", url.Values{"records": {"-5"}}, 400, i18n.T("en", "breach.negative")},
		{"decision without choice", inc.ID, "breach/decision", url.Values{"why": {"x"}, "decided_by": {fmt.Sprint(ann.ID)}}, 400, i18n.T("en", "breach.notify_choice")},
		{"decision without why", inc.ID, "breach/decision", url.Values{"notify": {"yes"}, "decided_by": {fmt.Sprint(ann.ID)}}, 400, i18n.T("en", "breach.why_required")},
		{"unknown clock", inc.ID, "breach/clock", url.Values{"clock": {"ccpa"}}, 400, i18n.T("en", "breach.clock_unknown", "ccpa")},
		{"report in the future", inc.ID, "breach/clock", url.Values{"clock": {"nis2_notification"}, "at": {local(5 * time.Hour)}}, 400, i18n.T("en", "security.future")},
		{"decision on an unmarked incident", other.ID, "breach/decision", url.Values{"notify": {"yes"}, "why": {"x"}, "decided_by": {fmt.Sprint(ann.ID)}}, 404, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := e.breachState(tt.id)
			r := b.post(roomPath(tt.id, tt.action), tt.form)
			if tt.msg != "" {
				wantError(t, r, tt.status, tt.msg)
			} else if r.Status != tt.status {
				t.Errorf("status %d, want %d", r.Status, tt.status)
			}
			if after := e.breachState(tt.id); after != before {
				t.Errorf("a refused request changed the store:\n%s\n%s", before, after)
			}
		})
	}

	t.Run("viewer", func(t *testing.T) {
		v := e.createUser("viewer@example.org", tocsin.RoleViewer)
		vb := e.signedIn(v, "127.0.0.1")
		r := vb.get(roomPath(inc.ID, ""))
		if r.Status != 200 || !strings.Contains(r.Text, "GDPR: notify the authority (72 h)") || strings.Contains(r.Body, `action="`+roomPath(inc.ID, "breach")+`"`) {
			t.Errorf("viewer's room: %d, forms shown: %v", r.Status, strings.Contains(r.Body, "/breach\""))
		}
		before := e.breachState(inc.ID)
		for _, a := range []string{"breach", "breach/decision", "breach/register", "breach/clock"} {
			if r := vb.post(roomPath(inc.ID, a), url.Values{"answer": {"no"}}); r.Status != http.StatusForbidden {
				t.Errorf("viewer's %s: %d, want 403", a, r.Status)
			}
		}
		if e.breachState(inc.ID) != before {
			t.Error("a viewer changed the breach")
		}
		if r := vb.get("/console/breaches.csv"); r.Status != 200 {
			t.Errorf("viewer's CSV: %d", r.Status)
		}
	})
	t.Run("signed out", func(t *testing.T) {
		if r := e.browser("127.0.0.1").get("/console/breaches.csv"); r.Status == 200 {
			t.Error("the register without signing in")
		}
	})
}

func TestCSVSafe(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", ""},
		{"customers", "customers"},
		{"=1+2", "'=1+2"},
		{"+33 1 23", "'+33 1 23"},
		{"-2", "'-2"},
		{"@SUM(A1)", "'@SUM(A1)"},
		{"\tcmd", "'\tcmd"},
		{"\r=x", "'\r=x"},
		{"a=b", "a=b"},
		{"'quoted", "'quoted"},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%q", tt.in), func(t *testing.T) {
			if got := csvSafe(tt.in); got != tt.want {
				t.Errorf("csvSafe(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

// TestRegisterCSVInjection writes hostile text in every free field and
// reads the CSV back: no cell starts with a formula character.
func TestRegisterCSVInjection(t *testing.T) {
	e := newTestEnv(t)
	hostile := []string{"=cmd|' /C calc'!A0", "+1", "-1+1", "@SUM(1)", "\t=1", "\r=1"}
	for i, h := range hostile {
		inc := &tocsin.SecurityIncident{Title: h + " title", Severity: tocsin.SEV2, Kind: tocsin.KindDataExposure}
		if err := e.store.CreateSecurityIncident(e.ctx, tocsin.CLI, inc); err != nil {
			t.Fatal(err)
		}
		if err := e.store.MarkBreach(e.ctx, tocsin.CLI, inc.ID, tocsin.BreachYes, time.Time{}); err != nil {
			t.Fatal(err)
		}
		if err := e.store.SetBreachRegister(e.ctx, tocsin.CLI, &tocsin.Breach{IncidentID: inc.ID, Type: h, Categories: h, Consequences: h,
			Remedial: h, AuthorityRef: fmt.Sprint(h, i), SubjectsHow: h}); err != nil {
			t.Fatal(err)
		}
	}
	bs, err := e.store.Breaches(e.ctx)
	if err != nil {
		t.Fatal(err)
	}
	body, err := e.srv.writeRegisterCSV(bs)
	if err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(strings.NewReader(string(body))).ReadAll()
	if err != nil || len(rows) != len(hostile)+1 {
		t.Fatalf("rows %d, %v", len(rows), err)
	}
	for _, row := range rows[1:] {
		for j, c := range row {
			if c != "" && strings.ContainsRune("=+-@\t\r", rune(c[0])) {
				t.Errorf("column %s starts with %q: %q", rows[0][j], c[0], c)
			}
		}
	}
}

// TestAPIBreachClocks reads the clocks over the API with NIS2 on.
func TestAPIBreachClocks(t *testing.T) {
	e := newTestEnv(t, func(c *config.Config) { c.Breach.NIS2 = true })
	tok, _ := e.createToken("ops", tocsin.RoleResponder)
	inc := &tocsin.SecurityIncident{Title: "Dump", Severity: tocsin.SEV2, Kind: tocsin.KindDataExposure}
	if err := e.store.CreateSecurityIncident(e.ctx, tocsin.CLI, inc); err != nil {
		t.Fatal(err)
	}
	aware := e.clock.Now().Add(-30 * time.Hour).UTC().Format(time.RFC3339)
	r := e.call("PUT", fmt.Sprintf("/api/v1/security-incidents/%d/breach", inc.ID), tok, `{"answer":"yes","aware_at":"`+aware+`"}`)
	if r.Status != 200 {
		t.Fatalf("mark: %d %s", r.Status, r.Body)
	}
	got := decodeAs[breachJSON](t, r)
	if len(got.Clocks) != 4 || got.Clocks[0].Clock != "gdpr" || got.Clocks[0].LeftSeconds != 42*3600 || got.Clocks[0].Overdue ||
		!got.Clocks[1].Overdue || got.Clocks[1].LeftSeconds != -6*3600 {
		t.Errorf("clocks %+v", got.Clocks)
	}
	r = e.call("PUT", fmt.Sprintf("/api/v1/security-incidents/%d/breach", inc.ID), tok, `{"answer":"yes","aware_at":"2999-01-01T00:00:00Z"}`)
	apiError(t, r, 400, tocsin.EINVALID)
	r = e.call("PUT", fmt.Sprintf("/api/v1/security-incidents/%d/breach/register", inc.ID), tok, `{"risk":"medium"}`)
	apiError(t, r, 400, tocsin.EINVALID)
}
