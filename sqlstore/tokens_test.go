package sqlstore

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/tocsin-org/tocsin"
)

func TestTokens(t *testing.T) {
	forEachStore(t, func(t *testing.T, db *DB) {
		ctx := context.Background()
		tok := &tocsin.APIToken{Name: "ci", Roles: tocsin.Roles{tocsin.RoleResponder}, Hash: "tokhash-ci-1"}
		e := audited(t, db, func() error { return db.CreateToken(ctx, admin, tok) })
		wantEntry(t, e, "token.create", tokenTarget(tok.ID), "", "name=ci roles=responder")
		if strings.Contains(e.After, "tokhash") {
			t.Errorf("audit leaks the token hash")
		}
		got, err := db.TokenByHash(ctx, "tokhash-ci-1")
		if err != nil || got.ID != tok.ID || got.CreatedBy != admin.Label || got.Roles.String() != "responder" || got.LastUsedAt != nil || got.RevokedAt != nil {
			t.Fatalf("TokenByHash = %+v, %v", got, err)
		}

		at := now()
		if err := notAudited(t, db, func() error { return db.TouchToken(ctx, tok.ID, at) }); err != nil {
			t.Fatal(err)
		}
		got, _ = db.TokenByHash(ctx, "tokhash-ci-1")
		if got.LastUsedAt == nil || !got.LastUsedAt.Equal(at) {
			t.Errorf("LastUsedAt = %v, want %v", got.LastUsedAt, at)
		}

		other := &tocsin.APIToken{Name: "backup", Roles: tocsin.Roles{tocsin.RoleViewer}, Hash: "tokhash-backup"}
		if err := db.CreateToken(ctx, admin, other); err != nil {
			t.Fatal(err)
		}

		t.Run("errors", func(t *testing.T) {
			for _, tc := range []struct {
				name string
				tok  tocsin.APIToken
				code string
			}{
				{"name taken", tocsin.APIToken{Name: "ci", Roles: tocsin.Roles{tocsin.RoleViewer}, Hash: "h2"}, tocsin.ECONFLICT},
				{"hash taken", tocsin.APIToken{Name: "ci2", Roles: tocsin.Roles{tocsin.RoleViewer}, Hash: "tokhash-ci-1"}, tocsin.ECONFLICT},
				{"no name", tocsin.APIToken{Roles: tocsin.Roles{tocsin.RoleViewer}, Hash: "h3"}, tocsin.EINVALID},
				{"no role", tocsin.APIToken{Name: "x", Hash: "h4"}, tocsin.EINVALID},
			} {
				t.Run(tc.name, func(t *testing.T) {
					wantCode(t, notAudited(t, db, func() error { return db.CreateToken(ctx, admin, &tc.tok) }), tc.code)
				})
			}
			_, err := db.TokenByHash(ctx, "nope")
			wantCode(t, err, tocsin.ENOTFOUND)
			wantCode(t, db.TouchToken(ctx, 999, now()), tocsin.ENOTFOUND)
			wantCode(t, db.RevokeToken(ctx, admin, 999, ""), tocsin.ENOTFOUND)
			wantCode(t, db.RevokeToken(ctx, admin, 0, "nope"), tocsin.ENOTFOUND)
		})

		t.Run("revoke", func(t *testing.T) {
			e := audited(t, db, func() error { return db.RevokeToken(ctx, admin, 0, "ci") })
			wantEntry(t, e, "token.revoke", tokenTarget(tok.ID), "name=ci revoked=false", "name=ci revoked=true")
			wantCode(t, notAudited(t, db, func() error { return db.RevokeToken(ctx, admin, 0, "ci") }), tocsin.ECONFLICT)
			wantCode(t, db.RevokeToken(ctx, admin, tok.ID, ""), tocsin.ECONFLICT)
			e = audited(t, db, func() error { return db.RevokeToken(ctx, admin, other.ID, "") })
			wantEntry(t, e, "token.revoke", tokenTarget(other.ID), "name=backup revoked=false", "name=backup revoked=true")
			got, _ := db.TokenByHash(ctx, "tokhash-ci-1")
			if got.RevokedAt == nil {
				t.Errorf("RevokedAt not set")
			}
			// A revoked token's name is free again, and revoking by name finds the live one.
			again := &tocsin.APIToken{Name: "ci", Roles: tocsin.Roles{tocsin.RoleAdmin}, Hash: "tokhash-ci-2"}
			if err := db.CreateToken(ctx, admin, again); err != nil {
				t.Fatal(err)
			}
			e = audited(t, db, func() error { return db.RevokeToken(ctx, admin, 0, "ci") })
			if e.Target != tokenTarget(again.ID) {
				t.Errorf("revoked %s, want %s", e.Target, tokenTarget(again.ID))
			}
		})

		toks, err := db.Tokens(ctx)
		if err != nil || len(toks) != 3 || toks[0].Name != "ci" || toks[1].Name != "backup" {
			t.Errorf("Tokens = %v, %v", toks, err)
		}
	})
}

func TestSetupToken(t *testing.T) {
	forEachStore(t, func(t *testing.T, db *DB) {
		ctx := context.Background()
		t0 := now()
		first := func(email string) *tocsin.User {
			return &tocsin.User{Email: email, Roles: tocsin.Roles{tocsin.RoleAdmin}, PasswordHash: "$argon2id$setup-secret"}
		}
		for _, st := range []*tocsin.SetupToken{
			{Hash: "setup-ok", ExpiresAt: t0.Add(time.Hour)},
			{Hash: "setup-old", CreatedAt: t0.Add(-2 * time.Hour), ExpiresAt: t0.Add(-time.Hour)},
			{Hash: "setup-late", ExpiresAt: t0.Add(time.Hour)},
		} {
			e := audited(t, db, func() error { return db.CreateSetupToken(ctx, st) })
			if e.Action != "setup.create" || e.Actor != "system" || strings.Contains(e.After, st.Hash) {
				t.Errorf("setup link creation audited as %s by %s: %q", e.Action, e.Actor, e.After)
			}
		}
		if got, err := db.SetupToken(ctx, "setup-old"); err != nil || !got.ExpiresAt.Equal(t0.Add(-time.Hour)) {
			t.Errorf("SetupToken = %+v, %v", got, err)
		}
		_, err := db.SetupToken(ctx, "nope")
		wantCode(t, err, tocsin.ENOTFOUND)
		wantCode(t, db.CreateSetupToken(ctx, &tocsin.SetupToken{Hash: "setup-ok", ExpiresAt: t0.Add(time.Hour)}), tocsin.ECONFLICT)
		wantCode(t, db.CreateSetupToken(ctx, &tocsin.SetupToken{Hash: "no-expiry"}), tocsin.EINVALID)

		wantCode(t, db.UseSetupToken(ctx, tocsin.System, "nope", t0, first("a@example.org")), tocsin.ENOTFOUND)
		wantCode(t, notAudited(t, db, func() error { return db.UseSetupToken(ctx, tocsin.System, "setup-old", t0, first("a@example.org")) }), tocsin.ECONFLICT)
		// A bad user leaves the token unused.
		wantCode(t, db.UseSetupToken(ctx, tocsin.System, "setup-ok", t0, first("not-an-email")), tocsin.EINVALID)

		u := first("Root@Example.org")
		actor := tocsin.Actor{Label: "setup", IP: "192.0.2.9"}
		e := audited(t, db, func() error { return db.UseSetupToken(ctx, actor, "setup-ok", t0, u) })
		wantEntry(t, e, "setup.use", userTarget(u.ID), "", "email=root@example.org roles=admin")
		if e.IP != "192.0.2.9" || strings.Contains(e.After, "argon2") || strings.Contains(e.After, "setup-ok") {
			t.Errorf("audit entry %+v", e)
		}
		got, err := db.UserByEmail(ctx, "root@example.org")
		if err != nil || !got.CreatedAt.Equal(t0) || got.Roles.String() != "admin" {
			t.Fatalf("first admin = %+v, %v", got, err)
		}

		t.Run("used twice", func(t *testing.T) {
			err := notAudited(t, db, func() error { return db.UseSetupToken(ctx, actor, "setup-ok", t0, first("b@example.org")) })
			wantCode(t, err, tocsin.ECONFLICT)
			if !strings.Contains(tocsin.ErrorMessage(err), "already used") {
				t.Errorf("message = %q", tocsin.ErrorMessage(err))
			}
		})
		t.Run("after a user exists", func(t *testing.T) {
			wantCode(t, db.UseSetupToken(ctx, actor, "setup-late", t0, first("c@example.org")), tocsin.ECONFLICT)
			wantCode(t, db.CreateSetupToken(ctx, &tocsin.SetupToken{Hash: "setup-new", ExpiresAt: t0.Add(time.Hour)}), tocsin.ECONFLICT)
		})
		if n, _ := db.CountUsers(ctx); n != 1 {
			t.Errorf("CountUsers = %d", n)
		}
	})
}
