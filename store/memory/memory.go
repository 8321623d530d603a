// Package memory is an in-memory store.Store for tests and one-shot runs.
//
// Records are kept in key order in a block index, and again in one index
// per connection and status, so a page of a million records costs a binary
// search and the page's records, not a scan, and counting by status costs a
// lookup per status. Nothing survives the process.
//
// Connect opens another Store on the same data, the way a second process
// would open the same database: each Store holds its own leases and
// releases them on Close.
package memory

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"iter"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/wugsync/wugsync/store"
	"github.com/wugsync/wugsync/store/internal/sqlstore"
)

// ErrClosed is returned by every method of a Store after Close.
var ErrClosed = errors.New("memory: store is closed")

// Option configures a Store.
type Option func(*data)

// WithClock sets the clock the store reads for UpdatedAt, run times and
// lease expiry; the default is time.Now.
func WithClock(now func() time.Time) Option {
	return func(d *data) { d.now = now }
}

// Store is an in-memory store.Store, safe for concurrent use.
type Store struct {
	d *data

	held   sqlstore.Held // leases acquired through this Store
	closed atomic.Bool
}

// data is what every Store opened by Connect shares.
type data struct {
	now func() time.Time

	mu       sync.RWMutex
	recs     map[store.Key]*entry
	idx      index                 // every record
	byStatus map[connStatus]*index // a connection's records of one status
	runs     map[string]*runEntry
	runSeq   int64
	leases   map[string]store.Lease // a released lease keeps its token and has no holder
}

type connStatus struct {
	conn   string
	status store.Status
}

type runEntry struct {
	seq int64 // tie-break for runs started in the same microsecond
	run store.Run
}

var _ store.Store = (*Store)(nil)

// New returns an empty Store.
func New(opts ...Option) *Store {
	d := &data{
		now:      time.Now,
		recs:     make(map[store.Key]*entry),
		byStatus: make(map[connStatus]*index),
		runs:     make(map[string]*runEntry),
		leases:   make(map[string]store.Lease),
	}
	for _, o := range opts {
		o(d)
	}
	return &Store{d: d}
}

// Connect returns another Store on the same data, as a second process
// opening the same database would get. Closing either releases only the
// leases acquired through it.
func (s *Store) Connect() *Store {
	return &Store{d: s.d}
}

// check returns bad (a method's verdict on its arguments), the context's
// error or ErrClosed, the first that is not nil.
func (s *Store) check(ctx context.Context, bad error) error {
	if bad != nil {
		return bad
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if s.closed.Load() {
		return ErrClosed
	}
	return nil
}

// clock reads the store's clock as the store keeps times: UTC, whole
// microseconds.
func (d *data) clock() time.Time { return sqlstore.Micro(d.now()) }

// UpsertRecords inserts or replaces records by key, all or none.
func (s *Store) UpsertRecords(ctx context.Context, recs []store.Record) error {
	return s.ReplaceRecords(ctx, recs, nil)
}

// DeleteRecords deletes records by key; missing keys are ignored.
func (s *Store) DeleteRecords(ctx context.Context, keys []store.Key) error {
	return s.ReplaceRecords(ctx, nil, keys)
}

// ReplaceRecords deletes the records of deletes and then upserts upserts,
// all or none.
func (s *Store) ReplaceRecords(ctx context.Context, upserts []store.Record, deletes []store.Key) error {
	if err := s.check(ctx, cmp.Or(store.ValidateRecords(upserts), sqlstore.CheckKeys(deletes))); err != nil {
		return err
	}
	d := s.d
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, k := range deletes {
		e, ok := d.recs[k]
		if !ok {
			continue
		}
		delete(d.recs, k)
		d.idx.remove(e.sk)
		d.statusIndex(e.rec.Connection, e.rec.Status).remove(e.sk)
	}
	now := d.clock()
	for _, r := range upserts {
		r.CreatedAt = sqlstore.Micro(r.CreatedAt)
		r.UpdatedAt = now
		r.ExportedAt = sqlstore.Micro(r.ExportedAt)
		r.ScanTriggeredAt = sqlstore.Micro(r.ScanTriggeredAt)
		r.ScanCompletedAt = sqlstore.Micro(r.ScanCompletedAt)
		r.Written = cloneWritten(r.Written)
		e, ok := d.recs[r.Key]
		if !ok {
			if r.CreatedAt.IsZero() {
				r.CreatedAt = now
			}
			e = &entry{sk: keyOf(r.Key), rec: r}
			d.recs[r.Key] = e
			d.idx.insert(e)
			d.statusIndex(r.Connection, r.Status).insert(e)
			continue
		}
		r.CreatedAt = e.rec.CreatedAt
		if r.Status != e.rec.Status {
			d.statusIndex(r.Connection, e.rec.Status).remove(e.sk)
			d.statusIndex(r.Connection, r.Status).insert(e)
		}
		e.rec = r
	}
	return nil
}

// cloneWritten copies w as a SQL store would keep it: the zero value
// (empty attributes included) as the zero value.
func cloneWritten(w store.Written) store.Written {
	if w.IsZero() {
		return store.Written{}
	}
	return w.Clone()
}

// out returns a stored record for a caller: a copy sharing no map with
// the store.
func out(r store.Record) store.Record {
	r.Written = r.Written.Clone()
	return r
}

// statusIndex returns the index of a connection's records of one status.
func (d *data) statusIndex(conn string, st store.Status) *index {
	k := connStatus{conn, st}
	x := d.byStatus[k]
	if x == nil {
		x = new(index)
		d.byStatus[k] = x
	}
	return x
}

// Record returns the record for key, or an error wrapping store.ErrNotFound.
func (s *Store) Record(ctx context.Context, key store.Key) (store.Record, error) {
	if err := s.check(ctx, key.Validate()); err != nil {
		return store.Record{}, err
	}
	r, ok := get(s.d, s.d.recs, key, func(e *entry) store.Record { return out(e.rec) })
	if !ok {
		return store.Record{}, fmt.Errorf("memory: record %s: %w", key, store.ErrNotFound)
	}
	return r, nil
}

// get reads the value of m under k with read, under the read lock.
func get[K comparable, V, T any](d *data, m map[K]V, k K, read func(V) T) (T, bool) {
	d.mu.RLock()
	defer d.mu.RUnlock()
	v, ok := m[k]
	if !ok {
		var zero T
		return zero, false
	}
	return read(v), true
}

// query is a store.Query copied and prepared for matching.
type query struct {
	conn     string
	statuses []store.Status // sorted, without repeats
	kind     store.ObjectKind
	objectID int64
	vrf      *string
	addr     string
	search   string // lowered (sqlstore.LowerASCII)
	since    time.Time
	size     int
	skip     int // records still to skip (Offset)
}

func (q *query) match(r *store.Record, sk sortKey) bool {
	return (q.statuses == nil || slices.Contains(q.statuses, r.Status)) &&
		(q.kind == "" || r.ObjectKind == q.kind) &&
		(q.objectID == 0 || r.ObjectID == q.objectID) &&
		(q.vrf == nil || r.VRF == *q.vrf) &&
		(q.addr == "" || sk.addr == q.addr) &&
		(q.search == "" || sqlstore.ContainsFoldASCII(sk.addr, q.search) || sqlstore.ContainsFoldASCII(r.ObjectName, q.search)) &&
		(q.since.IsZero() || !r.UpdatedAt.Before(q.since))
}

// beyond reports whether sk and every key after it are outside q's range.
func (q *query) beyond(sk sortKey) bool {
	if q.conn == "" {
		return false
	}
	if c := cmp.Compare(sk.conn, q.conn); c != 0 {
		return c > 0
	}
	return q.vrf != nil && sk.vrf > *q.vrf
}

// pages pools the buffers Records reads pages into, up to maxPooledPage
// entries each.
var pages = sync.Pool{New: func() any { return new([]entry) }}

const maxPooledPage = 4096

// newQuery prepares q for matching, and returns where its records begin:
// just after the cursor, or the first key of the connection (and VRF),
// whichever is later; nil for the first key of all.
func newQuery(q store.Query) (pq query, start *sortKey, strict bool) {
	pq = query{conn: q.Connection, kind: q.ObjectKind, objectID: q.ObjectID, since: q.ChangedSince, size: q.PageSize,
		search: sqlstore.LowerASCII(q.Search), skip: q.Offset}
	if len(q.Statuses) > 0 {
		pq.statuses = slices.Clone(q.Statuses)
		slices.Sort(pq.statuses)
		pq.statuses = slices.Compact(pq.statuses)
	}
	if q.VRF != nil {
		vrf := *q.VRF
		pq.vrf = &vrf
	}
	if q.Address.IsValid() {
		pq.addr = q.Address.String()
	}
	if pq.size == 0 {
		pq.size = sqlstore.DefaultPageSize
	}
	if q.After != nil {
		k := keyOf(*q.After)
		start, strict = &k, true
	}
	if pq.conn != "" {
		lo := sortKey{conn: pq.conn}
		if pq.vrf != nil {
			lo.vrf = *pq.vrf
		}
		if start == nil || start.compare(lo) < 0 {
			start, strict = &lo, false
		}
	}
	return pq, start, strict
}

// Records streams the records q selects in key order, a page at a time. The
// store's lock is held only while a page is read, so the caller may write
// to the store while iterating.
func (s *Store) Records(ctx context.Context, q store.Query) iter.Seq2[store.Record, error] {
	bad := sqlstore.CheckQuery(q) // judged now: the caller may change q later
	pq, start, strict := newQuery(q)
	return func(yield func(store.Record, error) bool) {
		if bad != nil {
			yield(store.Record{}, bad)
			return
		}
		start, strict, pq := start, strict, pq // each range starts afresh
		// Page buffers are pooled: with a large store, a fresh buffer per
		// page would cost more in garbage collection than the page itself.
		bp := pages.Get().(*[]entry)
		buf := *bp
		defer func() {
			if cap(buf) > maxPooledPage {
				return // a rare huge page is left to the collector
			}
			clear(buf[:cap(buf)])
			*bp = buf[:0]
			pages.Put(bp)
		}()
		for {
			if err := s.check(ctx, nil); err != nil {
				yield(store.Record{}, err)
				return
			}
			page, more := s.d.page(&pq, start, strict, buf[:0])
			buf = page
			for i := range page {
				if err := ctx.Err(); err != nil {
					yield(store.Record{}, err)
					return
				}
				if !yield(out(page[i].rec), nil) {
					return
				}
			}
			if !more {
				return
			}
			last := page[len(page)-1].sk // buf is reused for the next page
			start, strict = &last, true
		}
	}
}

// page appends to page up to q.size matching records from start on, past
// the q.skip first ones, and reports whether more may follow. A query for
// statuses of one connection reads the status indexes (and merges what they
// yield, unless records are to be skipped: skipping needs them in one
// order).
func (d *data) page(q *query, start *sortKey, strict bool, page []entry) ([]entry, bool) {
	d.mu.RLock()
	defer d.mu.RUnlock()
	if q.conn == "" || q.statuses == nil || (q.skip > 0 && len(q.statuses) > 1) {
		return q.scan(&d.idx, start, strict, page)
	}
	// A status index holds only its status: no need to check it again.
	byStatus := *q
	byStatus.statuses = nil
	more := false
	for _, st := range q.statuses {
		if x := d.byStatus[connStatus{q.conn, st}]; x != nil {
			var full bool
			page, full = byStatus.scan(x, start, strict, page)
			more = more || full
		}
	}
	q.skip = byStatus.skip
	if len(q.statuses) > 1 {
		slices.SortFunc(page, func(a, b entry) int { return a.sk.compare(b.sk) })
		if len(page) > q.size {
			page, more = page[:q.size], true
		}
	}
	return page, more
}

// walk calls fn with each record of x that q selects, from start on, until
// fn returns false.
func (q *query) walk(x *index, start *sortKey, strict bool, fn func(e *entry) bool) {
	var p pos
	var ok bool
	if start == nil {
		p, ok = x.first()
	} else {
		p, ok = x.seek(*start, strict)
	}
	for ; ok; p, ok = x.next(p) {
		e := x.at(p)
		if q.beyond(e.sk) {
			return
		}
		if q.match(&e.rec, e.sk) && !fn(e) {
			return
		}
	}
}

// scan appends to page up to q.size records of x that q selects, from
// start on, past the q.skip first ones (which it counts down), and reports
// whether it stopped because it had enough.
func (q *query) scan(x *index, start *sortKey, strict bool, page []entry) ([]entry, bool) {
	n, full := 0, false
	q.walk(x, start, strict, func(e *entry) bool {
		if q.skip > 0 {
			q.skip--
			return true
		}
		page = append(page, *e)
		n++
		full = n == q.size
		return !full
	})
	return page, full
}

// CountRecords counts the records q selects, After, Offset and PageSize
// aside: from the status indexes' sizes when q selects by connection and
// status alone, else by walking them.
func (s *Store) CountRecords(ctx context.Context, q store.Query) (int, error) {
	if err := s.check(ctx, sqlstore.CheckQuery(q)); err != nil {
		return 0, err
	}
	q.After, q.Offset = nil, 0
	pq, start, strict := newQuery(q)
	s.d.mu.RLock()
	defer s.d.mu.RUnlock()
	n := 0
	if pq.conn != "" && pq.kind == "" && pq.objectID == 0 && pq.vrf == nil && pq.addr == "" && pq.search == "" && pq.since.IsZero() {
		statuses := pq.statuses
		if statuses == nil {
			statuses = store.Statuses
		}
		for _, st := range statuses {
			if x := s.d.byStatus[connStatus{pq.conn, st}]; x != nil {
				n += x.n
			}
		}
		return n, nil
	}
	pq.walk(&s.d.idx, start, strict, func(*entry) bool { n++; return true })
	return n, nil
}

// CountByStatus counts a connection's records by status.
func (s *Store) CountByStatus(ctx context.Context, connection string) (map[store.Status]int, error) {
	if err := s.check(ctx, sqlstore.CheckConnection("count by status", connection)); err != nil {
		return nil, err
	}
	out := sqlstore.CountMap()
	s.d.mu.RLock()
	defer s.d.mu.RUnlock()
	for _, st := range store.Statuses {
		if x := s.d.byStatus[connStatus{connection, st}]; x != nil {
			out[st] = x.n
		}
	}
	return out, nil
}

// cloneRun copies r so that it shares no map or slice with the store.
func cloneRun(r store.Run) store.Run {
	r.Filters = sqlstore.CloneFilters(r.Filters)
	return r
}

// BeginRun records a run as running and returns it with ID and StartedAt
// set.
func (s *Store) BeginRun(ctx context.Context, run store.Run) (store.Run, error) {
	run, err := sqlstore.PrepareRun(run, s.d.clock())
	if err := s.check(ctx, err); err != nil {
		return store.Run{}, err
	}
	d := s.d
	d.mu.Lock()
	defer d.mu.Unlock()
	if _, ok := d.runs[run.ID]; ok {
		return store.Run{}, fmt.Errorf("memory: begin run %q: a run with that id exists", run.ID)
	}
	d.runSeq++
	d.runs[run.ID] = &runEntry{seq: d.runSeq, run: run}
	return cloneRun(run), nil
}

// FinishRun records a run's end: status, counts, error and FinishedAt (now,
// when zero).
func (s *Store) FinishRun(ctx context.Context, run store.Run) error {
	run, err := sqlstore.PrepareFinish(run, s.d.clock())
	if err := s.check(ctx, err); err != nil {
		return err
	}
	d := s.d
	d.mu.Lock()
	defer d.mu.Unlock()
	e, ok := d.runs[run.ID]
	if !ok {
		return fmt.Errorf("memory: finish run %q: %w", run.ID, store.ErrNotFound)
	}
	e.run.Status = run.Status
	e.run.Counts = run.Counts
	e.run.Error = run.Error
	e.run.FinishedAt = run.FinishedAt
	return nil
}

// Run returns a run by id, or an error wrapping store.ErrNotFound.
func (s *Store) Run(ctx context.Context, id string) (store.Run, error) {
	if err := s.check(ctx, sqlstore.CheckRunID(id)); err != nil {
		return store.Run{}, err
	}
	r, ok := get(s.d, s.d.runs, id, func(e *runEntry) store.Run { return cloneRun(e.run) })
	if !ok {
		return store.Run{}, fmt.Errorf("memory: run %q: %w", id, store.ErrNotFound)
	}
	return r, nil
}

// Runs lists the runs q selects, newest first.
func (s *Store) Runs(ctx context.Context, q store.RunQuery) ([]store.Run, error) {
	if err := s.check(ctx, sqlstore.CheckRunQuery(q)); err != nil {
		return nil, err
	}
	limit := q.Limit
	if limit == 0 {
		limit = sqlstore.DefaultRunLimit
	}
	s.d.mu.RLock()
	var sel []*runEntry
	for _, e := range s.d.runs {
		r := &e.run
		if (q.Connection == "" || r.Connection == q.Connection) &&
			(q.Kind == "" || r.Kind == q.Kind) &&
			(q.Status == "" || r.Status == q.Status) {
			sel = append(sel, e)
		}
	}
	slices.SortFunc(sel, func(a, b *runEntry) int {
		if c := b.run.StartedAt.Compare(a.run.StartedAt); c != 0 {
			return c
		}
		return cmp.Compare(b.seq, a.seq)
	})
	sel = sel[:min(limit, len(sel))]
	out := make([]store.Run, len(sel))
	for i, e := range sel {
		out[i] = cloneRun(e.run)
	}
	s.d.mu.RUnlock()
	return out, nil
}

// InterruptOrphanedRuns finishes as interrupted the connection's running
// runs whose holder no longer holds their lease.
func (s *Store) InterruptOrphanedRuns(ctx context.Context, connection string) ([]store.Run, error) {
	if err := s.check(ctx, sqlstore.CheckConnection("interrupt orphaned runs", connection)); err != nil {
		return nil, err
	}
	d := s.d
	d.mu.Lock()
	defer d.mu.Unlock()
	now := d.clock()
	var out []*runEntry
	for _, e := range d.runs {
		r := &e.run
		if r.Connection != connection || r.Status != store.RunRunning || r.Lease.Name == "" {
			continue
		}
		if l := d.leases[r.Lease.Name]; l.Holder == r.Lease.Holder && l.Token == r.Lease.Token && now.Before(l.ExpiresAt) {
			continue
		}
		r.Status, r.Error, r.FinishedAt = store.RunInterrupted, store.OrphanedRunError, now
		out = append(out, e)
	}
	slices.SortFunc(out, func(a, b *runEntry) int {
		if c := a.run.StartedAt.Compare(b.run.StartedAt); c != 0 {
			return c
		}
		return cmp.Compare(a.seq, b.seq)
	})
	runs := make([]store.Run, len(out))
	for i, e := range out {
		runs[i] = cloneRun(e.run)
	}
	return runs, nil
}

// AcquireLease takes the named lease for holder for ttl, or returns an error
// wrapping store.ErrLeaseHeld.
func (s *Store) AcquireLease(ctx context.Context, name, holder string, ttl time.Duration) (store.Lease, error) {
	if err := s.check(ctx, sqlstore.CheckLease(name, holder, ttl)); err != nil {
		return store.Lease{}, err
	}
	d := s.d
	d.mu.Lock()
	now := d.clock()
	l := d.leases[name]
	live := l.Holder != "" && now.Before(l.ExpiresAt)
	if live && l.Holder != holder {
		d.mu.Unlock()
		return store.Lease{}, fmt.Errorf("memory: acquire lease %q for %q: %w", name, holder, &store.LeaseHeldError{Lease: l})
	}
	if !live {
		l.Token++
	}
	l.Name, l.Holder, l.ExpiresAt = name, holder, sqlstore.Micro(now.Add(ttl))
	d.leases[name] = l
	d.mu.Unlock()

	s.held.Put(l)
	return l, nil
}

// RenewLease extends l to ttl from now if l.Holder still holds it with
// l.Token and it has not expired; otherwise the error wraps
// store.ErrLeaseLost.
func (s *Store) RenewLease(ctx context.Context, l store.Lease, ttl time.Duration) (store.Lease, error) {
	if err := s.check(ctx, sqlstore.CheckLease(l.Name, l.Holder, ttl)); err != nil {
		return store.Lease{}, err
	}
	d := s.d
	d.mu.Lock()
	now := d.clock()
	cur := d.leases[l.Name]
	if cur.Holder != l.Holder || cur.Token != l.Token || !now.Before(cur.ExpiresAt) {
		d.mu.Unlock()
		s.held.Drop(l)
		return store.Lease{}, fmt.Errorf("memory: renew lease %q for %q (token %d): %w", l.Name, l.Holder, l.Token, store.ErrLeaseLost)
	}
	cur.ExpiresAt = sqlstore.Micro(now.Add(ttl))
	d.leases[l.Name] = cur
	d.mu.Unlock()
	s.held.Put(cur)
	return cur, nil
}

// ReleaseLease gives the lease up if l still holds it.
func (s *Store) ReleaseLease(ctx context.Context, l store.Lease) error {
	if err := s.check(ctx, sqlstore.CheckRelease(l)); err != nil {
		return err
	}
	s.d.release(l)
	s.held.Drop(l)
	return nil
}

// release frees the named lease if l.Holder still holds it with l.Token.
func (d *data) release(l store.Lease) {
	d.mu.Lock()
	defer d.mu.Unlock()
	cur, ok := d.leases[l.Name]
	if !ok || cur.Holder == "" || cur.Holder != l.Holder || cur.Token != l.Token {
		return
	}
	cur.Holder, cur.ExpiresAt = "", time.Time{}
	d.leases[l.Name] = cur
}

// Close releases the leases acquired through s. Later calls return
// ErrClosed; Close itself may be called again.
func (s *Store) Close() error {
	s.closed.Store(true)
	for _, l := range s.held.Take() {
		s.d.release(l)
	}
	return nil
}
