package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tocsin-org/tocsin/config"
)

// `tocsin help` and `tocsin CMD -h` succeed and name every flag; a command
// or subcommand that does not exist is a usage error (status 2).
func TestHelpNamesEveryFlag(t *testing.T) {
	in := newInstance(t, "sqlite")
	common := []string{"-config", "-data"}
	for _, tc := range []struct {
		args []string
		want []string
	}{
		{[]string{"help"}, []string{"serve", "migrate", "user", "token", "audit", "version", "TOCSIN_SECRET_KEY"}},
		{[]string{"--help"}, []string{"serve", "migrate", "user", "token", "audit", "version"}},
		{[]string{"help", "serve"}, append([]string{"-listen"}, common...)},
		{[]string{"serve", "-h"}, append([]string{"-listen"}, common...)},
		{[]string{"migrate", "-h"}, common},
		{[]string{"version", "-h"}, nil},
		{[]string{"user", "-h"}, []string{"add", "list", "disable", "reset-2fa"}},
		{[]string{"help", "user"}, []string{"add", "list", "disable", "reset-2fa"}},
		{[]string{"user", "add", "-h"}, append([]string{"-email", "-role", "-name", "standard input"}, common...)},
		{[]string{"user", "list", "-h"}, common},
		{[]string{"user", "disable", "-h"}, append([]string{"EMAIL|ID"}, common...)},
		{[]string{"user", "reset-2fa", "-h"}, append([]string{"EMAIL|ID"}, common...)},
		{[]string{"token", "-h"}, []string{"create", "revoke", "list"}},
		{[]string{"token", "create", "-h"}, append([]string{"-name", "-role"}, common...)},
		{[]string{"token", "revoke", "-h"}, append([]string{"NAME|ID"}, common...)},
		{[]string{"token", "list", "-h"}, common},
		{[]string{"audit", "-h"}, []string{"verify"}},
		{[]string{"runbook", "-h"}, []string{"import", "list"}},
		{[]string{"runbook", "import", "-h"}, append([]string{"-builtin", "-lang", "FILE"}, common...)},
		{[]string{"runbook", "list", "-h"}, common},
		{[]string{"audit", "verify", "-h"}, common},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			r := in.runRaw("", tc.args...)
			if r.err != nil {
				t.Fatalf("status %d (%v), want 0\n%s%s", r.code(), r.err, r.stdout, r.stderr)
			}
			out := r.stdout + r.stderr
			for _, w := range tc.want {
				if !strings.Contains(out, w) {
					t.Errorf("help lacks %q:\n%s", w, out)
				}
			}
		})
	}

	// The main help names every configuration key and its variable.
	help := in.runRaw("", "help").stdout
	for _, k := range config.Keys() {
		if !strings.Contains(help, k) || !strings.Contains(help, config.EnvName(k)) {
			t.Errorf("tocsin help lacks the key %s or %s", k, config.EnvName(k))
		}
	}
}

func TestUsageErrorsExitWithStatus2(t *testing.T) {
	in := newInstance(t, "sqlite")
	for _, tc := range []struct {
		args []string
		want string
	}{
		{nil, "Usage: tocsin COMMAND"},
		{[]string{"frobnicate"}, `unknown command "frobnicate"`},
		{[]string{"user"}, "Usage: tocsin user SUBCOMMAND"},
		{[]string{"user", "promote"}, `unknown subcommand "promote"`},
		{[]string{"token", "mint"}, `unknown subcommand "mint"`},
		{[]string{"audit"}, "Usage: tocsin audit SUBCOMMAND"},
		{[]string{"audit", "repair"}, "verify"},
		{[]string{"serve", "--port", "8080"}, "flag provided but not defined: -port"},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			r := in.runRaw("", tc.args...)
			if r.code() != 2 || !strings.Contains(r.stderr, tc.want) || r.stdout != "" {
				t.Errorf("status %d, stdout %q, stderr %q; want 2, nothing on stdout, and %q", r.code(), r.stdout, r.stderr, tc.want)
			}
		})
	}
	// The status a shell sees from the binary.
	if _, stderr, status := in.execCLI("", "frobnicate"); status != 2 || !strings.Contains(stderr, `unknown command "frobnicate"`) {
		t.Errorf("binary: status %d, stderr %q", status, stderr)
	}
	if _, _, status := in.execCLI("", "help"); status != 0 {
		t.Errorf("binary help: status %d", status)
	}
}

// An invalid value, from the YAML file or from a TOCSIN_* variable, stops
// start-up before anything listens, with a message naming the key, the
// value and what is allowed.
func TestInvalidConfigStopsStartup(t *testing.T) {
	for _, tc := range []struct {
		name string
		yaml string   // written to a file passed with --config when set
		env  []string // TOCSIN_* pairs
		args []string // more serve flags
		want []string
	}{
		{name: "lang in file", yaml: "lang: de\n", want: []string{"lang", `"de"`, "fr or en"}},
		{name: "listen in file", yaml: "listen: nowhere\n", want: []string{"listen", `"nowhere"`, "host:port"}},
		{name: "unknown key in file", yaml: "colour: red\n", want: []string{"config.yaml", "colour", "not found"}},
		{name: "wrong type in file", yaml: "listen: [1, 2]\n", want: []string{"config.yaml", "listen (line 1)", "must be text"}},
		{name: "lang from env", env: []string{"TOCSIN_LANG", "klingon"}, want: []string{"lang", `"klingon"`, "fr or en"}},
		{name: "port not a number", env: []string{"TOCSIN_SMTP_PORT", "abc"}, want: []string{"smtp.port", "TOCSIN_SMTP_PORT", `"abc"`, "whole number"}},
		{name: "duration", env: []string{"TOCSIN_SESSION_IDLE_TIMEOUT", "8"}, want: []string{"session.idle_timeout", `"8"`, "30s, 15m, 8h"}},
		{name: "time zone", env: []string{"TOCSIN_TIME_ZONE", "Mars/Olympus"}, want: []string{"time_zone", `"Mars/Olympus"`, "IANA"}},
		{name: "lease shorter than send timeout", env: []string{"TOCSIN_OUTBOX_LEASE", "1s", "TOCSIN_OUTBOX_SEND_TIMEOUT", "2s"}, want: []string{"outbox.lease", `"1s"`, "longer than outbox.send_timeout"}},
		{name: "smtp without sender", env: []string{"TOCSIN_SMTP_HOST", "127.0.0.1", "TOCSIN_SMTP_FROM", "nobody"}, want: []string{"smtp.from", `"nobody"`, "sender address"}},
		{name: "matrix without token", env: []string{"TOCSIN_MATRIX_HOMESERVER", "https://matrix.example.org"}, want: []string{"matrix.access_token", "TOCSIN_MATRIX_ACCESS_TOKEN"}},
		{name: "env overrides a good file", yaml: "lang: fr\n", env: []string{"TOCSIN_LANG", "es"}, want: []string{"lang", `"es"`}},
		{name: "listen flag", args: []string{"--listen", "localhost"}, want: []string{"listen", `"localhost"`, "host:port"}},
		{name: "missing config file", args: []string{"--config", "/nonexistent/tocsin.yaml"}, want: []string{"/nonexistent/tocsin.yaml", "no such file"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := newInstance(t, "sqlite").with(tc.env...)
			args := []string{"serve", "--listen", "127.0.0.1:0"}
			if tc.yaml != "" {
				file := filepath.Join(t.TempDir(), "config.yaml")
				if err := os.WriteFile(file, []byte(tc.yaml), 0o600); err != nil {
					t.Fatal(err)
				}
				args = append(args, "--config", file)
			}
			args = append(args, tc.args...)
			r := in.cli("", args...)
			if r.code() != 1 {
				t.Fatalf("status %d (%v), want 1\n%s", r.code(), r.err, r.stderr)
			}
			for _, w := range tc.want {
				if !strings.Contains(r.message(), w) {
					t.Errorf("message %q lacks %q", r.message(), w)
				}
			}
			if strings.Contains(r.stderr, "listening") || r.stdout != "" {
				t.Errorf("started anyway: stdout %q, stderr %q", r.stdout, r.stderr)
			}
			if _, err := os.Stat(in.dataDir); err == nil {
				t.Errorf("the data directory was created before the configuration was accepted")
			}
		})
	}

	// Through the binary: status 1 and one line naming the problem.
	in := newInstance(t, "sqlite").with("TOCSIN_LANG", "de")
	_, stderr, status := in.execCLI("", "serve", "--data", in.dataDir, "--listen", "127.0.0.1:0")
	if status != 1 || stderr != "tocsin: config: lang: \"de\" is not valid: fr or en\n" {
		t.Errorf("binary: status %d, stderr %q", status, stderr)
	}
}
