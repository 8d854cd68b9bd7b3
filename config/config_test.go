package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func envFrom(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

func TestLoadDefaultsWithoutFile(t *testing.T) {
	t.Chdir(t.TempDir())
	c, err := Load("", envFrom(nil))
	if err != nil {
		t.Fatal(err)
	}
	if c.DataDir != "./tocsin-data" || c.Listen != "127.0.0.1:8080" || c.TimeZone != "Europe/Paris" || c.Lang != "en" {
		t.Errorf("defaults = %+v", c)
	}
}

func TestLoadFileThenEnvironment(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "tocsin.yaml")
	yaml := "listen: 127.0.0.1:9000\nlang: fr\nsmtp:\n  host: mail.example.org\n  from: tocsin@example.org\n  password: from-file\nsession:\n  idle_timeout: 2h\n"
	if err := os.WriteFile(file, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := Load(file, envFrom(map[string]string{
		"TOCSIN_SMTP_PASSWORD":   "from-env",
		"TOCSIN_TRUSTED_PROXIES": "127.0.0.1, 10.0.0.0/8",
		"TOCSIN_PASSWORD_TIME":   "2",
	}))
	if err != nil {
		t.Fatal(err)
	}
	if c.Listen != "127.0.0.1:9000" || c.Lang != "fr" || c.SMTP.Host != "mail.example.org" {
		t.Errorf("file values not applied: %+v", c)
	}
	if c.SMTP.Password != "from-env" {
		t.Errorf("environment should override the file, got %q", c.SMTP.Password)
	}
	if len(c.TrustedProxies) != 2 || c.TrustedProxies[1] != "10.0.0.0/8" {
		t.Errorf("trusted_proxies = %q", c.TrustedProxies)
	}
	if c.Session.IdleTimeout != 2*time.Hour || c.Password.Time != 2 {
		t.Errorf("duration/uint not parsed: %+v", c)
	}
}

func TestLoadErrorsNameKeyValueAndAllowed(t *testing.T) {
	tests := []struct {
		name string
		yaml string
		env  map[string]string
		want []string // substrings of the error
	}{
		{"unknown key", "lisen: x\n", nil, []string{"lisen", "not found"}},
		{"bad yaml", "listen: [\n", nil, []string{"invalid YAML"}},
		{"list for text", "listen: [a]\n", nil, []string{"listen (line 1)", "must be text"}},
		{"text for number", "smtp:\n  port: abc\n", nil, []string{"smtp.port (line 2)", `"abc"`, "whole number"}},
		{"bad duration in flow map", "session: {idle_timeout: 5x}\n", nil, []string{"session.idle_timeout (line 1)", `"5x"`, "duration"}},
		{"number for list", "trusted_proxies: 3\n", nil, []string{"trusted_proxies (line 1)", "a list"}},
		{"bad lang", "lang: de\n", nil, []string{"lang", `"de"`, "fr or en"}},
		{"bad zone", "time_zone: Mars/Olympus\n", nil, []string{"time_zone", "Mars/Olympus", "IANA"}},
		{"bad listen", "listen: nowhere\n", nil, []string{"listen", "nowhere", "host:port"}},
		{"bad database", "database: mysql://x\n", nil, []string{"database", "postgres://"}},
		{"database password redacted", "database: mysql://u:hunter2@x/db\n", nil, []string{"database", "xxxxx"}},
		{"bad proxy", "trusted_proxies: [not-an-ip]\n", nil, []string{"trusted_proxies", "not-an-ip", "CIDR"}},
		{"half tls", "tls: {cert: /x.pem}\n", nil, []string{"tls", "both"}},
		{"bad smtp tls", "smtp: {tls: maybe}\n", nil, []string{"smtp.tls", "maybe", "starttls"}},
		{"smtp without from", "smtp: {host: mail.example.org}\n", nil, []string{"smtp.from"}},
		{"idle too short", "session: {idle_timeout: 1s}\n", nil, []string{"session.idle_timeout", "1s"}},
		{"env duration", "", map[string]string{"TOCSIN_SESSION_MAX_AGE": "forever"}, []string{"session.max_age", "TOCSIN_SESSION_MAX_AGE", "forever", "duration"}},
		{"env number", "", map[string]string{"TOCSIN_PASSWORD_THREADS": "900"}, []string{"password.threads", "900", "255"}},
		{"base url", "base_url: status.example.org\n", nil, []string{"base_url", "https://"}},
		{"memory", "password: {memory_kib: 12}\n", nil, []string{"password.memory_kib", "12"}},
		{"intake email", "intake: {email: security}\n", nil, []string{"intake.email", "security@"}},
		{"intake policy", "intake: {policy: /policy}\n", nil, []string{"intake.policy", "https://"}},
		{"imap tls", "intake: {imap: {tls: maybe}}\n", nil, []string{"intake.imap.tls", "maybe", "starttls"}},
		{"imap without password", "intake: {imap: {host: imap.example.org, username: s}}\n", nil, []string{"intake.imap.username", "TOCSIN_INTAKE_IMAP_PASSWORD"}},
		{"imap poll", "intake: {imap: {host: h, username: s, password: p, poll_interval: 1ms}}\n", nil, []string{"intake.imap.poll_interval", "1ms"}},
		{"empty severity", "severities: {sev2: {fr: \"\"}}\n", nil, []string{"severities.sev2.fr", "1 to 500"}},
		{"unknown severity", "severities: {sev5: {en: x}}\n", nil, []string{"sev5", "not found"}},
		{"poll too often", "page: {poll_interval: 1ms}\n", nil, []string{"page.poll_interval", "1ms", "10ms to 1h"}},
		{"env poll", "", map[string]string{"TOCSIN_PAGE_POLL_INTERVAL": "2h"}, []string{"page.poll_interval", "2h"}},
		{"relative export dir", "export: {dir: site}\n", nil, []string{"export.dir", `"site"`, "absolute path"}},
		{"export to root", "export: {dir: /}\n", nil, []string{"export.dir", "absolute path"}},
		{"export into data", "data_dir: /srv/tocsin\nexport: {dir: /srv/tocsin/}\n", nil, []string{"export.dir", "data_dir"}},
		{"negative reminder lead", "maintenance: {reminder_lead: -1h}\n", nil, []string{"maintenance.reminder_lead", "-1h"}},
		{"cadence too short", "comms: {cadence: 1m}\n", nil, []string{"comms.cadence", "1m", "5m to 24h"}},
		{"env cadence too long", "", map[string]string{"TOCSIN_COMMS_CADENCE": "48h"}, []string{"comms.cadence", "48h"}},
		{"matrix without homeserver", "matrix: {access_token: hunter2}\n", nil, []string{"matrix.homeserver", "https://"}},
		{"matrix homeserver not a URL", "matrix: {homeserver: matrix.example.org, access_token: hunter2}\n", nil, []string{"matrix.homeserver", "matrix.example.org", "https://"}},
		{"matrix plain http elsewhere", "matrix: {homeserver: \"http://matrix.example.org\", access_token: hunter2}\n", nil, []string{"matrix.homeserver", "in clear"}},
		{"matrix homeserver with password", "matrix: {homeserver: \"https://u:hunter2@matrix.example.org\", access_token: t}\n", nil, []string{"matrix.homeserver", "xxxxx"}},
		{"matrix without token", "matrix: {homeserver: \"https://matrix.example.org\"}\n", nil, []string{"matrix.access_token", "TOCSIN_MATRIX_ACCESS_TOKEN"}},
		{"matrix token with a line break", "matrix: {homeserver: \"https://matrix.example.org\"}\n", map[string]string{"TOCSIN_MATRIX_ACCESS_TOKEN": "hunter2\n"}, []string{"matrix.access_token", "line breaks"}},
		{"matrix user ID", "matrix: {homeserver: \"https://matrix.example.org\", access_token: hunter2, user_id: tocsin}\n", nil, []string{"matrix.user_id", `"tocsin"`, "@tocsin:example.org"}},
		{"env reminder lead", "", map[string]string{"TOCSIN_MAINTENANCE_REMINDER_LEAD": "soon"}, []string{"maintenance.reminder_lead", "soon", "duration"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			file := filepath.Join(t.TempDir(), "c.yaml")
			if err := os.WriteFile(file, []byte(tt.yaml), 0o600); err != nil {
				t.Fatal(err)
			}
			_, err := Load(file, envFrom(tt.env))
			if err == nil {
				t.Fatal("expected an error")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
			if strings.Contains(err.Error(), "hunter2") {
				t.Errorf("error leaks a password: %q", err)
			}
		})
	}
}

func TestExplicitMissingFileIsAnError(t *testing.T) {
	if _, err := Load(filepath.Join(t.TempDir(), "nope.yaml"), envFrom(nil)); err == nil {
		t.Fatal("a --config file that does not exist must stop start-up")
	}
}

func TestEveryKeyHasAnEnvironmentVariable(t *testing.T) {
	keys := Keys()
	for _, want := range []string{"data_dir", "smtp.password", "session.idle_timeout", "password.max_concurrent"} {
		found := false
		for _, k := range keys {
			found = found || k == want
		}
		if !found {
			t.Errorf("key %q missing from Keys() = %v", want, keys)
		}
	}
	if got := EnvName("severities.sev1.fr"); got != "TOCSIN_SEVERITIES_SEV1_FR" {
		t.Errorf("EnvName = %q", got)
	}
	c, err := Load("", envFrom(map[string]string{"TOCSIN_SEVERITIES_SEV1_EN": "Customer data leaves the building."}))
	if err != nil || c.Severities.Of("SEV1", "en") != "Customer data leaves the building." || c.Severities.Of("SEV1", "fr") == "" {
		t.Errorf("severity from the environment: %v %+v", err, c.Severities.SEV1)
	}
	if got := EnvName("smtp.password"); got != "TOCSIN_SMTP_PASSWORD" {
		t.Errorf("EnvName = %q", got)
	}
}

func TestPublicURL(t *testing.T) {
	tests := []struct {
		c    Config
		want string
	}{
		{Config{Listen: "127.0.0.1:8080"}, "http://127.0.0.1:8080"},
		{Config{Listen: ":8080"}, "http://localhost:8080"},
		{Config{Listen: ":8443", TLS: TLS{Cert: "c", Key: "k"}}, "https://localhost:8443"},
		{Config{Listen: ":8080", BaseURL: "https://status.example.org/"}, "https://status.example.org"},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			if got := tt.c.PublicURL(); got != tt.want {
				t.Errorf("PublicURL() = %q, want %q", got, tt.want)
			}
		})
	}
}

// FuzzParse feeds arbitrary bytes to the loader: it must return a value or
// an error, never panic.
func FuzzParse(f *testing.F) {
	f.Add([]byte("listen: 127.0.0.1:8080\nlang: fr\n"))
	f.Add([]byte("smtp: {host: x, port: 99999}\n"))
	f.Add([]byte("session:\n  idle_timeout: 5m\n"))
	f.Add([]byte("trusted_proxies: [1.2.3.4, ::1/128]\n"))
	f.Add([]byte("&a [*a]"))
	f.Add([]byte(checksExample))
	f.Add([]byte("services: [{name: W, checks: [{kind: http, url: 'https://a/', interval: 0, timeout: -1s}]}]\n"))
	f.Add([]byte("services: [{name: W, checks: [{kind: dns, domain: x, record: TXT, expect: [v=spf1], resolver: '127.0.0.1:53'}]}]\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		c := Default()
		if err := Parse(&c, data); err != nil {
			return
		}
		_ = c.Validate()
	})
}

func TestPageAndServices(t *testing.T) {
	file := filepath.Join(t.TempDir(), "tocsin.yaml")
	yaml := `page: {title: "Example Host status", url: "https://status.example.org", contact: "support@example.org"}
services:
  - {name: Mastodon, group: Social, description: "Our Mastodon instance"}
  - {name: Mail, group: Communication}
`
	if err := os.WriteFile(file, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := Load(file, envFrom(nil))
	if err != nil {
		t.Fatal(err)
	}
	if c.Page.Title != "Example Host status" || c.Page.URL != "https://status.example.org" || len(c.Services) != 2 ||
		c.Services[0].Group != "Social" || c.Services[1].Name != "Mail" {
		t.Errorf("page and services not read: %+v %+v", c.Page, c.Services)
	}
	bad := []struct{ yaml, want string }{
		{"services: [{name: A}, {name: a}]\n", "services[1].name"},
		{"services: [{group: X}]\n", "services[0].name"},
		{"services: [{name: A, link: ftp://x}]\n", "services[0].link"},
		{"page: {title: \"\"}\n", "page.title"},
		{"page: {url: status.example.org}\n", "page.url"},
		{"page: {contact: nobody}\n", "page.contact"},
	}
	for _, tt := range bad {
		t.Run(tt.want, func(t *testing.T) {
			if err := os.WriteFile(file, []byte(tt.yaml), 0o600); err != nil {
				t.Fatal(err)
			}
			if _, err := Load(file, envFrom(nil)); err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %v, want one naming %s", err, tt.want)
			}
		})
	}
	if _, err := Load(file, envFrom(map[string]string{"TOCSIN_SERVICES": "x"})); err == nil || !strings.Contains(err.Error(), "configuration file") {
		t.Errorf("a list of entries from the environment: %v", err)
	}
}

// TestMatrixTokenFromTheEnvironment: the token may stay out of the file,
// and plain http is accepted on loopback (a homeserver on the same host).
func TestMatrixTokenFromTheEnvironment(t *testing.T) {
	tests := []struct {
		name, homeserver string
	}{
		{"https", "https://matrix.example.org"},
		{"http on 127.0.0.1", "http://127.0.0.1:8008"},
		{"http on localhost", "http://localhost:8008/"},
		{"http on ::1", "http://[::1]:8008"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			file := filepath.Join(t.TempDir(), "c.yaml")
			yaml := "matrix:\n  homeserver: " + tt.homeserver + "\n  user_id: \"@tocsin:example.org\"\n"
			if err := os.WriteFile(file, []byte(yaml), 0o600); err != nil {
				t.Fatal(err)
			}
			c, err := Load(file, envFrom(map[string]string{"TOCSIN_MATRIX_ACCESS_TOKEN": "syt_secret"}))
			if err != nil {
				t.Fatal(err)
			}
			if c.Matrix.AccessToken != "syt_secret" || c.Matrix.Homeserver != tt.homeserver {
				t.Errorf("matrix = %+v", c.Matrix)
			}
		})
	}
}
