package tocsin

import (
	"slices"
	"strings"
	"testing"
	"time"
)

func TestCheckFindingsTLS(t *testing.T) {
	now := time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC)
	tlsKinds := []FindingKind{FindingCertExpiring, FindingCertInvalid, FindingTLSProtocolWeak, FindingTLSCipherWeak}
	certKinds := []FindingKind{FindingCertExpiring, FindingCertInvalid}
	// valid is what a tls check sees of a sound endpoint: a certificate
	// with days left, verified, and a scan that found nothing.
	valid := func(left time.Duration) *TLSObservation {
		return &TLSObservation{SPKISHA256: strings.Repeat("ab", 32), Serial: "1f", Subject: "www.example.org", Issuer: "Test CA",
			NotBefore: now.AddDate(0, 0, -60), NotAfter: now.Add(left), Version: "TLS 1.3", Cipher: "TLS_AES_128_GCM_SHA256", Scanned: true}
	}
	day := 24 * time.Hour

	type want struct {
		kind   FindingKind
		detail []string // substrings of its detail
		tier   int      // TierOf, for cert_expiring
	}
	for _, tc := range []struct {
		name   string
		kind   CheckKind
		tiers  []int
		obs    func() *TLSObservation
		want   []want
		judged []FindingKind
	}{
		{name: "no certificate seen: nothing judged", obs: func() *TLSObservation { return nil }},
		{name: "90 days left: nothing found", obs: func() *TLSObservation { return valid(90 * day) }, judged: tlsKinds},
		{name: "30 days and an hour left: not yet", obs: func() *TLSObservation { return valid(30*day + time.Hour) }, judged: tlsKinds},
		{name: "20 days left: the 30-day tier", obs: func() *TLSObservation { return valid(20*day + time.Hour) }, judged: tlsKinds,
			want: []want{{FindingCertExpiring, []string{"www.example.org:443: the certificate expires in 20 days (under 30), on 2026-12-14 13:00 UTC"}, 30}}},
		{name: "10 days left: the 14-day tier", obs: func() *TLSObservation { return valid(10*day + time.Hour) }, judged: tlsKinds,
			want: []want{{FindingCertExpiring, []string{"in 10 days (under 14)"}, 14}}},
		{name: "5 days left: the 7-day tier", obs: func() *TLSObservation { return valid(5*day + time.Hour) }, judged: tlsKinds,
			want: []want{{FindingCertExpiring, []string{"in 5 days (under 7)"}, 7}}},
		{name: "1 day left", obs: func() *TLSObservation { return valid(day + time.Hour) }, judged: tlsKinds,
			want: []want{{FindingCertExpiring, []string{"in 1 day (under 7)"}, 7}}},
		{name: "hours left: the 1-day tier", obs: func() *TLSObservation { return valid(5 * time.Hour) }, judged: tlsKinds,
			want: []want{{FindingCertExpiring, []string{"in less than a day (under 1)"}, 1}}},
		{name: "own tiers, in any order", tiers: []int{10, 60}, obs: func() *TLSObservation { return valid(20*day + time.Hour) }, judged: tlsKinds,
			want: []want{{FindingCertExpiring, []string{"in 20 days (under 60)"}, 60}}},
		{name: "expired, told by the probe", obs: func() *TLSObservation {
			o := valid(-3 * day)
			o.VerifyError = "the certificate expired on 2026-11-21 (3 days ago)"
			return o
		}, judged: tlsKinds, want: []want{{FindingCertInvalid, []string{"www.example.org:443: the certificate expired on 2026-11-21 (3 days ago)"}, 0}}},
		{name: "expired, not told by the probe", obs: func() *TLSObservation { return valid(-time.Hour) }, judged: tlsKinds,
			want: []want{{FindingCertInvalid, []string{"the certificate expired on 2026-11-24 11:00 UTC"}, 0}}},
		{name: "for another name, and expiring", obs: func() *TLSObservation {
			o := valid(5*day + time.Hour)
			o.VerifyError = "the certificate is for mail.example.org, not www.example.org"
			return o
		}, judged: tlsKinds, want: []want{
			{FindingCertInvalid, []string{"is for mail.example.org, not www.example.org"}, 0},
			{FindingCertExpiring, []string{"in 5 days"}, 7}}},
		{name: "old protocols", obs: func() *TLSObservation {
			o := valid(90 * day)
			o.OldVersions = []string{"TLS 1.0", "TLS 1.1"}
			return o
		}, judged: tlsKinds, want: []want{{FindingTLSProtocolWeak, []string{"www.example.org:443 accepts TLS 1.0 and TLS 1.1"}, 0}}},
		{name: "weak suites", obs: func() *TLSObservation {
			o := valid(90 * day)
			o.WeakCiphers = []string{"TLS_RSA_WITH_3DES_EDE_CBC_SHA", "TLS_RSA_WITH_RC4_128_SHA"}
			return o
		}, judged: tlsKinds, want: []want{{FindingTLSCipherWeak, []string{"accepts weak cipher suites: TLS_RSA_WITH_3DES_EDE_CBC_SHA, TLS_RSA_WITH_RC4_128_SHA"}, 0}}},
		{name: "https: no scan, protocols and suites not judged", kind: CheckHTTP, obs: func() *TLSObservation {
			o := valid(90 * day)
			o.Scanned = false
			return o
		}, judged: certKinds},
		{name: "a scan cut short still reports what it found", obs: func() *TLSObservation {
			o := valid(90 * day)
			o.Scanned, o.OldVersions = false, []string{"TLS 1.0"}
			return o
		}, judged: append(slices.Clone(certKinds), FindingTLSProtocolWeak),
			want: []want{{FindingTLSProtocolWeak, []string{"accepts TLS 1.0"}, 0}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := &Check{ID: 7, ServiceID: 3, Kind: CheckTLS, Severity: "SEV2", Spec: CheckSpec{Address: "www.example.org:443", ExpiryTiers: tc.tiers}}
			if tc.kind == CheckHTTP {
				c.Kind, c.Spec = CheckHTTP, CheckSpec{URL: "https://www.example.org:443", ExpiryTiers: tc.tiers}
			}
			o := tc.obs()
			found, judged := c.Findings(&CheckResult{CheckID: 7, TLS: o}, now)
			slices.Sort(judged)
			wantJudged := slices.Clone(tc.judged)
			slices.Sort(wantJudged)
			if !slices.Equal(judged, wantJudged) {
				t.Errorf("judged %v, want %v", judged, wantJudged)
			}
			if len(found) != len(tc.want) {
				t.Fatalf("found %d findings, want %d: %+v", len(found), len(tc.want), found)
			}
			for i, w := range tc.want {
				f := found[i]
				if f.Kind != w.kind || f.CheckID != 7 || f.ServiceID != 3 || f.Severity != "SEV2" {
					t.Errorf("finding %d: %+v, want kind %s of check 7, service 3, SEV2", i, f, w.kind)
				}
				for _, d := range w.detail {
					if !strings.Contains(f.Detail, d) {
						t.Errorf("finding %d: detail %q does not say %q", i, f.Detail, d)
					}
				}
				if w.tier != 0 {
					if got := c.TierOf(o, now); got != w.tier {
						t.Errorf("tier %d, want %d", got, w.tier)
					}
				}
			}
		})
	}
}

func TestTLSObservationDaysLeft(t *testing.T) {
	now := time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		left time.Duration
		want int
	}{
		{30*24*time.Hour + time.Minute, 30},
		{30*24*time.Hour - time.Minute, 29},
		{time.Hour, 0},
		{-time.Hour, -1},
		{-49 * time.Hour, -3},
	} {
		t.Run(tc.left.String(), func(t *testing.T) {
			o := &TLSObservation{NotAfter: now.Add(tc.left)}
			if got := o.DaysLeft(now); got != tc.want {
				t.Errorf("DaysLeft = %d, want %d", got, tc.want)
			}
		})
	}
}
