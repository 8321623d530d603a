// Package storetest is the conformance suite every store.Store backend
// runs, with shared benchmarks and a deterministic record generator.
//
// Each subtest runs on a fresh store and checks one promise of the
// store.Store contract: every field of a Record and a Run round-trips (times
// in UTC, truncated to the microsecond), upserts replace whole records in
// one all-or-nothing transaction, a record moves to a new key atomically
// (ReplaceRecords), bad records are refused with an error
// naming them, every Query filter and the cursor select exactly what they
// say in Key.Compare order (an offset skips as many, a count counts them),
// paging neither skips nor repeats a record while
// other goroutines write, counts by status follow every change, runs list
// newest first, a running run whose holder lost its lease is finished as
// interrupted and no other, leases are exclusive, expire, are taken over with a higher
// token and are released by Close, a cancelled context stops every method,
// a closed store fails every call, arguments a method cannot act on are
// refused with an error naming the field, and no slice or map is shared
// with the caller.
//
// A backend's test file is a few lines:
//
//	func TestStore(t *testing.T) {
//		storetest.Run(t, func(t *testing.T) store.Store {
//			s, err := mybackend.Open(filepath.Join(t.TempDir(), "state.db"))
//			if err != nil {
//				t.Fatal(err)
//			}
//			return s
//		})
//	}
//
// The suite closes every store it is given; neither New nor the open
// function Backend returns should close one.
package storetest

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/wugsync/wugsync/store"
)

// Options configures RunWithOptions.
type Options struct {
	// New returns a fresh, empty store for one subtest. When it is nil,
	// the suite opens one instance of a fresh Backend instead; one of the
	// two is required.
	New func(t *testing.T) store.Store
	// Backend, when set, prepares one fresh, empty backend for a subtest and
	// returns a function that opens a Store on it; every call opens another
	// instance, as another process would (two SQLite handles on one file,
	// two pools on one PostgreSQL schema). The subtests that need two
	// instances or a reopen skip without it.
	Backend func(t *testing.T) (open func() store.Store)
	// Serial runs the subtests one at a time instead of with t.Parallel.
	Serial bool
}

// Run runs the conformance suite on the stores newStore returns.
func Run(t *testing.T, newStore func(t *testing.T) store.Store) {
	t.Helper()
	RunWithOptions(t, Options{New: newStore})
}

// RunWithOptions runs the conformance suite as opts says.
func RunWithOptions(t *testing.T, opts Options) {
	t.Helper()
	if opts.New == nil && opts.Backend == nil {
		t.Fatal("storetest: Options.New and Options.Backend are both nil")
	}
	s := &suite{opts: opts}
	tests := []struct {
		name string
		fn   func(t *testing.T)
	}{
		{"RecordRoundTrip", s.testRecordRoundTrip},
		{"UpsertReplaces", s.testUpsertReplaces},
		{"UpsertBatchOrder", s.testUpsertBatchOrder},
		{"UpsertBatchDuplicates", s.testUpsertBatchDuplicates},
		{"UpsertLargeBatch", s.testUpsertLargeBatch},
		{"UpsertEmptyBatch", s.testUpsertEmptyBatch},
		{"BadInputWritesNothing", s.testBadInput},
		{"BadArguments", s.testBadArguments},
		{"NotFound", s.testNotFound},
		{"QueryFilters", s.testQueryFilters},
		{"KeyOrder", s.testKeyOrder},
		{"Pagination", s.testPagination},
		{"IterationBreak", s.testIterationBreak},
		{"PaginationWhileWriting", s.testPaginationWhileWriting},
		{"WriteWhileIterating", s.testWriteWhileIterating},
		{"CountByStatus", s.testCountByStatus},
		{"DeleteRecords", s.testDeleteRecords},
		{"ReplaceRecords", s.testReplaceRecords},
		{"ReplaceAllOrNothing", s.testReplaceAllOrNothing},
		{"ReplaceAtomic", s.testReplaceAtomic},
		{"ConcurrentWriters", s.testConcurrentWriters},
		{"RunRoundTrip", s.testRunRoundTrip},
		{"Runs", s.testRuns},
		{"LeaseExclusive", s.testLeaseExclusive},
		{"LeaseReacquire", s.testLeaseReacquire},
		{"LeaseExpiryAndTakeover", s.testLeaseExpiry},
		{"LeaseReacquireExpired", s.testLeaseReacquireExpired},
		{"LeaseRenew", s.testLeaseRenew},
		{"LeaseRelease", s.testLeaseRelease},
		{"LeaseHeldError", s.testLeaseHeldError},
		{"InterruptOrphanedRuns", s.testInterruptOrphanedRuns},
		{"Cancellation", s.testCancellation},
		{"CancelWhileIterating", s.testCancelWhileIterating},
		{"ValuesIsolated", s.testValuesIsolated},
		{"CloseReleasesLeases", s.testCloseReleasesLeases},
		{"UseAfterClose", s.testUseAfterClose},
		{"SharedBackend", s.testSharedBackend},
		{"InstancesRace", s.testInstancesRace},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if !opts.Serial {
				t.Parallel()
			}
			tt.fn(t)
		})
	}
}

type suite struct {
	opts Options
}

// open returns a fresh store that is closed when the test ends.
func (s *suite) open(t *testing.T) store.Store {
	t.Helper()
	if s.opts.New == nil {
		return s.backend(t)()
	}
	st := s.opts.New(t)
	if st == nil {
		t.Fatal("storetest: Options.New returned nil")
	}
	return closeAtEnd(t, st)
}

// backend returns an opener of instances on one fresh backend, each closed
// when the test ends, or skips the test.
func (s *suite) backend(t *testing.T) func() store.Store {
	t.Helper()
	if s.opts.Backend == nil {
		t.Skip("storetest: Options.Backend is not set; skipping the test that needs two instances of one backend")
	}
	open := s.opts.Backend(t)
	return func() store.Store {
		t.Helper()
		st := open()
		if st == nil {
			t.Fatal("storetest: Options.Backend's open returned nil")
		}
		return closeAtEnd(t, st)
	}
}

// closer is a store whose Close runs once, so a test may close it early.
type closer struct {
	store.Store
	once sync.Once
	err  error
}

func (c *closer) Close() error {
	c.once.Do(func() { c.err = c.Store.Close() })
	return c.err
}

// closeAtEnd closes st when the test or benchmark ends, unless it was
// closed before.
func closeAtEnd(tb testing.TB, st store.Store) store.Store {
	c := &closer{Store: st}
	tb.Cleanup(func() {
		if err := c.Close(); err != nil {
			tb.Errorf("Close: %v", err)
		}
	})
	return c
}

// ctx returns a context that ends with the test.
func ctx(t *testing.T) context.Context { return t.Context() }

// opts compares stored values: times by instant and location, addresses by
// value, nil and empty maps and slices alike.
var cmpOpts = cmp.Options{
	cmp.Comparer(func(a, b time.Time) bool { return a.Equal(b) && a.Location() == b.Location() }),
	cmp.Comparer(func(a, b netip.Addr) bool { return a == b }),
	cmpopts.EquateEmpty(),
}

// norm is a time as a store must return it.
func norm(tm time.Time) time.Time {
	if tm.IsZero() {
		return time.Time{}
	}
	return tm.UTC().Truncate(time.Microsecond)
}

// normRecord is r as a store must return it, apart from CreatedAt and
// UpdatedAt.
func normRecord(r store.Record) store.Record {
	r.CreatedAt = norm(r.CreatedAt)
	r.UpdatedAt = norm(r.UpdatedAt)
	r.ExportedAt = norm(r.ExportedAt)
	r.ScanTriggeredAt = norm(r.ScanTriggeredAt)
	r.ScanCompletedAt = norm(r.ScanCompletedAt)
	return r
}

// checkStamp checks that a store-set time is in UTC, whole microseconds,
// and between lo (truncated) and hi.
func checkStamp(t *testing.T, what string, got, lo, hi time.Time) {
	t.Helper()
	if got.Location() != time.UTC {
		t.Errorf("%s = %v: location %v, want UTC", what, got, got.Location())
	}
	if got.Nanosecond()%1000 != 0 {
		t.Errorf("%s = %v: not truncated to the microsecond", what, got)
	}
	if got.Before(lo.Truncate(time.Microsecond)) || got.After(hi) {
		t.Errorf("%s = %v, want between %v and %v", what, got, lo.UTC(), hi.UTC())
	}
}

// mustUpsert upserts recs or fails the test.
func mustUpsert(t *testing.T, st store.Store, recs ...store.Record) {
	t.Helper()
	if err := st.UpsertRecords(ctx(t), recs); err != nil {
		t.Fatalf("UpsertRecords(%d records): %v", len(recs), err)
	}
}

// mustGet returns the record for k or fails the test.
func mustGet(t *testing.T, st store.Store, k store.Key) store.Record {
	t.Helper()
	r, err := st.Record(ctx(t), k)
	if err != nil {
		t.Fatalf("Record(%s): %v", k, err)
	}
	return r
}

// collect returns every record q selects, failing the test on an error or
// on a key out of order (which also ends an iteration that would not stop).
func collect(t *testing.T, st store.Store, q store.Query) []store.Record {
	t.Helper()
	var out []store.Record
	var failure error
	for r, err := range st.Records(ctx(t), q) {
		if err != nil {
			failure = err
			break
		}
		if n := len(out); n > 0 && out[n-1].Key.Compare(r.Key) >= 0 {
			failure = fmt.Errorf("record %d: key %s does not sort after %s (out of order or repeated)", n, r.Key, out[n-1].Key)
			break
		}
		out = append(out, r)
	}
	if failure != nil {
		t.Fatalf("Records(%+v): %v", q, failure)
	}
	return out
}

// keys returns the keys of recs.
func keys(recs []store.Record) []store.Key {
	out := make([]store.Key, len(recs))
	for i := range recs {
		out[i] = recs[i].Key
	}
	return out
}

// checkOrder fails the test unless keys are strictly increasing.
func checkOrder(t *testing.T, ks []store.Key) {
	t.Helper()
	for i := 1; i < len(ks); i++ {
		if ks[i-1].Compare(ks[i]) >= 0 {
			t.Fatalf("keys out of order or repeated at %d: %s then %s", i, ks[i-1], ks[i])
		}
	}
}

// key is shorthand for a key in tests.
func key(conn, vrf, addr string) store.Key {
	return store.Key{Connection: conn, VRF: vrf, Address: netip.MustParseAddr(addr)}
}

// wantNotFound fails the test unless err wraps store.ErrNotFound.
func wantNotFound(t *testing.T, what string, err error) {
	t.Helper()
	if !errors.Is(err, store.ErrNotFound) {
		t.Errorf("%s: error %v, want one wrapping store.ErrNotFound", what, err)
	}
}
