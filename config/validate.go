package config

import (
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"path/filepath"
	"strings"
	"time"
)

// The argon2id limits of auth.PasswordParams.Validate (auth/password.go),
// copied here since config does not import auth: a value accepted here must
// not make auth.NewHasher refuse it at start-up. Zero takes auth's default.
// cmd/tocsin's tests check that both agree.
const (
	minPasswordMemoryKiB  = 7 * 1024    // auth's minMemoryKiB
	maxPasswordMemoryKiB  = 1024 * 1024 // auth's maxMemoryKiB
	maxPasswordTime       = 16          // auth's maxTime
	maxPasswordThreads    = 16          // auth's maxThreads
	maxPasswordConcurrent = 256         // auth's maxMaxConcurrent
)

// Validate checks every value and returns the first problem, naming the
// key, the value and what is allowed.
func (c *Config) Validate() error {
	bad := func(key string, value any, allowed string) error {
		return fmt.Errorf("config: %s: %q is not valid: %s", key, fmt.Sprint(value), allowed)
	}
	if strings.TrimSpace(c.DataDir) == "" {
		return bad("data_dir", c.DataDir, "give a directory path, such as ./tocsin-data")
	}
	if c.Database != "" && !strings.HasPrefix(c.Database, "postgres://") &&
		!strings.HasPrefix(c.Database, "postgresql://") && !strings.HasPrefix(c.Database, "sqlite:") {
		return bad("database", redactURL(c.Database), `leave empty for SQLite in data_dir, or give "sqlite:PATH" or a postgres:// URL`)
	}
	if _, port, err := net.SplitHostPort(c.Listen); err != nil || port == "" {
		return bad("listen", c.Listen, "give host:port, such as 127.0.0.1:8080 or :8080")
	}
	if c.BaseURL != "" {
		u, err := url.Parse(c.BaseURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return bad("base_url", c.BaseURL, "give an absolute http:// or https:// URL, such as https://status.example.org")
		}
	}
	if c.Lang != "fr" && c.Lang != "en" {
		return bad("lang", c.Lang, "fr or en")
	}
	if _, err := time.LoadLocation(c.TimeZone); err != nil || c.TimeZone == "" || c.TimeZone == "Local" {
		return bad("time_zone", c.TimeZone, "an IANA time zone name, such as Europe/Paris or UTC")
	}
	for _, p := range c.TrustedProxies {
		if _, err := ParseCIDR(p); err != nil {
			return bad("trusted_proxies", p, "an IP address or CIDR range, such as 127.0.0.1 or 10.0.0.0/8")
		}
	}
	if strings.TrimSpace(c.Page.Title) == "" || len(c.Page.Title) > 200 {
		return bad("page.title", c.Page.Title, "a title of 1 to 200 characters, such as \"Example Host status\"")
	}
	if c.Page.URL != "" {
		u, err := url.Parse(c.Page.URL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return bad("page.url", c.Page.URL, "an absolute http:// or https:// URL, such as https://status.example.org")
		}
	}
	if ct := c.Page.Contact; ct != "" && !strings.HasPrefix(ct, "https://") && !strings.HasPrefix(ct, "http://") && !strings.Contains(ct, "@") {
		return bad("page.contact", ct, "an e-mail address or the http(s) URL of a form")
	}
	seen := map[string]bool{}
	for i, s := range c.Services {
		key := fmt.Sprintf("services[%d]", i)
		name := strings.TrimSpace(s.Name)
		if name == "" || len(name) > 100 {
			return bad(key+".name", s.Name, "a name of 1 to 100 characters")
		}
		if seen[strings.ToLower(name)] {
			return bad(key+".name", s.Name, "a name used once: another service has it")
		}
		seen[strings.ToLower(name)] = true
		if s.Link != "" && !strings.HasPrefix(s.Link, "https://") && !strings.HasPrefix(s.Link, "http://") {
			return bad(key+".link", s.Link, "an http:// or https:// address")
		}
	}
	if err := c.validateChecks(); err != nil {
		return err
	}
	for _, sev := range []string{"SEV1", "SEV2", "SEV3", "SEV4"} {
		for _, lang := range []string{"en", "fr"} {
			key := "severities." + strings.ToLower(sev) + "." + lang
			if d := c.Severities.Of(sev, lang); strings.TrimSpace(d) == "" || len(d) > 500 {
				return bad(key, d, "a definition of 1 to 500 characters saying when an incident is "+sev)
			}
		}
	}
	if (c.TLS.Cert == "") != (c.TLS.Key == "") {
		return bad("tls", c.TLS.Cert+c.TLS.Key, "set both tls.cert and tls.key, or neither")
	}
	if c.Password.MaxConcurrent < 0 || c.Password.MaxConcurrent > maxPasswordConcurrent {
		return bad("password.max_concurrent", c.Password.MaxConcurrent, fmt.Sprintf("0 (one per CPU) to %d", maxPasswordConcurrent))
	}
	if c.Password.MemoryKiB != 0 && (c.Password.MemoryKiB < minPasswordMemoryKiB || c.Password.MemoryKiB > maxPasswordMemoryKiB) {
		return bad("password.memory_kib", c.Password.MemoryKiB, fmt.Sprintf("0 (default) or %d to %d KiB (7 MiB to 1 GiB)", minPasswordMemoryKiB, maxPasswordMemoryKiB))
	}
	if c.Password.Time > maxPasswordTime {
		return bad("password.time", c.Password.Time, fmt.Sprintf("0 (default) or 1 to %d passes", maxPasswordTime))
	}
	if c.Password.Threads > maxPasswordThreads {
		return bad("password.threads", c.Password.Threads, fmt.Sprintf("0 (default) or 1 to %d", maxPasswordThreads))
	}
	if c.Session.IdleTimeout < time.Minute || c.Session.IdleTimeout > 30*24*time.Hour {
		return bad("session.idle_timeout", c.Session.IdleTimeout, "from 1m to 720h")
	}
	if c.Session.MaxAge < c.Session.IdleTimeout || c.Session.MaxAge > 90*24*time.Hour {
		return bad("session.max_age", c.Session.MaxAge, "at least session.idle_timeout and at most 2160h")
	}
	if c.SMTP.Host != "" {
		if c.SMTP.Port < 1 || c.SMTP.Port > 65535 {
			return bad("smtp.port", c.SMTP.Port, "1 to 65535")
		}
		if !strings.Contains(c.SMTP.From, "@") {
			return bad("smtp.from", c.SMTP.From, "the sender address, such as tocsin@example.org")
		}
	}
	switch c.SMTP.TLS {
	case "starttls", "tls", "none":
	default:
		return bad("smtp.tls", c.SMTP.TLS, "starttls, tls or none")
	}
	if c.Evidence.MaxBytes < 1 || c.Evidence.MaxBytes > 1<<30 {
		return bad("evidence.max_bytes", c.Evidence.MaxBytes, "1 to 1073741824 bytes (1 GiB), such as 26214400 (25 MiB)")
	}
	if err := c.Intake.validate(bad); err != nil {
		return err
	}
	if err := c.Matrix.validate(bad); err != nil {
		return err
	}
	if c.Page.PollInterval < 10*time.Millisecond || c.Page.PollInterval > time.Hour {
		return bad("page.poll_interval", c.Page.PollInterval, "from 10ms to 1h, such as 2s")
	}
	if d := c.Export.Dir; d != "" {
		if !filepath.IsAbs(d) || filepath.Clean(d) == "/" {
			return bad("export.dir", d, "an absolute path to a directory of its own, such as /var/www/status")
		}
		if c.DataDir != "" && filepath.Clean(d) == filepath.Clean(absPath(c.DataDir)) {
			return bad("export.dir", d, "a directory other than data_dir")
		}
	}
	for key, d := range map[string]time.Duration{
		"outbox.poll_interval": c.Outbox.PollInterval, "outbox.lease": c.Outbox.Lease,
		"outbox.send_timeout": c.Outbox.SendTimeout, "outbox.retry_base": c.Outbox.RetryBase,
		"outbox.retry_max": c.Outbox.RetryMax, "maintenance.reminder_lead": c.Maintenance.ReminderLead,
	} {
		if d < 0 || d > 7*24*time.Hour {
			return bad(key, d, "0 (default) or a duration up to 168h")
		}
	}
	if d := c.Comms.Cadence; d != 0 && (d < 5*time.Minute || d > 24*time.Hour) {
		return bad("comms.cadence", d, "0 (default, 60m) or a duration from 5m to 24h")
	}
	if c.Outbox.Lease != 0 && c.Outbox.SendTimeout != 0 && c.Outbox.Lease <= c.Outbox.SendTimeout {
		return bad("outbox.lease", c.Outbox.Lease, "longer than outbox.send_timeout, or a slow send would be claimed twice")
	}
	if c.Outbox.MaxAttempts < 0 || c.Outbox.MaxAttempts > 100 {
		return bad("outbox.max_attempts", c.Outbox.MaxAttempts, "0 (default) to 100")
	}
	if c.Outbox.Concurrency < 0 || c.Outbox.Concurrency > 64 {
		return bad("outbox.concurrency", c.Outbox.Concurrency, "0 (default) to 64")
	}
	switch c.Log.Level {
	case "debug", "info", "warn", "error":
	default:
		return bad("log.level", c.Log.Level, "debug, info, warn or error")
	}
	if c.Log.Format != "text" && c.Log.Format != "json" {
		return bad("log.format", c.Log.Format, "text or json")
	}
	return nil
}

func (in *Intake) validate(bad func(key string, value any, allowed string) error) error {
	if in.Email != "" && (!strings.Contains(in.Email, "@") || strings.ContainsAny(in.Email, " \t\r\n<>")) {
		return bad("intake.email", in.Email, "the address reports are sent to, such as security@example.org")
	}
	if in.Policy != "" {
		u, err := url.Parse(in.Policy)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return bad("intake.policy", in.Policy, "an absolute https:// URL of the disclosure policy")
		}
	}
	m := &in.IMAP
	switch m.TLS {
	case "tls", "starttls", "none":
	default:
		return bad("intake.imap.tls", m.TLS, "tls, starttls or none")
	}
	if m.Host == "" {
		return nil
	}
	if m.Port == 0 {
		m.Port = 143
		if m.TLS == "tls" {
			m.Port = 993
		}
	}
	if m.Port < 1 || m.Port > 65535 {
		return bad("intake.imap.port", m.Port, "1 to 65535")
	}
	if m.Username == "" || m.Password == "" {
		return bad("intake.imap.username", m.Username, "set intake.imap.username and intake.imap.password (or TOCSIN_INTAKE_IMAP_PASSWORD)")
	}
	if strings.TrimSpace(m.Mailbox) == "" {
		return bad("intake.imap.mailbox", m.Mailbox, "a mailbox name, such as INBOX")
	}
	if m.PollInterval < time.Second || m.PollInterval > 24*time.Hour {
		return bad("intake.imap.poll_interval", m.PollInterval, "from 1s to 24h")
	}
	return nil
}

// ParseCIDR accepts a CIDR range or a single address.
func ParseCIDR(s string) (netip.Prefix, error) {
	if p, err := netip.ParsePrefix(s); err == nil {
		return p.Masked(), nil
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Prefix{}, err
	}
	return netip.PrefixFrom(a, a.BitLen()), nil
}

// PublicURL returns the base URL people use, defaulting to the listen address.
func (c *Config) PublicURL() string {
	if c.BaseURL != "" {
		return strings.TrimRight(c.BaseURL, "/")
	}
	scheme := "http"
	if c.TLS.Cert != "" {
		scheme = "https"
	}
	host, port, _ := net.SplitHostPort(c.Listen)
	if host == "" || host == "0.0.0.0" || host == "::" {
		host = "localhost"
	}
	return scheme + "://" + net.JoinHostPort(host, port)
}

// redactURL hides a password in a database URL before it is printed.
func redactURL(s string) string {
	if u, err := url.Parse(s); err == nil && u.User != nil {
		return u.Redacted()
	}
	return s
}

// absPath is p made absolute, or p if the working directory is unknown.
func absPath(p string) string {
	if a, err := filepath.Abs(p); err == nil {
		return a
	}
	return p
}
