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
	"cmp"
	"context"
	"embed"
	"errors"
	"fmt"
	"iter"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
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
	pool *pgxpool.Pool
	held sqlstore.Held

	closeOnce sync.Once
	closeErr  error
}

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
	return &Store{pool: pool}, nil
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
	return pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, migrateLockKey); err != nil {
			return fmt.Errorf("migrate: lock: %w", err)
		}
		if schema != "" {
			if _, err := tx.Exec(ctx, `CREATE SCHEMA IF NOT EXISTS `+pgx.Identifier{schema}.Sanitize()); err != nil {
				return fmt.Errorf("migrate: create schema %q: %w", schema, err)
			}
		}
		if _, err := tx.Exec(ctx, `CREATE TABLE IF NOT EXISTS schema_version (
			version    integer     NOT NULL PRIMARY KEY,
			name       text        NOT NULL,
			applied_at timestamptz NOT NULL DEFAULT now())`); err != nil {
			return fmt.Errorf("migrate: %w", err)
		}
		var have int
		if err := tx.QueryRow(ctx, `SELECT coalesce(max(version), 0) FROM schema_version`).Scan(&have); err != nil {
			return fmt.Errorf("migrate: read schema version: %w", err)
		}
		if have > len(ms) {
			return sqlstore.NewerSchemaError(have, len(ms))
		}
		for _, m := range ms[have:] {
			if _, err := tx.Exec(ctx, m.SQL); err != nil {
				return fmt.Errorf("migrate to version %d (%s): %w", m.Version, m.Name, err)
			}
			if _, err := tx.Exec(ctx, `INSERT INTO schema_version (version, name) VALUES ($1, $2)`, m.Version, m.Name); err != nil {
				return fmt.Errorf("migrate to version %d: %w", m.Version, err)
			}
		}
		return nil
	})
}

// ts renders a time as bound: NULL for the zero time.
func ts(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t
}

// fromTS reads what ts stored.
func fromTS(t *time.Time) time.Time {
	if t == nil {
		return time.Time{}
	}
	return t.UTC()
}

var dialect = sqlstore.Dialect{
	Placeholder: func(n int) string { return "$" + strconv.Itoa(n) },
	Time:        func(t time.Time) any { return t },
	Contains:    func(expr, param string) string { return "strpos(" + expr + ", " + param + ") > 0" },
	// Under the "C" collation lower() lowers ASCII letters only, whatever
	// the database's locale.
	LowerASCII: func(expr string) string { return "lower(" + expr + ` COLLATE "C")` },
}

// recordColumns are the columns of records in the order of recordArgs and
// scanRecord.
var recordColumns = []string{"connection", "vrf", "address", "object_kind", "object_id", "object_name",
	"status", "reason", "wug_device_id", "scan_id", "scan_state", "scan_discovered", "fingerprint",
	"attempts", "last_error", "created_at", "updated_at", "exported_at", "scan_triggered_at", "scan_completed_at",
	"adopted", "written"}

var recordList = strings.Join(recordColumns, ", ")

// upsertSet replaces every column of a conflicting row but its key and
// created_at.
var upsertSet = func() string {
	var b strings.Builder
	for _, c := range recordColumns[3:] {
		if c == "created_at" {
			continue
		}
		if b.Len() > 0 {
			b.WriteString(", ")
		}
		b.WriteString(c + " = excluded." + c)
	}
	return " ON CONFLICT (connection, vrf, address) DO UPDATE SET " + b.String()
}()

// upsertOne upserts one record; $16 is created_at (NULL for now), and
// updated_at is now().
var upsertOne = `INSERT INTO records (` + recordList + `) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15,
	coalesce($16, now()), now(), $17, $18, $19, $20, $21)` + upsertSet

// copyColumns are the columns COPY fills in the temporary table.
var copyColumns = slices.DeleteFunc(slices.Clone(recordColumns), func(c string) bool { return c == "updated_at" })

var upsertFromCopy = `INSERT INTO records (` + recordList + `)
	SELECT ` + strings.NewReplacer("created_at", "coalesce(created_at, now())", "updated_at", "now()").Replace(recordList) + `
	FROM wugsync_upsert` + upsertSet

// recordArgs are the values of copyColumns for r.
func recordArgs(r *store.Record) ([]any, error) {
	written, err := sqlstore.EncodeWritten(r.Written)
	if err != nil {
		return nil, fmt.Errorf("record %s: %w", r.Key, err)
	}
	return []any{r.Connection, r.VRF, r.Address.String(), string(r.ObjectKind), r.ObjectID, r.ObjectName,
		string(r.Status), string(r.Reason), r.WUGDeviceID, r.ScanID, r.ScanState, r.ScanDiscovered,
		r.Fingerprint, r.Attempts, r.LastError, ts(r.CreatedAt),
		ts(r.ExportedAt), ts(r.ScanTriggeredAt), ts(r.ScanCompletedAt), r.Adopted, written}, nil
}

// UpsertRecords inserts or replaces recs by key in one transaction. If any
// record is invalid, nothing is written. Batches of copyThreshold records
// or more are copied into a temporary table and upserted by one INSERT …
// ON CONFLICT; smaller ones are sent as one pipelined batch. Records are
// written sorted by connection, VRF and address, so concurrent writers lock
// rows in the same order and do not deadlock one another.
func (s *Store) UpsertRecords(ctx context.Context, recs []store.Record) error {
	if err := store.ValidateRecords(recs); err != nil {
		return err
	}
	if err := s.replace(ctx, recs, nil); err != nil {
		return fmt.Errorf("store/postgres: upsert %d records: %w", len(recs), err)
	}
	return nil
}

// DeleteRecords deletes records by key in one statement; missing keys are
// ignored.
func (s *Store) DeleteRecords(ctx context.Context, keys []store.Key) error {
	if err := sqlstore.CheckKeys(keys); err != nil {
		return err
	}
	if err := s.replace(ctx, nil, keys); err != nil {
		return fmt.Errorf("store/postgres: delete %d records: %w", len(keys), err)
	}
	return nil
}

// ReplaceRecords deletes the records of deletes and then upserts upserts,
// as UpsertRecords does, in one transaction. If any record or key is
// invalid, nothing is written.
func (s *Store) ReplaceRecords(ctx context.Context, upserts []store.Record, deletes []store.Key) error {
	if err := store.ValidateRecords(upserts); err != nil {
		return err
	}
	if err := sqlstore.CheckKeys(deletes); err != nil {
		return err
	}
	if err := s.replace(ctx, upserts, deletes); err != nil {
		return fmt.Errorf("store/postgres: replace records (%d upserts, %d deletes): %w", len(upserts), len(deletes), err)
	}
	return nil
}

// deleteKeys deletes the records of the keys given as three parallel
// arrays, in one statement.
const deleteKeys = `DELETE FROM records r USING unnest($1::text[], $2::text[], $3::text[]) AS k(connection, vrf, address)
	WHERE r.connection = k.connection AND r.vrf = k.vrf AND r.address = k.address`

// replace deletes deletes and upserts upserts, validated, in one
// transaction.
func (s *Store) replace(ctx context.Context, upserts []store.Record, deletes []store.Key) error {
	if len(upserts) == 0 && len(deletes) == 0 {
		return ctx.Err()
	}
	upserts = sqlstore.Dedupe(upserts)
	slices.SortFunc(upserts, func(a, b store.Record) int {
		return cmp.Or(strings.Compare(a.Connection, b.Connection), strings.Compare(a.VRF, b.VRF), a.Address.Compare(b.Address))
	})
	return pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if len(deletes) > 0 {
			conns, vrfs, addrs := make([]string, len(deletes)), make([]string, len(deletes)), make([]string, len(deletes))
			for i, k := range deletes {
				conns[i], vrfs[i], addrs[i] = k.Connection, k.VRF, k.Address.String()
			}
			if _, err := tx.Exec(ctx, deleteKeys, conns, vrfs, addrs); err != nil {
				return err
			}
		}
		if len(upserts) == 0 {
			return nil
		}
		if len(upserts) >= copyThreshold {
			return copyUpsert(ctx, tx, upserts)
		}
		b := &pgx.Batch{}
		for i := range upserts {
			args, err := recordArgs(&upserts[i])
			if err != nil {
				return err
			}
			b.Queue(upsertOne, args...)
		}
		br := tx.SendBatch(ctx, b)
		for i := range upserts {
			if _, err := br.Exec(); err != nil {
				br.Close()
				return fmt.Errorf("record %s: %w", upserts[i].Key, err)
			}
		}
		return br.Close()
	})
}

func copyUpsert(ctx context.Context, tx pgx.Tx, recs []store.Record) error {
	if _, err := tx.Exec(ctx, `CREATE TEMPORARY TABLE wugsync_upsert ON COMMIT DROP AS
		SELECT `+recordList+` FROM records WITH NO DATA`); err != nil {
		return err
	}
	_, err := tx.CopyFrom(ctx, pgx.Identifier{"wugsync_upsert"}, copyColumns,
		pgx.CopyFromSlice(len(recs), func(i int) ([]any, error) { return recordArgs(&recs[i]) }))
	if err != nil {
		return fmt.Errorf("copy: %w", err)
	}
	_, err = tx.Exec(ctx, upsertFromCopy)
	return err
}

func scanRecord(row pgx.Row) (store.Record, error) {
	var (
		r                                      store.Record
		addr, kind, status, reason, written    string
		created, updated                       time.Time
		exported, scanTriggered, scanCompleted *time.Time
	)
	if err := row.Scan(&r.Connection, &r.VRF, &addr, &kind, &r.ObjectID, &r.ObjectName, &status, &reason,
		&r.WUGDeviceID, &r.ScanID, &r.ScanState, &r.ScanDiscovered, &r.Fingerprint, &r.Attempts, &r.LastError,
		&created, &updated, &exported, &scanTriggered, &scanCompleted, &r.Adopted, &written); err != nil {
		return store.Record{}, err
	}
	if err := sqlstore.DecodeRecord(&r, addr, kind, status, reason, written); err != nil {
		return store.Record{}, err
	}
	r.CreatedAt, r.UpdatedAt = created.UTC(), updated.UTC()
	r.ExportedAt = fromTS(exported)
	r.ScanTriggeredAt = fromTS(scanTriggered)
	r.ScanCompletedAt = fromTS(scanCompleted)
	return r, nil
}

// Record returns the record for key, or an error wrapping store.ErrNotFound.
func (s *Store) Record(ctx context.Context, key store.Key) (store.Record, error) {
	if err := key.Validate(); err != nil {
		return store.Record{}, err
	}
	r, err := scanRecord(s.pool.QueryRow(ctx, `SELECT `+recordList+` FROM records
		WHERE connection = $1 AND vrf = $2 AND address = $3`, key.Connection, key.VRF, key.Address.String()))
	if errors.Is(err, pgx.ErrNoRows) {
		return store.Record{}, fmt.Errorf("store/postgres: record %s: %w", key, store.ErrNotFound)
	}
	if err != nil {
		return store.Record{}, fmt.Errorf("store/postgres: record %s: %w", key, err)
	}
	return r, nil
}

// Records streams the records q selects in key order, one page (q.PageSize)
// per query by keyset pagination; a page is read in full before it is
// yielded.
func (s *Store) Records(ctx context.Context, q store.Query) iter.Seq2[store.Record, error] {
	return sqlstore.Paginate(ctx, q, s.page)
}

// pageQuery is the SQL and arguments of one page of q.
func pageQuery(q store.Query) (string, []any) {
	where, args := sqlstore.RecordPage(q, dialect)
	return `SELECT ` + recordList + ` FROM records` + where, args
}

func (s *Store) page(ctx context.Context, q store.Query) ([]store.Record, error) {
	query, args := pageQuery(q)
	rows, err := s.pool.Query(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("store/postgres: records: %w", err)
	}
	page, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (store.Record, error) { return scanRecord(row) })
	if err != nil {
		return nil, fmt.Errorf("store/postgres: records: %w", err)
	}
	return page, nil
}

const countByStatus = `SELECT status, count(*) FROM records WHERE connection = $1 GROUP BY status`

// CountByStatus counts a connection's records by status, every status
// present in the map.
func (s *Store) CountByStatus(ctx context.Context, connection string) (map[store.Status]int, error) {
	if err := sqlstore.CheckConnection(connection); err != nil {
		return nil, err
	}
	rows, err := s.pool.Query(ctx, countByStatus, connection)
	if err != nil {
		return nil, fmt.Errorf("store/postgres: count by status for %s: %w", connection, err)
	}
	m := sqlstore.CountMap()
	var (
		status string
		n      int
	)
	_, err = pgx.ForEachRow(rows, []any{&status, &n}, func() error {
		m[store.Status(status)] = n
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("store/postgres: count by status for %s: %w", connection, err)
	}
	return m, nil
}

const runColumns = `id, connection, kind, run_trigger, filters::text, status, started_at, finished_at,
	selected, added, updated, scanned, unchanged, failed, error, lease_name, lease_holder, lease_token`

// BeginRun records run as running and returns it with ID and StartedAt set.
func (s *Store) BeginRun(ctx context.Context, run store.Run) (store.Run, error) {
	run, err := sqlstore.PrepareRun(run, time.Now())
	if err != nil {
		return store.Run{}, err
	}
	filters, err := sqlstore.EncodeFilters(run.Filters)
	if err != nil {
		return store.Run{}, fmt.Errorf("store/postgres: begin run %s: %w", run.ID, err)
	}
	c := run.Counts
	_, err = s.pool.Exec(ctx, `INSERT INTO runs (id, connection, kind, run_trigger, filters, status, started_at, finished_at,
		selected, added, updated, scanned, unchanged, failed, error, lease_name, lease_holder, lease_token)
		VALUES ($1, $2, $3, $4, $5::jsonb, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18)`,
		run.ID, run.Connection, string(run.Kind), string(run.Trigger), filters, string(run.Status),
		run.StartedAt, ts(run.FinishedAt),
		c.Selected, c.Added, c.Updated, c.Scanned, c.Unchanged, c.Failed, run.Error,
		run.Lease.Name, run.Lease.Holder, run.Lease.Token)
	if err != nil {
		return store.Run{}, fmt.Errorf("store/postgres: begin run %s: %w", run.ID, err)
	}
	return run, nil
}

// FinishRun records a run's end: status, counts, error and FinishedAt.
func (s *Store) FinishRun(ctx context.Context, run store.Run) error {
	run, err := sqlstore.PrepareFinish(run, time.Now())
	if err != nil {
		return err
	}
	c := run.Counts
	tag, err := s.pool.Exec(ctx, `UPDATE runs SET status = $1, finished_at = $2,
		selected = $3, added = $4, updated = $5, scanned = $6, unchanged = $7, failed = $8, error = $9
		WHERE id = $10`,
		string(run.Status), run.FinishedAt,
		c.Selected, c.Added, c.Updated, c.Scanned, c.Unchanged, c.Failed, run.Error, run.ID)
	if err != nil {
		return fmt.Errorf("store/postgres: finish run %s: %w", run.ID, err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("store/postgres: finish run %s: %w", run.ID, store.ErrNotFound)
	}
	return nil
}

func scanRun(row pgx.Row) (store.Run, error) {
	var (
		r                     store.Run
		kind, trigger, status string
		filters               *string
		finished              *time.Time
		c                     = &r.Counts
	)
	if err := row.Scan(&r.ID, &r.Connection, &kind, &trigger, &filters, &status, &r.StartedAt, &finished,
		&c.Selected, &c.Added, &c.Updated, &c.Scanned, &c.Unchanged, &c.Failed, &r.Error,
		&r.Lease.Name, &r.Lease.Holder, &r.Lease.Token); err != nil {
		return store.Run{}, err
	}
	if err := sqlstore.DecodeRun(&r, kind, trigger, status, filters); err != nil {
		return store.Run{}, err
	}
	r.StartedAt = r.StartedAt.UTC()
	r.FinishedAt = fromTS(finished)
	return r, nil
}

// Run returns a run by id, or an error wrapping store.ErrNotFound.
func (s *Store) Run(ctx context.Context, id string) (store.Run, error) {
	if err := sqlstore.CheckRunID(id); err != nil {
		return store.Run{}, err
	}
	r, err := scanRun(s.pool.QueryRow(ctx, `SELECT `+runColumns+` FROM runs WHERE id = $1`, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return store.Run{}, fmt.Errorf("store/postgres: run %q: %w", id, store.ErrNotFound)
	}
	if err != nil {
		return store.Run{}, fmt.Errorf("store/postgres: run %q: %w", id, err)
	}
	return r, nil
}

// Runs lists the runs q selects, newest first.
func (s *Store) Runs(ctx context.Context, q store.RunQuery) ([]store.Run, error) {
	where, limit, args, err := sqlstore.RunList(q, dialect)
	if err != nil {
		return nil, err
	}
	query := `SELECT ` + runColumns + ` FROM runs` + where + ` ORDER BY started_at DESC, seq DESC` + limit
	rows, err := s.pool.Query(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("store/postgres: runs: %w", err)
	}
	runs, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (store.Run, error) { return scanRun(row) })
	if err != nil {
		return nil, fmt.Errorf("store/postgres: runs: %w", err)
	}
	return runs, nil
}

// InterruptOrphanedRuns finishes as interrupted, in one statement, the
// connection's running runs whose holder no longer holds their lease with
// their token, judged by the database's clock.
func (s *Store) InterruptOrphanedRuns(ctx context.Context, connection string) ([]store.Run, error) {
	if err := sqlstore.CheckInterrupt(connection); err != nil {
		return nil, err
	}
	rows, err := s.pool.Query(ctx, `UPDATE runs SET status = $1, finished_at = date_trunc('microseconds', now()), error = $2
		WHERE connection = $3 AND status = $4 AND lease_name <> ''
		AND NOT EXISTS (SELECT 1 FROM leases l WHERE l.name = runs.lease_name AND l.holder = runs.lease_holder
			AND l.token = runs.lease_token AND l.expires_at > now())
		RETURNING `+runColumns,
		string(store.RunInterrupted), store.OrphanedRunError, connection, string(store.RunRunning))
	if err != nil {
		return nil, fmt.Errorf("store/postgres: interrupt orphaned runs of %s: %w", connection, err)
	}
	runs, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (store.Run, error) { return scanRun(row) })
	if err != nil {
		return nil, fmt.Errorf("store/postgres: interrupt orphaned runs of %s: %w", connection, err)
	}
	slices.SortStableFunc(runs, func(a, b store.Run) int { return a.StartedAt.Compare(b.StartedAt) })
	return runs, nil
}

// AcquireLease takes the named lease for holder until ttl from now (the
// database's now()): one INSERT … ON CONFLICT DO UPDATE … WHERE on the
// lease's row, which PostgreSQL runs as an atomic compare-and-set. It
// succeeds when the lease is free, released, expired, or held by holder
// (which keeps its token); otherwise the error wraps store.ErrLeaseHeld.
func (s *Store) AcquireLease(ctx context.Context, name, holder string, ttl time.Duration) (store.Lease, error) {
	if err := sqlstore.CheckLease(name, holder, ttl); err != nil {
		return store.Lease{}, err
	}
	l := store.Lease{Name: name, Holder: holder}
	err := s.pool.QueryRow(ctx, `INSERT INTO leases AS l (name, holder, token, expires_at)
		VALUES ($1, $2, 1, now() + $3::bigint * interval '1 microsecond')
		ON CONFLICT (name) DO UPDATE SET
			token = CASE WHEN l.holder = excluded.holder AND l.expires_at > now() THEN l.token ELSE l.token + 1 END,
			holder = excluded.holder,
			expires_at = excluded.expires_at
		WHERE l.holder = excluded.holder OR l.holder = '' OR l.expires_at <= now()
		RETURNING token, expires_at`, name, holder, ttl.Microseconds()).Scan(&l.Token, &l.ExpiresAt)
	if errors.Is(err, pgx.ErrNoRows) {
		cur := store.Lease{Name: name}
		if err := s.pool.QueryRow(ctx, `SELECT holder, token, expires_at FROM leases WHERE name = $1`, name).Scan(&cur.Holder, &cur.Token, &cur.ExpiresAt); err != nil {
			return store.Lease{}, fmt.Errorf("store/postgres: acquire lease %q for %s: held by another holder: %w", name, holder, store.ErrLeaseHeld)
		}
		cur.ExpiresAt = cur.ExpiresAt.UTC()
		return store.Lease{}, fmt.Errorf("store/postgres: acquire lease %q for %s: %w", name, holder, &store.LeaseHeldError{Lease: cur})
	}
	if err != nil {
		return store.Lease{}, fmt.Errorf("store/postgres: acquire lease %q for %s: %w", name, holder, err)
	}
	l.ExpiresAt = l.ExpiresAt.UTC()
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
	err := s.pool.QueryRow(ctx, `UPDATE leases SET expires_at = now() + $4::bigint * interval '1 microsecond'
		WHERE name = $1 AND holder = $2 AND token = $3 AND expires_at > now()
		RETURNING expires_at`, l.Name, l.Holder, l.Token, ttl.Microseconds()).Scan(&l.ExpiresAt)
	if errors.Is(err, pgx.ErrNoRows) {
		s.held.Drop(l)
		return store.Lease{}, fmt.Errorf("store/postgres: renew lease %q for %s (token %d): %w", l.Name, l.Holder, l.Token, store.ErrLeaseLost)
	}
	if err != nil {
		return store.Lease{}, fmt.Errorf("store/postgres: renew lease %q for %s: %w", l.Name, l.Holder, err)
	}
	l.ExpiresAt = l.ExpiresAt.UTC()
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
	_, err := s.pool.Exec(ctx, `UPDATE leases SET holder = '', expires_at = now()
		WHERE name = $1 AND holder = $2 AND token = $3`, l.Name, l.Holder, l.Token)
	if err != nil {
		return fmt.Errorf("store/postgres: release lease %q for %s: %w", l.Name, l.Holder, err)
	}
	return nil
}

// Close releases the leases this Store holds and closes the pool. Calls
// after the first return the first result.
func (s *Store) Close() error {
	s.closeOnce.Do(func() {
		if err := s.held.ReleaseAll(5*time.Second, s.release); err != nil {
			s.closeErr = fmt.Errorf("store/postgres: close: %w", err)
		}
		s.pool.Close()
	})
	return s.closeErr
}
