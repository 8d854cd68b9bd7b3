package tocsin

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode/utf8"
)

// A Runbook is a Markdown checklist of what to do in one kind of incident:
//
//	# Leaked database password
//
//	What to do when a database password may be known outside.
//
//	- [ ] Change the password on the server (owner: lead, due: 30m)
//	  Indented lines under an item are its detail.
//	- [ ] Tell the users (owner: comms, due: 2h)
//
// An item's owner is an incident role (lead, comms, scribe) or a username,
// resolved when the runbook is applied; its due time is a Go duration
// counted from that moment. Runbooks are versioned: an edit makes a new
// version and the old ones are kept.
type Runbook struct {
	ID          int64
	Slug        string // stable name, unique with Lang: "leaked-db-password"
	Lang        string // "fr", "en" or "" (any)
	Title       string
	Description string
	Items       []RunbookItem
	Markdown    string
	Version     int
	// Builtin is true while the current version is the one tocsin ships:
	// a newer shipped text replaces it, an edit never is.
	Builtin   bool
	UpdatedBy string
	UpdatedAt time.Time
}

// RunbookItem is one line of the checklist.
type RunbookItem struct {
	Line   int
	Text   string
	Owner  string        // "lead", "comms", "scribe", a username, or ""
	Due    time.Duration // 0: no due time
	Detail string
}

// RunbookVersion is one stored version of a runbook.
type RunbookVersion struct {
	Version   int
	Title     string
	Markdown  string
	CreatedBy string
	CreatedAt time.Time
}

// Limits of a runbook.
const (
	MaxRunbookSize     = 64 << 10
	MaxRunbookItems    = 200
	MaxRunbookItemText = 500
	MaxRunbookDue      = 366 * 24 * time.Hour
)

// RunbookOwnerRoles are the incident roles an item may name as its owner.
var RunbookOwnerRoles = []IncidentRole{RoleLead, RoleComms, RoleScribe}

var (
	runbookSlug     = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,79}$`)
	runbookUsername = regexp.MustCompile(`^[A-Za-z0-9._+@-]{1,254}$`)
	runbookItem     = regexp.MustCompile(`^[-*] \[[ xX]\](?:\s+(.*))?$`)
)

// ValidateSlug checks a runbook's stable name.
func ValidateSlug(s string) error {
	if !runbookSlug.MatchString(s) {
		return Errorf(EINVALID, "a runbook's name is 1 to 80 lowercase letters, digits and dashes, not %q", s).WithKey("runbook.slug", s)
	}
	return nil
}

func runbookLineError(line int, key, format string, args ...any) error {
	msg := fmt.Sprintf(format, args...)
	return Errorf(EINVALID, "line %d: %s", line, msg).WithKey(key, append([]any{line}, args...)...)
}

// ParseRunbook reads a runbook's Markdown. Errors are EINVALID and name
// the line: "line 7: due \"3x\" is not a duration like 30m or 2h".
func ParseRunbook(md string) (*Runbook, error) {
	if len(md) > MaxRunbookSize {
		return nil, Errorf(EINVALID, "a runbook is at most %d bytes, this one is %d", MaxRunbookSize, len(md)).WithKey("runbook.too_large", MaxRunbookSize)
	}
	if !utf8.ValidString(md) {
		return nil, Errorf(EINVALID, "a runbook is UTF-8 text").WithKey("runbook.utf8")
	}
	rb := &Runbook{Markdown: md}
	lines := strings.Split(strings.ReplaceAll(md, "\r\n", "\n"), "\n")
	var (
		desc    []string
		detail  []string // of the current item
		current = -1
		seen    = map[string]int{}
	)
	flush := func() {
		if current >= 0 {
			rb.Items[current].Detail = strings.TrimSpace(strings.Join(detail, "\n"))
		}
		detail = nil
	}
	for i, raw := range lines {
		n := i + 1
		line := strings.TrimRight(raw, " \t\r")
		if strings.ContainsFunc(line, func(r rune) bool { return r < 0x20 && r != '\t' }) {
			return nil, runbookLineError(n, "runbook.control", "control characters are not allowed")
		}
		trimmed := strings.TrimSpace(line)
		switch {
		case rb.Title == "":
			if trimmed == "" {
				continue
			}
			title, ok := strings.CutPrefix(line, "# ")
			title = strings.TrimSpace(title)
			if !ok || title == "" {
				return nil, runbookLineError(n, "runbook.title", "a runbook starts with its title, as \"# Title\"")
			}
			if utf8.RuneCountInString(title) > 200 {
				return nil, runbookLineError(n, "runbook.title_long", "the title is longer than 200 characters")
			}
			rb.Title = title
		case trimmed == "":
			if current >= 0 {
				detail = append(detail, "")
			} else if len(desc) > 0 {
				desc = append(desc, "")
			}
		case line[0] == ' ' || line[0] == '\t':
			if current < 0 {
				desc = append(desc, trimmed)
				continue
			}
			detail = append(detail, trimmed)
		case strings.HasPrefix(line, "#"):
			return nil, runbookLineError(n, "runbook.heading", "a runbook has one title; write sections as items or details")
		default:
			m := runbookItem.FindStringSubmatch(line)
			if m == nil {
				if current < 0 {
					desc = append(desc, trimmed)
					continue
				}
				return nil, runbookLineError(n, "runbook.item", "expected a checklist item \"- [ ] text\" or an indented detail")
			}
			flush()
			item, err := parseRunbookItem(n, strings.TrimSpace(m[1]))
			if err != nil {
				return nil, err
			}
			key := strings.ToLower(item.Text)
			if first, ok := seen[key]; ok {
				return nil, runbookLineError(n, "runbook.duplicate", "the same item as line %d", first)
			}
			seen[key] = n
			if len(rb.Items) == MaxRunbookItems {
				return nil, runbookLineError(n, "runbook.too_many", "a runbook has at most %d items", MaxRunbookItems)
			}
			rb.Items = append(rb.Items, item)
			current = len(rb.Items) - 1
		}
	}
	flush()
	if rb.Title == "" {
		return nil, Errorf(EINVALID, "a runbook starts with its title, as \"# Title\"").WithKey("runbook.empty")
	}
	if len(rb.Items) == 0 {
		return nil, Errorf(EINVALID, "a runbook needs at least one item \"- [ ] text\"").WithKey("runbook.no_items")
	}
	rb.Description = strings.TrimSpace(strings.Join(desc, "\n"))
	return rb, nil
}

// parseRunbookItem reads "text (owner: lead, due: 30m)"; the parentheses
// are optional, and a final parenthesis without "owner:" or "due:" is text.
func parseRunbookItem(n int, s string) (RunbookItem, error) {
	item := RunbookItem{Line: n, Text: s}
	if strings.HasSuffix(s, ")") {
		if open := strings.LastIndex(s, "("); open >= 0 {
			inner := s[open+1 : len(s)-1]
			if k, _, ok := strings.Cut(inner, ":"); ok && slices.Contains([]string{"owner", "due"}, strings.ToLower(strings.TrimSpace(k))) {
				item.Text = strings.TrimSpace(s[:open])
				for _, part := range strings.Split(inner, ",") {
					k, v, ok := strings.Cut(part, ":")
					k, v = strings.ToLower(strings.TrimSpace(k)), strings.TrimSpace(v)
					if !ok {
						return item, runbookLineError(n, "runbook.meta", "write \"(owner: lead, due: 30m)\", not %q", strings.TrimSpace(part))
					}
					switch k {
					case "owner":
						if item.Owner != "" {
							return item, runbookLineError(n, "runbook.meta_twice", "%s is given twice", k)
						}
						if err := checkRunbookOwner(n, v); err != nil {
							return item, err
						}
						item.Owner = v
					case "due":
						if item.Due != 0 {
							return item, runbookLineError(n, "runbook.meta_twice", "%s is given twice", k)
						}
						d, err := time.ParseDuration(v)
						if err != nil {
							return item, runbookLineError(n, "runbook.due", "due %q is not a duration like 30m or 2h", v)
						}
						if d <= 0 || d > MaxRunbookDue {
							return item, runbookLineError(n, "runbook.due_range", "due %q must be after the runbook is applied and within a year", v)
						}
						item.Due = d
					default:
						return item, runbookLineError(n, "runbook.meta_unknown", "unknown %q: an item takes owner and due", k)
					}
				}
			}
		}
	}
	if item.Text == "" {
		return item, runbookLineError(n, "runbook.item_empty", "the item has no text")
	}
	if utf8.RuneCountInString(item.Text) > MaxRunbookItemText {
		return item, runbookLineError(n, "runbook.item_long", "an item is at most %d characters", MaxRunbookItemText)
	}
	return item, nil
}

func checkRunbookOwner(n int, v string) error {
	if r := IncidentRole(v); slices.Contains(IncidentRoles, r) {
		if !slices.Contains(RunbookOwnerRoles, r) {
			return runbookLineError(n, "runbook.owner_member", "owner %q: name lead, comms, scribe or one person", v)
		}
		return nil
	}
	if !runbookUsername.MatchString(v) {
		return runbookLineError(n, "runbook.owner", "owner %q is neither a role (lead, comms, scribe) nor a username", v)
	}
	return nil
}

// TaskStatus is where a task stands.
type TaskStatus string

const (
	TaskOpen    TaskStatus = "open"
	TaskDone    TaskStatus = "done"
	TaskSkipped TaskStatus = "skipped" // with a reason
)

// TaskStatuses lists the statuses.
var TaskStatuses = []TaskStatus{TaskOpen, TaskDone, TaskSkipped}

// ParseTaskStatus validates a status.
func ParseTaskStatus(s string) (TaskStatus, error) {
	v := TaskStatus(strings.TrimSpace(s))
	if slices.Contains(TaskStatuses, v) {
		return v, nil
	}
	return "", Errorf(EINVALID, "unknown task status %q: allowed are open, done, skipped", s).WithKey("task.status_unknown", s)
}

// Task is one thing to do in an incident, from a runbook or added by hand.
type Task struct {
	ID           int64
	IncidentID   int64
	RunbookID    int64 // 0 when added by hand
	RunbookTitle string
	Title        string
	Detail       string
	OwnerID      int64 // 0: unassigned
	OwnerEmail   string
	OwnerName    string
	DueAt        *time.Time
	Status       TaskStatus
	Reason       string // why it was skipped
	CreatedBy    string
	CreatedAt    time.Time
	UpdatedAt    time.Time
}

// Overdue reports whether an open task is past its due time at now.
func (t *Task) Overdue(now time.Time) bool {
	return t.Status == TaskOpen && t.DueAt != nil && now.After(*t.DueAt)
}

// Validate checks a task added by hand.
func (t *Task) Validate() error {
	t.Title = strings.TrimSpace(t.Title)
	if t.Title == "" || utf8.RuneCountInString(t.Title) > MaxRunbookItemText || !utf8.ValidString(t.Title) {
		return Errorf(EINVALID, "a task needs a title of 1 to %d characters", MaxRunbookItemText).WithKey("task.title", MaxRunbookItemText)
	}
	return checkText("detail", t.Detail, 0, MaxSecurityText)
}

// TaskPatch is a change to a task; nil fields stay as they are.
type TaskPatch struct {
	Status *TaskStatus
	Reason string // needed to skip
	// Owner is the new owner's account, 0 to unassign.
	Owner *int64
	// Due is the new due time; ClearDue removes it.
	Due      *time.Time
	ClearDue bool
}

// CheckTaskDue refuses a due time before the incident existed.
func CheckTaskDue(due, created time.Time) error {
	if due.Before(created) {
		return Errorf(EINVALID, "the due time %s is before the incident was opened", due.UTC().Format(time.RFC3339)).WithKey("task.due_early")
	}
	return nil
}

// RunbookImport says what an import did.
type RunbookImport string

const (
	ImportCreated   RunbookImport = "created"
	ImportUpdated   RunbookImport = "updated"   // a new version
	ImportUnchanged RunbookImport = "unchanged" // the same text
	ImportKept      RunbookImport = "kept"      // edited here: a shipped text does not replace it
)

// RunbookService stores runbooks and the tasks of security incidents.
// Every mutation writes its audit entry, and a task's changes their
// timeline entries, in one transaction.
type RunbookService interface {
	// Runbooks lists the current version of every runbook, by title.
	Runbooks(ctx context.Context) ([]*Runbook, error)
	// Runbook returns runbook id at version (0: the current one), parsed.
	Runbook(ctx context.Context, id int64, version int) (*Runbook, error)
	// RunbookVersions lists a runbook's versions, newest first.
	RunbookVersions(ctx context.Context, id int64) ([]RunbookVersion, error)
	// SaveRunbook creates rb (ID 0: Slug, Lang, Markdown) or stores its
	// Markdown as a new version; the same text makes no version.
	SaveRunbook(ctx context.Context, a Actor, rb *Runbook) error
	// ImportRunbook stores rb by Slug and Lang. A builtin import never
	// replaces a runbook edited here.
	ImportRunbook(ctx context.Context, a Actor, rb *Runbook, builtin bool) (RunbookImport, error)
	// ApplyRunbook adds to incident id the items of the runbook's current
	// version it does not have yet; it returns how many it added.
	ApplyRunbook(ctx context.Context, a Actor, id, runbookID int64) (int, error)
	// Tasks lists an incident's tasks in the order they were added.
	Tasks(ctx context.Context, id int64) ([]*Task, error)
	// AddTask adds a task by hand.
	AddTask(ctx context.Context, a Actor, id int64, t *Task) error
	// UpdateTask changes a task of incident id and returns it.
	UpdateTask(ctx context.Context, a Actor, id, taskID int64, p TaskPatch) (*Task, error)
	// RemindOverdueTasks enqueues, for every open task overdue at now with
	// an owner, the message compose makes (once per task and due time), and
	// returns the next due time of an open task (zero if none).
	RemindOverdueTasks(ctx context.Context, now time.Time, compose func(t *Task, owner *User) *Message) (time.Time, error)
}
