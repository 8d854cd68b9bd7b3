package tocsin

import (
	"strings"
	"testing"
	"time"
)

func TestPostmortemValidate(t *testing.T) {
	now := time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC)
	at := func(min int) time.Time { return now.Add(time.Duration(min) * time.Minute) }
	tests := []struct {
		name    string
		p       Postmortem
		wantKey string
	}{
		{"summary only", Postmortem{Summary: " What happened. "}, ""},
		{"no summary", Postmortem{Summary: "  ", RootCause: "x"}, "postmortems.summary_empty"},
		{"oversized section", Postmortem{Summary: "s", RootCause: strings.Repeat("a", MaxUpdateBytes+1)}, "postmortems.section_too_long"},
		{"entry without time", Postmortem{Summary: "s", Timeline: []TimelineEntry{{Text: "x"}}}, "postmortems.timeline_no_time"},
		{"entry without text", Postmortem{Summary: "s", Timeline: []TimelineEntry{{At: at(-5), Text: " "}}}, "postmortems.timeline_no_text"},
		{"entry too long", Postmortem{Summary: "s", Timeline: []TimelineEntry{{At: at(-5), Text: strings.Repeat("a", MaxTimelineEntryText+1)}}}, "postmortems.timeline_text_too_long"},
		{"entry in the future", Postmortem{Summary: "s", Timeline: []TimelineEntry{{At: at(5), Text: "x"}}}, "postmortems.timeline_future"},
		{"too many entries", Postmortem{Summary: "s", Timeline: make([]TimelineEntry, MaxTimelineEntries+1)}, "postmortems.timeline_too_long"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.p.Validate(now)
			if tt.wantKey == "" {
				if err != nil {
					t.Fatalf("Validate: %v", err)
				}
				return
			}
			var e *Error
			if ErrorCode(err) != EINVALID || !asError(err, &e) || e.Key != tt.wantKey {
				t.Fatalf("Validate = %v, want EINVALID %s", err, tt.wantKey)
			}
		})
	}

	t.Run("timeline sorted, ties kept in written order, trimmed", func(t *testing.T) {
		p := Postmortem{Summary: " s ", Timeline: []TimelineEntry{{at(-10), "b "}, {at(-30), "a"}, {at(-10), " c"}}}
		if err := p.Validate(now); err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, e := range p.Timeline {
			got = append(got, e.Text)
		}
		if strings.Join(got, ",") != "a,b,c" || p.Summary != "s" {
			t.Errorf("timeline %q, summary %q", got, p.Summary)
		}
	})
}

func asError(err error, e **Error) bool {
	x, ok := err.(*Error)
	*e = x
	return ok
}

func TestPostmortemRules(t *testing.T) {
	author := Actor{UserID: 1, Label: "author@example.org"}
	editor := Actor{UserID: 2, Label: "editor@example.org"}
	other := Actor{UserID: 3, Label: "approver@example.org"}
	bot := Actor{TokenID: 1, Label: "token:ci"}
	approver, responder := Roles{RoleApprover}, Roles{RoleResponder, RoleAdmin}
	draft := func() *Postmortem {
		return &Postmortem{Status: PostmortemDraft, Revision: 3, Contributors: []Contributor{
			{ActorKey(author), author.Label}, {ActorKey(editor), editor.Label}}}
	}
	tests := []struct {
		name     string
		p        *Postmortem
		who      Actor
		roles    Roles
		revision int
		wantCode string
		wantKey  string
	}{
		{"another approver approves", draft(), other, approver, 3, "", ""},
		{"a token with the role approves", draft(), bot, approver, 3, "", ""},
		{"author cannot approve", draft(), author, Roles{RoleResponder, RoleApprover}, 3, EFORBIDDEN, "postmortems.own_text"},
		{"editor cannot approve", draft(), editor, approver, 3, EFORBIDDEN, "postmortems.own_text"},
		{"non-approver cannot approve", draft(), other, responder, 3, EFORBIDDEN, "postmortems.not_approver"},
		{"stale revision", draft(), other, approver, 2, ECONFLICT, "postmortems.stale"},
		{"already approved", func() *Postmortem { p := draft(); p.Status = PostmortemApproved; return p }(), other, approver, 3, ECONFLICT, "postmortems.already_approved"},
		{"already published", func() *Postmortem { p := draft(); p.Status = PostmortemPublished; return p }(), other, approver, 3, ECONFLICT, "postmortems.already_published"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.p.CheckApprove(ActorKey(tt.who), tt.roles, tt.revision)
			wantErr(t, err, tt.wantCode, tt.wantKey)
		})
	}

	resolved := &Incident{Status: IncidentResolved, PublishedAt: new(time.Time)}
	publishTests := []struct {
		name     string
		status   PostmortemStatus
		inc      *Incident
		wantCode string
		wantKey  string
	}{
		{"approved, incident resolved", PostmortemApproved, resolved, "", ""},
		{"draft: publish without approval is a conflict", PostmortemDraft, resolved, ECONFLICT, "postmortems.not_approved"},
		{"already published", PostmortemPublished, resolved, ECONFLICT, "postmortems.already_published"},
		{"incident still open", PostmortemApproved, &Incident{Status: IncidentMonitoring, PublishedAt: new(time.Time)}, ECONFLICT, "postmortems.incident_open"},
		{"a maintenance", PostmortemApproved, &Incident{Status: MaintenanceCompleted, PublishedAt: new(time.Time), ScheduledFor: new(time.Time), ScheduledUntil: new(time.Time)}, ECONFLICT, "postmortems.maintenance"},
		{"incident a draft", PostmortemApproved, &Incident{Status: IncidentResolved}, ECONFLICT, "postmortems.incident_draft"},
	}
	for _, tt := range publishTests {
		t.Run("publish: "+tt.name, func(t *testing.T) {
			p := draft()
			p.Status = tt.status
			wantErr(t, p.CheckPublish(tt.inc), tt.wantCode, tt.wantKey)
		})
	}

	t.Run("published text is final", func(t *testing.T) {
		p := draft()
		wantErr(t, p.CheckEdit(), "", "")
		p.Status = PostmortemPublished
		wantErr(t, p.CheckEdit(), ECONFLICT, "postmortems.published_final")
	})
}

func wantErr(t *testing.T, err error, code, key string) {
	t.Helper()
	if code == "" {
		if err != nil {
			t.Fatalf("err = %v, want none", err)
		}
		return
	}
	var e *Error
	if ErrorCode(err) != code || !asError(err, &e) || e.Key != key {
		t.Fatalf("err = %v, want %s %s", err, code, key)
	}
}

func TestActorKey(t *testing.T) {
	for _, tt := range []struct {
		a    Actor
		want string
	}{{Actor{UserID: 3, TokenID: 9, Label: "a"}, "user:3"}, {Actor{TokenID: 9, Label: "token:x"}, "token:9"}, {CLI, "label:cli"}} {
		if got := ActorKey(tt.a); got != tt.want {
			t.Errorf("ActorKey(%+v) = %q, want %q", tt.a, got, tt.want)
		}
	}
}
