package sqlstore

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/tocsin-org/tocsin"
)

const sessA = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"

func TestSessions(t *testing.T) {
	forEachStore(t, func(t *testing.T, db *DB) {
		ctx := context.Background()
		u := newUser(t, db, "erin@example.org", tocsin.RoleAdmin)
		t0 := now().Add(-time.Hour)
		s := &tocsin.Session{ID: sessA, UserID: u.ID, CreatedAt: t0, LastSeenAt: t0, ExpiresAt: t0.Add(12 * time.Hour),
			IP: "198.51.100.7", UserAgent: "Firefox"}
		in := &tocsin.SignIn{UserID: u.ID, Email: "Erin@example.org", At: t0, IP: s.IP, UserAgent: s.UserAgent, Device: "dev1"}
		alert := &tocsin.Message{Channel: tocsin.ChannelEmail, To: u.Email, Subject: "New sign-in", Body: "…", Key: "new-device-1"}

		e := audited(t, db, func() error { return db.CreateSession(ctx, admin, s, in, []*tocsin.Message{alert}) })
		wantEntry(t, e, "session.create", userTarget(u.ID), "", "session=aaaaaaaaaaaa ip=198.51.100.7 verified=false")
		if strings.Contains(e.After, sessA) {
			t.Errorf("audit holds the whole session hash")
		}
		if in.ID == 0 || !in.Success || alert.ID == 0 {
			t.Errorf("sign-in ID %d success %v, message ID %d", in.ID, in.Success, alert.ID)
		}
		if msgs, _ := db.Messages(ctx, 10); len(msgs) != 1 || msgs[0].Key != "new-device-1" {
			t.Errorf("outbox after CreateSession: %v", msgs)
		}
		got, err := db.Session(ctx, sessA)
		if err != nil {
			t.Fatal(err)
		}
		if *got != *s {
			t.Errorf("Session = %+v, want %+v", got, s)
		}

		t.Run("errors", func(t *testing.T) {
			_, err := db.Session(ctx, "nope")
			wantCode(t, err, tocsin.ENOTFOUND)
			wantCode(t, db.CreateSession(ctx, admin, &tocsin.Session{ID: sessA, UserID: u.ID}, nil, nil), tocsin.ECONFLICT)
			wantCode(t, db.CreateSession(ctx, admin, &tocsin.Session{ID: "x", UserID: 999}, nil, nil), tocsin.ENOTFOUND)
			wantCode(t, db.CreateSession(ctx, admin, &tocsin.Session{UserID: u.ID}, nil, nil), tocsin.EINVALID)
			// A bad message rolls the whole sign-in back.
			err = db.CreateSession(ctx, admin, &tocsin.Session{ID: "rolled-back", UserID: u.ID}, &tocsin.SignIn{UserID: u.ID},
				[]*tocsin.Message{{Channel: tocsin.ChannelEmail, To: "x@example.org"}})
			wantCode(t, err, tocsin.EINVALID)
			_, err = db.Session(ctx, "rolled-back")
			wantCode(t, err, tocsin.ENOTFOUND)
			wantCode(t, db.TouchSession(ctx, "nope", now()), tocsin.ENOTFOUND)
			wantCode(t, db.VerifySession(ctx, admin, "nope", "nope2", nil), tocsin.ENOTFOUND)
			wantCode(t, db.VerifySession(ctx, admin, sessA, sessA, nil), tocsin.EINVALID)
			wantCode(t, db.DeleteSession(ctx, admin, "nope"), tocsin.ENOTFOUND)
			wantCode(t, db.DeleteUserSessions(ctx, admin, 999, ""), tocsin.ENOTFOUND)
		})

		t.Run("touch moves forward only", func(t *testing.T) {
			later := t0.Add(30 * time.Minute)
			if err := notAudited(t, db, func() error { return db.TouchSession(ctx, sessA, later) }); err != nil {
				t.Fatal(err)
			}
			if err := db.TouchSession(ctx, sessA, t0); err != nil {
				t.Fatal(err)
			}
			got, _ := db.Session(ctx, sessA)
			if !got.LastSeenAt.Equal(later) {
				t.Errorf("LastSeenAt = %v, want %v", got.LastSeenAt, later)
			}
		})

		t.Run("verify rotates the ID and records the second factor", func(t *testing.T) {
			const rotated = "cccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc"
			in := &tocsin.SignIn{Email: u.Email, IP: "127.0.0.9", Device: "dev", Factor: tocsin.FactorTOTP}
			e := audited(t, db, func() error { return db.VerifySession(ctx, admin, sessA, rotated, in) })
			wantEntry(t, e, "session.verify", userTarget(u.ID), "session=aaaaaaaaaaaa verified=false", "session=cccccccccccc verified=true")
			_, err := db.Session(ctx, sessA)
			wantCode(t, err, tocsin.ENOTFOUND) // the pre-2FA cookie no longer works
			got, err := db.Session(ctx, rotated)
			if err != nil || !got.Verified {
				t.Fatalf("rotated session: %+v, %v", got, err)
			}
			yes := true
			if n, _ := db.CountSignIns(ctx, tocsin.SignInFilter{UserID: u.ID, Device: "dev", Factor: tocsin.FactorTOTP, Success: &yes}); n != 1 {
				t.Errorf("second-factor success recorded %d times, want 1", n)
			}
			// Back to the old ID for the subtests below.
			raw(t, db, `UPDATE sessions SET id = ? WHERE id = ?`, sessA, rotated)
		})

		t.Run("delete", func(t *testing.T) {
			for _, id := range []string{"b1", "b2", "b3"} {
				if err := db.CreateSession(ctx, admin, &tocsin.Session{ID: id, UserID: u.ID, ExpiresAt: now().Add(time.Hour)}, nil, nil); err != nil {
					t.Fatal(err)
				}
			}
			e := audited(t, db, func() error { return db.DeleteSession(ctx, admin, "b3") })
			wantEntry(t, e, "session.delete", userTarget(u.ID), "session=b3 ip=", "")
			e = audited(t, db, func() error { return db.DeleteUserSessions(ctx, admin, u.ID, sessA) })
			wantEntry(t, e, "session.delete_all", userTarget(u.ID), "sessions=3", "sessions=1")
			ss, err := db.UserSessions(ctx, u.ID)
			if err != nil || len(ss) != 1 || ss[0].ID != sessA {
				t.Errorf("UserSessions = %v, %v", ss, err)
			}
			e = audited(t, db, func() error { return db.DeleteUserSessions(ctx, admin, u.ID, "") })
			wantEntry(t, e, "session.delete_all", userTarget(u.ID), "sessions=1", "sessions=0")
		})

		t.Run("expired", func(t *testing.T) {
			n0 := now()
			for _, s := range []*tocsin.Session{
				{ID: "idle", LastSeenAt: n0.Add(-2 * time.Hour), ExpiresAt: n0.Add(time.Hour)},
				{ID: "expired", LastSeenAt: n0, ExpiresAt: n0.Add(-time.Second)},
				{ID: "fresh", LastSeenAt: n0, ExpiresAt: n0.Add(time.Hour)},
			} {
				s.UserID, s.CreatedAt = u.ID, n0.Add(-3*time.Hour)
				if err := db.CreateSession(ctx, admin, s, nil, nil); err != nil {
					t.Fatal(err)
				}
			}
			var n int
			err := notAudited(t, db, func() (err error) {
				n, err = db.DeleteExpiredSessions(ctx, n0.Add(-time.Hour), n0)
				return err
			})
			if err != nil || n != 2 {
				t.Errorf("DeleteExpiredSessions = %d, %v; want 2", n, err)
			}
			ss, _ := db.UserSessions(ctx, u.ID)
			if len(ss) != 1 || ss[0].ID != "fresh" {
				t.Errorf("left %v", ss)
			}
		})
	})
}

func TestSignIns(t *testing.T) {
	forEachStore(t, func(t *testing.T, db *DB) {
		ctx := context.Background()
		u := newUser(t, db, "frank@example.org")
		t0 := now().Add(-time.Hour)
		// Failed attempts: three on the account from two IPs, one on an unknown e-mail.
		for i, in := range []*tocsin.SignIn{
			{UserID: u.ID, Email: u.Email, At: t0, IP: "203.0.113.1", Device: "d1"},
			{UserID: u.ID, Email: u.Email, At: t0.Add(time.Minute), IP: "203.0.113.1"},
			{UserID: u.ID, Email: u.Email, At: t0.Add(2 * time.Minute), IP: "203.0.113.2", Device: "d1"},
			{Email: "ghost@example.org", At: t0.Add(3 * time.Minute), IP: "203.0.113.1"},
		} {
			var msgs []*tocsin.Message
			if i == 2 {
				msgs = []*tocsin.Message{{Channel: tocsin.ChannelEmail, To: u.Email, Subject: "Failed sign-ins", Key: "failed-" + u.Email}}
			}
			in.Success = true // must be overridden
			if err := notAudited(t, db, func() error { return db.RecordFailedSignIn(ctx, in, msgs) }); err != nil {
				t.Fatal(err)
			}
			if in.ID == 0 || in.Success {
				t.Errorf("attempt %d: ID %d success %v", i, in.ID, in.Success)
			}
		}
		for i := range 3 {
			at := t0.Add(time.Duration(10+i) * time.Minute)
			s := &tocsin.Session{ID: "s" + string(rune('a'+i)), UserID: u.ID, ExpiresAt: at.Add(time.Hour)}
			in := &tocsin.SignIn{UserID: u.ID, Email: u.Email, At: at, IP: "203.0.113.9", Device: "d2"}
			if err := db.CreateSession(ctx, admin, s, in, nil); err != nil {
				t.Fatal(err)
			}
		}
		yes, no := true, false
		for _, tc := range []struct {
			name string
			f    tocsin.SignInFilter
			want int
		}{
			{"all", tocsin.SignInFilter{}, 7},
			{"user", tocsin.SignInFilter{UserID: u.ID}, 6},
			{"user failed", tocsin.SignInFilter{UserID: u.ID, Success: &no}, 3},
			{"user succeeded", tocsin.SignInFilter{UserID: u.ID, Success: &yes}, 3},
			{"ip failed", tocsin.SignInFilter{IP: "203.0.113.1", Success: &no}, 3},
			{"ip since", tocsin.SignInFilter{IP: "203.0.113.1", Since: t0.Add(time.Minute)}, 2},
			{"device", tocsin.SignInFilter{Device: "d1"}, 2},
			{"user device ok", tocsin.SignInFilter{UserID: u.ID, Device: "d2", Success: &yes}, 3},
			{"none", tocsin.SignInFilter{Since: now().Add(time.Hour)}, 0},
		} {
			t.Run(tc.name, func(t *testing.T) {
				if n, err := db.CountSignIns(ctx, tc.f); err != nil || n != tc.want {
					t.Errorf("CountSignIns = %d, %v; want %d", n, err, tc.want)
				}
			})
		}
		last, err := db.LastSignIns(ctx, u.ID, 2)
		if err != nil || len(last) != 2 {
			t.Fatalf("LastSignIns = %d, %v", len(last), err)
		}
		if !last[0].At.Equal(t0.Add(12*time.Minute)) || !last[1].At.Equal(t0.Add(11*time.Minute)) || !last[0].Success || last[0].UserID != u.ID {
			t.Errorf("LastSignIns = %+v %+v", last[0], last[1])
		}
		if msgs, _ := db.Messages(ctx, 10); len(msgs) != 1 || msgs[0].Subject != "Failed sign-ins" {
			t.Errorf("outbox = %v", msgs)
		}
	})
}

// Sign-ins are counted by the typed e-mail (known account or not) and by
// network, an IPv6 /64 counting as one source; old ones are pruned.
func TestCountSignInsByEmailAndNetwork(t *testing.T) {
	forEachStore(t, func(t *testing.T, db *DB) {
		ctx := context.Background()
		t0 := now()
		for i, ip := range []string{"2001:db8:1:2::1", "2001:db8:1:2::2", "2001:db8:1:3::1", "127.0.0.2"} {
			in := &tocsin.SignIn{Email: "Nobody@Example.org", IP: ip, At: t0.Add(time.Duration(i) * time.Second)}
			if err := db.RecordFailedSignIn(ctx, in, nil); err != nil {
				t.Fatal(err)
			}
		}
		old := &tocsin.SignIn{Email: "nobody@example.org", IP: "127.0.0.2", At: t0.Add(-100 * 24 * time.Hour)}
		if err := db.RecordFailedSignIn(ctx, old, nil); err != nil {
			t.Fatal(err)
		}
		tests := []struct {
			name string
			f    tocsin.SignInFilter
			want int
		}{
			{"by e-mail, any case", tocsin.SignInFilter{Email: "NOBODY@example.org", Since: t0}, 4},
			{"one /64", tocsin.SignInFilter{IP: "2001:db8:1:2:ffff::9", Since: t0}, 2},
			{"another /64", tocsin.SignInFilter{IP: "2001:db8:1:3::77", Since: t0}, 1},
			{"IPv4 exact", tocsin.SignInFilter{IP: "127.0.0.2", Since: t0}, 1},
			{"e-mail and network", tocsin.SignInFilter{Email: "nobody@example.org", IP: "2001:db8:1:2::1", Since: t0}, 2},
			{"everything ever", tocsin.SignInFilter{}, 5},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				if n, err := db.CountSignIns(ctx, tt.f); err != nil || n != tt.want {
					t.Errorf("CountSignIns = %d, %v; want %d", n, err, tt.want)
				}
			})
		}
		if n, err := db.PruneSignIns(ctx, t0.Add(-90*24*time.Hour)); err != nil || n != 1 {
			t.Errorf("PruneSignIns = %d, %v; want the one old attempt", n, err)
		}
		if n, _ := db.CountSignIns(ctx, tocsin.SignInFilter{}); n != 4 {
			t.Errorf("after pruning: %d attempts, want 4", n)
		}
	})
}
