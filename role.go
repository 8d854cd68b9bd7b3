package tocsin

import (
	"slices"
	"strings"
)

// Role is a set of permissions. A user or API token holds one or more.
type Role string

const (
	RoleViewer       Role = "viewer"       // read the private console
	RoleResponder    Role = "responder"    // work incidents
	RoleCommunicator Role = "communicator" // publish public updates
	RoleApprover     Role = "approver"     // approve post-mortems and notifications
	RoleAdmin        Role = "admin"        // accounts, tokens, configuration, audit log
	// RoleAgent is held only by the API token of a `tocsin agent`: it
	// fetches the checks to run and sends their results, and nothing else
	// (not even viewer). The token's name is the agent's location.
	RoleAgent Role = "agent"
)

// AllRoles lists every role a person may hold, from least to most
// privileged. RoleAgent is not among them: only tokens hold it.
var AllRoles = []Role{RoleViewer, RoleResponder, RoleCommunicator, RoleApprover, RoleAdmin}

// ParseRole validates one role name (agent included: tokens may hold it;
// PersonRoles refuses it for accounts).
func ParseRole(s string) (Role, error) {
	r := Role(strings.TrimSpace(strings.ToLower(s)))
	if slices.Contains(AllRoles, r) || r == RoleAgent {
		return r, nil
	}
	return "", Errorf(EINVALID, "unknown role %q: allowed roles are viewer, responder, communicator, approver, admin (and agent, for an agent's token)", s).
		WithKey("users.role_unknown", s)
}

// Roles is the set of roles a user or token holds.
type Roles []Role

// ParseRoles parses a comma-separated list such as "responder,approver".
// An empty list is an error: an account without a role can do nothing.
func ParseRoles(s string) (Roles, error) {
	var out Roles
	for _, part := range strings.Split(s, ",") {
		if strings.TrimSpace(part) == "" {
			continue
		}
		r, err := ParseRole(part)
		if err != nil {
			return nil, err
		}
		if !slices.Contains(out, r) {
			out = append(out, r)
		}
	}
	if len(out) == 0 {
		return nil, Errorf(EINVALID, "at least one role is required: viewer, responder, communicator, approver or admin").
			WithKey("users.roles_required")
	}
	if slices.Contains(out, RoleAgent) && len(out) > 1 {
		return nil, Errorf(EINVALID, "the agent role is held alone: an agent's token may do nothing else, so give it --role agent only").
			WithKey("tokens.agent_alone")
	}
	slices.SortFunc(out, func(a, b Role) int { return slices.Index(AllRoles, a) - slices.Index(AllRoles, b) })
	return out, nil
}

// PersonRoles refuses roles that no account may hold: agent belongs to
// the token of a `tocsin agent`, never to a person.
func (rs Roles) PersonRoles() error {
	if slices.Contains(rs, RoleAgent) {
		return Errorf(EINVALID, "the agent role is only for the API token of a tocsin agent (tocsin token create --role agent --name LOCATION), not for an account").
			WithKey("users.role_agent")
	}
	return nil
}

// Allows reports whether these roles grant need. Holding any role grants
// viewer, since every role reads the console; no other role implies another,
// so an admin who should also approve holds both. The agent role is the
// exception: it grants only the agent routes, and nothing grants it but
// itself.
func (rs Roles) Allows(need Role) bool {
	if slices.Contains(rs, RoleAgent) {
		return need == RoleAgent
	}
	if need == RoleViewer && len(rs) > 0 {
		return true
	}
	return slices.Contains(rs, need)
}

// NeedsTwoFactor reports whether these roles require a second factor.
func (rs Roles) NeedsTwoFactor() bool {
	return slices.Contains(rs, RoleAdmin) || slices.Contains(rs, RoleApprover)
}

func (rs Roles) String() string {
	parts := make([]string, len(rs))
	for i, r := range rs {
		parts[i] = string(r)
	}
	return strings.Join(parts, ",")
}
