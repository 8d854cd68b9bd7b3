package tocsin

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
)

func TestParseRoles(t *testing.T) {
	tests := []struct {
		in      string
		want    string
		wantErr bool
	}{
		{"admin", "admin", false},
		{"admin, viewer,admin", "viewer,admin", false},
		{" Responder ,APPROVER", "responder,approver", false},
		{"", "", true},
		{",,", "", true},
		{"root", "", true},
		{"viewer,root", "", true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseRoles(tt.in)
			if (err != nil) != tt.wantErr {
				t.Fatalf("ParseRoles(%q) error = %v, want error %v", tt.in, err, tt.wantErr)
			}
			if err != nil {
				if ErrorCode(err) != EINVALID || !strings.Contains(err.Error(), "viewer, responder") {
					t.Errorf("error should list the allowed roles: %v", err)
				}
				return
			}
			if got.String() != tt.want {
				t.Errorf("ParseRoles(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestRolesAllows(t *testing.T) {
	tests := []struct {
		have Roles
		need Role
		want bool
	}{
		{Roles{RoleResponder}, RoleViewer, true}, // any role reads the console
		{Roles{RoleResponder}, RoleResponder, true},
		{Roles{RoleResponder}, RoleAdmin, false},
		{Roles{RoleAdmin}, RoleApprover, false}, // admin does not imply approver
		{Roles{RoleAdmin}, RoleResponder, false},
		{Roles{RoleViewer}, RoleCommunicator, false},
		{nil, RoleViewer, false},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%s needs %s", tt.have, tt.need), func(t *testing.T) {
			if got := tt.have.Allows(tt.need); got != tt.want {
				t.Errorf("Allows = %v, want %v", got, tt.want)
			}
		})
	}
	if !(Roles{RoleApprover}).NeedsTwoFactor() || !(Roles{RoleAdmin}).NeedsTwoFactor() || (Roles{RoleResponder, RoleCommunicator}).NeedsTwoFactor() {
		t.Error("admin and approver, and only they, need a second factor")
	}
}

func TestNormalizeEmail(t *testing.T) {
	tests := []struct{ in, want string }{
		{"Alice@Example.org", "alice@example.org"},
		{"  bob@example.org ", "bob@example.org"},
		{"not-an-address", ""},
		{"Alice <alice@example.org>", ""},
		{"a@b@c", ""},
		{"", ""},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := NormalizeEmail(tt.in)
			if tt.want == "" {
				if err == nil || ErrorCode(err) != EINVALID {
					t.Errorf("NormalizeEmail(%q) = %q, %v; want an EINVALID error", tt.in, got, err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Errorf("NormalizeEmail(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
			}
		})
	}
}

func TestErrorCodeAndMessage(t *testing.T) {
	e := Errorf(ECONFLICT, "taken: %s", "x")
	wrapped := fmt.Errorf("context: %w", e)
	if ErrorCode(wrapped) != ECONFLICT || ErrorMessage(wrapped) != "taken: x" {
		t.Errorf("wrapped domain error lost: %q %q", ErrorCode(wrapped), ErrorMessage(wrapped))
	}
	plain := errors.New("disk on fire at /var/lib/secret")
	if ErrorCode(plain) != EINTERNAL || strings.Contains(ErrorMessage(plain), "disk") {
		t.Errorf("internal errors must not leak their text: %q", ErrorMessage(plain))
	}
	if ErrorCode(nil) != "" {
		t.Error("nil has no code")
	}
}

// chain builds n sealed entries.
func chain(n int) []*AuditEntry {
	var out []*AuditEntry
	var prev *AuditEntry
	at := time.Date(2026, 11, 24, 10, 0, 0, 123456789, time.UTC)
	for i := range n {
		e := &AuditEntry{At: at.Add(time.Duration(i) * time.Minute), ActorID: 1, Actor: "alice@example.org", IP: "127.0.0.1",
			Action: "user.create", Target: fmt.Sprintf("user:%d", i+2), After: "roles=responder"}
		e.Seal(prev)
		out = append(out, e)
		prev = e
	}
	return out
}

func verify(entries []*AuditEntry) *AuditBreak {
	var v ChainVerifier
	for _, e := range entries {
		if b := v.Next(e); b != nil {
			return b
		}
	}
	return nil
}

func TestChainVerifier(t *testing.T) {
	tests := []struct {
		name    string
		tamper  func([]*AuditEntry) []*AuditEntry
		wantSeq int64 // 0: intact
		reason  string
	}{
		{"intact", func(es []*AuditEntry) []*AuditEntry { return es }, 0, ""},
		{"field altered", func(es []*AuditEntry) []*AuditEntry { es[2].After = "roles=admin"; return es }, 3, "altered"},
		{"token altered", func(es []*AuditEntry) []*AuditEntry { es[1].TokenID = 9; return es }, 2, "altered"},
		{"time altered", func(es []*AuditEntry) []*AuditEntry { es[0].At = es[0].At.Add(time.Second); return es }, 1, "altered"},
		{"middle removed", func(es []*AuditEntry) []*AuditEntry { return append(es[:2], es[3:]...) }, 3, "missing"},
		{"first removed", func(es []*AuditEntry) []*AuditEntry { return es[1:] }, 1, "missing"},
		{"re-sealed after edit", func(es []*AuditEntry) []*AuditEntry {
			es[2].After = "roles=admin"
			es[2].Hash = es[2].ComputeHash() // a forger recomputes this entry's hash…
			return es                        // …but the next entry still links to the old one
		}, 4, "previous-hash"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := verify(tt.tamper(chain(5)))
			if tt.wantSeq == 0 {
				if b != nil {
					t.Fatalf("intact chain reported broken: %v", b)
				}
				return
			}
			if b == nil || b.Seq != tt.wantSeq || !strings.Contains(b.Error(), tt.reason) {
				t.Fatalf("got %v, want a break at %d mentioning %q", b, tt.wantSeq, tt.reason)
			}
		})
	}
}

func TestHashFieldsAreUnambiguous(t *testing.T) {
	a := &AuditEntry{Action: "ab", Target: "c"}
	b := &AuditEntry{Action: "a", Target: "bc"}
	if a.ComputeHash() == b.ComputeHash() {
		t.Error("moving bytes between fields must change the hash")
	}
}

func TestThrottleNet(t *testing.T) {
	tests := []struct{ in, want string }{
		{"127.0.0.2", "127.0.0.2"},
		{"::ffff:127.0.0.3", "127.0.0.3"},
		{"2001:db8:1:2:aaaa::1", "2001:db8:1:2::/64"},
		{"2001:db8:1:2:bbbb:cccc:dddd:eeee", "2001:db8:1:2::/64"},
		{"2001:db8:1:3::1", "2001:db8:1:3::/64"},
		{"not an ip", "not an ip"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			if got := ThrottleNet(tt.in); got != tt.want {
				t.Errorf("ThrottleNet(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestIncidentAndUpdateValidation(t *testing.T) {
	now := time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC)
	incidents := []struct {
		name string
		inc  Incident
		key  string // "" when valid
	}{
		{"valid, default impact", Incident{Title: "  Mail delays  "}, ""},
		{"empty title", Incident{Title: "   "}, "incidents.title_invalid"},
		{"long title", Incident{Title: strings.Repeat("é", 201)}, "incidents.title_invalid"},
		{"bad impact", Incident{Title: "x", Impact: "apocalyptic"}, "incidents.impact_unknown"},
		{"service twice", Incident{Title: "x", Services: []ServiceImpact{{1, StatusMajorOutage}, {1, StatusDegraded}}}, "incidents.service_twice"},
		{"bad service status", Incident{Title: "x", Services: []ServiceImpact{{1, "broken"}}}, "services.status_unknown"},
	}
	for _, tt := range incidents {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.inc.Validate()
			var te *Error
			switch {
			case tt.key == "" && err != nil:
				t.Fatalf("valid incident refused: %v", err)
			case tt.key == "":
				if tt.inc.Title != "Mail delays" || tt.inc.Impact != ImpactMinor {
					t.Errorf("not normalized: %+v", tt.inc)
				}
			case !errors.As(err, &te) || te.Code != EINVALID || te.Key != tt.key:
				t.Errorf("error %v, want EINVALID with key %s", err, tt.key)
			}
		})
	}
	updates := []struct {
		name string
		u    Update
		key  string
	}{
		{"valid, dated now", Update{Status: IncidentInvestigating, Body: "Looking into it."}, ""},
		{"backdated", Update{Status: IncidentIdentified, Body: "x", DisplayAt: now.Add(-2 * time.Hour)}, ""},
		{"future", Update{Status: IncidentIdentified, Body: "x", DisplayAt: now.Add(time.Hour)}, "incidents.future"},
		{"empty body", Update{Status: IncidentIdentified, Body: " \n "}, "incidents.body_empty"},
		{"huge body", Update{Status: IncidentIdentified, Body: strings.Repeat("a", MaxUpdateBytes+1)}, "markdown.too_long"},
		{"bad status", Update{Status: "fixed", Body: "x"}, "incidents.status_unknown"},
	}
	for _, tt := range updates {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.u.Validate(now)
			var te *Error
			switch {
			case tt.key == "" && err != nil:
				t.Fatalf("valid update refused: %v", err)
			case tt.key == "":
				if tt.u.DisplayAt.IsZero() {
					t.Error("DisplayAt not defaulted to now")
				}
			case !errors.As(err, &te) || te.Key != tt.key:
				t.Errorf("error %v, want key %s", err, tt.key)
			}
		})
	}
	u := Update{CreatedAt: now, DisplayAt: now.Add(-time.Hour)}
	if !u.Backdated() {
		t.Error("an update dated an hour before it was written is backdated")
	}
	if (&Update{CreatedAt: now, DisplayAt: now.Add(-10 * time.Second)}).Backdated() {
		t.Error("seconds of typing are not backdating")
	}
	if !IncidentResolved.Closed() || !IncidentPostmortem.Closed() || IncidentMonitoring.Closed() {
		t.Error("Closed() is wrong")
	}
}
