package tocsin

import (
	"strings"
	"testing"
	"time"
)

// run is one result in a sequence: "ok", "fail" or "slow" (degraded), from
// a location, some seconds after the start.
type run struct {
	loc  string
	res  string
	at   int // seconds
	want CheckState
}

func TestCheckStatusApply(t *testing.T) {
	t0 := time.Date(2026, 11, 24, 17, 0, 0, 0, time.UTC)
	check := func(fail, pass, quorum int) *Check {
		return &Check{ID: 1, Interval: time.Minute, FailThreshold: fail, PassThreshold: pass, Quorum: quorum, FailStatus: StatusPartialOutage}
	}
	for _, tc := range []struct {
		name     string
		check    *Check
		runs     []run
		wantDown []int // indexes of runs that are a change to down
		service  ServiceStatus
	}{
		{"pending until the pass threshold", check(3, 2, 1), []run{
			{"", "ok", 0, CheckPending}, {"", "ok", 60, CheckUp}}, nil, StatusOperational},
		{"thresholds 3 and 2", check(3, 2, 1), []run{
			{"", "ok", 0, CheckPending}, {"", "ok", 60, CheckUp},
			{"", "fail", 120, CheckUp}, {"", "fail", 180, CheckUp}, {"", "fail", 240, CheckDown},
			{"", "fail", 300, CheckDown}, {"", "ok", 360, CheckDown}, {"", "ok", 420, CheckUp}}, []int{4}, StatusOperational},
		{"a success breaks the run of failures", check(3, 2, 1), []run{
			{"", "fail", 0, CheckPending}, {"", "fail", 60, CheckPending}, {"", "ok", 120, CheckPending},
			{"", "fail", 180, CheckPending}, {"", "fail", 240, CheckPending}, {"", "fail", 300, CheckDown}}, []int{5}, StatusPartialOutage},
		{"a failure breaks the run of successes", check(1, 2, 1), []run{
			{"", "fail", 0, CheckDown}, {"", "ok", 60, CheckDown}, {"", "fail", 120, CheckDown},
			{"", "ok", 180, CheckDown}, {"", "ok", 240, CheckUp}}, []int{0}, StatusOperational},
		{"degraded counts as a success", check(2, 1, 1), []run{
			{"", "fail", 0, CheckPending}, {"", "fail", 60, CheckDown}, {"", "slow", 120, CheckUp}}, []int{1}, StatusDegraded},
		{"quorum 2 of 3: one location down is not enough", check(2, 1, 2), []run{
			{"a", "ok", 0, CheckUp}, {"b", "ok", 1, CheckUp}, {"c", "ok", 2, CheckUp},
			{"a", "fail", 60, CheckUp}, {"b", "ok", 61, CheckUp}, {"c", "ok", 62, CheckUp},
			{"a", "fail", 120, CheckUp}, {"b", "ok", 121, CheckUp}, {"c", "ok", 122, CheckUp}}, nil, StatusOperational},
		{"quorum 2 of 3: two locations down", check(2, 1, 2), []run{
			{"a", "fail", 0, CheckPending}, {"b", "fail", 1, CheckPending}, {"c", "ok", 2, CheckUp},
			{"a", "fail", 60, CheckUp}, {"b", "fail", 61, CheckDown}, {"c", "ok", 62, CheckDown},
			{"a", "ok", 120, CheckUp}}, []int{4}, StatusOperational},
		{"a silent location leaves the quorum", check(1, 1, 2), []run{
			{"a", "fail", 0, CheckPending}, {"b", "fail", 1, CheckDown},
			{"a", "fail", 400, CheckUp}}, []int{1}, StatusOperational},
		{"flapping holds the fail status and sends nothing", check(1, 1, 1), []run{
			{"", "ok", 0, CheckUp}, {"", "fail", 60, CheckDown}, {"", "ok", 120, CheckUp}, {"", "fail", 180, CheckDown},
			{"", "ok", 240, CheckUp}, {"", "ok", 300, CheckUp}}, []int{1, 3}, StatusPartialOutage},
		{"flapping ends after the window without change", check(1, 1, 1), []run{
			{"", "ok", 0, CheckUp}, {"", "fail", 60, CheckDown}, {"", "ok", 120, CheckUp}, {"", "fail", 180, CheckDown},
			{"", "ok", 240, CheckUp}, {"", "ok", 240 + 1801, CheckUp}}, []int{1, 3}, StatusOperational},
		{"a late result from a location is ignored", check(1, 1, 1), []run{
			{"", "ok", 60, CheckUp}, {"", "fail", 0, CheckUp}}, nil, StatusOperational},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := &CheckStatus{CheckID: 1}
			var downs []int
			for i, r := range tc.runs {
				res := &CheckResult{CheckID: 1, Location: r.loc, StartedAt: t0.Add(time.Duration(r.at) * time.Second),
					OK: r.res != "fail", Degraded: r.res == "slow", Duration: time.Second}
				tr := s.Apply(tc.check, res, t0.Add(time.Hour))
				if s.State != r.want {
					t.Fatalf("run %d (%s %s at %ds): state %s, want %s", i, r.loc, r.res, r.at, s.State, r.want)
				}
				if tr.To != s.State || (tr.Changed() && tr.From == tr.To) {
					t.Fatalf("run %d: transition %+v does not match state %s", i, tr, s.State)
				}
				if tr.WentDown() && !s.Flapping {
					downs = append(downs, i)
				}
			}
			if got, want := join(downs), join(tc.wantDown); got != want {
				t.Errorf("signalled changes to down at runs %s, want %s", got, want)
			}
			if got := s.ServiceStatus(tc.check); got != tc.service {
				t.Errorf("service status %s, want %s", got, tc.service)
			}
		})
	}
}

func join(xs []int) string {
	var b strings.Builder
	for _, x := range xs {
		b.WriteString(time.Duration(x).String() + " ")
	}
	return b.String()
}

func TestCheckStatusFlapping(t *testing.T) {
	t0 := time.Date(2026, 11, 24, 17, 0, 0, 0, time.UTC)
	c := &Check{Interval: time.Minute, FailThreshold: 1, PassThreshold: 1, Quorum: 1, FailStatus: StatusMajorOutage}
	s := &CheckStatus{}
	apply := func(ok bool, at time.Duration) CheckTransition {
		return s.Apply(c, &CheckResult{OK: ok, StartedAt: t0.Add(at)}, t0.Add(24*time.Hour))
	}
	apply(true, 0)
	for i, ok := range []bool{false, true, false} {
		if tr := apply(ok, time.Duration(i+1)*time.Minute); tr.FlapStarted || s.Flapping {
			t.Fatalf("change %d: flapping after %d changes", i+1, i+1)
		}
	}
	if tr := apply(true, 4*time.Minute); !tr.FlapStarted || !s.Flapping {
		t.Fatalf("4th change in 4 minutes: %+v, flapping %t; want flapping to start", tr, s.Flapping)
	}
	if got := s.ServiceStatus(c); got != StatusMajorOutage {
		t.Errorf("flapping and up gives %s, want the fail status", got)
	}
	if tr := apply(true, 4*time.Minute+FlapWindow-time.Second); tr.FlapEnded || !s.Flapping {
		t.Fatalf("a second before the window passes: %+v; want still flapping", tr)
	}
	if tr := apply(true, 4*time.Minute+FlapWindow); !tr.FlapEnded || s.Flapping {
		t.Fatalf("the window after the last change: %+v, flapping %t; want it ended", tr, s.Flapping)
	}
	if got := s.ServiceStatus(c); got != StatusOperational {
		t.Errorf("after flapping, up gives %s", got)
	}
	// Changes spread wider than the window never flap.
	s = &CheckStatus{}
	apply(true, 0)
	for i := 1; i <= 10; i++ {
		if apply(i%2 == 1, time.Duration(i)*11*time.Minute); s.Flapping {
			t.Fatalf("flapping at change %d, 11 minutes apart", i)
		}
	}
}

func TestWorstStatusAndKeyChangedAt(t *testing.T) {
	for _, tc := range []struct {
		in   []ServiceStatus
		want ServiceStatus
	}{
		{nil, StatusOperational},
		{[]ServiceStatus{StatusOperational, StatusDegraded}, StatusDegraded},
		{[]ServiceStatus{StatusMajorOutage, StatusPartialOutage, StatusDegraded}, StatusMajorOutage},
	} {
		if got := WorstStatus(tc.in...); got != tc.want {
			t.Errorf("WorstStatus(%v) = %s, want %s", tc.in, got, tc.want)
		}
	}
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	if at, changed := KeyChangedAt(nil); !at.IsZero() || changed {
		t.Errorf("no key: %v %t", at, changed)
	}
	one := []*TLSKeySeen{{FirstSeen: t0}}
	if at, changed := KeyChangedAt(one); !at.Equal(t0) || changed {
		t.Errorf("one key: %v %t, want its first sighting, unchanged", at, changed)
	}
	two := []*TLSKeySeen{{FirstSeen: t0.Add(time.Hour)}, {FirstSeen: t0}}
	if at, changed := KeyChangedAt(two); !at.Equal(t0.Add(time.Hour)) || !changed {
		t.Errorf("two keys: %v %t, want the newer key's first sighting, changed", at, changed)
	}
}
