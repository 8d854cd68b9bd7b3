package sqlstore

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tocsin-org/tocsin"
)

func TestAuditEntries(t *testing.T) {
	forEachStore(t, func(t *testing.T, db *DB) {
		ctx := context.Background()
		t0 := now()
		ci := tocsin.Actor{TokenID: 4, Label: "token:ci_bot", IP: "10.0.0.1"}
		for _, x := range []struct {
			a              tocsin.Actor
			action, target string
		}{
			{admin, "export.site", "site"},
			{ci, "user.create", "user:7"},
			{admin, "user.roles", "user:7"},
			{tocsin.CLI, "audit.verify", ""},
			{ci, "token.create", "token:1"},
		} {
			if err := db.AppendAudit(ctx, x.a, x.action, x.target, "b", "a"); err != nil {
				t.Fatal(err)
			}
		}
		wantCode(t, db.AppendAudit(ctx, admin, " ", "", "", ""), tocsin.EINVALID)

		for _, tc := range []struct {
			name string
			f    tocsin.AuditFilter
			want []int64 // seqs, newest first
		}{
			{"all", tocsin.AuditFilter{}, []int64{5, 4, 3, 2, 1}},
			{"limit offset", tocsin.AuditFilter{Limit: 2, Offset: 1}, []int64{4, 3}},
			{"actor substring, any case", tocsin.AuditFilter{Actor: "CI_"}, []int64{5, 2}},
			{"actor wildcard is literal", tocsin.AuditFilter{Actor: "%"}, nil},
			{"actor underscore is literal", tocsin.AuditFilter{Actor: "i_b"}, []int64{5, 2}},
			{"action prefix", tocsin.AuditFilter{Action: "user."}, []int64{3, 2}},
			{"action exact", tocsin.AuditFilter{Action: "token.create"}, []int64{5}},
			{"target", tocsin.AuditFilter{Target: "user:7"}, []int64{3, 2}},
			{"since", tocsin.AuditFilter{Since: t0.Add(-time.Minute)}, []int64{5, 4, 3, 2, 1}},
			{"until", tocsin.AuditFilter{Until: t0.Add(-time.Minute)}, nil},
			{"combined", tocsin.AuditFilter{Actor: "token:", Action: "user", Target: "user:7"}, []int64{2}},
		} {
			t.Run(tc.name, func(t *testing.T) {
				es, err := db.AuditEntries(ctx, tc.f)
				if err != nil {
					t.Fatal(err)
				}
				var got []int64
				for _, e := range es {
					got = append(got, e.Seq)
				}
				if fmt.Sprint(got) != fmt.Sprint(tc.want) {
					t.Errorf("seqs = %v, want %v", got, tc.want)
				}
			})
		}
		es, _ := db.AuditEntries(ctx, tocsin.AuditFilter{Limit: 1})
		e := es[0]
		if e.Actor != "token:ci_bot" || e.IP != "10.0.0.1" || e.Before != "b" || e.After != "a" || e.PrevHash == "" || e.At.Location() != time.UTC {
			t.Errorf("entry = %+v", e)
		}
	})
}

func TestVerifyAuditDetectsTampering(t *testing.T) {
	forEachStore(t, func(t *testing.T, db *DB) {
		ctx := context.Background()
		if n, brk, err := db.VerifyAudit(ctx); n != 0 || brk != nil || err != nil {
			t.Fatalf("empty chain: %d %v %v", n, brk, err)
		}
		for i := range 5 {
			if err := db.AppendAudit(ctx, admin, "test.append", fmt.Sprintf("thing:%d", i), "", fmt.Sprintf("n=%d", i)); err != nil {
				t.Fatal(err)
			}
		}
		if n, brk, err := db.VerifyAudit(ctx); n != 5 || brk != nil || err != nil {
			t.Fatalf("intact chain: %d %v %v", n, brk, err)
		}

		raw(t, db, `UPDATE audit_log SET after = ? WHERE seq = ?`, "n=999", 3)
		n, brk, err := db.VerifyAudit(ctx)
		if err != nil || n != 5 || brk == nil || brk.Seq != 3 || !strings.Contains(brk.Reason, "altered") {
			t.Fatalf("after editing entry 3: %d %v %v", n, brk, err)
		}
		raw(t, db, `UPDATE audit_log SET after = ? WHERE seq = ?`, "n=2", 3)
		if _, brk, _ := db.VerifyAudit(ctx); brk != nil {
			t.Fatalf("restored chain still broken: %v", brk)
		}

		raw(t, db, `DELETE FROM audit_log WHERE seq = ?`, 2)
		n, brk, err = db.VerifyAudit(ctx)
		if err != nil || n != 4 || brk == nil || brk.Seq != 2 || !strings.Contains(brk.Reason, "missing") {
			t.Fatalf("after deleting entry 2: %d %v %v", n, brk, err)
		}
	})
}

func TestAuditConcurrentAppends(t *testing.T) {
	forEachStore(t, func(t *testing.T, db *DB) {
		ctx := context.Background()
		const workers, each = 8, 15
		var wg sync.WaitGroup
		errs := make(chan error, workers*each+each)
		for w := range workers {
			wg.Go(func() {
				for i := range each {
					errs <- db.AppendAudit(ctx, admin, "test.concurrent", fmt.Sprintf("w%d:%d", w, i), "", "")
				}
			})
		}
		// Mutations of other kinds append to the same chain at the same time.
		wg.Go(func() {
			for i := range each {
				u := &tocsin.User{Email: fmt.Sprintf("c%d@example.org", i), Roles: tocsin.Roles{tocsin.RoleViewer}}
				errs <- db.CreateUser(ctx, admin, u)
			}
		})
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Fatal(err)
			}
		}
		n, brk, err := db.VerifyAudit(ctx)
		if err != nil || brk != nil || n != workers*each+each {
			t.Fatalf("VerifyAudit = %d, %v, %v; want %d entries intact", n, brk, err, workers*each+each)
		}
	})
}

func TestAuditRolledBackMutationLeavesNoGap(t *testing.T) {
	forEachStore(t, func(t *testing.T, db *DB) {
		ctx := context.Background()
		newUser(t, db, "g@example.org")
		// This fails after its audit entry would have been written.
		err := db.update(ctx, func(tx conn) error {
			if err := tx.audit(ctx, admin, "test.doomed", "", "", ""); err != nil {
				return err
			}
			return fmt.Errorf("give up")
		})
		if err == nil {
			t.Fatal("update succeeded")
		}
		newUser(t, db, "h@example.org")
		if n, brk, err := db.VerifyAudit(ctx); n != 2 || brk != nil || err != nil {
			t.Fatalf("VerifyAudit = %d %v %v", n, brk, err)
		}
	})
}
