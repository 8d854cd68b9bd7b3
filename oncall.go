package tocsin

import (
	"strings"
	"time"
	"unicode/utf8"
)

// An on-call rota hands the pager from one person to the next at a fixed
// local time every period (weekly on Monday at 09:00 in Europe/Paris, say).
// Hand-overs are counted in the rota's own calendar, so a weekly hand-over
// stays at 09:00 local across daylight-saving changes. An override (a
// holiday, a swap) names who covers instead from one instant to another.

// Rota is an on-call rota.
type Rota struct {
	ID   int64
	Name string
	// Zone is the IANA time zone hand-overs are counted in.
	Zone string
	// Start is the first hand-over: its local date and time of day, in Zone,
	// are what every later hand-over repeats.
	Start time.Time
	// PeriodDays is the length of a shift in calendar days (7: weekly).
	PeriodDays int
	// Members are user IDs in the order they take the pager from Start.
	Members   []int64
	Overrides []Override
	UpdatedAt time.Time
}

// Override puts UserID on call from From (included) to Until (excluded)
// instead of whoever the rota names. The latest override wins where
// several cover the same instant.
type Override struct {
	ID     int64
	UserID int64
	From   time.Time
	Until  time.Time
	Note   string
}

// Limits of a rota.
const (
	MaxRotaName       = 100
	MaxRotaMembers    = 50
	MaxRotaPeriodDays = 366
	MaxOverrideNote   = 200
)

// Location loads the rota's time zone.
func (r *Rota) Location() (*time.Location, error) {
	if r.Zone == "" || r.Zone == "Local" {
		return nil, Errorf(EINVALID, "a rota needs an IANA time zone such as Europe/Paris").WithKey("oncall.zone_invalid", r.Zone)
	}
	loc, err := time.LoadLocation(r.Zone)
	if err != nil {
		return nil, Errorf(EINVALID, "unknown time zone %q: give an IANA name such as Europe/Paris", r.Zone).WithKey("oncall.zone_invalid", r.Zone)
	}
	return loc, nil
}

// Validate checks and tidies a rota: a name, a known zone, a period of 1
// to 366 days, members listed once, overrides with From before Until.
func (r *Rota) Validate() error {
	r.Name = strings.Join(strings.Fields(r.Name), " ")
	if r.Name == "" || utf8.RuneCountInString(r.Name) > MaxRotaName || !utf8.ValidString(r.Name) {
		return Errorf(EINVALID, "a rota needs a name of at most %d characters", MaxRotaName).WithKey("oncall.name_invalid", MaxRotaName)
	}
	r.Zone = strings.TrimSpace(r.Zone)
	if _, err := r.Location(); err != nil {
		return err
	}
	if r.PeriodDays < 1 || r.PeriodDays > MaxRotaPeriodDays {
		return Errorf(EINVALID, "a shift lasts 1 to %d days", MaxRotaPeriodDays).WithKey("oncall.period_invalid", MaxRotaPeriodDays)
	}
	if r.Start.IsZero() {
		return Errorf(EINVALID, "a rota needs its first hand-over time").WithKey("oncall.start_invalid")
	}
	if len(r.Members) > MaxRotaMembers {
		return Errorf(EINVALID, "a rota has at most %d members", MaxRotaMembers).WithKey("oncall.members_many", MaxRotaMembers)
	}
	seen := map[int64]bool{}
	for _, id := range r.Members {
		if id <= 0 || seen[id] {
			return Errorf(EINVALID, "each member appears once in a rota").WithKey("oncall.member_twice")
		}
		seen[id] = true
	}
	for i := range r.Overrides {
		if err := r.Overrides[i].Validate(); err != nil {
			return err
		}
	}
	return nil
}

// Validate checks an override.
func (o *Override) Validate() error {
	o.Note = strings.Join(strings.Fields(o.Note), " ")
	if o.UserID <= 0 {
		return Errorf(EINVALID, "an override names who covers").WithKey("oncall.override_user")
	}
	if o.From.IsZero() || o.Until.IsZero() || !o.From.Before(o.Until) {
		return Errorf(EINVALID, "an override ends after it starts").WithKey("oncall.override_order")
	}
	if utf8.RuneCountInString(o.Note) > MaxOverrideNote || !utf8.ValidString(o.Note) {
		return Errorf(EINVALID, "an override's note is at most %d characters", MaxOverrideNote).WithKey("oncall.note_long", MaxOverrideNote)
	}
	return nil
}

// handover returns the k-th hand-over after Start (k may be negative), in
// the rota's calendar: the same local time of day, k×PeriodDays days on.
func (r *Rota) handover(loc *time.Location, k int) time.Time {
	s := r.Start.In(loc)
	return time.Date(s.Year(), s.Month(), s.Day()+k*r.PeriodDays, s.Hour(), s.Minute(), s.Second(), 0, loc)
}

// Shift returns the index of the shift under way at t (negative before
// Start) and when it began and ends.
func (r *Rota) Shift(t time.Time) (k int, from, until time.Time, err error) {
	loc, err := r.Location()
	if err != nil {
		return 0, time.Time{}, time.Time{}, err
	}
	if r.PeriodDays < 1 {
		return 0, time.Time{}, time.Time{}, Errorf(EINVALID, "a shift lasts at least a day").WithKey("oncall.period_invalid", MaxRotaPeriodDays)
	}
	period := time.Duration(r.PeriodDays) * 24 * time.Hour
	d := t.Sub(r.Start)
	k = int(d / period)
	if d < 0 && d%period != 0 {
		k-- // floor, not truncation
	}
	// DST moves hand-overs by an hour at most from the estimate.
	for r.handover(loc, k).After(t) {
		k--
	}
	for !r.handover(loc, k+1).After(t) {
		k++
	}
	return k, r.handover(loc, k), r.handover(loc, k+1), nil
}

// OnCall returns who is on call at t: the latest override covering t, else
// the member whose shift it is; 0 when the rota has no members.
func (r *Rota) OnCall(t time.Time) (int64, error) {
	var (
		who    int64
		picked *Override
	)
	for i := range r.Overrides {
		o := &r.Overrides[i]
		if !t.Before(o.From) && t.Before(o.Until) && (picked == nil || o.ID >= picked.ID) {
			picked = o
		}
	}
	if picked != nil {
		return picked.UserID, nil
	}
	if len(r.Members) == 0 {
		return 0, nil
	}
	k, _, _, err := r.Shift(t)
	if err != nil {
		return 0, err
	}
	n := len(r.Members)
	who = r.Members[((k%n)+n)%n]
	return who, nil
}
