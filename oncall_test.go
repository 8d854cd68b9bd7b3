package tocsin

import (
	"testing"
	"time"
)

func paris(t *testing.T) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

func TestRotaOnCall(t *testing.T) {
	loc := paris(t)
	at := func(y int, m time.Month, d, h, min int) time.Time { return time.Date(y, m, d, h, min, 0, 0, loc) }
	// Weekly, Monday 09:00 Paris, from Monday 2026-10-19: Ann, Bob, Cid.
	weekly := Rota{Name: "ops", Zone: "Europe/Paris", Start: at(2026, 10, 19, 9, 0), PeriodDays: 7, Members: []int64{1, 2, 3}}
	withOverrides := weekly
	withOverrides.Overrides = []Override{
		{ID: 1, UserID: 9, From: at(2026, 11, 20, 12, 0), Until: at(2026, 11, 23, 9, 0)},  // holiday cover
		{ID: 2, UserID: 8, From: at(2026, 11, 20, 17, 0), Until: at(2026, 11, 20, 18, 0)}, // later override wins
	}
	daily := Rota{Name: "d", Zone: "Europe/Paris", Start: at(2026, 3, 28, 9, 0), PeriodDays: 1, Members: []int64{1, 2}}
	nyc := Rota{Name: "ny", Zone: "America/New_York", Start: time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC), PeriodDays: 7, Members: []int64{5, 6}}
	nyLoc, _ := time.LoadLocation("America/New_York")
	tests := []struct {
		name string
		r    Rota
		at   time.Time
		want int64
	}{
		{"first shift starts at the hand-over", weekly, at(2026, 10, 19, 9, 0), 1},
		{"one minute before the first hand-over is the previous cycle", weekly, at(2026, 10, 19, 8, 59), 3},
		{"second week", weekly, at(2026, 10, 26, 12, 0), 2},
		// The clocks go back on Sunday 2026-10-25: Monday 26 09:00 is
		// still the hand-over, in local time.
		{"after the autumn DST change, 08:59 local is still Ann", weekly, at(2026, 10, 26, 8, 59), 1},
		{"after the autumn DST change, 09:00 local is Bob", weekly, at(2026, 10, 26, 9, 0), 2},
		{"third week", weekly, at(2026, 11, 2, 9, 0), 3},
		{"wraps around", weekly, at(2026, 11, 9, 9, 0), 1},
		{"Friday 2026-11-20 17:40 Paris (16:40 UTC)", weekly, time.Date(2026, 11, 20, 16, 40, 0, 0, time.UTC), 2},
		{"holiday override", withOverrides, at(2026, 11, 21, 10, 0), 9},
		{"the later override wins where two cover", withOverrides, time.Date(2026, 11, 20, 16, 40, 0, 0, time.UTC), 8},
		{"override ends excluded", withOverrides, at(2026, 11, 23, 9, 0), 3},
		{"before the override", withOverrides, at(2026, 11, 20, 11, 59), 2},
		{"the week before the start is the last member's", weekly, at(2026, 10, 12, 10, 0), 3},
		{"ten weeks before the start", weekly, at(2026, 8, 10, 9, 0), 3},
		// Spring DST change on Sunday 2026-03-29 in Paris: the day is 23 h.
		{"daily: Saturday 09:00", daily, at(2026, 3, 28, 9, 0), 1},
		{"daily: Sunday 08:59 (DST day)", daily, at(2026, 3, 29, 8, 59), 1},
		{"daily: Sunday 09:00 (DST day)", daily, at(2026, 3, 29, 9, 0), 2},
		{"daily: Monday 08:59 local after the change", daily, at(2026, 3, 30, 8, 59), 2},
		{"daily: Monday 09:00 local after the change", daily, at(2026, 3, 30, 9, 0), 1},
		// New York changes on 2026-03-08, Europe three weeks later.
		{"New York: 03:00 local before its change", nyc, time.Date(2026, 3, 9, 2, 59, 0, 0, nyLoc), 5},
		{"New York: 03:00 local after its change", nyc, time.Date(2026, 3, 9, 3, 0, 0, 0, nyLoc), 6},
		{"no members", Rota{Name: "x", Zone: "UTC", Start: at(2026, 1, 1, 0, 0), PeriodDays: 1}, at(2026, 5, 1, 0, 0), 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.r.OnCall(tt.at)
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				_, from, until, _ := tt.r.Shift(tt.at)
				t.Fatalf("OnCall(%s) = %d, want %d (shift %s – %s)", tt.at, got, tt.want, from, until)
			}
		})
	}
}

func TestRotaShiftBounds(t *testing.T) {
	loc := paris(t)
	r := Rota{Name: "ops", Zone: "Europe/Paris", Start: time.Date(2026, 10, 19, 9, 0, 0, 0, loc), PeriodDays: 7, Members: []int64{1}}
	_, from, until, err := r.Shift(time.Date(2026, 10, 22, 0, 0, 0, 0, loc))
	if err != nil {
		t.Fatal(err)
	}
	// The week of the autumn change lasts 169 hours.
	if got := until.Sub(from); got != 169*time.Hour {
		t.Fatalf("shift lasts %s, want 169h", got)
	}
	if from.In(loc).Hour() != 9 || until.In(loc).Hour() != 9 {
		t.Fatalf("hand-overs at %s and %s, want 09:00 local", from.In(loc), until.In(loc))
	}
}

func TestRotaValidate(t *testing.T) {
	start := time.Date(2026, 1, 5, 8, 0, 0, 0, time.UTC)
	tests := []struct {
		name string
		r    Rota
		key  string
	}{
		{"ok", Rota{Name: " ops  team ", Zone: "Europe/Paris", Start: start, PeriodDays: 7, Members: []int64{1, 2}}, ""},
		{"no name", Rota{Zone: "UTC", Start: start, PeriodDays: 7}, "oncall.name_invalid"},
		{"unknown zone", Rota{Name: "a", Zone: "Mars/Olympus", Start: start, PeriodDays: 7}, "oncall.zone_invalid"},
		{"Local is not a zone", Rota{Name: "a", Zone: "Local", Start: start, PeriodDays: 7}, "oncall.zone_invalid"},
		{"zero period", Rota{Name: "a", Zone: "UTC", Start: start}, "oncall.period_invalid"},
		{"no start", Rota{Name: "a", Zone: "UTC", PeriodDays: 1}, "oncall.start_invalid"},
		{"member twice", Rota{Name: "a", Zone: "UTC", Start: start, PeriodDays: 1, Members: []int64{1, 1}}, "oncall.member_twice"},
		{"override backwards", Rota{Name: "a", Zone: "UTC", Start: start, PeriodDays: 1, Overrides: []Override{{UserID: 1, From: start, Until: start}}}, "oncall.override_order"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.r.Validate()
			if tt.key == "" {
				if err != nil {
					t.Fatal(err)
				}
				if tt.r.Name != "ops team" {
					t.Fatalf("name %q not tidied", tt.r.Name)
				}
				return
			}
			if got := errorKey(err); got != tt.key {
				t.Fatalf("Validate() = %v (key %q), want key %q", err, got, tt.key)
			}
		})
	}
}

func errorKey(err error) string {
	if e, ok := err.(*Error); ok {
		return e.Key
	}
	return ""
}

func TestEscalationPolicy(t *testing.T) {
	p := EscalationPolicy{Levels: []EscalationLevel{{RotaID: 1}, {UserIDs: []int64{3, 2, 3}, Delay: 5 * time.Minute}}}
	if err := p.Validate(); err != nil {
		t.Fatal(err)
	}
	if p.Levels[0].Delay != DefaultEscalationDelay || len(p.Levels[1].UserIDs) != 2 {
		t.Fatalf("levels not tidied: %+v", p.Levels)
	}
	steps := []struct{ level, round int }{{0, 0}, {1, 0}, {0, 1}, {1, 1}, {0, 2}}
	for n, want := range steps {
		l, r, ok := p.Step(n)
		if !ok || l != want.level || r != want.round {
			t.Fatalf("Step(%d) = %d, %d, %v; want %d, %d", n, l, r, ok, want.level, want.round)
		}
	}
	p.Repeat = 2
	if _, _, ok := p.Step(4); ok {
		t.Fatal("Step(4) with two rounds of two levels should be past the end")
	}
	bad := []EscalationPolicy{
		{},
		{Levels: []EscalationLevel{{}}},
		{Levels: []EscalationLevel{{RotaID: 1, Delay: time.Second}}},
		{Levels: []EscalationLevel{{RotaID: 1}}, Repeat: -1},
		{Levels: []EscalationLevel{{UserIDs: []int64{-4}}}},
	}
	for i, p := range bad {
		if err := p.Validate(); ErrorCode(err) != EINVALID {
			t.Errorf("bad policy %d: %v, want EINVALID", i, err)
		}
	}
}

func TestContactValidate(t *testing.T) {
	tests := []struct {
		c  Contact
		ok bool
	}{
		{Contact{Kind: ContactEmail, Address: " Ann@Example.org "}, true},
		{Contact{Kind: ContactEmail, Address: "not an address"}, false},
		{Contact{Kind: ContactMatrix, Address: "!room:example.org"}, true},
		{Contact{Kind: ContactMatrix, Address: "@ann:example.org"}, false},
		{Contact{Kind: ContactWebhook, Address: "https://hooks.example.org/page"}, true},
		{Contact{Kind: ContactWebhook, Address: "https://user:pw@hooks.example.org/"}, false},
		{Contact{Kind: ContactWebhook, Address: "javascript:alert(1)"}, false},
		{Contact{Kind: "sms", Address: "+33600000000"}, false},
	}
	for _, tt := range tests {
		t.Run(string(tt.c.Kind)+" "+tt.c.Address, func(t *testing.T) {
			err := tt.c.Validate()
			if (err == nil) != tt.ok {
				t.Fatalf("Validate() = %v, want ok %v", err, tt.ok)
			}
			if tt.ok && tt.c.Kind == ContactEmail && tt.c.Address != "ann@example.org" {
				t.Fatalf("address %q not normalized", tt.c.Address)
			}
		})
	}
}

func TestPageAck(t *testing.T) {
	key := []byte("0123456789abcdef0123456789abcdef")
	now := time.Date(2026, 11, 20, 16, 40, 0, 0, time.UTC)
	a := PageAck{PageID: 7, Level: 1, Step: 3, UserID: 42, Expires: now.Add(PageAckLifetime)}
	tok := a.Sign(key)
	got, err := ParsePageAck(key, tok, now)
	if err != nil || got != a {
		t.Fatalf("ParsePageAck = %+v, %v; want %+v", got, err, a)
	}
	other := PageAck{PageID: 8, Level: 1, Step: 3, UserID: 42, Expires: a.Expires}.Sign(key)
	enc, _, _ := splitDot(tok)
	_, sig, _ := splitDot(other)
	tests := []struct {
		name, tok string
		now       time.Time
		code      string
	}{
		{"other key", a.Sign([]byte("another key, another server....!")), now, EINVALID},
		{"payload of one, signature of another", enc + "." + sig, now, EINVALID},
		{"no signature", enc, now, EINVALID},
		{"garbage", "%%%.###", now, EINVALID},
		{"empty", "", now, EINVALID},
		{"expired", tok, a.Expires, ECONFLICT},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := ParsePageAck(key, tt.tok, tt.now); ErrorCode(err) != tt.code {
				t.Fatalf("ParsePageAck = %v, want %s", err, tt.code)
			}
		})
	}
}

func splitDot(s string) (string, string, bool) {
	for i := range len(s) {
		if s[i] == '.' {
			return s[:i], s[i+1:], true
		}
	}
	return s, "", false
}

func FuzzParsePageAck(f *testing.F) {
	key := []byte("0123456789abcdef0123456789abcdef")
	now := time.Date(2026, 11, 20, 16, 40, 0, 0, time.UTC)
	f.Add(PageAck{PageID: 1, UserID: 2, Expires: now.Add(time.Hour)}.Sign(key))
	f.Add("YTEuMS4wLjAuMi4x.AAAA")
	f.Add("")
	f.Fuzz(func(t *testing.T, tok string) {
		a, err := ParsePageAck(key, tok, now)
		if err == nil && a.Sign(key) != tok {
			t.Fatalf("accepted %q, which is not what signing %+v gives", tok, a)
		}
	})
}
