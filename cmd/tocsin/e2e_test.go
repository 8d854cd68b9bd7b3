package main

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"
)

var (
	setupLinkRE = regexp.MustCompile(`(http://\S+)/setup\?token=(tcu_\S+)`)
	csrfRE      = regexp.MustCompile(`name="csrf" value="([^"]+)"`)
)

// A first start on an empty database prints one setup link on stdout that
// creates the first admin; once an account exists, a start prints none and
// the link is dead. Health and readiness answer throughout.
func TestServeFirstStartPrintsOneWorkingSetupLink(t *testing.T) {
	backends(t, func(t *testing.T, in *instance) {
		s := in.serve()
		for _, path := range []string{"/healthz", "/readyz"} {
			if code, body := get(t, s.URL+path, ""); code != http.StatusOK {
				t.Errorf("GET %s = %d %q, want 200", path, code, body)
			}
		}
		out := s.stdout.String()
		links := setupLinkRE.FindAllStringSubmatch(out, -1)
		if len(links) != 1 {
			t.Fatalf("stdout has %d setup links, want 1:\n%s", len(links), out)
		}
		if links[0][1] != s.URL {
			t.Errorf("setup link points at %s, but the server listens at %s", links[0][1], s.URL)
		}
		if strings.Contains(s.stderr.String(), "setup?token=") {
			t.Errorf("the setup link leaked to stderr (logs):\n%s", s.stderr)
		}
		link := links[0][0]

		// Follow the link as a browser would and create the first admin.
		jar, _ := cookiejar.New(nil)
		browser := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
		resp, err := browser.Get(link)
		if err != nil {
			t.Fatal(err)
		}
		body := readBody(t, resp)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("GET setup link = %d, want 200\n%s", resp.StatusCode, body)
		}
		m := csrfRE.FindStringSubmatch(body)
		if m == nil {
			t.Fatalf("setup form has no CSRF field:\n%s", body)
		}
		token := links[0][2]
		resp, err = browser.PostForm(s.URL+"/setup", url.Values{
			"csrf": {m[1]}, "token": {token}, "email": {"admin@example.org"}, "name": {"Admin"},
			"password": {goodPassword}, "password2": {goodPassword},
		})
		if err != nil {
			t.Fatal(err)
		}
		body = readBody(t, resp)
		if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(resp.Header.Get("Location"), "/signin/2fa/enrol") {
			t.Fatalf("POST /setup = %d to %q, want 303 to the 2FA enrolment\n%s", resp.StatusCode, resp.Header.Get("Location"), body)
		}
		if err := s.stop(); err != nil {
			t.Fatalf("serve: %v", err)
		}
		if list := in.mustCLI("", "user", "list"); !strings.Contains(list, "admin@example.org") {
			t.Errorf("user list after setup:\n%s", list)
		}

		s2 := in.serve()
		if out := s2.stdout.String(); out != "" {
			t.Errorf("second start on a database with an account printed on stdout:\n%s", out)
		}
		if code, _ := get(t, s2.URL+"/setup?token="+token, ""); code != http.StatusConflict {
			t.Errorf("setup link after the first admin exists = %d, want 409", code)
		}
		for _, path := range []string{"/healthz", "/readyz"} {
			if code, body := get(t, s2.URL+path, ""); code != http.StatusOK {
				t.Errorf("second start: GET %s = %d %q", path, code, body)
			}
		}
	})
}

// An account made with `user add` counts: the first start prints no link.
func TestServeAfterUserAddPrintsNoSetupLink(t *testing.T) {
	in := newInstance(t, "sqlite")
	in.addUser("ops@example.org", "admin")
	s := in.serve()
	if out := s.stdout.String(); out != "" {
		t.Errorf("stdout = %q, want nothing", out)
	}
}

func readBody(t *testing.T, resp *http.Response) string {
	t.Helper()
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// `user add` reads the password from standard input and refuses, with a
// message and a non-zero status, what it cannot accept; list, disable and
// reset-2fa act on the accounts it made.
func TestUserCommands(t *testing.T) {
	backends(t, func(t *testing.T, in *instance) {
		for _, tc := range []struct {
			name  string
			stdin string
			args  []string
			code  int
			want  string // in stdout on success, in the message otherwise
		}{
			{"good", goodPassword + "\n", []string{"--email", "Alice@Example.org", "--role", "admin", "--name", "Alice"}, 0, "created account 1: alice@example.org (admin)"},
			{"several roles, CRLF line end", goodPassword + "\r\n", []string{"--email", "bob@example.org", "--role", "responder,communicator"}, 0, "created account 2: bob@example.org"},
			{"short password", "password123\n", []string{"--email", "carol@example.org", "--role", "viewer"}, 1, "at least 12 characters"},
			{"common password", "password1234\n", []string{"--email", "carol@example.org", "--role", "viewer"}, 1, "common"},
			{"password with the e-mail in it", "carol@example.org is me\n", []string{"--email", "carol@example.org", "--role", "viewer"}, 1, "must not contain"},
			{"no password", "", []string{"--email", "carol@example.org", "--role", "viewer"}, 1, "no password on standard input"},
			{"duplicate e-mail, other case", goodPassword + "\n", []string{"--email", "ALICE@example.org", "--role", "viewer"}, 1, "already exists"},
			{"unknown role", goodPassword + "\n", []string{"--email", "carol@example.org", "--role", "boss"}, 1, `unknown role "boss": allowed roles are viewer, responder, communicator, approver, admin`},
			{"missing --email", goodPassword + "\n", []string{"--role", "viewer"}, 1, "needs --email and --role"},
			{"missing --role", goodPassword + "\n", []string{"--email", "carol@example.org"}, 1, "needs --email and --role"},
			{"unknown flag", goodPassword + "\n", []string{"--email", "carol@example.org", "--role", "viewer", "--admin"}, 2, "flag provided but not defined: -admin"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				r := in.cli(tc.stdin, append([]string{"user", "add"}, tc.args...)...)
				if r.code() != tc.code {
					t.Fatalf("exit status %d, want %d (err %v)\nstdout:\n%s\nstderr:\n%s", r.code(), tc.code, r.err, r.stdout, r.stderr)
				}
				if tc.code == 0 && !strings.Contains(r.stdout, tc.want) {
					t.Errorf("stdout = %q, want it to contain %q", r.stdout, tc.want)
				}
				if tc.code != 0 {
					if !strings.Contains(r.message(), tc.want) {
						t.Errorf("message = %q, want it to contain %q", r.message(), tc.want)
					}
					if strings.Contains(r.stdout, "created") {
						t.Errorf("a refused account was reported created: %q", r.stdout)
					}
				}
			})
		}

		list := in.mustCLI("", "user", "list")
		rows := strings.Split(strings.TrimSpace(list), "\n")
		if len(rows) != 3 || !strings.HasPrefix(rows[0], "ID") {
			t.Fatalf("user list: want a header and the 2 accounts that were accepted, got:\n%s", list)
		}
		for _, want := range []string{"alice@example.org  admin", "bob@example.org    responder,communicator"} {
			if !strings.Contains(list, want) {
				t.Errorf("user list lacks %q:\n%s", want, list)
			}
		}

		if out := in.mustCLI("", "user", "disable", "bob@example.org"); !strings.Contains(out, "disable: done for bob@example.org") {
			t.Errorf("user disable: %q", out)
		}
		if out := in.mustCLI("", "user", "reset-2fa", "1"); !strings.Contains(out, "reset-2fa: done for alice@example.org") {
			t.Errorf("user reset-2fa by ID: %q", out)
		}
		list = in.mustCLI("", "user", "list")
		if !regexp.MustCompile(`bob@example.org .*disabled`).MatchString(list) || !regexp.MustCompile(`alice@example.org .*active`).MatchString(list) {
			t.Errorf("user list after disable:\n%s", list)
		}
		for _, tc := range []struct {
			args []string
			want string
		}{
			{[]string{"user", "disable", "nobody@example.org"}, "no account has the e-mail nobody@example.org"},
			{[]string{"user", "disable"}, "needs one account"},
			{[]string{"user", "reset-2fa", "99"}, "99"},
		} {
			if r := in.cli("", tc.args...); r.code() != 1 || !strings.Contains(r.message(), tc.want) {
				t.Errorf("%v: status %d, message %q; want 1 and %q", tc.args, r.code(), r.message(), tc.want)
			}
		}
	})
}

// The same refusals through the binary: the status and the message are
// what a shell script sees.
func TestUserAddBinaryStatusAndMessage(t *testing.T) {
	in := newInstance(t, "sqlite")
	stdout, stderr, status := in.execCLI("short\n", "user", "add", "--data", in.dataDir, "--email", "a@example.org", "--role", "admin")
	if status != 1 || stdout != "" || !strings.Contains(stderr, "tocsin: The password must have at least 12 characters") {
		t.Errorf("weak password: status %d, stdout %q, stderr %q", status, stdout, stderr)
	}
	stdout, stderr, status = in.execCLI(goodPassword+"\n", "user", "add", "--data", in.dataDir, "--email", "a@example.org", "--role", "admin")
	if status != 0 || !strings.HasPrefix(stdout, "created account 1: a@example.org (admin)") {
		t.Errorf("good password: status %d, stdout %q, stderr %q", status, stdout, stderr)
	}
}

// `token create` prints the token, and only the token, on stdout; it works
// on the API of the running server until `token revoke` ends it.
func TestTokenCreateUseRevoke(t *testing.T) {
	backends(t, func(t *testing.T, in *instance) {
		in.addUser("admin@example.org", "admin")
		s := in.serve()

		// Through the binary, so that stdout is the real one.
		stdout, stderr, status := in.execCLI("", "token", "create", "--data", in.dataDir, "--role", "responder", "--name", "ci")
		if status != 0 {
			t.Fatalf("token create: status %d\n%s", status, stderr)
		}
		if !regexp.MustCompile(`\A\S+\n\z`).MatchString(stdout) {
			t.Fatalf("token create stdout = %q, want exactly one line holding the token", stdout)
		}
		token := strings.TrimSpace(stdout)

		code, body := get(t, s.URL+"/api/v1/me", token)
		if code != http.StatusOK {
			t.Fatalf("GET /api/v1/me with the token = %d %s", code, body)
		}
		var me struct {
			Name  string   `json:"name"`
			Roles []string `json:"roles"`
		}
		if err := json.Unmarshal([]byte(body), &me); err != nil {
			t.Fatalf("/api/v1/me: %v\n%s", err, body)
		}
		if me.Name != "ci" || strings.Join(me.Roles, ",") != "responder" {
			t.Errorf("/api/v1/me = %s, want the token ci with the role responder", body)
		}
		if code, _ := get(t, s.URL+"/api/v1/users", token); code != http.StatusForbidden {
			t.Errorf("responder token on an admin route = %d, want 403", code)
		}

		if r := in.cli("", "token", "create", "--role", "viewer", "--name", "ci"); r.code() != 1 || !strings.Contains(r.message(), `a token named "ci" already exists`) || r.stdout != "" {
			t.Errorf("duplicate name: status %d, stdout %q, message %q", r.code(), r.stdout, r.message())
		}
		if r := in.cli("", "token", "create", "--role", "root", "--name", "x"); r.code() != 1 || !strings.Contains(r.message(), `unknown role "root"`) || r.stdout != "" {
			t.Errorf("unknown role: status %d, stdout %q, message %q", r.code(), r.stdout, r.message())
		}

		if out := in.mustCLI("", "token", "revoke", "ci"); !strings.Contains(out, "revoked token ci") {
			t.Errorf("token revoke: %q", out)
		}
		code, body = get(t, s.URL+"/api/v1/me", token)
		if code != http.StatusUnauthorized {
			t.Fatalf("GET /api/v1/me after revoke = %d %s, want 401", code, body)
		}
		var apiErr struct {
			Error struct{ Code, Message string } `json:"error"`
		}
		if err := json.Unmarshal([]byte(body), &apiErr); err != nil || apiErr.Error.Code == "" || apiErr.Error.Message == "" {
			t.Errorf("401 body = %s, want {\"error\":{\"code\",\"message\"}}", body)
		}
		if r := in.cli("", "token", "revoke", "nope"); r.code() != 1 || !strings.Contains(r.message(), `no token is named "nope"`) {
			t.Errorf("revoke unknown: status %d, message %q", r.code(), r.message())
		}
		if list := in.mustCLI("", "token", "list"); !regexp.MustCompile(`ci\s+responder\s+\S+\s+revoked`).MatchString(list) {
			t.Errorf("token list:\n%s", list)
		}
	})
}

// `audit verify` passes an intact chain and, after a row is edited or a
// middle row deleted behind tocsin's back, fails naming the entry.
func TestAuditVerifyCatchesTampering(t *testing.T) {
	backends(t, func(t *testing.T, base *instance) {
		for _, tc := range []struct {
			name    string
			tamper  string
			want    string
			useHead bool // verify with the head recorded before tampering
		}{
			{"after column edited", `UPDATE audit_log SET after = after || ' (edited)' WHERE seq = 3`, "audit chain broken at entry 3: content does not match its hash", false},
			{"middle row deleted", `DELETE FROM audit_log WHERE seq = 3`, "audit chain broken at entry 3: entry 3 is missing", false},
			{"actor and hash edited", `UPDATE audit_log SET actor = 'someone else', hash = 'ff' WHERE seq = 2`, "audit chain broken at entry 2", false},
			{"newest rows deleted, caught by the recorded head", `DELETE FROM audit_log WHERE seq >= 4`, "entry 5, recorded earlier, is missing", true},
		} {
			t.Run(tc.name, func(t *testing.T) {
				in := newInstance(t, base.backend)
				in.addUser("admin@example.org", "admin")
				in.addUser("bob@example.org", "responder")
				in.mustCLI("", "token", "create", "--name", "ci", "--role", "responder")
				in.mustCLI("", "token", "revoke", "ci")
				in.mustCLI("", "user", "disable", "bob@example.org")

				r := in.cli("", "audit", "verify")
				if r.err != nil || !strings.Contains(r.stdout, "audit log intact: 5 entries") {
					t.Fatalf("intact chain: err %v, stdout %q, stderr %q", r.err, r.stdout, r.stderr)
				}
				head := regexp.MustCompile(`(?m)^head: (\d+:[0-9a-f]{64})$`).FindStringSubmatch(r.stdout)
				if head == nil || !strings.HasPrefix(head[1], "5:") {
					t.Fatalf("verify printed no head of entry 5: %q", r.stdout)
				}
				if r := in.cli("", "audit", "verify", "--head", head[1]); r.err != nil {
					t.Fatalf("intact chain with its own head: %v %q", r.err, r.stderr)
				}
				in.exec(tc.tamper)

				args := []string{"audit", "verify"}
				if tc.useHead {
					// Without the head, a chain cut at its end still looks intact.
					if r := in.cli("", args...); r.err != nil || !strings.Contains(r.stdout, "intact: 3 entries") {
						t.Fatalf("truncated chain without --head: %v %q", r.err, r.stdout)
					}
					args = append(args, "--head", head[1])
				}
				r = in.cli("", args...)
				if r.code() != 1 || !strings.Contains(r.stderr, tc.want) || strings.Contains(r.stdout, "intact") {
					t.Fatalf("after tampering: status %d, stdout %q, stderr %q; want 1 and %q", r.code(), r.stdout, r.stderr, tc.want)
				}
				// The binary's exit status, as a cron job sees it.
				_, stderr, status := in.execCLI("", append(args, "--data", in.dataDir)...)
				if status != 1 || !strings.Contains(stderr, tc.want) {
					t.Errorf("binary: status %d, stderr %q", status, stderr)
				}
			})
		}
	})
}

// `migrate` applies the embedded migrations once, then has nothing to do;
// a database migrated by a newer tocsin is refused by every command.
func TestMigrateAndNewerSchemaRefused(t *testing.T) {
	backends(t, func(t *testing.T, in *instance) {
		r := in.cli("", "migrate")
		if r.err != nil || !strings.Contains(r.stderr, "applied migration 0001_init") || !strings.Contains(r.stdout, "database schema is up to date") {
			t.Fatalf("first migrate: err %v, stdout %q, stderr %q", r.err, r.stdout, r.stderr)
		}
		r = in.cli("", "migrate")
		if r.err != nil || strings.Contains(r.stderr, "applied migration") || !strings.Contains(r.stdout, "database schema is up to date") {
			t.Fatalf("second migrate: err %v, stdout %q, stderr %q", r.err, r.stdout, r.stderr)
		}

		now := "0"
		if in.backend == "postgres" {
			now = "now()"
		}
		in.exec(`INSERT INTO schema_migrations (version, name, applied_at) VALUES (9999, '9999_future', ` + now + `)`)
		const want = "database schema is at version 9999 but this tocsin binary knows only up to"
		for _, args := range [][]string{{"migrate"}, {"user", "list"}, {"audit", "verify"}, {"serve", "--listen", "127.0.0.1:0"}} {
			r := in.cli("", args...)
			if r.code() != 1 || !strings.Contains(r.message(), want) || strings.Contains(r.stderr, "listening") {
				t.Errorf("%v on a newer schema: status %d, message %q; want 1 and %q", args, r.code(), r.message(), want)
			}
		}
	})
}

// version prints the version set at build time.
func TestVersion(t *testing.T) {
	in := newInstance(t, "sqlite")
	if r := in.runRaw("", "version"); r.err != nil || r.stdout != "tocsin dev\n" {
		t.Errorf("in-process version: %v %q", r.err, r.stdout)
	}
	if stdout, _, status := in.execCLI("", "version"); status != 0 || stdout != "tocsin e2e\n" {
		t.Errorf("binary version: status %d, %q", status, stdout)
	}
}
