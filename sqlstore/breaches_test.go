package sqlstore

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tocsin-org/tocsin"
)

func TestBreachLifecycle(t *testing.T) {
	forEachStore(t, func(t *testing.T, db *DB) {
		ctx := context.Background()
		clock := time.Date(2026, 11, 20, 16, 40, 0, 0, time.UTC) // a Friday
		db.SetClock(func() time.Time { return clock })
		inc := newSecurity(t, db, "Bucket world-listable")
		ann := newUser(t, db, "ann@example.org", tocsin.RoleApprover)

		_, err := db.Breach(ctx, inc.ID)
		wantCode(t, err, tocsin.ENOTFOUND)
		// Refused: awareness in the future, unknown answer, unknown incident.
		wantCode(t, notAudited(t, db, func() error {
			return db.MarkBreach(ctx, admin, inc.ID, tocsin.BreachYes, clock.Add(time.Hour))
		}), tocsin.EINVALID)
		wantCode(t, notAudited(t, db, func() error { return db.MarkBreach(ctx, admin, inc.ID, "perhaps", time.Time{}) }), tocsin.EINVALID)
		wantCode(t, notAudited(t, db, func() error { return db.MarkBreach(ctx, admin, 999, tocsin.BreachYes, time.Time{}) }), tocsin.ENOTFOUND)

		// Likely, aware now (the default).
		e := audited(t, db, func() error { return db.MarkBreach(ctx, admin, inc.ID, tocsin.BreachLikely, time.Time{}) })
		wantEntry(t, e, "breach.mark", securityTarget(inc.ID), "", "answer=likely aware_at=2026-11-20T16:40:00Z")
		notAudited(t, db, func() error { return db.MarkBreach(ctx, admin, inc.ID, tocsin.BreachLikely, clock) })
		// Yes, and we were aware an hour earlier after all.
		clock = clock.Add(30 * time.Minute)
		aware := clock.Add(-90 * time.Minute)
		e = audited(t, db, func() error { return db.MarkBreach(ctx, admin, inc.ID, tocsin.BreachYes, aware) })
		wantEntry(t, e, "breach.mark", securityTarget(inc.ID), "answer=likely aware_at=2026-11-20T16:40:00Z", "answer=yes aware_at=2026-11-20T15:40:00Z")
		b, err := db.Breach(ctx, inc.ID)
		if err != nil || b.Answer != tocsin.BreachYes || !b.AwareAt.Equal(aware) || b.Status != tocsin.BreachDiscovered || b.Title != inc.Title {
			t.Fatalf("Breach = %+v, %v", b, err)
		}

		// The register.
		people, records := int64(1200), int64(5000)
		reg := &tocsin.Breach{IncidentID: inc.ID, Type: "confidentiality", Risk: tocsin.RiskHigh, Status: tocsin.BreachInvestigating,
			Categories: "customers: names, e-mail addresses", People: &people, Records: &records, Consequences: "phishing", Remedial: "bucket made private"}
		wantCode(t, notAudited(t, db, func() error {
			bad := *reg
			bad.Risk = "severe"
			return db.SetBreachRegister(ctx, admin, &bad)
		}), tocsin.EINVALID)
		e = audited(t, db, func() error { return db.SetBreachRegister(ctx, admin, reg) })
		if e.Action != "breach.register" || !strings.Contains(e.After, `risk="high"`) {
			t.Errorf("audit %+v", e)
		}
		notAudited(t, db, func() error { return db.SetBreachRegister(ctx, admin, reg) })

		// Decisions: the authority on time, the people too.
		wantCode(t, notAudited(t, db, func() error {
			return db.RecordBreachDecision(ctx, admin, inc.ID, &tocsin.BreachDecision{Notify: true, DecidedBy: ann.ID})
		}), tocsin.EINVALID)
		d := &tocsin.BreachDecision{Notify: true, Why: "customer addresses were listed", DecidedBy: ann.ID}
		e = audited(t, db, func() error { return db.RecordBreachDecision(ctx, admin, inc.ID, d) })
		if e.Action != "breach.decision" || d.Late || d.DecisionID == 0 {
			t.Errorf("decision %+v, audit %+v", d, e)
		}
		clock = clock.Add(80 * time.Hour)
		// After the deadline: needs the reason for the delay, then flagged.
		wantCode(t, notAudited(t, db, func() error {
			return db.RecordBreachDecision(ctx, admin, inc.ID, &tocsin.BreachDecision{Why: "no risk after all", DecidedBy: ann.ID})
		}), tocsin.EINVALID)
		late := &tocsin.BreachDecision{Why: "no risk after all", LateReason: "the logs came on Monday", DecidedBy: ann.ID}
		audited(t, db, func() error { return db.RecordBreachDecision(ctx, admin, inc.ID, late) })
		subj := &tocsin.BreachDecision{Subjects: true, Notify: true, Why: "high risk", DecidedBy: ann.ID}
		audited(t, db, func() error { return db.RecordBreachDecision(ctx, admin, inc.ID, subj) })

		// NIS2 report sent; not in the future; not the GDPR clock.
		wantCode(t, notAudited(t, db, func() error {
			return db.RecordClockDone(ctx, admin, inc.ID, tocsin.ClockNIS2EarlyWarning, clock.Add(time.Hour))
		}), tocsin.EINVALID)
		wantCode(t, notAudited(t, db, func() error { return db.RecordClockDone(ctx, admin, inc.ID, tocsin.ClockGDPR, time.Time{}) }), tocsin.EINVALID)
		sent := aware.Add(20 * time.Hour)
		audited(t, db, func() error { return db.RecordClockDone(ctx, admin, inc.ID, tocsin.ClockNIS2EarlyWarning, sent) })

		b, err = db.Breach(ctx, inc.ID)
		if err != nil {
			t.Fatal(err)
		}
		if b.Risk != tocsin.RiskHigh || *b.People != 1200 || b.Categories != reg.Categories || len(b.Decisions) != 3 {
			t.Fatalf("Breach = %+v", b)
		}
		if nd := b.NotifyDecision(); nd == nil || nd.Notify || !nd.Late || nd.LateReason != "the logs came on Monday" || nd.ByEmail != "ann@example.org" {
			t.Errorf("latest authority decision = %+v", nd)
		}
		cs := b.Clocks(tocsin.NIS2Clocks)
		if cs[0].DoneAt == nil || cs[0].Late() || cs[1].DoneAt == nil || !cs[1].DoneAt.Equal(sent) || cs[2].DoneAt != nil {
			t.Errorf("clocks = %+v", cs)
		}

		// The timeline shows every change; decisions are decisions.
		want := []string{"created::>SEV2", "breach:answer:>likely", "breach:aware:>2026-11-20T16:40:00Z", "breach:answer:likely>yes",
			"breach:aware:2026-11-20T16:40:00Z>2026-11-20T15:40:00Z", "breach:register:discovered>investigating", "decision::>",
			"breach:nis2_early_warning:>2026-11-21T11:40:00Z", "decision::>", "decision::>"}
		got := kinds(t, db, inc.ID)
		slices.Sort(got)
		slices.Sort(want)
		if !slices.Equal(got, want) {
			t.Errorf("timeline = %q, want %q", got, want)
		}

		// The register lists breaches, not incidents answered no.
		other := newSecurity(t, db, "Port scan")
		audited(t, db, func() error { return db.MarkBreach(ctx, admin, other.ID, tocsin.BreachNo, time.Time{}) })
		wantCode(t, notAudited(t, db, func() error {
			return db.RecordBreachDecision(ctx, admin, other.ID, &tocsin.BreachDecision{Why: "x", DecidedBy: ann.ID})
		}), tocsin.ECONFLICT)
		all, err := db.Breaches(ctx)
		if err != nil || len(all) != 1 || all[0].IncidentID != inc.ID || len(all[0].Decisions) != 3 {
			t.Fatalf("Breaches = %+v, %v", all, err)
		}
	})
}

func TestRemindBreachOnce(t *testing.T) {
	forEachStore(t, func(t *testing.T, db *DB) {
		ctx := context.Background()
		inc := newSecurity(t, db, "Leak")
		msgs := func() []*tocsin.Message {
			return []*tocsin.Message{{Channel: tocsin.ChannelEmail, To: "a@example.org", Subject: "s", Body: "b", Key: "gdpr:1:gdpr:24h:user:1"}}
		}
		var acted bool
		e := audited(t, db, func() (err error) {
			acted, err = db.RemindBreach(ctx, tocsin.System, inc.ID, "gdpr:24h", msgs())
			return err
		})
		if !acted || e.Action != "breach.remind" {
			t.Errorf("first: acted %v, %+v", acted, e)
		}
		notAudited(t, db, func() (err error) {
			acted, err = db.RemindBreach(ctx, tocsin.System, inc.ID, "gdpr:24h", msgs())
			return err
		})
		if acted {
			t.Error("second reminder acted")
		}
	})
}
