package httpserver_test

import (
	"context"
	"strings"
	"testing"

	"github.com/tocsin-org/tocsin"
	"github.com/tocsin-org/tocsin/auth"
	"github.com/tocsin-org/tocsin/i18n"
	"github.com/tocsin-org/tocsin/internal/testpeer"
)

// TestBrowserSecurityRoomComms: in Chromium, the communications lead
// creates the public incident from the room, publishes an update, reads
// the cadence and assembles the post-mortem; the section is checked with
// axe-core in English and French.
func TestBrowserSecurityRoomComms(t *testing.T) {
	ctx := testpeer.Chromium(t)
	a := startApp(t)
	b := &browser{ctx: ctx, base: a.url, axe: testpeer.AxeScript(t)}
	en := func(key string, args ...any) string { return i18n.T("en", key, args...) }
	bg := context.Background()

	h := auth.NewHasher(auth.PasswordParams{MemoryKiB: 7 * 1024, Time: 1, Threads: 1})
	u, err := auth.NewUser(bg, h, responderEmail, "Rhea", tocsin.Roles{tocsin.RoleResponder, tocsin.RoleCommunicator}, otherPassword)
	if err != nil {
		t.Fatal(err)
	}
	if err := a.db.CreateUser(bg, tocsin.CLI, u); err != nil {
		t.Fatal(err)
	}
	inc := &tocsin.SecurityIncident{Title: "Bucket acme-backups listable", Severity: tocsin.SEV1, Kind: tocsin.KindDataExposure}
	if err := a.db.CreateSecurityIncident(bg, tocsin.CLI, inc); err != nil {
		t.Fatal(err)
	}
	if err := a.db.AssignSecurityRole(bg, tocsin.CLI, inc.ID, tocsin.RoleComms, u.ID); err != nil {
		t.Fatal(err)
	}

	b.step(t, "sign in", func(t *testing.T) {
		b.open(t, "/signin")
		b.fill(t, map[string]string{"email": responderEmail, "password": otherPassword})
		b.submit(t, `main form[action="/signin"] button[type=submit]`, 200)
	})

	b.step(t, "create the public incident", func(t *testing.T) {
		b.open(t, "/console/security/1")
		if got := b.text(t, "#comms"); !strings.Contains(got, en("comms.no_link")) {
			t.Errorf("comms section %q", got)
		}
		b.accessible(t, "room without a public incident")
		b.fill(t, map[string]string{"comms-title": "Storage: files listed publicly", "comms-body": "We are investigating a storage exposure."})
		b.submit(t, `main form[action="/console/security/1/public-incident"] button[type=submit]`, 200)
		if got := b.text(t, "#comms"); !strings.Contains(got, "#1 Storage: files listed publicly") || !strings.Contains(got, en("comms.next_due")) {
			t.Errorf("comms section after creation %q", got)
		}
	})

	b.step(t, "publish an update", func(t *testing.T) {
		b.fill(t, map[string]string{"comms-update-body": "The listing is closed.", "comms-update-status": "identified"})
		b.submit(t, `main form[action="/console/security/1/public-updates"] button[type=submit]`, 200)
		if got := b.text(t, ".sec-timeline"); !strings.Contains(got, "The listing is closed.") || !strings.Contains(got, en("comms.text.update", "Identified")) {
			t.Errorf("timeline %q", got)
		}
		if got := b.text(t, "#comms-cadence"); !strings.Contains(got, "1 h 00 min") {
			t.Errorf("cadence %q", got)
		}
		b.accessible(t, "room with a public incident")
	})

	b.step(t, "French", func(t *testing.T) {
		b.setHeaders(t, map[string]string{"Accept-Language": "fr-FR,fr;q=0.9"})
		defer b.setHeaders(t, nil)
		b.open(t, "/console/security/1")
		if got := b.text(t, "#comms"); !strings.Contains(got, i18n.T("fr", "comms.last_update")) || !strings.Contains(got, i18n.T("fr", "comms.assemble")) {
			t.Errorf("French comms section %q", got)
		}
		b.accessible(t, "room (fr)")
	})

	b.step(t, "assemble the post-mortem", func(t *testing.T) {
		b.submit(t, `main form[action="/console/security/1/postmortem-draft"] button[type=submit]`, 200)
		if got := b.path(t); got != "/console/incidents/1" {
			t.Errorf("on %s, want the post-mortem editor", got)
		}
		if got := b.text(t, "#postmortem"); !strings.Contains(got, "Public update: The listing is closed.") {
			t.Errorf("post-mortem %q", got)
		}
	})
}
