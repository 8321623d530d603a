package storetest

import (
	"fmt"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/wugsync/wugsync/store"
)

// moved is r at the address addr, as a renumbering leaves it: the same
// NetBox object, WUG device and CreatedAt.
func moved(r store.Record, addr string) store.Record {
	r.Address = netip.MustParseAddr(addr)
	r.Reason = store.ReasonIPChanged
	return r
}

func (s *suite) testReplaceRecords(t *testing.T) {
	st := s.open(t)
	recs := Records("wug-a", 12)
	mustUpsert(t, st, recs...)
	old := mustGet(t, st, recs[4].Key)
	if old.WUGDeviceID == "" || old.Written.IsZero() {
		t.Fatalf("record %s has no WUG device or nothing written; the test is broken", old.Key)
	}
	countsBefore, err := st.CountByStatus(ctx(t), "wug-a")
	if err != nil {
		t.Fatal(err)
	}

	// A renumbering: the record leaves its old address for a new one.
	next := moved(old, "198.51.100.4")
	changed := recs[5]
	changed.Attempts = 3
	before := time.Now()
	if err := st.ReplaceRecords(ctx(t), []store.Record{next, changed}, []store.Key{old.Key, key("wug-a", "", "203.0.113.250")}); err != nil {
		t.Fatalf("ReplaceRecords: %v", err)
	}
	after := time.Now()
	_, err = st.Record(ctx(t), old.Key)
	wantNotFound(t, "Record of the old address after the move", err)
	got := mustGet(t, st, next.Key)
	checkStamp(t, "UpdatedAt of the moved record", got.UpdatedAt, before, after)
	want := next
	want.UpdatedAt = got.UpdatedAt
	if diff := cmp.Diff(want, got, cmpOpts); diff != "" {
		t.Errorf("moved record mismatch (-want +got):\n%s", diff)
	}
	if got := mustGet(t, st, changed.Key); got.Attempts != 3 {
		t.Errorf("record upserted beside the move: attempts %d, want 3", got.Attempts)
	}
	countsAfter, err := st.CountByStatus(ctx(t), "wug-a")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(countsBefore, countsAfter); diff != "" {
		t.Errorf("counts changed by a move (-want +got):\n%s", diff)
	}
	if n := len(collect(t, st, store.Query{Connection: "wug-a"})); n != len(recs) {
		t.Errorf("store holds %d records after a move, want %d", n, len(recs))
	}

	// A key both deleted and upserted is upserted afresh: a new CreatedAt
	// when the record leaves it zero.
	again := mustGet(t, st, recs[6].Key)
	again.CreatedAt = time.Time{}
	before = time.Now()
	if err := st.ReplaceRecords(ctx(t), []store.Record{again}, []store.Key{again.Key}); err != nil {
		t.Fatal(err)
	}
	checkStamp(t, "CreatedAt of a key deleted and upserted", mustGet(t, st, again.Key).CreatedAt, before, time.Now())

	// Nothing to do is no error.
	if err := st.ReplaceRecords(ctx(t), nil, nil); err != nil {
		t.Errorf("ReplaceRecords(nil, nil) = %v, want nil", err)
	}
	// Only deletes, only upserts.
	if err := st.ReplaceRecords(ctx(t), nil, []store.Key{recs[7].Key}); err != nil {
		t.Fatal(err)
	}
	_, err = st.Record(ctx(t), recs[7].Key)
	wantNotFound(t, "Record after ReplaceRecords deleted it", err)
	if err := st.ReplaceRecords(ctx(t), []store.Record{recs[7]}, nil); err != nil {
		t.Fatal(err)
	}
	mustGet(t, st, recs[7].Key)
}

func (s *suite) testReplaceAllOrNothing(t *testing.T) {
	st := s.open(t)
	recs := Records("wug-a", 6)
	mustUpsert(t, st, recs...)
	stored := collect(t, st, store.Query{})
	badRec := Record("wug-a", 100)
	badRec.Written.Note = "\xff"
	noAddr := recs[1].Key
	noAddr.Address = netip.Addr{}
	for _, tc := range []struct {
		name    string
		upserts []store.Record
		deletes []store.Key
		words   []string
	}{
		{"an invalid record", []store.Record{moved(recs[0], "198.51.100.1"), badRec}, []store.Key{recs[0].Key}, []string{"written note", badRec.Key.String()}},
		{"an invalid key", []store.Record{moved(recs[0], "198.51.100.1")}, []store.Key{recs[0].Key, noAddr}, []string{"address"}},
	} {
		err := st.ReplaceRecords(ctx(t), tc.upserts, tc.deletes)
		if err == nil {
			t.Errorf("ReplaceRecords with %s succeeded", tc.name)
			continue
		}
		for _, w := range tc.words {
			if !strings.Contains(strings.ToLower(err.Error()), strings.ToLower(w)) {
				t.Errorf("ReplaceRecords with %s: error %q does not mention %q", tc.name, err, w)
			}
		}
		if diff := cmp.Diff(stored, collect(t, st, store.Query{}), cmpOpts); diff != "" {
			t.Errorf("ReplaceRecords with %s changed the store (-want +got):\n%s", tc.name, diff)
		}
	}
}

// testReplaceAtomic moves one record back and forth between two addresses
// while readers list the connection in one page (one statement): every
// listing holds the record exactly once, at one address or the other, so
// the delete and the upsert are never seen apart.
func (s *suite) testReplaceAtomic(t *testing.T) {
	st := s.open(t)
	recs := Records("wug-a", 20)
	mustUpsert(t, st, recs...)
	a := mustGet(t, st, recs[3].Key)
	b := moved(a, "198.51.100.3")
	// The mover goes on until the readers have listed the store a number
	// of times, and stops after an even number of moves.
	const moves, minListings = 40, 20
	var listings atomic.Int64
	var wg sync.WaitGroup
	done := make(chan struct{})
	errs := make(chan error, 4)
	wg.Go(func() {
		defer close(done)
		from, to := a, b
		// A reader that failed lists no more: the bound ends the moves then.
		for i := 0; i%2 == 1 || i < moves || (listings.Load() < minListings && i < 100_000); i++ {
			if err := st.ReplaceRecords(ctx(t), []store.Record{to}, []store.Key{from.Key}); err != nil {
				errs <- fmt.Errorf("move %s to %s: %w", from.Key, to.Key, err)
				return
			}
			from, to = to, from
		}
	})
	for range 2 {
		wg.Go(func() {
			for {
				select {
				case <-done:
					return
				default:
				}
				n, total := 0, 0
				for r, err := range st.Records(ctx(t), store.Query{Connection: "wug-a", PageSize: 100}) {
					if err != nil {
						errs <- err
						return
					}
					total++
					if r.Key == a.Key || r.Key == b.Key {
						n++
					}
				}
				if n != 1 || total != len(recs) {
					errs <- fmt.Errorf("a listing during the moves holds the moved record %d times among %d records, want once among %d", n, total, len(recs))
					return
				}
				listings.Add(1)
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if n := listings.Load(); n < minListings {
		t.Errorf("%d listings ran during the moves, want at least %d", n, minListings)
	}
	// After an even number of moves the record is back where it began.
	if diff := cmp.Diff(a, mustGet(t, st, a.Key), cmpOpts, cmpopts.IgnoreFields(store.Record{}, "UpdatedAt")); diff != "" {
		t.Errorf("record after the moves mismatch (-want +got):\n%s", diff)
	}
}
