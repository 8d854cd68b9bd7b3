package sqlstore

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tocsin-org/tocsin"
	"github.com/tocsin-org/tocsin/deadline"
)

// pagingSetup makes Ann (weekly rota, e-mail and Matrix contacts) and Bob
// (level 2, no contact: his account's e-mail), and the policy
// rota → Bob with the default 15-minute delays.
func pagingSetup(t *testing.T, db *DB, rounds int) (ann, bob *tocsin.User, rota *tocsin.Rota) {
	t.Helper()
	ctx := context.Background()
	ann = newUser(t, db, "ann@example.org", tocsin.RoleResponder)
	bob = newUser(t, db, "bob@example.org", tocsin.RoleResponder)
	paris, _ := time.LoadLocation("Europe/Paris")
	rota = &tocsin.Rota{Name: "Ops", Zone: "Europe/Paris", Start: time.Date(2026, 11, 16, 9, 0, 0, 0, paris), PeriodDays: 7, Members: []int64{ann.ID, bob.ID}}
	if err := db.SaveRota(ctx, admin, rota); err != nil {
		t.Fatal(err)
	}
	for _, c := range []*tocsin.Contact{
		{UserID: ann.ID, Kind: tocsin.ContactEmail, Address: "ann.pager@example.org"},
		{UserID: ann.ID, Kind: tocsin.ContactMatrix, Address: "!ann:example.org"},
	} {
		if err := db.AddContact(ctx, admin, c); err != nil {
			t.Fatal(err)
		}
	}
	pol := &tocsin.EscalationPolicy{Repeat: rounds, Levels: []tocsin.EscalationLevel{{RotaID: rota.ID}, {UserIDs: []int64{bob.ID}}}}
	if err := db.SetEscalationPolicy(ctx, admin, pol); err != nil {
		t.Fatal(err)
	}
	return ann, bob, rota
}

func pageMessages(t *testing.T, db *DB) []string {
	t.Helper()
	ms, err := db.Messages(context.Background(), 1000)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, m := range ms {
		if strings.HasPrefix(m.Key, "page:") {
			out = append(out, m.Channel+" "+m.To)
		}
	}
	slices.Sort(out)
	return out
}

// The bucket-listing report at Friday 2026-11-20 17:40 Paris pages Ann at
// once; nobody acknowledges, so Bob is paged 15 minutes later, once however
// many instances run the duty; after the acknowledgement nothing more.
func TestPageEscalation(t *testing.T) {
	forEachDatabase(t, func(t *testing.T, database string) {
		ctx := context.Background()
		now := time.Date(2026, 11, 20, 16, 40, 0, 0, time.UTC)
		clock := func() time.Time { return now }
		db, other := openTest(t, database, true), openTest(t, database, false)
		db.SetClock(clock)
		other.SetClock(clock)
		ann, bob, _ := pagingSetup(t, db, 0)

		sig := newSignal(t, db, "Bucket lists its files")
		pages, err := db.Pages(ctx, tocsin.PageFilter{Open: true})
		if err != nil || len(pages) != 1 {
			t.Fatalf("Pages = %v, %v; want one open page", pages, err)
		}
		p := pages[0]
		if p.SignalID == nil || *p.SignalID != sig.ID || p.Step != 0 || p.NextAt == nil || !p.NextAt.Equal(now.Add(15*time.Minute)) {
			t.Fatalf("page = %+v, want step 0 of signal %d due at 16:55", p, sig.ID)
		}
		if len(p.Notifications) != 1 || p.Notifications[0].UserID != ann.ID {
			t.Fatalf("notifications = %+v, want Ann", p.Notifications)
		}
		want := []string{"email ann.pager@example.org", "matrix !ann:example.org"}
		if got := pageMessages(t, db); !slices.Equal(got, want) {
			t.Fatalf("messages = %v, want %v", got, want)
		}

		duty := deadline.Escalation(db)
		steps := []struct {
			at       time.Time
			instance *DB
			want     []string
			next     time.Time
		}{
			{now.Add(14 * time.Minute), db, want, now.Add(15 * time.Minute)},
			{now.Add(15 * time.Minute), db, append(slices.Clone(want), "email bob@example.org"), now.Add(30 * time.Minute)},
			{now.Add(15 * time.Minute), other, append(slices.Clone(want), "email bob@example.org"), now.Add(30 * time.Minute)},
		}
		for i, st := range steps {
			now = st.at
			next, err := deadline.Escalation(st.instance).Run(ctx, time.Time{})
			if err != nil {
				t.Fatalf("step %d: %v", i, err)
			}
			if !next.Equal(st.next) {
				t.Errorf("step %d: next = %v, want %v", i, next, st.next)
			}
			slices.Sort(st.want)
			if got := pageMessages(t, db); !slices.Equal(got, st.want) {
				t.Fatalf("step %d: messages = %v, want %v", i, got, st.want)
			}
		}
		// Round two starts over at level 1 after Bob's 15 minutes.
		now = now.Add(15 * time.Minute)
		if _, err := duty.Run(ctx, time.Time{}); err != nil {
			t.Fatal(err)
		}
		if got := len(pageMessages(t, db)); got != 5 {
			t.Fatalf("%d page messages after round two began, want 5", got)
		}

		now = now.Add(2 * time.Minute)
		bobActor := tocsin.Actor{UserID: bob.ID, Label: bob.Email}
		if err := db.AcknowledgePage(ctx, bobActor, p.ID); err != nil {
			t.Fatal(err)
		}
		wantCode(t, db.AcknowledgePage(ctx, bobActor, p.ID), tocsin.ECONFLICT)
		got, err := db.Page(ctx, p.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.State != tocsin.PageAcknowledged || got.NextAt != nil || got.AcknowledgedBy != bob.Email || got.TimeToAcknowledge() != 32*time.Minute {
			t.Fatalf("page after ack = %+v (TTA %s)", got, got.TimeToAcknowledge())
		}
		if len(got.Notifications) != 3 {
			t.Fatalf("notifications = %+v, want Ann, Bob, Ann", got.Notifications)
		}
		s, err := db.Signal(ctx, sig.ID)
		if err != nil || s.State != tocsin.SignalAcknowledged || s.AcknowledgedBy != bob.Email {
			t.Fatalf("signal after ack = %+v, %v", s, err)
		}
		now = now.Add(time.Hour)
		next, err := duty.Run(ctx, time.Time{})
		if err != nil || !next.IsZero() {
			t.Fatalf("after ack: next = %v, %v; want nothing due", next, err)
		}
		if got := len(pageMessages(t, db)); got != 5 {
			t.Fatalf("%d page messages after the acknowledgement, want still 5", got)
		}
	})
}

func TestPageRoundsRunOut(t *testing.T) {
	forEachStore(t, func(t *testing.T, db *DB) {
		ctx := context.Background()
		now := time.Date(2026, 11, 20, 16, 40, 0, 0, time.UTC)
		db.SetClock(func() time.Time { return now })
		pagingSetup(t, db, 1)
		newSignal(t, db, "Bucket")
		for range 3 {
			now = now.Add(15 * time.Minute)
			if _, err := db.EscalatePages(ctx); err != nil {
				t.Fatal(err)
			}
		}
		ps, err := db.Pages(ctx, tocsin.PageFilter{})
		if err != nil || len(ps) != 1 || ps[0].State != tocsin.PageExhausted || ps[0].NextAt != nil {
			t.Fatalf("pages = %+v, %v; want one exhausted", ps, err)
		}
		// An exhausted page can still be acknowledged.
		if err := db.AcknowledgePage(ctx, admin, ps[0].ID); err != nil {
			t.Fatal(err)
		}
	})
}

func TestPageWithoutPolicy(t *testing.T) {
	forEachStore(t, func(t *testing.T, db *DB) {
		ctx := context.Background()
		newSignal(t, db, "Nobody on call yet")
		ps, err := db.Pages(ctx, tocsin.PageFilter{})
		if err != nil || len(ps) != 0 {
			t.Fatalf("pages = %v, %v; want none", ps, err)
		}
		wantCode(t, db.OpenPage(ctx, admin, &tocsin.Page{Subject: "x"}), tocsin.ENOTFOUND)
	})
}

func TestOpenPageByHand(t *testing.T) {
	forEachStore(t, func(t *testing.T, db *DB) {
		ctx := context.Background()
		db.SetClock(func() time.Time { return time.Date(2026, 11, 20, 16, 40, 0, 0, time.UTC) }) // Ann's week
		pagingSetup(t, db, 0)
		inc := newSecurity(t, db, "Server compromise")
		p := &tocsin.Page{Subject: "  SEV1:  server compromise ", SecurityIncidentID: &inc.ID}
		if err := db.OpenPage(ctx, admin, p); err != nil {
			t.Fatal(err)
		}
		if p.Subject != "SEV1: server compromise" || p.ID == 0 {
			t.Fatalf("page = %+v", p)
		}
		missing := int64(999)
		wantCode(t, db.OpenPage(ctx, admin, &tocsin.Page{Subject: "x", SecurityIncidentID: &missing}), tocsin.ENOTFOUND)
		wantCode(t, db.OpenPage(ctx, admin, &tocsin.Page{Subject: ""}), tocsin.EINVALID)
		if got := len(pageMessages(t, db)); got != 2 {
			t.Fatalf("%d page messages, want Ann's 2", got)
		}
	})
}

func TestOnCallStore(t *testing.T) {
	forEachStore(t, func(t *testing.T, db *DB) {
		ctx := context.Background()
		ann, bob, rota := pagingSetup(t, db, 0)
		o := &tocsin.Override{UserID: bob.ID, From: time.Date(2026, 12, 24, 0, 0, 0, 0, time.UTC), Until: time.Date(2026, 12, 27, 0, 0, 0, 0, time.UTC), Note: "holiday"}
		if err := db.AddOverride(ctx, admin, rota.ID, o); err != nil {
			t.Fatal(err)
		}
		got, err := db.Rota(ctx, rota.ID)
		if err != nil || !slices.Equal(got.Members, []int64{ann.ID, bob.ID}) || len(got.Overrides) != 1 || got.Overrides[0].Note != "holiday" {
			t.Fatalf("rota = %+v, %v", got, err)
		}
		if who, _ := got.OnCall(time.Date(2026, 12, 25, 12, 0, 0, 0, time.UTC)); who != bob.ID {
			t.Fatalf("on call at Christmas = %d, want Bob", who)
		}
		got.Members = []int64{bob.ID}
		if err := db.SaveRota(ctx, admin, got); err != nil {
			t.Fatal(err)
		}
		if again, _ := db.Rota(ctx, rota.ID); !slices.Equal(again.Members, []int64{bob.ID}) || len(again.Overrides) != 1 {
			t.Fatalf("after update: %+v", again)
		}
		wantCode(t, db.SaveRota(ctx, admin, &tocsin.Rota{Name: "x", Zone: "UTC", Start: o.From, PeriodDays: 1, Members: []int64{404}}), tocsin.EINVALID)
		wantCode(t, db.DeleteRota(ctx, admin, rota.ID), tocsin.ECONFLICT)
		wantCode(t, db.DeleteOverride(ctx, admin, rota.ID, 999), tocsin.ENOTFOUND)
		if err := db.DeleteOverride(ctx, admin, rota.ID, o.ID); err != nil {
			t.Fatal(err)
		}
		pol, err := db.EscalationPolicy(ctx)
		if err != nil || len(pol.Levels) != 2 || pol.Levels[0].RotaID != rota.ID || pol.Levels[1].Delay != 15*time.Minute {
			t.Fatalf("policy = %+v, %v", pol, err)
		}
		wantCode(t, db.SetEscalationPolicy(ctx, admin, &tocsin.EscalationPolicy{Levels: []tocsin.EscalationLevel{{RotaID: 12345}}}), tocsin.EINVALID)

		cs, err := db.Contacts(ctx, ann.ID)
		if err != nil || len(cs) != 2 {
			t.Fatalf("contacts = %v, %v", cs, err)
		}
		wantCode(t, db.AddContact(ctx, admin, &tocsin.Contact{UserID: ann.ID, Kind: tocsin.ContactEmail, Address: "ANN.pager@example.org"}), tocsin.ECONFLICT)
		wantCode(t, db.AddContact(ctx, admin, &tocsin.Contact{UserID: ann.ID, Kind: tocsin.ContactMatrix, Address: "ann"}), tocsin.EINVALID)
		if err := db.DeleteContact(ctx, admin, ann.ID, cs[0].ID); err != nil {
			t.Fatal(err)
		}
		wantCode(t, db.DeleteContact(ctx, admin, bob.ID, cs[1].ID), tocsin.ENOTFOUND)
		es, err := db.AuditEntries(ctx, tocsin.AuditFilter{Limit: 50})
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range es {
			if strings.Contains(e.After+e.Before, "pager@") || strings.Contains(e.After+e.Before, "!ann") {
				t.Fatalf("audit entry %s holds a contact address: %q", e.Action, e.After)
			}
		}
	})
}
