package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/tocsin-org/tocsin"
)

// Tasks of security incidents. Every change writes its timeline entry and
// its audit entry (target "security:N") in the change's transaction.

const taskSelect = `SELECT t.id, t.incident_id, COALESCE(t.runbook_id, 0), COALESCE(r.title, ''), t.title, t.detail,
	COALESCE(t.owner_id, 0), COALESCE(u.email, ''), COALESCE(u.name, ''), t.due_at, t.status, t.reason, t.created_by, t.created_at, t.updated_at
	FROM security_tasks t LEFT JOIN runbooks r ON r.id = t.runbook_id LEFT JOIN users u ON u.id = t.owner_id`

func scanTask(sc rowScanner) (*tocsin.Task, error) {
	var t tocsin.Task
	err := sc.Scan(&t.ID, &t.IncidentID, &t.RunbookID, &t.RunbookTitle, &t.Title, &t.Detail, &t.OwnerID, &t.OwnerEmail, &t.OwnerName,
		nullTimeScan{&t.DueAt}, &t.Status, &t.Reason, &t.CreatedBy, timeScan{&t.CreatedAt}, timeScan{&t.UpdatedAt})
	return &t, err
}

func taskNotFound(id int64) error {
	return tocsin.Errorf(tocsin.ENOTFOUND, "task %d does not exist", id).WithKey("task.not_found", id)
}

// Tasks lists incident id's tasks in the order they were added; ENOTFOUND
// for an unknown incident.
func (db *DB) Tasks(ctx context.Context, id int64) ([]*tocsin.Task, error) {
	c := db.read()
	var n int
	if err := c.queryRow(ctx, `SELECT COUNT(*) FROM security_incidents WHERE id = ?`, id).Scan(&n); err != nil {
		return nil, fmt.Errorf("sqlstore: tasks: %w", err)
	}
	if n == 0 {
		return nil, securityNotFound(id)
	}
	out, err := list(ctx, c, scanTask, taskSelect+` WHERE t.incident_id = ? ORDER BY t.id`, id)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: tasks: %w", err)
	}
	return out, nil
}

// roleHolder returns the enabled account holding single role on incident
// id, 0 when nobody (or a disabled account) does.
func (c conn) roleHolder(ctx context.Context, id int64, role tocsin.IncidentRole) (int64, error) {
	var uid int64
	err := c.queryRow(ctx, `SELECT u.id FROM security_roles r JOIN users u ON u.id = r.user_id
		WHERE r.incident_id = ? AND r.role = ? AND u.disabled_at IS NULL ORDER BY u.id LIMIT 1`, id, string(role)).Scan(&uid)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	return uid, err
}

// userByName resolves a runbook's username: the enabled account whose
// e-mail is it, else the one enabled account whose e-mail's local part is
// it; 0 when there is none or several.
func (c conn) userByName(ctx context.Context, name string) (int64, error) {
	type account struct {
		id    int64
		email string
	}
	accounts, err := list(ctx, c, func(sc rowScanner) (account, error) {
		var a account
		return a, sc.Scan(&a.id, &a.email)
	}, `SELECT id, email FROM users WHERE disabled_at IS NULL ORDER BY id`)
	if err != nil {
		return 0, err
	}
	var local []int64
	for _, a := range accounts {
		if strings.EqualFold(a.email, name) {
			return a.id, nil
		}
		if l, _, _ := strings.Cut(a.email, "@"); strings.EqualFold(l, name) {
			local = append(local, a.id)
		}
	}
	if len(local) == 1 {
		return local[0], nil
	}
	return 0, nil
}

// ApplyRunbook adds to incident id a task for each item of runbook
// runbookID's current version it has not had from that runbook yet: the
// owner resolved now (a role's holder, or the account a username names;
// unassigned when there is none), due at now + the item's due. One
// "runbook_applied" entry and the audit entry "security.runbook" record
// it. It returns the number of tasks added.
func (db *DB) ApplyRunbook(ctx context.Context, a tocsin.Actor, id, runbookID int64) (int, error) {
	now := db.now()
	added := 0
	err := db.update(ctx, func(tx conn) error {
		if _, _, err := tx.securityStatus(ctx, id); err != nil {
			return err
		}
		rb, err := tx.runbook(ctx, runbookID, 0)
		if err != nil {
			if tocsin.ErrorCode(err) == tocsin.ENOTFOUND {
				return tocsin.Errorf(tocsin.EINVALID, "there is no runbook %d", runbookID).WithKey("runbook.not_found", runbookID)
			}
			return err
		}
		for _, item := range rb.Items {
			var owner *int64
			uid := int64(0)
			switch {
			case item.Owner == "":
			case isRunbookRole(item.Owner):
				uid, err = tx.roleHolder(ctx, id, tocsin.IncidentRole(item.Owner))
			default:
				uid, err = tx.userByName(ctx, item.Owner)
			}
			if err != nil {
				return err
			}
			if uid > 0 {
				owner = &uid
			}
			var due *time.Time
			if item.Due > 0 {
				d := now.Add(item.Due)
				due = &d
			}
			res, err := tx.exec(ctx, `INSERT INTO security_tasks (incident_id, runbook_id, item_key, title, detail, owner_id, due_at, status, created_by, created_at, updated_at)
				VALUES (?, ?, ?, ?, ?, ?, ?, 'open', ?, ?, ?) ON CONFLICT (incident_id, runbook_id, item_key) DO NOTHING`,
				id, runbookID, strings.ToLower(item.Text), item.Text, item.Detail, owner, due, a.Label, now, now)
			if err != nil {
				return err
			}
			n, err := res.RowsAffected()
			if err != nil {
				return err
			}
			added += int(n)
		}
		if err := tx.entry(ctx, a, id, &tocsin.SecurityEntry{Kind: tocsin.EntryRunbookApplied, Subject: rb.Title, New: strconv.Itoa(added)}, now); err != nil {
			return err
		}
		if err := tx.touch(ctx, id, now); err != nil {
			return err
		}
		return tx.audit(ctx, a, "security.runbook", securityTarget(id), "",
			fmt.Sprintf("runbook=%d version=%d added=%d", runbookID, rb.Version, added))
	})
	if err != nil {
		added = 0
	}
	return added, err
}

func isRunbookRole(s string) bool {
	for _, r := range tocsin.RunbookOwnerRoles {
		if string(r) == s {
			return true
		}
	}
	return false
}

// AddTask validates t and adds it to incident id by hand, with its
// "task_added" entry and the audit entry "security.task_add". Its owner,
// if any, must be an enabled account; its due time not before the
// incident was opened.
func (db *DB) AddTask(ctx context.Context, a tocsin.Actor, id int64, t *tocsin.Task) error {
	if err := t.Validate(); err != nil {
		return err
	}
	now := db.now()
	return db.update(ctx, func(tx conn) error {
		_, created, err := tx.securityStatus(ctx, id)
		if err != nil {
			return err
		}
		var owner *int64
		if t.OwnerID != 0 {
			if _, err := tx.taskOwner(ctx, t.OwnerID); err != nil {
				return err
			}
			owner = &t.OwnerID
		}
		if t.DueAt != nil {
			d := t.DueAt.UTC().Truncate(time.Microsecond)
			if err := tocsin.CheckTaskDue(d, created); err != nil {
				return err
			}
			t.DueAt = &d
		}
		if err := tx.queryRow(ctx, `INSERT INTO security_tasks (incident_id, title, detail, owner_id, due_at, status, created_by, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, 'open', ?, ?, ?) RETURNING id`, id, t.Title, t.Detail, owner, t.DueAt, a.Label, now, now).Scan(&t.ID); err != nil {
			return err
		}
		if err := tx.entry(ctx, a, id, &tocsin.SecurityEntry{Kind: tocsin.EntryTaskAdded, Subject: t.Title}, now); err != nil {
			return err
		}
		if err := tx.touch(ctx, id, now); err != nil {
			return err
		}
		if err := tx.audit(ctx, a, "security.task_add", securityTarget(id), "", fmt.Sprintf("task=%d title=%s owner=%d due=%s",
			t.ID, bodySummary(t.Title), t.OwnerID, momentText(t.DueAt))); err != nil {
			return err
		}
		got, err := scanTask(tx.queryRow(ctx, taskSelect+` WHERE t.id = ?`, t.ID))
		if err != nil {
			return err
		}
		*t = *got
		return nil
	})
}

// taskOwner returns the e-mail of an enabled account (activeUser), with a
// refusal of a disabled one that speaks of tasks, not roles.
func (c conn) taskOwner(ctx context.Context, userID int64) (string, error) {
	email, err := c.activeUser(ctx, userID)
	var te *tocsin.Error
	if errors.As(err, &te) && te.Key == "security.user_disabled" && len(te.Args) == 1 {
		return "", tocsin.Errorf(tocsin.EINVALID, "the account %s is disabled: a disabled account cannot own a task", te.Args[0]).
			WithKey("task.owner_disabled", te.Args[0])
	}
	return email, err
}

// UpdateTask applies p to task taskID of incident id: each change (status,
// owner, due) is its own timeline entry ("task_status", "task_owner",
// "task_due") and the audit entry "security.task" lists them. Skipping
// needs a reason; an owner must be an enabled account; a due time may not
// be before the incident was opened. No change writes nothing.
func (db *DB) UpdateTask(ctx context.Context, a tocsin.Actor, id, taskID int64, p tocsin.TaskPatch) (*tocsin.Task, error) {
	now := db.now()
	var out *tocsin.Task
	err := db.update(ctx, func(tx conn) error {
		_, created, err := tx.securityStatus(ctx, id)
		if err != nil {
			return err
		}
		old, err := scanTask(tx.queryRow(ctx, taskSelect+` WHERE t.id = ? AND t.incident_id = ?`, taskID, id))
		if errors.Is(err, sql.ErrNoRows) {
			return taskNotFound(taskID)
		}
		if err != nil {
			return err
		}
		t := *old
		var before, after []string
		var entries []*tocsin.SecurityEntry
		if p.Status != nil {
			st, err := tocsin.ParseTaskStatus(string(*p.Status))
			if err != nil {
				return err
			}
			reason := strings.TrimSpace(p.Reason)
			if st == tocsin.TaskSkipped && reason == "" {
				return tocsin.Errorf(tocsin.EINVALID, "skipping a task needs a reason").WithKey("task.skip_reason")
			}
			if err := checkTaskText(p.Reason); err != nil {
				return err
			}
			if st != tocsin.TaskSkipped {
				reason = ""
			}
			if st != old.Status || reason != old.Reason {
				t.Status, t.Reason = st, reason
				entries = append(entries, &tocsin.SecurityEntry{Kind: tocsin.EntryTaskStatus, Subject: t.Title, Old: string(old.Status), New: string(st), Body: reason})
				before, after = append(before, "status="+string(old.Status)), append(after, "status="+string(st))
			}
		}
		if p.Owner != nil && *p.Owner != old.OwnerID {
			email := ""
			if *p.Owner != 0 {
				if email, err = tx.taskOwner(ctx, *p.Owner); err != nil {
					return err
				}
			}
			t.OwnerID, t.OwnerEmail = *p.Owner, email
			entries = append(entries, &tocsin.SecurityEntry{Kind: tocsin.EntryTaskOwner, Subject: t.Title, Old: old.OwnerEmail, New: email})
			before, after = append(before, "owner="+old.OwnerEmail), append(after, "owner="+email)
		}
		if p.ClearDue || p.Due != nil {
			var due *time.Time
			if !p.ClearDue {
				d := p.Due.UTC().Truncate(time.Microsecond)
				if err := tocsin.CheckTaskDue(d, created); err != nil {
					return err
				}
				due = &d
			}
			if momentText(due) != momentText(old.DueAt) {
				t.DueAt = due
				entries = append(entries, &tocsin.SecurityEntry{Kind: tocsin.EntryTaskDue, Subject: t.Title, Old: momentText(old.DueAt), New: momentText(due)})
				before, after = append(before, "due="+momentText(old.DueAt)), append(after, "due="+momentText(due))
			}
		}
		if len(entries) == 0 {
			out = old
			return nil
		}
		var owner *int64
		if t.OwnerID != 0 {
			owner = &t.OwnerID
		}
		if _, err := tx.exec(ctx, `UPDATE security_tasks SET status = ?, reason = ?, owner_id = ?, due_at = ?, updated_at = ? WHERE id = ?`,
			string(t.Status), t.Reason, owner, t.DueAt, now, taskID); err != nil {
			return err
		}
		for _, e := range entries {
			if err := tx.entry(ctx, a, id, e, now); err != nil {
				return err
			}
		}
		if err := tx.touch(ctx, id, now); err != nil {
			return err
		}
		prefix := fmt.Sprintf("task=%d ", taskID)
		if err := tx.audit(ctx, a, "security.task", securityTarget(id), prefix+strings.Join(before, " "), prefix+strings.Join(after, " ")); err != nil {
			return err
		}
		out, err = scanTask(tx.queryRow(ctx, taskSelect+` WHERE t.id = ?`, taskID))
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

func checkTaskText(s string) error {
	if len(s) > tocsin.MaxSecurityText {
		return tocsin.Errorf(tocsin.EINVALID, "reason: give at most %d bytes of text", tocsin.MaxSecurityText).WithKey("security.text_invalid", "reason", tocsin.MaxSecurityText)
	}
	return nil
}

// RemindOverdueTasks enqueues compose's message for each open task overdue
// at now whose owner is an enabled account, once per due time (the task
// remembers the due time it was reminded of), keyed "task:ID:due:UNIX" so that
// a second pass, or another instance, stores nothing; it returns the
// earliest due time after now of an open task (zero if none).
func (db *DB) RemindOverdueTasks(ctx context.Context, now time.Time, compose func(t *tocsin.Task, owner *tocsin.User) *tocsin.Message) (time.Time, error) {
	var next time.Time
	err := db.update(ctx, func(tx conn) error {
		tasks, err := list(ctx, tx, scanTask, taskSelect+` WHERE t.status = 'open' AND t.due_at IS NOT NULL AND t.due_at <= ? AND t.owner_id IS NOT NULL
			AND u.disabled_at IS NULL AND (t.reminded_due IS NULL OR t.reminded_due <> t.due_at) ORDER BY t.due_at, t.id LIMIT 500`, now)
		if err != nil {
			return err
		}
		for _, t := range tasks {
			u, err := scanUser(tx.queryRow(ctx, `SELECT `+userColumns+` FROM users WHERE id = ?`, t.OwnerID))
			if err != nil {
				return err
			}
			if _, err := tx.exec(ctx, `UPDATE security_tasks SET reminded_due = due_at WHERE id = ?`, t.ID); err != nil {
				return err
			}
			m := compose(t, u)
			if m == nil {
				continue
			}
			m.Key = fmt.Sprintf("task:%d:due:%d", t.ID, t.DueAt.Unix())
			if err := tx.enqueue(ctx, []*tocsin.Message{m}); err != nil {
				return err
			}
			if err := tx.notified(ctx, t.IncidentID, "task", []string{u.Email}, t.Title, now); err != nil {
				return err
			}
		}
		var n *time.Time
		if err := tx.queryRow(ctx, `SELECT MIN(due_at) FROM security_tasks WHERE status = 'open' AND due_at > ? AND owner_id IS NOT NULL`, now).
			Scan(nullTimeScan{&n}); err != nil {
			return err
		}
		if n != nil {
			next = *n
		}
		return nil
	})
	return next, err
}
