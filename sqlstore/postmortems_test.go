package sqlstore

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/tocsin-org/tocsin"
)

var (
	author   = tocsin.Actor{UserID: 11, Label: "author@example.org", IP: "192.0.2.11"}
	editor   = tocsin.Actor{UserID: 12, Label: "editor@example.org", IP: "192.0.2.12"}
	approver = tocsin.Actor{UserID: 13, Label: "approver@example.org", IP: "192.0.2.13"}
)

var approverRoles = tocsin.Roles{tocsin.RoleApprover}

func resolvedIncident(t *testing.T, db *DB) *tocsin.Incident {
	t.Helper()
	inc := newIncident(t, db, "Mail down", tocsin.IncidentInvestigating)
	if err := db.AddUpdate(context.Background(), admin, inc.ID, &tocsin.Update{Status: tocsin.IncidentResolved, Body: "Fixed."}, nil); err != nil {
		t.Fatal(err)
	}
	return inc
}

func TestPostmortemLifecycle(t *testing.T) {
	forEachStore(t, func(t *testing.T, db *DB) {
		ctx := context.Background()
		inc := resolvedIncident(t, db)
		target := fmt.Sprintf("postmortem:%d", inc.ID)

		if _, err := db.Postmortem(ctx, inc.ID); tocsin.ErrorCode(err) != tocsin.ENOTFOUND {
			t.Fatalf("Postmortem before any: %v", err)
		}
		t0 := now().Add(-2 * time.Hour).Truncate(time.Second)
		p := &tocsin.Postmortem{IncidentID: inc.ID, Summary: "Mail was down.", RootCause: "A full disk.",
			Timeline: []tocsin.TimelineEntry{{At: t0.Add(time.Hour), Text: "Fixed"}, {At: t0, Text: "Alert"}}}
		e := audited(t, db, func() error { return db.SavePostmortem(ctx, author, p) })
		wantEntry(t, e, "postmortem.create", target, "", `status=draft revision=1 summary="Mail was down." timeline=2`)
		if p.Revision != 1 || p.Status != tocsin.PostmortemDraft || len(p.Contributors) != 1 || p.Contributors[0].Key != "user:11" ||
			len(p.Timeline) != 2 || p.Timeline[0].Text != "Alert" || !p.Timeline[0].At.Equal(t0) {
			t.Fatalf("saved = %+v", p)
		}

		// An unchanged text is no edit.
		same := &tocsin.Postmortem{IncidentID: inc.ID, Summary: " Mail was down. ", RootCause: "A full disk.", Timeline: p.Timeline}
		if err := notAudited(t, db, func() error { return db.SavePostmortem(ctx, editor, same) }); err != nil || same.Revision != 1 {
			t.Fatalf("unchanged save: %v, revision %d", err, same.Revision)
		}

		// An editor joins the contributors.
		p.WentWell = "Alerts fired."
		e = audited(t, db, func() error { return db.SavePostmortem(ctx, editor, p) })
		wantEntry(t, e, "postmortem.edit", target, "status=draft revision=1", "status=draft revision=2 changed=went_well")
		if p.Revision != 2 || len(p.Contributors) != 2 || p.Contributors[1].Label != editor.Label {
			t.Fatalf("after edit = %+v", p)
		}

		// Publishing before approval is a conflict.
		wantCode(t, notAudited(t, db, func() error { return db.PublishPostmortem(ctx, approver, inc.ID, nil) }), tocsin.ECONFLICT)

		// Neither the author nor the editor approves; a stale revision neither.
		for _, a := range []tocsin.Actor{author, editor} {
			wantCode(t, notAudited(t, db, func() error { return db.ApprovePostmortem(ctx, a, approverRoles, inc.ID, 2) }), tocsin.EFORBIDDEN)
		}
		wantCode(t, notAudited(t, db, func() error {
			return db.ApprovePostmortem(ctx, approver, tocsin.Roles{tocsin.RoleCommunicator}, inc.ID, 2)
		}), tocsin.EFORBIDDEN)
		wantCode(t, notAudited(t, db, func() error { return db.ApprovePostmortem(ctx, approver, approverRoles, inc.ID, 1) }), tocsin.ECONFLICT)

		e = audited(t, db, func() error { return db.ApprovePostmortem(ctx, approver, approverRoles, inc.ID, 2) })
		wantEntry(t, e, "postmortem.approve", target, "status=draft revision=2", "status=approved revision=2 approved_by=approver@example.org")
		got, err := db.Postmortem(ctx, inc.ID)
		if err != nil || got.Status != tocsin.PostmortemApproved || got.ApprovedBy != approver.Label || got.ApprovedAt == nil {
			t.Fatalf("approved = %+v, %v", got, err)
		}

		// Editing after approval withdraws it.
		p.Changes = "Disk alerts at 80 %."
		e = audited(t, db, func() error { return db.SavePostmortem(ctx, author, p) })
		wantEntry(t, e, "postmortem.edit", target, "status=approved revision=2 approved_by=approver@example.org",
			"status=draft revision=3 changed=changes approval=withdrawn")
		if p.Status != tocsin.PostmortemDraft || p.ApprovedBy != "" || p.ApprovedAt != nil || len(p.Contributors) != 2 {
			t.Fatalf("after withdrawing edit = %+v", p)
		}
		wantCode(t, notAudited(t, db, func() error { return db.PublishPostmortem(ctx, approver, inc.ID, nil) }), tocsin.ECONFLICT)

		audited(t, db, func() error { return db.ApprovePostmortem(ctx, approver, approverRoles, inc.ID, 3) })
		e = audited(t, db, func() error { return db.PublishPostmortem(ctx, editor, inc.ID, msg("pm-1")) })
		published, err := db.Postmortem(ctx, inc.ID)
		if err != nil {
			t.Fatal(err)
		}
		wantEntry(t, e, "postmortem.publish", target, "status=approved revision=3 approved_by=approver@example.org",
			"status=published revision=3 approved_by=approver@example.org incident_status=resolved→postmortem sha256="+published.Digest())
		if n := count(t, db, `SELECT COUNT(*) FROM messages WHERE key = ?`, "pm-1"); n != 1 {
			t.Errorf("%d messages enqueued, want 1", n)
		}
		got, err = db.Postmortem(ctx, inc.ID)
		if err != nil || !got.Published() || got.PublishedAt == nil || got.PublishedBy != editor.Label {
			t.Fatalf("published = %+v, %v", got, err)
		}
		if i := getIncident(t, db, inc.ID); i.Status != tocsin.IncidentPostmortem || len(i.Updates) != 2 {
			t.Errorf("incident after publishing: status %s, %d updates", i.Status, len(i.Updates))
		}

		// Published is final.
		p.Summary = "Changed."
		wantCode(t, notAudited(t, db, func() error { return db.SavePostmortem(ctx, author, p) }), tocsin.ECONFLICT)
		wantCode(t, notAudited(t, db, func() error { return db.PublishPostmortem(ctx, editor, inc.ID, nil) }), tocsin.ECONFLICT)

		// A later note, even backdated, keeps the incident's status.
		note := &tocsin.Update{Status: tocsin.IncidentPostmortem, Body: "Note.", DisplayAt: now().Add(-24 * time.Hour)}
		if err := db.AddUpdate(ctx, admin, inc.ID, note, nil); err != nil {
			t.Fatal(err)
		}
		if i := getIncident(t, db, inc.ID); i.Status != tocsin.IncidentPostmortem {
			t.Errorf("after a backdated note: status %s", i.Status)
		}

		list, err := db.PublishedPostmortems(ctx)
		if err != nil || len(list) != 1 || list[0].IncidentID != inc.ID || len(list[0].Timeline) != 2 {
			t.Fatalf("PublishedPostmortems = %v, %v", list, err)
		}
	})
}

func TestPostmortemRefusals(t *testing.T) {
	forEachStore(t, func(t *testing.T, db *DB) {
		ctx := context.Background()
		wantCode(t, db.SavePostmortem(ctx, author, &tocsin.Postmortem{IncidentID: 999, Summary: "s"}), tocsin.ENOTFOUND)
		wantCode(t, db.ApprovePostmortem(ctx, approver, approverRoles, 999, 1), tocsin.ENOTFOUND)
		wantCode(t, db.PublishPostmortem(ctx, approver, 999, nil), tocsin.ENOTFOUND)

		open := newIncident(t, db, "Slow", tocsin.IncidentMonitoring)
		wantCode(t, notAudited(t, db, func() error {
			return db.SavePostmortem(ctx, author, &tocsin.Postmortem{IncidentID: open.ID, Summary: " "})
		}), tocsin.EINVALID)
		p := &tocsin.Postmortem{IncidentID: open.ID, Summary: "Slow."}
		audited(t, db, func() error { return db.SavePostmortem(ctx, author, p) })
		audited(t, db, func() error { return db.ApprovePostmortem(ctx, approver, approverRoles, open.ID, 1) })
		wantCode(t, notAudited(t, db, func() error { return db.ApprovePostmortem(ctx, approver, approverRoles, open.ID, 1) }), tocsin.ECONFLICT)
		// The incident is still open: no publishing yet.
		wantCode(t, notAudited(t, db, func() error { return db.PublishPostmortem(ctx, approver, open.ID, nil) }), tocsin.ECONFLICT)
		if list, err := db.PublishedPostmortems(ctx); err != nil || len(list) != 0 {
			t.Fatalf("PublishedPostmortems = %v, %v", list, err)
		}
	})
}
