package probe

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tocsin-org/tocsin"
	"github.com/tocsin-org/tocsin/internal/testpeer"
)

// TestTLSNginx runs the tls check against nginx and OpenSSL, as deployed:
// an old configuration accepting TLS 1.0, 1.1 and a CBC suite, whose
// certificate is renewed with the same key, rotated to a new key, then
// left to expire, each through nginx's reload.
func TestTLSNginx(t *testing.T) {
	ca := testpeer.NewCA(t, "Tocsin Test CA")
	key := testpeer.NewKey(t, "ecdsa")
	first := ca.Issue(t, testpeer.Leaf{Key: key})
	peer := testpeer.StartNginx(t, first, testpeer.NginxOptions{
		Protocols: "TLSv1 TLSv1.1 TLSv1.2 TLSv1.3",
		Ciphers:   "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES128-SHA256:ECDHE-ECDSA-AES128-SHA:@SECLEVEL=0",
	})
	p := New("tocsin-test")
	c := tlsCheck(peer.Addr, tocsin.CheckSpec{CAFile: ca.PEMFile}, 10*time.Second)
	var prev *tocsin.TLSObservation
	now := time.Now()
	for _, tc := range []struct {
		name     string
		reissue  testpeer.Leaf // the certificate served from this step on
		wantErr  string
		wantSPKI string // "same" or "new" than the previous run
	}{
		{name: "first certificate"},
		{name: "renewed with the same key", reissue: testpeer.Leaf{Key: key}, wantSPKI: "same"},
		{name: "rotated to a new key", reissue: testpeer.Leaf{}, wantSPKI: "new"},
		{name: "expired", reissue: testpeer.Leaf{Key: key, NotBefore: now.AddDate(0, 0, -90), NotAfter: now.AddDate(0, 0, -2)}, wantSPKI: "new",
			wantErr: "the certificate expired on " + now.AddDate(0, 0, -2).UTC().Format(time.DateOnly)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			served := first
			if tc.name != "first certificate" {
				served = ca.Issue(t, tc.reissue)
				peer.Reload(t, served)
			}
			r := p.Run(t.Context(), c)
			if (tc.wantErr == "") != r.OK || !strings.Contains(r.Error, tc.wantErr) {
				t.Fatalf("OK %v, error %q; want error %q", r.OK, r.Error, tc.wantErr)
			}
			o := r.TLS
			if o == nil {
				t.Fatal("no observation")
			}
			leaf := leafOf(t, served)
			if o.SPKISHA256 != spkiOf(leaf) || o.Serial != leaf.SerialNumber.Text(16) {
				t.Errorf("SPKI %s serial %s, want %s %s", o.SPKISHA256, o.Serial, spkiOf(leaf), leaf.SerialNumber.Text(16))
			}
			if prev != nil {
				if o.Serial == prev.Serial {
					t.Errorf("serial unchanged")
				}
				if same := o.SPKISHA256 == prev.SPKISHA256; same != (tc.wantSPKI == "same") {
					t.Errorf("SPKI same as before: %v, want %s", same, tc.wantSPKI)
				}
			}
			if o.Version != "TLS 1.3" || !o.Scanned {
				t.Errorf("version %q, scanned %v", o.Version, o.Scanned)
			}
			if !slices.Equal(o.OldVersions, []string{"TLS 1.0", "TLS 1.1"}) {
				t.Errorf("old versions %v", o.OldVersions)
			}
			if !slices.Equal(o.WeakCiphers, []string{"TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256"}) {
				t.Errorf("weak ciphers %v", o.WeakCiphers)
			}
			prev = o
		})
	}
}
