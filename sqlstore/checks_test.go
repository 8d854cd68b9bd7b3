package sqlstore

import (
	"context"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/tocsin-org/tocsin"
)

// httpCheck is a valid HTTP check of service, defaults applied.
func httpCheck(service int64, url string) *tocsin.Check {
	c := &tocsin.Check{ServiceID: service, Kind: tocsin.CheckHTTP, Spec: tocsin.CheckSpec{URL: url}, Interval: time.Minute}
	c.ApplyDefaults(tocsin.CheckDefaults{})
	return c
}

func newCheck(t *testing.T, db *DB, c *tocsin.Check) *tocsin.Check {
	t.Helper()
	if err := db.CreateCheck(context.Background(), admin, c); err != nil {
		t.Fatalf("CreateCheck %s: %v", c.Name, err)
	}
	return c
}

func checkStatus(t *testing.T, db *DB, id int64) *tocsin.CheckStatus {
	t.Helper()
	all, err := db.CheckStatuses(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range all {
		if s.CheckID == id {
			return s
		}
	}
	t.Fatalf("no status for check %d", id)
	return nil
}

func TestCheckCRUD(t *testing.T) {
	forEachStore(t, func(t *testing.T, db *DB) {
		ctx := context.Background()
		web := newService(t, db, &tocsin.Service{Name: "Website"})
		c := httpCheck(web.ID, "https://www.example.org/")
		c.Spec.Headers = map[string]string{"Accept": "text/html"}
		c.Spec.ExpectStatus = []int{200, 204}
		c.Spec.MaxLatency = tocsin.Duration(1500 * time.Millisecond)
		c.Page = true
		e := audited(t, db, func() error { return db.CreateCheck(ctx, admin, c) })
		if e.Action != "check.create" || e.Target != fmt.Sprintf("check:%d", c.ID) || c.Name != "http https://www.example.org/" {
			t.Fatalf("entry %s %s, name %q", e.Action, e.Target, c.Name)
		}
		got, err := db.Check(ctx, c.ID)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, c) {
			t.Fatalf("Check = %+v\nwant    %+v", got, c)
		}
		if st := checkStatus(t, db, c.ID); st.State != tocsin.CheckPending || st.LastResult != nil {
			t.Errorf("new check's status %+v, want pending without a result", st)
		}

		for _, tc := range []struct {
			name string
			edit func(*tocsin.Check)
			code string
		}{
			{"interval of 0", func(c *tocsin.Check) { c.Interval = 0 }, tocsin.EINVALID},
			{"negative timeout", func(c *tocsin.Check) { c.Timeout = -time.Second }, tocsin.EINVALID},
			{"unknown kind", func(c *tocsin.Check) { c.Kind = "ftp" }, tocsin.EINVALID},
			{"URL without a host", func(c *tocsin.Check) { c.Spec.URL = "https:///x" }, tocsin.EINVALID},
			{"unknown service", func(c *tocsin.Check) { c.ServiceID = 999 }, tocsin.EINVALID},
			{"name taken", func(c *tocsin.Check) { c.Name = "http https://www.example.org/" }, tocsin.ECONFLICT},
		} {
			t.Run("create refused: "+tc.name, func(t *testing.T) {
				bad := httpCheck(web.ID, "https://other.example.org/")
				tc.edit(bad)
				wantCode(t, notAudited(t, db, func() error { return db.CreateCheck(ctx, admin, bad) }), tc.code)
			})
		}

		t.Run("update", func(t *testing.T) {
			up := *got
			up.Interval, up.Timeout = 30*time.Second, 5*time.Second
			e := audited(t, db, func() error { return db.UpdateCheck(ctx, admin, &up) })
			if e.Action != "check.update" || e.Before == e.After {
				t.Fatalf("entry %+v", e)
			}
			if again, _ := db.Check(ctx, c.ID); again.Interval != 30*time.Second || again.Timeout != 5*time.Second || again.UpdatedAt.Before(got.CreatedAt) {
				t.Fatalf("after update %+v", again)
			}
			same := up
			if err := notAudited(t, db, func() error { return db.UpdateCheck(ctx, admin, &same) }); err != nil {
				t.Fatal(err)
			}
			missing := up
			missing.ID = 999
			wantCode(t, notAudited(t, db, func() error { return db.UpdateCheck(ctx, admin, &missing) }), tocsin.ENOTFOUND)
		})

		t.Run("delete", func(t *testing.T) {
			e := audited(t, db, func() error { return db.DeleteCheck(ctx, admin, c.ID) })
			if e.Action != "check.delete" {
				t.Fatalf("entry %+v", e)
			}
			_, err := db.Check(ctx, c.ID)
			wantCode(t, err, tocsin.ENOTFOUND)
			wantCode(t, notAudited(t, db, func() error { return db.DeleteCheck(ctx, admin, c.ID) }), tocsin.ENOTFOUND)
			if n := count(t, db, `SELECT COUNT(*) FROM check_status WHERE check_id = ?`, c.ID); n != 0 {
				t.Errorf("%d status rows left", n)
			}
		})
	})
}

func TestSyncConfigChecks(t *testing.T) {
	forEachStore(t, func(t *testing.T, db *DB) {
		ctx := context.Background()
		web := newService(t, db, &tocsin.Service{Name: "Website"})
		media := newService(t, db, &tocsin.Service{Name: "Media"})
		manual := newCheck(t, db, httpCheck(web.ID, "https://manual.example.org/"))
		tlsCheck := func() *tocsin.Check {
			c := &tocsin.Check{ServiceID: web.ID, Kind: tocsin.CheckTLS, Spec: tocsin.CheckSpec{Address: "www.example.org:443"}, Interval: time.Hour}
			c.ApplyDefaults(tocsin.CheckDefaults{})
			return c
		}
		bucket := func() *tocsin.Check {
			c := &tocsin.Check{ServiceID: media.ID, Kind: tocsin.CheckBucket, Spec: tocsin.CheckSpec{URL: "https://s3.example.org/media"},
				Interval: 5 * time.Minute, Page: true}
			c.ApplyDefaults(tocsin.CheckDefaults{})
			return c
		}
		site := func() *tocsin.Check { return httpCheck(web.ID, "https://www.example.org/") }
		names := func() map[string]bool {
			all, err := db.Checks(ctx)
			if err != nil {
				t.Fatal(err)
			}
			out := map[string]bool{}
			for _, c := range all {
				out[fmt.Sprintf("%d %s", c.ServiceID, c.Name)] = c.ConfigManaged
			}
			return out
		}

		for _, tc := range []struct {
			name  string
			specs func() []*tocsin.Check
			after string // "" when nothing must change
			want  map[string]bool
		}{
			{"first start creates", func() []*tocsin.Check { return []*tocsin.Check{site(), tlsCheck(), bucket()} },
				"created=3 updated=0 deleted=0", map[string]bool{
					fmt.Sprintf("%d http https://manual.example.org/", web.ID):      false,
					fmt.Sprintf("%d http https://www.example.org/", web.ID):         true,
					fmt.Sprintf("%d tls www.example.org:443", web.ID):               true,
					fmt.Sprintf("%d bucket https://s3.example.org/media", media.ID): true}},
			{"same file changes nothing", func() []*tocsin.Check { return []*tocsin.Check{site(), tlsCheck(), bucket()} }, "", nil},
			{"edited, removed, and a manual check taken over", func() []*tocsin.Check {
				s := site()
				s.Interval = 30 * time.Second
				return []*tocsin.Check{s, bucket(), httpCheck(web.ID, "https://manual.example.org/")}
			}, "created=0 updated=2 deleted=1", map[string]bool{
				fmt.Sprintf("%d http https://manual.example.org/", web.ID):      true,
				fmt.Sprintf("%d http https://www.example.org/", web.ID):         true,
				fmt.Sprintf("%d bucket https://s3.example.org/media", media.ID): true}},
		} {
			t.Run(tc.name, func(t *testing.T) {
				specs := tc.specs()
				if tc.after == "" {
					if err := notAudited(t, db, func() error { return db.SyncConfigChecks(ctx, tocsin.System, specs) }); err != nil {
						t.Fatal(err)
					}
					return
				}
				e := audited(t, db, func() error { return db.SyncConfigChecks(ctx, tocsin.System, specs) })
				wantEntry(t, e, "check.sync", "checks", "", tc.after)
				if got := names(); !reflect.DeepEqual(got, tc.want) {
					t.Fatalf("checks %v\nwant   %v", got, tc.want)
				}
				for _, s := range specs {
					if s.ID == 0 {
						t.Errorf("spec %s got no ID", s.Name)
					}
				}
			})
		}
		if got, _ := db.Check(ctx, manual.ID); got == nil || !got.ConfigManaged {
			t.Fatalf("the manual check was not taken over: %+v", got)
		}

		t.Run("config-managed checks are refused", func(t *testing.T) {
			c, _ := db.Check(ctx, manual.ID)
			c.Interval = 2 * time.Minute
			wantCode(t, notAudited(t, db, func() error { return db.UpdateCheck(ctx, admin, c) }), tocsin.ECONFLICT)
			wantCode(t, notAudited(t, db, func() error { return db.DeleteCheck(ctx, admin, c.ID) }), tocsin.ECONFLICT)
		})
		t.Run("bad specs are refused whole", func(t *testing.T) {
			bad := site()
			bad.Interval = 0
			wantCode(t, notAudited(t, db, func() error { return db.SyncConfigChecks(ctx, tocsin.System, []*tocsin.Check{bad}) }), tocsin.EINVALID)
			twice := []*tocsin.Check{site(), site()}
			wantCode(t, notAudited(t, db, func() error { return db.SyncConfigChecks(ctx, tocsin.System, twice) }), tocsin.EINVALID)
			orphan := site()
			orphan.ServiceID = 999
			wantCode(t, notAudited(t, db, func() error { return db.SyncConfigChecks(ctx, tocsin.System, []*tocsin.Check{orphan}) }), tocsin.EINVALID)
		})
	})
}
