// Package sqlstore implements tocsin.Store over database/sql, with SQLite
// (modernc.org/sqlite, the default) and PostgreSQL (pgx) dialects. Queries are
// written once with ? placeholders and rebound to $n for PostgreSQL.
package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" driver
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/tocsin-org/tocsin"
)

// Dialect names returned by (*DB).Dialect.
const (
	DialectSQLite   = "sqlite"
	DialectPostgres = "postgres"
)

// DB is a tocsin.Store. With SQLite, writes go through a pool of exactly one
// connection (so write transactions queue in Go rather than fight over the
// file lock) and reads through a pool of query-only connections. With
// PostgreSQL both are the same pool.
type DB struct {
	dialect string
	w       *sql.DB // write transactions
	r       *sql.DB // reads outside transactions
	reads   *stmtCache
	clock   func() time.Time // nil: time.Now
	pager   tocsin.PageComposer
}

// SetClock makes the store date what it writes by clock instead of the
// system's, so that a test can replay an incident at a simulated time
// (a Friday at 17:40) with the server and the workers on the same clock.
// Call it before any use.
func (db *DB) SetClock(clock func() time.Time) { db.clock = clock }

// now is the time the store writes: UTC, to the microsecond both
// databases keep.
func (db *DB) now() time.Time {
	t := time.Now()
	if db.clock != nil {
		t = db.clock()
	}
	return t.UTC().Truncate(time.Microsecond)
}

var _ tocsin.Store = (*DB)(nil)

// Open connects to database without migrating it: "" is the SQLite file
// tocsin.db in dataDir (created 0700 if missing), "sqlite:PATH" a SQLite file
// elsewhere, and a postgres:// or postgresql:// URL a PostgreSQL database.
// Open refuses a database whose schema is newer than this binary knows.
func Open(ctx context.Context, database, dataDir string) (*DB, error) {
	var (
		db  *DB
		err error
	)
	switch {
	case database == "":
		if dataDir == "" {
			return nil, errors.New("sqlstore: no database given and no data directory to put tocsin.db in")
		}
		if err := os.MkdirAll(dataDir, 0o700); err != nil {
			return nil, fmt.Errorf("sqlstore: create data directory: %w", err)
		}
		db, err = openSQLite(ctx, filepath.Join(dataDir, "tocsin.db"))
	case strings.HasPrefix(database, "sqlite:"):
		path := strings.TrimPrefix(database, "sqlite:")
		path = strings.TrimPrefix(path, "//")
		db, err = openSQLite(ctx, path)
	case strings.HasPrefix(database, "postgres://"), strings.HasPrefix(database, "postgresql://"):
		db, err = openPostgres(ctx, database)
	default:
		scheme, _, _ := strings.Cut(database, ":")
		return nil, fmt.Errorf("sqlstore: unknown database %q: expected empty (SQLite in the data directory), sqlite:PATH or postgres://…", scheme)
	}
	if err != nil {
		return nil, err
	}
	if err := db.checkVersion(ctx); err != nil {
		db.Close()
		return nil, err
	}
	return db, nil
}

func openSQLite(ctx context.Context, path string) (*DB, error) {
	if path == "" || strings.ContainsAny(path, "?#") || path == ":memory:" {
		return nil, fmt.Errorf("sqlstore: unusable SQLite path %q (a file path without ? or #)", path)
	}
	common := "_pragma=busy_timeout(5000)&_pragma=foreign_keys(1)"
	w, err := sql.Open("sqlite", "file:"+path+"?"+common+"&_pragma=journal_mode(WAL)&_pragma=synchronous(NORMAL)&_txlock=immediate")
	if err != nil {
		return nil, fmt.Errorf("sqlstore: open %s: %w", path, err)
	}
	w.SetMaxOpenConns(1)
	w.SetConnMaxIdleTime(0)
	// The writer creates the file and switches it to WAL before any reader opens it.
	if err := w.PingContext(ctx); err != nil {
		w.Close()
		return nil, fmt.Errorf("sqlstore: open %s: %w", path, err)
	}
	r, err := sql.Open("sqlite", "file:"+path+"?"+common+"&_pragma=query_only(1)")
	if err != nil {
		w.Close()
		return nil, fmt.Errorf("sqlstore: open %s: %w", path, err)
	}
	r.SetMaxOpenConns(max(4, runtime.GOMAXPROCS(0)))
	r.SetConnMaxIdleTime(5 * time.Minute)
	return &DB{dialect: DialectSQLite, w: w, r: r, reads: &stmtCache{db: r}}, nil
}

func openPostgres(ctx context.Context, url string) (*DB, error) {
	p, err := sql.Open("pgx", url)
	if err != nil {
		// pgx's parse errors can quote the URL; do not repeat a password.
		return nil, errors.New("sqlstore: cannot parse the PostgreSQL URL")
	}
	p.SetMaxOpenConns(16)
	p.SetConnMaxIdleTime(5 * time.Minute)
	if err := p.PingContext(ctx); err != nil {
		p.Close()
		return nil, fmt.Errorf("sqlstore: connect to PostgreSQL: %w", err)
	}
	return &DB{dialect: DialectPostgres, w: p, r: p, reads: &stmtCache{db: p}}, nil
}

// Dialect returns "sqlite" or "postgres".
func (db *DB) Dialect() string { return db.dialect }

// Ping checks that the database answers.
func (db *DB) Ping(ctx context.Context) error {
	if err := db.r.PingContext(ctx); err != nil {
		return fmt.Errorf("sqlstore: ping: %w", err)
	}
	return nil
}

// Close closes every connection.
func (db *DB) Close() error {
	err := errors.Join(db.reads.close(), db.w.Close())
	if db.r != db.w {
		err = errors.Join(err, db.r.Close())
	}
	return err
}

// querier is what *sql.DB and *sql.Tx have in common.
type querier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// conn runs queries written with ? placeholders against one dialect,
// rebinding placeholders and converting time arguments on the way.
type conn struct {
	q       querier
	dialect string
	now     func() time.Time // the store's clock (DB.now)
}

func (c conn) exec(ctx context.Context, query string, args ...any) (sql.Result, error) {
	return c.q.ExecContext(ctx, c.rebind(query), c.args(args)...)
}

func (c conn) query(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	return c.q.QueryContext(ctx, c.rebind(query), c.args(args)...)
}

func (c conn) queryRow(ctx context.Context, query string, args ...any) *sql.Row {
	return c.q.QueryRowContext(ctx, c.rebind(query), c.args(args)...)
}

// rowScanner is what *sql.Row and *sql.Rows have in common.
type rowScanner interface{ Scan(dest ...any) error }

// list runs a query and scans each row with scan.
func list[T any](ctx context.Context, c conn, scan func(rowScanner) (T, error), query string, args ...any) ([]T, error) {
	rows, err := c.query(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []T
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

// one reads the row query selects with scan and completes it with fill
// (its roles, updates, decisions…); no row is notFound.
func one[T any](ctx context.Context, c conn, scan func(rowScanner) (T, error), fill func(context.Context, []T) error,
	notFound error, query string, args ...any) (T, error) {
	var zero T
	v, err := scan(c.queryRow(ctx, query, args...))
	if errors.Is(err, sql.ErrNoRows) {
		return zero, notFound
	}
	if err != nil {
		return zero, err
	}
	if err := fill(ctx, []T{v}); err != nil {
		return zero, err
	}
	return v, nil
}

// execOne runs a statement that must change exactly one row; it returns
// notFound otherwise.
func (c conn) execOne(ctx context.Context, notFound error, query string, args ...any) error {
	res, err := c.exec(ctx, query, args...)
	if err != nil {
		return err
	}
	n, err := res.RowsAffected()
	if err != nil {
		return err
	}
	if n == 0 {
		return notFound
	}
	return nil
}

// rebind turns ? into $1, $2… for PostgreSQL. Query texts in this package
// never hold a ? inside a string literal.
func (c conn) rebind(q string) string {
	if c.dialect != DialectPostgres || !strings.Contains(q, "?") {
		return q
	}
	var b strings.Builder
	b.Grow(len(q) + 16)
	n := 0
	for i := 0; i < len(q); i++ {
		if q[i] == '?' {
			n++
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(n))
			continue
		}
		b.WriteByte(q[i])
	}
	return b.String()
}

// args stores times in UTC at microsecond precision: INTEGER microseconds
// since the epoch in SQLite, timestamptz in PostgreSQL.
func (c conn) args(args []any) []any {
	for i, a := range args {
		switch v := a.(type) {
		case time.Time:
			args[i] = c.timeArg(v)
		case *time.Time:
			if v == nil {
				args[i] = nil
			} else {
				args[i] = c.timeArg(*v)
			}
		}
	}
	return args
}

func (c conn) timeArg(t time.Time) any {
	t = t.UTC().Truncate(time.Microsecond)
	if c.dialect == DialectSQLite {
		return t.UnixMicro()
	}
	return t
}

// read returns a conn for reads outside a transaction.
func (db *DB) read() conn { return conn{q: db.reads, dialect: db.dialect, now: db.now} }

// update runs fn in a write transaction and commits if it returns nil. In
// SQLite the transaction begins IMMEDIATE on the only writer connection, so
// write transactions are serialized.
func (db *DB) update(ctx context.Context, fn func(tx conn) error) error {
	sqlTx, err := db.w.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("sqlstore: begin: %w", err)
	}
	defer sqlTx.Rollback()
	if err := fn(conn{q: sqlTx, dialect: db.dialect, now: db.now}); err != nil {
		return wrapErr(err)
	}
	if err := sqlTx.Commit(); err != nil {
		return wrapErr(fmt.Errorf("commit: %w", err))
	}
	return nil
}

// wrapErr leaves domain errors alone, turns unique-constraint violations
// that slipped past an explicit check (a race in PostgreSQL) into
// ECONFLICT, and prefixes everything else with the package name.
func wrapErr(err error) error {
	var te *tocsin.Error
	switch {
	case err == nil:
		return nil
	case errors.As(err, &te):
		return err
	case isUniqueViolation(err):
		return tocsin.Errorf(tocsin.ECONFLICT, "this already exists; reload and try again")
	}
	return fmt.Errorf("sqlstore: %w", err)
}

func isUniqueViolation(err error) bool {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return pe.Code == "23505"
	}
	var se *sqlite.Error
	if errors.As(err, &se) {
		return se.Code() == sqlite3.SQLITE_CONSTRAINT_UNIQUE || se.Code() == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY
	}
	return false
}

// timeScan scans a time stored by either dialect into a UTC time.Time.
type timeScan struct{ t *time.Time }

func (s timeScan) Scan(src any) error {
	switch v := src.(type) {
	case int64:
		*s.t = time.UnixMicro(v).UTC()
	case time.Time:
		*s.t = v.UTC()
	default:
		return fmt.Errorf("cannot scan %T into a time", src)
	}
	return nil
}

// nullTimeScan scans a nullable time; NULL leaves *t nil.
type nullTimeScan struct{ t **time.Time }

func (s nullTimeScan) Scan(src any) error {
	if src == nil {
		*s.t = nil
		return nil
	}
	var t time.Time
	if err := (timeScan{&t}).Scan(src); err != nil {
		return err
	}
	*s.t = &t
	return nil
}

// rolesScan scans a comma-separated role list.
type rolesScan struct{ r *tocsin.Roles }

func (s rolesScan) Scan(src any) error {
	var text string
	switch v := src.(type) {
	case string:
		text = v
	case []byte:
		text = string(v)
	default:
		return fmt.Errorf("cannot scan %T into roles", src)
	}
	r, err := tocsin.ParseRoles(text)
	if err != nil {
		return fmt.Errorf("stored roles %q: %w", text, err)
	}
	*s.r = r
	return nil
}

// nullBytes stores an empty slice as NULL.
func nullBytes(b []byte) any {
	if len(b) == 0 {
		return nil
	}
	return b
}

// limitOr returns n when it lies in 1..most, def otherwise.
func limitOr(n, def, most int) int {
	if n <= 0 {
		return def
	}
	return min(n, most)
}
