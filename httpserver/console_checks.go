package httpserver

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/tocsin-org/tocsin"
	"github.com/tocsin-org/tocsin/i18n"
)

// Checks in the console: the list grouped by service, a check's page
// (latency chart, history, key history, findings, run now) and the
// admins' forms. Every role reads; see routes.go for who acts.

// checkRow is one line of the list.
type checkRow struct {
	*tocsin.Check
	State       string // up, down, pending, paused, flapping
	Target      string
	LastAt      string
	LastLatency string
	LastError   string
	LastOK      bool
	HasLast     bool
	LastSuccess string
}

type checkGroup struct {
	Service *tocsin.Service
	Rows    []checkRow
}

// shownState is what a check's state reads as: flapping is shown as such.
func shownState(c *tocsin.Check, st *tocsin.CheckStatus) string {
	if !c.Paused && st != nil && st.Flapping {
		return "flapping"
	}
	return string(checkState(c, st))
}

// fmtLatency shows a duration as a person reads a latency.
func fmtLatency(d time.Duration) string {
	if d < time.Second {
		return fmt.Sprintf("%d ms", d.Milliseconds())
	}
	return strconv.FormatFloat(d.Seconds(), 'f', 2, 64) + " s"
}

func (s *Server) checkRow(c *tocsin.Check, st *tocsin.CheckStatus) checkRow {
	row := checkRow{Check: c, State: shownState(c, st), Target: c.Target()}
	if st != nil {
		if r := st.LastResult; r != nil {
			row.HasLast, row.LastOK, row.LastAt, row.LastLatency, row.LastError = true, r.OK, s.fmtTime(r.StartedAt), fmtLatency(r.Duration), r.Error
		}
		if st.LastSuccess != nil {
			row.LastSuccess = s.fmtTime(*st.LastSuccess)
		}
	}
	return row
}

func (s *Server) consoleChecks(w http.ResponseWriter, r *http.Request) error {
	checks, err := s.store.Checks(r.Context())
	if err != nil {
		return err
	}
	services, err := s.store.Services(r.Context())
	if err != nil {
		return err
	}
	statuses, err := s.checkStatuses(r)
	if err != nil {
		return err
	}
	var groups []*checkGroup
	for _, svc := range services { // in the public page's order
		g := &checkGroup{Service: svc}
		for _, c := range checks {
			if c.ServiceID == svc.ID {
				g.Rows = append(g.Rows, s.checkRow(c, statuses[c.ID]))
			}
		}
		if len(g.Rows) > 0 {
			groups = append(groups, g)
		}
	}
	s.render(w, r, http.StatusOK, "checks", map[string]any{
		"Groups": groups, "CanEdit": isAdmin(r), "HasServices": len(services) > 0,
	})
	return nil
}

// chart is the server-rendered latency chart of a check's last 24 hours:
// one polyline of latencies, failed runs marked, in a fixed viewBox.
type chart struct {
	Width, Height, Top, Bottom int
	Points                     string
	Fails                      []chartMark
	MaxLabel                   string
	Runs, Failed               int
	Median, Max                string
}

type chartMark struct{ X, Y string }

const chartWidth, chartHeight, chartPad = 720, 200, 20

// latencyChart places results (newest first) of the window ending at now
// on the chart: x by start time, y by latency scaled to the slowest run.
// Runs that fall on the same pixel column keep the slowest, so a check
// every second draws at most one point per column.
func latencyChart(results []*tocsin.CheckResult, now time.Time, window time.Duration) chart {
	ch := chart{Width: chartWidth, Height: chartHeight, Top: chartPad, Bottom: chartHeight - chartPad}
	if len(results) == 0 {
		return ch
	}
	var lat []time.Duration
	maxD := time.Millisecond
	for _, r := range results {
		lat = append(lat, r.Duration)
		maxD = max(maxD, r.Duration)
		if !r.OK {
			ch.Failed++
		}
	}
	ch.Runs = len(results)
	slices.Sort(lat)
	ch.Median, ch.Max, ch.MaxLabel = fmtLatency(lat[len(lat)/2]), fmtLatency(lat[len(lat)-1]), fmtLatency(maxD)
	start := now.Add(-window)
	x := func(t time.Time) int {
		f := float64(t.Sub(start)) / float64(window)
		return int(min(max(f, 0), 1) * float64(chartWidth))
	}
	y := func(d time.Duration) int {
		return chartHeight - chartPad - int(float64(d)/float64(maxD)*float64(chartHeight-2*chartPad))
	}
	cols := map[int]time.Duration{}
	failCols := map[int]time.Duration{}
	var order []int
	for i := len(results) - 1; i >= 0; i-- { // oldest first
		r := results[i]
		c := x(r.StartedAt)
		if d, ok := cols[c]; !ok {
			order = append(order, c)
			cols[c] = r.Duration
		} else if r.Duration > d {
			cols[c] = r.Duration
		}
		if !r.OK {
			failCols[c] = max(failCols[c], r.Duration)
		}
	}
	var pts []string
	for _, c := range order {
		pts = append(pts, fmt.Sprintf("%d,%d", c, y(cols[c])))
	}
	ch.Points = strings.Join(pts, " ")
	for _, c := range order {
		if d, ok := failCols[c]; ok {
			ch.Fails = append(ch.Fails, chartMark{strconv.Itoa(c), strconv.Itoa(y(d))})
		}
	}
	return ch
}

// historyRow is one result in the check's history table.
type historyRow struct {
	At, Latency, Location, Error string
	OK, Degraded                 bool
	StatusCode                   int
}

// dayRow is one UTC day of a check's roll-ups on its page.
type dayRow struct {
	Day, Availability, P50, P95, P99 string
	Runs, Failures                   int
}

// checkDays returns the check's last 30 UTC days from its roll-ups, newest
// first: availability and latency quantiles beyond the raw results' 24 h.
func (s *Server) checkDays(ctx context.Context, id int64, now time.Time) ([]dayRow, error) {
	today := now.UTC().Truncate(24 * time.Hour)
	points, err := s.store.CheckHistory(ctx, id, today.AddDate(0, 0, -29), today.AddDate(0, 0, 1), 24*time.Hour)
	if err != nil {
		return nil, err
	}
	rows := make([]dayRow, 0, len(points))
	for _, p := range slices.Backward(points) {
		share, _ := p.Availability()
		rows = append(rows, dayRow{Day: p.At.Format(time.DateOnly), Runs: p.Runs, Failures: p.Failures,
			Availability: fmt.Sprintf("%.2f %%", share*100), P50: fmtLatency(p.P50), P95: fmtLatency(p.P95), P99: fmtLatency(p.P99)})
	}
	return rows, nil
}

// keyRow is one key in a check's key history.
type keyRow struct {
	SPKI, Serial, FirstSeen, LastSeen, NotAfter string
}

type findingRow struct {
	*tocsin.Finding
	Text           string // the detail in the reader's language
	Opened, Closed string
	Check          string
	Service        string
}

// findingRow shows f in lang: its words through the catalogue with times
// in the host's zone, or its English Detail when it was opened before
// findings had words.
func (s *Server) findingRow(lang string, f *tocsin.Finding) findingRow {
	text := f.Detail
	if f.Words != "" {
		text = i18n.T(lang, f.Words, f.WordArgs(s.fmtTime)...)
	}
	return findingRow{Finding: f, Text: text, Opened: s.fmtTime(f.OpenedAt)}
}

// checkView is what the check's page shows besides the check: a result
// just run, or the error of an action refused.
type checkView struct {
	status int
	Flash  string
	Error  string
	Ran    *historyRow
}

func (s *Server) consoleCheck(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	return s.renderCheck(w, r, id, checkView{status: http.StatusOK})
}

func (s *Server) historyRow(res *tocsin.CheckResult) historyRow {
	loc := res.Location
	return historyRow{At: s.fmtTime(res.StartedAt), Latency: fmtLatency(res.Duration), Location: loc, Error: res.Error, OK: res.OK,
		Degraded: res.Degraded, StatusCode: res.StatusCode}
}

func (s *Server) renderCheck(w http.ResponseWriter, r *http.Request, id int64, v checkView) error {
	ctx := r.Context()
	c, err := s.store.Check(ctx, id)
	if err != nil {
		return err
	}
	svc, err := s.store.Service(ctx, c.ServiceID)
	if err != nil {
		return err
	}
	statuses, err := s.checkStatuses(r)
	if err != nil {
		return err
	}
	now := s.now()
	results, err := s.store.CheckResults(ctx, id, now.Add(-24*time.Hour), 10000)
	if err != nil {
		return err
	}
	var history []historyRow
	for i, res := range results {
		if i == 50 {
			break
		}
		history = append(history, s.historyRow(res))
	}
	keys, err := s.store.TLSKeys(ctx, id)
	if err != nil {
		return err
	}
	var keyRows []keyRow
	for _, k := range keys {
		keyRows = append(keyRows, keyRow{SPKI: k.SPKISHA256, Serial: k.Serial, FirstSeen: s.fmtTime(k.FirstSeen), LastSeen: s.fmtTime(k.LastSeen),
			NotAfter: s.fmtTime(k.NotAfter)})
	}
	lang := state(r).lang
	var keySummary string
	if at, rotated := tocsin.KeyChangedAt(keys); !at.IsZero() {
		if rotated {
			keySummary = i18n.T(lang, "checks.key_new_since", s.fmtTime(at))
		} else {
			keySummary = i18n.T(lang, "checks.key_unchanged_since", s.fmtTime(at))
		}
	}
	open := true
	fs, err := s.store.Findings(ctx, tocsin.FindingFilter{Open: &open, CheckID: id})
	if err != nil {
		return err
	}
	var findings []findingRow
	for _, f := range fs {
		findings = append(findings, s.findingRow(lang, f))
	}
	days, err := s.checkDays(ctx, id, now)
	if err != nil {
		return err
	}
	st := statuses[id]
	row := s.checkRow(c, st)
	ch := latencyChart(results, now, 24*time.Hour)
	roles := state(r).user.Roles
	lr := r.Clone(ctx)
	lr.URL.Path = fmt.Sprintf("/console/checks/%d", id)
	s.render(w, lr, v.status, "check", map[string]any{
		"Check": c, "Row": row, "Service": svc, "Status": st, "Chart": ch, "History": history, "Days": days, "Keys": keyRows, "KeySummary": keySummary,
		"Findings": findings, "CanEdit": roles.Allows(tocsin.RoleAdmin), "CanRun": roles.Allows(tocsin.RoleResponder),
		"Flash": v.Flash, "Error": v.Error, "Ran": v.Ran, "Spec": specLines(c),
		"Interval": c.Interval.String(), "Timeout": c.Timeout.String(),
	})
	return nil
}

// specLines lists the spec's fields that are set, as name and value, for
// the check's page (header values hidden: they may hold credentials).
func specLines(c *tocsin.Check) [][2]string {
	form := specForm(c.Spec)
	var out [][2]string
	for _, f := range checkSpecFields {
		v := form[f]
		if f == "headers" && v != "" {
			var names []string
			for k := range c.Spec.Headers {
				names = append(names, k)
			}
			slices.Sort(names)
			v = strings.Join(names, ", ")
		}
		if v != "" {
			out = append(out, [2]string{f, v})
		}
	}
	return out
}

func (s *Server) runCheckConsole(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	res, err := s.runNow(r, id)
	if err != nil {
		code := tocsin.ErrorCode(err)
		if code == tocsin.ENOTFOUND || code == tocsin.EINTERNAL {
			return err
		}
		return s.renderCheck(w, r, id, checkView{status: statusOf(code), Error: s.localized(r, err)})
	}
	row := s.historyRow(res)
	return s.renderCheck(w, r, id, checkView{status: http.StatusOK, Ran: &row, Flash: i18n.T(state(r).lang, "checks.ran")})
}

// checkSpecFields are the spec's fields in the form's order.
var checkSpecFields = []string{"url", "address", "method", "headers", "expect_status", "body_contains", "body_regex", "max_latency",
	"no_redirects", "client_cert", "client_key", "banner", "implicit_tls", "domain", "record", "expect", "resolver", "ca_file",
	"server_name", "expiry_days", "provider", "aliases", "endpoint", "bucket", "region", "access_key_id", "secret_key_env"}

// formField is one target field of the form; its label is its name, as in
// the configuration file and the API.
type formField struct {
	Name, Value, Type, Kinds string
}

// specKinds says which kinds each target field applies to.
var specKinds = map[string]string{
	"url": "http, bucket", "address": "tcp, smtp, imap, tls", "method": "http", "headers": "http", "expect_status": "http",
	"body_contains": "http", "body_regex": "http", "max_latency": "http, tcp, dns, smtp, imap, tls", "no_redirects": "http",
	"client_cert": "http", "client_key": "http", "banner": "tcp, smtp, imap", "implicit_tls": "smtp, imap", "domain": "dns",
	"record": "dns", "expect": "dns", "resolver": "dns", "ca_file": "http, smtp, imap, tls", "server_name": "http, smtp, imap, tls",
	"expiry_days": "http, smtp, imap, tls", "provider": "bucket", "aliases": "bucket", "endpoint": "bucket", "bucket": "bucket",
	"region": "bucket", "access_key_id": "bucket", "secret_key_env": "bucket",
}

// checkOtherFields are the check's own fields in the form.
var checkOtherFields = []string{"service_id", "name", "kind", "interval", "timeout", "fail_threshold", "pass_threshold", "quorum",
	"fail_status", "severity", "page", "paused"}

func ints(v []int) string {
	parts := make([]string, len(v))
	for i, n := range v {
		parts[i] = strconv.Itoa(n)
	}
	return strings.Join(parts, ", ")
}

func boolField(b bool) string {
	if b {
		return "on"
	}
	return ""
}

// specForm writes a spec as the form's text fields: lists comma-separated
// (aliases and headers one a line).
func specForm(sp tocsin.CheckSpec) map[string]string {
	var headers []string
	for k, v := range sp.Headers {
		headers = append(headers, k+": "+v)
	}
	slices.Sort(headers)
	ml := ""
	if sp.MaxLatency != 0 {
		ml = time.Duration(sp.MaxLatency).String()
	}
	return map[string]string{
		"url": sp.URL, "address": sp.Address, "method": sp.Method, "headers": strings.Join(headers, "\n"),
		"expect_status": ints(sp.ExpectStatus), "body_contains": sp.BodyContains, "body_regex": sp.BodyRegex, "max_latency": ml,
		"no_redirects": boolField(sp.NoRedirects), "client_cert": sp.ClientCert, "client_key": sp.ClientKey, "banner": sp.Banner,
		"implicit_tls": boolField(sp.ImplicitTLS), "domain": sp.Domain, "record": sp.Record, "expect": strings.Join(sp.Expect, ", "),
		"resolver": sp.Resolver, "ca_file": sp.CAFile, "server_name": sp.ServerName, "expiry_days": ints(sp.ExpiryTiers),
		"provider": sp.Provider, "aliases": strings.Join(sp.Aliases, "\n"), "endpoint": sp.Endpoint, "bucket": sp.Bucket,
		"region": sp.Region, "access_key_id": sp.AccessKeyID, "secret_key_env": sp.SecretKeyEnv,
	}
}

// checkForm is a check as its form holds it.
func checkForm(c *tocsin.Check) map[string]string {
	f := specForm(c.Spec)
	f["service_id"], f["name"], f["kind"] = strconv.FormatInt(c.ServiceID, 10), c.Name, string(c.Kind)
	f["interval"], f["timeout"] = c.Interval.String(), c.Timeout.String()
	f["fail_threshold"], f["pass_threshold"], f["quorum"] = strconv.Itoa(c.FailThreshold), strconv.Itoa(c.PassThreshold), strconv.Itoa(c.Quorum)
	f["fail_status"], f["severity"], f["page"], f["paused"] = string(c.FailStatus), c.Severity, boolField(c.Page), boolField(c.Paused)
	return f
}

// formOf keeps what was typed, for a refused form to show it again.
func formOf(pf url.Values) map[string]string {
	f := map[string]string{}
	for _, k := range append(slices.Clone(checkOtherFields), checkSpecFields...) {
		f[k] = pf.Get(k)
	}
	return f
}

func splitList(v string, seps string) []string {
	var out []string
	for _, p := range strings.FieldsFunc(v, func(r rune) bool { return strings.ContainsRune(seps, r) }) {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

func intList(field, v string) ([]int, error) {
	var out []int
	for _, p := range splitList(v, ", \n\r") {
		n, err := strconv.Atoi(p)
		if err != nil {
			return nil, keyedErr("checks.refused.not_number", field, "%q is not a number", p)
		}
		out = append(out, n)
	}
	return out, nil
}

func optInt(field, v string) (*int, error) {
	v = strings.TrimSpace(v)
	if v == "" {
		return nil, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		return nil, keyedErr("checks.refused.not_number", field, "%q is not a number", v)
	}
	return &n, nil
}

func optString(v string) *string {
	if strings.TrimSpace(v) == "" {
		return nil
	}
	return &v
}

// requestOf reads the form into the request the API takes, so both end
// in checkOf.
func requestOf(f map[string]string) (checkRequest, error) {
	q := checkRequest{Name: f["name"], Kind: f["kind"], FailStatus: f["fail_status"], Severity: f["severity"],
		Page: f["page"] != "", Paused: f["paused"] != "", Interval: optString(f["interval"]), Timeout: optString(f["timeout"]),
		MaxLatency: optString(f["max_latency"])}
	var err error
	if q.ServiceID, err = strconv.ParseInt(strings.TrimSpace(f["service_id"]), 10, 64); err != nil {
		return q, keyedErr("checks.refused.service_missing", "service_id", "choose the service the check belongs to")
	}
	if q.FailThreshold, err = optInt("fail_threshold", f["fail_threshold"]); err != nil {
		return q, err
	}
	if q.PassThreshold, err = optInt("pass_threshold", f["pass_threshold"]); err != nil {
		return q, err
	}
	if n, err := optInt("quorum", f["quorum"]); err != nil {
		return q, err
	} else if n != nil {
		q.Quorum = *n
	}
	sp := &q.CheckSpec
	sp.URL, sp.Address, sp.Method, sp.BodyContains, sp.BodyRegex = f["url"], f["address"], f["method"], f["body_contains"], f["body_regex"]
	sp.NoRedirects, sp.ImplicitTLS = f["no_redirects"] != "", f["implicit_tls"] != ""
	sp.ClientCert, sp.ClientKey, sp.Banner, sp.Domain, sp.Record = f["client_cert"], f["client_key"], f["banner"], f["domain"], f["record"]
	sp.Expect, sp.Resolver, sp.CAFile, sp.ServerName = splitList(f["expect"], ",\n\r"), f["resolver"], f["ca_file"], f["server_name"]
	sp.Provider, sp.Aliases, sp.Endpoint, sp.Bucket, sp.Region = f["provider"], splitList(f["aliases"], " \n\r"), f["endpoint"], f["bucket"], f["region"]
	sp.AccessKeyID, sp.SecretKeyEnv = f["access_key_id"], f["secret_key_env"]
	if sp.ExpectStatus, err = intList("expect_status", f["expect_status"]); err != nil {
		return q, err
	}
	if sp.ExpiryTiers, err = intList("expiry_days", f["expiry_days"]); err != nil {
		return q, err
	}
	for _, line := range splitList(f["headers"], "\n\r") {
		k, v, ok := strings.Cut(line, ":")
		if !ok {
			return q, keyedErr("checks.refused.header_line", "headers", "%q: write one header a line as Name: value", line)
		}
		if sp.Headers == nil {
			sp.Headers = map[string]string{}
		}
		sp.Headers[strings.TrimSpace(k)] = strings.TrimSpace(v)
	}
	return q, nil
}

// checkFormView is the form page's state.
type checkFormView struct {
	status int
	ID     int64 // 0: a new check
	Form   map[string]string
	Error  string
}

func (s *Server) renderCheckForm(w http.ResponseWriter, r *http.Request, v checkFormView) error {
	services, err := s.store.Services(r.Context())
	if err != nil {
		return err
	}
	lr := r.Clone(r.Context())
	lr.URL.Path = "/console/checks/new"
	action := "/console/checks"
	if v.ID != 0 {
		lr.URL.Path = fmt.Sprintf("/console/checks/%d/edit", v.ID)
		action = lr.URL.Path
	}
	var fields []formField
	for _, name := range checkSpecFields {
		f := formField{Name: name, Value: v.Form[name], Kinds: specKinds[name]}
		switch name {
		case "no_redirects", "implicit_tls":
			f.Type = "checkbox"
		case "headers", "aliases":
			f.Type = "textarea"
		default:
			f.Type = "text"
		}
		fields = append(fields, f)
	}
	s.render(w, lr, v.status, "checks_form", map[string]any{
		"Fields": fields,
		"ID":     v.ID, "Form": v.Form, "Error": v.Error, "Action": action, "Services": services, "Kinds": tocsin.CheckKinds,
		"FailStatuses": []tocsin.ServiceStatus{tocsin.StatusMajorOutage, tocsin.StatusPartialOutage, tocsin.StatusDegraded},
		"Severities":   []string{"SEV1", "SEV2", "SEV3", "SEV4"},
		"Defaults":     s.cfg.Checks.Defaults(),
	})
	return nil
}

func (s *Server) newCheckForm(w http.ResponseWriter, r *http.Request) error {
	f := formOf(url.Values{})
	f["kind"], f["fail_status"], f["severity"] = "http", string(tocsin.StatusMajorOutage), "SEV2"
	if v := r.URL.Query().Get("service"); v != "" {
		f["service_id"] = v
	}
	return s.renderCheckForm(w, r, checkFormView{status: http.StatusOK, Form: f})
}

func (s *Server) editCheckForm(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	c, err := s.store.Check(r.Context(), id)
	if err != nil {
		return err
	}
	if c.ConfigManaged {
		return configManagedCheck(c)
	}
	return s.renderCheckForm(w, r, checkFormView{status: http.StatusOK, ID: id, Form: checkForm(c)})
}

// checkRefused shows the form again with what was typed and why it was
// refused, when the person can fix it; other errors go to the error page.
func (s *Server) checkRefused(w http.ResponseWriter, r *http.Request, id int64, form map[string]string, err error) error {
	code := tocsin.ErrorCode(err)
	if code != tocsin.EINVALID && code != tocsin.ECONFLICT {
		return err
	}
	return s.renderCheckForm(w, r, checkFormView{status: statusOf(code), ID: id, Form: form, Error: s.localized(r, err)})
}

func (s *Server) createCheckConsole(w http.ResponseWriter, r *http.Request) error {
	form := formOf(r.PostForm)
	q, err := requestOf(form)
	var c *tocsin.Check
	if err == nil {
		c, err = s.checkOf(q)
	}
	if err == nil {
		err = s.store.CreateCheck(r.Context(), state(r).actor(), c)
	}
	if err != nil {
		return s.checkRefused(w, r, 0, form, err)
	}
	s.checksChanged()
	return s.renderCheck(w, r, c.ID, checkView{status: http.StatusOK, Flash: i18n.T(state(r).lang, "checks.created", c.Name)})
}

func (s *Server) editCheckConsole(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	old, err := s.store.Check(r.Context(), id)
	if err != nil {
		return err
	}
	if old.ConfigManaged {
		return configManagedCheck(old)
	}
	form := formOf(r.PostForm)
	q, err := requestOf(form)
	var c *tocsin.Check
	if err == nil {
		c, err = s.checkOf(q)
	}
	if err == nil {
		c.ID = id
		err = s.store.UpdateCheck(r.Context(), state(r).actor(), c)
	}
	if err != nil {
		return s.checkRefused(w, r, id, form, err)
	}
	s.checksChanged()
	s.refreshAfter(r.Context())
	return s.renderCheck(w, r, id, checkView{status: http.StatusOK, Flash: i18n.T(state(r).lang, "checks.updated", c.Name)})
}

// pauseCheckConsole pauses (paused=true) or resumes a check.
func (s *Server) pauseCheckConsole(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	c, err := s.store.Check(r.Context(), id)
	if err != nil {
		return err
	}
	c.Paused = r.PostForm.Get("paused") == "true"
	if err := s.store.UpdateCheck(r.Context(), state(r).actor(), c); err != nil {
		if tocsin.ErrorCode(err) != tocsin.ECONFLICT {
			return err
		}
		return s.renderCheck(w, r, id, checkView{status: http.StatusConflict, Error: s.localized(r, err)})
	}
	s.checksChanged()
	s.refreshAfter(r.Context())
	key := "checks.resumed"
	if c.Paused {
		key = "checks.paused_flash"
	}
	return s.renderCheck(w, r, id, checkView{status: http.StatusOK, Flash: i18n.T(state(r).lang, key, c.Name)})
}

func (s *Server) deleteCheckConsole(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	if err := s.store.DeleteCheck(r.Context(), state(r).actor(), id); err != nil {
		if tocsin.ErrorCode(err) != tocsin.ECONFLICT {
			return err
		}
		return s.renderCheck(w, r, id, checkView{status: http.StatusConflict, Error: s.localized(r, err)})
	}
	s.checksChanged()
	s.refreshAfter(r.Context())
	http.Redirect(w, r, "/console/checks", http.StatusSeeOther)
	return nil
}
