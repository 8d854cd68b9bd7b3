package sqlstore

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tocsin-org/tocsin"
)

// cadenceMail builds the reminder the way the duty does, minus the text.
func cadenceMail(r *tocsin.CadenceReminder) *tocsin.Message {
	return &tocsin.Message{Channel: tocsin.ChannelEmail, To: r.Email, Subject: "cadence " + r.Lang, Body: r.PublicTitle}
}

// cadenceKeys lists the outbox's cadence messages as "key to lang".
func cadenceKeys(t *testing.T, db *DB) []string {
	t.Helper()
	ms, err := db.Messages(context.Background(), 100)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, m := range ms {
		if strings.HasPrefix(m.Key, "cadence:") {
			out = append(out, m.Key+" "+m.To+" "+m.Subject)
		}
	}
	slices.Sort(out)
	return out
}

func TestSecurityPublicIncident(t *testing.T) {
	forEachStore(t, func(t *testing.T, db *DB) {
		ctx := context.Background()
		friday := time.Date(2026, 11, 20, 16, 40, 0, 0, time.UTC)
		clock := friday
		db.SetClock(func() time.Time { return clock })
		defer db.SetClock(nil)

		comms := newUser(t, db, "comms@example.org", tocsin.RoleCommunicator)
		if err := db.SetLang(ctx, admin, comms.ID, "fr"); err != nil {
			t.Fatal(err)
		}
		sec := newSecurity(t, db, "Bucket tocsin-backups world-listable (private)")
		if err := db.AssignSecurityRole(ctx, admin, sec.ID, tocsin.RoleComms, comms.ID); err != nil {
			t.Fatal(err)
		}
		_, err := db.PublicLink(ctx, sec.ID)
		wantCode(t, err, tocsin.ENOTFOUND)
		wantCode(t, db.PublishSecurityUpdate(ctx, admin, sec.ID, &tocsin.Update{Status: "identified", Body: "x"}, nil), tocsin.ENOTFOUND)

		// Created from the room: the public title is the one chosen.
		pubAt := friday
		pub := &tocsin.Incident{Title: "Storage: files listed publicly", Impact: tocsin.ImpactMinor, PublishedAt: &pubAt}
		first := &tocsin.Update{Status: tocsin.IncidentInvestigating, Body: "We are investigating a storage exposure."}
		if err := db.CreatePublicIncident(ctx, actorOf(comms), sec.ID, pub, first, nil); err != nil {
			t.Fatalf("CreatePublicIncident: %v", err)
		}
		es, _ := db.AuditEntries(ctx, tocsin.AuditFilter{Limit: 2})
		if len(es) != 2 || es[0].Action != "security.public_create" || es[1].Action != "incident.create" {
			t.Errorf("audit = %+v", es)
		}
		l, err := db.PublicLink(ctx, sec.ID)
		if err != nil || l.IncidentID != pub.ID || l.Title != "Storage: files listed publicly" || !l.Published || !l.LastPublic.Equal(friday) {
			t.Fatalf("PublicLink = %+v, %v", l, err)
		}
		if due, ok := l.Due(0); !ok || !due.Equal(friday.Add(time.Hour)) {
			t.Errorf("due = %v %v", due, ok)
		}
		again := &tocsin.Incident{Title: "Another", PublishedAt: &pubAt}
		wantCode(t, db.CreatePublicIncident(ctx, admin, sec.ID, again, &tocsin.Update{Status: "investigating", Body: "x"}, nil), tocsin.ECONFLICT)
		wantCode(t, db.LinkPublicIncident(ctx, admin, sec.ID, pub.ID), tocsin.ECONFLICT)
		wantCode(t, db.CreatePublicIncident(ctx, admin, 999, again, &tocsin.Update{Status: "investigating", Body: "x"}, nil), tocsin.ENOTFOUND)
		if got, _ := db.Incidents(ctx, tocsin.IncidentFilter{}); len(got) != 1 {
			t.Errorf("refused creations left %d incidents", len(got))
		}

		// The cadence: silent 60 minutes, one reminder per silence.
		tick := func(at time.Time) time.Time {
			t.Helper()
			clock = at
			next, err := db.RemindCadence(ctx, at, 0, cadenceMail)
			if err != nil {
				t.Fatalf("RemindCadence at %v: %v", at, err)
			}
			return next
		}
		if next := tick(friday.Add(59 * time.Minute)); !next.Equal(friday.Add(time.Hour)) || len(cadenceKeys(t, db)) != 0 {
			t.Errorf("at 59 min: next %v, messages %q", next, cadenceKeys(t, db))
		}
		tick(friday.Add(61 * time.Minute))
		tick(friday.Add(90 * time.Minute)) // the same silence: no second reminder
		want := []string{fmt.Sprintf("cadence:%d:since:%d comms@example.org cadence fr", sec.ID, friday.Unix())}
		if got := cadenceKeys(t, db); !slices.Equal(got, want) {
			t.Errorf("reminders = %q, want %q", got, want)
		}
		l, _ = db.PublicLink(ctx, sec.ID)
		if !l.Reminded() {
			t.Errorf("link not marked reminded: %+v", l)
		}

		// A public update from the room ends the silence.
		clock = friday.Add(95 * time.Minute)
		u := &tocsin.Update{Status: tocsin.IncidentIdentified, Body: "The listing is closed; we are checking the logs."}
		if err := db.PublishSecurityUpdate(ctx, actorOf(comms), sec.ID, u, nil); err != nil {
			t.Fatalf("PublishSecurityUpdate: %v", err)
		}
		got := getIncident(t, db, pub.ID)
		if got.Status != tocsin.IncidentIdentified || len(got.Updates) != 2 || got.Updates[0].Body != u.Body || got.Updates[0].Author != "comms@example.org" {
			t.Errorf("public incident after update: %+v", got)
		}
		es, _ = db.AuditEntries(ctx, tocsin.AuditFilter{Limit: 2})
		if es[0].Action != "security.public_update" || es[1].Action != "incident.update" || es[1].Target != incidentTarget(pub.ID) {
			t.Errorf("audit = %s %s", es[0].Action, es[1].Action)
		}
		if next := tick(friday.Add(100 * time.Minute)); !next.Equal(friday.Add(155 * time.Minute)) {
			t.Errorf("next after update = %v", next)
		}
		// Its own cadence: 30 minutes.
		wantCode(t, db.SetCadence(ctx, admin, sec.ID, 3*time.Minute), tocsin.EINVALID)
		audited(t, db, func() error { return db.SetCadence(ctx, admin, sec.ID, 30*time.Minute) })
		if next := tick(friday.Add(100 * time.Minute)); !next.Equal(friday.Add(125 * time.Minute)) {
			t.Errorf("next with 30 min = %v", next)
		}
		tick(friday.Add(126 * time.Minute))
		if got := cadenceKeys(t, db); len(got) != 2 {
			t.Errorf("reminders = %q", got)
		}

		// Resolved: no cadence any more.
		clock = friday.Add(130 * time.Minute)
		if err := db.PublishSecurityUpdate(ctx, actorOf(comms), sec.ID, &tocsin.Update{Status: tocsin.IncidentResolved, Body: "Resolved."}, nil); err != nil {
			t.Fatal(err)
		}
		if next := tick(friday.Add(10 * time.Hour)); !next.IsZero() || len(cadenceKeys(t, db)) != 2 {
			t.Errorf("after resolution: next %v, %q", next, cadenceKeys(t, db))
		}
		wantCode(t, db.PublishSecurityUpdate(ctx, actorOf(comms), sec.ID, &tocsin.Update{Status: tocsin.IncidentMonitoring, Body: "x"}, nil), tocsin.ECONFLICT)

		want2 := []string{"public_link::>" + fmt.Sprint(pub.ID), "cadence_reminder:comms@example.org:2026-11-20T16:40:00Z>1 h 00 min",
			"public_update:identified:>" + fmt.Sprint(u.ID)}
		tl := kinds(t, db, sec.ID)
		for _, w := range want2 {
			if !slices.Contains(tl, w) {
				t.Errorf("timeline %q lacks %q", tl, w)
			}
		}
		entries, _, _ := db.Timeline(ctx, sec.ID, tocsin.TimelineFilter{Limit: 100})
		if !slices.ContainsFunc(entries, func(e *tocsin.SecurityEntry) bool {
			return e.Kind == tocsin.EntryPublicUpdate && e.Body == u.Body && e.Author == "comms@example.org"
		}) {
			t.Errorf("no public update entry with its text")
		}

		// A draft public incident, linked: no cadence until published.
		sec2 := newSecurity(t, db, "Second case")
		draft := &tocsin.Incident{Title: "Draft"}
		if err := db.CreateIncident(ctx, admin, draft, &tocsin.Update{Status: "investigating", Body: "x"}, nil); err != nil {
			t.Fatal(err)
		}
		e := audited(t, db, func() error { return db.LinkPublicIncident(ctx, admin, sec2.ID, draft.ID) })
		wantEntry(t, e, "security.public_link", securityTarget(sec2.ID), "", fmt.Sprintf(`incident:%d title="Draft"`, draft.ID))
		if next := tick(friday.Add(20 * time.Hour)); !next.IsZero() {
			t.Errorf("draft has a cadence: %v", next)
		}
		wantCode(t, db.LinkPublicIncident(ctx, admin, newSecurity(t, db, "third").ID, 9999), tocsin.ENOTFOUND)
	})
}

func actorOf(u *tocsin.User) tocsin.Actor { return tocsin.Actor{UserID: u.ID, Label: u.Email} }

func TestSecurityPostmortemDigest(t *testing.T) {
	forEachStore(t, func(t *testing.T, db *DB) {
		ctx := context.Background()
		scribe := newUser(t, db, "scribe@example.org", tocsin.RoleResponder)
		approver := newUser(t, db, "approver@example.org", tocsin.RoleApprover)
		sec := newSecurity(t, db, "Bucket")
		at := now()
		pub := &tocsin.Incident{Title: "Storage exposure", PublishedAt: &at}
		if err := db.CreatePublicIncident(ctx, admin, sec.ID, pub, &tocsin.Update{Status: tocsin.IncidentResolved, Body: "Fixed."}, nil); err != nil {
			t.Fatal(err)
		}
		p := &tocsin.Postmortem{Summary: "A bucket was listable.", Timeline: []tocsin.TimelineEntry{{At: at, Text: "Listing closed"}}}
		if err := db.SaveSecurityPostmortem(ctx, actorOf(scribe), sec.ID, p); err != nil {
			t.Fatalf("SaveSecurityPostmortem: %v", err)
		}
		if p.IncidentID != pub.ID || p.Revision != 1 || !p.ContributedBy(tocsin.ActorKey(actorOf(scribe))) {
			t.Fatalf("saved = %+v", p)
		}
		if tl := kinds(t, db, sec.ID); !slices.Contains(tl, fmt.Sprintf("postmortem_draft:1:>%d", pub.ID)) {
			t.Errorf("timeline %q", tl)
		}
		// The author may not approve it; another approver does.
		wantCode(t, db.ApprovePostmortem(ctx, actorOf(scribe), tocsin.Roles{tocsin.RoleApprover}, pub.ID, 1), tocsin.EFORBIDDEN)
		if err := db.ApprovePostmortem(ctx, actorOf(approver), approver.Roles, pub.ID, 1); err != nil {
			t.Fatal(err)
		}
		e := audited(t, db, func() error { return db.PublishPostmortem(ctx, admin, pub.ID, nil) })
		got, err := db.Postmortem(ctx, pub.ID)
		if err != nil {
			t.Fatal(err)
		}
		digest := got.Digest()
		if len(digest) != 64 || got.PublishedSHA256 != digest || !strings.HasSuffix(e.After, " sha256="+digest) {
			t.Errorf("digest %s, column %s, audit %q", digest, got.PublishedSHA256, e.After)
		}
		// Frozen: neither the console's path nor the room's changes it.
		wantCode(t, db.SavePostmortem(ctx, admin, &tocsin.Postmortem{IncidentID: pub.ID, Summary: "Other"}), tocsin.ECONFLICT)
		wantCode(t, db.SaveSecurityPostmortem(ctx, actorOf(scribe), sec.ID, &tocsin.Postmortem{Summary: "Other"}), tocsin.ECONFLICT)
		if again, _ := db.Postmortem(ctx, pub.ID); again.Digest() != digest {
			t.Errorf("published text changed")
		}
	})
}
