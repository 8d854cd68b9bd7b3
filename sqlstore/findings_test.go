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

func findingList(t *testing.T, db *DB, f tocsin.FindingFilter) []string {
	t.Helper()
	fs, err := db.Findings(context.Background(), f)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, x := range fs {
		state := "open"
		if x.ClosedAt != nil {
			state = "closed"
		}
		out = append(out, fmt.Sprintf("%s %s", x.Kind, state))
	}
	return out
}

func yes() *bool { b := true; return &b }
func no() *bool  { b := false; return &b }

func TestBucketFindings(t *testing.T) {
	forEachStore(t, func(t *testing.T, db *DB) {
		ctx := context.Background()
		pagingSetup(t, db, 1)
		r := newCheckRig(t, db, func(c *tocsin.Check) {
			*c = tocsin.Check{ServiceID: c.ServiceID, Kind: tocsin.CheckBucket, Interval: 5 * time.Minute, Page: true, Severity: "SEV1",
				Spec: tocsin.CheckSpec{URL: "https://s3.example.org/media", Aliases: []string{"https://media.example.org"}}}
			c.ApplyDefaults(tocsin.CheckDefaults{})
		})
		bucket := func(ok bool, listable ...string) *tocsin.CheckResult {
			res := r.result("", ok)
			if ok {
				res.Bucket = &tocsin.BucketObservation{Listable: listable, Probed: []tocsin.BucketProbe{{URL: "https://s3.example.org/media", Style: "path", Status: 403, Answer: "denied (AccessDenied)"}}}
			}
			return res
		}
		for _, tc := range []struct {
			name     string
			res      *tocsin.CheckResult
			findings []string
			signals  int
			pages    int
		}{
			{"private", bucket(true), nil, 0, 0},
			{"listable: a finding, a signal, a page", bucket(true, "https://s3.example.org/media"), []string{"bucket_listable open"}, 1, 1},
			{"still listable, through the alias too: no second", bucket(true, "https://s3.example.org/media", "https://media.example.org"),
				[]string{"bucket_listable open"}, 1, 1},
			{"the probe failed: nothing judged", bucket(false), []string{"bucket_listable open"}, 1, 1},
			{"fixed: closed", bucket(true), []string{"bucket_listable closed"}, 1, 1},
			{"listable again: a new finding", bucket(true, "https://media.example.org"), []string{"bucket_listable open", "bucket_listable closed"}, 2, 2},
		} {
			t.Run(tc.name, func(t *testing.T) {
				r.record(tc.res)
				if got := findingList(t, db, tocsin.FindingFilter{Kind: tocsin.FindingBucketListable}); !slices.Equal(got, tc.findings) {
					t.Fatalf("findings %v, want %v", got, tc.findings)
				}
				if n := len(r.signals()); n != tc.signals {
					t.Fatalf("%d signals, want %d", n, tc.signals)
				}
				pages, err := db.Pages(ctx, tocsin.PageFilter{})
				if err != nil || len(pages) != tc.pages {
					t.Fatalf("%d pages (%v), want %d", len(pages), err, tc.pages)
				}
			})
		}
		open, err := db.Findings(ctx, tocsin.FindingFilter{Open: yes(), CheckID: r.check.ID})
		if err != nil || len(open) != 1 {
			t.Fatalf("open findings %v %v", open, err)
		}
		f := open[0]
		if f.Severity != "SEV1" || f.ServiceID != r.svc.ID || f.SignalID == nil || !strings.Contains(f.Detail, "anyone can list the bucket at https://media.example.org") {
			t.Errorf("finding %+v", f)
		}
		sig, err := db.Signal(ctx, *f.SignalID)
		if err != nil || sig.Subject != "Website: bucket listable by anyone (bucket https://s3.example.org/media)" {
			t.Errorf("signal %+v %v", sig, err)
		}
		if got := findingList(t, db, tocsin.FindingFilter{Open: no()}); !slices.Equal(got, []string{"bucket_listable closed"}) {
			t.Errorf("closed findings %v", got)
		}
		if got := findingList(t, db, tocsin.FindingFilter{CheckID: 999}); len(got) != 0 {
			t.Errorf("findings of another check %v", got)
		}
	})
}

func TestTLSFindings(t *testing.T) {
	forEachStore(t, func(t *testing.T, db *DB) {
		ctx := context.Background()
		pagingSetup(t, db, 1)
		r := newCheckRig(t, db, func(c *tocsin.Check) {
			*c = tocsin.Check{ServiceID: c.ServiceID, Kind: tocsin.CheckTLS, Interval: time.Hour, Page: true, Spec: tocsin.CheckSpec{Address: "www.example.org:443"}}
			c.ApplyDefaults(tocsin.CheckDefaults{})
		})
		cert := func(serial, spki string, days int, old ...string) *tocsin.CheckResult {
			res := r.result("", true)
			res.TLS = &tocsin.TLSObservation{Serial: serial, SPKISHA256: spki, NotBefore: r.clock.Add(-24 * time.Hour),
				NotAfter: r.clock.Add(time.Duration(days) * 24 * time.Hour), Version: "TLS 1.3", OldVersions: old, Scanned: true}
			return res
		}
		start := r.clock
		for _, tc := range []struct {
			name     string
			res      *tocsin.CheckResult
			findings []string // open ones, newest first
			signals  int
		}{
			{"first certificate", cert("01", "aa", 80), nil, 0},
			{"seen again", cert("01", "aa", 80), nil, 0},
			{"expiring and TLS 1.0", cert("01", "aa", 10, "TLS 1.0"), []string{"tls_protocol_weak open", "cert_expiring open"}, 2},
			{"six days left: the 7-day tier is news", cert("01", "aa", 6, "TLS 1.0"), []string{"cert_expiring open", "tls_protocol_weak open"}, 3},
			{"five days left: the same tier", cert("01", "aa", 5, "TLS 1.0"), []string{"cert_expiring open", "tls_protocol_weak open"}, 3},
			{"renewed with the same key", cert("02", "aa", 90, "TLS 1.0"), []string{"tls_key_reused open", "tls_protocol_weak open"}, 4},
			{"the same again", cert("02", "aa", 90, "TLS 1.0"), []string{"tls_key_reused open", "tls_protocol_weak open"}, 4},
			{"a new key: rotation confirmed", cert("03", "bb", 90), nil, 4},
		} {
			t.Run(tc.name, func(t *testing.T) {
				r.record(tc.res)
				if got := findingList(t, db, tocsin.FindingFilter{Open: yes()}); !slices.Equal(got, tc.findings) {
					t.Fatalf("open findings %v, want %v", got, tc.findings)
				}
				if n := len(r.signals()); n != tc.signals {
					t.Fatalf("%d signals, want %d", n, tc.signals)
				}
			})
		}
		if pages, _ := db.Pages(ctx, tocsin.PageFilter{}); len(pages) != 0 {
			t.Errorf("%d pages: only a listable bucket's finding pages", len(pages))
		}
		reused, err := db.Findings(ctx, tocsin.FindingFilter{Kind: tocsin.FindingTLSKeyReused})
		if err != nil || len(reused) != 1 || reused[0].ClosedAt == nil {
			t.Fatalf("tls_key_reused %v %v", reused, err)
		}
		want := "www.example.org:443: certificate renewed (serial 01 → 02) but the public key is the same, first seen on " +
			start.UTC().Format("2006-01-02 15:04 MST")
		if reused[0].Detail != want {
			t.Errorf("detail %q\nwant   %q", reused[0].Detail, want)
		}

		keys, err := db.TLSKeys(ctx, r.check.ID)
		if err != nil || len(keys) != 2 {
			t.Fatalf("TLSKeys = %v, %v", keys, err)
		}
		rotated := start.Add(7 * time.Minute)
		if k := keys[0]; k.SPKISHA256 != "bb" || k.Serial != "03" || !k.FirstSeen.Equal(rotated) || !k.LastSeen.Equal(rotated) {
			t.Errorf("current key %+v, want bb first seen at %v", k, rotated)
		}
		if k := keys[1]; k.SPKISHA256 != "aa" || k.Serial != "02" || !k.FirstSeen.Equal(start) || !k.LastSeen.Equal(start.Add(6*time.Minute)) {
			t.Errorf("old key %+v", k)
		}
		if at, changed := tocsin.KeyChangedAt(keys); !at.Equal(rotated) || !changed {
			t.Errorf("KeyChangedAt = %v %t", at, changed)
		}
		if n := count(t, db, `SELECT COUNT(*) FROM tls_certs`); n != 3 {
			t.Errorf("%d certificates recorded, want 3", n)
		}
	})
}

func TestStaleTLSKeys(t *testing.T) {
	forEachStore(t, func(t *testing.T, db *DB) {
		ctx := context.Background()
		r := newCheckRig(t, db, nil)
		rotated := newCheck(t, db, httpCheck(r.svc.ID, "https://rotated.example.org/"))
		never := newCheck(t, db, httpCheck(r.svc.ID, "https://never.example.org/"))
		newCheck(t, db, httpCheck(r.svc.ID, "http://plain.example.org/")) // no certificate
		obs := func(id int64, serial, spki string) *tocsin.CheckResult {
			res := r.result("", true)
			res.CheckID = id
			res.TLS = &tocsin.TLSObservation{Serial: serial, SPKISHA256: spki, NotAfter: r.clock.Add(90 * 24 * time.Hour)}
			return res
		}
		t0 := r.clock
		r.record(obs(rotated.ID, "01", "old-r"), obs(never.ID, "01", "old-n"))
		r.clock = t0.Add(48 * time.Hour)
		t1 := r.clock
		r.record(obs(rotated.ID, "02", "new-r"), obs(never.ID, "02", "old-n"))
		for _, tc := range []struct {
			name   string
			before time.Time
			want   []string
		}{
			{"keys older than the rotation", t1, []string{fmt.Sprintf("%d old-n 02", never.ID)}},
			{"every key", t1.Add(time.Hour), []string{fmt.Sprintf("%d new-r 02", rotated.ID), fmt.Sprintf("%d old-n 02", never.ID)}},
			{"none", t0, nil},
		} {
			t.Run(tc.name, func(t *testing.T) {
				keys, err := db.StaleTLSKeys(ctx, tc.before)
				if err != nil {
					t.Fatal(err)
				}
				var got []string
				for _, k := range keys {
					got = append(got, fmt.Sprintf("%d %s %s", k.CheckID, k.SPKISHA256, k.Serial))
				}
				if !slices.Equal(got, tc.want) {
					t.Fatalf("StaleTLSKeys = %v, want %v", got, tc.want)
				}
			})
		}
	})
}

func TestCheckFailingFinding(t *testing.T) {
	forEachStore(t, func(t *testing.T, db *DB) {
		r := newCheckRig(t, db, func(c *tocsin.Check) { c.FailThreshold, c.PassThreshold = 2, 1 })
		for _, tc := range []struct {
			ok   bool
			want []string
		}{
			{false, nil},
			{false, []string{"check_failing open"}},
			{false, []string{"check_failing open"}},
			{true, []string{"check_failing closed"}},
		} {
			r.record(r.result("", tc.ok))
			if got := findingList(t, db, tocsin.FindingFilter{}); !slices.Equal(got, tc.want) {
				t.Fatalf("findings %v, want %v", got, tc.want)
			}
		}
		if n := len(r.signals()); n != 1 {
			t.Errorf("%d signals: check_failing opens none of its own", n)
		}
	})
}
