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
)

// AllRoles lists every role, from least to most privileged.
var AllRoles = []Role{RoleViewer, RoleResponder, RoleCommunicator, RoleApprover, RoleAdmin}

// ParseRole validates one role name.
func ParseRole(s string) (Role, error) {
	r := Role(strings.TrimSpace(strings.ToLower(s)))
	if slices.Contains(AllRoles, r) {
		return r, nil
	}
	return "", Errorf(EINVALID, "unknown role %q: allowed roles are viewer, responder, communicator, approver, admin", s).
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
	slices.SortFunc(out, func(a, b Role) int { return slices.Index(AllRoles, a) - slices.Index(AllRoles, b) })
	return out, nil
}

// Allows reports whether these roles grant need. Holding any role grants
// viewer, since every role reads the console; no other role implies another,
// so an admin who should also approve holds both.
func (rs Roles) Allows(need Role) bool {
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
