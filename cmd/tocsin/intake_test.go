package main

import (
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/tocsin-org/tocsin/internal/testpeer"
)

// TestServeReadsTheIntakeMailbox boots the real program with intake.imap
// set from the environment: a report mailed to the intake address becomes
// a signal in the API, and the sender's address never reaches the log.
func TestServeReadsTheIntakeMailbox(t *testing.T) {
	p := testpeer.StartIMAP(t)
	host, port, _ := net.SplitHostPort(p.Addr)
	in := newInstance(t, "sqlite").with(
		"TOCSIN_INTAKE_EMAIL", "security@example.org",
		"TOCSIN_INTAKE_IMAP_HOST", host, "TOCSIN_INTAKE_IMAP_PORT", port, "TOCSIN_INTAKE_IMAP_TLS", "none",
		"TOCSIN_INTAKE_IMAP_USERNAME", p.Username, "TOCSIN_INTAKE_IMAP_PASSWORD", p.Password,
		"TOCSIN_INTAKE_IMAP_POLL_INTERVAL", "1s",
	)
	in.addUser("admin@example.org", "admin")
	token := strings.TrimSpace(in.mustCLI("", "token", "create", "--role", "viewer", "--name", "triage"))
	p.Deliver(t, []byte("From: Finder <finder-secret@example.net>\r\nSubject: Bucket lists its files\r\nMessage-ID: <e2e@example.net>\r\n\r\nhttps://s3.example/backups/\r\n"))
	s := in.serve()

	deadline := time.Now().Add(30 * time.Second)
	for {
		code, body := get(t, s.URL+"/api/v1/signals", token)
		if code != http.StatusOK {
			t.Fatalf("GET /api/v1/signals = %d %s", code, body)
		}
		if strings.Contains(body, `"subject":"Bucket lists its files"`) {
			if !strings.Contains(body, `"source":"email"`) || !strings.Contains(body, `"contact":"finder-secret@example.net"`) {
				t.Errorf("signal = %s", body)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no signal from the mailbox within 30 s: %s\nstderr:\n%s\n%s", body, s.stderr, p.Log())
		}
		time.Sleep(100 * time.Millisecond)
	}
	code, body := get(t, s.URL+"/.well-known/security.txt", "")
	if code != http.StatusOK || !strings.Contains(body, "Contact: mailto:security@example.org\n") || !strings.Contains(body, "Contact: "+s.URL+"/report\n") {
		t.Errorf("security.txt = %d\n%s", code, body)
	}
	if err := s.stop(); err != nil {
		t.Fatalf("serve ended with %v", err)
	}
	if strings.Contains(s.stderr.String(), "finder-secret") {
		t.Errorf("the reporter's address reached the log:\n%s", s.stderr)
	}
}
