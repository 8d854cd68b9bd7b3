package config

import (
	"fmt"
	"strings"
	"time"

	"github.com/tocsin-org/tocsin"
)

// Checks holds the defaults of every check and the prober's limits.
type Checks struct {
	Interval      time.Duration `yaml:"interval"`       // 60s
	Timeout       time.Duration `yaml:"timeout"`        // 10s
	FailThreshold int           `yaml:"fail_threshold"` // 3 failures in a row: down
	PassThreshold int           `yaml:"pass_threshold"` // 2 successes in a row: up
	// Retention is how long raw results are kept before only the hourly
	// and daily aggregates remain (7 days).
	Retention time.Duration `yaml:"retention"`
	// Concurrency bounds the checks running at once; PerHost those
	// against one host, so that tocsin never hammers a server.
	Concurrency int `yaml:"concurrency"`
	PerHost     int `yaml:"per_host"`
	// BodyLimit is how many bytes of an answer a check reads at most.
	BodyLimit int64 `yaml:"body_limit"`
	// AllowPrivate lets checks reach link-local and cloud-metadata
	// addresses (169.254.169.254…), refused by default so that a check
	// cannot read the host's cloud credentials.
	AllowPrivate bool `yaml:"allow_private"`
}

// Check is a check declared under a service in the file: its timing and
// the target fields of tocsin.CheckSpec inline, so the file reads
// {kind: http, url: …, interval: 60s, expect_status: [200], page: true}.
type Check struct {
	Kind string `yaml:"kind"`
	Name string `yaml:"name"`
	// Interval and Timeout are pointers so that an explicit 0 is refused
	// rather than taken for "use the default".
	Interval      *time.Duration `yaml:"interval"`
	Timeout       *time.Duration `yaml:"timeout"`
	FailThreshold *int           `yaml:"fail_threshold"`
	PassThreshold *int           `yaml:"pass_threshold"`
	Quorum        int            `yaml:"quorum"`
	FailStatus    string         `yaml:"fail_status"`
	Page          bool           `yaml:"page"`
	Severity      string         `yaml:"severity"`
	Paused        bool           `yaml:"paused"`

	tocsin.CheckSpec `yaml:",inline"`
}

// Defaults returns the check defaults of the file.
func (c Checks) Defaults() tocsin.CheckDefaults {
	return tocsin.CheckDefaults{Interval: c.Interval, Timeout: c.Timeout, FailThreshold: c.FailThreshold, PassThreshold: c.PassThreshold}
}

// Check returns the declared check as tocsin's, with the defaults d
// applied and validated; serviceID is set by the caller.
func (cc Check) Check(d tocsin.CheckDefaults) (*tocsin.Check, error) {
	c := &tocsin.Check{
		Name: cc.Name, Kind: tocsin.CheckKind(cc.Kind), Spec: cc.CheckSpec,
		Quorum: cc.Quorum, FailStatus: tocsin.ServiceStatus(cc.FailStatus), Page: cc.Page,
		Severity: strings.ToUpper(strings.TrimSpace(cc.Severity)), Paused: cc.Paused, ConfigManaged: true,
	}
	// An explicit zero or negative value must reach Validate, which names
	// it, instead of being replaced by the default.
	if cc.Interval != nil {
		c.Interval = *cc.Interval
		if c.Interval <= 0 {
			return nil, fmt.Errorf("interval: %s is out of range: give 1s to 24h, such as 60s", c.Interval)
		}
	}
	if cc.Timeout != nil {
		c.Timeout = *cc.Timeout
		if c.Timeout <= 0 {
			return nil, fmt.Errorf("timeout: %s is out of range: give more than 0 and at most 2m, such as 10s", c.Timeout)
		}
	}
	if cc.FailThreshold != nil {
		if c.FailThreshold = *cc.FailThreshold; c.FailThreshold < 1 {
			return nil, fmt.Errorf("fail_threshold: %d is out of range: give 1 to %d", c.FailThreshold, tocsin.MaxCheckThreshold)
		}
	}
	if cc.PassThreshold != nil {
		if c.PassThreshold = *cc.PassThreshold; c.PassThreshold < 1 {
			return nil, fmt.Errorf("pass_threshold: %d is out of range: give 1 to %d", c.PassThreshold, tocsin.MaxCheckThreshold)
		}
	}
	c.ApplyDefaults(d)
	if err := c.Validate(); err != nil {
		return nil, fmt.Errorf("%s", tocsin.ErrorMessage(err))
	}
	return c, nil
}

func (c *Config) validateChecks() error {
	k := c.Checks
	switch {
	case k.Interval != 0 && (k.Interval < tocsin.MinCheckInterval || k.Interval > tocsin.MaxCheckInterval):
		return fmt.Errorf("config: checks.interval: %q is not valid: 1s to 24h, such as 60s", k.Interval)
	case k.Timeout < 0 || k.Timeout > tocsin.MaxCheckTimeout:
		return fmt.Errorf("config: checks.timeout: %q is not valid: more than 0 and at most 2m, such as 10s", k.Timeout)
	case k.FailThreshold < 0 || k.FailThreshold > tocsin.MaxCheckThreshold:
		return fmt.Errorf("config: checks.fail_threshold: %q is not valid: 1 to %d", fmt.Sprint(k.FailThreshold), tocsin.MaxCheckThreshold)
	case k.PassThreshold < 0 || k.PassThreshold > tocsin.MaxCheckThreshold:
		return fmt.Errorf("config: checks.pass_threshold: %q is not valid: 1 to %d", fmt.Sprint(k.PassThreshold), tocsin.MaxCheckThreshold)
	case k.Retention < time.Hour || k.Retention > 400*24*time.Hour:
		return fmt.Errorf("config: checks.retention: %q is not valid: 1h to 400 days (9600h), such as 168h", k.Retention)
	case k.Concurrency < 1 || k.Concurrency > 10000:
		return fmt.Errorf("config: checks.concurrency: %q is not valid: 1 to 10000 checks at once", fmt.Sprint(k.Concurrency))
	case k.PerHost < 1 || k.PerHost > 1000:
		return fmt.Errorf("config: checks.per_host: %q is not valid: 1 to 1000 checks at once against one host", fmt.Sprint(k.PerHost))
	case k.BodyLimit < 1024 || k.BodyLimit > 64<<20:
		return fmt.Errorf("config: checks.body_limit: %q is not valid: 1024 to 67108864 bytes", fmt.Sprint(k.BodyLimit))
	}
	for i, s := range c.Services {
		names := map[string]bool{}
		for j, cc := range s.Checks {
			key := fmt.Sprintf("services[%d].checks[%d]", i, j)
			chk, err := cc.Check(k.Defaults())
			if err != nil {
				return fmt.Errorf("config: %s.%s", key, err)
			}
			if names[strings.ToLower(chk.Name)] {
				return fmt.Errorf("config: %s.name: %q is used by another check of %s: give each a name", key, chk.Name, s.Name)
			}
			names[strings.ToLower(chk.Name)] = true
		}
	}
	return nil
}
