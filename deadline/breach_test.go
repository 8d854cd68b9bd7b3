package deadline

import (
	"context"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tocsin-org/tocsin"
	"github.com/tocsin-org/tocsin/sqlstore"
)

// breachFixture is a store on a simulated clock with a lead (French), an
// approver (English), a disabled approver and a responder.
type breachFixture struct {
	db                  *sqlstore.DB
	now                 time.Time
	lead, appr, off, rs *tocsin.User
}

func newBreachFixture(t *testing.T) *breachFixture {
	t.Helper()
	ctx := context.Background()
	db, err := sqlstore.Open(ctx, "sqlite:"+filepath.Join(t.TempDir(), "tocsin.db"), "")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if _, err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	f := &breachFixture{db: db, now: time.Date(2026, 11, 20, 16, 40, 0, 0, time.UTC)} // Friday
	db.SetClock(func() time.Time { return f.now })
	user := func(email, lang string, roles ...tocsin.Role) *tocsin.User {
		u := &tocsin.User{Email: email, Name: email, Roles: roles, PasswordHash: "$argon2id$v=19$x"}
		if err := db.CreateUser(ctx, tocsin.CLI, u); err != nil {
			t.Fatal(err)
		}
		if lang != "" {
			if err := db.SetLang(ctx, tocsin.CLI, u.ID, lang); err != nil {
				t.Fatal(err)
			}
		}
		return u
	}
	f.lead = user("lea@example.org", "fr", tocsin.RoleResponder)
	f.appr = user("ann@example.org", "", tocsin.RoleApprover)
	f.off = user("old@example.org", "", tocsin.RoleApprover)
	f.rs = user("rob@example.org", "", tocsin.RoleResponder)
	if err := db.DisableUser(ctx, tocsin.CLI, f.off.ID); err != nil {
		t.Fatal(err)
	}
	return f
}

// incident opens a breach (yes, aware now) led by f.lead.
func (f *breachFixture) incident(t *testing.T, title string) int64 {
	t.Helper()
	ctx := context.Background()
	inc := &tocsin.SecurityIncident{Title: title, Severity: tocsin.SEV1, Kind: tocsin.KindDataExposure}
	if err := f.db.CreateSecurityIncident(ctx, tocsin.CLI, inc); err != nil {
		t.Fatal(err)
	}
	if err := f.db.AssignSecurityRole(ctx, tocsin.CLI, inc.ID, tocsin.RoleLead, f.lead.ID); err != nil {
		t.Fatal(err)
	}
	if err := f.db.MarkBreach(ctx, tocsin.CLI, inc.ID, tocsin.BreachYes, time.Time{}); err != nil {
		t.Fatal(err)
	}
	return inc.ID
}

// keys lists the outbox's keys of reminders.
func (f *breachFixture) messages(t *testing.T) []*tocsin.Message {
	t.Helper()
	ms, err := f.db.Messages(context.Background(), 1000)
	if err != nil {
		t.Fatal(err)
	}
	var out []*tocsin.Message
	for _, m := range ms {
		if strings.HasPrefix(m.Key, "gdpr:") {
			out = append(out, m)
		}
	}
	return out
}

func keysOf(ms []*tocsin.Message) []string {
	out := make([]string, len(ms))
	for i, m := range ms {
		out[i] = m.Key
	}
	slices.Sort(out)
	return out
}

// TestBreachRemindersReplay replays two breaches on a simulated clock,
// waking the worker when the duty says: the first gets its 24 h and 12 h
// reminders, then its decision is recorded and nothing more comes; the
// second gets 24 h, 12 h and 2 h, each once, and nothing after its
// deadline. Lead and approver each get one; not the disabled approver nor
// the responder.
func TestBreachRemindersReplay(t *testing.T) {
	ctx := context.Background()
	f := newBreachFixture(t)
	first := f.incident(t, "Bucket world-listable")
	f.now = f.now.Add(time.Hour)
	second := f.incident(t, "Database dump on a mirror")
	w := &Worker{Duties: []Duty{BreachReminders(f.db, nil, "en", "https://status.example.org", time.UTC)}}
	deadline1 := time.Date(2026, 11, 23, 16, 40, 0, 0, time.UTC)
	deadline2 := deadline1.Add(time.Hour)

	next, err := w.Tick(ctx, f.now)
	if err != nil || !next.Equal(deadline1.Add(-24*time.Hour)) {
		t.Fatalf("first tick: next %v, %v; want 24 h before the first deadline", next, err)
	}
	if ms := f.messages(t); len(ms) != 0 {
		t.Fatalf("reminders with 71 h left: %q", keysOf(ms))
	}
	var wakes []time.Time
	for i := 0; i < 20 && !next.IsZero(); i++ {
		f.now = next
		wakes = append(wakes, next)
		// Tick twice at each wake, as two instances would.
		for range 2 {
			if next, err = w.Tick(ctx, f.now); err != nil {
				t.Fatal(err)
			}
		}
		if f.now.Equal(deadline1.Add(-12 * time.Hour)) {
			d := &tocsin.BreachDecision{Notify: true, Why: "addresses were listed", DecidedBy: f.appr.ID}
			if err := f.db.RecordBreachDecision(ctx, tocsin.CLI, first, d); err != nil {
				t.Fatal(err)
			}
		}
	}
	wantWakes := []time.Time{deadline1.Add(-24 * time.Hour), deadline2.Add(-24 * time.Hour), deadline1.Add(-12 * time.Hour),
		deadline2.Add(-12 * time.Hour), deadline2.Add(-2 * time.Hour)}
	if !slices.EqualFunc(wakes, wantWakes, time.Time.Equal) {
		t.Errorf("woke at %v, want %v", wakes, wantWakes)
	}
	// After the deadline, nothing is due.
	f.now = deadline2.Add(time.Hour)
	if next, err = w.Tick(ctx, f.now); err != nil || !next.IsZero() {
		t.Errorf("after the deadlines: next %v, %v", next, err)
	}

	ms := f.messages(t)
	var want []string
	for _, c := range []struct {
		inc int64
		ths []string
	}{{first, []string{"24h", "12h"}}, {second, []string{"24h", "12h", "2h"}}} {
		for _, th := range c.ths {
			for _, u := range []*tocsin.User{f.lead, f.appr} {
				want = append(want, "gdpr:"+itoa(c.inc)+":gdpr:"+th+":user:"+itoa(u.ID))
			}
		}
	}
	slices.Sort(want)
	if got := keysOf(ms); !slices.Equal(got, want) {
		t.Fatalf("reminders %q\nwant %q", got, want)
	}
	for _, m := range ms {
		switch m.To {
		case f.lead.Email: // French
			if !strings.Contains(m.Subject, "il reste") || !strings.Contains(m.Body, "Échéance") {
				t.Errorf("lead's reminder not in French: %q / %q", m.Subject, m.Body)
			}
		case f.appr.Email:
			if !strings.Contains(m.Subject, "left") || !strings.Contains(m.Body, "/console/security/") {
				t.Errorf("approver's reminder: %q / %q", m.Subject, m.Body)
			}
		default:
			t.Errorf("reminder to %s", m.To)
		}
	}
}

// TestBreachRemindersNIS2 runs the NIS2 clocks too: the early warning is
// reminded at once (24 h left when marked), and not once its report is
// recorded; the month's reminders come a day before its end.
func TestBreachRemindersNIS2(t *testing.T) {
	ctx := context.Background()
	f := newBreachFixture(t)
	id := f.incident(t, "Compromised server")
	duty := BreachReminders(f.db, tocsin.NIS2Clocks, "en", "https://status.example.org", time.UTC)
	next, err := duty.Run(ctx, f.now)
	if err != nil {
		t.Fatal(err)
	}
	if got := keysOf(f.messages(t)); len(got) != 2 || !strings.Contains(got[0], ":nis2_early_warning:24h:") {
		t.Fatalf("reminders at marking: %q", got)
	}
	if !next.Equal(f.now.Add(12 * time.Hour)) {
		t.Errorf("next = %v, want the early warning's 12 h", next)
	}
	if err := f.db.RecordClockDone(ctx, tocsin.CLI, id, tocsin.ClockNIS2EarlyWarning, time.Time{}); err != nil {
		t.Fatal(err)
	}
	f.now = f.now.Add(12 * time.Hour)
	if next, err = duty.Run(ctx, f.now); err != nil {
		t.Fatal(err)
	}
	if got := f.messages(t); len(got) != 2 {
		t.Errorf("reminded after the early warning was sent: %q", keysOf(got))
	}
	if want := f.now.Add(36 * time.Hour); !next.Equal(want) {
		t.Errorf("next = %v, want %v (GDPR and NIS2 72 h at 24 h left)", next, want)
	}
	f.now = time.Date(2026, 12, 19, 16, 40, 0, 0, time.UTC)
	if _, err = duty.Run(ctx, f.now); err != nil {
		t.Fatal(err)
	}
	if got := keysOf(f.messages(t)); !slices.ContainsFunc(got, func(k string) bool { return strings.Contains(k, ":nis2_final_report:24h:") }) {
		t.Errorf("no final report reminder a day before the month's end: %q", got)
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
