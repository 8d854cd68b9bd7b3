package tocsin

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

func TestCheckSpeakAndLink(t *testing.T) {
	inc := &SecurityIncident{Roles: []RoleHolder{{Role: RoleLead, UserID: 1}, {Role: RoleComms, UserID: 2}, {Role: RoleScribe, UserID: 3}}}
	noComms := &SecurityIncident{Roles: []RoleHolder{{Role: RoleLead, UserID: 1}, {Role: RoleScribe, UserID: 3}}}
	user := func(id int64) Actor { return Actor{UserID: id, Label: "u"} }
	token := Actor{TokenID: 9, Label: "token:x"}
	resp, comm, admin := Roles{RoleResponder}, Roles{RoleCommunicator}, Roles{RoleAdmin}
	tests := []struct {
		name        string
		inc         *SecurityIncident
		a           Actor
		roles       Roles
		speak, link bool
	}{
		{"comms lead", inc, user(2), comm, true, true},
		{"comms lead who is only a viewer", inc, user(2), Roles{RoleViewer}, false, false},
		{"lead while a comms lead is named", inc, user(1), resp, false, true},
		{"lead when nobody holds comms", noComms, user(1), resp, true, true},
		{"scribe", inc, user(3), resp, false, false},
		{"admin", inc, user(7), admin, false, true},
		{"communicator token", inc, token, comm, true, true},
		{"responder token", inc, token, resp, false, false},
		{"nobody named, any responder", &SecurityIncident{}, user(1), resp, false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.inc.CheckSpeak(tt.a, tt.roles); (err == nil) != tt.speak || err != nil && ErrorCode(err) != EFORBIDDEN {
				t.Errorf("CheckSpeak = %v, want allowed %v", err, tt.speak)
			}
			if err := tt.inc.CheckLinkPublic(tt.a, tt.roles); (err == nil) != tt.link || err != nil && ErrorCode(err) != EFORBIDDEN {
				t.Errorf("CheckLinkPublic = %v, want allowed %v", err, tt.link)
			}
		})
	}
}

func TestPublicLinkDue(t *testing.T) {
	at := time.Date(2026, 11, 20, 16, 40, 0, 0, time.UTC)
	tests := []struct {
		name string
		l    PublicLink
		def  time.Duration
		want time.Duration // 0: no cadence
	}{
		{"default", PublicLink{Published: true, Status: IncidentInvestigating, LastPublic: at}, 0, time.Hour},
		{"configured", PublicLink{Published: true, Status: IncidentMonitoring, LastPublic: at}, 20 * time.Minute, 20 * time.Minute},
		{"its own", PublicLink{Published: true, Status: IncidentIdentified, LastPublic: at, Cadence: 30 * time.Minute}, 20 * time.Minute, 30 * time.Minute},
		{"draft", PublicLink{Status: IncidentInvestigating}, 0, 0},
		{"resolved", PublicLink{Published: true, Status: IncidentResolved, LastPublic: at}, 0, 0},
		{"post-mortem", PublicLink{Published: true, Status: IncidentPostmortem, LastPublic: at}, 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			due, ok := tt.l.Due(tt.def)
			if ok != (tt.want != 0) || ok && !due.Equal(at.Add(tt.want)) {
				t.Errorf("Due = %v %v, want +%v", due, ok, tt.want)
			}
		})
	}
	for _, d := range []time.Duration{-time.Minute, time.Minute, 90 * time.Second, 25 * time.Hour} {
		if CheckCadence(d) == nil {
			t.Errorf("cadence %v accepted", d)
		}
	}
	for _, d := range []time.Duration{0, 5 * time.Minute, 24 * time.Hour} {
		if err := CheckCadence(d); err != nil {
			t.Errorf("cadence %v: %v", d, err)
		}
	}
}

// TestPostmortemDigest recomputes the digest from the documented
// serialisation, and checks that moving bytes between fields changes it.
func TestPostmortemDigest(t *testing.T) {
	at := time.Date(2026, 11, 20, 16, 40, 0, 0, time.UTC)
	p := &Postmortem{IncidentID: 7, Revision: 3, Summary: "A bucket was listable.", Impact: "Files listed.", Changes: "Private by default.",
		Timeline: []TimelineEntry{{At: at, Text: "Reported"}, {At: at.Add(11 * time.Minute), Text: "Made private"}}}
	canonical := "tocsin-postmortem-v1\nincident 7\nrevision 3\n" +
		"summary 22:A bucket was listable.\nimpact 13:Files listed.\nroot_cause 0:\nwent_well 0:\nchanges 19:Private by default.\n" +
		"timeline 2\n2026-11-20T16:40:00Z 8:Reported\n2026-11-20T16:51:00Z 12:Made private\n"
	sum := sha256.Sum256([]byte(canonical))
	if got, want := p.Digest(), hex.EncodeToString(sum[:]); got != want {
		t.Fatalf("Digest = %s, want %s", got, want)
	}
	q := *p
	q.Summary, q.Impact = "A bucket was listable.\nimpact 13:Files listed.", ""
	if q.Digest() == p.Digest() {
		t.Error("moving text between sections kept the digest")
	}
	q = *p
	q.Revision = 4
	if q.Digest() == p.Digest() {
		t.Error("another revision kept the digest")
	}
}

func enT(key string, args ...any) string {
	if len(args) == 0 {
		return "[" + key + "]"
	}
	parts := []string{key}
	for _, a := range args {
		parts = append(parts, strings.TrimSpace(strings.ReplaceAll(strings.ReplaceAll(anyString(a), "\n", " "), "\r", " ")))
	}
	return strings.Join(parts, " ")
}

func anyString(a any) string {
	if s, ok := a.(string); ok {
		return s
	}
	return ""
}

// assembleFrom drafts from one entry of each kind with the given texts.
func assembleFrom(title, body, choice, why string) *Postmortem {
	at := time.Date(2026, 11, 20, 16, 40, 0, 0, time.UTC)
	later := at.Add(time.Hour)
	sec := &SecurityIncident{Title: "private " + title, Moments: KeyMoments{Reported: &at, Acknowledged: &later}}
	entries := []*SecurityEntry{
		{Kind: EntryCreated, OccurredAt: at, Body: "private " + title},
		{Kind: EntryObservation, OccurredAt: at, Body: "observation " + body},
		{Kind: EntryMoment, Subject: "reported", New: at.Format(time.RFC3339), OccurredAt: at},
		{Kind: EntryMoment, Subject: "detected", New: "", OccurredAt: at}, // cleared: not a moment
		{Kind: EntryDecision, OccurredAt: at, Decision: &Decision{Choice: choice, Why: why}},
		{Kind: EntryStatus, Old: "triage", New: "contained", OccurredAt: later},
		{Kind: EntryRole, Subject: "lead", New: "someone@example.org", OccurredAt: later},
		{Kind: EntryPublicUpdate, Subject: "identified", Body: body, OccurredAt: later},
	}
	pub := &Incident{ID: 5, Title: title, Impact: ImpactMinor, Updates: []*Update{{Body: body}}}
	return AssemblePostmortem(sec, entries, pub, enT)
}

func TestAssemblePostmortem(t *testing.T) {
	p := assembleFrom("Files listed", "Closed.", "Make it closed", "stops it")
	if p.IncidentID != 5 || len(p.Timeline) != 4 {
		t.Fatalf("draft = %+v", p)
	}
	got := []string{}
	for _, e := range p.Timeline {
		got = append(got, e.Text)
	}
	want := []string{"[security.moment.reported]", "comms.pm.decision Make it closed", "comms.pm.status [security.status.contained]", "comms.pm.public_update Closed."}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("timeline = %q, want %q", got, want)
	}
	for _, s := range []string{p.Summary, p.Impact, p.Changes} {
		if strings.Contains(s, "private") || strings.Contains(s, "observation") || strings.Contains(s, "someone@") {
			t.Errorf("draft leaks: %q", s)
		}
	}
	if !strings.Contains(p.Impact, "comms.pm.tta 1 h 00 min") || !strings.Contains(p.Changes, "**Make it closed** — stops it") {
		t.Errorf("impact %q, changes %q", p.Impact, p.Changes)
	}
	if err := p.Validate(time.Date(2026, 11, 21, 0, 0, 0, 0, time.UTC)); err != nil {
		t.Errorf("draft does not validate: %v", err)
	}
}

// FuzzAssemblePostmortem: whatever the room's texts, the draft is a
// post-mortem the store accepts, in valid UTF-8.
func FuzzAssemblePostmortem(f *testing.F) {
	f.Add("Files listed", "Closed.", "Make it private", "stops it")
	f.Add("", "", "", "")
	f.Add("t", strings.Repeat("é", 5000), strings.Repeat("line\n", 1000), "\xff\xfe")
	f.Fuzz(func(t *testing.T, title, body, choice, why string) {
		if len(body) > MaxUpdateBytes || len(title) > 1000 || len(choice) > MaxSecurityText || len(why) > MaxSecurityText {
			return
		}
		p := assembleFrom(title, body, choice, why)
		if err := p.Validate(time.Date(2026, 11, 21, 0, 0, 0, 0, time.UTC)); err != nil {
			t.Fatalf("Validate: %v", err)
		}
		for _, e := range p.Timeline {
			if len(e.Text) > MaxTimelineEntryText || strings.ContainsAny(e.Text, "\n\r") {
				t.Fatalf("timeline entry %q", e.Text)
			}
			if utf8.ValidString(body+choice) && !utf8.ValidString(e.Text) {
				t.Fatalf("invalid UTF-8 from valid input: %q", e.Text)
			}
		}
	})
}
