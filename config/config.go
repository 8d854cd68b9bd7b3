// Package config reads tocsin's configuration: one typed struct, filled from
// defaults, then a YAML file, then TOCSIN_* environment variables, and
// validated once at start so that a bad value stops start-up with a message
// naming the key, the value and what is allowed.
package config

import (
	"time"

	"github.com/tocsin-org/tocsin"
)

// Config is every setting tocsin reads. The yaml tag of each field is its key
// in the file; the environment variable is TOCSIN_ followed by the key path in
// upper case with dots as underscores (smtp.password → TOCSIN_SMTP_PASSWORD).
type Config struct {
	DataDir  string `yaml:"data_dir"` // SQLite file, secret key
	Database string `yaml:"database"` // "" for SQLite in data_dir, or postgres://…
	Listen   string `yaml:"listen"`
	// BaseURL is the address people use to reach tocsin, for links in
	// messages (setup link, alerts). Default: http://LISTEN.
	BaseURL        string   `yaml:"base_url"`
	Lang           string   `yaml:"lang"`
	TimeZone       string   `yaml:"time_zone"`
	TrustedProxies []string `yaml:"trusted_proxies"` // CIDRs whose X-Forwarded-For is believed

	Page     Page      `yaml:"page"`
	Services []Service `yaml:"services"` // config-managed services, created/updated at start
	Export   Export    `yaml:"export"`
	// Checks holds the defaults of the services' checks and the prober's
	// limits.
	Checks Checks `yaml:"checks"`

	// Severities are the written definitions of the security incident
	// severities, shown wherever one is chosen.
	Severities Severities `yaml:"severities"`

	TLS      TLS      `yaml:"tls"`
	Password Password `yaml:"password"`
	Session  Session  `yaml:"session"`
	SMTP     SMTP     `yaml:"smtp"`
	Matrix   Matrix   `yaml:"matrix"` // Matrix rooms, for paging
	Intake   Intake   `yaml:"intake"`
	Outbox   Outbox   `yaml:"outbox"`
	// Maintenance tunes the scheduled maintenances' worker.
	Maintenance Maintenance `yaml:"maintenance"`
	Breach      Breach      `yaml:"breach"` // the clocks a personal data breach starts
	// Evidence bounds the files attached to security incidents.
	Evidence Evidence `yaml:"evidence"`
	// Comms tunes how a security incident speaks to the public.
	Comms Comms `yaml:"comms"`
	Log   Log   `yaml:"log"`
}

// Comms tunes the public side of security incidents; zero takes the default.
type Comms struct {
	// Cadence is how long a linked public incident may go without a public
	// update before the communications lead is reminded (60m); a room may
	// set its own.
	Cadence time.Duration `yaml:"cadence"`
}

// Page describes the public status page.
type Page struct {
	Title string `yaml:"title"`
	// URL is the public address of the status page, for links in feeds and
	// e-mails; it may differ from base_url (the console's address).
	URL string `yaml:"url"`
	// Contact is where "report a problem" points: an e-mail address or an
	// http(s) URL of a form.
	Contact string `yaml:"contact"`
	// PollInterval is how often each instance checks the audit log's head
	// for changes made elsewhere (another instance on the same PostgreSQL
	// database, or the command line on the same SQLite file) and rebuilds
	// the page when it moved.
	PollInterval time.Duration `yaml:"poll_interval"`
}

// Export writes the public site as static files after every rebuild, so
// that a second host serving Dir keeps a current copy.
type Export struct {
	Dir string `yaml:"dir"` // "" disables it
}

// Service is a service declared in the file.
type Service struct {
	Name        string `yaml:"name"`
	Group       string `yaml:"group"`
	Description string `yaml:"description"`
	Link        string `yaml:"link"`
	// Checks probe the service; their failures move its status.
	Checks []Check `yaml:"checks"`
}

// Severities defines SEV1 (the worst) to SEV4 in both languages.
type Severities struct {
	SEV1 Definition `yaml:"sev1"`
	SEV2 Definition `yaml:"sev2"`
	SEV3 Definition `yaml:"sev3"`
	SEV4 Definition `yaml:"sev4"`
}

// Definition is a text in English and in French.
type Definition struct {
	EN string `yaml:"en"`
	FR string `yaml:"fr"`
}

// Of returns the definition of severity sev ("SEV1"…) in lang; "" for an
// unknown severity.
func (s Severities) Of(sev, lang string) string {
	var d Definition
	switch sev {
	case "SEV1":
		d = s.SEV1
	case "SEV2":
		d = s.SEV2
	case "SEV3":
		d = s.SEV3
	case "SEV4":
		d = s.SEV4
	}
	if lang == "fr" {
		return d.FR
	}
	return d.EN
}

// DefaultSeverities are definitions a small host can start from.
func DefaultSeverities() Severities {
	return Severities{
		SEV1: Definition{
			EN: "Critical: personal data or credentials exposed or stolen, or an attacker in control of systems; all hands, now.",
			FR: "Critique : données personnelles ou identifiants exposés ou volés, ou un attaquant aux commandes ; tout le monde, maintenant.",
		},
		SEV2: Definition{
			EN: "Major: a compromise or exposure likely but not confirmed, or a serious vulnerability exploitable now; within the hour.",
			FR: "Majeur : compromission ou exposition probable mais non confirmée, ou vulnérabilité grave exploitable ; dans l'heure.",
		},
		SEV3: Definition{
			EN: "Moderate: a vulnerability or misconfiguration with limited reach and no sign of use; within the working day.",
			FR: "Modéré : vulnérabilité ou erreur de configuration de portée limitée, sans signe d'exploitation ; dans la journée.",
		},
		SEV4: Definition{
			EN: "Low: a weakness to fix with no exposure; in the normal course of work.",
			FR: "Faible : une faiblesse à corriger, sans exposition ; dans le cours normal du travail.",
		},
	}
}

// TLS serves HTTPS directly when both files are set.
type TLS struct {
	Cert string `yaml:"cert"`
	Key  string `yaml:"key"`
}

// Password holds the argon2id cost; zero values take auth's defaults.
type Password struct {
	MemoryKiB     uint32 `yaml:"memory_kib"`
	Time          uint32 `yaml:"time"`
	Threads       uint8  `yaml:"threads"`
	MaxConcurrent int    `yaml:"max_concurrent"` // hashes computed at once; bounds memory
}

// Session holds the console session lifetimes.
type Session struct {
	IdleTimeout time.Duration `yaml:"idle_timeout"`
	MaxAge      time.Duration `yaml:"max_age"`
}

// SMTP is the mail relay used by the outbox.
type SMTP struct {
	Host     string `yaml:"host"` // "" disables e-mail delivery (messages wait in the outbox)
	Port     int    `yaml:"port"`
	Username string `yaml:"username"`
	Password string `yaml:"password"`
	From     string `yaml:"from"`
	TLS      string `yaml:"tls"` // starttls, tls, none
}

// Intake is where reports of security problems arrive: the public form
// (always), security.txt's fields, and the mailbox read over IMAP.
type Intake struct {
	// Email is the address people write to (security.txt's mailto:
	// Contact); usually the mailbox IMAP reads. "" lists the form alone.
	Email string `yaml:"email"`
	// Policy is the URL of the disclosure policy (security.txt's Policy).
	Policy string `yaml:"policy"`
	IMAP   IMAP   `yaml:"imap"`
}

// IMAP is the intake mailbox: every unseen message becomes a signal, and
// is marked seen once the signal is stored.
type IMAP struct {
	Host         string        `yaml:"host"` // "" reads no mailbox
	Port         int           `yaml:"port"` // default 993 with tls, 143 otherwise
	TLS          string        `yaml:"tls"`  // tls, starttls, none
	Username     string        `yaml:"username"`
	Password     string        `yaml:"password"`
	Mailbox      string        `yaml:"mailbox"`
	PollInterval time.Duration `yaml:"poll_interval"`
}

// Evidence bounds evidence uploads: a file larger than MaxBytes (default
// 25 MiB, at most 1 GiB) is recorded as a reference with its hash instead.
type Evidence struct {
	MaxBytes int64 `yaml:"max_bytes"`
}

// Maintenance tunes scheduled maintenances; zero takes the default.
type Maintenance struct {
	// ReminderLead is how long before a window its reminder is due (1h).
	ReminderLead time.Duration `yaml:"reminder_lead"`
}

// Outbox tunes message delivery; zero values take the worker's defaults
// (poll 2s, lease 2m, send timeout 1m, 12 attempts, retry 30s doubling to 1h).
type Outbox struct {
	PollInterval time.Duration `yaml:"poll_interval"`
	Lease        time.Duration `yaml:"lease"` // a claimed message is retried after this if its worker died
	SendTimeout  time.Duration `yaml:"send_timeout"`
	MaxAttempts  int           `yaml:"max_attempts"`
	RetryBase    time.Duration `yaml:"retry_base"`
	RetryMax     time.Duration `yaml:"retry_max"`
	// Concurrency is how many messages are sent at once (default 4); a
	// fan-out to thousands of subscribers goes faster with more.
	Concurrency int `yaml:"concurrency"`
}

// Log sets how tocsin logs.
type Log struct {
	Level  string `yaml:"level"`  // debug, info, warn, error
	Format string `yaml:"format"` // text, json
}

// Default returns the configuration used when nothing is set.
func Default() Config {
	return Config{
		DataDir:  "./tocsin-data",
		Page:     Page{Title: "Status", PollInterval: 2 * time.Second},
		Listen:   "127.0.0.1:8080",
		Lang:     "en",
		TimeZone: "Europe/Paris",
		Session:  Session{IdleTimeout: 8 * time.Hour, MaxAge: 7 * 24 * time.Hour},
		SMTP:     SMTP{Port: 587, TLS: "starttls"},
		Intake:   Intake{IMAP: IMAP{TLS: "tls", Mailbox: "INBOX", PollInterval: time.Minute}},
		Log:      Log{Level: "info", Format: "text"},
		Evidence: Evidence{MaxBytes: 25 << 20},
		Checks: Checks{Interval: tocsin.DefaultCheckInterval, Timeout: tocsin.DefaultCheckTimeout,
			FailThreshold: tocsin.DefaultFailThreshold, PassThreshold: tocsin.DefaultPassThreshold,
			Retention: 7 * 24 * time.Hour, Concurrency: 64, PerHost: 8, BodyLimit: tocsin.DefaultBodyLimit},

		Severities: DefaultSeverities(),
	}
}
