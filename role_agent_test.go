package tocsin

import (
	"errors"
	"fmt"
	"testing"
)

func TestAgentRole(t *testing.T) {
	t.Run("parsed alone", func(t *testing.T) {
		got, err := ParseRoles(" Agent ")
		if err != nil || got.String() != "agent" {
			t.Fatalf("ParseRoles(agent) = %q, %v", got, err)
		}
	})
	for _, in := range []string{"agent,viewer", "admin,agent", "agent,responder,approver"} {
		t.Run("refused with "+in, func(t *testing.T) {
			_, err := ParseRoles(in)
			var e *Error
			if !errors.As(err, &e) || e.Code != EINVALID || e.Key != "tokens.agent_alone" {
				t.Fatalf("ParseRoles(%q) = %v, want the agent role refused beside others", in, err)
			}
		})
	}
	t.Run("no person holds it", func(t *testing.T) {
		if err := (Roles{RoleAgent}).PersonRoles(); ErrorCode(err) != EINVALID {
			t.Errorf("PersonRoles(agent) = %v, want EINVALID", err)
		}
		for _, r := range AllRoles {
			if err := (Roles{r}).PersonRoles(); err != nil {
				t.Errorf("PersonRoles(%s) = %v", r, err)
			}
		}
	})
	// The agent role grants itself and nothing else; nothing else grants it.
	for _, need := range append(AllRoles, RoleAgent) {
		t.Run(fmt.Sprintf("agent needs %s", need), func(t *testing.T) {
			if got, want := (Roles{RoleAgent}).Allows(need), need == RoleAgent; got != want {
				t.Errorf("Allows(%s) = %v, want %v", need, got, want)
			}
		})
	}
	for _, r := range AllRoles {
		if (Roles{r}).Allows(RoleAgent) {
			t.Errorf("%s grants agent", r)
		}
	}
	if (Roles(AllRoles)).Allows(RoleAgent) {
		t.Error("holding every person's role grants agent")
	}
}
