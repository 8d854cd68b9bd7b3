package main

import (
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tocsin-org/tocsin/internal/testpeer"
	"github.com/tocsin-org/tocsin/probe"
)

// site is a web site the test stops and starts again on the same address.
type site struct {
	addr string
	srv  *http.Server
}

func startSite(t *testing.T, addr string) *site {
	t.Helper()
	var ln net.Listener
	var err error
	for range 50 { // the address was ours a moment ago; the kernel may still hold it
		if ln, err = net.Listen("tcp", addr); err == nil {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err != nil {
		t.Fatal(err)
	}
	s := &site{addr: ln.Addr().String(), srv: &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintln(w, "Welcome to example.org")
	})}}
	go s.srv.Serve(ln)
	t.Cleanup(func() { s.srv.Close() })
	return s
}

// awaitState polls cond every 200 ms until it holds or timeout passes,
// and returns how long it took.
func awaitState(t *testing.T, what string, timeout time.Duration, cond func() (bool, string)) time.Duration {
	t.Helper()
	start := time.Now()
	var last string
	for time.Since(start) < timeout {
		ok, state := cond()
		if ok {
			return time.Since(start)
		}
		last = state
		time.Sleep(200 * time.Millisecond)
	}
	t.Fatalf("%s: not within %v; last seen: %s", what, timeout, last)
	return 0
}

// TestChecksDoneWhen is issue 7's "done when", with real servers: a
// newcomer declares a web site, a TLS endpoint, a mail server and an S3
// bucket in the configuration file; the site stops and its service turns
// to an outage on the public page by itself, with a signal in the triage
// queue and a page to on-call, then recovers; the bucket becomes listable
// and is flagged within one interval, then fixed and cleared; the
// certificate is reissued with the same key (reported) and with a new key
// (rotation confirmed).
func TestChecksDoneWhen(t *testing.T) {
	if testing.Short() {
		t.Skip("starts OpenSMTPD, Dovecot and versitygw")
	}
	// The mail server: Dovecot submission with STARTTLS, relaying to the
	// OpenSMTPD that also receives tocsin's pages.
	mail := testpeer.StartSubmission(t)
	relay := mail.Relay
	_, relayPort, _ := net.SplitHostPort(relay.Addr)
	rp, _ := strconv.Atoi(relayPort)

	// The S3 bucket, private at first.
	s3 := testpeer.StartS3(t, func(r *http.Request, payload []byte, accessKey, secretKey, region string) {
		probe.SignV4(r, payload, probe.SigV4Key{AccessKeyID: accessKey, Secret: secretKey, Region: region}, time.Now())
	})
	s3.CreateBucket(t, "media")
	s3.PutObject(t, "media", "avatars/cat.jpg", []byte("not really a JPEG"))

	// The TLS endpoint, with a certificate from the host's own CA.
	ca := testpeer.NewCA(t, "Example Host CA")
	key := testpeer.NewKey(t, "ecdsa")
	endpoint := testpeer.StartTLSServer(t, ca.Issue(t, testpeer.Leaf{Key: key}), testpeer.TLSOptions{})

	web := startSite(t, "127.0.0.1:0")

	const bucketInterval = 2 * time.Second
	dir := t.TempDir()
	cfg := filepath.Join(dir, "tocsin.yaml")
	yaml := fmt.Sprintf(`services:
  - name: Website
    group: Web
    checks:
      - {kind: http, url: "http://%s/", interval: 1s, timeout: 1s, expect_status: [200], body_contains: "Welcome", page: true}
      - {kind: tls, address: "%s", interval: 1s, timeout: 1s, ca_file: %q, server_name: 127.0.0.1}
  - name: Mail
    checks:
      - {kind: smtp, address: "%s", interval: 1s, timeout: 1s, ca_file: %q}
  - name: Media
    group: Social
    checks:
      - {kind: bucket, url: "%s/media", interval: %s, timeout: 2s, page: true}
`, web.addr, endpoint.Addr, ca.PEMFile, mail.Addr, filepath.Join(relay.Dir, "run", "submission-cert.pem"), s3.URL, bucketInterval)
	if err := os.WriteFile(cfg, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	in := newInstance(t, "sqlite").with(smtpEnv(rp, 2*time.Second)...)
	in.config = cfg
	in.addUser("oncall@example.org", "responder")
	token := strings.TrimSpace(in.mustCLI("", "token", "create", "--role", "admin", "--name", "checks-e2e"))
	s := in.serve()
	api := func(method, path, body string, out any) {
		t.Helper()
		req, err := http.NewRequest(method, s.URL+path, strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Authorization", "Bearer "+token)
		if body != "" {
			req.Header.Set("Content-Type", "application/json")
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b := readBody(t, resp)
		if resp.StatusCode >= 300 {
			t.Fatalf("%s %s: %d %s", method, path, resp.StatusCode, b)
		}
		if out != nil {
			if err := json.Unmarshal([]byte(b), out); err != nil {
				t.Fatalf("%s %s: %v: %s", method, path, err, b)
			}
		}
	}
	// On call: the one responder, paged at once.
	var users struct {
		Users []struct {
			ID    int64  `json:"id"`
			Email string `json:"email"`
		} `json:"users"`
	}
	api("GET", "/api/v1/users", "", &users)
	var oncall int64
	for _, u := range users.Users {
		if u.Email == "oncall@example.org" {
			oncall = u.ID
		}
	}
	api("PUT", "/api/v1/oncall/policy", fmt.Sprintf(`{"levels":[{"user_ids":[%d]}]}`, oncall), nil)

	// The public page's status of a service.
	publicStatus := func(name string) string {
		t.Helper()
		resp, err := http.Get(s.URL + "/api/v2/components.json")
		if err != nil {
			t.Fatal(err)
		}
		var page struct {
			Components []struct{ Name, Status string } `json:"components"`
		}
		if err := json.Unmarshal([]byte(readBody(t, resp)), &page); err != nil {
			t.Fatal(err)
		}
		for _, c := range page.Components {
			if c.Name == name {
				return c.Status
			}
		}
		return "missing"
	}
	type check struct {
		ID      int64  `json:"id"`
		Name    string `json:"name"`
		Kind    string `json:"kind"`
		Managed bool   `json:"config_managed"`
		Status  struct {
			State string `json:"state"`
		} `json:"status"`
	}
	checks := func() map[string]check {
		var out struct {
			Checks []check `json:"checks"`
		}
		api("GET", "/api/v1/checks", "", &out)
		m := map[string]check{}
		for _, c := range out.Checks {
			m[c.Kind] = c
		}
		return m
	}
	type finding struct {
		Kind     string     `json:"kind"`
		Detail   string     `json:"detail"`
		OpenedAt time.Time  `json:"opened_at"`
		ClosedAt *time.Time `json:"closed_at"`
		Check    struct {
			ID int64 `json:"id"`
		} `json:"check"`
	}
	findings := func(kind string) []finding {
		var out struct {
			Findings []finding `json:"findings"`
		}
		api("GET", "/api/v1/findings?state=all&kind="+kind, "", &out)
		return out.Findings
	}

	// Every check declared in the file runs and comes up by itself.
	awaitState(t, "every check up", 30*time.Second, func() (bool, string) {
		m := checks()
		all := len(m) == 4
		for _, c := range m {
			all = all && c.Status.State == "up" && c.Managed
		}
		return all, fmt.Sprintf("%+v", m)
	})

	// The site stops: its service turns to an outage on the public page by
	// itself, a signal waits in the triage queue, on-call is paged.
	web.srv.Close()
	stopped := time.Now()
	took := awaitState(t, "Website in major outage on the public page", 30*time.Second, func() (bool, string) {
		st := publicStatus("Website")
		return st == "major_outage", st
	})
	t.Logf("site stopped → major outage on the public page in %v (3 failures at 1 s)", took.Round(time.Millisecond))
	var signals struct {
		Signals []struct {
			ID      int64  `json:"id"`
			Source  string `json:"source"`
			Subject string `json:"subject"`
			Body    string `json:"body"`
		} `json:"signals"`
	}
	api("GET", "/api/v1/signals", "", &signals)
	var found bool
	for _, sg := range signals.Signals {
		if sg.Source == "check" && strings.Contains(sg.Subject, "Website") && strings.Contains(sg.Subject, "down") {
			found = true
			if !strings.Contains(sg.Body, "refused") {
				t.Errorf("the signal's evidence does not say the connection was refused:\n%s", sg.Body)
			}
		}
	}
	if !found {
		t.Fatalf("no signal for the site in the triage queue: %+v", signals.Signals)
	}
	pages := relay.WaitFor(t, 1, 60*time.Second)
	if subject, _ := pages[0].Subject(); pages[0].Recipient != "oncall@example.org" || !strings.Contains(subject, "Website") {
		t.Fatalf("page: %s to %s", subject, pages[0].Recipient)
	}
	t.Logf("site stopped → page in the on-call mailbox in %v", time.Since(stopped).Round(time.Millisecond))

	// The site comes back: the service recovers by itself.
	startSite(t, web.addr)
	awaitState(t, "Website operational again", 30*time.Second, func() (bool, string) {
		st := publicStatus("Website")
		return st == "operational", st
	})

	// The bucket becomes listable: flagged within one interval, paged.
	if got := findings("bucket_listable"); len(got) != 0 {
		t.Fatalf("a private bucket is flagged: %+v", got)
	}
	mailsBefore := len(relay.Messages(t))
	s3.PutBucketPolicy(t, "media", `{"Version":"2012-10-17","Statement":[{"Sid":"PublicList","Effect":"Allow","Principal":"*","Action":["s3:ListBucket","s3:GetObject"],"Resource":["arn:aws:s3:::media","arn:aws:s3:::media/*"]}]}`)
	opened := time.Now()
	took = awaitState(t, "listable bucket flagged", bucketInterval+30*time.Second, func() (bool, string) {
		f := findings("bucket_listable")
		return len(f) == 1 && f[0].ClosedAt == nil, fmt.Sprintf("%+v", f)
	})
	t.Logf("bucket made listable → finding in %v (interval %v)", took.Round(time.Millisecond), bucketInterval)
	if took > bucketInterval+5*time.Second {
		t.Errorf("the listable bucket was flagged after %v; the target is one interval (%v) plus 5 s", took, bucketInterval)
	}
	relay.WaitFor(t, mailsBefore+1, 60*time.Second)
	t.Logf("bucket made listable → page in the on-call mailbox in %v (target: %v + 5 s)", time.Since(opened).Round(time.Millisecond), bucketInterval)
	if f := findings("bucket_listable"); !strings.Contains(f[0].Detail, "/media") {
		t.Errorf("finding detail %q does not name the bucket's URL", f[0].Detail)
	}
	// Fixed: cleared on the next run.
	s3.DeleteBucketPolicy(t, "media")
	awaitState(t, "bucket finding closed", bucketInterval+30*time.Second, func() (bool, string) {
		f := findings("bucket_listable")
		return len(f) == 1 && f[0].ClosedAt != nil, fmt.Sprintf("%+v", f)
	})

	// The certificate is renewed with the same key: reported.
	tlsCheck := checks()["tls"]
	endpoint.SetCertificate(ca.Issue(t, testpeer.Leaf{Key: key}))
	awaitState(t, "renewal with the same key reported", 30*time.Second, func() (bool, string) {
		f := findings("tls_key_reused")
		return len(f) == 1 && f[0].ClosedAt == nil && f[0].Check.ID == tlsCheck.ID, fmt.Sprintf("%+v", f)
	})
	// Then with a new key: the rotation is confirmed.
	endpoint.SetCertificate(ca.Issue(t, testpeer.Leaf{Key: testpeer.NewKey(t, "ecdsa")}))
	awaitState(t, "rotation confirmed", 30*time.Second, func() (bool, string) {
		f := findings("tls_key_reused")
		return len(f) == 1 && f[0].ClosedAt != nil, fmt.Sprintf("%+v", f)
	})
	var keys struct {
		Keys []struct {
			SPKI      string    `json:"spki_sha256"`
			FirstSeen time.Time `json:"first_seen"`
		} `json:"keys"`
		KeyChangedAt *time.Time `json:"key_changed_at"`
	}
	api("GET", fmt.Sprintf("/api/v1/checks/%d/tls-keys", tlsCheck.ID), "", &keys)
	if len(keys.Keys) != 2 || keys.KeyChangedAt == nil || keys.Keys[0].SPKI == keys.Keys[1].SPKI {
		t.Fatalf("key history = %+v", keys)
	}
}
