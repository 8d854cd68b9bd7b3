package tocsin

import (
	"context"
	"fmt"
	"math"
	"net"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// A check probes one thing a service depends on, every interval, from
// tocsin and from its agents: a web page, a port, a DNS record, a mail
// server, a TLS endpoint or a storage bucket. Consecutive failures move the
// service's public status by themselves; what a check sees that is unsafe
// (a listable bucket, an expiring certificate, an old protocol, a key that
// did not change) becomes a Finding.

// CheckKind is what a check probes.
type CheckKind string

const (
	CheckHTTP   CheckKind = "http"
	CheckTCP    CheckKind = "tcp"
	CheckDNS    CheckKind = "dns"
	CheckSMTP   CheckKind = "smtp"
	CheckIMAP   CheckKind = "imap"
	CheckTLS    CheckKind = "tls"
	CheckBucket CheckKind = "bucket"
)

// CheckKinds lists the kinds.
var CheckKinds = []CheckKind{CheckHTTP, CheckTCP, CheckDNS, CheckSMTP, CheckIMAP, CheckTLS, CheckBucket}

// Defaults and bounds of a check's timing.
const (
	DefaultCheckInterval  = 60 * time.Second
	DefaultCheckTimeout   = 10 * time.Second
	DefaultFailThreshold  = 3
	DefaultPassThreshold  = 2
	MinCheckInterval      = time.Second // for tests; a real check runs every 30 s or more
	MaxCheckInterval      = 24 * time.Hour
	MaxCheckTimeout       = 2 * time.Minute
	MaxCheckThreshold     = 100
	DefaultBodyLimit      = 1 << 20 // bytes of a response read at most
	DefaultExpiryTiers    = "30,14,7,1"
	maxCheckListLen       = 20
	maxCheckStringLen     = 2000
	maxCheckHeaderEntries = 30
)

// CheckSpec is what a check probes and what it expects. It is the check's
// form in the configuration file (yaml), in the API (json) and in the
// database (a JSON column), so the three never disagree. Fields apply to
// the kinds named in their comment; the others must stay empty.
type CheckSpec struct {
	// http: the page; bucket: the bucket's URL (path style
	// https://s3.example.org/media or virtual-host style
	// https://media.s3.example.org).
	URL string `yaml:"url,omitempty" json:"url,omitempty"`
	// tcp, smtp, imap, tls: host:port.
	Address string `yaml:"address,omitempty" json:"address,omitempty"`

	// http
	Method       string            `yaml:"method,omitempty" json:"method,omitempty"` // GET by default
	Headers      map[string]string `yaml:"headers,omitempty" json:"headers,omitempty"`
	ExpectStatus []int             `yaml:"expect_status,omitempty" json:"expect_status,omitempty"` // 200–399 when empty
	BodyContains string            `yaml:"body_contains,omitempty" json:"body_contains,omitempty"`
	BodyRegex    string            `yaml:"body_regex,omitempty" json:"body_regex,omitempty"`
	// MaxLatency, when set, makes a slower success "degraded".
	MaxLatency Duration `yaml:"max_latency,omitempty" json:"max_latency,omitempty"`
	// NoRedirects reports a 3xx as it is instead of following it.
	NoRedirects bool `yaml:"no_redirects,omitempty" json:"no_redirects,omitempty"`
	// ClientCert and ClientKey are PEM files for servers that ask for one.
	ClientCert string `yaml:"client_cert,omitempty" json:"client_cert,omitempty"`
	ClientKey  string `yaml:"client_key,omitempty" json:"client_key,omitempty"`

	// tcp: a substring the server's first line must contain; smtp and imap
	// check their protocol's greeting anyway.
	Banner string `yaml:"banner,omitempty" json:"banner,omitempty"`
	// smtp, imap: the port speaks TLS from the start (465, 993) instead of
	// offering STARTTLS.
	ImplicitTLS bool `yaml:"implicit_tls,omitempty" json:"implicit_tls,omitempty"`

	// dns: the domain name, its record type (A, AAAA, CNAME, MX, TXT, NS, CAA), the
	// values expected (each must be present; a TXT value may be a prefix
	// such as "v=spf1" or "v=DKIM1") and the resolver (host:port; the
	// system's when empty).
	Domain   string   `yaml:"domain,omitempty" json:"domain,omitempty"`
	Record   string   `yaml:"record,omitempty" json:"record,omitempty"`
	Expect   []string `yaml:"expect,omitempty" json:"expect,omitempty"`
	Resolver string   `yaml:"resolver,omitempty" json:"resolver,omitempty"`

	// https, smtp, imap, tls: the CA file to verify against instead of the
	// system's roots, the name to verify (the host by default), and the
	// days-before-expiry tiers ("30,14,7,1" by default).
	CAFile      string `yaml:"ca_file,omitempty" json:"ca_file,omitempty"`
	ServerName  string `yaml:"server_name,omitempty" json:"server_name,omitempty"`
	ExpiryTiers []int  `yaml:"expiry_days,omitempty" json:"expiry_days,omitempty"`

	// bucket: the provider (s3, azure, gcs; s3 by default), other URLs the
	// bucket is served through (a CDN, a media domain), and, for S3, the
	// endpoint and bucket name from which both addressing styles are
	// probed (instead of, or besides, URL).
	Provider string   `yaml:"provider,omitempty" json:"provider,omitempty"`
	Aliases  []string `yaml:"aliases,omitempty" json:"aliases,omitempty"`
	Endpoint string   `yaml:"endpoint,omitempty" json:"endpoint,omitempty"`
	Bucket   string   `yaml:"bucket,omitempty" json:"bucket,omitempty"`
	Region   string   `yaml:"region,omitempty" json:"region,omitempty"`
	// AccessKeyID and SecretKeyEnv name read-only admin credentials (the
	// secret is read from that environment variable, never stored), with
	// which the bucket's policy and ACL are read and explained.
	AccessKeyID  string `yaml:"access_key_id,omitempty" json:"access_key_id,omitempty"`
	SecretKeyEnv string `yaml:"secret_key_env,omitempty" json:"secret_key_env,omitempty"`
}

// Duration is a time.Duration written "90s", "5m" in YAML and JSON.
type Duration time.Duration

// MarshalText writes the duration as Go does ("1m30s").
func (d Duration) MarshalText() ([]byte, error) { return []byte(time.Duration(d).String()), nil }

// UnmarshalText reads a Go duration; a bare number is seconds.
func (d *Duration) UnmarshalText(b []byte) error {
	s := strings.TrimSpace(string(b))
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		*d = Duration(time.Duration(n) * time.Second)
		return nil
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return fmt.Errorf("%q is not a duration: write it like 30s, 5m or 1h", s)
	}
	*d = Duration(v)
	return nil
}

// Check is one probe of a service, with its timing and how its failures
// move the service's status.
type Check struct {
	ID        int64
	ServiceID int64
	Name      string // unique within its service; defaults to kind and target
	Kind      CheckKind
	Spec      CheckSpec
	Interval  time.Duration
	Timeout   time.Duration
	// FailThreshold consecutive failures make the check down,
	// PassThreshold consecutive successes make it up again.
	FailThreshold int
	PassThreshold int
	// Quorum is how many locations must agree a check is down before it
	// is (1: any one).
	Quorum int
	// FailStatus is the service status a down check sets (major_outage by
	// default; degraded_performance or partial_outage for a check that
	// covers part of a service).
	FailStatus ServiceStatus
	// Page pages on-call when the check goes down (and when an exposure
	// finding opens).
	Page bool
	// Severity of its findings, SEV1–SEV4 (SEV2 by default).
	Severity string
	Paused   bool
	// ConfigManaged checks come from the configuration file, which wins at
	// every start; the console shows them as such.
	ConfigManaged bool
	CreatedAt     time.Time
	UpdatedAt     time.Time
}

// Target names what the check probes, for lists and default names.
func (c *Check) Target() string {
	switch {
	case c.Spec.URL != "":
		return c.Spec.URL
	case c.Spec.Address != "":
		return c.Spec.Address
	case c.Spec.Domain != "":
		return c.Spec.Record + " " + c.Spec.Domain
	case c.Spec.Endpoint != "":
		return strings.TrimSuffix(c.Spec.Endpoint, "/") + "/" + c.Spec.Bucket
	}
	return ""
}

// Host is the host the check sends traffic to, for the per-host limit.
func (c *Check) Host() string {
	if c.Spec.Address != "" {
		if h, _, err := net.SplitHostPort(c.Spec.Address); err == nil {
			return strings.ToLower(h)
		}
	}
	for _, raw := range []string{c.Spec.URL, c.Spec.Endpoint} {
		if u, err := url.Parse(raw); err == nil && u.Hostname() != "" {
			return strings.ToLower(u.Hostname())
		}
	}
	if c.Spec.Resolver != "" {
		if h, _, err := net.SplitHostPort(c.Spec.Resolver); err == nil {
			return h
		}
	}
	return ""
}

// usesTLS reports whether the check sees a certificate.
func (c *Check) UsesTLS() bool {
	switch c.Kind {
	case CheckTLS, CheckSMTP, CheckIMAP:
		return true
	case CheckHTTP:
		return strings.HasPrefix(strings.ToLower(c.Spec.URL), "https://")
	}
	return false
}

// Tiers returns the expiry tiers in days, largest first.
func (c *Check) Tiers() []int {
	t := slices.Clone(c.Spec.ExpiryTiers)
	if len(t) == 0 {
		t = []int{30, 14, 7, 1}
	}
	slices.Sort(t)
	slices.Reverse(t)
	return t
}

// CheckDefaults are the timing a check takes when it does not set its own.
type CheckDefaults struct {
	Interval      time.Duration
	Timeout       time.Duration
	FailThreshold int
	PassThreshold int
}

// ApplyDefaults fills the zero timing fields from d (and tocsin's defaults
// where d is zero too).
func (c *Check) ApplyDefaults(d CheckDefaults) {
	pick := func(v, def, fallback time.Duration) time.Duration {
		switch {
		case v != 0:
			return v
		case def != 0:
			return def
		}
		return fallback
	}
	pickN := func(v, def, fallback int) int {
		switch {
		case v != 0:
			return v
		case def != 0:
			return def
		}
		return fallback
	}
	c.Interval = pick(c.Interval, d.Interval, DefaultCheckInterval)
	if c.Timeout == 0 {
		// A default timeout longer than a short interval shrinks to it; a
		// timeout given explicitly is validated as given.
		c.Timeout = min(pick(0, d.Timeout, DefaultCheckTimeout), max(c.Interval, MinCheckInterval))
	}
	c.FailThreshold = pickN(c.FailThreshold, d.FailThreshold, DefaultFailThreshold)
	c.PassThreshold = pickN(c.PassThreshold, d.PassThreshold, DefaultPassThreshold)
	if c.Quorum == 0 {
		c.Quorum = 1
	}
	if c.FailStatus == "" {
		c.FailStatus = StatusMajorOutage
	}
	if c.Severity == "" {
		c.Severity = "SEV2"
	}
}

// checkErr is a refusal naming the field at fault, so that the
// configuration can prefix its key path and the console show it. key's
// English text in the i18n catalogues is "%s: " (the field) then format,
// with the same args (a test keeps them equal).
func checkErr(key, field, format string, args ...any) error {
	return Errorf(EINVALID, "%s: %s", field, fmt.Sprintf(format, args...)).WithKey(key, append([]any{field}, args...)...)
}

// Validate checks a check's fields for its kind and tidies them. Errors
// start with the name of the field at fault ("interval: …").
func (c *Check) Validate() error {
	c.Name = strings.TrimSpace(c.Name)
	c.Kind = CheckKind(strings.ToLower(strings.TrimSpace(string(c.Kind))))
	if !slices.Contains(CheckKinds, c.Kind) {
		return checkErr("checks.refused.kind_unknown", "kind", "unknown kind %q: allowed are http, tcp, dns, smtp, imap, tls, bucket", c.Kind)
	}
	s := &c.Spec
	for _, f := range []struct {
		name string
		v    *string
	}{{"url", &s.URL}, {"address", &s.Address}, {"method", &s.Method}, {"body_contains", &s.BodyContains},
		{"body_regex", &s.BodyRegex}, {"client_cert", &s.ClientCert}, {"client_key", &s.ClientKey}, {"banner", &s.Banner},
		{"domain", &s.Domain}, {"record", &s.Record}, {"resolver", &s.Resolver}, {"ca_file", &s.CAFile}, {"server_name", &s.ServerName},
		{"provider", &s.Provider}, {"endpoint", &s.Endpoint}, {"bucket", &s.Bucket}, {"region", &s.Region},
		{"access_key_id", &s.AccessKeyID}, {"secret_key_env", &s.SecretKeyEnv}} {
		if f.name != "body_contains" && f.name != "banner" {
			*f.v = strings.TrimSpace(*f.v)
		}
		if len(*f.v) > maxCheckStringLen || !utf8.ValidString(*f.v) || strings.ContainsAny(*f.v, "\x00\r\n") {
			return checkErr("checks.refused.text_too_long", f.name, "at most %d characters of text on one line", maxCheckStringLen)
		}
	}
	if len(s.ExpectStatus) > maxCheckListLen || len(s.Expect) > maxCheckListLen || len(s.Aliases) > maxCheckListLen || len(s.ExpiryTiers) > maxCheckListLen {
		return checkErr("checks.refused.list_too_long", "expect", "at most %d values in a list", maxCheckListLen)
	}
	if len(s.Headers) > maxCheckHeaderEntries {
		return checkErr("checks.refused.headers_too_many", "headers", "at most %d headers", maxCheckHeaderEntries)
	}
	if utf8.RuneCountInString(c.Name) > 100 {
		return checkErr("checks.refused.name_too_long", "name", "at most 100 characters")
	}
	if c.Interval < MinCheckInterval || c.Interval > MaxCheckInterval {
		return checkErr("checks.refused.interval_range", "interval", "%s is out of range: give 1s to 24h, such as 60s", c.Interval)
	}
	if c.Timeout <= 0 || c.Timeout > MaxCheckTimeout {
		return checkErr("checks.refused.timeout_range", "timeout", "%s is out of range: give more than 0 and at most 2m, such as 10s", c.Timeout)
	}
	if c.Timeout > c.Interval {
		return checkErr("checks.refused.timeout_over_interval", "timeout", "%s is longer than the interval %s", c.Timeout, c.Interval)
	}
	if c.FailThreshold < 1 || c.FailThreshold > MaxCheckThreshold {
		return checkErr("checks.refused.threshold_range", "fail_threshold", "%d is out of range: give 1 to %d", c.FailThreshold, MaxCheckThreshold)
	}
	if c.PassThreshold < 1 || c.PassThreshold > MaxCheckThreshold {
		return checkErr("checks.refused.threshold_range", "pass_threshold", "%d is out of range: give 1 to %d", c.PassThreshold, MaxCheckThreshold)
	}
	if c.Quorum < 1 || c.Quorum > 20 {
		return checkErr("checks.refused.quorum_range", "quorum", "%d is out of range: give 1 to 20 locations", c.Quorum)
	}
	switch c.FailStatus {
	case StatusDegraded, StatusPartialOutage, StatusMajorOutage:
	default:
		return checkErr("checks.refused.fail_status_unknown", "fail_status", "%q: allowed are degraded_performance, partial_outage, major_outage", c.FailStatus)
	}
	if !slices.Contains([]string{"SEV1", "SEV2", "SEV3", "SEV4"}, c.Severity) {
		return checkErr("checks.refused.severity_unknown", "severity", "%q: allowed are SEV1, SEV2, SEV3, SEV4", c.Severity)
	}
	if err := c.validateKind(); err != nil {
		return err
	}
	if c.Name == "" {
		c.Name = string(c.Kind) + " " + c.Target()
		if utf8.RuneCountInString(c.Name) > 100 {
			c.Name = string([]rune(c.Name)[:100])
		}
	}
	return nil
}

// validateKind checks the target fields the kind needs and refuses those
// it would ignore, so that a misplaced key is not silently unused.
func (c *Check) validateKind() error {
	s := &c.Spec
	allowed := map[CheckKind][]string{
		CheckHTTP:   {"url", "method", "headers", "expect_status", "body_contains", "body_regex", "max_latency", "no_redirects", "client_cert", "client_key", "ca_file", "server_name", "expiry_days"},
		CheckTCP:    {"address", "banner", "max_latency"},
		CheckDNS:    {"domain", "record", "expect", "resolver", "max_latency"},
		CheckSMTP:   {"address", "banner", "implicit_tls", "ca_file", "server_name", "expiry_days", "max_latency"},
		CheckIMAP:   {"address", "banner", "implicit_tls", "ca_file", "server_name", "expiry_days", "max_latency"},
		CheckTLS:    {"address", "ca_file", "server_name", "expiry_days", "max_latency"},
		CheckBucket: {"url", "provider", "aliases", "endpoint", "bucket", "region", "access_key_id", "secret_key_env"},
	}[c.Kind]
	for name, set := range map[string]bool{
		"url": s.URL != "", "address": s.Address != "", "method": s.Method != "", "headers": len(s.Headers) > 0,
		"expect_status": len(s.ExpectStatus) > 0, "body_contains": s.BodyContains != "", "body_regex": s.BodyRegex != "",
		"max_latency": s.MaxLatency != 0, "no_redirects": s.NoRedirects, "client_cert": s.ClientCert != "", "client_key": s.ClientKey != "",
		"banner": s.Banner != "", "implicit_tls": s.ImplicitTLS, "domain": s.Domain != "", "record": s.Record != "",
		"expect": len(s.Expect) > 0, "resolver": s.Resolver != "", "ca_file": s.CAFile != "", "server_name": s.ServerName != "",
		"expiry_days": len(s.ExpiryTiers) > 0, "provider": s.Provider != "", "aliases": len(s.Aliases) > 0,
		"endpoint": s.Endpoint != "", "bucket": s.Bucket != "", "region": s.Region != "",
		"access_key_id": s.AccessKeyID != "", "secret_key_env": s.SecretKeyEnv != "",
	} {
		if set && !slices.Contains(allowed, name) {
			return checkErr("checks.refused.not_for_kind", name, "does not apply to a %s check", c.Kind)
		}
	}
	if s.MaxLatency < 0 || time.Duration(s.MaxLatency) > MaxCheckTimeout {
		return checkErr("checks.refused.max_latency_range", "max_latency", "%s is out of range: give 0 (none) to 2m", time.Duration(s.MaxLatency))
	}
	for _, d := range s.ExpiryTiers {
		if d < 1 || d > 365 {
			return checkErr("checks.refused.expiry_days_range", "expiry_days", "%d is out of range: give days from 1 to 365", d)
		}
	}
	switch c.Kind {
	case CheckHTTP:
		if err := checkURL("url", s.URL, true); err != nil {
			return err
		}
		s.Method = strings.ToUpper(s.Method)
		if s.Method == "" {
			s.Method = "GET"
		}
		if !slices.Contains([]string{"GET", "HEAD", "POST", "PUT", "OPTIONS"}, s.Method) {
			return checkErr("checks.refused.method_unknown", "method", "%q: allowed are GET, HEAD, POST, PUT, OPTIONS", s.Method)
		}
		for k, v := range s.Headers {
			if k == "" || strings.ContainsAny(k, " :\r\n\x00") || strings.ContainsAny(v, "\r\n\x00") || len(k)+len(v) > maxCheckStringLen {
				return checkErr("checks.refused.header_bad", "headers", "header %q: a name without spaces or colons and a value on one line", k)
			}
		}
		for _, code := range s.ExpectStatus {
			if code < 100 || code > 599 {
				return checkErr("checks.refused.status_code_bad", "expect_status", "%d is not an HTTP status code (100 to 599)", code)
			}
		}
		if s.BodyRegex != "" {
			if _, err := regexp.Compile(s.BodyRegex); err != nil {
				return checkErr("checks.refused.regex_bad", "body_regex", "not a regular expression: %v", err)
			}
		}
		if (s.ClientCert == "") != (s.ClientKey == "") {
			return checkErr("checks.refused.client_cert_pair", "client_cert", "give both client_cert and client_key, or neither")
		}
	case CheckTCP, CheckSMTP, CheckIMAP, CheckTLS:
		if err := checkAddress("address", s.Address); err != nil {
			return err
		}
	case CheckDNS:
		if s.Domain == "" || len(s.Domain) > 253 || strings.ContainsAny(s.Domain, " /:") {
			return checkErr("checks.refused.domain_bad", "domain", "give a DNS name such as example.org")
		}
		s.Record = strings.ToUpper(s.Record)
		if s.Record == "" {
			s.Record = "A"
		}
		if !slices.Contains([]string{"A", "AAAA", "CNAME", "MX", "TXT", "NS", "CAA"}, s.Record) {
			return checkErr("checks.refused.record_unknown", "record", "%q: allowed are A, AAAA, CNAME, MX, TXT, NS, CAA", s.Record)
		}
		if s.Resolver != "" {
			if err := checkAddress("resolver", s.Resolver); err != nil {
				return err
			}
		}
	case CheckBucket:
		s.Provider = strings.ToLower(s.Provider)
		if s.Provider == "" {
			s.Provider = "s3"
		}
		if !slices.Contains([]string{"s3", "azure", "gcs"}, s.Provider) {
			return checkErr("checks.refused.provider_unknown", "provider", "%q: allowed are s3, azure, gcs", s.Provider)
		}
		if s.URL == "" && s.Endpoint == "" {
			return checkErr("checks.refused.bucket_target_missing", "url", "give the bucket's url, or its endpoint and bucket")
		}
		if s.URL != "" {
			if err := checkURL("url", s.URL, true); err != nil {
				return err
			}
		}
		if s.Endpoint != "" {
			if err := checkURL("endpoint", s.Endpoint, true); err != nil {
				return err
			}
			if s.Bucket == "" {
				return checkErr("checks.refused.bucket_name_missing", "bucket", "give the bucket's name with its endpoint")
			}
		}
		if s.Bucket != "" && (len(s.Bucket) > 63 || strings.ContainsAny(s.Bucket, "/ ?#")) {
			return checkErr("checks.refused.bucket_name_bad", "bucket", "%q is not a bucket name", s.Bucket)
		}
		for _, a := range s.Aliases {
			if err := checkURL("aliases", a, true); err != nil {
				return err
			}
		}
		if (s.AccessKeyID == "") != (s.SecretKeyEnv == "") {
			return checkErr("checks.refused.access_key_pair", "access_key_id", "give both access_key_id and secret_key_env, or neither")
		}
	}
	return nil
}

func checkURL(field, raw string, needHTTP bool) error {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || u.Hostname() == "" {
		return checkErr("checks.refused.url_bad", field, "%q is not an absolute URL with a host, such as https://www.example.org/", raw)
	}
	if needHTTP && u.Scheme != "http" && u.Scheme != "https" {
		return checkErr("checks.refused.url_scheme", field, "%q: give an http:// or https:// URL", raw)
	}
	if u.User != nil {
		return checkErr("checks.refused.url_password", field, "%q: put no password in a URL; use headers", raw)
	}
	return nil
}

func checkAddress(field, addr string) error {
	host, port, err := net.SplitHostPort(addr)
	if err != nil || host == "" {
		return checkErr("checks.refused.address_bad", field, "%q: give host:port, such as mail.example.org:25", addr)
	}
	if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
		return checkErr("checks.refused.port_range", field, "%q: the port must be 1 to 65535", addr)
	}
	return nil
}

// CheckResult is one run of a check from one location.
type CheckResult struct {
	CheckID int64
	// Location is where it ran: "" for tocsin itself, else the agent's name.
	Location string
	// Key identifies a result an agent sends, so that a resend after a
	// lost answer is stored once ("" for local results).
	Key       string
	StartedAt time.Time
	Duration  time.Duration
	OK        bool
	// Degraded: it worked, slower than max_latency.
	Degraded   bool
	StatusCode int    // http: the response's status
	Error      string // why it failed, in words a person can act on
	TLS        *TLSObservation
	Bucket     *BucketObservation
}

// TLSObservation is what a check saw of a TLS endpoint's certificate.
type TLSObservation struct {
	SPKISHA256 string    `json:"spki_sha256"` // hex SHA-256 of the leaf's public key info
	Serial     string    `json:"serial"`      // hex
	Subject    string    `json:"subject"`
	Issuer     string    `json:"issuer"`
	DNSNames   []string  `json:"dns_names,omitempty"`
	NotBefore  time.Time `json:"not_before"`
	NotAfter   time.Time `json:"not_after"`
	// VerifyError says why the chain or the host name did not verify; ""
	// when both did.
	VerifyError string `json:"verify_error,omitempty"`
	Version     string `json:"version"` // negotiated: "TLS 1.3"
	Cipher      string `json:"cipher"`
	// OldVersions lists protocol versions below TLS 1.2 the server accepts.
	OldVersions []string `json:"old_versions,omitempty"`
	// WeakCiphers lists insecure suites the server accepts.
	WeakCiphers []string `json:"weak_ciphers,omitempty"`
	// Scanned: the scan for old versions and weak suites ran to its end,
	// so that empty lists above mean "none" (https, smtp and imap checks
	// and scans cut short by the timeout leave it false).
	Scanned bool `json:"scanned,omitempty"`
}

// DaysLeft is the number of whole days before the certificate expires at
// now (negative when expired).
func (o *TLSObservation) DaysLeft(now time.Time) int {
	// Floor, not truncation: a certificate that expired an hour ago has
	// -1 days left, not 0.
	return int(math.Floor(o.NotAfter.Sub(now).Hours() / 24))
}

// BucketObservation is what a bucket check saw.
type BucketObservation struct {
	// Listable lists every URL (path style, virtual-host style, alias)
	// whose unsigned list request answered with a listing.
	Listable []string `json:"listable,omitempty"`
	// Probed lists every URL asked, with what it answered ("403", "listing").
	Probed []BucketProbe `json:"probed"`
	// Grants are the policy statements and ACL grants that let anyone
	// list, read or write, in words; empty without admin credentials.
	Grants []string `json:"grants,omitempty"`
	// PolicyError says why the policy could not be read, if it was asked.
	PolicyError string `json:"policy_error,omitempty"`
}

// AllAnswered reports whether every URL probed gave an HTTP answer (a
// status, even an error); a URL that failed at the network level has none.
func (o *BucketObservation) AllAnswered() bool {
	for _, p := range o.Probed {
		if p.Status == 0 {
			return false
		}
	}
	return len(o.Probed) > 0
}

// BucketProbe is one unsigned request of a bucket check.
type BucketProbe struct {
	URL    string `json:"url"`
	Style  string `json:"style"` // path, virtual-host, alias
	Status int    `json:"status"`
	Answer string `json:"answer"` // "listing", "denied", or what was wrong
}

// CheckState is where a check stands, from its consecutive results.
type CheckState string

const (
	CheckPending CheckState = "pending" // not enough results yet
	CheckUp      CheckState = "up"
	CheckDown    CheckState = "down"
	CheckPaused  CheckState = "paused"
)

// CheckStatus is a check's current standing, kept with it.
type CheckStatus struct {
	CheckID     int64
	State       CheckState
	Fails       int // consecutive failures (of the quorum of locations)
	Passes      int // consecutive successes
	Flapping    bool
	LastResult  *CheckResult
	LastSuccess *time.Time
	ChangedAt   *time.Time
	// Transitions holds when the state changed lately, for flap damping.
	Transitions []time.Time
	// Locations holds each location's consecutive runs, which the quorum
	// counts (see Apply in check_state.go).
	Locations map[string]*LocationRun
}

// FindingKind names an unsafe thing a check saw.
type FindingKind string

const (
	FindingBucketListable  FindingKind = "bucket_listable"
	FindingCertExpiring    FindingKind = "cert_expiring"
	FindingCertInvalid     FindingKind = "cert_invalid"
	FindingTLSProtocolWeak FindingKind = "tls_protocol_weak"
	FindingTLSCipherWeak   FindingKind = "tls_cipher_weak"
	// FindingTLSKeyReused: the certificate changed (a new serial), its
	// public key did not.
	FindingTLSKeyReused FindingKind = "tls_key_reused"
	FindingCheckFailing FindingKind = "check_failing"
)

// FindingKinds lists the kinds.
var FindingKinds = []FindingKind{FindingBucketListable, FindingCertExpiring, FindingCertInvalid, FindingTLSProtocolWeak, FindingTLSCipherWeak, FindingTLSKeyReused, FindingCheckFailing}

// Finding is one unsafe thing a check saw, open until a run no longer
// sees it.
type Finding struct {
	ID        int64
	Kind      FindingKind
	CheckID   int64
	ServiceID int64
	Severity  string
	Detail    string // in English, for the API and the signal
	// Words and Args say Detail in the i18n catalogues (key and values,
	// see Say), so that the console shows it in the reader's language;
	// Words is "" on findings kept before they had words.
	Words string
	Args  []string
	// Tier is, for cert_expiring, the expiry tier in days the certificate
	// fell under; falling under a lower one opens a new finding and signal.
	Tier     int
	OpenedAt time.Time
	ClosedAt *time.Time
	// SignalID is the signal opened with it, if any.
	SignalID *int64
}

// TLSKeySeen is one public key an endpoint served, with its first and last
// sighting: the history that tells a renewal from a rotation.
type TLSKeySeen struct {
	CheckID    int64
	SPKISHA256 string
	Serial     string // the latest certificate with this key
	NotAfter   time.Time
	FirstSeen  time.Time
	LastSeen   time.Time
}

// CheckService stores checks, their results, status and findings.
type CheckService interface {
	Checks(ctx context.Context) ([]*Check, error)
	Check(ctx context.Context, id int64) (*Check, error)
	// CreateCheck inserts c (validated, defaults applied by the caller).
	CreateCheck(ctx context.Context, a Actor, c *Check) error
	// UpdateCheck replaces c's fields; ECONFLICT for a config-managed check.
	UpdateCheck(ctx context.Context, a Actor, c *Check) error
	// DeleteCheck removes a check, its results and status; ECONFLICT for a
	// config-managed one.
	DeleteCheck(ctx context.Context, a Actor, id int64) error
	// SyncConfigChecks makes the config-managed checks equal to specs
	// (each with its ServiceID set); checks no longer in the file are
	// deleted.
	SyncConfigChecks(ctx context.Context, a Actor, specs []*Check) error
	// RecordCheckResults stores results (a batch, from any location),
	// moves check states, service statuses, signals, pages and findings.
	// A result whose Key was stored before is skipped.
	RecordCheckResults(ctx context.Context, results []*CheckResult) error
	CheckStatuses(ctx context.Context) ([]*CheckStatus, error)
	// CheckResults returns a check's raw results since since, newest first.
	// Results of past hours, once compacted, are kept with less detail: their
	// starts to the second at worst (truncated, never later than they
	// were), their durations to two significant digits.
	CheckResults(ctx context.Context, checkID int64, since time.Time, limit int) ([]*CheckResult, error)
	Findings(ctx context.Context, f FindingFilter) ([]*Finding, error)
	// TLSKeys returns the keys a check's endpoint served, newest first.
	TLSKeys(ctx context.Context, checkID int64) ([]*TLSKeySeen, error)
	// StaleTLSKeys returns, per TLS-seeing check, the key it serves now
	// when that key was first seen before before.
	StaleTLSKeys(ctx context.Context, before time.Time) ([]*TLSKeySeen, error)
}

// FindingFilter selects findings; zero values select all.
type FindingFilter struct {
	Open    *bool
	Kind    FindingKind
	CheckID int64
	Limit   int
}
