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

const (
	sumA = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
	sumB = "60303AE22B998861BCE3B28F33EEC1BE758A213C86C93C076DBE9F558C11C752"
)

func TestOpenSecurityIncidentFromSignal(t *testing.T) {
	forEachStore(t, func(t *testing.T, db *DB) {
		ctx := context.Background()
		friday := time.Date(2026, 11, 20, 16, 40, 0, 0, time.UTC)
		db.SetClock(func() time.Time { return friday })
		defer db.SetClock(nil)
		sig := &tocsin.Signal{Source: tocsin.SourceEmail, Subject: "Your bucket is world-listable", Body: "see https://…", ReceivedAt: friday.Add(-time.Hour)}
		if err := db.CreateSignal(ctx, admin, sig); err != nil {
			t.Fatal(err)
		}
		// Acknowledged (from a page) an hour after it arrived.
		if err := db.AcknowledgeSignal(ctx, admin, sig.ID); err != nil {
			t.Fatal(err)
		}
		db.SetClock(func() time.Time { return friday.Add(20 * time.Hour) })

		before, _, _ := db.VerifyAudit(ctx)
		inc := &tocsin.SecurityIncident{Severity: "sev2", Kind: tocsin.KindDataExposure}
		if err := db.OpenSecurityIncident(ctx, admin, sig.ID, inc); err != nil {
			t.Fatalf("OpenSecurityIncident: %v", err)
		}
		after, brk, err := db.VerifyAudit(ctx)
		if err != nil || brk != nil || after != before+2 {
			t.Fatalf("audit %d → %d (%v %v), want security.create and signal.link", before, after, err, brk)
		}
		es, _ := db.AuditEntries(ctx, tocsin.AuditFilter{Limit: 2})
		wantEntry(t, es[0], "signal.link", signalTarget(sig.ID), "state=acknowledged", fmt.Sprintf("state=linked security_incident=%d", inc.ID))
		wantEntry(t, es[1], "security.create", securityTarget(inc.ID), "",
			fmt.Sprintf(`title="Your bucket is world-listable" severity=SEV2 kind=data_exposure signal=%d receipt=%s`, sig.ID, sig.Receipt))

		got, err := db.SecurityIncident(ctx, inc.ID)
		if err != nil || got.Title != sig.Subject || got.Moments.Reported == nil || !got.Moments.Reported.Equal(sig.ReceivedAt) {
			t.Fatalf("incident = %+v, %v; want the signal's subject and reported at %v", got, err, sig.ReceivedAt)
		}
		if d, ok := got.Moments.TimeToAcknowledge(); !ok || d != time.Hour {
			t.Errorf("time to acknowledge %v (%v), want the signal's hour", d, ok)
		}
		wantTimeline := []string{"moment:reported:>" + momentText(&sig.ReceivedAt), "signal:" + fmt.Sprint(sig.ID) + ":>" + sig.Receipt, "moment:acknowledged:>" + momentText(&friday), "created:" + sig.Receipt + ":>SEV2"}
		if k := kinds(t, db, inc.ID); !slices.Equal(k, wantTimeline) {
			t.Errorf("timeline = %v, want %v", k, wantTimeline)
		}
		s, _ := db.Signal(ctx, sig.ID)
		if s.State != tocsin.SignalLinked || s.SecurityIncidentID == nil || *s.SecurityIncidentID != inc.ID {
			t.Errorf("signal = %+v, want linked to %d", s, inc.ID)
		}

		t.Run("refusals name the state and write nothing", func(t *testing.T) {
			dismissed := newSignal(t, db, "spam")
			if err := db.DismissSignal(ctx, admin, dismissed.ID, "spam"); err != nil {
				t.Fatal(err)
			}
			n, _ := db.SecurityIncidents(ctx, tocsin.SecurityIncidentFilter{})
			for _, id := range []int64{sig.ID, dismissed.ID} {
				err := notAudited(t, db, func() error {
					return db.OpenSecurityIncident(ctx, admin, id, &tocsin.SecurityIncident{Severity: "sev2", Kind: tocsin.KindOther})
				})
				var te *tocsin.Error
				if tocsin.ErrorCode(err) != tocsin.ECONFLICT || !asError(err, &te) || te.Key != "signals.cannot_move" {
					t.Errorf("signal %d: err = %v, want ECONFLICT signals.cannot_move", id, err)
				}
			}
			open := newSignal(t, db, "fine")
			wantCode(t, notAudited(t, db, func() error {
				return db.OpenSecurityIncident(ctx, admin, open.ID, &tocsin.SecurityIncident{Severity: "sev9", Kind: tocsin.KindOther})
			}), tocsin.EINVALID)
			wantCode(t, db.OpenSecurityIncident(ctx, admin, 9999, &tocsin.SecurityIncident{Severity: "sev2", Kind: tocsin.KindOther}), tocsin.ENOTFOUND)
			m, _ := db.SecurityIncidents(ctx, tocsin.SecurityIncidentFilter{})
			if len(m) != len(n) {
				t.Errorf("incidents %d → %d after refusals", len(n), len(m))
			}
			if s, _ := db.Signal(ctx, open.ID); s.State != tocsin.SignalOpen {
				t.Errorf("refused signal is %s, want still open", s.State)
			}
		})

		t.Run("linking to an existing incident writes its timeline", func(t *testing.T) {
			other := newSignal(t, db, "same bucket, second reporter")
			e := audited(t, db, func() error { return db.LinkSignal(ctx, admin, other.ID, inc.ID) })
			wantEntry(t, e, "signal.link", signalTarget(other.ID), "state=open", fmt.Sprintf("state=linked security_incident=%d", inc.ID))
			k := kinds(t, db, inc.ID)
			if !slices.Contains(k, fmt.Sprintf("signal:%d:>%s", other.ID, other.Receipt)) {
				t.Errorf("timeline = %v, want the second signal", k)
			}
		})
	})
}

func TestEvidence(t *testing.T) {
	forEachStore(t, func(t *testing.T, db *DB) {
		ctx := context.Background()
		inc := newSecurity(t, db, "Database password leaked")
		other := newSecurity(t, db, "Another one")
		resp := tocsin.Actor{UserID: 2, Label: "resp@example.org", IP: "192.0.2.9"}

		file := &tocsin.Evidence{Kind: tocsin.EvidenceFile, Description: "nginx access log extract", SHA256: sumA, Size: 4,
			MediaType: "text/plain; charset=utf-8", Filename: "../../etc/access.log", Source: "web3", CollectedBy: "Alice"}
		e := audited(t, db, func() error { return db.AddEvidence(ctx, resp, inc.ID, file, []byte("sealed")) })
		wantEntry(t, e, "evidence.add", evidenceTarget(inc.ID, file.ID), "", "kind=file sha256="+sumA+" size=4")
		if file.Filename != "access.log" || file.CollectedAt.IsZero() {
			t.Errorf("file = %+v", file)
		}
		ref := &tocsin.Evidence{Kind: tocsin.EvidenceReference, Description: "disk image of web3", SHA256: "sha256:" + sumB, Size: 40 << 30,
			Location: "backup01:/images/web3.img", CollectedBy: "Bob", CollectedAt: inc.CreatedAt.Add(-time.Millisecond).Add(time.Second)}
		audited(t, db, func() error { return db.AddEvidence(ctx, resp, inc.ID, ref, nil) })
		if ref.SHA256 != strings.ToLower(sumB) {
			t.Errorf("reference hash = %q, want it lowercase without prefix", ref.SHA256)
		}

		list, err := db.EvidenceList(ctx, inc.ID)
		if err != nil || len(list) != 2 || list[0].ID != file.ID || list[1].Location != ref.Location {
			t.Fatalf("EvidenceList = %v, %v", list, err)
		}
		if l, _ := db.EvidenceList(ctx, other.ID); len(l) != 0 {
			t.Errorf("other incident's evidence = %v", l)
		}
		if k := kinds(t, db, inc.ID); !slices.Contains(k, fmt.Sprintf("evidence:%d:>%s", file.ID, sumA)) {
			t.Errorf("timeline = %v, want the evidence entry", k)
		}

		t.Run("refused", func(t *testing.T) {
			for _, tc := range []struct {
				name string
				e    tocsin.Evidence
				key  string
			}{
				{"bad hash", tocsin.Evidence{Kind: tocsin.EvidenceReference, Description: "d", SHA256: "abc", Location: "x", CollectedBy: "a"}, "evidence.sha256_invalid"},
				{"not hex", tocsin.Evidence{Kind: tocsin.EvidenceReference, Description: "d", SHA256: strings.Repeat("g", 64), Location: "x", CollectedBy: "a"}, "evidence.sha256_invalid"},
				{"no location", tocsin.Evidence{Kind: tocsin.EvidenceReference, Description: "d", SHA256: sumA, CollectedBy: "a"}, "evidence.location_invalid"},
				{"two-line location", tocsin.Evidence{Kind: tocsin.EvidenceReference, Description: "d", SHA256: sumA, Location: "a\nb", CollectedBy: "a"}, "evidence.location_invalid"},
				{"no description", tocsin.Evidence{Kind: tocsin.EvidenceReference, SHA256: sumA, Location: "x", CollectedBy: "a"}, "evidence.description_empty"},
				{"no collector", tocsin.Evidence{Kind: tocsin.EvidenceReference, Description: "d", SHA256: sumA, Location: "x"}, "evidence.collector_empty"},
				{"future", tocsin.Evidence{Kind: tocsin.EvidenceReference, Description: "d", SHA256: sumA, Location: "x", CollectedBy: "a", CollectedAt: time.Now().Add(time.Hour)}, "security.future"},
				{"before anything known", tocsin.Evidence{Kind: tocsin.EvidenceReference, Description: "d", SHA256: sumA, Location: "x", CollectedBy: "a", CollectedAt: inc.CreatedAt.Add(-time.Hour)}, "evidence.too_early"},
				{"unknown kind", tocsin.Evidence{Kind: "rumour", Description: "d", SHA256: sumA, CollectedBy: "a"}, "evidence.kind_unknown"},
			} {
				t.Run(tc.name, func(t *testing.T) {
					err := notAudited(t, db, func() error { return db.AddEvidence(ctx, resp, inc.ID, &tc.e, nil) })
					var te *tocsin.Error
					if tocsin.ErrorCode(err) != tocsin.EINVALID || !asError(err, &te) || te.Key != tc.key {
						t.Fatalf("err = %v, want EINVALID %s", err, tc.key)
					}
				})
			}
			wantCode(t, notAudited(t, db, func() error {
				return db.AddEvidence(ctx, resp, 9999, &tocsin.Evidence{Kind: tocsin.EvidenceReference, Description: "d", SHA256: sumA, Location: "x", CollectedBy: "a"}, nil)
			}), tocsin.ENOTFOUND)
			if l, _ := db.EvidenceList(ctx, inc.ID); len(l) != 2 {
				t.Errorf("%d items after refusals, want 2", len(l))
			}
		})

		t.Run("collection before the incident, after the report", func(t *testing.T) {
			reported := inc.CreatedAt.Add(-2 * time.Hour)
			if err := db.SetKeyMoments(ctx, admin, inc.ID, tocsin.KeyMoments{Reported: &reported}); err != nil {
				t.Fatal(err)
			}
			early := &tocsin.Evidence{Kind: tocsin.EvidenceReference, Description: "log copied on receipt", SHA256: sumA, Location: "web3:/var/log/x",
				CollectedBy: "Carol", CollectedAt: reported.Add(time.Minute)}
			audited(t, db, func() error { return db.AddEvidence(ctx, resp, inc.ID, early, nil) })
		})

		t.Run("custody", func(t *testing.T) {
			for _, tc := range []struct {
				action tocsin.CustodyAction
				detail string
			}{{tocsin.CustodyViewed, ""}, {tocsin.CustodyDownloaded, ""}, {tocsin.CustodyVerified, tocsin.VerifyMatch}} {
				e := audited(t, db, func() error { return db.RecordCustody(ctx, admin, inc.ID, file.ID, tc.action, tc.detail) })
				wantEntry(t, e, "evidence."+string(tc.action), evidenceTarget(inc.ID, file.ID), "", tc.detail)
			}
			// Through another incident, the item does not exist.
			wantCode(t, notAudited(t, db, func() error { return db.RecordCustody(ctx, admin, other.ID, file.ID, tocsin.CustodyViewed, "") }), tocsin.ENOTFOUND)
			_, _, err := db.EvidenceItem(ctx, other.ID, file.ID)
			wantCode(t, err, tocsin.ENOTFOUND)
			_, err = db.EvidenceContent(ctx, other.ID, file.ID)
			wantCode(t, err, tocsin.ENOTFOUND)
			_, err = db.EvidenceContent(ctx, inc.ID, ref.ID)
			wantCode(t, err, tocsin.ENOTFOUND)
			sealed, err := db.EvidenceContent(ctx, inc.ID, file.ID)
			if err != nil || string(sealed) != "sealed" {
				t.Errorf("EvidenceContent = %q, %v", sealed, err)
			}

			audited(t, db, func() error {
				return db.RecordCustody(ctx, admin, inc.ID, file.ID, tocsin.CustodyVerified, tocsin.VerifyMismatch+" "+sumB)
			})
			if k := kinds(t, db, inc.ID); !slices.Contains(k, fmt.Sprintf("evidence:%d:mismatch>%s", file.ID, sumA)) {
				t.Errorf("timeline = %v, want the mismatch", k)
			}

			wantCode(t, notAudited(t, db, func() error { return db.WithdrawEvidence(ctx, admin, inc.ID, ref.ID, " ") }), tocsin.EINVALID)
			e := audited(t, db, func() error { return db.WithdrawEvidence(ctx, admin, inc.ID, ref.ID, "wrong host") })
			wantEntry(t, e, "evidence.withdraw", evidenceTarget(inc.ID, ref.ID), "", `reason="wrong host"`)
			wantCode(t, notAudited(t, db, func() error { return db.WithdrawEvidence(ctx, admin, inc.ID, ref.ID, "again") }), tocsin.ECONFLICT)

			got, log, err := db.EvidenceItem(ctx, inc.ID, file.ID)
			if err != nil || got.ID != file.ID {
				t.Fatalf("EvidenceItem = %v, %v", got, err)
			}
			var acts []string
			for _, ev := range log {
				acts = append(acts, string(ev.Action)+":"+ev.Actor)
			}
			want := []string{"added:resp@example.org", "viewed:admin@example.org", "downloaded:admin@example.org", "verified:admin@example.org", "verified:admin@example.org"}
			if !slices.Equal(acts, want) {
				t.Errorf("custody = %v, want %v", acts, want)
			}
			w, log, _ := db.EvidenceItem(ctx, inc.ID, ref.ID)
			if !w.Withdrawn() || w.WithdrawnReason != "wrong host" || len(log) != 2 || log[1].Action != tocsin.CustodyWithdrawn {
				t.Errorf("withdrawn = %+v, log %v", w, log)
			}
		})
	})
}
