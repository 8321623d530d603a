// Package sqlite is the embedded default state store: one SQLite file, on
// modernc.org/sqlite (pure Go, no cgo).
//
// The file is in WAL mode. All writes of a Store go through one connection
// and start their transactions with BEGIN IMMEDIATE, so a writer waits for
// the file's write lock (up to the busy timeout) instead of failing half
// way; reads use a small pool of read-only connections that WAL lets run
// beside the writer. Several processes may open the same file: SQLite's file
// locks serialise their writes, and leases (see AcquireLease) tell them who
// runs a connection's export.
//
// Durability: synchronous=NORMAL by default. In WAL mode a commit has been
// written to the WAL file by the time it returns, so it survives the process
// being killed (SIGKILL included; the operating system still holds the
// write); only an operating system crash or a power loss may drop the last
// commits, never corrupting the file. WithSynchronousFull adds an fsync of
// the WAL to every commit for those cases, at the cost of one disk flush per
// transaction. wugsync can afford NORMAL: a record lost that way is found
// again by looking the address up in WhatsUp Gold before acting.
//
// Opening a file migrates its schema with the migrations embedded in this
// package; a file migrated by a newer wugsync is refused with an error
// wrapping store.ErrNewerSchema.
package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"

	"modernc.org/sqlite" // also registers the "sqlite" database/sql driver

	"github.com/wugsync/wugsync/store"
	"github.com/wugsync/wugsync/store/internal/sqlstore"
)

//go:embed migrations/*.sql
var migrationFS embed.FS

// migrations are the embedded schema steps, checked once.
var migrations, migrationsErr = sqlstore.LoadMigrations(migrationFS, "migrations")

// SchemaVersion is the schema version this build migrates a file to.
func SchemaVersion() int { return len(migrations) }

// Store is a store.Store in one SQLite file. It is safe for concurrent use.
type Store struct {
	core

	w     *sql.DB // one connection; every write goes through it
	r     *sql.DB // read-only connections
	reads stmtCache

	closeOnce sync.Once
	closeErr  error
}

// core is sqlstore.Core under a name that keeps the field unexported.
type core = sqlstore.Core

var _ store.Store = (*Store)(nil)

type config struct {
	busyTimeout time.Duration
	syncFull    bool
	readers     int
}

// Option configures Open.
type Option func(*config) error

// WithBusyTimeout sets how long a write waits for another process's write
// lock on the file before failing (default 5s).
func WithBusyTimeout(d time.Duration) Option {
	return func(c *config) error {
		if d < 0 {
			return fmt.Errorf("busy timeout %v is negative", d)
		}
		c.busyTimeout = d
		return nil
	}
}

// WithSynchronousFull makes every commit fsync the WAL (PRAGMA
// synchronous=FULL), so commits also survive a power loss or an operating
// system crash. The default, NORMAL, survives the process being killed.
func WithSynchronousFull() Option {
	return func(c *config) error {
		c.syncFull = true
		return nil
	}
}

// WithReaders sets the number of read-only connections (default: the number
// of CPUs, at least 2).
func WithReaders(n int) Option {
	return func(c *config) error {
		if n < 1 {
			return fmt.Errorf("readers %d: need at least one", n)
		}
		c.readers = n
		return nil
	}
}

// Open opens (creating if needed) the SQLite store in the file at path and
// migrates its schema. It fails with an error wrapping store.ErrNewerSchema
// if a newer wugsync migrated the file.
func Open(ctx context.Context, path string, opts ...Option) (*Store, error) {
	if migrationsErr != nil {
		return nil, fmt.Errorf("store/sqlite: embedded %w", migrationsErr)
	}
	cfg := config{busyTimeout: 5 * time.Second, readers: max(2, runtime.NumCPU())}
	for _, o := range opts {
		if err := o(&cfg); err != nil {
			return nil, fmt.Errorf("store/sqlite: open %s: %w", path, err)
		}
	}
	switch {
	case path == "":
		return nil, errors.New("store/sqlite: open: path is empty")
	case path == ":memory:" || strings.HasPrefix(path, "file:") || strings.Contains(path, "?"):
		return nil, fmt.Errorf("store/sqlite: open %q: want a plain file path (use store/memory for a store in memory)", path)
	}

	syncMode := "NORMAL"
	if cfg.syncFull {
		syncMode = "FULL"
	}
	base := fmt.Sprintf("%s?_busy_timeout=%d&_foreign_keys=on", path, cfg.busyTimeout.Milliseconds())
	w, err := sql.Open("sqlite", base+"&_journal_mode=WAL&_synchronous="+syncMode+"&_txlock=immediate")
	if err != nil {
		return nil, fmt.Errorf("store/sqlite: open %s: %w", path, err)
	}
	w.SetMaxOpenConns(1)
	w.SetMaxIdleConns(1)
	w.SetConnMaxLifetime(0)
	w.SetConnMaxIdleTime(0)
	s := &Store{w: w}
	s.core = core{DB: db{s}, D: dialect}
	if err := s.migrateWhileBusy(ctx, cfg.busyTimeout); err != nil {
		w.Close()
		return nil, fmt.Errorf("store/sqlite: open %s: %w", path, err)
	}
	// Readers are opened after the writer switched the file to WAL.
	r, err := sql.Open("sqlite", base+"&_query_only=on")
	if err != nil {
		w.Close()
		return nil, fmt.Errorf("store/sqlite: open %s: %w", path, err)
	}
	r.SetMaxOpenConns(cfg.readers)
	r.SetMaxIdleConns(cfg.readers)
	s.r = r
	s.reads.db = r
	return s, nil
}

// stmtCache keeps the read statements prepared: parsing a query costs as
// much as running it on a small page. Records builds one query text per
// combination of filters and page size, so the cache is bounded; queries
// past the bound are prepared each time.
type stmtCache struct {
	mu sync.Mutex
	db *sql.DB
	m  map[string]*sql.Stmt
}

const maxCachedStmts = 128

// query runs a read query through a cached statement.
func (c *stmtCache) query(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	st, err := c.stmt(ctx, query)
	if err != nil {
		return nil, err
	}
	if st == nil {
		return c.db.QueryContext(ctx, query, args...)
	}
	return st.QueryContext(ctx, args...)
}

// queryRow is query for a single row.
func (c *stmtCache) queryRow(ctx context.Context, query string, args ...any) *sql.Row {
	if st, err := c.stmt(ctx, query); err == nil && st != nil {
		return st.QueryRowContext(ctx, args...)
	}
	return c.db.QueryRowContext(ctx, query, args...)
}

// stmt returns the prepared statement for query, or nil when the cache is
// full.
func (c *stmtCache) stmt(ctx context.Context, query string) (*sql.Stmt, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if st, ok := c.m[query]; ok {
		return st, nil
	}
	if len(c.m) >= maxCachedStmts {
		return nil, nil
	}
	st, err := c.db.PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}
	if c.m == nil {
		c.m = make(map[string]*sql.Stmt)
	}
	c.m[query] = st
	return st, nil
}

// close closes the cached statements.
func (c *stmtCache) close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	var errs []error
	for _, st := range c.m {
		errs = append(errs, st.Close())
	}
	c.m = nil
	return errors.Join(errs...)
}

// migrateWhileBusy runs migrate until it is not refused as busy, for up to
// the busy timeout. Processes opening a new file together race to switch
// it to WAL, and SQLite may answer a loser that already holds a read lock
// SQLITE_BUSY at once, without waiting on its busy handler (waiting could
// deadlock), so Open waits here instead.
func (s *Store) migrateWhileBusy(ctx context.Context, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		err := s.migrate(ctx, migrations)
		var e *sqlite.Error
		if !errors.As(err, &e) || e.Code()&0xff != 5 || time.Now().After(deadline) { // 5: SQLITE_BUSY
			return err
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// migrate applies the pending migrations of ms in one write transaction,
// so two processes opening a new file at once migrate it once.
func (s *Store) migrate(ctx context.Context, ms []sqlstore.Migration) error {
	return s.DB.Write(ctx, func(conn sqlstore.Conn) error { return dialect.Migrate(ctx, conn, ms) })
}

// dialect is how SQLite spells Core's statements. Times are microseconds
// since the epoch, stamped by this host's clock, which every process
// sharing the file shares.
var dialect = sqlstore.Dialect{
	Name:        "store/sqlite",
	Placeholder: func(n int) string { return "?" + strconv.Itoa(n) },
	Time:        func(t time.Time) any { return t.UnixMicro() },
	Contains:    func(expr, param string) string { return "instr(" + expr + ", " + param + ") > 0" },
	// SQLite's own lower() lowers ASCII letters only.
	LowerASCII: func(expr string) string { return "lower(" + expr + ")" },
	JSONText:   func(col string) string { return col },
	JSONParam:  func(p string) string { return p },
	Clock:      time.Now,
	TimeDest:   sqlstore.MicrosDest,
	RunSeq:     "rowid",
	// Each status is counted by a range count of records_by_status
	// (connection, status): the index entries are counted without being
	// read, about twice as fast as grouping them by the status they hold.
	CountByStatus: func() string {
		parts := make([]string, len(store.Statuses))
		for i, st := range store.Statuses {
			parts[i] = "SELECT '" + string(st) + "', (SELECT count(*) FROM records WHERE connection = ?1 AND status = '" + string(st) + "')"
		}
		return strings.Join(parts, " UNION ALL ")
	}(),
	SchemaVersionTable: `CREATE TABLE IF NOT EXISTS schema_version (
		version    INTEGER NOT NULL PRIMARY KEY,
		name       TEXT    NOT NULL,
		applied_at INTEGER NOT NULL)`,
}.Prepare()

// db is the file as Core uses it: reads through the read-only pool's
// cached statements, writes through the one writer connection.
type db struct{ s *Store }

// conn is a write transaction as Core uses it.
type conn struct{ tx *sql.Tx }

func (d db) Query(ctx context.Context, query string, args []any, each func(sqlstore.Scanner) error) error {
	rows, err := d.s.reads.query(ctx, query, args...)
	return eachRow(rows, err, each)
}

func (d db) QueryRow(ctx context.Context, query string, args ...any) sqlstore.Scanner {
	return d.s.reads.queryRow(ctx, query, args...)
}

func (d db) Exec(ctx context.Context, query string, args ...any) (int64, error) {
	return affected(d.s.w.ExecContext(ctx, query, args...))
}

func (d db) ExecEach(ctx context.Context, query string, n int, args func(int) ([]any, error)) error {
	return d.Write(ctx, func(c sqlstore.Conn) error { return c.ExecEach(ctx, query, n, args) })
}

// Write runs fn in a write transaction (BEGIN IMMEDIATE) and commits it.
func (d db) Write(ctx context.Context, fn func(sqlstore.Conn) error) error {
	tx, err := d.s.w.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	if err := fn(conn{tx}); err != nil {
		tx.Rollback()
		return err
	}
	return tx.Commit()
}

func (c conn) Query(ctx context.Context, query string, args []any, each func(sqlstore.Scanner) error) error {
	rows, err := c.tx.QueryContext(ctx, query, args...)
	return eachRow(rows, err, each)
}

func (c conn) QueryRow(ctx context.Context, query string, args ...any) sqlstore.Scanner {
	return c.tx.QueryRowContext(ctx, query, args...)
}

func (c conn) Exec(ctx context.Context, query string, args ...any) (int64, error) {
	return affected(c.tx.ExecContext(ctx, query, args...))
}

// ExecEach runs query, prepared once, for each argument list.
func (c conn) ExecEach(ctx context.Context, query string, n int, args func(int) ([]any, error)) error {
	if n == 0 {
		return nil
	}
	stmt, err := c.tx.PrepareContext(ctx, query)
	if err != nil {
		return err
	}
	defer stmt.Close()
	for i := range n {
		a, err := args(i)
		if err == nil {
			_, err = stmt.ExecContext(ctx, a...)
		}
		if err != nil {
			return &sqlstore.EachError{I: i, Err: err}
		}
	}
	return nil
}

// eachRow calls each for every row of a query's result, then closes it.
func eachRow(rows *sql.Rows, err error, each func(sqlstore.Scanner) error) error {
	if err != nil {
		return err
	}
	defer rows.Close()
	return sqlstore.EachRow(rows, each)
}

// affected returns the rows a statement changed.
func affected(res sql.Result, err error) (int64, error) {
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

// Close releases the leases this Store holds and closes the file. Calls
// after the first return the first result.
func (s *Store) Close() error {
	s.closeOnce.Do(func() {
		err := s.ReleaseHeld(5 * time.Second)
		s.closeErr = errors.Join(err, s.reads.close(), s.r.Close(), s.w.Close())
		if s.closeErr != nil {
			s.closeErr = fmt.Errorf("store/sqlite: close: %w", s.closeErr)
		}
	})
	return s.closeErr
}
