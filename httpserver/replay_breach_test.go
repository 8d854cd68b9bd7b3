package httpserver

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tocsin-org/tocsin/deadline"
)

// TestReplayBreachClock replays the GDPR clock of the bucket-listing
// incident on the simulated clock: the warning (Friday 17:40 Paris) is read
// on Saturday at 12:04, when the lead marks the incident a likely breach;
// the room shows 72 hours left, the lead and the approver are reminded
// at 24 h and 12 h left (Monday 12:04, Tuesday 00:04), the decision not to
// notify is recorded on Tuesday morning, and no 2 h reminder follows.
func TestReplayBreachClock(t *testing.T) {
	r := newReplay(t)
	inc := r.post(r.leadToken, "/api/v1/security-incidents", map[string]any{"title": "Media bucket lists its files", "severity": "SEV2", "kind": "data_exposure"})
	id := int64(inc["id"].(float64))
	room := fmt.Sprintf("/api/v1/security-incidents/%d", id)
	r.post(r.leadToken, room+"/roles", map[string]any{"role": "lead", "user_id": r.lead.ID})

	r.at(21, 12, 4) // Saturday: someone reads the warning
	if resp := r.call("PUT", room+"/breach", r.leadToken, `{"answer":"likely"}`); resp.Status != 200 {
		t.Fatalf("mark: %d %s", resp.Status, resp.Body)
	}
	b := r.get(r.leadToken, room+"/breach")
	clocks := b["clocks"].([]any)
	gdpr := clocks[0].(map[string]any)
	if gdpr["deadline"] != "2026-11-24T11:04:00Z" || gdpr["left_seconds"].(float64) != 72*3600 {
		t.Errorf("GDPR clock at marking: %v", gdpr)
	}
	page := r.signedIn(r.lead, "127.0.0.1").get(fmt.Sprintf("/console/security/%d", id))
	if !strings.Contains(plain(page), "due 2026-11-24 12:04 CET — 3 d 0 h left") {
		t.Errorf("the room does not show 72 h left:\n%s", plain(page))
	}

	w := &deadline.Worker{Duties: []deadline.Duty{deadline.BreachReminders(r.store, nil, "en", "https://status.example.org", r.srv.loc)}}
	tick := func() time.Time {
		next, err := w.Tick(r.ctx, r.clock.Now())
		if err != nil {
			t.Fatal(err)
		}
		return next
	}
	next := tick()
	if want := time.Date(2026, 11, 23, 11, 4, 0, 0, time.UTC); !next.Equal(want) {
		t.Errorf("next reminder %v, want Monday 12:04 Paris", next)
	}
	r.at(23, 12, 4) // Monday, 24 h left
	tick()
	r.at(24, 0, 4) // Tuesday, 12 h left
	tick()
	r.at(24, 9, 30)
	r.post(r.leadToken, room+"/breach/decisions", map[string]any{"notify": false, "decided_by": r.approver.ID,
		"why": "the bucket held only public media; no personal data was listed"})
	r.at(24, 10, 4) // 2 h left: the decision is recorded, nothing is sent
	if next := tick(); !next.IsZero() {
		t.Errorf("a reminder is still due after the decision: %v", next)
	}
	var keys []string
	for _, m := range r.messages() {
		if strings.HasPrefix(m.Key, "gdpr:") {
			keys = append(keys, m.Key)
		}
	}
	slices.Sort(keys)
	var want []string
	for _, th := range []string{"12h", "24h"} {
		for _, u := range []*testUser{r.lead, r.approver} {
			want = append(want, fmt.Sprintf("gdpr:%d:gdpr:%s:user:%d", id, th, u.ID))
		}
	}
	slices.Sort(want)
	if !slices.Equal(keys, want) {
		t.Errorf("reminders %q, want %q", keys, want)
	}
	page = r.signedIn(r.lead, "127.0.0.1").get(fmt.Sprintf("/console/security/%d", id))
	if text := plain(page); !strings.Contains(text, "do not notify the authority (decided 2026-11-24 09:30 CET by alix@example.org)") ||
		!strings.Contains(text, "recorded 2026-11-24 09:30 CET") {
		t.Errorf("the room does not show the decision:\n%s", text)
	}
	if bs, err := r.store.Breaches(r.ctx); err != nil || len(bs) != 1 || bs[0].NotifyDecision() == nil || bs[0].NotifyDecision().Late {
		t.Errorf("register %+v, %v", bs, err)
	}
}
