package sqlstore

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"iter"
	"slices"
	"strings"
	"time"

	"github.com/wugsync/wugsync/store"
)

// Scanner reads one row; *sql.Row, *sql.Rows, pgx.Row and pgx.Rows are
// Scanners.
type Scanner interface{ Scan(dest ...any) error }

// Conn is what a backend's driver does for Core, the same way for
// database/sql and pgx. On a DB, Query and QueryRow only read (they may go
// to read-only connections); a statement that writes goes through Exec or
// a Write transaction.
type Conn interface {
	// Query runs query and calls each for every row, in order.
	Query(ctx context.Context, query string, args []any, each func(Scanner) error) error
	// QueryRow runs query for one row. Its Scan fails with an error
	// wrapping sql.ErrNoRows when there is none.
	QueryRow(ctx context.Context, query string, args ...any) Scanner
	// Exec runs a statement and returns how many rows it changed.
	Exec(ctx context.Context, query string, args ...any) (int64, error)
	// ExecEach runs query once for each of n argument lists in one round
	// trip where the driver can (prepared once, or pipelined); args gives
	// the i-th list. An error names the list it failed on by index.
	ExecEach(ctx context.Context, query string, n int, args func(i int) ([]any, error)) error
}

// Rows is what *sql.Rows and pgx.Rows share.
type Rows interface {
	Scanner
	Next() bool
	Err() error
}

// EachRow calls each for every row of rows, stopping at the first error;
// the caller closes rows.
func EachRow(rows Rows, each func(Scanner) error) error {
	for rows.Next() {
		if err := each(rows); err != nil {
			return err
		}
	}
	return rows.Err()
}

// DB is a backend's database: a Conn, and write transactions.
type DB interface {
	Conn
	// Write runs fn in one write transaction, committed if fn returns nil.
	Write(ctx context.Context, fn func(Conn) error) error
}

// EachError is the error ExecEach returns when the i-th statement fails.
type EachError struct {
	I   int
	Err error
}

// Error names the statement by its place in the run.
func (e *EachError) Error() string { return fmt.Sprintf("statement %d: %v", e.I+1, e.Err) }

// Unwrap returns the statement's error.
func (e *EachError) Unwrap() error { return e.Err }

// Core is the store.Store logic the SQL backends share: every statement,
// check and conversion. A backend gives it a DB and a Dialect and keeps only
// its driver glue: opening, migrating under its own lock, and closing.
type Core struct {
	DB DB
	D  Dialect
	// Upsert, when set, writes a batch of BulkUpsert records or more
	// (deduplicated and sorted) in the transaction conn, instead of one
	// statement per record.
	Upsert     func(ctx context.Context, conn Conn, recs []store.Record) error
	BulkUpsert int

	held Held
}

// errorf prefixes an error with the backend's name.
func (c *Core) errorf(format string, args ...any) error {
	return fmt.Errorf(c.D.Name+": "+format, args...)
}

// UpsertRecords inserts or replaces recs by key in one transaction. If any
// record is invalid, nothing is written.
func (c *Core) UpsertRecords(ctx context.Context, recs []store.Record) error {
	if err := store.ValidateRecords(recs); err != nil {
		return err
	}
	if err := c.replace(ctx, recs, nil); err != nil {
		return c.errorf("upsert %d records: %w", len(recs), err)
	}
	return nil
}

// DeleteRecords deletes records by key in one transaction; missing keys are
// ignored.
func (c *Core) DeleteRecords(ctx context.Context, keys []store.Key) error {
	if err := CheckKeys(keys); err != nil {
		return err
	}
	if err := c.replace(ctx, nil, keys); err != nil {
		return c.errorf("delete %d records: %w", len(keys), err)
	}
	return nil
}

// ReplaceRecords deletes the records of deletes and then upserts upserts,
// in one transaction. If any record or key is invalid, nothing is written.
func (c *Core) ReplaceRecords(ctx context.Context, upserts []store.Record, deletes []store.Key) error {
	if err := store.ValidateRecords(upserts); err != nil {
		return err
	}
	if err := CheckKeys(deletes); err != nil {
		return err
	}
	if err := c.replace(ctx, upserts, deletes); err != nil {
		return c.errorf("replace records (%d upserts, %d deletes): %w", len(upserts), len(deletes), err)
	}
	return nil
}

// replace deletes deletes and upserts upserts, validated, in one write
// transaction. Records are written deduplicated and sorted by key, so
// concurrent writers lock rows in the same order and do not deadlock one
// another.
func (c *Core) replace(ctx context.Context, upserts []store.Record, deletes []store.Key) error {
	if len(upserts) == 0 && len(deletes) == 0 {
		return ctx.Err()
	}
	upserts = Dedupe(upserts)
	slices.SortFunc(upserts, func(a, b store.Record) int {
		return cmp.Or(strings.Compare(a.Connection, b.Connection), strings.Compare(a.VRF, b.VRF), a.Address.Compare(b.Address))
	})
	return c.DB.Write(ctx, func(conn Conn) error {
		if err := conn.ExecEach(ctx, c.D.deleteRecord, len(deletes), func(i int) ([]any, error) {
			k := deletes[i]
			return []any{k.Connection, k.VRF, k.Address.String()}, nil
		}); err != nil {
			return eachError(err, func(i int) store.Key { return deletes[i] })
		}
		if c.Upsert != nil && len(upserts) >= c.BulkUpsert {
			return c.Upsert(ctx, conn, upserts)
		}
		now := c.D.nowValue()
		err := conn.ExecEach(ctx, c.D.upsertRecord, len(upserts), func(i int) ([]any, error) {
			args, err := RecordArgs(&upserts[i], c.D)
			if now != nil {
				args = append(args, now)
			}
			return args, err
		})
		return eachError(err, func(i int) store.Key { return upserts[i].Key })
	})
}

// eachError names the record an ExecEach error failed on.
func eachError(err error, key func(i int) store.Key) error {
	if e := (*EachError)(nil); errors.As(err, &e) {
		return fmt.Errorf("record %s: %w", key(e.I), e.Err)
	}
	return err
}

// Record returns the record for key, or an error wrapping store.ErrNotFound.
func (c *Core) Record(ctx context.Context, key store.Key) (store.Record, error) {
	if err := key.Validate(); err != nil {
		return store.Record{}, err
	}
	r, err := c.D.ScanRecord(c.DB.QueryRow(ctx, c.D.selectRecord, key.Connection, key.VRF, key.Address.String()))
	if errors.Is(err, sql.ErrNoRows) {
		return store.Record{}, c.errorf("record %s: %w", key, store.ErrNotFound)
	}
	if err != nil {
		return store.Record{}, c.errorf("record %s: %w", key, err)
	}
	return r, nil
}

// Records streams the records q selects in key order, one page
// (q.PageSize) per query by keyset pagination; a page is read in full
// before it is yielded.
func (c *Core) Records(ctx context.Context, q store.Query) iter.Seq2[store.Record, error] {
	return Paginate(ctx, q, c.page)
}

// PageQuery is the SQL and arguments of one page of q.
func (d Dialect) PageQuery(q store.Query) (string, []any) {
	where, args := RecordPage(q, d)
	return "SELECT " + recordList + " FROM records" + where, args
}

func (c *Core) page(ctx context.Context, q store.Query) ([]store.Record, error) {
	query, args := c.D.PageQuery(q)
	var page []store.Record
	err := c.DB.Query(ctx, query, args, func(row Scanner) error {
		r, err := c.D.ScanRecord(row)
		page = append(page, r)
		return err
	})
	if err != nil {
		return nil, c.errorf("records: %w", err)
	}
	return page, nil
}

// CountRecords counts the records q selects, After, Offset and PageSize
// aside.
func (c *Core) CountRecords(ctx context.Context, q store.Query) (int, error) {
	if err := CheckQuery(q); err != nil {
		return 0, err
	}
	query, args := c.D.CountQuery(q)
	var n int
	if err := c.DB.QueryRow(ctx, query, args...).Scan(&n); err != nil {
		return 0, c.errorf("count records: %w", err)
	}
	return n, nil
}

// CountByStatus counts a connection's records by status, every status
// present in the map.
func (c *Core) CountByStatus(ctx context.Context, connection string) (map[store.Status]int, error) {
	if err := CheckConnection("count by status", connection); err != nil {
		return nil, err
	}
	m := CountMap()
	err := c.DB.Query(ctx, c.D.CountByStatus, []any{connection}, func(row Scanner) error {
		var (
			status string
			n      int
		)
		err := row.Scan(&status, &n)
		m[store.Status(status)] = n
		return err
	})
	if err != nil {
		return nil, c.errorf("count by status for %s: %w", connection, err)
	}
	return m, nil
}

// BeginRun records run as running and returns it with ID and StartedAt set.
func (c *Core) BeginRun(ctx context.Context, run store.Run) (store.Run, error) {
	run, err := PrepareRun(run, c.D.clock())
	if err != nil {
		return store.Run{}, err
	}
	filters, err := EncodeFilters(run.Filters)
	if err != nil {
		return store.Run{}, c.errorf("begin run %s: %w", run.ID, err)
	}
	rc := run.Counts
	_, err = c.DB.Exec(ctx, c.D.insertRun,
		run.ID, run.Connection, string(run.Kind), string(run.Trigger), filters, string(run.Status),
		c.D.Time(run.StartedAt), c.D.nullTime(run.FinishedAt),
		rc.Selected, rc.Added, rc.Updated, rc.Scanned, rc.Unchanged, rc.Failed, run.Error,
		run.Lease.Name, run.Lease.Holder, run.Lease.Token)
	if err != nil {
		return store.Run{}, c.errorf("begin run %s: %w", run.ID, err)
	}
	return run, nil
}

// FinishRun records a run's end: status, counts, error and FinishedAt.
func (c *Core) FinishRun(ctx context.Context, run store.Run) error {
	run, err := PrepareFinish(run, c.D.clock())
	if err != nil {
		return err
	}
	rc := run.Counts
	n, err := c.DB.Exec(ctx, c.D.finishRun, string(run.Status), c.D.Time(run.FinishedAt),
		rc.Selected, rc.Added, rc.Updated, rc.Scanned, rc.Unchanged, rc.Failed, run.Error, run.ID)
	if err != nil {
		return c.errorf("finish run %s: %w", run.ID, err)
	}
	if n == 0 {
		return c.errorf("finish run %s: %w", run.ID, store.ErrNotFound)
	}
	return nil
}

// Run returns a run by id, or an error wrapping store.ErrNotFound.
func (c *Core) Run(ctx context.Context, id string) (store.Run, error) {
	if err := CheckRunID(id); err != nil {
		return store.Run{}, err
	}
	r, err := c.D.ScanRun(c.DB.QueryRow(ctx, "SELECT "+c.D.runList+" FROM runs WHERE id = "+c.D.Placeholder(1), id))
	if errors.Is(err, sql.ErrNoRows) {
		return store.Run{}, c.errorf("run %q: %w", id, store.ErrNotFound)
	}
	if err != nil {
		return store.Run{}, c.errorf("run %q: %w", id, err)
	}
	return r, nil
}

// Runs lists the runs q selects, newest first.
func (c *Core) Runs(ctx context.Context, q store.RunQuery) ([]store.Run, error) {
	where, limit, args, err := RunList(q, c.D)
	if err != nil {
		return nil, err
	}
	runs, err := c.runs(ctx, c.DB, "SELECT "+c.D.runList+" FROM runs"+where+" ORDER BY started_at DESC, "+c.D.RunSeq+" DESC"+limit, args)
	if err != nil {
		return nil, c.errorf("runs: %w", err)
	}
	return runs, nil
}

func (c *Core) runs(ctx context.Context, conn Conn, query string, args []any) ([]store.Run, error) {
	var runs []store.Run
	err := conn.Query(ctx, query, args, func(row Scanner) error {
		r, err := c.D.ScanRun(row)
		runs = append(runs, r)
		return err
	})
	return runs, err
}

// InterruptOrphanedRuns finishes as interrupted, in one statement, the
// connection's running runs whose holder no longer holds their lease with
// their token, judged by the store's clock.
func (c *Core) InterruptOrphanedRuns(ctx context.Context, connection string) ([]store.Run, error) {
	if err := CheckConnection("interrupt orphaned runs", connection); err != nil {
		return nil, err
	}
	var runs []store.Run
	err := c.DB.Write(ctx, func(conn Conn) error {
		var err error
		s := c.D.statement()
		runs, err = c.runs(ctx, conn, `UPDATE runs SET status = `+s.arg(string(store.RunInterrupted))+`, finished_at = `+s.now()+
			`, error = `+s.arg(store.OrphanedRunError)+`
			WHERE connection = `+s.arg(connection)+` AND status = `+s.arg(string(store.RunRunning))+` AND lease_name <> ''
			AND NOT EXISTS (SELECT 1 FROM leases l WHERE l.name = runs.lease_name AND l.holder = runs.lease_holder
				AND l.token = runs.lease_token AND l.expires_at > `+s.now()+`)
			RETURNING `+c.D.runList, s.args)
		return err
	})
	if err != nil {
		return nil, c.errorf("interrupt orphaned runs of %s: %w", connection, err)
	}
	slices.SortStableFunc(runs, func(a, b store.Run) int { return a.StartedAt.Compare(b.StartedAt) })
	return runs, nil
}

// AcquireLease takes the named lease for holder until ttl from now: one
// INSERT … ON CONFLICT DO UPDATE … WHERE on the lease's row, an atomic
// compare-and-set. It succeeds when the lease is free, released, expired,
// or held by holder (which keeps its token); otherwise the error wraps
// store.ErrLeaseHeld.
func (c *Core) AcquireLease(ctx context.Context, name, holder string, ttl time.Duration) (store.Lease, error) {
	if err := CheckLease(name, holder, ttl); err != nil {
		return store.Lease{}, err
	}
	l := store.Lease{Name: name, Holder: holder}
	cur := store.Lease{Name: name}
	claimed := false
	err := c.DB.Write(ctx, func(conn Conn) error {
		s := c.D.statement()
		err := conn.QueryRow(ctx, `INSERT INTO leases (name, holder, token, expires_at) VALUES (`+s.arg(name)+`, `+s.arg(holder)+`, 1, `+s.later(ttl)+`)
			ON CONFLICT (name) DO UPDATE SET
				token = CASE WHEN leases.holder = excluded.holder AND leases.expires_at > `+s.now()+` THEN leases.token ELSE leases.token + 1 END,
				holder = excluded.holder,
				expires_at = excluded.expires_at
			WHERE leases.holder = excluded.holder OR leases.holder = '' OR leases.expires_at <= `+s.now()+`
			RETURNING token, expires_at`, s.args...).Scan(&l.Token, c.D.TimeDest(&l.ExpiresAt))
		if err == nil {
			claimed = true
			return nil
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		return conn.QueryRow(ctx, `SELECT holder, token, expires_at FROM leases WHERE name = `+c.D.Placeholder(1), name).
			Scan(&cur.Holder, &cur.Token, c.D.TimeDest(&cur.ExpiresAt))
	})
	if err != nil {
		return store.Lease{}, c.errorf("acquire lease %q for %s: %w", name, holder, err)
	}
	if !claimed {
		return store.Lease{}, c.errorf("acquire lease %q for %s: %w", name, holder, &store.LeaseHeldError{Lease: cur})
	}
	c.held.Put(l)
	return l, nil
}

// RenewLease extends l to ttl from now if l.Holder still holds it with
// l.Token and it has not expired; otherwise the error wraps
// store.ErrLeaseLost.
func (c *Core) RenewLease(ctx context.Context, l store.Lease, ttl time.Duration) (store.Lease, error) {
	if err := CheckLease(l.Name, l.Holder, ttl); err != nil {
		return store.Lease{}, err
	}
	err := c.DB.Write(ctx, func(conn Conn) error {
		s := c.D.statement()
		return conn.QueryRow(ctx, `UPDATE leases SET expires_at = `+s.later(ttl)+`
			WHERE name = `+s.arg(l.Name)+` AND holder = `+s.arg(l.Holder)+` AND token = `+s.arg(l.Token)+` AND expires_at > `+s.now()+`
			RETURNING expires_at`, s.args...).Scan(c.D.TimeDest(&l.ExpiresAt))
	})
	if errors.Is(err, sql.ErrNoRows) {
		c.held.Drop(l)
		return store.Lease{}, c.errorf("renew lease %q for %s (token %d): %w", l.Name, l.Holder, l.Token, store.ErrLeaseLost)
	}
	if err != nil {
		return store.Lease{}, c.errorf("renew lease %q for %s: %w", l.Name, l.Holder, err)
	}
	c.held.Put(l)
	return l, nil
}

// ReleaseLease gives l up if it is still held with l.Token; releasing a lost
// lease is not an error. The row stays, so the next holder's token is
// larger.
func (c *Core) ReleaseLease(ctx context.Context, l store.Lease) error {
	if err := CheckRelease(l); err != nil {
		return err
	}
	if err := c.release(ctx, l); err != nil {
		return err
	}
	c.held.Drop(l)
	return nil
}

func (c *Core) release(ctx context.Context, l store.Lease) error {
	s := c.D.statement()
	_, err := c.DB.Exec(ctx, `UPDATE leases SET holder = '', expires_at = `+s.now()+`
		WHERE name = `+s.arg(l.Name)+` AND holder = `+s.arg(l.Holder)+` AND token = `+s.arg(l.Token), s.args...)
	if err != nil {
		return c.errorf("release lease %q for %s: %w", l.Name, l.Holder, err)
	}
	return nil
}

// ReleaseHeld releases the leases this store acquired and still holds,
// waiting up to timeout, as Close does.
func (c *Core) ReleaseHeld(timeout time.Duration) error {
	return c.held.ReleaseAll(timeout, c.release)
}

// Migrate applies the pending migrations of ms in the transaction conn,
// recording each in schema_version, whose table it creates if missing.
func (d Dialect) Migrate(ctx context.Context, conn Conn, ms []Migration) error {
	if _, err := conn.Exec(ctx, d.SchemaVersionTable); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	var have int
	if err := conn.QueryRow(ctx, `SELECT coalesce(max(version), 0) FROM schema_version`).Scan(&have); err != nil {
		return fmt.Errorf("migrate: read schema version: %w", err)
	}
	if have > len(ms) {
		return NewerSchemaError(have, len(ms))
	}
	for _, m := range ms[have:] {
		if _, err := conn.Exec(ctx, m.SQL); err != nil {
			return fmt.Errorf("migrate to version %d (%s): %w", m.Version, m.Name, err)
		}
		s := d.statement()
		if _, err := conn.Exec(ctx, `INSERT INTO schema_version (version, name, applied_at) VALUES (`+
			s.arg(m.Version)+`, `+s.arg(m.Name)+`, `+s.now()+`)`, s.args...); err != nil {
			return fmt.Errorf("migrate to version %d: %w", m.Version, err)
		}
	}
	return nil
}

// statement builds a statement's arguments, binding the store's clock once
// when it is Go's.
type statement struct {
	d     *Dialect
	args  []any
	nowPH string
}

func (d *Dialect) statement() *statement { return &statement{d: d} }

// arg binds v and returns its placeholder.
func (s *statement) arg(v any) string {
	s.args = append(s.args, v)
	return s.d.Placeholder(len(s.args))
}

// now renders the current time: the database's clock, or Go's, bound once
// per statement.
func (s *statement) now() string {
	if s.d.Clock == nil {
		return s.d.Now
	}
	if s.nowPH == "" {
		s.nowPH = s.arg(s.d.Time(Micro(s.d.Clock())))
	}
	return s.nowPH
}

// later renders the time ttl from now, to the microsecond.
func (s *statement) later(ttl time.Duration) string {
	if s.d.Clock == nil {
		return s.d.Later(s.arg(ttl.Microseconds()))
	}
	return s.arg(s.d.Time(Micro(s.d.Clock()).Add(ttl).Truncate(time.Microsecond)))
}

// clock returns the time the store stamps runs with when the caller leaves
// them unset.
func (d *Dialect) clock() time.Time {
	if d.Clock == nil {
		return time.Now()
	}
	return d.Clock()
}

// nowValue is the value an upsert binds as now (its last parameter), or
// nil when the database's clock is used.
func (d *Dialect) nowValue() any {
	if d.Clock == nil {
		return nil
	}
	return d.Time(Micro(d.Clock()))
}

// nullTime binds t, or NULL for the zero time.
func (d *Dialect) nullTime(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return d.Time(t)
}

// MicrosDest is a Scan destination that reads a time column into t: NULL
// as the zero time, microseconds since the epoch as that time in UTC.
func MicrosDest(t *time.Time) any { return microsDest{t} }

type microsDest struct{ t *time.Time }

// Scan reads what the driver found in the column.
func (d microsDest) Scan(src any) error {
	switch v := src.(type) {
	case nil:
		*d.t = time.Time{}
	case int64:
		*d.t = time.UnixMicro(v).UTC()
	default:
		return fmt.Errorf("time column holds a %T", src)
	}
	return nil
}

// writeColumns are the columns an upsert binds, in RecordArgs' order;
// created_at is last, for the upsert to default it.
var writeColumns = []string{"connection", "vrf", "address", "object_kind", "object_id", "object_name",
	"status", "reason", "wug_device_id", "scan_id", "scan_state", "scan_discovered", "fingerprint",
	"attempts", "last_error", "adopted", "written", "exported_at", "scan_triggered_at", "scan_completed_at", "created_at"}

// RecordColumns are every column of records, in ScanRecord's order:
// writeColumns, then updated_at.
var RecordColumns = append(slices.Clone(writeColumns), "updated_at")

// WriteColumns are the columns RecordArgs gives values for.
func WriteColumns() []string { return slices.Clone(writeColumns) }

var recordList = strings.Join(RecordColumns, ", ")

// UpsertSet is the ON CONFLICT clause of a record upsert: it replaces
// every column of a conflicting row but its key and created_at.
var UpsertSet = func() string {
	var sets []string
	for _, c := range RecordColumns[3:] {
		if c != "created_at" {
			sets = append(sets, c+" = excluded."+c)
		}
	}
	return " ON CONFLICT (connection, vrf, address) DO UPDATE SET " + strings.Join(sets, ", ")
}()

// RecordArgs are the values of writeColumns for r; created_at is NULL when
// zero, for the store to set.
func RecordArgs(r *store.Record, d Dialect) ([]any, error) {
	written, err := EncodeWritten(r.Written)
	if err != nil {
		return nil, err
	}
	// One spare place, for the time an upsert binds last.
	args := make([]any, 0, len(writeColumns)+1)
	return append(args, r.Connection, r.VRF, r.Address.String(), string(r.ObjectKind), r.ObjectID, r.ObjectName,
		string(r.Status), string(r.Reason), r.WUGDeviceID, r.ScanID, r.ScanState, r.ScanDiscovered,
		r.Fingerprint, r.Attempts, r.LastError, r.Adopted, written,
		d.nullTime(r.ExportedAt), d.nullTime(r.ScanTriggeredAt), d.nullTime(r.ScanCompletedAt), d.nullTime(r.CreatedAt)), nil
}

// ScanRecord reads a row of RecordColumns.
func (d *Dialect) ScanRecord(row Scanner) (store.Record, error) {
	var (
		r                                store.Record
		addr, kind, status, reason, writ string
	)
	if err := row.Scan(&r.Connection, &r.VRF, &addr, &kind, &r.ObjectID, &r.ObjectName, &status, &reason,
		&r.WUGDeviceID, &r.ScanID, &r.ScanState, &r.ScanDiscovered, &r.Fingerprint, &r.Attempts, &r.LastError,
		&r.Adopted, &writ, d.TimeDest(&r.ExportedAt), d.TimeDest(&r.ScanTriggeredAt), d.TimeDest(&r.ScanCompletedAt),
		d.TimeDest(&r.CreatedAt), d.TimeDest(&r.UpdatedAt)); err != nil {
		return store.Record{}, err
	}
	if err := DecodeRecord(&r, addr, kind, status, reason, writ); err != nil {
		return store.Record{}, err
	}
	return r, nil
}

// runColumns are the columns of runs, in ScanRun's and insertRun's order.
var runColumns = []string{"id", "connection", "kind", "run_trigger", "filters", "status", "started_at", "finished_at",
	"selected", "added", "updated", "scanned", "unchanged", "failed", "error", "lease_name", "lease_holder", "lease_token"}

// ScanRun reads a row of runColumns.
func (d *Dialect) ScanRun(row Scanner) (store.Run, error) {
	var (
		r                     store.Run
		kind, trigger, status string
		filters               *string
		rc                    = &r.Counts
	)
	if err := row.Scan(&r.ID, &r.Connection, &kind, &trigger, &filters, &status, d.TimeDest(&r.StartedAt), d.TimeDest(&r.FinishedAt),
		&rc.Selected, &rc.Added, &rc.Updated, &rc.Scanned, &rc.Unchanged, &rc.Failed, &r.Error,
		&r.Lease.Name, &r.Lease.Holder, &r.Lease.Token); err != nil {
		return store.Run{}, err
	}
	if err := DecodeRun(&r, kind, trigger, status, filters); err != nil {
		return store.Run{}, err
	}
	return r, nil
}

// placeholders renders the placeholders from..to, comma-separated.
func (d Dialect) placeholders(from, to int) string {
	ps := make([]string, 0, to-from+1)
	for n := from; n <= to; n++ {
		ps = append(ps, d.Placeholder(n))
	}
	return strings.Join(ps, ", ")
}

// Prepare builds the dialect's statements; a backend calls it once, on its
// Dialect value, before use.
func (d Dialect) Prepare() Dialect {
	p := d.Placeholder
	n := len(writeColumns)
	now := d.Now
	if d.Clock != nil {
		now = p(n + 1) // bound after the record's values
	}
	d.upsertRecord = "INSERT INTO records (" + recordList + ") VALUES (" + d.placeholders(1, n-1) +
		", coalesce(" + p(n) + ", " + now + "), " + now + ")" + UpsertSet
	d.deleteRecord = "DELETE FROM records WHERE connection = " + p(1) + " AND vrf = " + p(2) + " AND address = " + p(3)
	d.selectRecord = "SELECT " + recordList + " FROM records WHERE connection = " + p(1) + " AND vrf = " + p(2) + " AND address = " + p(3)
	cols := slices.Clone(runColumns)
	cols[4] = d.JSONText("filters")
	d.runList = strings.Join(cols, ", ")
	vals := strings.Split(d.placeholders(1, len(runColumns)), ", ")
	vals[4] = d.JSONParam(vals[4])
	d.insertRun = "INSERT INTO runs (" + strings.Join(runColumns, ", ") + ") VALUES (" + strings.Join(vals, ", ") + ")"
	d.finishRun = "UPDATE runs SET status = " + p(1) + ", finished_at = " + p(2) + ", selected = " + p(3) + ", added = " + p(4) +
		", updated = " + p(5) + ", scanned = " + p(6) + ", unchanged = " + p(7) + ", failed = " + p(8) + ", error = " + p(9) +
		" WHERE id = " + p(10)
	return d
}
