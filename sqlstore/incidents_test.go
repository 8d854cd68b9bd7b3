package sqlstore

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tocsin-org/tocsin"
)

func msg(key string) []*tocsin.Message {
	return []*tocsin.Message{{Channel: tocsin.ChannelEmail, To: "sub@example.org", Subject: "Incident", Body: "…", Key: key}}
}

// newIncident creates a published incident on services with a first
// update of status st.
func newIncident(t *testing.T, db *DB, title string, st tocsin.IncidentStatus, services ...int64) *tocsin.Incident {
	t.Helper()
	at := now()
	inc := &tocsin.Incident{Title: title, PublishedAt: &at}
	for _, id := range services {
		inc.Services = append(inc.Services, tocsin.ServiceImpact{ServiceID: id, Status: tocsin.StatusPartialOutage})
	}
	if err := db.CreateIncident(context.Background(), admin, inc, &tocsin.Update{Status: st, Body: "We are looking."}, nil); err != nil {
		t.Fatalf("CreateIncident %s: %v", title, err)
	}
	return inc
}

func getIncident(t *testing.T, db *DB, id int64) *tocsin.Incident {
	t.Helper()
	inc, err := db.Incident(context.Background(), id)
	if err != nil {
		t.Fatalf("Incident %d: %v", id, err)
	}
	return inc
}

// updateList summarizes an incident's updates as "status:body", in order.
func updateList(inc *tocsin.Incident) []string {
	var out []string
	for _, u := range inc.Updates {
		out = append(out, string(u.Status)+":"+u.Body)
	}
	return out
}

func TestCreateIncident(t *testing.T) {
	forEachStore(t, func(t *testing.T, db *DB) {
		ctx := context.Background()
		mail := newService(t, db, &tocsin.Service{Name: "Mail"})
		masto := newService(t, db, &tocsin.Service{Name: "Mastodon"})
		pub := now().Add(-time.Hour)
		inc := &tocsin.Incident{Title: " Mail delays ", Impact: tocsin.ImpactMajor, ShowOnSites: true, PublishedAt: &pub,
			Services: []tocsin.ServiceImpact{{ServiceID: masto.ID, Status: tocsin.StatusDegraded}, {ServiceID: mail.ID, Status: tocsin.StatusMajorOutage}}}
		first := &tocsin.Update{Status: tocsin.IncidentInvestigating, Body: "Mail is **slow**."}
		e := audited(t, db, func() error { return db.CreateIncident(ctx, admin, inc, first, msg("inc-1")) })
		wantEntry(t, e, "incident.create", fmt.Sprintf("incident:%d", inc.ID), "",
			fmt.Sprintf(`title="Mail delays" status=investigating impact=major services=%d:major_outage,%d:degraded_performance published_at=%s`,
				mail.ID, masto.ID, pub.Format(time.RFC3339)))
		if n := count(t, db, `SELECT COUNT(*) FROM messages WHERE key = ?`, "inc-1"); n != 1 {
			t.Errorf("%d messages enqueued, want 1", n)
		}
		got := getIncident(t, db, inc.ID)
		if got.Title != "Mail delays" || got.Status != tocsin.IncidentInvestigating || got.Impact != tocsin.ImpactMajor || !got.ShowOnSites ||
			got.PublishedAt == nil || !got.PublishedAt.Equal(pub) || got.ResolvedAt != nil || got.CreatedBy != admin.Label ||
			!got.CreatedAt.Equal(inc.CreatedAt) || got.CreatedAt.Location() != time.UTC {
			t.Errorf("Incident = %+v", got)
		}
		wantServices := []tocsin.ServiceImpact{{ServiceID: mail.ID, Status: tocsin.StatusMajorOutage}, {ServiceID: masto.ID, Status: tocsin.StatusDegraded}}
		if !slices.Equal(got.Services, wantServices) || !slices.Equal(inc.Services, wantServices) {
			t.Errorf("Services = %+v (stored), %+v (given), want %+v", got.Services, inc.Services, wantServices)
		}
		if len(got.Updates) != 1 {
			t.Fatalf("%d updates", len(got.Updates))
		}
		u := got.Updates[0]
		if u.ID != first.ID || u.IncidentID != inc.ID || u.Body != first.Body || u.Author != admin.Label ||
			!u.DisplayAt.Equal(u.CreatedAt) || !u.CreatedAt.Equal(inc.CreatedAt) || u.Backdated() || len(u.Revisions) != 0 {
			t.Errorf("Update = %+v", u)
		}

		// A draft written after the fact, resolved from its first update.
		was := now().Add(-3 * time.Hour)
		draft := &tocsin.Incident{Title: "Earlier outage"}
		e = audited(t, db, func() error {
			return db.CreateIncident(ctx, admin, draft, &tocsin.Update{Status: tocsin.IncidentResolved, Body: "It was down.", DisplayAt: was}, nil)
		})
		wantEntry(t, e, "incident.create", fmt.Sprintf("incident:%d", draft.ID), "", `title="Earlier outage" status=resolved impact=minor services= draft`)
		got = getIncident(t, db, draft.ID)
		if got.Published() || got.Status != tocsin.IncidentResolved || got.ResolvedAt == nil || !got.ResolvedAt.Equal(was) ||
			!got.Updates[0].Backdated() || !got.Updates[0].DisplayAt.Equal(was) {
			t.Errorf("draft = %+v, update %+v", got, got.Updates[0])
		}

		for _, tc := range []struct {
			name  string
			inc   tocsin.Incident
			first *tocsin.Update
			code  string
			msg   string
		}{
			{"unknown service", tocsin.Incident{Title: "X", Services: []tocsin.ServiceImpact{{ServiceID: mail.ID, Status: tocsin.StatusDegraded}, {ServiceID: 999, Status: tocsin.StatusDegraded}}},
				&tocsin.Update{Status: tocsin.IncidentInvestigating, Body: "b"}, tocsin.EINVALID, "there is no service 999"},
			{"service twice", tocsin.Incident{Title: "X", Services: []tocsin.ServiceImpact{{ServiceID: mail.ID, Status: tocsin.StatusDegraded}, {ServiceID: mail.ID, Status: tocsin.StatusDegraded}}},
				&tocsin.Update{Status: tocsin.IncidentInvestigating, Body: "b"}, tocsin.EINVALID, "listed twice"},
			{"bad service status", tocsin.Incident{Title: "X", Services: []tocsin.ServiceImpact{{ServiceID: mail.ID, Status: "down"}}},
				&tocsin.Update{Status: tocsin.IncidentInvestigating, Body: "b"}, tocsin.EINVALID, "unknown status"},
			{"empty title", tocsin.Incident{Title: "  "}, &tocsin.Update{Status: tocsin.IncidentInvestigating, Body: "b"}, tocsin.EINVALID, "needs a title"},
			{"bad impact", tocsin.Incident{Title: "X", Impact: "huge"}, &tocsin.Update{Status: tocsin.IncidentInvestigating, Body: "b"}, tocsin.EINVALID, "unknown impact"},
			{"no first update", tocsin.Incident{Title: "X"}, nil, tocsin.EINVALID, "needs a first update"},
			{"empty body", tocsin.Incident{Title: "X"}, &tocsin.Update{Status: tocsin.IncidentInvestigating, Body: " \n"}, tocsin.EINVALID, "needs a message"},
			{"oversized body", tocsin.Incident{Title: "X"}, &tocsin.Update{Status: tocsin.IncidentInvestigating, Body: strings.Repeat("a", tocsin.MaxUpdateBytes+1)}, tocsin.EINVALID, "over 65536 bytes"},
			{"future date", tocsin.Incident{Title: "X"}, &tocsin.Update{Status: tocsin.IncidentInvestigating, Body: "b", DisplayAt: time.Now().Add(time.Hour)}, tocsin.EINVALID, "in the future"},
			{"bad status", tocsin.Incident{Title: "X"}, &tocsin.Update{Status: "fixed", Body: "b"}, tocsin.EINVALID, "unknown incident status"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				err := notAudited(t, db, func() error { return db.CreateIncident(ctx, admin, &tc.inc, tc.first, msg("refused")) })
				wantCode(t, err, tc.code)
				if !strings.Contains(tocsin.ErrorMessage(err), tc.msg) {
					t.Errorf("message = %q, want it to contain %q", tocsin.ErrorMessage(err), tc.msg)
				}
				if n := count(t, db, `SELECT COUNT(*) FROM incidents`); n != 2 {
					t.Errorf("%d incidents, want 2", n)
				}
				if n := count(t, db, `SELECT COUNT(*) FROM incident_updates`); n != 2 {
					t.Errorf("%d updates, want 2", n)
				}
				if n := count(t, db, `SELECT COUNT(*) FROM messages WHERE key = ?`, "refused"); n != 0 {
					t.Errorf("%d messages enqueued by a refused incident", n)
				}
			})
		}
		var te *tocsin.Error
		err := db.CreateIncident(ctx, admin, &tocsin.Incident{Title: "X", Services: []tocsin.ServiceImpact{{ServiceID: 999, Status: tocsin.StatusDegraded}}},
			&tocsin.Update{Status: tocsin.IncidentInvestigating, Body: "b"}, nil)
		if !asError(err, &te) || te.Key != "incidents.service_unknown" || !slices.Equal(te.Args, []any{int64(999)}) {
			t.Errorf("unknown service error = %#v", err)
		}
		_, err = db.Incident(ctx, 999)
		wantCode(t, err, tocsin.ENOTFOUND)
	})
}

func asError(err error, te **tocsin.Error) bool {
	*te = &tocsin.Error{}
	return errors.As(err, te)
}

func TestAddUpdate(t *testing.T) {
	forEachStore(t, func(t *testing.T, db *DB) {
		ctx := context.Background()
		inc := newIncident(t, db, "Mail delays", tocsin.IncidentInvestigating)
		target := fmt.Sprintf("incident:%d", inc.ID)

		u := &tocsin.Update{Status: tocsin.IncidentIdentified, Body: strings.Repeat("é", 70)}
		e := audited(t, db, func() error { return db.AddUpdate(ctx, admin, inc.ID, u, msg("upd-1")) })
		wantEntry(t, e, "incident.update", target, "status=investigating",
			fmt.Sprintf(`status=identified update=%d body="%s…"`, u.ID, strings.Repeat("é", 59)))
		if n := count(t, db, `SELECT COUNT(*) FROM messages WHERE key = ?`, "upd-1"); n != 1 {
			t.Errorf("%d messages enqueued, want 1", n)
		}
		if got := getIncident(t, db, inc.ID); got.Status != tocsin.IncidentIdentified || got.ResolvedAt != nil || !got.UpdatedAt.After(inc.UpdatedAt) {
			t.Errorf("after identified: %+v", got)
		}

		// A note written now about an earlier moment sorts by its date and
		// leaves the status of the newest update.
		back := &tocsin.Update{Status: tocsin.IncidentInvestigating, Body: "earlier", DisplayAt: inc.CreatedAt.Add(-time.Hour)}
		e = audited(t, db, func() error { return db.AddUpdate(ctx, admin, inc.ID, back, nil) })
		wantEntry(t, e, "incident.update", target, "status=identified", fmt.Sprintf(`status=identified update=%d body="earlier"`, back.ID))
		got := getIncident(t, db, inc.ID)
		if got.Status != tocsin.IncidentIdentified {
			t.Errorf("status after a backdated update = %s", got.Status)
		}
		if want := []string{"identified:" + u.Body, "investigating:We are looking.", "investigating:earlier"}; !slices.Equal(updateList(got), want) {
			t.Errorf("updates = %q, want %q", updateList(got), want)
		}
		if !got.Updates[2].Backdated() || got.Updates[0].Backdated() {
			t.Errorf("Backdated = %v, %v", got.Updates[2].Backdated(), got.Updates[0].Backdated())
		}

		// Two updates at the same moment: the later written first.
		same := now()
		a := &tocsin.Update{Status: tocsin.IncidentMonitoring, Body: "same A", DisplayAt: same}
		b := &tocsin.Update{Status: tocsin.IncidentMonitoring, Body: "same B", DisplayAt: same}
		for _, x := range []*tocsin.Update{a, b} {
			if err := db.AddUpdate(ctx, admin, inc.ID, x, nil); err != nil {
				t.Fatal(err)
			}
		}
		got = getIncident(t, db, inc.ID)
		if got.Updates[0].ID != b.ID || got.Updates[1].ID != a.ID || got.Status != tocsin.IncidentMonitoring {
			t.Errorf("same-time updates = %q, status %s", updateList(got), got.Status)
		}

		res := &tocsin.Update{Status: tocsin.IncidentResolved, Body: "Fixed."}
		e = audited(t, db, func() error { return db.AddUpdate(ctx, admin, inc.ID, res, msg("upd-res")) })
		wantEntry(t, e, "incident.update", target, "status=monitoring", fmt.Sprintf(`status=resolved update=%d body="Fixed."`, res.ID))
		got = getIncident(t, db, inc.ID)
		if got.Status != tocsin.IncidentResolved || got.ResolvedAt == nil || !got.ResolvedAt.Equal(res.DisplayAt) {
			t.Errorf("resolved incident = %+v, resolved at %v want %v", got, got.ResolvedAt, res.DisplayAt)
		}

		for _, tc := range []struct {
			name string
			id   int64
			u    tocsin.Update
			code string
			key  string
		}{
			{"update to a resolved incident", inc.ID, tocsin.Update{Status: tocsin.IncidentMonitoring, Body: "again?"}, tocsin.ECONFLICT, "incidents.closed"},
			{"resolved again", inc.ID, tocsin.Update{Status: tocsin.IncidentResolved, Body: "again?"}, tocsin.ECONFLICT, "incidents.closed"},
			{"unknown incident", 999, tocsin.Update{Status: tocsin.IncidentMonitoring, Body: "x"}, tocsin.ENOTFOUND, ""},
			{"empty body", inc.ID, tocsin.Update{Status: tocsin.IncidentPostmortem, Body: ""}, tocsin.EINVALID, "incidents.body_empty"},
			{"oversized body", inc.ID, tocsin.Update{Status: tocsin.IncidentPostmortem, Body: strings.Repeat("a", tocsin.MaxUpdateBytes+1)}, tocsin.EINVALID, "markdown.too_long"},
			{"future date", inc.ID, tocsin.Update{Status: tocsin.IncidentPostmortem, Body: "x", DisplayAt: time.Now().Add(2 * time.Minute)}, tocsin.EINVALID, "incidents.future"},
			{"bad status", inc.ID, tocsin.Update{Status: "done", Body: "x"}, tocsin.EINVALID, "incidents.status_unknown"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				err := notAudited(t, db, func() error { return db.AddUpdate(ctx, admin, tc.id, &tc.u, msg("refused")) })
				wantCode(t, err, tc.code)
				var te *tocsin.Error
				if asError(err, &te); te.Key != tc.key {
					t.Errorf("key = %q, want %q", te.Key, tc.key)
				}
				if tc.key == "incidents.closed" && !strings.HasPrefix(tocsin.ErrorMessage(err), "This incident is resolved: ") {
					t.Errorf("message = %q", tocsin.ErrorMessage(err))
				}
				if n := count(t, db, `SELECT COUNT(*) FROM incident_updates`); n != 6 {
					t.Errorf("%d updates, want 6", n)
				}
				if n := count(t, db, `SELECT COUNT(*) FROM messages WHERE key = ?`, "refused"); n != 0 {
					t.Errorf("%d messages enqueued by a refused update", n)
				}
				if got := getIncident(t, db, inc.ID); got.Status != tocsin.IncidentResolved {
					t.Errorf("status = %s after a refused update", got.Status)
				}
			})
		}

		pm := &tocsin.Update{Status: tocsin.IncidentPostmortem, Body: "What happened."}
		e = audited(t, db, func() error { return db.AddUpdate(ctx, admin, inc.ID, pm, msg("upd-pm")) })
		wantEntry(t, e, "incident.update", target, "status=resolved", fmt.Sprintf(`status=postmortem update=%d body="What happened."`, pm.ID))
		got = getIncident(t, db, inc.ID)
		if got.Status != tocsin.IncidentPostmortem || !got.ResolvedAt.Equal(res.DisplayAt) || got.Updates[0].ID != pm.ID {
			t.Errorf("after post-mortem note: %+v", got)
		}
		if n := count(t, db, `SELECT COUNT(*) FROM messages`); n != 3 {
			t.Errorf("%d messages in all, want 3", n)
		}
	})
}

func TestEditUpdate(t *testing.T) {
	forEachStore(t, func(t *testing.T, db *DB) {
		ctx := context.Background()
		inc := newIncident(t, db, "Mail delays", tocsin.IncidentInvestigating)
		other := newIncident(t, db, "Wiki down", tocsin.IncidentInvestigating)
		uid := inc.Updates[0].ID
		target := fmt.Sprintf("incident:%d", inc.ID)
		editor := tocsin.Actor{UserID: 2, Label: "editor@example.org"}

		e := audited(t, db, func() error { return db.EditUpdate(ctx, admin, uid, "We are lookin.") })
		wantEntry(t, e, "incident.update.edit", target, fmt.Sprintf(`update=%d body="We are looking."`, uid), fmt.Sprintf(`update=%d body="We are lookin."`, uid))
		long := strings.Repeat("x", 100)
		e = audited(t, db, func() error { return db.EditUpdate(ctx, editor, uid, long) })
		wantEntry(t, e, "incident.update.edit", target, fmt.Sprintf(`update=%d body="We are lookin."`, uid), fmt.Sprintf(`update=%d body="%s…"`, uid, strings.Repeat("x", 59)))
		e = audited(t, db, func() error { return db.EditUpdate(ctx, editor, uid, long+"y") })
		wantEntry(t, e, "incident.update.edit", target, fmt.Sprintf(`update=%d body=(100 bytes)`, uid), fmt.Sprintf(`update=%d body=(101 bytes)`, uid))
		if err := notAudited(t, db, func() error { return db.EditUpdate(ctx, editor, uid, long+"y") }); err != nil {
			t.Errorf("unchanged edit: %v", err)
		}

		got := getIncident(t, db, inc.ID)
		u := got.Updates[0]
		if u.Body != long+"y" {
			t.Errorf("body = %q", u.Body)
		}
		var revs []string
		for _, r := range u.Revisions {
			revs = append(revs, r.EditedBy+":"+r.Body)
			if r.EditedAt.Before(u.CreatedAt) || r.EditedAt.Location() != time.UTC {
				t.Errorf("revision edited at %v", r.EditedAt)
			}
		}
		if want := []string{admin.Label + ":We are looking.", editor.Label + ":We are lookin.", editor.Label + ":" + long}; !slices.Equal(revs, want) {
			t.Errorf("revisions = %q, want %q", revs, want)
		}
		if o := getIncident(t, db, other.ID); len(o.Updates[0].Revisions) != 0 || o.Updates[0].Body != "We are looking." {
			t.Errorf("other incident's update touched: %+v", o.Updates[0])
		}

		for _, tc := range []struct {
			name string
			id   int64
			body string
			code string
		}{
			{"unknown update", 999, "x", tocsin.ENOTFOUND},
			{"empty body", uid, "  ", tocsin.EINVALID},
			{"oversized body", uid, strings.Repeat("a", tocsin.MaxUpdateBytes+1), tocsin.EINVALID},
		} {
			t.Run(tc.name, func(t *testing.T) {
				wantCode(t, notAudited(t, db, func() error { return db.EditUpdate(ctx, admin, tc.id, tc.body) }), tc.code)
				if n := count(t, db, `SELECT COUNT(*) FROM update_revisions`); n != 3 {
					t.Errorf("%d revisions, want 3", n)
				}
			})
		}
	})
}

func TestPublishIncident(t *testing.T) {
	forEachStore(t, func(t *testing.T, db *DB) {
		ctx := context.Background()
		draft := &tocsin.Incident{Title: "Draft"}
		if err := db.CreateIncident(ctx, admin, draft, &tocsin.Update{Status: tocsin.IncidentInvestigating, Body: "x"}, nil); err != nil {
			t.Fatal(err)
		}
		at := now().Add(-time.Minute)
		e := audited(t, db, func() error { return db.PublishIncident(ctx, admin, draft.ID, at, msg("pub")) })
		wantEntry(t, e, "incident.publish", fmt.Sprintf("incident:%d", draft.ID), "draft", "published_at="+at.Format(time.RFC3339))
		if got := getIncident(t, db, draft.ID); got.PublishedAt == nil || !got.PublishedAt.Equal(at) {
			t.Errorf("PublishedAt = %v, want %v", got.PublishedAt, at)
		}
		if n := count(t, db, `SELECT COUNT(*) FROM messages WHERE key = ?`, "pub"); n != 1 {
			t.Errorf("%d messages, want 1", n)
		}
		for _, tc := range []struct {
			name string
			id   int64
			code string
		}{
			{"already published", draft.ID, tocsin.ECONFLICT},
			{"unknown incident", 999, tocsin.ENOTFOUND},
		} {
			t.Run(tc.name, func(t *testing.T) {
				wantCode(t, notAudited(t, db, func() error { return db.PublishIncident(ctx, admin, tc.id, time.Time{}, msg("refused")) }), tc.code)
				if n := count(t, db, `SELECT COUNT(*) FROM messages WHERE key = ?`, "refused"); n != 0 {
					t.Errorf("%d messages enqueued by a refused publication", n)
				}
			})
		}
		if got := getIncident(t, db, draft.ID); !got.PublishedAt.Equal(at) {
			t.Errorf("PublishedAt moved to %v", got.PublishedAt)
		}
	})
}

func TestSetIncident(t *testing.T) {
	forEachStore(t, func(t *testing.T, db *DB) {
		ctx := context.Background()
		mail := newService(t, db, &tocsin.Service{Name: "Mail"})
		masto := newService(t, db, &tocsin.Service{Name: "Mastodon"})
		inc := newIncident(t, db, "Mail delays", tocsin.IncidentInvestigating, mail.ID)
		target := fmt.Sprintf("incident:%d", inc.ID)

		set := &tocsin.Incident{ID: inc.ID, Title: "Mail and Mastodon delays", Impact: tocsin.ImpactCritical, ShowOnSites: true,
			Services: []tocsin.ServiceImpact{{ServiceID: masto.ID, Status: tocsin.StatusMajorOutage}, {ServiceID: mail.ID, Status: tocsin.StatusPartialOutage}}}
		e := audited(t, db, func() error { return db.SetIncident(ctx, admin, set) })
		wantEntry(t, e, "incident.set", target,
			fmt.Sprintf(`title="Mail delays" impact=minor services=%d:partial_outage show_on_sites=false`, mail.ID),
			fmt.Sprintf(`title="Mail and Mastodon delays" impact=critical services=%d:partial_outage,%d:major_outage show_on_sites=true`, mail.ID, masto.ID))
		got := getIncident(t, db, inc.ID)
		if got.Title != set.Title || got.Impact != tocsin.ImpactCritical || !got.ShowOnSites || len(got.Services) != 2 ||
			got.Services[1] != (tocsin.ServiceImpact{ServiceID: masto.ID, Status: tocsin.StatusMajorOutage}) {
			t.Errorf("after set: %+v", got)
		}
		if set.Status != tocsin.IncidentInvestigating || len(set.Updates) != 1 || !set.CreatedAt.Equal(inc.CreatedAt) || !slices.Equal(set.Services, got.Services) {
			t.Errorf("set not filled from the store: %+v", set)
		}

		same := &tocsin.Incident{ID: inc.ID, Title: " Mail and Mastodon delays", Impact: tocsin.ImpactCritical, ShowOnSites: true,
			Services: []tocsin.ServiceImpact{{ServiceID: mail.ID, Status: tocsin.StatusPartialOutage}, {ServiceID: masto.ID, Status: tocsin.StatusMajorOutage}}}
		if err := notAudited(t, db, func() error { return db.SetIncident(ctx, admin, same) }); err != nil {
			t.Errorf("unchanged set: %v", err)
		}
		e = audited(t, db, func() error {
			return db.SetIncident(ctx, admin, &tocsin.Incident{ID: inc.ID, Title: "Mail and Mastodon delays", Impact: tocsin.ImpactCritical, ShowOnSites: true})
		})
		wantEntry(t, e, "incident.set", target, fmt.Sprintf("services=%d:partial_outage,%d:major_outage", mail.ID, masto.ID), "services=")

		for _, tc := range []struct {
			name string
			inc  tocsin.Incident
			code string
			msg  string
		}{
			{"unknown incident", tocsin.Incident{ID: 999, Title: "X"}, tocsin.ENOTFOUND, "incident 999 does not exist"},
			{"unknown service", tocsin.Incident{ID: inc.ID, Title: "X", Services: []tocsin.ServiceImpact{{ServiceID: 998, Status: tocsin.StatusDegraded}}}, tocsin.EINVALID, "there is no service 998"},
			{"empty title", tocsin.Incident{ID: inc.ID, Title: ""}, tocsin.EINVALID, "needs a title"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				err := notAudited(t, db, func() error { return db.SetIncident(ctx, admin, &tc.inc) })
				wantCode(t, err, tc.code)
				if !strings.Contains(tocsin.ErrorMessage(err), tc.msg) {
					t.Errorf("message = %q, want it to contain %q", tocsin.ErrorMessage(err), tc.msg)
				}
				if got := getIncident(t, db, inc.ID); got.Title != "Mail and Mastodon delays" {
					t.Errorf("title = %q after a refused set", got.Title)
				}
			})
		}
	})
}

func TestIncidentLosesDeletedService(t *testing.T) {
	forEachStore(t, func(t *testing.T, db *DB) {
		ctx := context.Background()
		mail := newService(t, db, &tocsin.Service{Name: "Mail"})
		masto := newService(t, db, &tocsin.Service{Name: "Mastodon"})
		inc := newIncident(t, db, "Both down", tocsin.IncidentInvestigating, mail.ID, masto.ID)
		if err := db.DeleteService(ctx, admin, mail.ID); err != nil {
			t.Fatal(err)
		}
		got := getIncident(t, db, inc.ID)
		if len(got.Services) != 1 || got.Services[0].ServiceID != masto.ID {
			t.Errorf("Services after deleting one = %+v", got.Services)
		}
	})
}

func TestIncidents(t *testing.T) {
	forEachStore(t, func(t *testing.T, db *DB) {
		ctx := context.Background()
		mail := newService(t, db, &tocsin.Service{Name: "Mail"})
		base := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
		names := map[int64]string{}
		// a..e created a day apart; b is resolved, d a draft, e a post-mortem.
		for i, spec := range []struct {
			name  string
			st    tocsin.IncidentStatus
			draft bool
		}{
			{"a", tocsin.IncidentInvestigating, false},
			{"b", tocsin.IncidentResolved, false},
			{"c", tocsin.IncidentMonitoring, false},
			{"d", tocsin.IncidentIdentified, true},
			{"e", tocsin.IncidentPostmortem, false},
		} {
			inc := newIncident(t, db, spec.name, spec.st, mail.ID)
			names[inc.ID] = spec.name
			raw(t, db, `UPDATE incidents SET created_at = ? WHERE id = ?`, base.AddDate(0, 0, i), inc.ID)
			if spec.draft {
				raw(t, db, `UPDATE incidents SET published_at = NULL WHERE id = ?`, inc.ID)
			}
			next := spec.st
			if next.Closed() {
				next = tocsin.IncidentPostmortem
			}
			if err := db.AddUpdate(ctx, admin, inc.ID, &tocsin.Update{Status: next, Body: spec.name + " again"}, nil); err != nil {
				t.Fatal(err)
			}
		}
		yes, no := true, false
		for _, tc := range []struct {
			name string
			f    tocsin.IncidentFilter
			want string
		}{
			{"all", tocsin.IncidentFilter{}, "edcba"},
			{"published", tocsin.IncidentFilter{Published: &yes}, "ecba"},
			{"drafts", tocsin.IncidentFilter{Published: &no}, "d"},
			{"open", tocsin.IncidentFilter{Open: &yes}, "dca"},
			{"closed", tocsin.IncidentFilter{Open: &no}, "eb"},
			{"open published", tocsin.IncidentFilter{Open: &yes, Published: &yes}, "ca"},
			{"since", tocsin.IncidentFilter{Since: base.AddDate(0, 0, 2)}, "edc"},
			{"until", tocsin.IncidentFilter{Until: base.AddDate(0, 0, 2)}, "ba"},
			{"window", tocsin.IncidentFilter{Since: base.AddDate(0, 0, 1), Until: base.AddDate(0, 0, 3)}, "cb"},
			{"limit", tocsin.IncidentFilter{Limit: 2}, "ed"},
			{"offset", tocsin.IncidentFilter{Limit: 2, Offset: 2}, "cb"},
			{"past the end", tocsin.IncidentFilter{Offset: 10}, ""},
		} {
			t.Run(tc.name, func(t *testing.T) {
				got, err := db.Incidents(ctx, tc.f)
				if err != nil {
					t.Fatal(err)
				}
				var s string
				for _, inc := range got {
					s += inc.Title
					if len(inc.Services) != 1 || inc.Services[0].ServiceID != mail.ID {
						t.Errorf("%s: services %+v", inc.Title, inc.Services)
					}
					if len(inc.Updates) != 2 || inc.Updates[0].Body != inc.Title+" again" {
						t.Errorf("%s: updates %q", inc.Title, updateList(inc))
					}
					for _, u := range inc.Updates {
						if u.IncidentID != inc.ID {
							t.Errorf("%s holds update %d of incident %d", inc.Title, u.ID, u.IncidentID)
						}
					}
				}
				if s != tc.want {
					t.Errorf("Incidents = %q, want %q", s, tc.want)
				}
			})
		}
	})
}

// TestIncidentsPage reads a page of many incidents, each with its own
// services, updates and revisions, and checks nothing is mixed up.
func TestIncidentsPage(t *testing.T) {
	forEachStore(t, func(t *testing.T, db *DB) {
		ctx := context.Background()
		mail := newService(t, db, &tocsin.Service{Name: "Mail"})
		const n = 120
		for i := range n {
			inc := newIncident(t, db, fmt.Sprint(i), tocsin.IncidentInvestigating, mail.ID)
			if err := db.AddUpdate(ctx, admin, inc.ID, &tocsin.Update{Status: tocsin.IncidentResolved, Body: fmt.Sprint("done ", i)}, nil); err != nil {
				t.Fatal(err)
			}
			if i%3 == 0 {
				if err := db.EditUpdate(ctx, admin, inc.Updates[0].ID, fmt.Sprint("edited ", i)); err != nil {
					t.Fatal(err)
				}
			}
		}
		got, err := db.Incidents(ctx, tocsin.IncidentFilter{Limit: 1000})
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != n {
			t.Fatalf("%d incidents, want %d", len(got), n)
		}
		for k, inc := range got {
			i := n - 1 - k
			if inc.Title != fmt.Sprint(i) || inc.Status != tocsin.IncidentResolved || len(inc.Updates) != 2 || len(inc.Services) != 1 {
				t.Fatalf("incident %d = %+v", k, inc)
			}
			if inc.Updates[0].Body != fmt.Sprint("done ", i) {
				t.Errorf("incident %s: newest update %q", inc.Title, inc.Updates[0].Body)
			}
			first := inc.Updates[1]
			if i%3 == 0 {
				if first.Body != fmt.Sprint("edited ", i) || len(first.Revisions) != 1 || first.Revisions[0].Body != "We are looking." {
					t.Errorf("incident %s: first update %+v", inc.Title, first)
				}
			} else if len(first.Revisions) != 0 {
				t.Errorf("incident %s: revisions %+v", inc.Title, first.Revisions)
			}
		}
		if def, _ := db.Incidents(ctx, tocsin.IncidentFilter{}); len(def) != 50 {
			t.Errorf("default page = %d incidents, want 50", len(def))
		}
	})
}
