package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tocsin-org/tocsin"
)

// The issue's own example, plus a mail server, must load as written.
const checksExample = `
checks:
  interval: 30s
services:
  - name: Website
    group: Web
    checks:
      - {kind: http, url: "https://www.example.org/", interval: 60s, expect_status: [200], page: true}
      - {kind: tls, address: "www.example.org:443", interval: 1h}
  - name: Mail
    checks:
      - {kind: smtp, address: "mail.example.org:25", max_latency: 2s}
      - {kind: dns, domain: example.org, record: TXT, expect: ["v=spf1"], fail_status: degraded_performance}
  - name: Media
    group: Social
    checks:
      - {kind: bucket, url: "https://s3.example.org/media", aliases: ["https://media.example.org"], interval: 5m, page: true}
`

func loadYAML(t *testing.T, yaml string) (Config, error) {
	t.Helper()
	file := filepath.Join(t.TempDir(), "tocsin.yaml")
	if err := os.WriteFile(file, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	return Load(file, envFrom(nil))
}

func TestChecksExample(t *testing.T) {
	c, err := loadYAML(t, checksExample)
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Services) != 3 || len(c.Services[0].Checks) != 2 || len(c.Services[2].Checks) != 1 {
		t.Fatalf("services = %+v", c.Services)
	}
	tests := []struct {
		name              string
		cc                Check
		kind              tocsin.CheckKind
		interval, timeout time.Duration
		page              bool
		target, wantName  string
		failStatus        tocsin.ServiceStatus
	}{
		{"http", c.Services[0].Checks[0], tocsin.CheckHTTP, time.Minute, 10 * time.Second, true, "https://www.example.org/", "http https://www.example.org/", tocsin.StatusMajorOutage},
		{"tls", c.Services[0].Checks[1], tocsin.CheckTLS, time.Hour, 10 * time.Second, false, "www.example.org:443", "tls www.example.org:443", tocsin.StatusMajorOutage},
		{"smtp takes the file's default interval", c.Services[1].Checks[0], tocsin.CheckSMTP, 30 * time.Second, 10 * time.Second, false, "mail.example.org:25", "smtp mail.example.org:25", tocsin.StatusMajorOutage},
		{"dns", c.Services[1].Checks[1], tocsin.CheckDNS, 30 * time.Second, 10 * time.Second, false, "TXT example.org", "dns TXT example.org", tocsin.StatusDegraded},
		{"bucket", c.Services[2].Checks[0], tocsin.CheckBucket, 5 * time.Minute, 10 * time.Second, true, "https://s3.example.org/media", "bucket https://s3.example.org/media", tocsin.StatusMajorOutage},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			chk, err := tt.cc.Check(c.Checks.Defaults())
			if err != nil {
				t.Fatal(err)
			}
			if chk.Kind != tt.kind || chk.Interval != tt.interval || chk.Timeout != tt.timeout || chk.Page != tt.page ||
				chk.Target() != tt.target || chk.Name != tt.wantName || chk.FailStatus != tt.failStatus || !chk.ConfigManaged {
				t.Errorf("check = %+v", chk)
			}
			if chk.FailThreshold != 3 || chk.PassThreshold != 2 || chk.Quorum != 1 || chk.Severity != "SEV2" {
				t.Errorf("defaults not applied: %+v", chk)
			}
		})
	}
	if got := c.Services[2].Checks[0].Aliases; len(got) != 1 || got[0] != "https://media.example.org" {
		t.Errorf("aliases = %q", got)
	}
	if got := c.Services[1].Checks[0].MaxLatency; time.Duration(got) != 2*time.Second {
		t.Errorf("max_latency = %v", got)
	}
}

func TestChecksBadInputNamesTheKey(t *testing.T) {
	svc := func(check string) string { return "services:\n  - name: Web\n    checks:\n      - " + check + "\n" }
	tests := []struct {
		name, yaml string
		want       []string
	}{
		{"interval of 0", svc(`{kind: http, url: "https://a.example/", interval: 0s}`), []string{"services[0].checks[0].interval", "1s to 24h"}},
		{"bare interval 0", svc(`{kind: http, url: "https://a.example/", interval: 0}`), []string{"checks.interval", "line 4"}},
		{"negative timeout", svc(`{kind: http, url: "https://a.example/", timeout: -5s}`), []string{"services[0].checks[0].timeout", "more than 0"}},
		{"timeout over interval", svc(`{kind: tcp, address: "a.example:22", interval: 5s, timeout: 10s}`), []string{"checks[0].timeout", "longer than the interval"}},
		{"unknown kind", svc(`{kind: ping, address: "a.example:1"}`), []string{"services[0].checks[0].kind", `unknown kind "ping"`}},
		{"missing kind", svc(`{url: "https://a.example/"}`), []string{"checks[0].kind"}},
		{"URL without a host", svc(`{kind: http, url: "https:///path"}`), []string{"services[0].checks[0].url", "with a host"}},
		{"relative URL", svc(`{kind: http, url: "www.example.org"}`), []string{"checks[0].url"}},
		{"ftp URL", svc(`{kind: http, url: "ftp://a.example/"}`), []string{"checks[0].url", "http:// or https://"}},
		{"password in URL", svc(`{kind: http, url: "https://u:p@a.example/"}`), []string{"checks[0].url", "no password"}},
		{"address without port", svc(`{kind: tcp, address: "a.example"}`), []string{"checks[0].address", "host:port"}},
		{"port out of range", svc(`{kind: smtp, address: "a.example:70000"}`), []string{"checks[0].address", "1 to 65535"}},
		{"field of another kind", svc(`{kind: tcp, address: "a.example:22", url: "https://a.example/"}`), []string{"checks[0].url", "does not apply to a tcp check"}},
		{"bad status code", svc(`{kind: http, url: "https://a.example/", expect_status: [42]}`), []string{"checks[0].expect_status", "42"}},
		{"bad regex", svc(`{kind: http, url: "https://a.example/", body_regex: "("}`), []string{"checks[0].body_regex"}},
		{"bad record type", svc(`{kind: dns, domain: example.org, record: SRVX}`), []string{"checks[0].record", "SRVX"}},
		{"unknown provider", svc(`{kind: bucket, url: "https://s3.a.example/b", provider: minio}`), []string{"checks[0].provider"}},
		{"bucket without url", svc(`{kind: bucket, aliases: ["https://cdn.a.example/"]}`), []string{"checks[0].url"}},
		{"half credentials", svc(`{kind: bucket, url: "https://s3.a.example/b", access_key_id: AKIA}`), []string{"checks[0].access_key_id"}},
		{"zero threshold", svc(`{kind: tcp, address: "a.example:22", fail_threshold: 0}`), []string{"checks[0].fail_threshold"}},
		{"bad fail status", svc(`{kind: tcp, address: "a.example:22", fail_status: down}`), []string{"checks[0].fail_status"}},
		{"bad severity", svc(`{kind: tcp, address: "a.example:22", severity: SEV9}`), []string{"checks[0].severity"}},
		{"bad duration", svc(`{kind: http, url: "https://a.example/", max_latency: soon}`), []string{"duration"}},
		{"unknown key", svc(`{kind: http, url: "https://a.example/", expected_status: [200]}`), []string{"expected_status"}},
		{"two checks one name", "services:\n  - name: Web\n    checks:\n      - {kind: tcp, address: \"a.example:22\", name: ssh}\n      - {kind: tcp, address: \"b.example:22\", name: SSH}\n", []string{"services[0].checks[1].name", "another check"}},
		{"default interval 0.5s", "checks: {interval: 500ms}\n", []string{"checks.interval"}},
		{"default retention", "checks: {retention: 10m}\n", []string{"checks.retention"}},
		{"concurrency", "checks: {concurrency: 0}\n", []string{"checks.concurrency"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := loadYAML(t, tt.yaml)
			if err == nil {
				t.Fatal("accepted")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
		})
	}
}
