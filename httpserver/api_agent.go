package httpserver

import (
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/tocsin-org/tocsin"
)

// The hub's side of `tocsin agent`: an agent's token (role agent, named
// after its location) fetches the checks to run and sends back their
// results, which are recorded under the token's location whatever the
// body says. Keys make a resend after a lost answer harmless.

// agentFutureSkew is how far ahead of the hub's clock an agent's result
// may start (clocks differ a little); later ones are refused.
const agentFutureSkew = 5 * time.Minute

// agentLocation is the location of the calling agent: its token's name.
func agentLocation(r *http.Request) string {
	if t := state(r).token; t != nil {
		return t.Name
	}
	return ""
}

func (s *Server) apiAgentChecks(w http.ResponseWriter, r *http.Request) error {
	list, err := s.store.Checks(r.Context())
	if err != nil {
		return err
	}
	out := tocsin.AgentChecks{Location: agentLocation(r), Checks: []tocsin.AgentCheck{}}
	for _, c := range list {
		if !c.Paused {
			out.Checks = append(out.Checks, tocsin.ToAgentCheck(c))
		}
	}
	return writeJSON(w, http.StatusOK, out)
}

func (s *Server) apiAgentResults(w http.ResponseWriter, r *http.Request) error {
	var q tocsin.AgentResults
	if err := decodeJSON(w, r, &q); err != nil {
		return err
	}
	if len(q.Results) > tocsin.MaxAgentBatch {
		return tocsin.Errorf(tocsin.ETOOLARGE, "A batch holds at most %d results; this one has %d. Send them in several batches.", tocsin.MaxAgentBatch, len(q.Results))
	}
	location := agentLocation(r)
	now := s.now()
	for i, a := range q.Results {
		switch {
		case a.Key == "" || len(a.Key) > tocsin.MaxResultKey || strings.ContainsFunc(a.Key, func(c rune) bool { return c < ' ' || c == 0x7f }):
			return tocsin.Errorf(tocsin.EINVALID, "results[%d].key: give the result's unique key, 1 to %d characters on one line.", i, tocsin.MaxResultKey)
		case a.CheckID <= 0:
			return tocsin.Errorf(tocsin.EINVALID, "results[%d].check_id: give the ID of the check that ran.", i)
		case a.StartedAt.IsZero():
			return tocsin.Errorf(tocsin.EINVALID, "results[%d].started_at: give when the check started, in RFC 3339 form.", i)
		case a.StartedAt.After(now.Add(agentFutureSkew)):
			return tocsin.Errorf(tocsin.EINVALID, "results[%d].started_at: %s is in the future for the hub (its clock says %s); check the agent's clock.",
				i, a.StartedAt.Format(time.RFC3339), now.UTC().Format(time.RFC3339))
		case a.DurationUS < 0:
			return tocsin.Errorf(tocsin.EINVALID, "results[%d].duration_us: a duration cannot be negative.", i)
		}
	}
	checks, err := s.store.Checks(r.Context())
	if err != nil {
		return err
	}
	known := make(map[int64]bool, len(checks))
	for _, c := range checks {
		known[c.ID] = true
	}
	// Results of a check deleted since the agent fetched it are dropped:
	// kept, they would make every resend of the batch fail.
	var receipt tocsin.AgentReceipt
	results := make([]*tocsin.CheckResult, 0, len(q.Results))
	for _, a := range q.Results {
		if !known[a.CheckID] {
			receipt.Unknown++
			continue
		}
		results = append(results, a.Result(location))
	}
	// Which keys the store has is read first, to answer how many this
	// batch added. One agent sends one batch at a time, so nothing stores
	// these keys between the read and the write.
	seen, err := s.storedKeys(r, results)
	if err != nil {
		return err
	}
	// Only keys not seen go to the store: its unique key catches resends
	// of raw rows, and this read those of results already packed into
	// blocks, whose rows are gone.
	fresh := results[:0]
	for _, res := range results {
		if seen[res.Key] {
			receipt.Skipped++
		} else {
			seen[res.Key] = true
			receipt.Stored++
			fresh = append(fresh, res)
		}
	}
	if err := s.store.RecordCheckResults(r.Context(), fresh); err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, receipt)
}

// storedKeys returns which keys of results the store already holds, by
// reading each check's results since the earliest of the batch, to the
// second (the store may keep older results' starts only so far).
func (s *Server) storedKeys(r *http.Request, results []*tocsin.CheckResult) (map[string]bool, error) {
	since := map[int64]time.Time{}
	for _, res := range results {
		if t, ok := since[res.CheckID]; !ok || res.StartedAt.Before(t) {
			since[res.CheckID] = res.StartedAt.Truncate(time.Second)
		}
	}
	ids := make([]int64, 0, len(since))
	for id := range since {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	want := map[string]bool{}
	for _, res := range results {
		want[res.Key] = true
	}
	seen := map[string]bool{}
	for _, id := range ids {
		// Results since the earliest of the batch: the batch's own, plus
		// what other locations sent meanwhile; 10,000 bounds the read.
		stored, err := s.store.CheckResults(r.Context(), id, since[id], 10000)
		if err != nil {
			return nil, err
		}
		for _, st := range stored {
			if st.Key != "" && want[st.Key] {
				seen[st.Key] = true
			}
		}
	}
	return seen, nil
}
