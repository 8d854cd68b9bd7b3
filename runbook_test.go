package tocsin

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestParseRunbook(t *testing.T) {
	good := "# Leaked database password\n\nWhen a database password may be known outside.\nSecond line.\n\n" +
		"- [ ] Change the password (owner: lead, due: 30m)\n" +
		"  On the primary first.\n" +
		"\n" +
		"  Then the replicas.\n" +
		"- [ ] Tell the users (owner: comms, due: 2h)\n" +
		"* [x] Read the logs (see the wiki)\n" +
		"- [ ] Ask alice (owner: alice@example.org)\n" +
		"- [ ] Wait (due: 1h30m)\n"
	rb, err := ParseRunbook(good)
	if err != nil {
		t.Fatal(err)
	}
	if rb.Title != "Leaked database password" || rb.Description != "When a database password may be known outside.\nSecond line." {
		t.Errorf("title %q description %q", rb.Title, rb.Description)
	}
	want := []RunbookItem{
		{Line: 6, Text: "Change the password", Owner: "lead", Due: 30 * time.Minute, Detail: "On the primary first.\n\nThen the replicas."},
		{Line: 10, Text: "Tell the users", Owner: "comms", Due: 2 * time.Hour},
		{Line: 11, Text: "Read the logs (see the wiki)"},
		{Line: 12, Text: "Ask alice", Owner: "alice@example.org"},
		{Line: 13, Text: "Wait", Due: 90 * time.Minute},
	}
	if len(rb.Items) != len(want) {
		t.Fatalf("items %+v", rb.Items)
	}
	for i, w := range want {
		if rb.Items[i] != w {
			t.Errorf("item %d = %+v, want %+v", i, rb.Items[i], w)
		}
	}

	bad := []struct {
		name, md, msg string
	}{
		{"empty", "", "starts with its title"},
		{"no title", "some text\n- [ ] x", "line 1: a runbook starts with its title"},
		{"no items", "# T\n\ntext", "at least one item"},
		{"bad due", "# T\n\n- [ ] a\n- [ ] b\n\n\n- [ ] c (due: 3x)", `line 7: due "3x" is not a duration like 30m or 2h`},
		{"negative due", "# T\n- [ ] a (due: -5m)", "line 2: due \"-5m\" must be after"},
		{"huge due", "# T\n- [ ] a (due: 9000h)", "within a year"},
		{"member owner", "# T\n- [ ] a (owner: member)", `line 2: owner "member"`},
		{"bad owner", "# T\n- [ ] a (owner: two words)", `line 2: owner "two words" is neither`},
		{"unknown key", "# T\n- [ ] a (owner: lead, when: 1h)", `line 2: unknown "when"`},
		{"no colon", "# T\n- [ ] a (owner: lead, 1h)", `line 2: write "(owner: lead, due: 30m)"`},
		{"twice", "# T\n- [ ] a (due: 1h, due: 2h)", "line 2: due is given twice"},
		{"empty item", "# T\n- [ ] (owner: lead)", "line 2: the item has no text"},
		{"second heading", "# T\n- [ ] a\n## More", "line 3: a runbook has one title"},
		{"stray text", "# T\n- [ ] a\nloose text", "line 3: expected a checklist item"},
		{"duplicate", "# T\n- [ ] a\n- [ ] A", "line 3: the same item as line 2"},
		{"control", "# T\n- [ ] a\x00", "line 2: control characters"},
		{"utf8", "# T\n- [ ] \xff", "UTF-8"},
		{"too large", "# T\n- [ ] a\n" + strings.Repeat("  x\n", MaxRunbookSize/4), "at most"},
		{"too many", "# T\n" + manyItems(MaxRunbookItems+1), "at most 200 items"},
		{"long title", "# " + strings.Repeat("é", 201) + "\n- [ ] a", "line 1: the title is longer"},
	}
	for _, c := range bad {
		t.Run(c.name, func(t *testing.T) {
			_, err := ParseRunbook(c.md)
			var e *Error
			if !errors.As(err, &e) || e.Code != EINVALID || e.Key == "" {
				t.Fatalf("err = %v, want EINVALID with a key", err)
			}
			if !strings.Contains(e.Message, c.msg) {
				t.Errorf("message %q, want %q in it", e.Message, c.msg)
			}
		})
	}
}

func manyItems(n int) string {
	var b strings.Builder
	for i := range n {
		b.WriteString("- [ ] item ")
		b.WriteString(strings.Repeat("x", i%7))
		b.WriteString(time.Duration(i).String())
		b.WriteString("\n")
	}
	return b.String()
}

func TestTaskRules(t *testing.T) {
	created := time.Date(2026, 11, 20, 16, 40, 0, 0, time.UTC)
	if err := CheckTaskDue(created.Add(-time.Minute), created); ErrorCode(err) != EINVALID {
		t.Errorf("due before the incident: %v", err)
	}
	if err := CheckTaskDue(created, created); err != nil {
		t.Errorf("due at creation: %v", err)
	}
	due := created.Add(time.Hour)
	for _, c := range []struct {
		name   string
		task   Task
		at     time.Time
		expect bool
	}{
		{"open past due", Task{Status: TaskOpen, DueAt: &due}, due.Add(time.Second), true},
		{"open at due", Task{Status: TaskOpen, DueAt: &due}, due, false},
		{"done past due", Task{Status: TaskDone, DueAt: &due}, due.Add(time.Hour), false},
		{"no due", Task{Status: TaskOpen}, due.Add(time.Hour), false},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := c.task.Overdue(c.at); got != c.expect {
				t.Errorf("Overdue = %v", got)
			}
		})
	}
	if _, err := ParseTaskStatus("finished"); ErrorCode(err) != EINVALID {
		t.Errorf("unknown status: %v", err)
	}
	if err := ValidateSlug("Leaked DB"); ErrorCode(err) != EINVALID {
		t.Errorf("bad slug: %v", err)
	}
}

// FuzzParseRunbook: whatever is accepted has a title, 1 to MaxRunbookItems
// items with text, known owners and due times in range; refusals are
// EINVALID with a message key.
func FuzzParseRunbook(f *testing.F) {
	for _, s := range []string{"# T\n- [ ] a (owner: lead, due: 30m)\n  detail", "# T\n\ndesc\n\n- [x] b (x)", "# T\n- [ ] c (due: 3x)", "- [ ] no title", "# T\n- [ ] (owner:)"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		rb, err := ParseRunbook(s)
		if err != nil {
			var e *Error
			if !errors.As(err, &e) || e.Code != EINVALID || e.Key == "" {
				t.Fatalf("refusal %v is not EINVALID with a key", err)
			}
			return
		}
		if rb.Title == "" || len(rb.Items) == 0 || len(rb.Items) > MaxRunbookItems {
			t.Fatalf("accepted %q: title %q, %d items", s, rb.Title, len(rb.Items))
		}
		for _, it := range rb.Items {
			if strings.TrimSpace(it.Text) == "" || it.Due < 0 || it.Due > MaxRunbookDue || it.Owner == "member" || strings.ContainsAny(it.Owner, " ,()") {
				t.Fatalf("accepted %q with item %+v", s, it)
			}
		}
	})
}
