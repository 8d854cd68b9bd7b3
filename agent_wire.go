package tocsin

import "time"

// The JSON a tocsin agent and its hub exchange: the checks the hub hands
// out (GET /api/v1/agent/checks) and the results the agent sends back
// (POST /api/v1/agent/results). Both sides use these types, so that they
// cannot drift apart.

// MaxAgentBatch is how many results one POST may carry; a larger batch is
// refused (413) and the agent splits its spool into batches of this size.
const MaxAgentBatch = 500

// MaxResultKey bounds a result's key.
const MaxResultKey = 200

// AgentCheck is a check as an agent needs it to run it: no status, no
// service, no secret. A bucket check names the environment variable of its
// secret (secret_key_env), which the agent reads from its own environment;
// file paths (client_cert, ca_file) are read on the agent's machine.
type AgentCheck struct {
	ID       int64     `json:"id"`
	Name     string    `json:"name"`
	Kind     CheckKind `json:"kind"`
	Spec     CheckSpec `json:"spec"`
	Interval Duration  `json:"interval"`
	Timeout  Duration  `json:"timeout"`
}

// ToAgentCheck is c as it is sent to agents.
func ToAgentCheck(c *Check) AgentCheck {
	return AgentCheck{ID: c.ID, Name: c.Name, Kind: c.Kind, Spec: c.Spec, Interval: Duration(c.Interval), Timeout: Duration(c.Timeout)}
}

// Check is the check the agent runs.
func (a AgentCheck) Check() *Check {
	return &Check{ID: a.ID, Name: a.Name, Kind: a.Kind, Spec: a.Spec, Interval: time.Duration(a.Interval), Timeout: time.Duration(a.Timeout),
		FailThreshold: 1, PassThreshold: 1, Quorum: 1, FailStatus: StatusMajorOutage, Severity: "SEV2"}
}

// AgentChecks is the answer of GET /api/v1/agent/checks.
type AgentChecks struct {
	// Location is the agent's name as the hub knows it (its token's name):
	// its results are recorded under it, whatever they say.
	Location string       `json:"location"`
	Checks   []AgentCheck `json:"checks"`
}

// AgentResult is one result as an agent sends it. Key makes a resend
// harmless: the hub stores each key once.
type AgentResult struct {
	Key        string             `json:"key"`
	CheckID    int64              `json:"check_id"`
	Location   string             `json:"location,omitempty"` // informative: the hub uses its token's
	StartedAt  time.Time          `json:"started_at"`
	DurationUS int64              `json:"duration_us"`
	OK         bool               `json:"ok"`
	Degraded   bool               `json:"degraded,omitempty"`
	StatusCode int                `json:"status_code,omitempty"`
	Error      string             `json:"error,omitempty"`
	TLS        *TLSObservation    `json:"tls,omitempty"`
	Bucket     *BucketObservation `json:"bucket,omitempty"`
}

// ToAgentResult is r as an agent sends it.
func ToAgentResult(r *CheckResult) AgentResult {
	return AgentResult{Key: r.Key, CheckID: r.CheckID, Location: r.Location, StartedAt: r.StartedAt, DurationUS: r.Duration.Microseconds(),
		OK: r.OK, Degraded: r.Degraded, StatusCode: r.StatusCode, Error: r.Error, TLS: r.TLS, Bucket: r.Bucket}
}

// Result is the result the hub records, from location.
func (a AgentResult) Result(location string) *CheckResult {
	return &CheckResult{CheckID: a.CheckID, Location: location, Key: a.Key, StartedAt: a.StartedAt,
		Duration: time.Duration(a.DurationUS) * time.Microsecond, OK: a.OK, Degraded: a.Degraded, StatusCode: a.StatusCode,
		Error: a.Error, TLS: a.TLS, Bucket: a.Bucket}
}

// AgentResults is the body of POST /api/v1/agent/results.
type AgentResults struct {
	Results []AgentResult `json:"results"`
}

// AgentReceipt is the hub's answer to a batch: how many results it stored,
// how many it had already (sent before), and how many named a check it no
// longer has (dropped: there is nothing to record them against).
type AgentReceipt struct {
	Stored  int `json:"stored"`
	Skipped int `json:"skipped"`
	Unknown int `json:"unknown"`
}
