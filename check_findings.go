package tocsin

import (
	"fmt"
	"strings"
	"time"
)

// Findings returns the unsafe things result r of c shows at now, and the
// kinds r was able to judge: a finding of a judged kind that r does not
// show is closed; one of a kind r could not judge (no certificate seen
// because the server was down) stays as it was. The key's history
// (tls_key_reused) and failing checks are judged by the store, which
// keeps them.
func (c *Check) Findings(r *CheckResult, now time.Time) (found []*Finding, judged []FindingKind) {
	add := func(kind FindingKind, key, format string, args ...any) {
		f := &Finding{Kind: kind, CheckID: c.ID, ServiceID: c.ServiceID, Severity: c.Severity}
		f.Say(key, format, args...)
		found = append(found, f)
	}
	if o := r.TLS; o != nil {
		judged = append(judged, FindingCertExpiring, FindingCertInvalid)
		// Old protocols and weak suites are judged only by a scan that ran
		// to its end (tls checks): an https check's single handshake, or a
		// scan cut by the timeout, neither opens nor closes them.
		if o.Scanned || len(o.OldVersions) > 0 {
			judged = append(judged, FindingTLSProtocolWeak)
		}
		if o.Scanned || len(o.WeakCiphers) > 0 {
			judged = append(judged, FindingTLSCipherWeak)
		}
		days := o.DaysLeft(now)
		if o.VerifyError != "" {
			add(FindingCertInvalid, "findings.detail.cert_invalid", "%s: %s", c.Target(), o.VerifyError)
		}
		if !o.NotAfter.IsZero() && !o.NotAfter.After(now) {
			if o.VerifyError == "" {
				add(FindingCertInvalid, "findings.detail.cert_expired", "%s: the certificate expired on %s", c.Target(), o.NotAfter)
			}
		} else if tier := c.TierOf(o, now); !o.NotAfter.IsZero() && tier > 0 {
			switch days {
			case 0:
				add(FindingCertExpiring, "findings.detail.cert_expiring_today", "%s: the certificate expires in less than a day (under %s), on %s",
					c.Target(), tier, o.NotAfter)
			case 1:
				add(FindingCertExpiring, "findings.detail.cert_expiring_one_day", "%s: the certificate expires in 1 day (under %s), on %s",
					c.Target(), tier, o.NotAfter)
			default:
				add(FindingCertExpiring, "findings.detail.cert_expiring_days", "%s: the certificate expires in %s days (under %s), on %s",
					c.Target(), days, tier, o.NotAfter)
			}
			found[len(found)-1].Tier = tier
		}
		if len(o.OldVersions) > 0 {
			if n := len(o.OldVersions); n == 1 {
				add(FindingTLSProtocolWeak, "findings.detail.tls_protocol_weak", "%s accepts %s", c.Target(), o.OldVersions[0])
			} else {
				add(FindingTLSProtocolWeak, "findings.detail.tls_protocol_weak_two", "%s accepts %s and %s", c.Target(),
					strings.Join(o.OldVersions[:n-1], " and "), o.OldVersions[n-1])
			}
		}
		if len(o.WeakCiphers) > 0 {
			add(FindingTLSCipherWeak, "findings.detail.tls_cipher_weak", "%s accepts weak cipher suites: %s", c.Target(), strings.Join(o.WeakCiphers, ", "))
		}
	}
	// A URL that did not answer may be the listable one: unless a listing
	// was seen, the finding is judged only when every URL answered.
	if b := r.Bucket; b != nil && (len(b.Listable) > 0 || b.AllAnswered()) {
		judged = append(judged, FindingBucketListable)
		if len(b.Listable) > 0 {
			// The grants are the server's policy explained in English.
			if len(b.Grants) > 0 {
				add(FindingBucketListable, "findings.detail.bucket_listable_grants", "anyone can list the bucket at %s; %s",
					strings.Join(b.Listable, ", "), strings.Join(b.Grants, "; "))
			} else {
				add(FindingBucketListable, "findings.detail.bucket_listable", "anyone can list the bucket at %s", strings.Join(b.Listable, ", "))
			}
		}
	}
	return found, judged
}

// TierOf returns the expiry tier (in days) a finding's certificate falls
// in, for de-duplicating reminders: a certificate moving from the 14-day
// tier to the 7-day one is news, the next day in the same tier is not.
func (c *Check) TierOf(o *TLSObservation, now time.Time) int {
	days := o.DaysLeft(now)
	tier := 0
	for _, t := range c.Tiers() {
		if days < t {
			tier = t
		}
	}
	return tier
}

// findingTimes lists, per words key, which Args are times (RFC 3339, UTC),
// so that the console can show them in its own zone.
var findingTimes = map[string][]int{
	"findings.detail.cert_expired":              {1},
	"findings.detail.cert_expiring_today":       {2},
	"findings.detail.cert_expiring_one_day":     {2},
	"findings.detail.cert_expiring_days":        {3},
	"findings.detail.check_failing_since":       {2},
	"findings.detail.check_failing_since_error": {2},
	"findings.detail.tls_key_reused":            {3},
}

// Say sets f's English Detail to format with args, and its Words and Args
// to the same sentence for the i18n catalogues: key's English text there
// is format (a test keeps them equal), and every verb of format is %s, as
// Args are strings. A time.Time arg shows as UTC minutes in Detail and is
// kept as RFC 3339 in Args (key must be listed in findingTimes).
func (f *Finding) Say(key, format string, args ...any) {
	shown := make([]any, len(args))
	f.Words, f.Args = key, make([]string, len(args))
	for i, a := range args {
		if t, ok := a.(time.Time); ok {
			shown[i] = t.UTC().Format("2006-01-02 15:04 MST")
			f.Args[i] = t.UTC().Format(time.RFC3339)
			continue
		}
		shown[i] = fmt.Sprint(a)
		f.Args[i] = fmt.Sprint(a)
	}
	f.Detail = fmt.Sprintf(format, shown...)
}

// WordArgs returns f's Args for formatting its words, the times among them
// shown by when; nil when f has no words (show Detail then).
func (f *Finding) WordArgs(when func(time.Time) string) []any {
	if f.Words == "" {
		return nil
	}
	out := make([]any, len(f.Args))
	for i, a := range f.Args {
		out[i] = a
	}
	for _, i := range findingTimes[f.Words] {
		if i >= len(f.Args) {
			continue
		}
		if t, err := time.Parse(time.RFC3339, f.Args[i]); err == nil {
			out[i] = when(t)
		}
	}
	return out
}
