package httpserver

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/tocsin-org/tocsin"
	"github.com/tocsin-org/tocsin/i18n"
)

// The room's tasks: applying a runbook, adding a task, and each task's
// status, owner and due time (security_room_tasks.html).

// taskRow is one task as the room shows it.
type taskRow struct {
	*tocsin.Task
	Due      string
	DueInput string
	Overdue  bool
}

// addRoomTasks puts the incident's tasks and the runbooks to apply in the
// room's data.
func (s *Server) addRoomTasks(r *http.Request, id int64, data map[string]any) error {
	tasks, err := s.store.Tasks(r.Context(), id)
	if err != nil {
		return err
	}
	list, err := s.store.Runbooks(r.Context())
	if err != nil {
		return err
	}
	now := s.now()
	rows := make([]taskRow, len(tasks))
	open := 0
	for i, t := range tasks {
		rows[i] = taskRow{Task: t, Overdue: t.Overdue(now)}
		if t.DueAt != nil {
			rows[i].Due, rows[i].DueInput = s.fmtTime(*t.DueAt), t.DueAt.In(s.loc).Format(dateTimeLocal)
		}
		if t.Status == tocsin.TaskOpen {
			open++
		}
	}
	// The reader's language first, then the others.
	lang := state(r).lang
	var runbooks []*tocsin.Runbook
	for _, rb := range list {
		if rb.Lang == lang || rb.Lang == "" {
			runbooks = append(runbooks, rb)
		}
	}
	for _, rb := range list {
		if rb.Lang != lang && rb.Lang != "" {
			runbooks = append(runbooks, rb)
		}
	}
	data["Tasks"], data["TasksOpen"], data["Runbooks"] = rows, open, runbooks
	return nil
}

// roomTaskAction runs a change to the tasks from the room's forms, like
// roomAction, with a flash that may depend on what the change did.
func (s *Server) roomTaskAction(where string, fn func(r *http.Request, a tocsin.Actor, id int64) (string, error)) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		id, err := pathID(r, "id")
		if err != nil {
			return err
		}
		if _, err := s.store.SecurityIncident(r.Context(), id); err != nil {
			return err
		}
		flash, err := fn(r, state(r).actor(), id)
		if err != nil {
			return s.roomRefused(w, r, id, where, err)
		}
		return s.renderRoom(w, r, id, http.StatusOK, roomView{Flash: flash})
	}
}

func (s *Server) applyRunbook(r *http.Request, a tocsin.Actor, id int64) (string, error) {
	rbID, _ := strconv.ParseInt(strings.TrimSpace(r.PostForm.Get("runbook")), 10, 64)
	n, err := s.store.ApplyRunbook(r.Context(), a, id, rbID)
	if err != nil {
		return "", err
	}
	return i18n.T(state(r).lang, "task.applied", n), nil
}

func (s *Server) addTask(r *http.Request, a tocsin.Actor, id int64) (string, error) {
	f := r.PostForm
	t := &tocsin.Task{Title: f.Get("title"), Detail: f.Get("detail"), OwnerID: formUser(f, "owner")}
	due, err := s.formTime(f, "due")
	if err != nil {
		return "", err
	}
	if !due.IsZero() {
		t.DueAt = &due
	}
	if err := s.store.AddTask(r.Context(), a, id, t); err != nil {
		return "", err
	}
	return i18n.T(state(r).lang, "task.added"), nil
}

// updateTask reads one task's form: the button pressed (done, skip,
// reopen, or save for owner and due time).
func (s *Server) updateTask(r *http.Request, a tocsin.Actor, id int64) (string, error) {
	taskID, err := pathID(r, "task")
	if err != nil {
		return "", err
	}
	f := r.PostForm
	var p tocsin.TaskPatch
	switch f.Get("action") {
	case "done", "skip", "reopen":
		st := map[string]tocsin.TaskStatus{"done": tocsin.TaskDone, "skip": tocsin.TaskSkipped, "reopen": tocsin.TaskOpen}[f.Get("action")]
		p.Status, p.Reason = &st, f.Get("reason")
	default:
		owner := formUser(f, "owner")
		p.Owner = &owner
		due, err := s.formTime(f, "due")
		if err != nil {
			return "", err
		}
		if due.IsZero() {
			p.ClearDue = true
		} else {
			p.Due = &due
		}
	}
	if _, err := s.store.UpdateTask(r.Context(), a, id, taskID, p); err != nil {
		return "", err
	}
	return i18n.T(state(r).lang, "task.saved"), nil
}

// taskEntryText is the line a task's timeline entry shows.
func (s *Server) taskEntryText(lang string, e *tocsin.SecurityEntry) string {
	switch e.Kind {
	case tocsin.EntryTaskStatus:
		st := func(v string) string { return i18n.T(lang, "task.status."+v) }
		text := i18n.T(lang, "task.text.status", e.Subject, st(e.Old), st(e.New))
		if e.Body != "" {
			text += " — " + e.Body
		}
		return text
	case tocsin.EntryTaskOwner:
		who := func(v string) string {
			if v == "" {
				return i18n.T(lang, "task.unassigned")
			}
			return v
		}
		return i18n.T(lang, "task.text.owner", e.Subject, who(e.Old), who(e.New))
	case tocsin.EntryTaskDue:
		when := func(v string) string {
			if t, err := time.Parse(time.RFC3339Nano, v); err == nil {
				return s.fmtTime(t)
			}
			return i18n.T(lang, "task.no_due")
		}
		return i18n.T(lang, "task.text.due", e.Subject, when(e.Old), when(e.New))
	case tocsin.EntryRunbookApplied:
		n, _ := strconv.Atoi(e.New)
		return i18n.T(lang, "task.text.applied", e.Subject, n)
	}
	return e.Subject
}
