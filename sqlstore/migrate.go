package sqlstore

import (
	"context"
	"embed"
	"fmt"
	"io/fs"
	"math"
	"path"
	"sort"
	"strconv"
	"strings"
	"time"
)

//go:embed migrations
var migrationFiles embed.FS

// migrateLock is the PostgreSQL advisory lock key that serializes
// migrations across instances starting at once.
const migrateLock int64 = 0x746f6373696e_01 // "tocsin" 01

type migration struct {
	version int
	name    string // file name without .sql, such as "0001_init"
	sql     string
}

// migrationCode is the Go half of the migrations that have one, run after
// their SQL in the same transaction: for data SQL alone cannot convert.
var migrationCode = map[int]func(context.Context, conn) error{
	18: weeksFromDays,
	19: blocksBySixHours,
}

// migrations returns the embedded migrations of a dialect in order.
func migrations(dialect string) ([]migration, error) {
	dir := "migrations/" + dialect
	entries, err := fs.ReadDir(migrationFiles, dir)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: read migrations: %w", err)
	}
	var out []migration
	for _, e := range entries {
		name, ok := strings.CutSuffix(e.Name(), ".sql")
		if !ok {
			continue
		}
		num, _, _ := strings.Cut(name, "_")
		v, err := strconv.Atoi(num)
		if err != nil || v <= 0 {
			return nil, fmt.Errorf("sqlstore: migration %s/%s does not start with a version number", dir, e.Name())
		}
		b, err := fs.ReadFile(migrationFiles, path.Join(dir, e.Name()))
		if err != nil {
			return nil, fmt.Errorf("sqlstore: read migration: %w", err)
		}
		out = append(out, migration{version: v, name: name, sql: string(b)})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].version < out[j].version })
	for i := 1; i < len(out); i++ {
		if out[i].version == out[i-1].version {
			return nil, fmt.Errorf("sqlstore: two migrations share version %d", out[i].version)
		}
	}
	return out, nil
}

// createMigrationsTable is the one table every schema version has; its
// applied_at follows each dialect's time type.
var createMigrationsTable = map[string]string{
	DialectSQLite: `CREATE TABLE IF NOT EXISTS schema_migrations (
	version    INTEGER PRIMARY KEY,
	name       TEXT    NOT NULL,
	applied_at INTEGER NOT NULL
)`,
	DialectPostgres: `CREATE TABLE IF NOT EXISTS schema_migrations (
	version    INTEGER PRIMARY KEY,
	name       TEXT    NOT NULL,
	applied_at TIMESTAMPTZ NOT NULL
)`,
}

// Migrate applies the embedded migrations the database lacks, each in its
// own transaction, and returns the names of those it applied.
func (db *DB) Migrate(ctx context.Context) ([]string, error) {
	return db.migrateTo(ctx, math.MaxInt)
}

// migrateTo applies the migrations up to version last (tests stop short of
// the newest to check how a migration converts data).
func (db *DB) migrateTo(ctx context.Context, last int) ([]string, error) {
	all, err := migrations(db.dialect)
	if err != nil {
		return nil, err
	}
	err = db.update(ctx, func(tx conn) error {
		if err := tx.lockMigrations(ctx); err != nil {
			return err
		}
		_, err := tx.exec(ctx, createMigrationsTable[db.dialect])
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("create schema_migrations: %w", err)
	}
	if err := db.checkVersion(ctx); err != nil {
		return nil, err
	}
	var applied []string
	for _, m := range all {
		if m.version > last {
			break
		}
		done := false
		err := db.update(ctx, func(tx conn) error {
			// Another instance may have applied it since we looked.
			if err := tx.lockMigrations(ctx); err != nil {
				return err
			}
			var n int
			if err := tx.queryRow(ctx, `SELECT COUNT(*) FROM schema_migrations WHERE version = ?`, m.version).Scan(&n); err != nil {
				return err
			}
			if n > 0 {
				done = true
				return nil
			}
			if _, err := tx.exec(ctx, m.sql); err != nil {
				return err
			}
			if code := migrationCode[m.version]; code != nil {
				if err := code(ctx, tx); err != nil {
					return err
				}
			}
			_, err := tx.exec(ctx, `INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)`,
				m.version, m.name, time.Now())
			return err
		})
		if err != nil {
			return applied, fmt.Errorf("apply migration %s: %w", m.name, err)
		}
		if !done {
			applied = append(applied, m.name)
		}
	}
	return applied, nil
}

func (c conn) lockMigrations(ctx context.Context) error {
	if c.dialect != DialectPostgres {
		return nil // the write transaction already holds the only write lock
	}
	_, err := c.exec(ctx, `SELECT pg_advisory_xact_lock(?)`, migrateLock)
	return err
}

// checkVersion refuses a database migrated by a newer tocsin: its schema may
// have changed in ways this binary would corrupt.
func (db *DB) checkVersion(ctx context.Context) error {
	all, err := migrations(db.dialect)
	if err != nil {
		return err
	}
	known := 0
	if len(all) > 0 {
		known = all[len(all)-1].version
	}
	c := db.read()
	var exists bool
	switch db.dialect {
	case DialectSQLite:
		var n int
		err = c.queryRow(ctx, `SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'`).Scan(&n)
		exists = n > 0
	default:
		err = c.queryRow(ctx, `SELECT to_regclass('schema_migrations') IS NOT NULL`).Scan(&exists)
	}
	if err != nil {
		return fmt.Errorf("sqlstore: read schema version: %w", err)
	}
	if !exists {
		return nil
	}
	var have int
	if err := c.queryRow(ctx, `SELECT COALESCE(MAX(version), 0) FROM schema_migrations`).Scan(&have); err != nil {
		return fmt.Errorf("sqlstore: read schema version: %w", err)
	}
	if have > known {
		return fmt.Errorf("database schema is at version %d but this tocsin binary knows only up to %d: upgrade tocsin (or point it at another database)", have, known)
	}
	return nil
}
