package sqlstore

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/tocsin-org/tocsin"
)

var reporter = tocsin.Actor{Label: "public", IP: "198.51.100.7"}

func newSignal(t *testing.T, db *DB, subject string) *tocsin.Signal {
	t.Helper()
	s := &tocsin.Signal{Source: tocsin.SourceForm, Subject: subject, Body: "The bucket lists its files.", Contact: "finder@example.net", SourceNet: tocsin.ThrottleNet(reporter.IP)}
	if err := db.CreateSignal(context.Background(), reporter, s); err != nil {
		t.Fatalf("CreateSignal: %v", err)
	}
	return s
}

func TestCreateSignal(t *testing.T) {
	forEachStore(t, func(t *testing.T, db *DB) {
		ctx := context.Background()
		var s *tocsin.Signal
		e := audited(t, db, func() error {
			s = &tocsin.Signal{Source: tocsin.SourceEmail, Subject: "  Open\nbucket  ", Body: "<script>alert(1)</script>", Contact: "finder@example.net",
				MessageID: "<m1@example.net>", Attachments: []tocsin.Attachment{{Name: "listing.txt", Type: "text/plain", Size: 42}},
				ReceivedAt: time.Date(2026, 11, 20, 16, 40, 0, 0, time.UTC)}
			return db.CreateSignal(ctx, tocsin.Actor{Label: "intake:imap"}, s)
		})
		wantEntry(t, e, "signal.create", fmt.Sprintf("signal:%d", s.ID), "", "source=email receipt="+s.Receipt+" state=open")
		for _, field := range []string{e.Before, e.After, e.Action} {
			if strings.Contains(field, "finder@") || strings.Contains(field, "bucket") {
				t.Errorf("audit entry holds the contact or the text: %q", field)
			}
		}
		got, err := db.Signal(ctx, s.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.Subject != "Open bucket" || got.Body != "<script>alert(1)</script>" || got.Contact != "finder@example.net" ||
			got.State != tocsin.SignalOpen || got.Receipt != s.Receipt || got.MessageID != "<m1@example.net>" ||
			len(got.Attachments) != 1 || got.Attachments[0] != s.Attachments[0] ||
			!got.ReceivedAt.Equal(time.Date(2026, 11, 20, 16, 40, 0, 0, time.UTC)) {
			t.Errorf("stored %+v", got)
		}

		t.Run("same message twice", func(t *testing.T) {
			again := &tocsin.Signal{Source: tocsin.SourceEmail, Subject: "Open bucket", Body: "again", MessageID: "<m1@example.net>"}
			wantCode(t, notAudited(t, db, func() error { return db.CreateSignal(ctx, tocsin.System, again) }), tocsin.ECONFLICT)
		})
		t.Run("future arrival is now", func(t *testing.T) {
			f := &tocsin.Signal{Source: tocsin.SourceAPI, Subject: "x", Body: "y", ReceivedAt: time.Now().Add(time.Hour)}
			if err := db.CreateSignal(ctx, admin, f); err != nil {
				t.Fatal(err)
			}
			if f.ReceivedAt.After(time.Now()) {
				t.Errorf("received at %v, in the future", f.ReceivedAt)
			}
		})
		for _, tc := range []struct {
			name string
			s    tocsin.Signal
			key  string
		}{
			{"no subject", tocsin.Signal{Source: tocsin.SourceForm, Subject: " \n ", Body: "b"}, "signals.subject_empty"},
			{"no body", tocsin.Signal{Source: tocsin.SourceForm, Subject: "s", Body: "\n\t "}, "signals.body_empty"},
			{"huge body", tocsin.Signal{Source: tocsin.SourceForm, Subject: "s", Body: strings.Repeat("a", tocsin.MaxSignalBody+1)}, "signals.body_long"},
			{"long subject", tocsin.Signal{Source: tocsin.SourceForm, Subject: strings.Repeat("é", 201), Body: "b"}, "signals.subject_long"},
			{"NUL", tocsin.Signal{Source: tocsin.SourceForm, Subject: "s", Body: "a\x00b"}, "signals.not_text"},
			{"bad UTF-8", tocsin.Signal{Source: tocsin.SourceForm, Subject: "s\xff", Body: "b"}, "signals.not_text"},
			{"two-line contact", tocsin.Signal{Source: tocsin.SourceForm, Subject: "s", Body: "b", Contact: "a@b\nBcc: c@d"}, "signals.contact_invalid"},
			{"unknown source", tocsin.Signal{Source: "pigeon", Subject: "s", Body: "b"}, "signals.source_unknown"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				err := notAudited(t, db, func() error { return db.CreateSignal(ctx, admin, &tc.s) })
				var te *tocsin.Error
				if tocsin.ErrorCode(err) != tocsin.EINVALID || !asError(err, &te) || te.Key != tc.key {
					t.Fatalf("err = %v, want EINVALID %s", err, tc.key)
				}
			})
		}
	})
}

func TestSignalTriage(t *testing.T) {
	forEachStore(t, func(t *testing.T, db *DB) {
		ctx := context.Background()
		responder := tocsin.Actor{UserID: 2, Label: "resp@example.org", IP: "192.0.2.9"}

		room := &tocsin.SecurityIncident{Title: "Bucket listable", Severity: "sev2", Kind: tocsin.KindDataExposure}
		if err := db.CreateSecurityIncident(ctx, admin, room); err != nil {
			t.Fatal(err)
		}
		a := newSignal(t, db, "first")
		e := audited(t, db, func() error { return db.AcknowledgeSignal(ctx, responder, a.ID) })
		wantEntry(t, e, "signal.acknowledge", fmt.Sprintf("signal:%d", a.ID), "state=open", "state=acknowledged")
		wantCode(t, notAudited(t, db, func() error { return db.AcknowledgeSignal(ctx, responder, a.ID) }), tocsin.ECONFLICT)
		wantCode(t, notAudited(t, db, func() error { return db.DismissSignal(ctx, responder, a.ID, "  ") }), tocsin.EINVALID)
		e = audited(t, db, func() error { return db.DismissSignal(ctx, responder, a.ID, "A test from our own monitoring.") })
		wantEntry(t, e, "signal.dismiss", fmt.Sprintf("signal:%d", a.ID), "state=acknowledged", `state=dismissed reason="A test from our own monitoring."`)
		got, _ := db.Signal(ctx, a.ID)
		if got.State != tocsin.SignalDismissed || got.AcknowledgedBy != responder.Label || got.AcknowledgedAt == nil ||
			got.ClosedBy != responder.Label || got.ClosedAt == nil || got.Reason != "A test from our own monitoring." {
			t.Errorf("dismissed signal = %+v", got)
		}
		wantCode(t, notAudited(t, db, func() error { return db.LinkSignal(ctx, responder, a.ID, room.ID) }), tocsin.ECONFLICT)

		b := newSignal(t, db, "second")
		wantCode(t, notAudited(t, db, func() error { return db.LinkSignal(ctx, responder, b.ID, 0) }), tocsin.EINVALID)
		wantCode(t, notAudited(t, db, func() error { return db.LinkSignal(ctx, responder, b.ID, room.ID+100) }), tocsin.EINVALID)
		e = audited(t, db, func() error { return db.LinkSignal(ctx, responder, b.ID, room.ID) })
		wantEntry(t, e, "signal.link", fmt.Sprintf("signal:%d", b.ID), "state=open", fmt.Sprintf("state=linked security_incident=%d", room.ID))
		got, _ = db.Signal(ctx, b.ID)
		if got.State != tocsin.SignalLinked || got.SecurityIncidentID == nil || *got.SecurityIncidentID != room.ID ||
			got.AcknowledgedBy != responder.Label || got.AcknowledgedAt == nil {
			t.Errorf("linked signal = %+v", got)
		}
		wantCode(t, notAudited(t, db, func() error { return db.DismissSignal(ctx, responder, b.ID, "no") }), tocsin.ECONFLICT)
		wantCode(t, db.AcknowledgeSignal(ctx, responder, 999), tocsin.ENOTFOUND)
		wantCode(t, func() error { _, err := db.Signal(ctx, 999); return err }(), tocsin.ENOTFOUND)

		c := newSignal(t, db, "third")
		all, err := db.Signals(ctx, tocsin.SignalFilter{})
		if err != nil {
			t.Fatal(err)
		}
		var order []string
		for _, s := range all {
			order = append(order, s.Subject)
		}
		if strings.Join(order, ",") != "third,second,first" {
			t.Errorf("queue order = %v, want the open one first", order)
		}
		open, _ := db.Signals(ctx, tocsin.SignalFilter{State: tocsin.SignalOpen})
		if len(open) != 1 || open[0].ID != c.ID {
			t.Errorf("open signals = %v", open)
		}

		n, newest, err := db.CountSignalsFrom(ctx, "198.51.100.7", time.Now().Add(-time.Hour))
		if err != nil || n != 3 || !newest.Equal(c.ReceivedAt) {
			t.Errorf("CountSignalsFrom = %d %v %v, want 3 at %v", n, newest, err, c.ReceivedAt)
		}
		if n, _, _ := db.CountSignalsFrom(ctx, "203.0.113.1", time.Now().Add(-time.Hour)); n != 0 {
			t.Errorf("another network counts %d", n)
		}
	})
}
