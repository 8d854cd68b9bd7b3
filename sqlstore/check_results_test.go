package sqlstore

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tocsin-org/tocsin"
	"github.com/tocsin-org/tocsin/internal/testpeer"
)

// checkRig is a store on a clock the test moves, with a service and a
// check of it.
type checkRig struct {
	t     *testing.T
	db    *DB
	clock time.Time
	svc   *tocsin.Service
	check *tocsin.Check
}

func newCheckRig(t *testing.T, db *DB, edit func(*tocsin.Check)) *checkRig {
	t.Helper()
	r := &checkRig{t: t, db: db, clock: now()}
	db.SetClock(func() time.Time { return r.clock })
	r.svc = newService(t, db, &tocsin.Service{Name: "Website"})
	c := httpCheck(r.svc.ID, "https://www.example.org/")
	if edit != nil {
		edit(c)
	}
	r.check = newCheck(t, db, c)
	return r
}

// result is a result of the rig's check started at the clock, which then
// moves on a minute.
func (r *checkRig) result(loc string, ok bool) *tocsin.CheckResult {
	res := &tocsin.CheckResult{CheckID: r.check.ID, Location: loc, StartedAt: r.clock, Duration: 120 * time.Millisecond, OK: ok}
	if !ok {
		res.StatusCode, res.Error, res.Duration = 503, "the server answered 503 Service Unavailable", 2*time.Second
	}
	r.clock = r.clock.Add(time.Minute)
	return res
}

func (r *checkRig) record(results ...*tocsin.CheckResult) {
	r.t.Helper()
	if err := r.db.RecordCheckResults(context.Background(), results); err != nil {
		r.t.Fatalf("RecordCheckResults: %v", err)
	}
}

func (r *checkRig) status() tocsin.ServiceStatus { return statusOf(r.t, r.db, r.svc.ID) }

func (r *checkRig) signals() []*tocsin.Signal {
	r.t.Helper()
	ss, err := r.db.Signals(context.Background(), tocsin.SignalFilter{})
	if err != nil {
		r.t.Fatal(err)
	}
	return ss
}

func TestCheckResultsMoveServiceStatus(t *testing.T) {
	forEachStore(t, func(t *testing.T, db *DB) {
		ctx := context.Background()
		r := newCheckRig(t, db, nil) // thresholds 3 and 2, major_outage
		for _, tc := range []struct {
			name    string
			ok      bool
			state   tocsin.CheckState
			status  tocsin.ServiceStatus
			signals int
		}{
			{"first success", true, tocsin.CheckPending, tocsin.StatusOperational, 0},
			{"second success: up", true, tocsin.CheckUp, tocsin.StatusOperational, 0},
			{"one failure", false, tocsin.CheckUp, tocsin.StatusOperational, 0},
			{"two failures", false, tocsin.CheckUp, tocsin.StatusOperational, 0},
			{"three failures: down", false, tocsin.CheckDown, tocsin.StatusMajorOutage, 1},
			{"still failing", false, tocsin.CheckDown, tocsin.StatusMajorOutage, 1},
			{"one success", true, tocsin.CheckDown, tocsin.StatusMajorOutage, 1},
			{"two successes: up, no new signal", true, tocsin.CheckUp, tocsin.StatusOperational, 1},
		} {
			t.Run(tc.name, func(t *testing.T) {
				r.record(r.result("", tc.ok))
				st := checkStatus(t, db, r.check.ID)
				if st.State != tc.state {
					t.Fatalf("check %s, want %s", st.State, tc.state)
				}
				if got := r.status(); got != tc.status {
					t.Fatalf("service %s, want %s", got, tc.status)
				}
				if n := len(r.signals()); n != tc.signals {
					t.Fatalf("%d signals, want %d", n, tc.signals)
				}
			})
		}
		sig := r.signals()[0]
		if sig.Source != tocsin.SourceCheck || sig.Subject != "Website: http https://www.example.org/ is down" {
			t.Errorf("signal %s %q", sig.Source, sig.Subject)
		}
		for _, want := range []string{"Check: http https://www.example.org/", "Down from: tocsin", "Consecutive failures: 3 (threshold 3)",
			"status 503", "after 2s", "Error: the server answered 503"} {
			if !strings.Contains(sig.Body, want) {
				t.Errorf("signal body lacks %q:\n%s", want, sig.Body)
			}
		}
		es, err := db.AuditEntries(ctx, tocsin.AuditFilter{Actor: "monitor", Limit: 100})
		if err != nil {
			t.Fatal(err)
		}
		var actions []string
		for _, e := range es {
			actions = append(actions, e.Action+" "+e.After)
		}
		got := strings.Join(actions, "; ")
		for _, want := range []string{"service.status status=major_outage", "service.status status=operational", "check.state state=down",
			"signal.create", "finding.open", "finding.close"} {
			if !strings.Contains(got, want) {
				t.Errorf("monitor's audit entries lack %q: %s", want, got)
			}
		}
		h, err := db.StatusHistory(ctx, r.check.CreatedAt)
		if err != nil {
			t.Fatal(err)
		}
		var moves []string
		for _, c := range h {
			if c.ServiceID == r.svc.ID {
				moves = append(moves, string(c.Status))
			}
		}
		if got := strings.Join(moves, " "); got != "operational major_outage operational" {
			t.Errorf("status history %s", got)
		}
		results, err := db.CheckResults(ctx, r.check.ID, time.Time{}, 0)
		if err != nil || len(results) != 8 || results[0].OK != true || results[3].StatusCode != 503 {
			t.Fatalf("CheckResults = %d results, %v", len(results), err)
		}
	})
}

func TestCheckPinnedStatus(t *testing.T) {
	forEachStore(t, func(t *testing.T, db *DB) {
		ctx := context.Background()
		r := newCheckRig(t, db, nil)
		r.record(r.result("", true), r.result("", true))
		e := audited(t, db, func() error {
			return db.SetServiceStatus(ctx, admin, r.svc.ID, tocsin.StatusOperational, time.Time{})
		})
		wantEntry(t, e, "service.pin", fmt.Sprintf("service:%d", r.svc.ID), "pinned=false", "pinned=true status=operational")
		if svc, _ := db.Service(ctx, r.svc.ID); !svc.StatusPinned {
			t.Fatal("a status set by hand is not pinned")
		}
		r.record(r.result("", false), r.result("", false), r.result("", false))
		if st := checkStatus(t, db, r.check.ID); st.State != tocsin.CheckDown {
			t.Fatalf("check %s, want down", st.State)
		}
		if got := r.status(); got != tocsin.StatusOperational {
			t.Fatalf("pinned service moved to %s", got)
		}
		if n := len(r.signals()); n != 1 {
			t.Errorf("%d signals; a pinned service's check still signals when down", n)
		}
		if err := db.UnpinServiceStatus(ctx, admin, r.svc.ID); err != nil {
			t.Fatal(err)
		}
		// The unpin's entry, then the monitor's status change.
		es, err := db.AuditEntries(ctx, tocsin.AuditFilter{Limit: 2})
		if err != nil || len(es) != 2 {
			t.Fatalf("AuditEntries: %v", err)
		}
		if got := fmt.Sprintf("%s by %s: %s; %s by %s: %s", es[1].Action, es[1].Actor, es[1].After, es[0].Action, es[0].Actor, es[0].After); got !=
			"service.unpin by admin@example.org: pinned=false; service.status by monitor: status=major_outage" {
			t.Fatalf("entries %s", got)
		}
		if svc, _ := db.Service(ctx, r.svc.ID); svc.StatusPinned || svc.Status != tocsin.StatusMajorOutage {
			t.Fatalf("after unpin %+v", svc)
		}
		if err := notAudited(t, db, func() error { return db.UnpinServiceStatus(ctx, admin, r.svc.ID) }); err != nil {
			t.Fatal(err)
		}
		// The monitor's own changes never pin.
		if err := db.SetServiceStatus(ctx, tocsin.System, r.svc.ID, tocsin.StatusDegraded, time.Time{}); err != nil {
			t.Fatal(err)
		}
		if svc, _ := db.Service(ctx, r.svc.ID); svc.StatusPinned {
			t.Fatal("the system's status change pinned the service")
		}
	})
}

func TestMaintenanceSilencesChecks(t *testing.T) {
	forEachStore(t, func(t *testing.T, db *DB) {
		ctx := context.Background()
		r := newCheckRig(t, db, nil)
		r.record(r.result("", true), r.result("", true))
		m := newMaintenance(t, db, "Upgrade", r.clock.Add(-time.Minute), r.clock.Add(time.Hour), r.svc.ID)
		if ok, err := db.StartMaintenance(ctx, tocsin.System, m.ID, r.clock, "Started.", nil); !ok || err != nil {
			t.Fatalf("StartMaintenance: %t %v", ok, err)
		}
		for range 5 {
			r.record(r.result("", false))
		}
		if got := r.status(); got != tocsin.StatusMaintenance {
			t.Fatalf("service %s under maintenance", got)
		}
		st := checkStatus(t, db, r.check.ID)
		if st.State != tocsin.CheckPending || st.LastResult == nil || st.LastResult.OK {
			t.Fatalf("silenced check %+v, want pending with its last result", st)
		}
		if n := len(r.signals()); n != 0 {
			t.Fatalf("%d signals under maintenance", n)
		}
		if n := count(t, db, `SELECT COUNT(*) FROM check_results WHERE check_id = ?`, r.check.ID); n != 7 {
			t.Fatalf("%d results stored, want 7", n)
		}
		if ok, err := db.CompleteMaintenance(ctx, tocsin.System, m.ID, r.clock, "Done.", nil); !ok || err != nil {
			t.Fatalf("CompleteMaintenance: %t %v", ok, err)
		}
		r.record(r.result("", false), r.result("", false), r.result("", false))
		if got, n := r.status(), len(r.signals()); got != tocsin.StatusMajorOutage || n != 1 {
			t.Fatalf("after the maintenance: service %s, %d signals; want major_outage, 1", got, n)
		}
	})
}

func TestCheckQuorum(t *testing.T) {
	forEachStore(t, func(t *testing.T, db *DB) {
		r := newCheckRig(t, db, func(c *tocsin.Check) { c.Quorum = 2; c.FailStatus = tocsin.StatusPartialOutage })
		round := func(a, b, c bool) {
			at := r.clock
			batch := []*tocsin.CheckResult{r.result("paris", a), r.result("berlin", b), r.result("oslo", c)}
			for i, res := range batch {
				res.StartedAt = at.Add(time.Duration(i) * time.Second)
			}
			r.clock = at.Add(time.Minute)
			r.record(batch...)
		}
		for _, tc := range []struct {
			name    string
			a, b, c bool
			state   tocsin.CheckState
			status  tocsin.ServiceStatus
		}{
			{"all up", true, true, true, tocsin.CheckPending, tocsin.StatusOperational},
			{"all up again", true, true, true, tocsin.CheckUp, tocsin.StatusOperational},
			{"paris fails", false, true, true, tocsin.CheckUp, tocsin.StatusOperational},
			{"paris fails twice", false, true, true, tocsin.CheckUp, tocsin.StatusOperational},
			{"paris is down alone: no outage", false, true, true, tocsin.CheckUp, tocsin.StatusOperational},
			{"berlin fails too", false, false, true, tocsin.CheckUp, tocsin.StatusOperational},
			{"berlin twice", false, false, true, tocsin.CheckUp, tocsin.StatusOperational},
			{"two of three down", false, false, true, tocsin.CheckDown, tocsin.StatusPartialOutage},
			{"berlin passes once", false, true, true, tocsin.CheckDown, tocsin.StatusPartialOutage},
			{"berlin is up: one down is under the quorum", false, true, true, tocsin.CheckUp, tocsin.StatusOperational},
		} {
			t.Run(tc.name, func(t *testing.T) {
				round(tc.a, tc.b, tc.c)
				if st := checkStatus(t, db, r.check.ID); st.State != tc.state {
					t.Fatalf("check %s (locations %v), want %s", st.State, st.Locations, tc.state)
				}
				if got := r.status(); got != tc.status {
					t.Fatalf("service %s, want %s", got, tc.status)
				}
			})
		}
		ss := r.signals()
		if len(ss) != 1 || !strings.Contains(ss[0].Body, "Down from: berlin, paris (quorum 2)") {
			t.Fatalf("signals %d, body:\n%s", len(ss), ss[0].Body)
		}
	})
}

func TestCheckFlappingDamped(t *testing.T) {
	forEachStore(t, func(t *testing.T, db *DB) {
		r := newCheckRig(t, db, func(c *tocsin.Check) { c.FailThreshold, c.PassThreshold = 1, 1 })
		r.record(r.result("", true))
		for i, ok := range []bool{false, true, false, true, false, true, false} {
			r.record(r.result("", ok))
			if i >= 3 && r.status() != tocsin.StatusMajorOutage {
				t.Fatalf("change %d: flapping service %s, want held at major_outage", i+1, r.status())
			}
		}
		st := checkStatus(t, db, r.check.ID)
		if !st.Flapping || st.State != tocsin.CheckDown {
			t.Fatalf("status %+v, want down and flapping", st)
		}
		if n := len(r.signals()); n != 2 {
			t.Fatalf("%d signals, want 2 (the changes to down before the flapping)", n)
		}
		r.record(r.result("", true))
		for range 31 {
			r.record(r.result("", true))
		}
		st = checkStatus(t, db, r.check.ID)
		if st.Flapping || st.State != tocsin.CheckUp || r.status() != tocsin.StatusOperational {
			t.Fatalf("after 30 quiet minutes: %+v, service %s", st, r.status())
		}
		if n := len(r.signals()); n != 2 {
			t.Fatalf("%d signals after the flapping, want still 2", n)
		}
	})
}

func TestCheckDownPages(t *testing.T) {
	for _, page := range []bool{true, false} {
		t.Run(fmt.Sprintf("page=%t", page), func(t *testing.T) {
			forEachStore(t, func(t *testing.T, db *DB) {
				ctx := context.Background()
				pagingSetup(t, db, 1)
				r := newCheckRig(t, db, func(c *tocsin.Check) { c.Page = page })
				r.record(r.result("", false), r.result("", false), r.result("", false))
				ss := r.signals()
				if len(ss) != 1 {
					t.Fatalf("%d signals, want 1", len(ss))
				}
				pages, err := db.Pages(ctx, tocsin.PageFilter{})
				if err != nil {
					t.Fatal(err)
				}
				if !page {
					if len(pages) != 0 || len(pageMessages(t, db)) != 0 {
						t.Fatalf("a check without page: true paged: %d pages", len(pages))
					}
					return
				}
				if len(pages) != 1 || pages[0].SignalID == nil || *pages[0].SignalID != ss[0].ID || pages[0].OpenedBy != "monitor" {
					t.Fatalf("pages %+v, want one for signal %d", pages, ss[0].ID)
				}
				// Whoever the rota has on call at the clock is paged.
				if got := pageMessages(t, db); len(got) == 0 || len(pages[0].Notifications) != 1 {
					t.Fatalf("page messages %v", got)
				}
			})
		})
	}
}

func TestCheckResultKeysStoredOnce(t *testing.T) {
	forEachStore(t, func(t *testing.T, db *DB) {
		ctx := context.Background()
		r := newCheckRig(t, db, func(c *tocsin.Check) { c.FailThreshold = 2 })
		a := r.result("oslo", false)
		a.Key = "oslo:1"
		again := *a
		r.record(a, &again)
		r.record(&again)
		if n := count(t, db, `SELECT COUNT(*) FROM check_results`); n != 1 {
			t.Fatalf("%d rows for one result sent three times", n)
		}
		if st := checkStatus(t, db, r.check.ID); st.State == tocsin.CheckDown || st.Fails != 1 {
			t.Fatalf("a resent failure counted twice: %+v", st)
		}
		b := r.result("oslo", false)
		b.Key = "oslo:2"
		local := r.result("", true) // no key: always stored
		r.record(b, local, local)
		if n := count(t, db, `SELECT COUNT(*) FROM check_results`); n != 4 {
			t.Fatalf("%d rows, want 4", n)
		}
		if st := checkStatus(t, db, r.check.ID); st.State != tocsin.CheckDown {
			t.Fatalf("two failures from oslo: %+v", st)
		}
		for _, tc := range []struct {
			name string
			res  *tocsin.CheckResult
		}{
			{"unknown check", &tocsin.CheckResult{CheckID: 999, StartedAt: r.clock}},
			{"no check", &tocsin.CheckResult{StartedAt: r.clock}},
			{"no start", &tocsin.CheckResult{CheckID: r.check.ID}},
			{"negative duration", &tocsin.CheckResult{CheckID: r.check.ID, StartedAt: r.clock, Duration: -time.Second}},
			{"location on two lines", &tocsin.CheckResult{CheckID: r.check.ID, StartedAt: r.clock, Location: "oslo\nparis"}},
			{"location too long", &tocsin.CheckResult{CheckID: r.check.ID, StartedAt: r.clock, Location: strings.Repeat("o", 101)}},
			{"key not UTF-8", &tocsin.CheckResult{CheckID: r.check.ID, StartedAt: r.clock, Key: "k\xff"}},
			{"nil", nil},
		} {
			t.Run(tc.name, func(t *testing.T) {
				wantCode(t, db.RecordCheckResults(ctx, []*tocsin.CheckResult{r.result("", true), tc.res}), tocsin.EINVALID)
				if n := count(t, db, `SELECT COUNT(*) FROM check_results`); n != 4 {
					t.Fatalf("%d rows after a refused batch", n)
				}
			})
		}
	})
}

func TestPausedCheckMovesNothing(t *testing.T) {
	forEachStore(t, func(t *testing.T, db *DB) {
		r := newCheckRig(t, db, func(c *tocsin.Check) { c.Paused = true; c.FailThreshold = 1 })
		r.record(r.result("", false), r.result("", false))
		if st := checkStatus(t, db, r.check.ID); st.State != tocsin.CheckPaused || r.status() != tocsin.StatusOperational {
			t.Fatalf("paused check %+v, service %s", st, r.status())
		}
		if n := count(t, db, `SELECT COUNT(*) FROM check_results`); n != 2 {
			t.Fatalf("%d results stored, want 2", n)
		}
	})
}

// BenchmarkRecordCheckResults stores batches of 200 results, one per
// check, as the scheduler sends them: a few failing, a third with a TLS
// observation.
func BenchmarkRecordCheckResults(b *testing.B) {
	run := func(b *testing.B, database string) {
		ctx := context.Background()
		db, err := Open(ctx, database, "")
		if err != nil {
			b.Fatal(err)
		}
		defer db.Close()
		if _, err := db.Migrate(ctx); err != nil {
			b.Fatal(err)
		}
		svc := &tocsin.Service{Name: "Bench"}
		if err := db.CreateService(ctx, tocsin.System, svc); err != nil {
			b.Fatal(err)
		}
		const n = 200
		var ids []int64
		for i := range n {
			c := httpCheck(svc.ID, fmt.Sprintf("https://h%d.example.org/", i))
			if err := db.CreateCheck(ctx, tocsin.System, c); err != nil {
				b.Fatal(err)
			}
			ids = append(ids, c.ID)
		}
		t0 := time.Now().UTC().Add(-time.Hour)
		b.ResetTimer()
		for round := range b.N {
			batch := make([]*tocsin.CheckResult, n)
			for i, id := range ids {
				r := &tocsin.CheckResult{CheckID: id, StartedAt: t0.Add(time.Duration(round) * time.Second), Duration: 80 * time.Millisecond,
					OK: (i+round)%50 != 0, StatusCode: 200}
				if i%3 == 0 {
					r.TLS = &tocsin.TLSObservation{Serial: fmt.Sprintf("%x", i), SPKISHA256: fmt.Sprintf("%064x", i),
						NotAfter: t0.Add(90 * 24 * time.Hour), Version: "TLS 1.3"}
				}
				batch[i] = r
			}
			if err := db.RecordCheckResults(ctx, batch); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.Run("sqlite", func(b *testing.B) { run(b, "sqlite:"+filepath.Join(b.TempDir(), "bench.db")) })
	b.Run("postgres", func(b *testing.B) { run(b, testpeer.PostgresSchema(b)) })
}

// A server's garbage in an error (a NUL, escape sequences, bytes that are
// not UTF-8) is stored and signalled as plain text in both databases.
func TestCheckResultErrorTextMadePlain(t *testing.T) {
	forEachStore(t, func(t *testing.T, db *DB) {
		ctx := context.Background()
		r := newCheckRig(t, db, func(c *tocsin.Check) { c.FailThreshold = 1 })
		res := r.result("", false)
		res.Error = "banner \x00\x1b[31mHELLO\xff\xfe\r\nsecond line"
		r.record(res)
		got, err := db.CheckResults(ctx, r.check.ID, time.Time{}, 1)
		if err != nil || len(got) != 1 {
			t.Fatalf("CheckResults %v %v", got, err)
		}
		if want := "banner   [31mHELLO\uFFFD \nsecond line"; got[0].Error != want {
			t.Errorf("stored error %q, want %q", got[0].Error, want)
		}
		if res.Error != "banner \x00\x1b[31mHELLO\xff\xfe\r\nsecond line" {
			t.Errorf("the caller's result was changed")
		}
		ss := r.signals()
		if len(ss) != 1 || !strings.Contains(ss[0].Body, "HELLO\uFFFD") {
			t.Fatalf("signals %v", ss)
		}
	})
}

// Pausing or deleting a down check gives its service back the status its
// other checks give it.
func TestCheckPausedOrDeletedReleasesService(t *testing.T) {
	forEachStore(t, func(t *testing.T, db *DB) {
		ctx := context.Background()
		r := newCheckRig(t, db, func(c *tocsin.Check) { c.FailThreshold = 1 })
		other := newCheck(t, db, func() *tocsin.Check {
			c := httpCheck(r.svc.ID, "https://api.example.org/")
			c.FailThreshold, c.FailStatus = 1, tocsin.StatusDegraded
			return c
		}())
		fail := func(id int64) *tocsin.CheckResult {
			res := r.result("", false)
			res.CheckID = id
			return res
		}
		r.record(fail(r.check.ID), fail(other.ID))
		if got := r.status(); got != tocsin.StatusMajorOutage {
			t.Fatalf("two checks down: %s", got)
		}
		paused := *r.check
		paused.Paused = true
		if err := db.UpdateCheck(ctx, admin, &paused); err != nil {
			t.Fatal(err)
		}
		if got, st := r.status(), checkStatus(t, db, r.check.ID); got != tocsin.StatusDegraded || st.State != tocsin.CheckPaused {
			t.Fatalf("after pausing the worse check: service %s, check %s", got, st.State)
		}
		if err := db.DeleteCheck(ctx, admin, other.ID); err != nil {
			t.Fatal(err)
		}
		if got := r.status(); got != tocsin.StatusOperational {
			t.Fatalf("after deleting the other: service %s", got)
		}
	})
}

// Batches from two places at once (the scheduler, an agent) lose no
// result's count.
func TestCheckResultsConcurrentBatches(t *testing.T) {
	forEachStore(t, func(t *testing.T, db *DB) {
		ctx := context.Background()
		r := newCheckRig(t, db, func(c *tocsin.Check) { c.FailThreshold = 100 })
		t0 := r.clock
		const n = 15
		errs := make(chan error, 2)
		for _, loc := range []string{"a", "b"} {
			go func() {
				for i := range n {
					res := &tocsin.CheckResult{CheckID: r.check.ID, Location: loc, StartedAt: t0.Add(time.Duration(i) * time.Second)}
					if err := db.RecordCheckResults(ctx, []*tocsin.CheckResult{res}); err != nil {
						errs <- err
						return
					}
				}
				errs <- nil
			}()
		}
		for range 2 {
			if err := <-errs; err != nil {
				t.Fatal(err)
			}
		}
		st := checkStatus(t, db, r.check.ID)
		if st.Locations["a"] == nil || st.Locations["b"] == nil || st.Locations["a"].Fails != n || st.Locations["b"].Fails != n {
			t.Fatalf("locations %+v %+v, want %d failures each", st.Locations["a"], st.Locations["b"], n)
		}
	})
}
