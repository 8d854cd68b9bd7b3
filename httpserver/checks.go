package httpserver

import (
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"strings"
	"time"

	"github.com/tocsin-org/tocsin"
)

// What the console and the API share about checks: the fields a person
// gives (checkRequest, from JSON or a form), how they become a
// tocsin.Check, and the edge refusal of targets the prober must never
// reach.

// checkRequest is a check as written by a person: the target fields of
// tocsin.CheckSpec inline (as in the configuration file), durations as Go
// duration strings. Pointers tell "left out" (the default) from an
// explicit zero, which is refused naming the field, as the configuration
// file does.
type checkRequest struct {
	ServiceID     int64   `json:"service_id"`
	Name          string  `json:"name"`
	Kind          string  `json:"kind"`
	Interval      *string `json:"interval"`
	Timeout       *string `json:"timeout"`
	FailThreshold *int    `json:"fail_threshold"`
	PassThreshold *int    `json:"pass_threshold"`
	Quorum        int     `json:"quorum"`
	FailStatus    string  `json:"fail_status"`
	Page          bool    `json:"page"`
	Severity      string  `json:"severity"`
	Paused        bool    `json:"paused"`
	// MaxLatency shadows the spec's field (a shallower field wins in
	// encoding/json), so that a bad value is refused naming it.
	MaxLatency *string `json:"max_latency"`
	tocsin.CheckSpec
}

// fieldErr refuses one field of a check with words from elsewhere (a
// duration's parser); keyedErr with words of its own, key's English text
// in the catalogues being "%s: " (the field) then format.
func fieldErr(field, msg string) error {
	return tocsin.Errorf(tocsin.EINVALID, "%s: %s", field, msg).WithKey("checks.invalid", field, msg)
}

func keyedErr(key, field, format string, args ...any) error {
	return tocsin.Errorf(tocsin.EINVALID, "%s: %s", field, fmt.Sprintf(format, args...)).WithKey(key, append([]any{field}, args...)...)
}

func parseCheckDuration(field string, v *string) (time.Duration, bool, error) {
	if v == nil || strings.TrimSpace(*v) == "" {
		return 0, false, nil
	}
	var d tocsin.Duration
	if err := d.UnmarshalText([]byte(*v)); err != nil {
		return 0, false, fieldErr(field, err.Error())
	}
	return time.Duration(d), true, nil
}

// check turns the request into a validated check with the configured
// defaults applied; errors name the field at fault.
func (s *Server) checkOf(q checkRequest) (*tocsin.Check, error) {
	c := &tocsin.Check{
		ServiceID: q.ServiceID, Name: q.Name, Kind: tocsin.CheckKind(q.Kind), Spec: q.CheckSpec,
		Quorum: q.Quorum, FailStatus: tocsin.ServiceStatus(strings.TrimSpace(q.FailStatus)), Page: q.Page,
		Severity: strings.ToUpper(strings.TrimSpace(q.Severity)), Paused: q.Paused,
	}
	iv, set, err := parseCheckDuration("interval", q.Interval)
	if err != nil {
		return nil, err
	}
	if set && iv <= 0 {
		return nil, keyedErr("checks.refused.interval_range", "interval", "%s is out of range: give 1s to 24h, such as 60s", iv)
	}
	c.Interval = iv
	to, set, err := parseCheckDuration("timeout", q.Timeout)
	if err != nil {
		return nil, err
	}
	if set && to <= 0 {
		return nil, keyedErr("checks.refused.timeout_range", "timeout", "%s is out of range: give more than 0 and at most 2m, such as 10s", to)
	}
	c.Timeout = to
	ml, _, err := parseCheckDuration("max_latency", q.MaxLatency)
	if err != nil {
		return nil, err
	}
	c.Spec.MaxLatency = tocsin.Duration(ml)
	if q.FailThreshold != nil {
		if c.FailThreshold = *q.FailThreshold; c.FailThreshold < 1 {
			return nil, keyedErr("checks.refused.fail_threshold", "fail_threshold", "give 1 to %d failures in a row", tocsin.MaxCheckThreshold)
		}
	}
	if q.PassThreshold != nil {
		if c.PassThreshold = *q.PassThreshold; c.PassThreshold < 1 {
			return nil, keyedErr("checks.refused.pass_threshold", "pass_threshold", "give 1 to %d successes in a row", tocsin.MaxCheckThreshold)
		}
	}
	if q.Quorum < 0 {
		return nil, keyedErr("checks.refused.quorum", "quorum", "give 1 to 20 locations")
	}
	c.ApplyDefaults(s.cfg.Checks.Defaults())
	if err := c.Validate(); err != nil {
		return nil, err
	}
	if err := s.safeTarget(c); err != nil {
		return nil, err
	}
	return c, nil
}

// Targets refused at the edge unless checks.allow_private is set: the
// cloud-metadata services and link-local addresses, through which a check
// could read the host's cloud credentials. The prober refuses them again
// at dial time, on the resolved IP; this refusal is for the person typing
// it, at once, naming the key that would allow it.
var (
	unsafePrefixes = []netip.Prefix{netip.MustParsePrefix("169.254.0.0/16"), netip.MustParsePrefix("fe80::/10")}
	metadataIPs    = []netip.Addr{
		netip.MustParseAddr("169.254.169.254"),
		netip.MustParseAddr("fd00:ec2::254"),
		netip.MustParseAddr("100.100.100.200"),
	}
	metadataHosts = []string{"metadata.google.internal", "metadata.goog", "metadata.azure.internal"}
)

// unsafeHost says why host may not be probed ("metadata" or
// "link_local"), or "".
func unsafeHost(host string) string {
	h := strings.TrimSuffix(strings.ToLower(strings.Trim(host, "[]")), ".")
	for _, n := range metadataHosts {
		if h == n {
			return "metadata"
		}
	}
	if i := strings.IndexByte(h, '%'); i >= 0 { // fe80::1%eth0
		h = h[:i]
	}
	ip, err := netip.ParseAddr(h)
	if err != nil {
		return ""
	}
	ip = ip.Unmap()
	for _, m := range metadataIPs {
		if ip == m {
			return "metadata"
		}
	}
	for _, p := range unsafePrefixes {
		if p.Contains(ip) {
			return "link_local"
		}
	}
	return ""
}

// safeTarget refuses a check whose URL, address, endpoint, alias or
// resolver names a metadata or link-local host, unless the configuration
// allows it. The console and the API both call it.
func (s *Server) safeTarget(c *tocsin.Check) error {
	if s.cfg.Checks.AllowPrivate {
		return nil
	}
	type target struct{ field, value, host string }
	var targets []target
	addURL := func(field, raw string) {
		if u, err := url.Parse(raw); err == nil && raw != "" {
			targets = append(targets, target{field, raw, u.Hostname()})
		}
	}
	addAddr := func(field, addr string) {
		if h, _, err := net.SplitHostPort(addr); err == nil && addr != "" {
			targets = append(targets, target{field, addr, h})
		}
	}
	addURL("url", c.Spec.URL)
	addURL("endpoint", c.Spec.Endpoint)
	for _, a := range c.Spec.Aliases {
		addURL("aliases", a)
	}
	addAddr("address", c.Spec.Address)
	addAddr("resolver", c.Spec.Resolver)
	if c.Spec.Domain != "" {
		targets = append(targets, target{"domain", c.Spec.Domain, c.Spec.Domain})
	}
	for _, t := range targets {
		if why := unsafeHost(t.host); why != "" {
			what := map[string]string{"metadata": "a cloud-metadata address", "link_local": "a link-local address"}[why]
			return tocsin.Errorf(tocsin.EINVALID, "%s: refused to probe %s: it is %s; set checks.allow_private in the configuration to allow it",
				t.field, t.value, what).WithKey("checks.unsafe_"+why, t.field, t.value)
		}
	}
	return nil
}

// checksChanged tells the scheduler to reload, after every create, edit,
// pause and delete.
func (s *Server) checksChanged() {
	if s.onChecks != nil {
		s.onChecks()
	}
}
