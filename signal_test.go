package tocsin

import (
	"regexp"
	"testing"
)

func TestSignalStateMachine(t *testing.T) {
	allowed := map[[2]SignalState]bool{
		{SignalOpen, SignalAcknowledged}:      true,
		{SignalOpen, SignalLinked}:            true,
		{SignalOpen, SignalDismissed}:         true,
		{SignalAcknowledged, SignalLinked}:    true,
		{SignalAcknowledged, SignalDismissed}: true,
	}
	for _, from := range SignalStates {
		for _, to := range SignalStates {
			t.Run(string(from)+"→"+string(to), func(t *testing.T) {
				if got := from.CanMoveTo(to); got != allowed[[2]SignalState{from, to}] {
					t.Errorf("CanMoveTo = %v", got)
				}
			})
		}
	}
}

func TestNewReceipt(t *testing.T) {
	shape := regexp.MustCompile(`^[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}$`)
	seen := map[string]bool{}
	for range 1000 {
		r := NewReceipt()
		if !shape.MatchString(r) {
			t.Fatalf("receipt %q has the wrong shape", r)
		}
		if seen[r] {
			t.Fatalf("receipt %q drawn twice in 1000", r)
		}
		seen[r] = true
	}
}

func TestValidateReason(t *testing.T) {
	for _, tc := range []struct {
		in, want string
		ok       bool
	}{
		{"  duplicate of #4 ", "duplicate of #4", true},
		{"", "", false},
		{" \n", "", false},
		{"a\x00b", "", false},
	} {
		t.Run(tc.in, func(t *testing.T) {
			got, err := ValidateReason(tc.in)
			if (err == nil) != tc.ok || got != tc.want {
				t.Errorf("ValidateReason(%q) = %q, %v", tc.in, got, err)
			}
		})
	}
}
