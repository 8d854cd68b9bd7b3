package sqlstore

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/tocsin-org/tocsin"
	"github.com/tocsin-org/tocsin/internal/testpeer"
)

// The suite runs against SQLite always, and against PostgreSQL when
// TOCSIN_TEST_POSTGRES holds a URL such as
// postgres://postgres@127.0.0.1:5432/test?sslmode=disable. Each PostgreSQL
// test gets a schema of its own, dropped when it ends.

// forEachDatabase runs fn once per backend with a database string for Open
// that points at a fresh, empty database.
func forEachDatabase(t *testing.T, fn func(t *testing.T, database string)) {
	t.Helper()
	t.Run("sqlite", func(t *testing.T) {
		fn(t, "sqlite:"+filepath.Join(t.TempDir(), "tocsin.db"))
	})
	t.Run("postgres", func(t *testing.T) {
		fn(t, testpeer.PostgresSchema(t))
	})
}

// forEachStore runs fn once per backend with an opened, migrated store.
func forEachStore(t *testing.T, fn func(t *testing.T, db *DB)) {
	t.Helper()
	forEachDatabase(t, func(t *testing.T, database string) {
		fn(t, openTest(t, database, true))
	})
}

func openTest(t *testing.T, database string, migrate bool) *DB {
	t.Helper()
	ctx := context.Background()
	db, err := Open(ctx, database, "")
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { db.Close() })
	if migrate {
		if _, err := db.Migrate(ctx); err != nil {
			t.Fatalf("Migrate: %v", err)
		}
	}
	return db
}

// raw runs SQL behind the store's back (to tamper with rows in tests).
func raw(t *testing.T, db *DB, query string, args ...any) {
	t.Helper()
	if _, err := (conn{q: db.w, dialect: db.dialect}).exec(context.Background(), query, args...); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
}

func wantCode(t *testing.T, err error, code string) {
	t.Helper()
	if got := tocsin.ErrorCode(err); got != code {
		t.Fatalf("error code = %q (%v), want %q", got, err, code)
	}
}

var admin = tocsin.Actor{UserID: 1, Label: "admin@example.org", IP: "192.0.2.1"}

// newUser creates a user with the given e-mail and roles.
func newUser(t *testing.T, db *DB, email string, roles ...tocsin.Role) *tocsin.User {
	t.Helper()
	if len(roles) == 0 {
		roles = tocsin.Roles{tocsin.RoleViewer}
	}
	u := &tocsin.User{Email: email, Name: "Test", Roles: roles, PasswordHash: "$argon2id$v=19$secret-hash"}
	if err := db.CreateUser(context.Background(), tocsin.CLI, u); err != nil {
		t.Fatalf("CreateUser %s: %v", email, err)
	}
	return u
}

// audited runs fn, which must succeed and append exactly one audit entry,
// and returns that entry after checking the chain is still intact.
func audited(t *testing.T, db *DB, fn func() error) *tocsin.AuditEntry {
	t.Helper()
	ctx := context.Background()
	before, brk, err := db.VerifyAudit(ctx)
	if err != nil || brk != nil {
		t.Fatalf("VerifyAudit before: %v %v", err, brk)
	}
	if err := fn(); err != nil {
		t.Fatalf("mutation: %v", err)
	}
	after, brk, err := db.VerifyAudit(ctx)
	if err != nil || brk != nil {
		t.Fatalf("VerifyAudit after: %v %v", err, brk)
	}
	if after != before+1 {
		t.Fatalf("audit entries %d → %d, want exactly one more", before, after)
	}
	es, err := db.AuditEntries(ctx, tocsin.AuditFilter{Limit: 1})
	if err != nil || len(es) != 1 {
		t.Fatalf("AuditEntries: %v (%d entries)", err, len(es))
	}
	return es[0]
}

// notAudited runs fn and checks the audit log did not grow.
func notAudited(t *testing.T, db *DB, fn func() error) error {
	t.Helper()
	ctx := context.Background()
	before, _, _ := db.VerifyAudit(ctx)
	err := fn()
	after, _, _ := db.VerifyAudit(ctx)
	if after != before {
		t.Fatalf("audit entries %d → %d, want none added", before, after)
	}
	return err
}

func wantEntry(t *testing.T, e *tocsin.AuditEntry, action, target, before, after string) {
	t.Helper()
	if e.Action != action || e.Target != target || e.Before != before || e.After != after {
		t.Fatalf("audit entry = %s %s %q → %q, want %s %s %q → %q",
			e.Action, e.Target, e.Before, e.After, action, target, before, after)
	}
}

// now is a test clock reading truncated like stored times.
func now() time.Time { return time.Now().UTC().Truncate(time.Microsecond) }

func TestOpenRejectsUnknownDatabase(t *testing.T) {
	for _, database := range []string{"mysql://root@localhost/tocsin", "sqlite:", "sqlite:/tmp/x.db?mode=ro"} {
		if _, err := Open(context.Background(), database, t.TempDir()); err == nil {
			t.Errorf("Open(%q) succeeded", database)
		}
	}
}

func TestOpenDefaultDataDir(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	db, err := Open(context.Background(), "", dir)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if db.Dialect() != DialectSQLite {
		t.Errorf("Dialect = %q", db.Dialect())
	}
	fi, err := os.Stat(dir)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o700 {
		t.Errorf("data dir mode = %v, want 0700", fi.Mode().Perm())
	}
	if _, err := os.Stat(filepath.Join(dir, "tocsin.db")); err != nil {
		t.Errorf("tocsin.db not created: %v", err)
	}
	if err := db.Ping(context.Background()); err != nil {
		t.Errorf("Ping: %v", err)
	}
	var mode string
	if err := db.w.QueryRow("PRAGMA journal_mode").Scan(&mode); err != nil || mode != "wal" {
		t.Errorf("journal_mode = %q, %v; want wal", mode, err)
	}
	var fk int
	if err := db.r.QueryRow("PRAGMA foreign_keys").Scan(&fk); err != nil || fk != 1 {
		t.Errorf("foreign_keys = %d, %v; want 1", fk, err)
	}
}

func TestRebind(t *testing.T) {
	c := conn{dialect: DialectPostgres}
	if got := c.rebind(`SELECT ? , ?,?`); got != `SELECT $1 , $2,$3` {
		t.Errorf("rebind = %q", got)
	}
	c.dialect = DialectSQLite
	if got := c.rebind(`SELECT ?`); got != `SELECT ?` {
		t.Errorf("sqlite rebind = %q", got)
	}
}
