package tocsin

import (
	"testing"
	"time"
)

func breachTime(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t
}

func TestClockDeadline(t *testing.T) {
	tests := []struct {
		name  string
		kind  ClockKind
		aware string
		want  string
	}{
		{"gdpr 72 h", ClockGDPR, "2026-11-20T16:40:00Z", "2026-11-23T16:40:00Z"},
		{"gdpr across a DST change stays 72 h", ClockGDPR, "2026-03-27T10:00:00+01:00", "2026-03-30T09:00:00Z"},
		{"nis2 early warning 24 h", ClockNIS2EarlyWarning, "2026-11-20T16:40:00Z", "2026-11-21T16:40:00Z"},
		{"nis2 notification 72 h", ClockNIS2Notification, "2026-11-20T16:40:00Z", "2026-11-23T16:40:00Z"},
		{"nis2 month", ClockNIS2FinalReport, "2026-11-20T16:40:00Z", "2026-12-20T16:40:00Z"},
		{"nis2 month over the year end", ClockNIS2FinalReport, "2026-12-31T23:00:00Z", "2027-01-31T23:00:00Z"},
		{"nis2 month from 31 January", ClockNIS2FinalReport, "2027-01-31T08:00:00Z", "2027-02-28T08:00:00Z"},
		{"nis2 month from 31 January, leap year", ClockNIS2FinalReport, "2028-01-31T08:00:00Z", "2028-02-29T08:00:00Z"},
		{"nis2 month from 30 January", ClockNIS2FinalReport, "2027-01-30T08:00:00Z", "2027-02-28T08:00:00Z"},
		{"nis2 month from 31 March", ClockNIS2FinalReport, "2027-03-31T08:00:00Z", "2027-04-30T08:00:00Z"},
		{"nis2 month from 28 February", ClockNIS2FinalReport, "2027-02-28T08:00:00Z", "2027-03-28T08:00:00Z"},
		{"nis2 month is counted in UTC", ClockNIS2FinalReport, "2027-02-01T00:30:00+01:00", "2027-02-28T23:30:00Z"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.kind.Deadline(breachTime(tt.aware)); !got.Equal(breachTime(tt.want)) {
				t.Errorf("Deadline(%s) = %s, want %s", tt.aware, got.Format(time.RFC3339), tt.want)
			}
		})
	}
}

func TestDueAndNextReminder(t *testing.T) {
	deadline := breachTime("2026-11-23T16:40:00Z")
	tests := []struct {
		name     string
		left     time.Duration
		due      time.Duration // 0: none
		nextLeft time.Duration // time left at the next reminder; -1 none
	}{
		{"72 h left", 72 * time.Hour, 0, 24 * time.Hour},
		{"just over 24 h", 24*time.Hour + time.Second, 0, 24 * time.Hour},
		{"24 h left", 24 * time.Hour, 24 * time.Hour, 12 * time.Hour},
		{"13 h left", 13 * time.Hour, 24 * time.Hour, 12 * time.Hour},
		{"12 h left", 12 * time.Hour, 12 * time.Hour, 2 * time.Hour},
		{"5 h left", 5 * time.Hour, 12 * time.Hour, 2 * time.Hour},
		{"2 h left", 2 * time.Hour, 2 * time.Hour, -1},
		{"1 min left", time.Minute, 2 * time.Hour, -1},
		{"overdue", -time.Minute, 0, -1},
		{"exactly due", 0, 0, -1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			now := deadline.Add(-tt.left)
			th, ok := DueReminder(deadline, now)
			if ok != (tt.due != 0) || th != tt.due {
				t.Errorf("DueReminder = %v, %v; want %v", th, ok, tt.due)
			}
			next := NextReminder(deadline, now)
			if tt.nextLeft < 0 {
				if !next.IsZero() {
					t.Errorf("NextReminder = %v, want none", next)
				}
			} else if !next.Equal(deadline.Add(-tt.nextLeft)) {
				t.Errorf("NextReminder = %v, want %v left", next, tt.nextLeft)
			}
		})
	}
}

func TestThresholdLabel(t *testing.T) {
	for d, want := range map[time.Duration]string{24 * time.Hour: "24h", 12 * time.Hour: "12h", 2 * time.Hour: "2h"} {
		if got := ThresholdLabel(d); got != want {
			t.Errorf("ThresholdLabel(%v) = %q, want %q", d, got, want)
		}
	}
}

func TestBreachClocks(t *testing.T) {
	aware := breachTime("2026-11-20T16:40:00Z")
	decided := breachTime("2026-11-22T10:00:00Z")
	sent := breachTime("2026-11-21T09:00:00Z")
	b := &Breach{Answer: BreachLikely, AwareAt: aware,
		ClocksDone: map[ClockKind]time.Time{ClockNIS2EarlyWarning: sent},
		Decisions:  []BreachDecision{{Subjects: true, DecidedAt: aware}, {Notify: true, DecidedAt: decided}}}
	cs := b.Clocks(NIS2Clocks)
	if len(cs) != 4 || cs[0].Kind != ClockGDPR {
		t.Fatalf("clocks = %+v", cs)
	}
	if cs[0].DoneAt == nil || !cs[0].DoneAt.Equal(decided) || cs[0].Late() {
		t.Errorf("gdpr clock = %+v, want done on time at the authority decision", cs[0])
	}
	if cs[1].DoneAt == nil || !cs[1].DoneAt.Equal(sent) {
		t.Errorf("early warning = %+v", cs[1])
	}
	now := breachTime("2026-11-24T00:00:00Z")
	if !cs[2].Overdue(now) || cs[2].Left(now) >= 0 {
		t.Errorf("nis2 notification should be overdue at %v: %+v", now, cs[2])
	}
	if cs[3].Overdue(now) {
		t.Errorf("final report is not overdue yet")
	}
	b.Answer = BreachNo
	if got := b.Clocks(NIS2Clocks); got != nil {
		t.Errorf("no breach, clocks %+v", got)
	}
}

func TestBreachParsing(t *testing.T) {
	tests := []struct {
		name string
		fn   func() error
		ok   bool
	}{
		{"answer yes", func() error { _, err := ParseBreachAnswer(" Yes "); return err }, true},
		{"answer maybe", func() error { _, err := ParseBreachAnswer("maybe"); return err }, false},
		{"risk high", func() error { _, err := ParseBreachRisk("high"); return err }, true},
		{"risk unassessed", func() error { _, err := ParseBreachRisk(""); return err }, true},
		{"risk unknown", func() error { _, err := ParseBreachRisk("severe"); return err }, false},
		{"status", func() error { _, err := ParseBreachStatus("authority_notified"); return err }, true},
		{"status unknown", func() error { _, err := ParseBreachStatus("done"); return err }, false},
		{"clock", func() error { _, err := ParseClockKind("nis2_final_report"); return err }, true},
		{"clock unknown", func() error { _, err := ParseClockKind("ccpa"); return err }, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.fn()
			if (err == nil) != tt.ok {
				t.Fatalf("err = %v, want ok=%v", err, tt.ok)
			}
			if err != nil && ErrorCode(err) != EINVALID {
				t.Errorf("code %s, want invalid", ErrorCode(err))
			}
		})
	}
}

func TestCheckAwareness(t *testing.T) {
	now := breachTime("2026-11-20T16:40:00Z")
	created := now.Add(-time.Hour)
	tests := []struct {
		name  string
		aware time.Time
		want  time.Time
		ok    bool
	}{
		{"zero is now", time.Time{}, now, true},
		{"an hour ago", now.Add(-time.Hour), now.Add(-time.Hour), true},
		{"a browser a little ahead", now.Add(30 * time.Second), now.Add(30 * time.Second), true},
		{"in the future", now.Add(time.Hour), time.Time{}, false},
		{"decades back", now.AddDate(-20, 0, 0), time.Time{}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := CheckAwareness(tt.aware, now, created)
			if (err == nil) != tt.ok || !got.Equal(tt.want) {
				t.Fatalf("CheckAwareness = %v, %v; want %v ok=%v", got, err, tt.want, tt.ok)
			}
		})
	}
}

func TestValidateDecision(t *testing.T) {
	aware := breachTime("2026-11-20T16:40:00Z")
	b := &Breach{Answer: BreachYes, AwareAt: aware}
	tests := []struct {
		name     string
		answer   BreachAnswer
		d        BreachDecision
		now      time.Time
		ok, late bool
	}{
		{"on time", BreachYes, BreachDecision{Notify: true, Why: "passwords", DecidedBy: 1}, aware.Add(10 * time.Hour), true, false},
		{"late with reason", BreachYes, BreachDecision{Why: "no risk", LateReason: "weekend", DecidedBy: 1}, aware.Add(80 * time.Hour), true, true},
		{"late without reason", BreachYes, BreachDecision{Why: "no risk", DecidedBy: 1}, aware.Add(80 * time.Hour), false, true},
		{"subjects late needs no reason", BreachYes, BreachDecision{Subjects: true, Notify: true, Why: "high risk", DecidedBy: 1}, aware.Add(80 * time.Hour), true, true},
		{"no reason", BreachYes, BreachDecision{DecidedBy: 1}, aware.Add(time.Hour), false, false},
		{"nobody decided", BreachYes, BreachDecision{Why: "x"}, aware.Add(time.Hour), false, false},
		{"in the future", BreachYes, BreachDecision{Why: "x", DecidedBy: 1, DecidedAt: aware.Add(5 * time.Hour)}, aware.Add(time.Hour), false, false},
		{"not a breach", BreachNo, BreachDecision{Why: "x", DecidedBy: 1}, aware.Add(time.Hour), false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b.Answer = tt.answer
			d := tt.d
			err := b.ValidateDecision(&d, tt.now)
			if (err == nil) != tt.ok {
				t.Fatalf("err = %v, want ok=%v", err, tt.ok)
			}
			if err == nil && d.Late != tt.late {
				t.Errorf("late = %v, want %v", d.Late, tt.late)
			}
		})
	}
}

func TestValidateRegister(t *testing.T) {
	now := breachTime("2026-11-20T16:40:00Z")
	neg := int64(-1)
	future := now.Add(time.Hour)
	tests := []struct {
		name string
		b    Breach
		ok   bool
	}{
		{"empty is discovered", Breach{}, true},
		{"full", Breach{Type: "confidentiality", Risk: RiskHigh, Status: BreachAuthorityNotified, AuthorityRef: "CNIL-1"}, true},
		{"unknown risk", Breach{Risk: "medium"}, false},
		{"unknown status", Breach{Status: "gone"}, false},
		{"negative people", Breach{People: &neg}, false},
		{"authority notified in the future", Breach{AuthorityAt: &future}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := tt.b
			err := b.ValidateRegister(now)
			if (err == nil) != tt.ok {
				t.Fatalf("err = %v, want ok=%v", err, tt.ok)
			}
			if err == nil && b.Status == "" {
				t.Errorf("status left empty")
			}
		})
	}
}
