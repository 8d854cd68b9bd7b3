package tocsin

import (
	"strings"
	"testing"
	"time"
)

func TestParseSecurityValues(t *testing.T) {
	tests := []struct {
		name  string
		parse func(string) error
		in    string
		ok    bool
	}{
		{"severity upper", func(s string) error { _, err := ParseSeverity(s); return err }, "SEV1", true},
		{"severity lower, spaced", func(s string) error { _, err := ParseSeverity(s); return err }, " sev4 ", true},
		{"severity 5", func(s string) error { _, err := ParseSeverity(s); return err }, "SEV5", false},
		{"status", func(s string) error { _, err := ParseSecurityStatus(s); return err }, "eradicated", true},
		{"status of public incidents", func(s string) error { _, err := ParseSecurityStatus(s); return err }, "monitoring", false},
		{"kind", func(s string) error { _, err := ParseSecurityKind(s); return err }, "server_compromise", true},
		{"kind", func(s string) error { _, err := ParseSecurityKind(s); return err }, "ddos", false},
		{"role", func(s string) error { _, err := ParseIncidentRole(s); return err }, "scribe", true},
		{"role", func(s string) error { _, err := ParseIncidentRole(s); return err }, "admin", false},
		{"link", func(s string) error { _, err := ParseLinkKind(s); return err }, "duplicated_by", true},
		{"link", func(s string) error { _, err := ParseLinkKind(s); return err }, "sibling", false},
		{"moment", func(s string) error { _, err := ParseKeyMoment(s); return err }, "logs_reviewed", true},
		{"moment", func(s string) error { _, err := ParseKeyMoment(s); return err }, "noticed", false},
	}
	for _, tt := range tests {
		t.Run(tt.name+" "+tt.in, func(t *testing.T) {
			err := tt.parse(tt.in)
			if (err == nil) != tt.ok {
				t.Fatalf("error = %v, want ok %v", err, tt.ok)
			}
			if err != nil && (ErrorCode(err) != EINVALID || !strings.Contains(ErrorMessage(err), "allowed are") && !strings.Contains(ErrorMessage(err), "unknown")) {
				t.Errorf("error does not say what is allowed: %v", err)
			}
		})
	}
}

func TestSecurityStatusMoves(t *testing.T) {
	tests := []struct {
		from, to SecurityStatus
		reason   string
		code     string
	}{
		{SecTriage, SecInvestigating, "", ""},
		{SecTriage, SecClosed, "", ""}, // a false alarm closes from triage
		{SecInvestigating, SecRecovered, "", ""},
		{SecContained, SecInvestigating, "", EINVALID},
		{SecContained, SecInvestigating, "  ", EINVALID},
		{SecContained, SecInvestigating, "another host", ""},
		{SecContained, SecContained, "", ECONFLICT},
		{SecClosed, SecInvestigating, "why not", ECONFLICT},
		{SecTriage, "done", "", EINVALID},
	}
	for _, tt := range tests {
		t.Run(string(tt.from)+"→"+string(tt.to), func(t *testing.T) {
			if got := ErrorCode(CheckStatusChange(tt.from, tt.to, tt.reason)); got != tt.code {
				t.Errorf("code %q, want %q", got, tt.code)
			}
		})
	}
	reopens := []struct {
		from, to SecurityStatus
		reason   string
		code     string
	}{
		{SecClosed, SecInvestigating, "leaked again", ""},
		{SecClosed, SecInvestigating, "", EINVALID},
		{SecClosed, SecClosed, "x", EINVALID},
		{SecRecovered, SecInvestigating, "x", ECONFLICT},
	}
	for _, tt := range reopens {
		t.Run("reopen "+string(tt.from)+"→"+string(tt.to), func(t *testing.T) {
			if got := ErrorCode(ReopenCheck(tt.from, tt.to, tt.reason)); got != tt.code {
				t.Errorf("code %q, want %q", got, tt.code)
			}
		})
	}
}

func TestKeyMomentsCheckAndDurations(t *testing.T) {
	now := time.Date(2026, 11, 21, 12, 4, 0, 0, time.UTC)
	at := func(d time.Duration) *time.Time { t := now.Add(-d); return &t }
	tests := []struct {
		name string
		k    KeyMoments
		want string // "" for valid, else the error's key
	}{
		{"empty", KeyMoments{}, ""},
		{"bucket weekend", KeyMoments{Reported: at(18*time.Hour + 35*time.Minute), Acknowledged: at(11 * time.Minute), Contained: at(0)}, ""},
		{"exposure months before detection", KeyMoments{ExposureStarted: at(200 * 24 * time.Hour), Detected: at(time.Hour)}, ""},
		{"vulnerability detected before any exposure", KeyMoments{Detected: at(48 * time.Hour), ExposureStarted: at(time.Hour)}, ""},
		{"exposure ends before it starts", KeyMoments{ExposureStarted: at(time.Hour), ExposureEnded: at(2 * time.Hour)}, "security.moment_order"},
		{"contained before exposure started", KeyMoments{ExposureStarted: at(time.Hour), Contained: at(2 * time.Hour)}, "security.moment_order"},
		{"acknowledged before reported", KeyMoments{Reported: at(time.Hour), Acknowledged: at(2 * time.Hour)}, "security.moment_order"},
		{"resolved before contained", KeyMoments{Contained: at(time.Hour), Resolved: at(2 * time.Hour)}, "security.moment_order"},
		{"in the future", KeyMoments{Detected: at(-2 * time.Minute)}, "security.moment_future"},
		{"clock skew tolerated", KeyMoments{Detected: at(-30 * time.Second)}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.k.Check(now)
			var key string
			if e, ok := err.(*Error); ok {
				key = e.Key
			}
			if key != tt.want || (err != nil) != (tt.want != "") {
				t.Errorf("Check = %v (key %q), want key %q", err, key, tt.want)
			}
		})
	}

	k := KeyMoments{Reported: at(20 * time.Hour), Detected: at(19 * time.Hour), Acknowledged: at(90 * time.Minute), Contained: at(time.Hour)}
	if d, ok := k.TimeToAcknowledge(); !ok || d != 20*time.Hour-90*time.Minute {
		t.Errorf("TTA from the report = %v %v", d, ok)
	}
	k.Reported = nil
	if d, ok := k.TimeToAcknowledge(); !ok || d != 19*time.Hour-90*time.Minute {
		t.Errorf("TTA from detection when nobody reported = %v %v", d, ok)
	}
	if d, ok := k.TimeToContain(); !ok || d != 18*time.Hour {
		t.Errorf("TTC = %v %v", d, ok)
	}
	if _, ok, ongoing := k.ExposureDuration(); ok || ongoing {
		t.Error("no exposure known, yet a duration")
	}
	k.ExposureStarted, k.ExposureEnded = at(40*24*time.Hour), at(24*time.Hour)
	if d, ok, _ := k.ExposureDuration(); !ok || d != 39*24*time.Hour {
		t.Errorf("exposure = %v", d)
	}
	k.Acknowledged = nil
	if _, ok := k.TimeToAcknowledge(); ok {
		t.Error("TTA without acknowledgement")
	}
}

func TestFormatDuration(t *testing.T) {
	for d, want := range map[time.Duration]string{
		40 * time.Second:                  "40 s",
		11 * time.Minute:                  "11 min",
		18*time.Hour + 24*time.Minute:     "18 h 24 min",
		2*time.Hour + 5*time.Minute:       "2 h 05 min",
		39*24*time.Hour + 3*time.Hour:     "39 d 3 h",
		-(3*time.Minute + 20*time.Second): "-3 min",
	} {
		if got := FormatDuration(d); got != want {
			t.Errorf("FormatDuration(%v) = %q, want %q", d, got, want)
		}
	}
}

func TestTimelineEntryValidateManual(t *testing.T) {
	now := time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC)
	created := now.Add(-time.Hour)
	tests := []struct {
		name string
		e    SecurityEntry
		key  string
	}{
		{"now", SecurityEntry{Kind: EntryAction, Body: "revoked the token"}, ""},
		{"months before the incident", SecurityEntry{Kind: EntryObservation, Body: "first request", OccurredAt: now.AddDate(0, -7, 0)}, ""},
		{"future", SecurityEntry{Kind: EntryObservation, Body: "x", OccurredAt: now.Add(time.Hour)}, "security.future"},
		{"decades back", SecurityEntry{Kind: EntryObservation, Body: "x", OccurredAt: now.AddDate(-30, 0, 0)}, "security.too_early"},
		{"automatic kind", SecurityEntry{Kind: EntryDecision, Body: "x"}, "security.entry_kind"},
		{"empty", SecurityEntry{Kind: EntryAction, Body: "\n "}, "security.entry_empty"},
		{"too long", SecurityEntry{Kind: EntryAction, Body: strings.Repeat("a", MaxSecurityText+1)}, "security.text_invalid"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.e.ValidateManual(now, created)
			var key string
			if e, ok := err.(*Error); ok {
				key = e.Key
			}
			if key != tt.key || (err != nil) != (tt.key != "") {
				t.Errorf("ValidateManual = %v, want key %q", err, tt.key)
			}
			if err == nil && tt.e.OccurredAt.IsZero() {
				t.Error("OccurredAt left zero")
			}
		})
	}
}

func TestLinkKindInverse(t *testing.T) {
	for _, k := range LinkKinds {
		if k.Inverse().Inverse() != k {
			t.Errorf("%s: inverse of inverse is %s", k, k.Inverse().Inverse())
		}
	}
	if LinkParent.Inverse() != LinkChild || LinkDuplicate.Inverse() != LinkDuplicated || LinkRelated.Inverse() != LinkRelated {
		t.Error("inverses")
	}
}
