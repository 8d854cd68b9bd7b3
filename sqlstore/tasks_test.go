package sqlstore

import (
	"context"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tocsin-org/tocsin"
)

const testRunbook = `# Leaked database password

- [ ] Change the password (owner: lead, due: 30m)
  On the primary first.
- [ ] Tell the users (owner: comms, due: 2h)
- [ ] Ask Bob (owner: bob)
- [ ] Read the logs
`

func TestRunbookVersions(t *testing.T) {
	forEachStore(t, func(t *testing.T, db *DB) {
		ctx := context.Background()
		rb := &tocsin.Runbook{Slug: "leaked-db", Lang: "en", Markdown: testRunbook}
		e := audited(t, db, func() error { return db.SaveRunbook(ctx, admin, rb) })
		wantEntry(t, e, "runbook.create", runbookTarget(rb.ID), "", `slug=leaked-db lang=en title="Leaked database password" items=4 builtin=false`)
		if rb.Version != 1 || len(rb.Items) != 4 || rb.Items[0].Detail != "On the primary first." {
			t.Fatalf("saved %+v", rb)
		}
		wantCode(t, notAudited(t, db, func() error {
			return db.SaveRunbook(ctx, admin, &tocsin.Runbook{Slug: "leaked-db", Lang: "en", Markdown: testRunbook})
		}), tocsin.ECONFLICT)
		wantCode(t, notAudited(t, db, func() error {
			return db.SaveRunbook(ctx, admin, &tocsin.Runbook{ID: rb.ID, Markdown: "# T\n- [ ] x (due: 3x)"})
		}), tocsin.EINVALID)
		// The same text stores nothing; an edit a new version.
		notAudited(t, db, func() error { return db.SaveRunbook(ctx, admin, &tocsin.Runbook{ID: rb.ID, Markdown: testRunbook}) })
		edit := &tocsin.Runbook{ID: rb.ID, Markdown: strings.Replace(testRunbook, "# Leaked database password", "# Leaked DB password", 1)}
		e = audited(t, db, func() error { return db.SaveRunbook(ctx, admin, edit) })
		wantEntry(t, e, "runbook.edit", runbookTarget(rb.ID), "version=1", `version=2 title="Leaked DB password" items=4`)
		vs, err := db.RunbookVersions(ctx, rb.ID)
		if err != nil || len(vs) != 2 || vs[0].Version != 2 || vs[1].Title != "Leaked database password" {
			t.Fatalf("versions %+v, %v", vs, err)
		}
		old, err := db.Runbook(ctx, rb.ID, 1)
		if err != nil || old.Title != "Leaked database password" || old.Version != 1 {
			t.Fatalf("version 1: %+v, %v", old, err)
		}
		if _, err := db.Runbook(ctx, rb.ID, 3); tocsin.ErrorCode(err) != tocsin.ENOTFOUND {
			t.Errorf("version 3: %v", err)
		}

		// Builtins: created, updated while untouched, never over an edit.
		b := &tocsin.Runbook{Slug: "tls-key", Lang: "fr", Markdown: "# Clé TLS\n- [ ] Révoquer"}
		for _, c := range []struct {
			md      string
			builtin bool
			want    tocsin.RunbookImport
		}{
			{"# Clé TLS\n- [ ] Révoquer", true, tocsin.ImportCreated},
			{"# Clé TLS\n- [ ] Révoquer", true, tocsin.ImportUnchanged},
			{"# Clé TLS\n- [ ] Révoquer le certificat", true, tocsin.ImportUpdated},
			{"# Clé TLS (édité)\n- [ ] Révoquer", false, tocsin.ImportUpdated},
			{"# Clé TLS v3\n- [ ] Révoquer", true, tocsin.ImportKept},
		} {
			b.Markdown = c.md
			got, err := db.ImportRunbook(ctx, tocsin.CLI, b, c.builtin)
			if err != nil || got != c.want {
				t.Errorf("import %q builtin=%v = %s, %v; want %s", c.md, c.builtin, got, err, c.want)
			}
		}
		list, err := db.Runbooks(ctx)
		if err != nil || len(list) != 2 || list[0].Title != "Clé TLS (édité)" || list[0].Builtin || list[0].Version != 3 {
			t.Fatalf("Runbooks = %+v, %v", list, err)
		}
	})
}

func TestApplyRunbook(t *testing.T) {
	forEachStore(t, func(t *testing.T, db *DB) {
		ctx := context.Background()
		clock := time.Date(2026, 11, 20, 16, 40, 0, 0, time.UTC)
		db.SetClock(func() time.Time { return clock })
		lead := newUser(t, db, "lead@example.org", tocsin.RoleResponder)
		newUser(t, db, "bob@example.org", tocsin.RoleResponder)
		rb := &tocsin.Runbook{Slug: "leaked-db", Markdown: testRunbook}
		if err := db.SaveRunbook(ctx, admin, rb); err != nil {
			t.Fatal(err)
		}
		inc := newSecurity(t, db, "Password in a paste")
		if err := db.AssignSecurityRole(ctx, admin, inc.ID, tocsin.RoleLead, lead.ID); err != nil {
			t.Fatal(err)
		}
		clock = clock.Add(10 * time.Minute)
		var n int
		e := audited(t, db, func() (err error) { n, err = db.ApplyRunbook(ctx, admin, inc.ID, rb.ID); return err })
		wantEntry(t, e, "security.runbook", securityTarget(inc.ID), "", "runbook="+itoa(rb.ID)+" version=1 added=4")
		if n != 4 {
			t.Errorf("added %d", n)
		}
		tasks, err := db.Tasks(ctx, inc.ID)
		if err != nil || len(tasks) != 4 {
			t.Fatalf("Tasks = %v, %v", tasks, err)
		}
		// The lead's item goes to the lead; nobody is comms; bob by name.
		if tasks[0].OwnerEmail != "lead@example.org" || !tasks[0].DueAt.Equal(clock.Add(30*time.Minute)) || tasks[0].Detail != "On the primary first." {
			t.Errorf("task 0 = %+v", tasks[0])
		}
		if tasks[1].OwnerID != 0 || !tasks[1].DueAt.Equal(clock.Add(2*time.Hour)) {
			t.Errorf("task 1 = %+v", tasks[1])
		}
		if tasks[2].OwnerEmail != "bob@example.org" || tasks[2].DueAt != nil || tasks[3].OwnerID != 0 || tasks[3].RunbookTitle != "Leaked database password" {
			t.Errorf("tasks 2, 3 = %+v %+v", tasks[2], tasks[3])
		}

		// A new version with one more item: applying again adds only it.
		clock = clock.Add(time.Hour)
		rb.Markdown = testRunbook + "- [ ] Rotate the replica's password too (owner: lead, due: 1h)\n"
		if err := db.SaveRunbook(ctx, admin, rb); err != nil {
			t.Fatal(err)
		}
		if n, err := db.ApplyRunbook(ctx, admin, inc.ID, rb.ID); err != nil || n != 1 {
			t.Errorf("second apply: %d, %v", n, err)
		}
		if n, err := db.ApplyRunbook(ctx, admin, inc.ID, rb.ID); err != nil || n != 0 {
			t.Errorf("third apply: %d, %v", n, err)
		}
		if _, err := db.ApplyRunbook(ctx, admin, inc.ID, 999); tocsin.ErrorCode(err) != tocsin.EINVALID {
			t.Errorf("unknown runbook: %v", err)
		}
		tasks, _ = db.Tasks(ctx, inc.ID)
		if len(tasks) != 5 || !tasks[4].DueAt.Equal(clock.Add(time.Hour)) {
			t.Fatalf("after second apply: %d tasks, last %+v", len(tasks), tasks[len(tasks)-1])
		}
		want := []string{"runbook_applied:Leaked database password:>4", "runbook_applied:Leaked database password:>1", "runbook_applied:Leaked database password:>0"}
		if got := kinds(t, db, inc.ID); !slices.Equal(got[len(got)-3:], want) {
			t.Errorf("timeline = %q", got)
		}
	})
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

func TestTaskChanges(t *testing.T) {
	forEachStore(t, func(t *testing.T, db *DB) {
		ctx := context.Background()
		clock := time.Date(2026, 11, 20, 16, 40, 0, 0, time.UTC)
		db.SetClock(func() time.Time { return clock })
		alice := newUser(t, db, "alice@example.org", tocsin.RoleResponder)
		gone := newUser(t, db, "gone@example.org", tocsin.RoleResponder)
		if err := db.DisableUser(ctx, admin, gone.ID); err != nil {
			t.Fatal(err)
		}
		inc := newSecurity(t, db, "Bucket listable")
		due := clock.Add(time.Hour)

		for _, c := range []struct {
			name string
			task tocsin.Task
			key  string
		}{
			{"no title", tocsin.Task{Title: " "}, "task.title"},
			{"disabled owner", tocsin.Task{Title: "x", OwnerID: gone.ID}, "task.owner_disabled"},
			{"unknown owner", tocsin.Task{Title: "x", OwnerID: 999}, "security.user_unknown"},
			{"due too early", tocsin.Task{Title: "x", DueAt: new(clock.Add(-time.Minute))}, "task.due_early"},
		} {
			t.Run(c.name, func(t *testing.T) {
				err := notAudited(t, db, func() error { return db.AddTask(ctx, admin, inc.ID, &c.task) })
				wantKey(t, err, c.key)
			})
		}
		task := &tocsin.Task{Title: "Make the bucket private", OwnerID: alice.ID, DueAt: &due}
		audited(t, db, func() error { return db.AddTask(ctx, admin, inc.ID, task) })
		if task.ID == 0 || task.OwnerEmail != "alice@example.org" || task.Status != tocsin.TaskOpen {
			t.Fatalf("added %+v", task)
		}

		skipped, done := tocsin.TaskSkipped, tocsin.TaskDone
		var zero int64
		later := clock.Add(3 * time.Hour)
		for _, c := range []struct {
			name string
			p    tocsin.TaskPatch
			key  string
		}{
			{"skip without reason", tocsin.TaskPatch{Status: &skipped, Reason: " "}, "task.skip_reason"},
			{"disabled owner", tocsin.TaskPatch{Owner: &gone.ID}, "task.owner_disabled"},
			{"due too early", tocsin.TaskPatch{Due: new(clock.Add(-time.Hour))}, "task.due_early"},
			{"bad status", tocsin.TaskPatch{Status: new(tocsin.TaskStatus("finished"))}, "task.status_unknown"},
		} {
			t.Run(c.name, func(t *testing.T) {
				_, err := db.UpdateTask(ctx, admin, inc.ID, task.ID, c.p)
				wantKey(t, err, c.key)
			})
		}
		if _, err := db.UpdateTask(ctx, admin, inc.ID+1, task.ID, tocsin.TaskPatch{Status: &done}); tocsin.ErrorCode(err) != tocsin.ENOTFOUND {
			t.Errorf("other incident: %v", err)
		}
		e := audited(t, db, func() error {
			_, err := db.UpdateTask(ctx, admin, inc.ID, task.ID, tocsin.TaskPatch{Owner: &zero, Due: &later})
			return err
		})
		wantEntry(t, e, "security.task", securityTarget(inc.ID), "task="+itoa(task.ID)+" owner=alice@example.org due="+momentText(&due),
			"task="+itoa(task.ID)+" owner= due="+momentText(&later))
		audited(t, db, func() error {
			_, err := db.UpdateTask(ctx, admin, inc.ID, task.ID, tocsin.TaskPatch{Status: &skipped, Reason: "done by the provider"})
			return err
		})
		got, err := db.UpdateTask(ctx, admin, inc.ID, task.ID, tocsin.TaskPatch{Status: &done, Reason: "ignored"})
		if err != nil || got.Status != tocsin.TaskDone || got.Reason != "" || got.OwnerID != 0 || !got.DueAt.Equal(later) {
			t.Fatalf("done: %+v, %v", got, err)
		}
		notAudited(t, db, func() error {
			_, err := db.UpdateTask(ctx, admin, inc.ID, task.ID, tocsin.TaskPatch{Status: &done})
			return err
		})

		want := []string{"task_added:Make the bucket private:>", "task_owner:Make the bucket private:alice@example.org>",
			"task_due:Make the bucket private:" + momentText(&due) + ">" + momentText(&later),
			"task_status:Make the bucket private:open>skipped", "task_status:Make the bucket private:skipped>done"}
		if got := kinds(t, db, inc.ID); !slices.Equal(got[1:], want) {
			t.Errorf("timeline = %q\nwant %q", got[1:], want)
		}
	})
}

func wantKey(t *testing.T, err error, key string) {
	t.Helper()
	e, ok := err.(*tocsin.Error)
	if !ok || e.Code != tocsin.EINVALID || e.Key != key {
		t.Fatalf("err = %#v, want EINVALID %s", err, key)
	}
}

func TestRemindOverdueTasks(t *testing.T) {
	forEachStore(t, func(t *testing.T, db *DB) {
		ctx := context.Background()
		clock := time.Date(2026, 11, 20, 16, 40, 0, 0, time.UTC)
		db.SetClock(func() time.Time { return clock })
		alice := newUser(t, db, "alice@example.org", tocsin.RoleResponder)
		inc := newSecurity(t, db, "Bucket listable")
		d1, d2 := clock.Add(30*time.Minute), clock.Add(2*time.Hour)
		t1 := &tocsin.Task{Title: "First", OwnerID: alice.ID, DueAt: &d1}
		t2 := &tocsin.Task{Title: "Second", OwnerID: alice.ID, DueAt: &d2}
		t3 := &tocsin.Task{Title: "Nobody's", DueAt: &d1}
		for _, task := range []*tocsin.Task{t1, t2, t3} {
			if err := db.AddTask(ctx, admin, inc.ID, task); err != nil {
				t.Fatal(err)
			}
		}
		compose := func(task *tocsin.Task, u *tocsin.User) *tocsin.Message {
			return &tocsin.Message{Channel: tocsin.ChannelEmail, To: u.Email, Subject: "Overdue: " + task.Title}
		}
		count := func() int {
			ms, err := db.Messages(ctx, 100)
			if err != nil {
				t.Fatal(err)
			}
			n := 0
			for _, m := range ms {
				if strings.HasPrefix(m.Key, "task:") {
					n++
				}
			}
			return n
		}
		next, err := db.RemindOverdueTasks(ctx, clock, compose)
		if err != nil || !next.Equal(d1) || count() != 0 {
			t.Fatalf("before: next %v, %v, %d messages", next, err, count())
		}
		at := d1.Add(time.Minute)
		for range 2 {
			next, err = db.RemindOverdueTasks(ctx, at, compose)
			if err != nil || !next.Equal(d2) || count() != 1 {
				t.Fatalf("overdue: next %v, %v, %d messages", next, err, count())
			}
		}
		// A new due time reminds again once it passes.
		d3 := at.Add(10 * time.Minute)
		if _, err := db.UpdateTask(ctx, admin, inc.ID, t1.ID, tocsin.TaskPatch{Due: &d3}); err != nil {
			t.Fatal(err)
		}
		if _, err := db.RemindOverdueTasks(ctx, d3.Add(time.Second), compose); err != nil || count() != 2 {
			t.Fatalf("new due: %v, %d messages", err, count())
		}
		done := tocsin.TaskDone
		if _, err := db.UpdateTask(ctx, admin, inc.ID, t2.ID, tocsin.TaskPatch{Status: &done}); err != nil {
			t.Fatal(err)
		}
		if next, err := db.RemindOverdueTasks(ctx, d2.Add(time.Hour), compose); err != nil || !next.IsZero() || count() != 2 {
			t.Fatalf("done: next %v, %v, %d messages", next, err, count())
		}
	})
}
