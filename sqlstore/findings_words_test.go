package sqlstore

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/tocsin-org/tocsin"
	"github.com/tocsin-org/tocsin/i18n"
)

// A finding's words (i18n key and args) are kept with it, updated with its
// detail, and read back; rows from before they were kept read back with
// none, so that the console shows their English detail.
func TestFindingWordsRoundTrip(t *testing.T) {
	forEachStore(t, func(t *testing.T, db *DB) {
		ctx := context.Background()
		pagingSetup(t, db, 1)
		r := newCheckRig(t, db, func(c *tocsin.Check) {
			*c = tocsin.Check{ServiceID: c.ServiceID, Kind: tocsin.CheckTLS, Interval: time.Hour, FailThreshold: 1, PassThreshold: 1,
				Spec: tocsin.CheckSpec{Address: "www.example.org:443"}}
			c.ApplyDefaults(tocsin.CheckDefaults{})
		})
		start := r.clock
		cert := func(serial string, notAfter time.Time) *tocsin.CheckResult {
			res := r.result("", true)
			res.TLS = &tocsin.TLSObservation{Serial: serial, SPKISHA256: "aa", NotBefore: start.Add(-24 * time.Hour), NotAfter: notAfter,
				Version: "TLS 1.3", OldVersions: []string{"TLS 1.0", "TLS 1.1"}, Scanned: true}
			return res
		}
		rfc := func(t time.Time) string { return t.UTC().Format(time.RFC3339) }
		utc := func(t time.Time) string { return t.UTC().Format("2006-01-02 15:04 MST") }
		byKind := func() map[tocsin.FindingKind]*tocsin.Finding {
			t.Helper()
			fs, err := db.Findings(ctx, tocsin.FindingFilter{Open: yes()})
			if err != nil {
				t.Fatal(err)
			}
			out := map[tocsin.FindingKind]*tocsin.Finding{}
			for _, f := range fs {
				out[f.Kind] = f
				if en := i18n.T("en", f.Words, f.WordArgs(utc)...); f.Words == "" || en != f.Detail {
					t.Errorf("%s: words %q %q say %q, the detail %q", f.Kind, f.Words, f.Args, en, f.Detail)
				}
			}
			return out
		}
		first := start.Add(20*24*time.Hour + time.Hour)
		r.record(cert("01", first))
		got := byKind()
		if f := got[tocsin.FindingTLSProtocolWeak]; f == nil || f.Words != "findings.detail.tls_protocol_weak_two" ||
			!slices.Equal(f.Args, []string{"www.example.org:443", "TLS 1.0", "TLS 1.1"}) {
			t.Fatalf("tls_protocol_weak read back as %+v", f)
		}
		if f := got[tocsin.FindingCertExpiring]; f == nil || f.Words != "findings.detail.cert_expiring_days" ||
			!slices.Equal(f.Args, []string{"www.example.org:443", "20", "30", rfc(first)}) {
			t.Fatalf("cert_expiring read back as %+v", f)
		}
		// The same tier, another date: the open finding's words follow.
		second := first.Add(-3 * time.Hour)
		r.record(cert("01", second))
		if f := byKind()[tocsin.FindingCertExpiring]; f == nil || !slices.Equal(f.Args, []string{"www.example.org:443", "19", "30", rfc(second)}) {
			t.Fatalf("cert_expiring after an update: %+v", f)
		}
		// Renewed with the same key: the store's own words.
		r.record(cert("02", start.Add(90*24*time.Hour)))
		if f := byKind()[tocsin.FindingTLSKeyReused]; f == nil || f.Words != "findings.detail.tls_key_reused" ||
			!slices.Equal(f.Args, []string{"www.example.org:443", "01", "02", rfc(start)}) {
			t.Fatalf("tls_key_reused read back as %+v", f)
		}
		// Down: check_failing says since when, and the prober's error.
		r.record(r.result("", false))
		f := byKind()[tocsin.FindingCheckFailing]
		if f == nil || f.Words != "findings.detail.check_failing_since_error" || len(f.Args) != 4 ||
			f.Args[3] != "the server answered 503 Service Unavailable" {
			t.Fatalf("check_failing read back as %+v", f)
		}
		if _, err := time.Parse(time.RFC3339, f.Args[2]); err != nil {
			t.Errorf("down since %q: %v", f.Args[2], err)
		}

		// A row from before migration 0017 has no words.
		if _, err := (conn{q: db.w, dialect: db.dialect}).exec(ctx, `UPDATE findings SET words = '' WHERE id = ?`, f.ID); err != nil {
			t.Fatal(err)
		}
		old, err := db.Findings(ctx, tocsin.FindingFilter{Kind: tocsin.FindingCheckFailing})
		if err != nil || len(old) != 1 || old[0].Words != "" || old[0].Args != nil || old[0].Detail != f.Detail {
			t.Fatalf("old row read back as %+v, %v", old, err)
		}
	})
}
