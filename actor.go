package tocsin

// Actor is who performs a mutation and from where; every mutation takes one
// so that the audit log can say who did what from which address.
type Actor struct {
	UserID  int64  // 0 when not a signed-in user
	TokenID int64  // set when acting through an API token
	Label   string // shown in the audit log: an e-mail, "token:ci", "cli", "system"
	IP      string // client address, as resolved through trusted proxies
}

// System is the actor for work tocsin does on its own (workers, start-up).
var System = Actor{Label: "system"}

// CLI is the actor for the command line run on the server itself.
var CLI = Actor{Label: "cli"}
