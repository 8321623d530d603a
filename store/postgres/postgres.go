// Package postgres is the state store for several wugsync replicas sharing
// one PostgreSQL database, on pgx v5 and its connection pool.
//
// Opening a store migrates its schema with the migrations embedded in this
// package, inside one transaction that holds a transaction-level advisory
// lock (pg_advisory_xact_lock), so replicas starting together migrate once;
// a schema migrated by a newer wugsync is refused with an error wrapping
// store.ErrNewerSchema.
//
// Leases are rows updated by compare-and-set against the database clock
// (now()), the one clock every replica on every host shares; a lease's token
// grows each time the lease is newly acquired. The times the store sets on
// records (UpdatedAt, and CreatedAt when the caller leaves it zero) come from
// the database clock too, so "changed since" means the same on every
// replica.
package postgres

import (
	"context"
	"embed"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/wugsync/wugsync/store"
	"github.com/wugsync/wugsync/store/internal/sqlstore"
)

//go:embed migrations/*.sql
var migrationFS embed.FS

// migrations are the embedded schema steps, checked once.
var migrations, migrationsErr = sqlstore.LoadMigrations(migrationFS, "migrations")

// SchemaVersion is the schema version this build migrates a database to.
func SchemaVersion() int { return len(migrations) }

// migrateLockKey is the advisory lock key that serialises migrations of
// every wugsync schema in a database.
const migrateLockKey int64 = 0x77756773796e63 // "wugsync"

// copyThreshold is the batch size from which UpsertRecords copies the batch
// into a temporary table (COPY) and upserts from there in one statement;
// smaller batches send one upsert per record in a pipelined batch.
const copyThreshold = 64

// Store is a store.Store in a PostgreSQL database. It is safe for concurrent
// use.
type Store struct {
	core
	pool *pgxpool.Pool

	closeOnce sync.Once
	closeErr  error
}

// core is sqlstore.Core under a name that keeps the field unexported.
type core = sqlstore.Core

var _ store.Store = (*Store)(nil)

type config struct {
	schema   string
	maxConns int32
}

// Option configures Open.
type Option func(*config) error

// WithSchema keeps the store's tables in the named schema, created if
// missing: the pool's connections get it as their search_path. Without it
// the tables go to the first schema of the DSN's (or the server's)
// search_path.
func WithSchema(name string) Option {
	return func(c *config) error {
		if name == "" || strings.ContainsRune(name, 0) {
			return fmt.Errorf("schema name %q is not valid", name)
		}
		c.schema = name
		return nil
	}
}

// WithMaxConns sets the size of the connection pool (default: pgxpool's,
// the larger of 4 and the number of CPUs, or pool_max_conns in the DSN).
func WithMaxConns(n int) Option {
	return func(c *config) error {
		if n < 1 || n > 1<<15 {
			return fmt.Errorf("max conns %d out of range", n)
		}
		c.maxConns = int32(n)
		return nil
	}
}

// Open connects to the database at dsn (a postgres:// URL or key=value
// string, as pgx accepts), migrates the schema and returns the store.
func Open(ctx context.Context, dsn string, opts ...Option) (*Store, error) {
	if migrationsErr != nil {
		return nil, fmt.Errorf("store/postgres: embedded %w", migrationsErr)
	}
	var cfg config
	for _, o := range opts {
		if err := o(&cfg); err != nil {
			return nil, fmt.Errorf("store/postgres: open: %w", err)
		}
	}
	pcfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		// pgx's parse errors redact the password.
		return nil, fmt.Errorf("store/postgres: open: %w", err)
	}
	if cfg.schema != "" {
		pcfg.ConnConfig.RuntimeParams["search_path"] = pgx.Identifier{cfg.schema}.Sanitize()
	}
	if cfg.maxConns > 0 {
		pcfg.MaxConns = cfg.maxConns
	}
	pool, err := pgxpool.NewWithConfig(ctx, pcfg)
	if err != nil {
		return nil, fmt.Errorf("store/postgres: open %s: %w", where(pcfg, cfg.schema), err)
	}
	if err := migrate(ctx, pool, cfg.schema, migrations); err != nil {
		pool.Close()
		return nil, fmt.Errorf("store/postgres: open %s: %w", where(pcfg, cfg.schema), err)
	}
	return &Store{core: core{DB: db{pool}, D: dialect, Upsert: copyUpsert, BulkUpsert: copyThreshold}, pool: pool}, nil
}

// where names the database (and schema) for error messages, without
// credentials.
func where(c *pgxpool.Config, schema string) string {
	w := fmt.Sprintf("database %q on %s:%d", c.ConnConfig.Database, c.ConnConfig.Host, c.ConnConfig.Port)
	if schema != "" {
		w += fmt.Sprintf(", schema %q", schema)
	}
	return w
}

// migrate applies the pending migrations of ms in one transaction holding
// the migration advisory lock.
func migrate(ctx context.Context, pool *pgxpool.Pool, schema string, ms []sqlstore.Migration) error {
	return db{pool}.Write(ctx, func(c sqlstore.Conn) error {
		if _, err := c.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, migrateLockKey); err != nil {
			return fmt.Errorf("migrate: lock: %w", err)
		}
		if schema != "" {
			if _, err := c.Exec(ctx, `CREATE SCHEMA IF NOT EXISTS `+pgx.Identifier{schema}.Sanitize()); err != nil {
				return fmt.Errorf("migrate: create schema %q: %w", schema, err)
			}
		}
		return dialect.Migrate(ctx, c, ms)
	})
}

// dialect is how PostgreSQL spells Core's statements. The times the store
// sets come from the database clock (now()), the one clock every replica on
// every host shares.
var dialect = sqlstore.Dialect{
	Name:        "store/postgres",
	Placeholder: func(n int) string { return "$" + strconv.Itoa(n) },
	Time:        func(t time.Time) any { return t },
	Contains:    func(expr, param string) string { return "strpos(" + expr + ", " + param + ") > 0" },
	// Under the "C" collation lower() lowers ASCII letters only, whatever
	// the database's locale.
	LowerASCII:    func(expr string) string { return "lower(" + expr + ` COLLATE "C")` },
	JSONText:      func(col string) string { return col + "::text" },
	JSONParam:     func(p string) string { return p + "::jsonb" },
	Now:           "now()",
	Later:         func(micros string) string { return "now() + " + micros + "::bigint * interval '1 microsecond'" },
	TimeDest:      func(t *time.Time) any { return timeDest{t} },
	RunSeq:        "seq",
	CountByStatus: `SELECT status, count(*) FROM records WHERE connection = $1 GROUP BY status`,
	SchemaVersionTable: `CREATE TABLE IF NOT EXISTS schema_version (
		version    integer     NOT NULL PRIMARY KEY,
		name       text        NOT NULL,
		applied_at timestamptz NOT NULL DEFAULT now())`,
}.Prepare()

// timeDest reads a timestamptz column into a time.Time in UTC, NULL as the
// zero time, through pgx's own decoding.
type timeDest struct{ t *time.Time }

// ScanTimestamptz is how pgx hands timeDest the value.
func (d timeDest) ScanTimestamptz(v pgtype.Timestamptz) error {
	*d.t = time.Time{}
	if v.Valid {
		*d.t = v.Time.UTC()
	}
	return nil
}

// upsertFromCopy upserts the records copied into wugsync_upsert.
var upsertFromCopy = func() string {
	cols := sqlstore.WriteColumns()
	sel := slices.Clone(cols)
	sel[len(sel)-1] = "coalesce(created_at, now())" // created_at is last
	return `INSERT INTO records (` + strings.Join(cols, ", ") + `, updated_at)
	SELECT ` + strings.Join(sel, ", ") + `, now() FROM wugsync_upsert` + sqlstore.UpsertSet
}()

// copyUpsert copies recs into a temporary table and upserts them from
// there in one statement.
func copyUpsert(ctx context.Context, c sqlstore.Conn, recs []store.Record) error {
	tx := c.(conn).q.(pgx.Tx)
	cols := sqlstore.WriteColumns()
	if _, err := tx.Exec(ctx, `CREATE TEMPORARY TABLE wugsync_upsert ON COMMIT DROP AS
		SELECT `+strings.Join(cols, ", ")+` FROM records WITH NO DATA`); err != nil {
		return err
	}
	_, err := tx.CopyFrom(ctx, pgx.Identifier{"wugsync_upsert"}, cols,
		pgx.CopyFromSlice(len(recs), func(i int) ([]any, error) { return sqlstore.RecordArgs(&recs[i], dialect) }))
	if err != nil {
		return fmt.Errorf("copy: %w", err)
	}
	_, err = tx.Exec(ctx, upsertFromCopy)
	return err
}

// querier is what a pool and a transaction share.
type querier interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	SendBatch(ctx context.Context, b *pgx.Batch) pgx.BatchResults
}

// conn is the pool or a transaction as Core uses it.
type conn struct{ q querier }

// db is the pool as Core uses it.
type db struct{ pool *pgxpool.Pool }

func (c conn) Query(ctx context.Context, query string, args []any, each func(sqlstore.Scanner) error) error {
	rows, err := c.q.Query(ctx, query, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	return sqlstore.EachRow(rows, each)
}

func (c conn) QueryRow(ctx context.Context, query string, args ...any) sqlstore.Scanner {
	return c.q.QueryRow(ctx, query, args...)
}

func (c conn) Exec(ctx context.Context, query string, args ...any) (int64, error) {
	tag, err := c.q.Exec(ctx, query, args...)
	return tag.RowsAffected(), err
}

// ExecEach sends query for each argument list in one pipelined batch.
func (c conn) ExecEach(ctx context.Context, query string, n int, args func(int) ([]any, error)) error {
	if n == 0 {
		return nil
	}
	b := &pgx.Batch{}
	for i := range n {
		a, err := args(i)
		if err != nil {
			return &sqlstore.EachError{I: i, Err: err}
		}
		b.Queue(query, a...)
	}
	br := c.q.SendBatch(ctx, b)
	for i := range n {
		if _, err := br.Exec(); err != nil {
			br.Close()
			return &sqlstore.EachError{I: i, Err: err}
		}
	}
	return br.Close()
}

func (d db) Query(ctx context.Context, query string, args []any, each func(sqlstore.Scanner) error) error {
	return conn{d.pool}.Query(ctx, query, args, each)
}

func (d db) QueryRow(ctx context.Context, query string, args ...any) sqlstore.Scanner {
	return d.pool.QueryRow(ctx, query, args...)
}

func (d db) Exec(ctx context.Context, query string, args ...any) (int64, error) {
	return conn{d.pool}.Exec(ctx, query, args...)
}

func (d db) ExecEach(ctx context.Context, query string, n int, args func(int) ([]any, error)) error {
	return d.Write(ctx, func(c sqlstore.Conn) error { return c.ExecEach(ctx, query, n, args) })
}

// Write runs fn in a transaction and commits it.
func (d db) Write(ctx context.Context, fn func(sqlstore.Conn) error) error {
	return pgx.BeginFunc(ctx, d.pool, func(tx pgx.Tx) error { return fn(conn{tx}) })
}

// Close releases the leases this Store holds and closes the pool. Calls
// after the first return the first result.
func (s *Store) Close() error {
	s.closeOnce.Do(func() {
		if err := s.ReleaseHeld(5 * time.Second); err != nil {
			s.closeErr = fmt.Errorf("store/postgres: close: %w", err)
		}
		s.pool.Close()
	})
	return s.closeErr
}
