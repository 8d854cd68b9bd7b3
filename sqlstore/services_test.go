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

// count runs a COUNT query behind the store's back.
func count(t *testing.T, db *DB, query string, args ...any) int {
	t.Helper()
	var n int
	if err := (conn{q: db.w, dialect: db.dialect}).queryRow(context.Background(), query, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return n
}

// newService creates a service through the API path.
func newService(t *testing.T, db *DB, s *tocsin.Service) *tocsin.Service {
	t.Helper()
	if err := db.CreateService(context.Background(), admin, s); err != nil {
		t.Fatalf("CreateService %s: %v", s.Name, err)
	}
	return s
}

// serviceList summarizes Services as "name/group/position" (with "/config"
// for config-managed ones), in order.
func serviceList(t *testing.T, db *DB) []string {
	t.Helper()
	ss, err := db.Services(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, s := range ss {
		v := fmt.Sprintf("%s/%s/%d", s.Name, s.Group, s.Position)
		if s.ConfigManaged {
			v += "/config"
		}
		out = append(out, v)
	}
	return out
}

func TestCreateService(t *testing.T) {
	forEachStore(t, func(t *testing.T, db *DB) {
		ctx := context.Background()
		s := &tocsin.Service{Name: " Mastodon ", Group: "Social", Description: "Our Mastodon instance",
			Link: "https://social.example.org", ConfigManaged: true}
		e := audited(t, db, func() error { return db.CreateService(ctx, admin, s) })
		wantEntry(t, e, "service.create", fmt.Sprintf("service:%d", s.ID), "", `name="Mastodon" group="Social" position=0 status=operational`)
		got, err := db.Service(ctx, s.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.Name != "Mastodon" || got.Group != "Social" || got.Description != "Our Mastodon instance" ||
			got.Link != "https://social.example.org" || got.Status != tocsin.StatusOperational || got.ConfigManaged ||
			!got.CreatedAt.Equal(s.CreatedAt) || !got.UpdatedAt.Equal(s.CreatedAt) || got.CreatedAt.Location() != time.UTC {
			t.Errorf("Service = %+v, created %+v", got, s)
		}
		h, err := db.StatusHistory(ctx, s.CreatedAt)
		if err != nil {
			t.Fatal(err)
		}
		if want := []tocsin.StatusChange{{ServiceID: s.ID, Status: tocsin.StatusOperational, At: s.CreatedAt}}; !slices.Equal(h, want) {
			t.Errorf("history from creation = %+v, want %+v", h, want)
		}
		other := newService(t, db, &tocsin.Service{Name: "Mail", Status: tocsin.StatusMajorOutage})
		if got, _ := db.Service(ctx, other.ID); got.Status != tocsin.StatusMajorOutage {
			t.Errorf("initial status = %q", got.Status)
		}

		for _, tc := range []struct {
			name string
			s    tocsin.Service
			code string
			msg  string
		}{
			{"same name, other case", tocsin.Service{Name: "MASTODON"}, tocsin.ECONFLICT, `a service named "Mastodon" already exists`},
			{"empty name", tocsin.Service{Name: "  "}, tocsin.EINVALID, "a service needs a name"},
			{"long name", tocsin.Service{Name: strings.Repeat("x", 101)}, tocsin.EINVALID, "a service needs a name"},
			{"bad link", tocsin.Service{Name: "Wiki", Link: "javascript:alert(1)"}, tocsin.EINVALID, "give an http:// or https:// address"},
			{"bad status", tocsin.Service{Name: "Wiki", Status: "down"}, tocsin.EINVALID, "unknown status"},
			{"bad position", tocsin.Service{Name: "Wiki", Position: -1}, tocsin.EINVALID, "position -1"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				err := notAudited(t, db, func() error { return db.CreateService(ctx, admin, &tc.s) })
				wantCode(t, err, tc.code)
				if !strings.Contains(tocsin.ErrorMessage(err), tc.msg) {
					t.Errorf("message = %q, want it to contain %q", tocsin.ErrorMessage(err), tc.msg)
				}
				if n := count(t, db, `SELECT COUNT(*) FROM services`); n != 2 {
					t.Errorf("%d services, want 2", n)
				}
				if n := count(t, db, `SELECT COUNT(*) FROM service_status_history`); n != 2 {
					t.Errorf("%d history rows, want 2", n)
				}
			})
		}
		_, err = db.Service(ctx, 999)
		wantCode(t, err, tocsin.ENOTFOUND)
	})
}

func TestUpdateService(t *testing.T) {
	forEachStore(t, func(t *testing.T, db *DB) {
		ctx := context.Background()
		m := newService(t, db, &tocsin.Service{Name: "Mastodon", Group: "Social", Description: "Toots"})
		newService(t, db, &tocsin.Service{Name: "Mail"})
		target := fmt.Sprintf("service:%d", m.ID)

		for _, tc := range []struct {
			name          string
			s             tocsin.Service
			before, after string // "" and "" for no audit entry
		}{
			{"move and link", tocsin.Service{Name: "Mastodon", Group: "Fediverse", Description: "Toots", Link: "https://m.example.org", Position: 3},
				`group="Social" position=0 link=""`, `group="Fediverse" position=3 link="https://m.example.org"`},
			{"rename in other case", tocsin.Service{Name: "MASTODON", Group: "Fediverse", Description: "Toots", Link: "https://m.example.org", Position: 3},
				`name="Mastodon"`, `name="MASTODON"`},
			{"long description cut", tocsin.Service{Name: "MASTODON", Group: "Fediverse", Description: strings.Repeat("é", 70), Link: "https://m.example.org", Position: 3},
				`description="Toots"`, `description="` + strings.Repeat("é", 59) + `…"`},
			{"change past the cut", tocsin.Service{Name: "MASTODON", Group: "Fediverse", Description: strings.Repeat("é", 69) + "e", Link: "https://m.example.org", Position: 3},
				`description=(changed)`, `description=(changed)`},
			{"status is ignored, nothing changes", tocsin.Service{Name: " MASTODON", Group: "Fediverse", Description: strings.Repeat("é", 69) + "e", Link: "https://m.example.org", Position: 3, Status: tocsin.StatusMajorOutage},
				"", ""},
		} {
			t.Run(tc.name, func(t *testing.T) {
				s := tc.s
				s.ID = m.ID
				if tc.after == "" {
					if err := notAudited(t, db, func() error { return db.UpdateService(ctx, admin, &s) }); err != nil {
						t.Fatal(err)
					}
				} else {
					e := audited(t, db, func() error { return db.UpdateService(ctx, admin, &s) })
					wantEntry(t, e, "service.update", target, tc.before, tc.after)
				}
				got, err := db.Service(ctx, m.ID)
				if err != nil {
					t.Fatal(err)
				}
				if got.Name != strings.TrimSpace(tc.s.Name) || got.Group != tc.s.Group || got.Position != tc.s.Position ||
					got.Link != tc.s.Link || got.Description != tc.s.Description || got.Status != tocsin.StatusOperational {
					t.Errorf("Service = %+v", got)
				}
				if s.Status != tocsin.StatusOperational || !s.CreatedAt.Equal(m.CreatedAt) || !s.UpdatedAt.Equal(got.UpdatedAt) {
					t.Errorf("updated value not filled from the store: %+v", s)
				}
			})
		}

		for _, tc := range []struct {
			name string
			s    tocsin.Service
			code string
		}{
			{"unknown service", tocsin.Service{ID: 999, Name: "Wiki"}, tocsin.ENOTFOUND},
			{"name of another, other case", tocsin.Service{ID: m.ID, Name: "mail"}, tocsin.ECONFLICT},
			{"empty name", tocsin.Service{ID: m.ID, Name: ""}, tocsin.EINVALID},
			{"bad link", tocsin.Service{ID: m.ID, Name: "Mastodon", Link: "ftp://x"}, tocsin.EINVALID},
		} {
			t.Run(tc.name, func(t *testing.T) {
				wantCode(t, notAudited(t, db, func() error { return db.UpdateService(ctx, admin, &tc.s) }), tc.code)
				if got, _ := db.Service(ctx, m.ID); got.Name != "MASTODON" {
					t.Errorf("name = %q after a refused update", got.Name)
				}
			})
		}
	})
}

func TestDeleteService(t *testing.T) {
	forEachStore(t, func(t *testing.T, db *DB) {
		ctx := context.Background()
		m := newService(t, db, &tocsin.Service{Name: "Mastodon", Group: "Social"})
		mail := newService(t, db, &tocsin.Service{Name: "Mail"})
		if err := db.SetServiceStatus(ctx, admin, m.ID, tocsin.StatusDegraded, time.Time{}); err != nil {
			t.Fatal(err)
		}
		e := audited(t, db, func() error { return db.DeleteService(ctx, admin, m.ID) })
		wantEntry(t, e, "service.delete", fmt.Sprintf("service:%d", m.ID), `name="Mastodon" group="Social" status=degraded_performance`, "")
		_, err := db.Service(ctx, m.ID)
		wantCode(t, err, tocsin.ENOTFOUND)
		if n := count(t, db, `SELECT COUNT(*) FROM service_status_history WHERE service_id = ?`, m.ID); n != 0 {
			t.Errorf("%d history rows left after delete", n)
		}
		if n := count(t, db, `SELECT COUNT(*) FROM service_status_history WHERE service_id = ?`, mail.ID); n != 1 {
			t.Errorf("other service has %d history rows, want 1", n)
		}
		if got := serviceList(t, db); !slices.Equal(got, []string{"Mail//0"}) {
			t.Errorf("Services = %q; the emptied group should be gone", got)
		}
		wantCode(t, notAudited(t, db, func() error { return db.DeleteService(ctx, admin, m.ID) }), tocsin.ENOTFOUND)
	})
}

func TestSetServiceStatus(t *testing.T) {
	forEachStore(t, func(t *testing.T, db *DB) {
		ctx := context.Background()
		t0 := now().Add(-time.Hour)
		s := newService(t, db, &tocsin.Service{Name: "Mail", CreatedAt: t0})
		target := fmt.Sprintf("service:%d", s.ID)

		for _, tc := range []struct {
			name   string
			status tocsin.ServiceStatus
			at     time.Time
			wantAt time.Time // zero: no change recorded
			before string
		}{
			{"outage", tocsin.StatusMajorOutage, t0.Add(10 * time.Minute), t0.Add(10 * time.Minute), "operational"},
			{"unchanged is a no-op", tocsin.StatusMajorOutage, t0.Add(20 * time.Minute), time.Time{}, ""},
			{"backdated before the last change is kept in order", tocsin.StatusPartialOutage, t0.Add(5 * time.Minute), t0.Add(10 * time.Minute), "major_outage"},
			{"spaces around a status", " operational ", t0.Add(30 * time.Minute), t0.Add(30 * time.Minute), "partial_outage"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				rows := count(t, db, `SELECT COUNT(*) FROM service_status_history`)
				want := tocsin.ServiceStatus(strings.TrimSpace(string(tc.status)))
				if tc.wantAt.IsZero() {
					if err := notAudited(t, db, func() error { return db.SetServiceStatus(ctx, admin, s.ID, tc.status, tc.at) }); err != nil {
						t.Fatal(err)
					}
					if n := count(t, db, `SELECT COUNT(*) FROM service_status_history`); n != rows {
						t.Errorf("history rows %d → %d, want none added", rows, n)
					}
					return
				}
				e := audited(t, db, func() error { return db.SetServiceStatus(ctx, admin, s.ID, tc.status, tc.at) })
				wantEntry(t, e, "service.status", target, "status="+tc.before, "status="+string(want))
				got, err := db.Service(ctx, s.ID)
				if err != nil || got.Status != want {
					t.Fatalf("Service = %+v, %v; want status %s", got, err, want)
				}
				h, err := db.StatusHistory(ctx, tc.wantAt)
				if err != nil {
					t.Fatal(err)
				}
				if last := h[len(h)-1]; last.Status != want || !last.At.Equal(tc.wantAt) {
					t.Errorf("last change = %+v, want %s at %v", last, want, tc.wantAt)
				}
			})
		}

		for _, tc := range []struct {
			name   string
			id     int64
			status tocsin.ServiceStatus
			code   string
		}{
			{"unknown service", 999, tocsin.StatusMajorOutage, tocsin.ENOTFOUND},
			{"unknown status", s.ID, "down", tocsin.EINVALID},
			{"empty status", s.ID, "", tocsin.EINVALID},
		} {
			t.Run(tc.name, func(t *testing.T) {
				wantCode(t, notAudited(t, db, func() error { return db.SetServiceStatus(ctx, admin, tc.id, tc.status, time.Time{}) }), tc.code)
			})
		}
	})
}

func TestServicesOrder(t *testing.T) {
	forEachStore(t, func(t *testing.T, db *DB) {
		ctx := context.Background()
		for _, s := range []tocsin.Service{
			{Name: "Wiki", Group: "Tools", Position: 1},
			{Name: "Mail", Group: "Communication", Position: 2},
			{Name: "Git", Group: "Tools", Position: 1},
			{Name: "Status", Position: 5},
			{Name: "Chat", Group: "Communication", Position: 1},
			{Name: "Pad", Group: "Apps", Position: 1},
			{Name: "dns", Position: 0},
			{Name: "Backups", Position: 5},
		} {
			newService(t, db, &s)
		}
		want := []string{
			"dns//0", "Backups//5", "Status//5", // no group first, by position then name
			"Pad/Apps/1", "Chat/Communication/1", "Mail/Communication/2", // groups at 1: by name
			"Git/Tools/1", "Wiki/Tools/1",
		}
		if got := serviceList(t, db); !slices.Equal(got, want) {
			t.Errorf("Services =\n%q\nwant\n%q", got, want)
		}
		// Moving a group's first service moves the group.
		ss, _ := db.Services(ctx)
		git := ss[6]
		git.Position = 0
		if err := db.UpdateService(ctx, admin, git); err != nil {
			t.Fatal(err)
		}
		want = []string{"dns//0", "Backups//5", "Status//5", "Git/Tools/0", "Wiki/Tools/1", "Pad/Apps/1", "Chat/Communication/1", "Mail/Communication/2"}
		if got := serviceList(t, db); !slices.Equal(got, want) {
			t.Errorf("Services =\n%q\nwant\n%q", got, want)
		}
	})
}

func TestStatusHistory(t *testing.T) {
	forEachStore(t, func(t *testing.T, db *DB) {
		ctx := context.Background()
		t0 := now().Add(-10 * 24 * time.Hour)
		at := func(h int) time.Time { return t0.Add(time.Duration(h) * time.Hour) }
		a := newService(t, db, &tocsin.Service{Name: "A", CreatedAt: at(0)})
		b := newService(t, db, &tocsin.Service{Name: "B", CreatedAt: at(1), Status: tocsin.StatusDegraded})
		for _, ch := range []struct {
			id     int64
			status tocsin.ServiceStatus
			h      int
		}{
			{a.ID, tocsin.StatusMajorOutage, 2},
			{a.ID, tocsin.StatusPartialOutage, 4},
			{a.ID, tocsin.StatusOperational, 6},
		} {
			if err := db.SetServiceStatus(ctx, admin, ch.id, ch.status, at(ch.h)); err != nil {
				t.Fatal(err)
			}
		}
		c := newService(t, db, &tocsin.Service{Name: "C", CreatedAt: at(5)})
		gone := newService(t, db, &tocsin.Service{Name: "Gone", CreatedAt: at(0)})
		if err := db.DeleteService(ctx, admin, gone.ID); err != nil {
			t.Fatal(err)
		}
		ch := func(s *tocsin.Service, st tocsin.ServiceStatus, h int) tocsin.StatusChange {
			return tocsin.StatusChange{ServiceID: s.ID, Status: st, At: at(h)}
		}
		for _, tc := range []struct {
			name  string
			since time.Time
			want  []tocsin.StatusChange
		}{
			{"from the start", at(0), []tocsin.StatusChange{
				ch(a, tocsin.StatusOperational, 0), ch(b, tocsin.StatusDegraded, 1), ch(a, tocsin.StatusMajorOutage, 2),
				ch(a, tocsin.StatusPartialOutage, 4), ch(c, tocsin.StatusOperational, 5), ch(a, tocsin.StatusOperational, 6)}},
			{"status at since, then changes", at(3), []tocsin.StatusChange{
				ch(b, tocsin.StatusDegraded, 1), ch(a, tocsin.StatusMajorOutage, 2), // as at since
				ch(a, tocsin.StatusPartialOutage, 4), ch(c, tocsin.StatusOperational, 5), ch(a, tocsin.StatusOperational, 6)}},
			{"a change exactly at since is one of the changes", at(4), []tocsin.StatusChange{
				ch(b, tocsin.StatusDegraded, 1), ch(a, tocsin.StatusMajorOutage, 2),
				ch(a, tocsin.StatusPartialOutage, 4), ch(c, tocsin.StatusOperational, 5), ch(a, tocsin.StatusOperational, 6)}},
			{"after everything", at(100), []tocsin.StatusChange{
				ch(b, tocsin.StatusDegraded, 1), ch(c, tocsin.StatusOperational, 5), ch(a, tocsin.StatusOperational, 6)}},
			{"before everything", at(-100), []tocsin.StatusChange{
				ch(a, tocsin.StatusOperational, 0), ch(b, tocsin.StatusDegraded, 1), ch(a, tocsin.StatusMajorOutage, 2),
				ch(a, tocsin.StatusPartialOutage, 4), ch(c, tocsin.StatusOperational, 5), ch(a, tocsin.StatusOperational, 6)}},
		} {
			t.Run(tc.name, func(t *testing.T) {
				got, err := db.StatusHistory(ctx, tc.since)
				if err != nil {
					t.Fatal(err)
				}
				if !slices.EqualFunc(got, tc.want, func(x, y tocsin.StatusChange) bool {
					return x.ServiceID == y.ServiceID && x.Status == y.Status && x.At.Equal(y.At)
				}) {
					t.Errorf("StatusHistory =\n%+v\nwant\n%+v", got, tc.want)
				}
			})
		}
	})
}

func TestSyncConfigServices(t *testing.T) {
	forEachStore(t, func(t *testing.T, db *DB) {
		ctx := context.Background()
		spec := func(name, group, desc string) *tocsin.Service {
			return &tocsin.Service{Name: name, Group: group, Description: desc}
		}
		var console *tocsin.Service // created through the API between steps
		for _, tc := range []struct {
			name   string
			before func(t *testing.T)
			specs  []*tocsin.Service
			after  string // the audit summary; "" for no entry
			want   []string
		}{
			{"create", nil,
				[]*tocsin.Service{spec("Mastodon", "Social", "Toots"), spec("Old", "", "")},
				"created=2 updated=0 released=0",
				[]string{"Old//1/config", "Mastodon/Social/0/config"}},
			{"same specs again change nothing", nil,
				[]*tocsin.Service{spec("Mastodon", "Social", "Toots"), spec("Old", "", "")},
				"",
				[]string{"Old//1/config", "Mastodon/Social/0/config"}},
			{"update, take over a console service, release", func(t *testing.T) {
				console = newService(t, db, &tocsin.Service{Name: "mail", Position: 7})
				if err := db.SetServiceStatus(ctx, admin, console.ID, tocsin.StatusDegraded, time.Time{}); err != nil {
					t.Fatal(err)
				}
			},
				[]*tocsin.Service{spec("Mastodon", "Social", "Our toots"), spec("Mail", "Communication", "")},
				"created=0 updated=2 released=1",
				[]string{"Old//1", "Mastodon/Social/0/config", "Mail/Communication/1/config"}},
			{"name spelling follows the file", nil,
				[]*tocsin.Service{spec(" mastodon ", "Social", "Our toots"), spec("Mail", "Communication", "")},
				"created=0 updated=1 released=0", // the file now spells it "mastodon"
				[]string{"Old//1", "mastodon/Social/0/config", "Mail/Communication/1/config"}},
			{"idempotent, second run", nil,
				[]*tocsin.Service{spec("mastodon", "Social", "Our toots"), spec("Mail", "Communication", "")},
				"",
				[]string{"Old//1", "mastodon/Social/0/config", "Mail/Communication/1/config"}},
			{"empty file releases all", nil, nil,
				"created=0 updated=0 released=2",
				[]string{"Old//1", "mastodon/Social/0", "Mail/Communication/1"}},
		} {
			t.Run(tc.name, func(t *testing.T) {
				if tc.before != nil {
					tc.before(t)
				}
				sync := func() error { return db.SyncConfigServices(ctx, tocsin.System, tc.specs) }
				if tc.after == "" {
					ss, _ := db.Services(ctx)
					if err := notAudited(t, db, sync); err != nil {
						t.Fatal(err)
					}
					again, _ := db.Services(ctx)
					if !slices.EqualFunc(ss, again, func(x, y *tocsin.Service) bool { return *x == *y }) {
						t.Errorf("a sync that changes nothing changed the services")
					}
				} else {
					wantEntry(t, audited(t, db, sync), "service.sync", "services", "", tc.after)
				}
				if got := serviceList(t, db); !slices.Equal(got, tc.want) {
					t.Errorf("Services =\n%q\nwant\n%q", got, tc.want)
				}
				for _, s := range tc.specs {
					if s.ID == 0 || !s.ConfigManaged || s.Status == "" {
						t.Errorf("spec not filled from the store: %+v", s)
					}
				}
			})
		}

		mail, err := db.Service(ctx, console.ID)
		if err != nil {
			t.Fatal(err)
		}
		if mail.Name != "Mail" || mail.Status != tocsin.StatusDegraded {
			t.Errorf("taken-over service = %+v; want its ID and status kept", mail)
		}

		t.Run("config-managed cannot be changed through the API", func(t *testing.T) {
			specs := []*tocsin.Service{spec("Mail", "Communication", "")}
			if err := db.SyncConfigServices(ctx, tocsin.System, specs); err != nil {
				t.Fatal(err)
			}
			for name, fn := range map[string]func() error{
				"update": func() error {
					return db.UpdateService(ctx, admin, &tocsin.Service{ID: mail.ID, Name: "Mail", Group: "Other"})
				},
				"delete": func() error { return db.DeleteService(ctx, admin, mail.ID) },
			} {
				err := notAudited(t, db, fn)
				wantCode(t, err, tocsin.ECONFLICT)
				if msg := tocsin.ErrorMessage(err); !strings.Contains(msg, "declared in the configuration file; change it there") {
					t.Errorf("%s: message = %q", name, msg)
				}
			}
			// Status is not configuration.
			e := audited(t, db, func() error {
				return db.SetServiceStatus(ctx, admin, mail.ID, tocsin.StatusOperational, time.Time{})
			})
			wantEntry(t, e, "service.status", fmt.Sprintf("service:%d", mail.ID), "status=degraded_performance", "status=operational")
			// A released service is the console's again.
			old := slices.IndexFunc(serviceList(t, db), func(s string) bool { return s == "Old//1" })
			if old < 0 {
				t.Fatal("released service gone")
			}
			ss, _ := db.Services(ctx)
			if err := db.DeleteService(ctx, admin, ss[old].ID); err != nil {
				t.Errorf("delete a released service: %v", err)
			}
		})

		for _, tc := range []struct {
			name  string
			specs []*tocsin.Service
		}{
			{"empty name", []*tocsin.Service{spec("Mail", "", ""), spec(" ", "", "")}},
			{"bad link", []*tocsin.Service{{Name: "Wiki", Link: "wiki.example.org"}}},
			{"same name twice, other case", []*tocsin.Service{spec("Wiki", "", ""), spec("WIKI", "", "")}},
		} {
			t.Run("refused: "+tc.name, func(t *testing.T) {
				before := serviceList(t, db)
				err := notAudited(t, db, func() error { return db.SyncConfigServices(ctx, tocsin.System, tc.specs) })
				wantCode(t, err, tocsin.EINVALID)
				if got := serviceList(t, db); !slices.Equal(got, before) {
					t.Errorf("refused sync changed services: %q → %q", before, got)
				}
			})
		}
	})
}
