package sqlstore

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/tocsin-org/tocsin"
)

func newSecurity(t *testing.T, db *DB, title string) *tocsin.SecurityIncident {
	t.Helper()
	inc := &tocsin.SecurityIncident{Title: title, Severity: "sev2", Kind: tocsin.KindDataExposure}
	if err := db.CreateSecurityIncident(context.Background(), admin, inc); err != nil {
		t.Fatalf("CreateSecurityIncident: %v", err)
	}
	return inc
}

// kinds lists a timeline's entries as "kind:subject:old>new".
func kinds(t *testing.T, db *DB, id int64) []string {
	t.Helper()
	es, _, err := db.Timeline(context.Background(), id, tocsin.TimelineFilter{Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range es {
		out = append(out, fmt.Sprintf("%s:%s:%s>%s", e.Kind, e.Subject, e.Old, e.New))
	}
	return out
}

func TestSecurityIncidentLifecycle(t *testing.T) {
	forEachStore(t, func(t *testing.T, db *DB) {
		ctx := context.Background()
		inc := &tocsin.SecurityIncident{Title: " Bucket world-listable ", Summary: "<script>x</script>", Severity: "sev1", Kind: tocsin.KindDataExposure}
		e := audited(t, db, func() error { return db.CreateSecurityIncident(ctx, admin, inc) })
		wantEntry(t, e, "security.create", securityTarget(inc.ID), "", `title="Bucket world-listable" severity=SEV1 kind=data_exposure`)
		got, err := db.SecurityIncident(ctx, inc.ID)
		if err != nil || got.Title != "Bucket world-listable" || got.Status != tocsin.SecTriage || got.Severity != tocsin.SEV1 || got.Summary != "<script>x</script>" {
			t.Fatalf("SecurityIncident = %+v, %v", got, err)
		}

		// Forward without a reason, back only with one.
		audited(t, db, func() error { return db.SetSecurityStatus(ctx, admin, inc.ID, tocsin.SecContained, "") })
		wantCode(t, notAudited(t, db, func() error { return db.SetSecurityStatus(ctx, admin, inc.ID, tocsin.SecInvestigating, " ") }), tocsin.EINVALID)
		wantCode(t, notAudited(t, db, func() error { return db.SetSecurityStatus(ctx, admin, inc.ID, tocsin.SecContained, "") }), tocsin.ECONFLICT)
		audited(t, db, func() error {
			return db.SetSecurityStatus(ctx, admin, inc.ID, tocsin.SecInvestigating, "second host found")
		})
		audited(t, db, func() error { return db.SetSecurityStatus(ctx, admin, inc.ID, tocsin.SecClosed, "") })
		got, _ = db.SecurityIncident(ctx, inc.ID)
		if got.ClosedAt == nil || got.Open() {
			t.Errorf("closed incident: %+v", got)
		}
		// Closed: only a reopen with a reason moves it.
		wantCode(t, notAudited(t, db, func() error { return db.SetSecurityStatus(ctx, admin, inc.ID, tocsin.SecRecovered, "x") }), tocsin.ECONFLICT)
		wantCode(t, notAudited(t, db, func() error { return db.ReopenSecurityIncident(ctx, admin, inc.ID, tocsin.SecInvestigating, "") }), tocsin.EINVALID)
		e = audited(t, db, func() error {
			return db.ReopenSecurityIncident(ctx, admin, inc.ID, tocsin.SecInvestigating, "the key leaked again")
		})
		wantEntry(t, e, "security.reopen", securityTarget(inc.ID), "status=closed", `status=investigating reason="the key leaked again"`)
		wantCode(t, notAudited(t, db, func() error { return db.ReopenSecurityIncident(ctx, admin, inc.ID, tocsin.SecTriage, "again") }), tocsin.ECONFLICT)

		// Settings: severity changes get their own entry.
		set := &tocsin.SecurityIncident{ID: inc.ID, Title: "Bucket listable", Summary: "s", Severity: tocsin.SEV2, Kind: tocsin.KindMisconfiguration}
		audited(t, db, func() error { return db.SetSecurityIncident(ctx, admin, set) })
		if set.Title != "Bucket listable" || set.Severity != tocsin.SEV2 || set.Status != tocsin.SecInvestigating {
			t.Errorf("after set: %+v", set)
		}
		notAudited(t, db, func() error { return db.SetSecurityIncident(ctx, admin, set) })

		want := []string{"created::>SEV1", "status::triage>contained", "status::contained>investigating", "status::investigating>closed",
			"reopened::closed>investigating", "severity::SEV1>SEV2", "edited:title,summary,kind:>"}
		if got := kinds(t, db, inc.ID); !slices.Equal(got, want) {
			t.Errorf("timeline = %q, want %q", got, want)
		}
		wantCode(t, notAudited(t, db, func() error { return db.SetSecurityStatus(ctx, admin, 99999, tocsin.SecClosed, "") }), tocsin.ENOTFOUND)
		_, _, err = db.Timeline(ctx, 99999, tocsin.TimelineFilter{})
		wantCode(t, err, tocsin.ENOTFOUND)
	})
}

func TestSecurityRoles(t *testing.T) {
	forEachStore(t, func(t *testing.T, db *DB) {
		ctx := context.Background()
		inc := newSecurity(t, db, "Compromised server")
		ann := newUser(t, db, "ann@example.org", tocsin.RoleResponder)
		bob := newUser(t, db, "bob@example.org", tocsin.RoleResponder)
		gone := newUser(t, db, "gone@example.org", tocsin.RoleResponder)
		if err := db.DisableUser(ctx, admin, gone.ID); err != nil {
			t.Fatal(err)
		}
		audited(t, db, func() error { return db.AssignSecurityRole(ctx, admin, inc.ID, tocsin.RoleLead, ann.ID) })
		e := audited(t, db, func() error { return db.AssignSecurityRole(ctx, admin, inc.ID, tocsin.RoleLead, bob.ID) })
		wantEntry(t, e, "security.role", securityTarget(inc.ID), "lead=ann@example.org", "lead=bob@example.org")
		audited(t, db, func() error { return db.AssignSecurityRole(ctx, admin, inc.ID, tocsin.RoleMember, ann.ID) })
		audited(t, db, func() error { return db.AssignSecurityRole(ctx, admin, inc.ID, tocsin.RoleMember, bob.ID) })
		audited(t, db, func() error { return db.AssignSecurityRole(ctx, admin, inc.ID, tocsin.RoleScribe, ann.ID) })

		for _, tt := range []struct {
			name string
			role tocsin.IncidentRole
			user int64
			code string
		}{
			{"disabled account", tocsin.RoleComms, gone.ID, tocsin.EINVALID},
			{"unknown account", tocsin.RoleComms, 4242, tocsin.EINVALID},
			{"unknown role", "boss", ann.ID, tocsin.EINVALID},
			{"held already", tocsin.RoleMember, ann.ID, tocsin.ECONFLICT},
		} {
			t.Run(tt.name, func(t *testing.T) {
				err := notAudited(t, db, func() error { return db.AssignSecurityRole(ctx, admin, inc.ID, tt.role, tt.user) })
				wantCode(t, err, tt.code)
			})
		}
		err := notAudited(t, db, func() error { return db.AssignSecurityRole(ctx, admin, inc.ID, tocsin.RoleComms, gone.ID) })
		if m := tocsin.ErrorMessage(err); m != "the account gone@example.org is disabled: a disabled account cannot hold a role" {
			t.Errorf("message = %q", m)
		}
		audited(t, db, func() error { return db.UnassignSecurityRole(ctx, admin, inc.ID, tocsin.RoleMember, bob.ID) })
		wantCode(t, notAudited(t, db, func() error { return db.UnassignSecurityRole(ctx, admin, inc.ID, tocsin.RoleMember, bob.ID) }), tocsin.ENOTFOUND)

		got, err := db.SecurityIncident(ctx, inc.ID)
		if err != nil {
			t.Fatal(err)
		}
		var holders []string
		for _, h := range got.Roles {
			holders = append(holders, string(h.Role)+"="+h.Email)
		}
		if want := []string{"lead=bob@example.org", "scribe=ann@example.org", "member=ann@example.org"}; !slices.Equal(holders, want) {
			t.Errorf("roles = %q, want %q", holders, want)
		}
		if l := got.Lead(); l == nil || l.UserID != bob.ID {
			t.Errorf("Lead = %+v", l)
		}
		list, err := db.SecurityIncidents(ctx, tocsin.SecurityIncidentFilter{})
		if err != nil || len(list) != 1 || list[0].Lead() == nil || list[0].Lead().Email != "bob@example.org" {
			t.Errorf("SecurityIncidents = %+v, %v", list, err)
		}
	})
}

func TestSecurityKeyMoments(t *testing.T) {
	forEachStore(t, func(t *testing.T, db *DB) {
		ctx := context.Background()
		inc := newSecurity(t, db, "Leaked key")
		n := now()
		at := func(d time.Duration) *time.Time { t := n.Add(-d); return &t }
		// The exposure began months before anyone noticed.
		m := tocsin.KeyMoments{ExposureStarted: at(90 * 24 * time.Hour), Detected: at(3 * time.Hour), Reported: at(2 * time.Hour),
			Acknowledged: at(110 * time.Minute), Contained: at(time.Hour)}
		e := audited(t, db, func() error { return db.SetKeyMoments(ctx, admin, inc.ID, m) })
		if e.Action != "security.moments" {
			t.Errorf("audit action %s", e.Action)
		}
		got, _ := db.SecurityIncident(ctx, inc.ID)
		if d, ok := got.Moments.TimeToAcknowledge(); !ok || d != 10*time.Minute {
			t.Errorf("time to acknowledge = %v %v", d, ok)
		}
		if d, ok := got.Moments.TimeToContain(); !ok || d != 2*time.Hour {
			t.Errorf("time to contain = %v %v", d, ok)
		}
		if _, _, ongoing := got.Moments.ExposureDuration(); !ongoing {
			t.Error("exposure should be ongoing")
		}
		notAudited(t, db, func() error { return db.SetKeyMoments(ctx, admin, inc.ID, got.Moments) })

		for _, tt := range []struct {
			name string
			edit func(*tocsin.KeyMoments)
		}{
			{"contained before exposure started", func(k *tocsin.KeyMoments) { k.Contained = at(100 * 24 * time.Hour) }},
			{"acknowledged before reported", func(k *tocsin.KeyMoments) { k.Acknowledged = at(150 * time.Minute) }},
			{"in the future", func(k *tocsin.KeyMoments) { f := n.Add(time.Hour); k.Resolved = &f }},
			{"decades before", func(k *tocsin.KeyMoments) { k.ExposureStarted = at(20 * 366 * 24 * time.Hour) }},
		} {
			t.Run(tt.name, func(t *testing.T) {
				k := got.Moments
				tt.edit(&k)
				wantCode(t, notAudited(t, db, func() error { return db.SetKeyMoments(ctx, admin, inc.ID, k) }), tocsin.EINVALID)
			})
		}
		// Each moment is on the timeline, dated when it happened: the
		// exposure's start comes first.
		es, total, err := db.Timeline(ctx, inc.ID, tocsin.TimelineFilter{})
		if err != nil || total != 6 {
			t.Fatalf("Timeline: %d entries, %v", total, err)
		}
		if es[0].Kind != tocsin.EntryMoment || es[0].Subject != string(tocsin.MomentExposureStarted) || !es[0].OccurredAt.Equal(*m.ExposureStarted) || !es[0].Backdated() {
			t.Errorf("first entry = %+v", es[0])
		}
	})
}

func TestSecurityEntriesAndDecisions(t *testing.T) {
	forEachStore(t, func(t *testing.T, db *DB) {
		ctx := context.Background()
		inc := newSecurity(t, db, "Stolen credentials")
		ann := newUser(t, db, "ann@example.org", tocsin.RoleResponder)
		earlier := now().Add(-48 * time.Hour)
		obs := &tocsin.SecurityEntry{Kind: tocsin.EntryObservation, Body: "first login from 203.0.113.9", OccurredAt: earlier}
		audited(t, db, func() error { return db.AddTimelineEntry(ctx, admin, inc.ID, obs) })
		for _, tt := range []struct {
			name string
			e    tocsin.SecurityEntry
		}{
			{"future", tocsin.SecurityEntry{Kind: tocsin.EntryAction, Body: "x", OccurredAt: now().Add(time.Hour)}},
			{"empty", tocsin.SecurityEntry{Kind: tocsin.EntryAction, Body: "  "}},
			{"automatic kind", tocsin.SecurityEntry{Kind: tocsin.EntryStatus, Body: "x"}},
		} {
			t.Run(tt.name, func(t *testing.T) {
				wantCode(t, notAudited(t, db, func() error { return db.AddTimelineEntry(ctx, admin, inc.ID, &tt.e) }), tocsin.EINVALID)
			})
		}
		d := &tocsin.Decision{Choice: "revoke every access token", Options: "revoke all; revoke some", Why: "accounts safe", DecidedBy: ann.ID}
		audited(t, db, func() error { return db.RecordDecision(ctx, admin, inc.ID, d) })
		wantCode(t, notAudited(t, db, func() error {
			return db.RecordDecision(ctx, admin, inc.ID, &tocsin.Decision{Choice: "x", Why: "y", DecidedBy: 999})
		}), tocsin.EINVALID)
		es, total, err := db.Timeline(ctx, inc.ID, tocsin.TimelineFilter{})
		if err != nil || total != 3 {
			t.Fatalf("Timeline: %d, %v", total, err)
		}
		if es[0].ID != obs.ID || es[0].Author != admin.Label || !es[0].OccurredAt.Equal(earlier) {
			t.Errorf("observation = %+v", es[0])
		}
		last := es[2]
		if last.Kind != tocsin.EntryDecision || last.Decision == nil || last.Decision.Choice != d.Choice || last.Decision.DecidedByEmail != "ann@example.org" {
			t.Errorf("decision entry = %+v", last)
		}
		// A page from the end, still oldest first.
		page, _, err := db.Timeline(ctx, inc.ID, tocsin.TimelineFilter{Limit: 2, Last: true})
		if err != nil || len(page) != 2 || page[1].Kind != tocsin.EntryDecision {
			t.Errorf("last page = %v, %v", page, err)
		}
	})
}

func TestSecurityLinks(t *testing.T) {
	forEachStore(t, func(t *testing.T, db *DB) {
		ctx := context.Background()
		a := newSecurity(t, db, "July case")
		b := newSecurity(t, db, "January case")
		c := newSecurity(t, db, "Sub-case")
		audited(t, db, func() error { return db.LinkSecurityIncidents(ctx, admin, b.ID, a.ID, tocsin.LinkDuplicate) })
		audited(t, db, func() error { return db.LinkSecurityIncidents(ctx, admin, c.ID, a.ID, tocsin.LinkChild) })
		for _, tt := range []struct {
			name        string
			from, other int64
			kind        tocsin.LinkKind
			code        string
		}{
			{"self", a.ID, a.ID, tocsin.LinkRelated, tocsin.EINVALID},
			{"twice, either way", a.ID, b.ID, tocsin.LinkRelated, tocsin.ECONFLICT},
			{"unknown other", a.ID, 9999, tocsin.LinkRelated, tocsin.EINVALID},
			{"unknown incident", 9999, a.ID, tocsin.LinkRelated, tocsin.ENOTFOUND},
			{"unknown kind", a.ID, b.ID, "cousin", tocsin.EINVALID},
		} {
			t.Run(tt.name, func(t *testing.T) {
				wantCode(t, notAudited(t, db, func() error { return db.LinkSecurityIncidents(ctx, admin, tt.from, tt.other, tt.kind) }), tt.code)
			})
		}
		links := func(id int64) []string {
			inc, err := db.SecurityIncident(ctx, id)
			if err != nil {
				t.Fatal(err)
			}
			var out []string
			for _, l := range inc.Links {
				out = append(out, fmt.Sprintf("%s:%s", l.Kind, l.Title))
			}
			return out
		}
		if got, want := links(a.ID), []string{"duplicated_by:January case", "parent:Sub-case"}; !slices.Equal(got, want) {
			t.Errorf("links of a = %q, want %q", got, want)
		}
		if got, want := links(b.ID), []string{"duplicate:July case"}; !slices.Equal(got, want) {
			t.Errorf("links of b = %q, want %q", got, want)
		}
		if got, want := links(c.ID), []string{"child:July case"}; !slices.Equal(got, want) {
			t.Errorf("links of c = %q, want %q", got, want)
		}
		if got := kinds(t, db, a.ID); !slices.Contains(got, fmt.Sprintf("link:duplicated_by:>%d", b.ID)) {
			t.Errorf("timeline of a = %q", got)
		}
	})
}

// TestSecurityRolesRace gives the lead to several people at once: one of
// them holds it at the end, on both backends.
func TestSecurityRolesRace(t *testing.T) {
	forEachStore(t, func(t *testing.T, db *DB) {
		ctx := context.Background()
		inc := newSecurity(t, db, "Race")
		var users []int64
		for i := range 6 {
			users = append(users, newUser(t, db, fmt.Sprintf("u%d@example.org", i), tocsin.RoleResponder).ID)
		}
		errs := make(chan error, len(users))
		for _, u := range users {
			go func() { errs <- db.AssignSecurityRole(ctx, admin, inc.ID, tocsin.RoleLead, u) }()
		}
		for range users {
			if err := <-errs; err != nil {
				t.Errorf("AssignSecurityRole: %v", err)
			}
		}
		got, err := db.SecurityIncident(ctx, inc.ID)
		if err != nil {
			t.Fatal(err)
		}
		if n := len(got.Holders(tocsin.RoleLead)); n != 1 {
			t.Errorf("%d leads after a race, want 1: %+v", n, got.Roles)
		}
	})
}
