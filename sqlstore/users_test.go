package sqlstore

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tocsin-org/tocsin"
)

func TestUsers(t *testing.T) {
	forEachStore(t, func(t *testing.T, db *DB) {
		ctx := context.Background()
		u := &tocsin.User{Email: "Alice@Example.org", Name: "Alice", Roles: tocsin.Roles{tocsin.RoleAdmin, tocsin.RoleViewer},
			Lang: "fr", PasswordHash: "$argon2id$v=19$m=65536,t=3,p=2$salt$hash"}
		e := audited(t, db, func() error { return db.CreateUser(ctx, admin, u) })
		if u.ID == 0 || u.Email != "alice@example.org" {
			t.Fatalf("created user ID=%d email=%q", u.ID, u.Email)
		}
		wantEntry(t, e, "user.create", "user:1", "", "email=alice@example.org roles=viewer,admin")
		if e.Actor != admin.Label || e.ActorID != admin.UserID || e.IP != admin.IP {
			t.Errorf("audit actor = %d %q %q", e.ActorID, e.Actor, e.IP)
		}
		if strings.Contains(e.After, "argon2") {
			t.Errorf("audit summary leaks the password hash: %q", e.After)
		}

		got, err := db.User(ctx, u.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.Email != u.Email || got.Name != "Alice" || got.Lang != "fr" || got.PasswordHash != u.PasswordHash ||
			got.Roles.String() != "viewer,admin" || got.TwoFactorEnabled() || got.Disabled() ||
			!got.CreatedAt.Equal(u.CreatedAt) || got.CreatedAt.Location() != time.UTC {
			t.Errorf("User = %+v, created %+v", got, u)
		}
		byEmail, err := db.UserByEmail(ctx, " ALICE@example.ORG ")
		if err != nil || byEmail.ID != u.ID {
			t.Errorf("UserByEmail = %v, %v", byEmail, err)
		}

		t.Run("errors", func(t *testing.T) {
			_, err := db.User(ctx, 999)
			wantCode(t, err, tocsin.ENOTFOUND)
			_, err = db.UserByEmail(ctx, "nobody@example.org")
			wantCode(t, err, tocsin.ENOTFOUND)
			for _, tc := range []struct {
				name string
				u    tocsin.User
				code string
			}{
				{"duplicate e-mail, other case", tocsin.User{Email: "ALICE@example.org", Roles: tocsin.Roles{tocsin.RoleViewer}}, tocsin.ECONFLICT},
				{"bad e-mail", tocsin.User{Email: "alice", Roles: tocsin.Roles{tocsin.RoleViewer}}, tocsin.EINVALID},
				{"no role", tocsin.User{Email: "b@example.org"}, tocsin.EINVALID},
				{"unknown role", tocsin.User{Email: "b@example.org", Roles: tocsin.Roles{"root"}}, tocsin.EINVALID},
				{"bad lang", tocsin.User{Email: "b@example.org", Roles: tocsin.Roles{tocsin.RoleViewer}, Lang: "de"}, tocsin.EINVALID},
			} {
				t.Run(tc.name, func(t *testing.T) {
					err := notAudited(t, db, func() error { return db.CreateUser(ctx, admin, &tc.u) })
					wantCode(t, err, tc.code)
				})
			}
			if err := db.CreateUser(ctx, admin, &tocsin.User{Email: "alice@example.org", Roles: tocsin.Roles{tocsin.RoleViewer}}); !strings.Contains(tocsin.ErrorMessage(err), "alice@example.org already exists") {
				t.Errorf("duplicate message = %q", tocsin.ErrorMessage(err))
			}
			for name, fn := range map[string]func() error{
				"SetPassword":     func() error { return db.SetPassword(ctx, admin, 999, tocsin.PasswordChange{Hash: "h"}) },
				"SetRoles":        func() error { return db.SetRoles(ctx, admin, 999, tocsin.Roles{tocsin.RoleViewer}) },
				"SetLang":         func() error { return db.SetLang(ctx, admin, 999, "en") },
				"DisableUser":     func() error { return db.DisableUser(ctx, admin, 999) },
				"EnableUser":      func() error { return db.EnableUser(ctx, admin, 999) },
				"EnableTwoFactor": func() error { return db.EnableTwoFactor(ctx, admin, 999, []byte("s"), 1, nil) },
				"ResetTwoFactor":  func() error { return db.ResetTwoFactor(ctx, admin, 999, nil) },
				"UseTOTPStep":     func() error { return db.UseTOTPStep(ctx, 999, 5) },
			} {
				t.Run(name+" unknown user", func(t *testing.T) {
					wantCode(t, notAudited(t, db, fn), tocsin.ENOTFOUND)
				})
			}
			wantCode(t, db.SetRoles(ctx, admin, u.ID, nil), tocsin.EINVALID)
			wantCode(t, db.SetLang(ctx, admin, u.ID, "xx"), tocsin.EINVALID)
			wantCode(t, db.SetPassword(ctx, admin, u.ID, tocsin.PasswordChange{}), tocsin.EINVALID)
		})

		t.Run("mutations", func(t *testing.T) {
			for _, tc := range []struct {
				name                  string
				do                    func() error
				action, before, after string
			}{
				{"password", func() error {
					return db.SetPassword(ctx, admin, u.ID, tocsin.PasswordChange{Hash: "$argon2id$new-secret-hash"})
				},
					"user.password", "", "password changed"},
				{"roles", func() error {
					return db.SetRoles(ctx, admin, u.ID, tocsin.Roles{tocsin.RoleAdmin, tocsin.RoleViewer, tocsin.RoleResponder})
				}, "user.roles", "roles=viewer,admin", "roles=viewer,responder,admin"},
				{"lang", func() error { return db.SetLang(ctx, admin, u.ID, "") }, "user.lang", "lang=fr", "lang="},
				{"disable", func() error { return db.DisableUser(ctx, admin, u.ID) }, "user.disable", "disabled=false", "disabled=true sessions_deleted=0"},
				{"enable", func() error { return db.EnableUser(ctx, admin, u.ID) }, "user.enable", "disabled=true", "disabled=false"},
			} {
				t.Run(tc.name, func(t *testing.T) {
					e := audited(t, db, tc.do)
					wantEntry(t, e, tc.action, "user:1", tc.before, tc.after)
				})
			}
			got, err := db.User(ctx, u.ID)
			if err != nil {
				t.Fatal(err)
			}
			if got.PasswordHash != "$argon2id$new-secret-hash" || got.Roles.String() != "viewer,responder,admin" || got.Lang != "" || got.Disabled() {
				t.Errorf("after mutations: %+v", got)
			}
		})

		t.Run("disable deletes sessions", func(t *testing.T) {
			b := newUser(t, db, "bob@example.org")
			for _, id := range []string{"s1", "s2"} {
				if err := db.CreateSession(ctx, admin, &tocsin.Session{ID: id, UserID: b.ID, ExpiresAt: now().Add(time.Hour)}, nil, nil); err != nil {
					t.Fatal(err)
				}
			}
			e := audited(t, db, func() error { return db.DisableUser(ctx, admin, b.ID) })
			wantEntry(t, e, "user.disable", userTarget(b.ID), "disabled=false", "disabled=true sessions_deleted=2")
			ss, err := db.UserSessions(ctx, b.ID)
			if err != nil || len(ss) != 0 {
				t.Errorf("sessions after disable: %d, %v", len(ss), err)
			}
			got, _ := db.User(ctx, b.ID)
			if !got.Disabled() {
				t.Errorf("not disabled")
			}
		})

		users, err := db.Users(ctx)
		if err != nil || len(users) != 2 || users[0].ID != u.ID {
			t.Errorf("Users = %d, %v", len(users), err)
		}
		if n, err := db.CountUsers(ctx); err != nil || n != 2 {
			t.Errorf("CountUsers = %d, %v", n, err)
		}
	})
}

func TestTwoFactor(t *testing.T) {
	forEachStore(t, func(t *testing.T, db *DB) {
		ctx := context.Background()
		u := newUser(t, db, "carol@example.org", tocsin.RoleAdmin)
		secret := []byte("sealed-totp-secret-bytes")
		codes := []string{"rc-hash-1", "rc-hash-2", "rc-hash-3"}

		e := audited(t, db, func() error { return db.EnableTwoFactor(ctx, admin, u.ID, secret, 1000, codes) })
		wantEntry(t, e, "user.2fa.enable", userTarget(u.ID), "2fa=off", "2fa=on recovery_codes=3")
		got, _ := db.User(ctx, u.ID)
		if !slices.Equal(got.TOTPSecret, secret) || got.TOTPLastStep != 1000 {
			t.Fatalf("after enable: secret %q step %d", got.TOTPSecret, got.TOTPLastStep)
		}
		if n, _ := db.RemainingRecoveryCodes(ctx, u.ID); n != 3 {
			t.Errorf("RemainingRecoveryCodes = %d", n)
		}

		t.Run("totp steps", func(t *testing.T) {
			for _, tc := range []struct {
				step int64
				code string
			}{
				{999, tocsin.ECONFLICT},  // older than the enrolment code
				{1000, tocsin.ECONFLICT}, // the enrolment code replayed
				{1001, ""},
				{1001, tocsin.ECONFLICT}, // replay
				{1003, ""},
				{1002, tocsin.ECONFLICT},
			} {
				err := notAudited(t, db, func() error { return db.UseTOTPStep(ctx, u.ID, tc.step) })
				if tocsin.ErrorCode(err) != tc.code {
					t.Errorf("UseTOTPStep(%d) = %v, want code %q", tc.step, err, tc.code)
				}
			}
		})

		t.Run("recovery codes", func(t *testing.T) {
			e := audited(t, db, func() error { return db.UseRecoveryCode(ctx, admin, u.ID, "rc-hash-2") })
			wantEntry(t, e, "user.recovery.use", userTarget(u.ID), "", "recovery_codes_left=2")
			if strings.Contains(e.After+e.Before, "rc-hash") {
				t.Errorf("audit leaks a recovery hash")
			}
			wantCode(t, notAudited(t, db, func() error { return db.UseRecoveryCode(ctx, admin, u.ID, "rc-hash-2") }), tocsin.ENOTFOUND)
			wantCode(t, db.UseRecoveryCode(ctx, admin, u.ID, "nope"), tocsin.ENOTFOUND)
			if n, _ := db.RemainingRecoveryCodes(ctx, u.ID); n != 2 {
				t.Errorf("RemainingRecoveryCodes = %d", n)
			}
		})

		t.Run("re-enrol replaces codes", func(t *testing.T) {
			// Enrolling over an existing secret is refused: two enrolments raced.
			wantCode(t, db.EnableTwoFactor(ctx, admin, u.ID, secret, 2000, []string{"new-1"}), tocsin.ECONFLICT)
			raw(t, db, `UPDATE users SET totp_secret = NULL WHERE id = ?`, u.ID) // as ResetTwoFactor leaves it
			e := audited(t, db, func() error { return db.EnableTwoFactor(ctx, admin, u.ID, secret, 2000, []string{"new-1"}) })
			wantEntry(t, e, "user.2fa.enable", userTarget(u.ID), "2fa=off", "2fa=on recovery_codes=1")
			wantCode(t, db.UseRecoveryCode(ctx, admin, u.ID, "rc-hash-1"), tocsin.ENOTFOUND)
			if n, _ := db.RemainingRecoveryCodes(ctx, u.ID); n != 1 {
				t.Errorf("RemainingRecoveryCodes = %d", n)
			}
		})

		t.Run("reset", func(t *testing.T) {
			s := &tocsin.Session{ID: "reset-sess", UserID: u.ID, ExpiresAt: now().Add(time.Hour)}
			if err := db.CreateSession(ctx, admin, s, nil, nil); err != nil {
				t.Fatal(err)
			}
			e := audited(t, db, func() error { return db.ResetTwoFactor(ctx, admin, u.ID, nil) })
			wantEntry(t, e, "user.2fa.reset", userTarget(u.ID), "2fa=on", "2fa=off sessions_deleted=1")
			got, _ := db.User(ctx, u.ID)
			if got.TwoFactorEnabled() || got.TOTPSecret != nil || got.TOTPLastStep != 0 {
				t.Errorf("after reset: %+v", got)
			}
			if n, _ := db.RemainingRecoveryCodes(ctx, u.ID); n != 0 {
				t.Errorf("RemainingRecoveryCodes = %d", n)
			}
			_, err := db.Session(ctx, s.ID)
			wantCode(t, err, tocsin.ENOTFOUND)
		})

		es, _ := db.AuditEntries(ctx, tocsin.AuditFilter{Target: userTarget(u.ID), Limit: 1000})
		for _, e := range es {
			if strings.Contains(e.Before+e.After, string(secret)) || strings.Contains(e.Before+e.After, "argon2") {
				t.Errorf("audit entry %d leaks a secret: %q → %q", e.Seq, e.Before, e.After)
			}
		}
	})
}

func TestUseTOTPStepConcurrent(t *testing.T) {
	// Two requests with the same code at once: exactly one wins.
	forEachStore(t, func(t *testing.T, db *DB) {
		ctx := context.Background()
		u := newUser(t, db, "dave@example.org")
		errs := make(chan error, 8)
		for range 8 {
			go func() { errs <- db.UseTOTPStep(ctx, u.ID, 42) }()
		}
		ok := 0
		for range 8 {
			err := <-errs
			switch tocsin.ErrorCode(err) {
			case "":
				ok++
			case tocsin.ECONFLICT:
			default:
				t.Errorf("UseTOTPStep: %v", err)
			}
		}
		if ok != 1 {
			t.Errorf("%d of 8 concurrent uses of one step succeeded, want 1", ok)
		}
	})
}

// A password chosen by an admin is temporary: the flag is stored, every
// session of the account ends, and the notice goes out with the change; the
// owner's own choice clears the flag.
func TestTemporaryPassword(t *testing.T) {
	forEachStore(t, func(t *testing.T, db *DB) {
		ctx := context.Background()
		admin := tocsin.Actor{UserID: 1, Label: "admin@example.org", IP: "127.0.0.1"}
		u := newUser(t, db, "owner@example.org", tocsin.RoleResponder)
		s := &tocsin.Session{ID: "temp-sess", UserID: u.ID, ExpiresAt: now().Add(time.Hour)}
		if err := db.CreateSession(ctx, admin, s, nil, nil); err != nil {
			t.Fatal(err)
		}
		notice := &tocsin.Message{Channel: tocsin.ChannelEmail, To: u.Email, Subject: "reset", Key: "pw-reset-1"}
		e := audited(t, db, func() error {
			return db.SetPassword(ctx, admin, u.ID, tocsin.PasswordChange{Hash: "$argon2id$temporary", Temporary: true, EndSessions: true, Notices: []*tocsin.Message{notice}})
		})
		wantEntry(t, e, "user.password", userTarget(u.ID), "", "temporary password set, to change at next sign-in; sessions_deleted=1")
		got, _ := db.User(ctx, u.ID)
		if !got.MustChangePassword || got.PasswordHash != "$argon2id$temporary" {
			t.Errorf("after a temporary password: must change %v, hash %q", got.MustChangePassword, got.PasswordHash)
		}
		_, err := db.Session(ctx, s.ID)
		wantCode(t, err, tocsin.ENOTFOUND)
		msgs, _ := db.Messages(ctx, 10)
		if len(msgs) != 1 || msgs[0].Key != "pw-reset-1" || msgs[0].To != u.Email {
			t.Errorf("notice not enqueued with the change: %+v", msgs)
		}

		if err := db.SetPassword(ctx, admin, u.ID, tocsin.PasswordChange{Hash: "$argon2id$own"}); err != nil {
			t.Fatal(err)
		}
		if got, _ := db.User(ctx, u.ID); got.MustChangePassword {
			t.Error("the owner's own password must clear the flag")
		}
		// A failed change writes nothing: no notice, no flag.
		wantCode(t, db.SetPassword(ctx, admin, 999, tocsin.PasswordChange{Hash: "$argon2id$x", Temporary: true, Notices: []*tocsin.Message{{Channel: tocsin.ChannelEmail, To: "x@example.org", Key: "pw-reset-2"}}}), tocsin.ENOTFOUND)
		if msgs, _ := db.Messages(ctx, 10); len(msgs) != 1 {
			t.Errorf("a failed change enqueued a message: %d messages", len(msgs))
		}
	})
}
