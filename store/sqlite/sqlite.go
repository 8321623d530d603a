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
	"iter"
	"runtime"
	"slices"
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
	w     *sql.DB // one connection; every write goes through it
	r     *sql.DB // read-only connections
	reads stmtCache
	now   func() time.Time
	held  sqlstore.Held

	closeOnce sync.Once
	closeErr  error
}

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
	s := &Store{w: w, now: time.Now}
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
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_version (
		version    INTEGER NOT NULL PRIMARY KEY,
		name       TEXT    NOT NULL,
		applied_at INTEGER NOT NULL)`); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	var have int
	if err := tx.QueryRowContext(ctx, `SELECT coalesce(max(version), 0) FROM schema_version`).Scan(&have); err != nil {
		return fmt.Errorf("migrate: read schema version: %w", err)
	}
	if have > len(ms) {
		return sqlstore.NewerSchemaError(have, len(ms))
	}
	for _, m := range ms[have:] {
		if _, err := tx.ExecContext(ctx, m.SQL); err != nil {
			return fmt.Errorf("migrate to version %d (%s): %w", m.Version, m.Name, err)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO schema_version (version, name, applied_at) VALUES (?, ?, ?)`,
			m.Version, m.Name, s.now().UnixMicro()); err != nil {
			return fmt.Errorf("migrate to version %d: %w", m.Version, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("migrate: commit: %w", err)
	}
	return nil
}

// micros renders a time as stored: microseconds since the epoch, or NULL
// for the zero time.
func micros(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UnixMicro()
}

// fromMicros reads what micros stored.
func fromMicros(v sql.NullInt64) time.Time {
	if !v.Valid {
		return time.Time{}
	}
	return time.UnixMicro(v.Int64).UTC()
}

var dialect = sqlstore.Dialect{
	Placeholder: func(int) string { return "?" },
	Time:        func(t time.Time) any { return t.UnixMicro() },
	Contains:    func(expr, param string) string { return "instr(" + expr + ", " + param + ") > 0" },
	// SQLite's own lower() lowers ASCII letters only.
	LowerASCII: func(expr string) string { return "lower(" + expr + ")" },
}

const recordColumns = `connection, vrf, address, object_kind, object_id, object_name, status, reason,
	wug_device_id, scan_id, scan_state, scan_discovered, fingerprint, attempts, last_error,
	created_at, updated_at, exported_at, scan_triggered_at, scan_completed_at, adopted, written`

const upsertRecord = `INSERT INTO records (` + recordColumns + `)
	VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
	ON CONFLICT (connection, vrf, address) DO UPDATE SET
		object_kind = excluded.object_kind,
		object_id = excluded.object_id,
		object_name = excluded.object_name,
		status = excluded.status,
		reason = excluded.reason,
		wug_device_id = excluded.wug_device_id,
		scan_id = excluded.scan_id,
		scan_state = excluded.scan_state,
		scan_discovered = excluded.scan_discovered,
		fingerprint = excluded.fingerprint,
		attempts = excluded.attempts,
		last_error = excluded.last_error,
		updated_at = excluded.updated_at,
		exported_at = excluded.exported_at,
		scan_triggered_at = excluded.scan_triggered_at,
		scan_completed_at = excluded.scan_completed_at,
		adopted = excluded.adopted,
		written = excluded.written`

// UpsertRecords inserts or replaces recs by key in one transaction. If any
// record is invalid, nothing is written.
func (s *Store) UpsertRecords(ctx context.Context, recs []store.Record) error {
	if err := store.ValidateRecords(recs); err != nil {
		return err
	}
	if err := s.replace(ctx, recs, nil); err != nil {
		return fmt.Errorf("store/sqlite: upsert %d records: %w", len(recs), err)
	}
	return nil
}

// DeleteRecords deletes records by key in one transaction; missing keys are
// ignored.
func (s *Store) DeleteRecords(ctx context.Context, keys []store.Key) error {
	if err := sqlstore.CheckKeys(keys); err != nil {
		return err
	}
	if err := s.replace(ctx, nil, keys); err != nil {
		return fmt.Errorf("store/sqlite: delete %d records: %w", len(keys), err)
	}
	return nil
}

// ReplaceRecords deletes the records of deletes and then upserts upserts,
// in one transaction. If any record or key is invalid, nothing is written.
func (s *Store) ReplaceRecords(ctx context.Context, upserts []store.Record, deletes []store.Key) error {
	if err := store.ValidateRecords(upserts); err != nil {
		return err
	}
	if err := sqlstore.CheckKeys(deletes); err != nil {
		return err
	}
	if err := s.replace(ctx, upserts, deletes); err != nil {
		return fmt.Errorf("store/sqlite: replace records (%d upserts, %d deletes): %w", len(upserts), len(deletes), err)
	}
	return nil
}

// replace deletes deletes and upserts upserts, validated, in one write
// transaction.
func (s *Store) replace(ctx context.Context, upserts []store.Record, deletes []store.Key) error {
	if len(upserts) == 0 && len(deletes) == 0 {
		return ctx.Err()
	}
	now := s.now().UnixMicro()
	return s.write(ctx, func(tx *sql.Tx) error {
		if len(deletes) > 0 {
			stmt, err := tx.PrepareContext(ctx, `DELETE FROM records WHERE connection = ? AND vrf = ? AND address = ?`)
			if err != nil {
				return err
			}
			defer stmt.Close()
			for _, k := range deletes {
				if _, err := stmt.ExecContext(ctx, k.Connection, k.VRF, k.Address.String()); err != nil {
					return fmt.Errorf("record %s: %w", k, err)
				}
			}
		}
		if len(upserts) == 0 {
			return nil
		}
		stmt, err := tx.PrepareContext(ctx, upsertRecord)
		if err != nil {
			return err
		}
		defer stmt.Close()
		for i := range upserts {
			r := &upserts[i]
			created := r.CreatedAt.UnixMicro()
			if r.CreatedAt.IsZero() {
				created = now
			}
			written, err := sqlstore.EncodeWritten(r.Written)
			if err != nil {
				return fmt.Errorf("record %s: %w", r.Key, err)
			}
			if _, err := stmt.ExecContext(ctx,
				r.Connection, r.VRF, r.Address.String(), string(r.ObjectKind), r.ObjectID, r.ObjectName,
				string(r.Status), string(r.Reason), r.WUGDeviceID, r.ScanID, r.ScanState, r.ScanDiscovered,
				r.Fingerprint, r.Attempts, r.LastError, created, now,
				micros(r.ExportedAt), micros(r.ScanTriggeredAt), micros(r.ScanCompletedAt), r.Adopted, written,
			); err != nil {
				return fmt.Errorf("record %s: %w", r.Key, err)
			}
		}
		return nil
	})
}

// write runs fn in a write transaction and commits it.
func (s *Store) write(ctx context.Context, fn func(*sql.Tx) error) error {
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	if err := fn(tx); err != nil {
		tx.Rollback()
		return err
	}
	return tx.Commit()
}

type scanner interface{ Scan(dest ...any) error }

func scanRecord(row scanner) (store.Record, error) {
	var (
		r                                      store.Record
		addr, kind, status, reason, written    string
		created, updated                       int64
		exported, scanTriggered, scanCompleted sql.NullInt64
	)
	if err := row.Scan(&r.Connection, &r.VRF, &addr, &kind, &r.ObjectID, &r.ObjectName, &status, &reason,
		&r.WUGDeviceID, &r.ScanID, &r.ScanState, &r.ScanDiscovered, &r.Fingerprint, &r.Attempts, &r.LastError,
		&created, &updated, &exported, &scanTriggered, &scanCompleted, &r.Adopted, &written); err != nil {
		return store.Record{}, err
	}
	if err := sqlstore.DecodeRecord(&r, addr, kind, status, reason, written); err != nil {
		return store.Record{}, err
	}
	r.CreatedAt = time.UnixMicro(created).UTC()
	r.UpdatedAt = time.UnixMicro(updated).UTC()
	r.ExportedAt = fromMicros(exported)
	r.ScanTriggeredAt = fromMicros(scanTriggered)
	r.ScanCompletedAt = fromMicros(scanCompleted)
	return r, nil
}

// Record returns the record for key, or an error wrapping store.ErrNotFound.
func (s *Store) Record(ctx context.Context, key store.Key) (store.Record, error) {
	if err := key.Validate(); err != nil {
		return store.Record{}, err
	}
	row := s.reads.queryRow(ctx, `SELECT `+recordColumns+` FROM records
		WHERE connection = ? AND vrf = ? AND address = ?`, key.Connection, key.VRF, key.Address.String())
	r, err := scanRecord(row)
	if errors.Is(err, sql.ErrNoRows) {
		return store.Record{}, fmt.Errorf("store/sqlite: record %s: %w", key, store.ErrNotFound)
	}
	if err != nil {
		return store.Record{}, fmt.Errorf("store/sqlite: record %s: %w", key, err)
	}
	return r, nil
}

// Records streams the records q selects in key order, one page (q.PageSize)
// per query; a page is read in full before it is yielded.
func (s *Store) Records(ctx context.Context, q store.Query) iter.Seq2[store.Record, error] {
	return sqlstore.Paginate(ctx, q, s.page)
}

// pageQuery is the SQL and arguments of one page of q.
func pageQuery(q store.Query) (string, []any) {
	where, args := sqlstore.RecordPage(q, dialect)
	return `SELECT ` + recordColumns + ` FROM records` + where, args
}

func (s *Store) page(ctx context.Context, q store.Query) ([]store.Record, error) {
	query, args := pageQuery(q)
	rows, err := s.reads.query(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("store/sqlite: records: %w", err)
	}
	defer rows.Close()
	var page []store.Record
	for rows.Next() {
		r, err := scanRecord(rows)
		if err != nil {
			return nil, fmt.Errorf("store/sqlite: records: %w", err)
		}
		page = append(page, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store/sqlite: records: %w", err)
	}
	return page, nil
}

// countByStatus counts each status with a range count of records_by_status
// (connection, status): the index entries are counted without being read,
// which is about twice as fast as grouping them by the status they hold.
var countByStatus = func() string {
	parts := make([]string, len(store.Statuses))
	for i, st := range store.Statuses {
		parts[i] = "(SELECT count(*) FROM records WHERE connection = ?1 AND status = '" +
			strings.ReplaceAll(string(st), "'", "''") + "')"
	}
	return "SELECT " + strings.Join(parts, ", ")
}()

// CountByStatus counts a connection's records by status, every status
// present in the map.
func (s *Store) CountByStatus(ctx context.Context, connection string) (map[store.Status]int, error) {
	if err := sqlstore.CheckConnection(connection); err != nil {
		return nil, err
	}
	ns := make([]int, len(store.Statuses))
	dest := make([]any, len(ns))
	for i := range ns {
		dest[i] = &ns[i]
	}
	if err := s.reads.queryRow(ctx, countByStatus, connection).Scan(dest...); err != nil {
		return nil, fmt.Errorf("store/sqlite: count by status for %s: %w", connection, err)
	}
	m := make(map[store.Status]int, len(ns))
	for i, st := range store.Statuses {
		m[st] = ns[i]
	}
	return m, nil
}

const runColumns = `id, connection, kind, run_trigger, filters, status, started_at, finished_at,
	selected, added, updated, scanned, unchanged, failed, error, lease_name, lease_holder, lease_token`

// BeginRun records run as running and returns it with ID and StartedAt set.
func (s *Store) BeginRun(ctx context.Context, run store.Run) (store.Run, error) {
	run, err := sqlstore.PrepareRun(run, s.now())
	if err != nil {
		return store.Run{}, err
	}
	filters, err := sqlstore.EncodeFilters(run.Filters)
	if err != nil {
		return store.Run{}, fmt.Errorf("store/sqlite: begin run %s: %w", run.ID, err)
	}
	c := run.Counts
	_, err = s.w.ExecContext(ctx, `INSERT INTO runs (`+runColumns+`)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		run.ID, run.Connection, string(run.Kind), string(run.Trigger), filters, string(run.Status),
		run.StartedAt.UnixMicro(), micros(run.FinishedAt),
		c.Selected, c.Added, c.Updated, c.Scanned, c.Unchanged, c.Failed, run.Error,
		run.Lease.Name, run.Lease.Holder, run.Lease.Token)
	if err != nil {
		return store.Run{}, fmt.Errorf("store/sqlite: begin run %s: %w", run.ID, err)
	}
	return run, nil
}

// FinishRun records a run's end: status, counts, error and FinishedAt.
func (s *Store) FinishRun(ctx context.Context, run store.Run) error {
	run, err := sqlstore.PrepareFinish(run, s.now())
	if err != nil {
		return err
	}
	c := run.Counts
	res, err := s.w.ExecContext(ctx, `UPDATE runs SET status = ?, finished_at = ?,
		selected = ?, added = ?, updated = ?, scanned = ?, unchanged = ?, failed = ?, error = ?
		WHERE id = ?`,
		string(run.Status), run.FinishedAt.UnixMicro(),
		c.Selected, c.Added, c.Updated, c.Scanned, c.Unchanged, c.Failed, run.Error, run.ID)
	if err != nil {
		return fmt.Errorf("store/sqlite: finish run %s: %w", run.ID, err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("store/sqlite: finish run %s: %w", run.ID, err)
	} else if n == 0 {
		return fmt.Errorf("store/sqlite: finish run %s: %w", run.ID, store.ErrNotFound)
	}
	return nil
}

func scanRun(row scanner) (store.Run, error) {
	var (
		r                     store.Run
		kind, trigger, status string
		filters               *string
		started               int64
		finished              sql.NullInt64
		c                     = &r.Counts
	)
	if err := row.Scan(&r.ID, &r.Connection, &kind, &trigger, &filters, &status, &started, &finished,
		&c.Selected, &c.Added, &c.Updated, &c.Scanned, &c.Unchanged, &c.Failed, &r.Error,
		&r.Lease.Name, &r.Lease.Holder, &r.Lease.Token); err != nil {
		return store.Run{}, err
	}
	if err := sqlstore.DecodeRun(&r, kind, trigger, status, filters); err != nil {
		return store.Run{}, err
	}
	r.StartedAt = time.UnixMicro(started).UTC()
	r.FinishedAt = fromMicros(finished)
	return r, nil
}

// Run returns a run by id, or an error wrapping store.ErrNotFound.
func (s *Store) Run(ctx context.Context, id string) (store.Run, error) {
	if err := sqlstore.CheckRunID(id); err != nil {
		return store.Run{}, err
	}
	r, err := scanRun(s.reads.queryRow(ctx, `SELECT `+runColumns+` FROM runs WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return store.Run{}, fmt.Errorf("store/sqlite: run %q: %w", id, store.ErrNotFound)
	}
	if err != nil {
		return store.Run{}, fmt.Errorf("store/sqlite: run %q: %w", id, err)
	}
	return r, nil
}

// Runs lists the runs q selects, newest first.
func (s *Store) Runs(ctx context.Context, q store.RunQuery) ([]store.Run, error) {
	where, limit, args, err := sqlstore.RunList(q, dialect)
	if err != nil {
		return nil, err
	}
	query := `SELECT ` + runColumns + ` FROM runs` + where + ` ORDER BY started_at DESC, rowid DESC` + limit
	rows, err := s.reads.query(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("store/sqlite: runs: %w", err)
	}
	defer rows.Close()
	var runs []store.Run
	for rows.Next() {
		r, err := scanRun(rows)
		if err != nil {
			return nil, fmt.Errorf("store/sqlite: runs: %w", err)
		}
		runs = append(runs, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store/sqlite: runs: %w", err)
	}
	return runs, nil
}

// InterruptOrphanedRuns finishes as interrupted, in one write transaction,
// the connection's running runs whose holder no longer holds their lease
// with their token, judged by this host's clock.
func (s *Store) InterruptOrphanedRuns(ctx context.Context, connection string) ([]store.Run, error) {
	if err := sqlstore.CheckInterrupt(connection); err != nil {
		return nil, err
	}
	now := sqlstore.Micro(s.now()).UnixMicro()
	var runs []store.Run
	err := s.write(ctx, func(tx *sql.Tx) error {
		runs = nil
		rows, err := tx.QueryContext(ctx, `UPDATE runs SET status = ?, finished_at = ?, error = ?
			WHERE connection = ? AND status = ? AND lease_name <> ''
			AND NOT EXISTS (SELECT 1 FROM leases l WHERE l.name = runs.lease_name AND l.holder = runs.lease_holder
				AND l.token = runs.lease_token AND l.expires_at > ?)
			RETURNING `+runColumns,
			string(store.RunInterrupted), now, store.OrphanedRunError, connection, string(store.RunRunning), now)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			r, err := scanRun(rows)
			if err != nil {
				return err
			}
			runs = append(runs, r)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("store/sqlite: interrupt orphaned runs of %s: %w", connection, err)
	}
	slices.SortStableFunc(runs, func(a, b store.Run) int { return a.StartedAt.Compare(b.StartedAt) })
	return runs, nil
}

// AcquireLease takes the named lease for holder until ttl from now: a
// compare-and-set on the lease's row in one write transaction. It succeeds
// when the lease is free, released, expired, or held by holder (which keeps
// its token); otherwise the error wraps store.ErrLeaseHeld. Expiry is judged
// by this host's clock, which every process sharing the file shares.
func (s *Store) AcquireLease(ctx context.Context, name, holder string, ttl time.Duration) (store.Lease, error) {
	if err := sqlstore.CheckLease(name, holder, ttl); err != nil {
		return store.Lease{}, err
	}
	now := sqlstore.Micro(s.now())
	l := store.Lease{Name: name, Holder: holder, ExpiresAt: now.Add(ttl).Truncate(time.Microsecond)}
	var (
		cur     string
		curTok  int64
		curExp  int64
		claimed bool
	)
	err := s.write(ctx, func(tx *sql.Tx) error {
		err := tx.QueryRowContext(ctx, `INSERT INTO leases (name, holder, token, expires_at) VALUES (?, ?, 1, ?)
			ON CONFLICT (name) DO UPDATE SET
				token = CASE WHEN leases.holder = excluded.holder AND leases.expires_at > ? THEN leases.token ELSE leases.token + 1 END,
				holder = excluded.holder,
				expires_at = excluded.expires_at
			WHERE leases.holder = excluded.holder OR leases.holder = '' OR leases.expires_at <= ?
			RETURNING token`,
			name, holder, l.ExpiresAt.UnixMicro(), now.UnixMicro(), now.UnixMicro()).Scan(&l.Token)
		if err == nil {
			claimed = true
			return nil
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		return tx.QueryRowContext(ctx, `SELECT holder, token, expires_at FROM leases WHERE name = ?`, name).Scan(&cur, &curTok, &curExp)
	})
	if err != nil {
		return store.Lease{}, fmt.Errorf("store/sqlite: acquire lease %q for %s: %w", name, holder, err)
	}
	if !claimed {
		return store.Lease{}, fmt.Errorf("store/sqlite: acquire lease %q for %s: %w", name, holder,
			&store.LeaseHeldError{Lease: store.Lease{Name: name, Holder: cur, Token: curTok, ExpiresAt: time.UnixMicro(curExp).UTC()}})
	}
	s.held.Put(l)
	return l, nil
}

// RenewLease extends l to ttl from now if l.Holder still holds it with
// l.Token and it has not expired; otherwise the error wraps
// store.ErrLeaseLost.
func (s *Store) RenewLease(ctx context.Context, l store.Lease, ttl time.Duration) (store.Lease, error) {
	if err := sqlstore.CheckLease(l.Name, l.Holder, ttl); err != nil {
		return store.Lease{}, err
	}
	now := sqlstore.Micro(s.now())
	exp := now.Add(ttl).Truncate(time.Microsecond)
	res, err := s.w.ExecContext(ctx, `UPDATE leases SET expires_at = ?
		WHERE name = ? AND holder = ? AND token = ? AND expires_at > ?`,
		exp.UnixMicro(), l.Name, l.Holder, l.Token, now.UnixMicro())
	if err != nil {
		return store.Lease{}, fmt.Errorf("store/sqlite: renew lease %q for %s: %w", l.Name, l.Holder, err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return store.Lease{}, fmt.Errorf("store/sqlite: renew lease %q for %s: %w", l.Name, l.Holder, err)
	} else if n == 0 {
		s.held.Drop(l)
		return store.Lease{}, fmt.Errorf("store/sqlite: renew lease %q for %s (token %d): %w", l.Name, l.Holder, l.Token, store.ErrLeaseLost)
	}
	l.ExpiresAt = exp
	s.held.Put(l)
	return l, nil
}

// ReleaseLease gives l up if it is still held with l.Token; releasing a lost
// lease is not an error. The row stays, so the next holder's token is
// larger.
func (s *Store) ReleaseLease(ctx context.Context, l store.Lease) error {
	if err := sqlstore.CheckRelease(l); err != nil {
		return err
	}
	if err := s.release(ctx, l); err != nil {
		return err
	}
	s.held.Drop(l)
	return nil
}

func (s *Store) release(ctx context.Context, l store.Lease) error {
	_, err := s.w.ExecContext(ctx, `UPDATE leases SET holder = '', expires_at = ?
		WHERE name = ? AND holder = ? AND token = ?`,
		s.now().UnixMicro(), l.Name, l.Holder, l.Token)
	if err != nil {
		return fmt.Errorf("store/sqlite: release lease %q for %s: %w", l.Name, l.Holder, err)
	}
	return nil
}

// Close releases the leases this Store holds and closes the file. Calls
// after the first return the first result.
func (s *Store) Close() error {
	s.closeOnce.Do(func() {
		err := s.held.ReleaseAll(5*time.Second, s.release)
		s.closeErr = errors.Join(err, s.reads.close(), s.r.Close(), s.w.Close())
		if s.closeErr != nil {
			s.closeErr = fmt.Errorf("store/sqlite: close: %w", s.closeErr)
		}
	})
	return s.closeErr
}
