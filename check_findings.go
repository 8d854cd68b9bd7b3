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
	add := func(kind FindingKind, format string, args ...any) {
		found = append(found, &Finding{Kind: kind, CheckID: c.ID, ServiceID: c.ServiceID, Severity: c.Severity,
			Detail: fmt.Sprintf(format, args...)})
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
			add(FindingCertInvalid, "%s: %s", c.Target(), o.VerifyError)
		}
		if !o.NotAfter.IsZero() && !o.NotAfter.After(now) {
			if o.VerifyError == "" {
				add(FindingCertInvalid, "%s: the certificate expired on %s", c.Target(), o.NotAfter.UTC().Format("2006-01-02 15:04 MST"))
			}
		} else if tier := c.TierOf(o, now); !o.NotAfter.IsZero() && tier > 0 {
			in := fmt.Sprintf("in %d days", days)
			switch days {
			case 0:
				in = "in less than a day"
			case 1:
				in = "in 1 day"
			}
			add(FindingCertExpiring, "%s: the certificate expires %s (under %d), on %s", c.Target(), in, tier,
				o.NotAfter.UTC().Format("2006-01-02 15:04 MST"))
			found[len(found)-1].Tier = tier
		}
		if len(o.OldVersions) > 0 {
			add(FindingTLSProtocolWeak, "%s accepts %s", c.Target(), strings.Join(o.OldVersions, " and "))
		}
		if len(o.WeakCiphers) > 0 {
			add(FindingTLSCipherWeak, "%s accepts weak cipher suites: %s", c.Target(), strings.Join(o.WeakCiphers, ", "))
		}
	}
	// A URL that did not answer may be the listable one: unless a listing
	// was seen, the finding is judged only when every URL answered.
	if b := r.Bucket; b != nil && (len(b.Listable) > 0 || b.AllAnswered()) {
		judged = append(judged, FindingBucketListable)
		if len(b.Listable) > 0 {
			detail := "anyone can list the bucket at " + strings.Join(b.Listable, ", ")
			if len(b.Grants) > 0 {
				detail += "; " + strings.Join(b.Grants, "; ")
			}
			add(FindingBucketListable, "%s", detail)
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
