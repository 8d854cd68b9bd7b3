package httpserver

import (
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/tocsin-org/tocsin"
)

// The checks API: viewers read checks, results, key histories and
// findings; only admins create, edit, pause and delete checks (a check
// makes tocsin send traffic somewhere, so choosing where is
// configuration); responders run one now (it probes a target already
// chosen, which is what someone working an incident needs); communicators
// return a pinned service status to automatic.

// checkJSON is a check as the API shows it: the spec's fields inline, as
// in the configuration file and in checkRequest.
type checkJSON struct {
	ID            int64           `json:"id"`
	ServiceID     int64           `json:"service_id"`
	Name          string          `json:"name"`
	Kind          string          `json:"kind"`
	Interval      string          `json:"interval"`
	Timeout       string          `json:"timeout"`
	FailThreshold int             `json:"fail_threshold"`
	PassThreshold int             `json:"pass_threshold"`
	Quorum        int             `json:"quorum"`
	FailStatus    string          `json:"fail_status"`
	Page          bool            `json:"page"`
	Severity      string          `json:"severity"`
	Paused        bool            `json:"paused"`
	ConfigManaged bool            `json:"config_managed"`
	CreatedAt     time.Time       `json:"created_at"`
	UpdatedAt     time.Time       `json:"updated_at"`
	Status        checkStatusJSON `json:"status"`
	tocsin.CheckSpec
}

type checkStatusJSON struct {
	State       string      `json:"state"`
	Flapping    bool        `json:"flapping"`
	Fails       int         `json:"fails"`
	Passes      int         `json:"passes"`
	LastResult  *resultJSON `json:"last_result"`
	LastSuccess *time.Time  `json:"last_success"`
	ChangedAt   *time.Time  `json:"changed_at"`
}

type resultJSON struct {
	Location        string                    `json:"location"`
	StartedAt       time.Time                 `json:"started_at"`
	DurationSeconds float64                   `json:"duration_seconds"`
	OK              bool                      `json:"ok"`
	Degraded        bool                      `json:"degraded"`
	StatusCode      int                       `json:"status_code"`
	Error           string                    `json:"error"`
	TLS             *tocsin.TLSObservation    `json:"tls,omitempty"`
	Bucket          *tocsin.BucketObservation `json:"bucket,omitempty"`
}

func toResultJSON(r *tocsin.CheckResult) *resultJSON {
	if r == nil {
		return nil
	}
	return &resultJSON{Location: r.Location, StartedAt: r.StartedAt, DurationSeconds: r.Duration.Seconds(), OK: r.OK, Degraded: r.Degraded,
		StatusCode: r.StatusCode, Error: r.Error, TLS: r.TLS, Bucket: r.Bucket}
}

// checkState is the state a check shows: paused wins over what its last
// standing said.
func checkState(c *tocsin.Check, st *tocsin.CheckStatus) tocsin.CheckState {
	switch {
	case c.Paused:
		return tocsin.CheckPaused
	case st == nil || st.State == "":
		return tocsin.CheckPending
	}
	return st.State
}

// toCheckJSON shows c with its standing; header values (which may hold
// credentials) only to admins, who wrote them.
func toCheckJSON(c *tocsin.Check, st *tocsin.CheckStatus, admin bool) checkJSON {
	out := checkJSON{ID: c.ID, ServiceID: c.ServiceID, Name: c.Name, Kind: string(c.Kind), Interval: c.Interval.String(), Timeout: c.Timeout.String(),
		FailThreshold: c.FailThreshold, PassThreshold: c.PassThreshold, Quorum: c.Quorum, FailStatus: string(c.FailStatus), Page: c.Page,
		Severity: c.Severity, Paused: c.Paused, ConfigManaged: c.ConfigManaged, CreatedAt: c.CreatedAt, UpdatedAt: c.UpdatedAt,
		CheckSpec: c.Spec}
	if !admin && len(c.Spec.Headers) > 0 {
		out.Headers = map[string]string{}
		for k := range c.Spec.Headers {
			out.Headers[k] = "(hidden)"
		}
	}
	out.Status.State = string(checkState(c, st))
	if st != nil {
		out.Status.Flapping, out.Status.Fails, out.Status.Passes = st.Flapping, st.Fails, st.Passes
		out.Status.LastResult, out.Status.LastSuccess, out.Status.ChangedAt = toResultJSON(st.LastResult), st.LastSuccess, st.ChangedAt
	}
	return out
}

// checkStatuses returns every check's standing by check ID.
func (s *Server) checkStatuses(r *http.Request) (map[int64]*tocsin.CheckStatus, error) {
	list, err := s.store.CheckStatuses(r.Context())
	if err != nil {
		return nil, err
	}
	out := make(map[int64]*tocsin.CheckStatus, len(list))
	for _, st := range list {
		out[st.CheckID] = st
	}
	return out, nil
}

func isAdmin(r *http.Request) bool {
	st := state(r)
	if st.token != nil {
		return st.token.Roles.Allows(tocsin.RoleAdmin)
	}
	return st.user != nil && st.user.Roles.Allows(tocsin.RoleAdmin)
}

func (s *Server) apiChecks(w http.ResponseWriter, r *http.Request) error {
	list, err := s.store.Checks(r.Context())
	if err != nil {
		return err
	}
	statuses, err := s.checkStatuses(r)
	if err != nil {
		return err
	}
	admin := isAdmin(r)
	out := make([]checkJSON, 0, len(list))
	for _, c := range list {
		out = append(out, toCheckJSON(c, statuses[c.ID], admin))
	}
	return writeJSON(w, http.StatusOK, map[string]any{"checks": out})
}

func (s *Server) writeCheck(w http.ResponseWriter, r *http.Request, status int, id int64) error {
	c, err := s.store.Check(r.Context(), id)
	if err != nil {
		return err
	}
	statuses, err := s.checkStatuses(r)
	if err != nil {
		return err
	}
	return writeJSON(w, status, toCheckJSON(c, statuses[id], isAdmin(r)))
}

func (s *Server) apiCheck(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	return s.writeCheck(w, r, http.StatusOK, id)
}

func (s *Server) apiCreateCheck(w http.ResponseWriter, r *http.Request) error {
	var q checkRequest
	if err := decodeJSON(w, r, &q); err != nil {
		return err
	}
	c, err := s.checkOf(q)
	if err != nil {
		return err
	}
	if err := s.store.CreateCheck(r.Context(), state(r).actor(), c); err != nil {
		return err
	}
	s.checksChanged()
	return s.writeCheck(w, r, http.StatusCreated, c.ID)
}

func (s *Server) apiUpdateCheck(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	// A config-managed or unknown check is refused before its body is
	// judged: the answer is the same whatever was sent.
	old, err := s.store.Check(r.Context(), id)
	if err != nil {
		return err
	}
	if old.ConfigManaged {
		return configManagedCheck(old)
	}
	var q checkRequest
	if err := decodeJSON(w, r, &q); err != nil {
		return err
	}
	c, err := s.checkOf(q)
	if err != nil {
		return err
	}
	c.ID = id
	if err := s.store.UpdateCheck(r.Context(), state(r).actor(), c); err != nil {
		return err
	}
	s.checksChanged()
	return s.writeCheck(w, r, http.StatusOK, id)
}

func configManagedCheck(c *tocsin.Check) error {
	return tocsin.Errorf(tocsin.ECONFLICT, "check %q is declared in the configuration file; change it there", c.Name).
		WithKey("checks.config_managed", c.Name)
}

func (s *Server) apiDeleteCheck(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	if err := s.store.DeleteCheck(r.Context(), state(r).actor(), id); err != nil {
		return err
	}
	s.checksChanged()
	s.refreshAfter(r.Context()) // the service may take another status
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// errNoMonitor answers "run now" on a server whose checks do not run.
func errNoMonitor() error {
	return tocsin.Errorf(tocsin.ECONFLICT, "checks do not run in this server (no monitor is started), so a check cannot be run now").
		WithKey("checks.no_monitor")
}

// runNow runs check id through the monitor, which records the result.
func (s *Server) runNow(r *http.Request, id int64) (*tocsin.CheckResult, error) {
	if _, err := s.store.Check(r.Context(), id); err != nil {
		return nil, err
	}
	if s.runCheck == nil {
		return nil, errNoMonitor()
	}
	res, err := s.runCheck(r.Context(), id)
	if err != nil {
		return nil, err
	}
	s.refreshAfter(r.Context()) // a result may move the service's status
	return res, nil
}

func (s *Server) apiRunCheck(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	res, err := s.runNow(r, id)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, toResultJSON(res))
}

func queryLimit(r *http.Request, def, most int) (int, error) {
	v := r.URL.Query().Get("limit")
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 || n > most {
		return 0, tocsin.Errorf(tocsin.EINVALID, "limit=%q: give a number from 1 to %d", v, most)
	}
	return n, nil
}

func (s *Server) apiCheckResults(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	since := s.now().Add(-24 * time.Hour)
	if v := r.URL.Query().Get("since"); v != "" {
		if since, err = time.Parse(time.RFC3339, v); err != nil {
			return tocsin.Errorf(tocsin.EINVALID, "since=%q: give a date and time in RFC 3339 form, such as 2026-12-01T22:00:00Z", v)
		}
	}
	limit, err := queryLimit(r, 100, 10000)
	if err != nil {
		return err
	}
	if _, err := s.store.Check(r.Context(), id); err != nil {
		return err
	}
	list, err := s.store.CheckResults(r.Context(), id, since, limit)
	if err != nil {
		return err
	}
	out := make([]*resultJSON, 0, len(list))
	for _, res := range list {
		out = append(out, toResultJSON(res))
	}
	return writeJSON(w, http.StatusOK, map[string]any{"results": out})
}

type tlsKeyJSON struct {
	SPKISHA256 string    `json:"spki_sha256"`
	Serial     string    `json:"serial"`
	NotAfter   time.Time `json:"not_after"`
	FirstSeen  time.Time `json:"first_seen"`
	LastSeen   time.Time `json:"last_seen"`
}

func toTLSKeyJSON(k *tocsin.TLSKeySeen) tlsKeyJSON {
	return tlsKeyJSON{k.SPKISHA256, k.Serial, k.NotAfter, k.FirstSeen, k.LastSeen}
}

// apiCheckTLSKeys answers "when did the key of this endpoint last
// change?": key_changed_at is the first sighting of the key served now,
// rotated whether an earlier key was ever seen.
func (s *Server) apiCheckTLSKeys(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	if _, err := s.store.Check(r.Context(), id); err != nil {
		return err
	}
	keys, err := s.store.TLSKeys(r.Context(), id)
	if err != nil {
		return err
	}
	out := map[string]any{"check_id": id, "key_changed_at": nil, "rotated": false, "keys": []tlsKeyJSON{}}
	if at, rotated := tocsin.KeyChangedAt(keys); !at.IsZero() {
		out["key_changed_at"], out["rotated"] = at, rotated
	}
	list := make([]tlsKeyJSON, 0, len(keys))
	for _, k := range keys {
		list = append(list, toTLSKeyJSON(k))
	}
	out["keys"] = list
	return writeJSON(w, http.StatusOK, out)
}

// parseDay reads YYYY-MM-DD as the start of that day in the server's zone.
func (s *Server) parseDay(param, v string) (time.Time, error) {
	d, err := time.ParseInLocation("2006-01-02", strings.TrimSpace(v), s.loc)
	if err != nil {
		return time.Time{}, tocsin.Errorf(tocsin.EINVALID, "%s=%q: give a date such as 2026-04-07", param, v).WithKey("checks.date_invalid", v)
	}
	return d, nil
}

// staleKeyJSON is an endpoint still serving a key first seen before a date.
type staleKeyJSON struct {
	CheckID   int64  `json:"check_id"`
	Check     string `json:"check"`
	ServiceID int64  `json:"service_id"`
	Service   string `json:"service"`
	Target    string `json:"target"`
	tlsKeyJSON
}

// staleKeys lists the endpoints still serving a key first seen before
// before, with their check and service; the console and the API share it.
func (s *Server) staleKeys(r *http.Request, before time.Time) ([]staleKeyJSON, error) {
	keys, err := s.store.StaleTLSKeys(r.Context(), before)
	if err != nil {
		return nil, err
	}
	checks, services, err := s.checksAndServices(r)
	if err != nil {
		return nil, err
	}
	out := make([]staleKeyJSON, 0, len(keys))
	for _, k := range keys {
		e := staleKeyJSON{CheckID: k.CheckID, tlsKeyJSON: toTLSKeyJSON(k)}
		if c := checks[k.CheckID]; c != nil {
			e.Check, e.ServiceID, e.Target = c.Name, c.ServiceID, c.Target()
			if svc := services[c.ServiceID]; svc != nil {
				e.Service = svc.Name
			}
		}
		out = append(out, e)
	}
	return out, nil
}

func (s *Server) checksAndServices(r *http.Request) (map[int64]*tocsin.Check, map[int64]*tocsin.Service, error) {
	cl, err := s.store.Checks(r.Context())
	if err != nil {
		return nil, nil, err
	}
	sl, err := s.store.Services(r.Context())
	if err != nil {
		return nil, nil, err
	}
	checks := make(map[int64]*tocsin.Check, len(cl))
	for _, c := range cl {
		checks[c.ID] = c
	}
	services := make(map[int64]*tocsin.Service, len(sl))
	for _, svc := range sl {
		services[svc.ID] = svc
	}
	return checks, services, nil
}

// apiStaleTLSKeys answers "which endpoints still serve a key first seen
// before D?" (D a date, in the server's time zone).
func (s *Server) apiStaleTLSKeys(w http.ResponseWriter, r *http.Request) error {
	v := r.URL.Query().Get("first_seen_before")
	if v == "" {
		return tocsin.Errorf(tocsin.EINVALID, "give first_seen_before=YYYY-MM-DD: the endpoints still serving a key first seen before that day are listed")
	}
	before, err := s.parseDay("first_seen_before", v)
	if err != nil {
		return err
	}
	list, err := s.staleKeys(r, before)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, map[string]any{"first_seen_before": before, "endpoints": list})
}

type findingJSON struct {
	ID       int64      `json:"id"`
	Kind     string     `json:"kind"`
	Service  refJSON    `json:"service"`
	Check    refJSON    `json:"check"`
	Severity string     `json:"severity"`
	OpenedAt time.Time  `json:"opened_at"`
	ClosedAt *time.Time `json:"closed_at"`
	Detail   string     `json:"detail"`
	SignalID *int64     `json:"signal_id"`
}

type refJSON struct {
	ID   int64  `json:"id"`
	Name string `json:"name"`
}

// findingFilter reads state=open|closed|all (open by default), kind= and
// check= from a query.
func findingFilter(r *http.Request) (tocsin.FindingFilter, error) {
	q := r.URL.Query()
	var f tocsin.FindingFilter
	switch v := q.Get("state"); v {
	case "", "open":
		open := true
		f.Open = &open
	case "closed":
		open := false
		f.Open = &open
	case "all":
	default:
		return f, tocsin.Errorf(tocsin.EINVALID, "state=%q: give open, closed or all", v)
	}
	if v := q.Get("kind"); v != "" {
		if !slices.Contains(tocsin.FindingKinds, tocsin.FindingKind(v)) {
			names := make([]string, len(tocsin.FindingKinds))
			for i, k := range tocsin.FindingKinds {
				names[i] = string(k)
			}
			return f, tocsin.Errorf(tocsin.EINVALID, "kind=%q: give one of %s", v, strings.Join(names, ", "))
		}
		f.Kind = tocsin.FindingKind(v)
	}
	if v := q.Get("check"); v != "" {
		id, err := strconv.ParseInt(v, 10, 64)
		if err != nil || id <= 0 {
			return f, tocsin.Errorf(tocsin.EINVALID, "check=%q: give a check's ID", v)
		}
		f.CheckID = id
	}
	return f, nil
}

func (s *Server) apiFindings(w http.ResponseWriter, r *http.Request) error {
	f, err := findingFilter(r)
	if err != nil {
		return err
	}
	if f.Limit, err = queryLimit(r, 100, 1000); err != nil {
		return err
	}
	list, err := s.store.Findings(r.Context(), f)
	if err != nil {
		return err
	}
	checks, services, err := s.checksAndServices(r)
	if err != nil {
		return err
	}
	out := make([]findingJSON, 0, len(list))
	for _, x := range list {
		j := findingJSON{ID: x.ID, Kind: string(x.Kind), Service: refJSON{ID: x.ServiceID}, Check: refJSON{ID: x.CheckID}, Severity: x.Severity,
			OpenedAt: x.OpenedAt, ClosedAt: x.ClosedAt, Detail: x.Detail, SignalID: x.SignalID}
		if c := checks[x.CheckID]; c != nil {
			j.Check.Name = c.Name
		}
		if svc := services[x.ServiceID]; svc != nil {
			j.Service.Name = svc.Name
		}
		out = append(out, j)
	}
	return writeJSON(w, http.StatusOK, map[string]any{"findings": out})
}

// apiUnpinService returns a service whose status was set by hand to the
// status its checks give it.
func (s *Server) apiUnpinService(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	if err := s.store.UnpinServiceStatus(r.Context(), state(r).actor(), id); err != nil {
		return err
	}
	s.refreshAfter(r.Context())
	svc, err := s.store.Service(r.Context(), id)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, toServiceJSON(svc))
}
