package tocsin

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/tocsin-org/tocsin/i18n"
)

// The console says findings and check refusals through the catalogues: the
// English text of each key must say exactly what Detail and Message say,
// and the French one must be another sentence with nothing left unfilled.

func TestFindingWordsSayTheDetail(t *testing.T) {
	now := time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC)
	paris, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		t.Fatal(err)
	}
	utc := func(t time.Time) string { return t.UTC().Format("2006-01-02 15:04 MST") }
	inParis := func(t time.Time) string { return t.In(paris).Format("2006-01-02 15:04 MST") }
	day := 24 * time.Hour
	cert := func(left time.Duration) *TLSObservation {
		return &TLSObservation{SPKISHA256: strings.Repeat("ab", 32), Serial: "1f", NotAfter: now.Add(left), Scanned: true}
	}
	for _, tc := range []struct {
		name, words string
		r           *CheckResult
		fr          string // the French sentence, times in Paris
	}{
		{"refused by the probe", "findings.detail.cert_invalid",
			&CheckResult{TLS: func() *TLSObservation {
				o := cert(90 * day)
				o.VerifyError = "the certificate is for mail.example.org, not www.example.org"
				return o
			}()}, "www.example.org:443 : certificat refusé : the certificate is for mail.example.org, not www.example.org"},
		{"expired", "findings.detail.cert_expired", &CheckResult{TLS: cert(-time.Hour)},
			"www.example.org:443 : le certificat a expiré le 2026-11-24 12:00 CET"},
		{"hours left", "findings.detail.cert_expiring_today", &CheckResult{TLS: cert(5 * time.Hour)},
			"www.example.org:443 : le certificat expire dans moins d'un jour (seuil : 1 j), le 2026-11-24 18:00 CET"},
		{"a day left", "findings.detail.cert_expiring_one_day", &CheckResult{TLS: cert(day + time.Hour)},
			"www.example.org:443 : le certificat expire dans 1 jour (seuil : 7 j), le 2026-11-25 14:00 CET"},
		{"days left", "findings.detail.cert_expiring_days", &CheckResult{TLS: cert(20*day + time.Hour)},
			"www.example.org:443 : le certificat expire dans 20 jours (seuil : 30 j), le 2026-12-14 14:00 CET"},
		{"one old protocol", "findings.detail.tls_protocol_weak", &CheckResult{TLS: func() *TLSObservation {
			o := cert(90 * day)
			o.OldVersions = []string{"TLS 1.0"}
			return o
		}()}, "www.example.org:443 accepte TLS 1.0"},
		{"two old protocols", "findings.detail.tls_protocol_weak_two", &CheckResult{TLS: func() *TLSObservation {
			o := cert(90 * day)
			o.OldVersions = []string{"TLS 1.0", "TLS 1.1"}
			return o
		}()}, "www.example.org:443 accepte TLS 1.0 et TLS 1.1"},
		{"weak suites", "findings.detail.tls_cipher_weak", &CheckResult{TLS: func() *TLSObservation {
			o := cert(90 * day)
			o.WeakCiphers = []string{"TLS_RSA_WITH_3DES_EDE_CBC_SHA", "TLS_RSA_WITH_RC4_128_SHA"}
			return o
		}()}, "www.example.org:443 accepte des suites de chiffrement faibles : TLS_RSA_WITH_3DES_EDE_CBC_SHA, TLS_RSA_WITH_RC4_128_SHA"},
		{"listable bucket", "findings.detail.bucket_listable",
			&CheckResult{Bucket: &BucketObservation{Listable: []string{"http://127.0.0.1:9000/b/", "http://b.127.0.0.1:9000/"}}},
			"n'importe qui peut lister le compartiment à http://127.0.0.1:9000/b/, http://b.127.0.0.1:9000/"},
		{"listable bucket, grants explained", "findings.detail.bucket_listable_grants",
			&CheckResult{Bucket: &BucketObservation{Listable: []string{"http://127.0.0.1:9000/b/"}, Grants: []string{"policy lets anyone s3:ListBucket", "ACL grants AllUsers READ"}}},
			"n'importe qui peut lister le compartiment à http://127.0.0.1:9000/b/ ; policy lets anyone s3:ListBucket; ACL grants AllUsers READ"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := &Check{ID: 7, ServiceID: 3, Kind: CheckTLS, Severity: "SEV2", Spec: CheckSpec{Address: "www.example.org:443"}}
			found, _ := c.Findings(tc.r, now)
			if len(found) != 1 {
				t.Fatalf("found %d findings, want 1: %+v", len(found), found)
			}
			f := found[0]
			if f.Words != tc.words {
				t.Fatalf("words %q, want %q", f.Words, tc.words)
			}
			if en := i18n.T("en", f.Words, f.WordArgs(utc)...); en != f.Detail {
				t.Errorf("the English words say %q, the detail %q", en, f.Detail)
			}
			if fr := i18n.T("fr", f.Words, f.WordArgs(inParis)...); fr != tc.fr {
				t.Errorf("French:\n got %q\nwant %q", fr, tc.fr)
			}
		})
	}
	t.Run("no words: no args", func(t *testing.T) {
		if args := (&Finding{Detail: "old"}).WordArgs(utc); args != nil {
			t.Errorf("%v", args)
		}
	})
}

func TestCheckRefusalWords(t *testing.T) {
	valid := func() *Check {
		c := &Check{ServiceID: 1, Kind: CheckHTTP, Spec: CheckSpec{URL: "https://www.example.org/"}}
		c.ApplyDefaults(CheckDefaults{})
		return c
	}
	seen := map[string]bool{}
	for _, tc := range []struct {
		key    string
		change func(c *Check)
		fr     string // a part of the French sentence
	}{
		{"kind_unknown", func(c *Check) { c.Kind = "ftp" }, `kind : type "ftp" inconnu`},
		{"text_too_long", func(c *Check) { c.Spec.Method = "GET\n" + "x" }, "method : au plus 2000 caractères"},
		{"list_too_long", func(c *Check) { c.Spec.ExpectStatus = make([]int, 1000) }, "expect : au plus"},
		{"headers_too_many", func(c *Check) {
			c.Spec.Headers = map[string]string{}
			for i := range 1000 {
				c.Spec.Headers[strings.Repeat("h", i+1)] = "v"
			}
		}, "headers : au plus"},
		{"name_too_long", func(c *Check) { c.Name = strings.Repeat("n", 101) }, "name : au plus 100 caractères"},
		{"interval_range", func(c *Check) { c.Interval = 48 * time.Hour }, "interval : 48h0m0s est hors limites : donnez de 1s à 24h"},
		{"timeout_range", func(c *Check) { c.Timeout = 3 * time.Minute }, "timeout : 3m0s est hors limites"},
		{"timeout_over_interval", func(c *Check) { c.Interval, c.Timeout = 5*time.Second, 10*time.Second }, "timeout : 10s est plus long que l'intervalle 5s"},
		{"threshold_range", func(c *Check) { c.FailThreshold = 101 }, "fail_threshold : 101 est hors limites : donnez de 1 à 100"},
		{"quorum_range", func(c *Check) { c.Quorum = 21 }, "quorum : 21 est hors limites"},
		{"fail_status_unknown", func(c *Check) { c.FailStatus = "down" }, `fail_status : "down" : les valeurs permises`},
		{"severity_unknown", func(c *Check) { c.Severity = "SEV9" }, `severity : "SEV9" : les valeurs permises`},
		{"not_for_kind", func(c *Check) { c.Spec.Domain = "example.org" }, "domain : ne s'applique pas à une sonde http"},
		{"max_latency_range", func(c *Check) { c.Spec.MaxLatency = Duration(time.Hour) }, "max_latency : 1h0m0s est hors limites"},
		{"expiry_days_range", func(c *Check) { c.Spec.ExpiryTiers = []int{400} }, "expiry_days : 400 est hors limites"},
		{"method_unknown", func(c *Check) { c.Spec.Method = "PATCH" }, `method : "PATCH" : les méthodes permises`},
		{"header_bad", func(c *Check) { c.Spec.Headers = map[string]string{"a b": "v"} }, `headers : en-tête "a b"`},
		{"status_code_bad", func(c *Check) { c.Spec.ExpectStatus = []int{700} }, "expect_status : 700 n'est pas un code de statut HTTP"},
		{"regex_bad", func(c *Check) { c.Spec.BodyRegex = "(" }, "body_regex : pas une expression régulière : error parsing regexp"},
		{"client_cert_pair", func(c *Check) { c.Spec.ClientCert = "/etc/c.pem" }, "client_cert : donnez à la fois"},
		{"domain_bad", func(c *Check) {
			*c = Check{ServiceID: 1, Kind: CheckDNS, Interval: c.Interval, Timeout: c.Timeout, FailThreshold: 1, PassThreshold: 1, Quorum: 1, FailStatus: StatusMajorOutage, Severity: "SEV2"}
		},
			"domain : donnez un nom DNS"},
		{"record_unknown", func(c *Check) { c.Kind, c.Spec = CheckDNS, CheckSpec{Domain: "example.org", Record: "SRV"} }, `record : "SRV" : les enregistrements permis`},
		{"provider_unknown", func(c *Check) { c.Kind, c.Spec = CheckBucket, CheckSpec{Provider: "b2"} }, `provider : "b2" : les fournisseurs permis`},
		{"bucket_target_missing", func(c *Check) { c.Kind, c.Spec = CheckBucket, CheckSpec{} }, "url : donnez l'url du compartiment"},
		{"bucket_name_missing", func(c *Check) { c.Kind, c.Spec = CheckBucket, CheckSpec{Endpoint: "http://127.0.0.1:9000"} }, "bucket : donnez le nom du compartiment"},
		{"bucket_name_bad", func(c *Check) {
			c.Kind, c.Spec = CheckBucket, CheckSpec{Endpoint: "http://127.0.0.1:9000", Bucket: "a b"}
		}, `bucket : "a b" n'est pas un nom de compartiment`},
		{"access_key_pair", func(c *Check) {
			c.Kind, c.Spec = CheckBucket, CheckSpec{URL: "http://127.0.0.1:9000/b", AccessKeyID: "k"}
		}, "access_key_id : donnez à la fois"},
		{"url_bad", func(c *Check) { c.Spec.URL = "/relative" }, `url : "/relative" n'est pas une URL absolue`},
		{"url_scheme", func(c *Check) { c.Spec.URL = "ftp://127.0.0.1/" }, `url : "ftp://127.0.0.1/" : donnez une URL http://`},
		{"url_password", func(c *Check) { c.Spec.URL = "https://u:p@127.0.0.1/" }, "ne mettez pas de mot de passe"},
		{"address_bad", func(c *Check) { c.Kind, c.Spec = CheckTCP, CheckSpec{Address: "127.0.0.1"} }, `address : "127.0.0.1" : donnez hôte:port`},
		{"port_range", func(c *Check) { c.Kind, c.Spec = CheckTCP, CheckSpec{Address: "127.0.0.1:70000"} }, `address : "127.0.0.1:70000" : le port doit être entre 1 et 65535`},
	} {
		t.Run(tc.key, func(t *testing.T) {
			c := valid()
			tc.change(c)
			var e *Error
			if err := c.Validate(); !errors.As(err, &e) {
				t.Fatalf("not refused with an *Error: %v", err)
			}
			if e.Key != "checks.refused."+tc.key {
				t.Fatalf("key %q (%s), want checks.refused.%s", e.Key, e.Message, tc.key)
			}
			seen[e.Key] = true
			if en := i18n.T("en", e.Key, e.Args...); en != e.Message {
				t.Errorf("the English words say %q, the message %q", en, e.Message)
			}
			fr := i18n.T("fr", e.Key, e.Args...)
			if !strings.Contains(fr, tc.fr) || strings.Contains(fr, "%!") {
				t.Errorf("French %q does not say %q", fr, tc.fr)
			}
		})
	}
	// Every refusal Validate words has its case above.
	for _, k := range i18n.Keys("en") {
		switch k {
		case "checks.refused.fail_threshold", "checks.refused.pass_threshold", "checks.refused.quorum", "checks.refused.not_number",
			"checks.refused.service_missing", "checks.refused.header_line": // the console's and the API's own
			continue
		}
		if strings.HasPrefix(k, "checks.refused.") && !seen[k] {
			t.Errorf("no case refuses with %s", k)
		}
	}
}
