package storetest

import (
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/wugsync/wugsync/store"
)

// wantLost fails the test unless renewing l for ttl fails with an error
// wrapping store.ErrLeaseLost; what says which renewal.
func wantLost(t *testing.T, st store.Store, l store.Lease, ttl time.Duration, what string) {
	t.Helper()
	if _, err := st.RenewLease(ctx(t), l, ttl); !errors.Is(err, store.ErrLeaseLost) {
		t.Errorf("%s: %v, want an error wrapping store.ErrLeaseLost", what, err)
	}
}

// acquire takes a lease or fails the test, and checks what came back.
func acquire(t *testing.T, st store.Store, name, holder string, ttl time.Duration) store.Lease {
	t.Helper()
	before := time.Now()
	l, err := st.AcquireLease(ctx(t), name, holder, ttl)
	after := time.Now()
	if err != nil {
		t.Fatalf("AcquireLease(%q, %q): %v", name, holder, err)
	}
	if l.Name != name || l.Holder != holder || l.Token <= 0 {
		t.Errorf("AcquireLease(%q, %q) = %+v, want that name and holder and a positive token", name, holder, l)
	}
	checkStamp(t, "lease ExpiresAt", l.ExpiresAt, before.Add(ttl), after.Add(ttl))
	return l
}

// wantHeld fails the test unless holder cannot acquire the lease.
func wantHeld(t *testing.T, st store.Store, name, holder string) {
	t.Helper()
	l, err := st.AcquireLease(ctx(t), name, holder, time.Minute)
	if !errors.Is(err, store.ErrLeaseHeld) {
		t.Errorf("AcquireLease(%q, %q) = %+v, %v; want an error wrapping store.ErrLeaseHeld", name, holder, l, err)
	}
}

func (s *suite) testLeaseExclusive(t *testing.T) {
	st := s.open(t)
	acquire(t, st, "export/wug-a", "host-1", time.Minute)
	wantHeld(t, st, "export/wug-a", "host-2")
	// Leases of other names are independent.
	acquire(t, st, "export/wug-b", "host-2", time.Minute)
	wantHeld(t, st, "export/wug-b", "host-1")

	// Of many holders racing for a free lease, exactly one wins.
	raceForLease(t, "export/race", slices.Repeat([]store.Store{st}, 8))
}

// raceForLease has holder i acquire the named lease through stores[i], all
// at once, and checks that exactly one wins and the others are told
// store.ErrLeaseHeld.
func raceForLease(t *testing.T, name string, stores []store.Store) {
	t.Helper()
	var wg sync.WaitGroup
	var mu sync.Mutex
	var won []string
	for i, st := range stores {
		holder := fmt.Sprint("host-", i)
		wg.Go(func() {
			_, err := st.AcquireLease(ctx(t), name, holder, time.Minute)
			switch {
			case err == nil:
				mu.Lock()
				won = append(won, holder)
				mu.Unlock()
			case !errors.Is(err, store.ErrLeaseHeld):
				t.Errorf("AcquireLease by %s: %v, want nil or an error wrapping store.ErrLeaseHeld", holder, err)
			}
		})
	}
	wg.Wait()
	if len(won) != 1 {
		t.Errorf("%d holders acquired one lease at once: %v", len(won), won)
	}
}

func (s *suite) testLeaseReacquire(t *testing.T) {
	st := s.open(t)
	l1 := acquire(t, st, "export/wug-a", "host-1", time.Minute)
	l2 := acquire(t, st, "export/wug-a", "host-1", 2*time.Minute)
	if l2.Token != l1.Token {
		t.Errorf("re-acquiring a held lease changed its token from %d to %d", l1.Token, l2.Token)
	}
	if !l2.ExpiresAt.After(l1.ExpiresAt) {
		t.Errorf("re-acquiring did not extend the lease: ExpiresAt %v, was %v", l2.ExpiresAt, l1.ExpiresAt)
	}
	wantHeld(t, st, "export/wug-a", "host-2")
}

func (s *suite) testLeaseExpiry(t *testing.T) {
	st := s.open(t)
	const name = "export/wug-a"
	// Long enough that a loaded machine does not expire it before the
	// next call.
	l1 := acquire(t, st, name, "host-1", 3*time.Second)
	wantHeld(t, st, name, "host-2")
	time.Sleep(time.Until(l1.ExpiresAt) + 100*time.Millisecond)

	// An expired lease is lost even before anyone takes it over: its
	// holder must assume another has started.
	wantLost(t, st, l1, time.Minute, "RenewLease of an expired lease")
	l2 := acquire(t, st, name, "host-2", time.Minute)
	if l2.Token <= l1.Token {
		t.Errorf("takeover token %d, want more than the expired holder's %d", l2.Token, l1.Token)
	}
	wantLost(t, st, l1, time.Minute, "RenewLease by the expired holder")
	wantHeld(t, st, name, "host-1")
	// The stale holder's release neither fails nor frees the new holder's
	// lease.
	if err := st.ReleaseLease(ctx(t), l1); err != nil {
		t.Errorf("ReleaseLease of a lost lease: %v, want nil", err)
	}
	wantHeld(t, st, name, "host-3")
	if _, err := st.RenewLease(ctx(t), l2, time.Minute); err != nil {
		t.Errorf("RenewLease by the new holder: %v", err)
	}
}

func (s *suite) testLeaseReacquireExpired(t *testing.T) {
	st := s.open(t)
	// A holder re-acquiring its own expired lease gets a new token, which
	// fences off the old one.
	l1 := acquire(t, st, "L", "host-1", 50*time.Millisecond)
	time.Sleep(time.Until(l1.ExpiresAt) + 50*time.Millisecond)
	l2 := acquire(t, st, "L", "host-1", time.Minute)
	if l2.Token <= l1.Token {
		t.Errorf("re-acquiring an expired lease: token %d, want more than %d", l2.Token, l1.Token)
	}
	wantLost(t, st, l1, time.Minute, "RenewLease with the old token")
	if err := st.ReleaseLease(ctx(t), l1); err != nil {
		t.Errorf("ReleaseLease with the old token: %v, want nil", err)
	}
	wantHeld(t, st, "L", "host-2")
}

func (s *suite) testLeaseRenew(t *testing.T) {
	st := s.open(t)
	// The renewal asks for a longer time to live than the lease had, so
	// the only deadline the test must meet on a loaded machine is renewing
	// within the first three seconds.
	const name, ttl = "export/wug-a", time.Minute
	l1 := acquire(t, st, name, "host-1", 3*time.Second)

	before := time.Now()
	l2, err := st.RenewLease(ctx(t), l1, ttl)
	after := time.Now()
	if err != nil {
		t.Fatalf("RenewLease: %v", err)
	}
	checkStamp(t, "renewed ExpiresAt", l2.ExpiresAt, before.Add(ttl), after.Add(ttl))
	want := l1
	want.ExpiresAt = l2.ExpiresAt
	if diff := cmp.Diff(want, l2, cmpOpts); diff != "" {
		t.Errorf("RenewLease changed more than ExpiresAt (-want +got):\n%s", diff)
	}
	// Past the first expiry, the renewed lease still holds.
	time.Sleep(time.Until(l1.ExpiresAt) + 200*time.Millisecond)
	wantHeld(t, st, name, "host-2")
	if _, err := st.RenewLease(ctx(t), l2, ttl); err != nil {
		t.Errorf("second RenewLease: %v", err)
	}
}

func (s *suite) testLeaseRelease(t *testing.T) {
	st := s.open(t)
	const name = "export/wug-a"
	l1 := acquire(t, st, name, "host-1", time.Hour)
	if err := st.ReleaseLease(ctx(t), l1); err != nil {
		t.Fatalf("ReleaseLease: %v", err)
	}
	l2 := acquire(t, st, name, "host-2", time.Hour)
	if l2.Token <= l1.Token {
		t.Errorf("token after release %d, want more than %d", l2.Token, l1.Token)
	}
	// A release must name the holder: the token alone frees nothing.
	if err := st.ReleaseLease(ctx(t), store.Lease{Name: name, Token: l2.Token}); err != nil {
		t.Errorf("ReleaseLease without a holder: %v, want nil", err)
	}
	wantHeld(t, st, name, "host-3")
	wantLost(t, st, l1, time.Hour, "RenewLease of a released lease")
	if err := st.ReleaseLease(ctx(t), l1); err != nil {
		t.Errorf("second ReleaseLease: %v, want nil", err)
	}
	wantHeld(t, st, name, "host-3")
	if err := st.ReleaseLease(ctx(t), l2); err != nil {
		t.Fatalf("ReleaseLease: %v", err)
	}
	wantLost(t, st, l2, time.Hour, "RenewLease after release")
	l3 := acquire(t, st, name, "host-1", time.Hour)
	if l3.Token <= l2.Token {
		t.Errorf("token after second release %d, want more than %d", l3.Token, l2.Token)
	}
	// The holder's lease from before is fenced off by its old token.
	wantLost(t, st, l1, time.Hour, "RenewLease with the holder's old token")
}

func (s *suite) testCloseReleasesLeases(t *testing.T) {
	open := s.backend(t)
	a, b := open(), open()
	la := acquire(t, a, "export/wug-a", "host-a", time.Hour)
	acquire(t, b, "export/wug-b", "host-b", time.Hour)
	wantHeld(t, b, "export/wug-a", "host-b")
	wantHeld(t, a, "export/wug-b", "host-a")

	if err := a.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	lb := acquire(t, b, "export/wug-a", "host-b", time.Hour)
	if lb.Token <= la.Token {
		t.Errorf("token after the holder's store closed %d, want more than %d", lb.Token, la.Token)
	}
	// Closing one instance leaves the other's leases alone.
	wantHeld(t, open(), "export/wug-b", "host-c")
}

func (s *suite) testSharedBackend(t *testing.T) {
	open := s.backend(t)
	a := open()
	recs := Records("wug-a", 40)
	mustUpsert(t, a, recs...)
	run, err := a.BeginRun(ctx(t), store.Run{Connection: "wug-a", Kind: store.RunExport, Trigger: store.TriggerManual,
		Filters: map[string][]string{"site": {"ams1"}}})
	if err != nil {
		t.Fatal(err)
	}
	run.Status, run.Counts = store.RunSucceeded, store.RunCounts{Selected: 40, Added: 40}
	if err := a.FinishRun(ctx(t), run); err != nil {
		t.Fatal(err)
	}
	want := collect(t, a, store.Query{})
	wantRun, err := a.Run(ctx(t), run.ID)
	if err != nil {
		t.Fatal(err)
	}
	check := func(name string, st store.Store) {
		t.Helper()
		if diff := cmp.Diff(want, collect(t, st, store.Query{}), cmpOpts); diff != "" {
			t.Errorf("%s: records mismatch (-want +got):\n%s", name, diff)
		}
		got, err := st.Run(ctx(t), run.ID)
		if err != nil {
			t.Fatalf("%s: Run: %v", name, err)
		}
		if diff := cmp.Diff(wantRun, got, cmpOpts); diff != "" {
			t.Errorf("%s: run mismatch (-want +got):\n%s", name, diff)
		}
	}
	if len(want) != len(recs) {
		t.Fatalf("store holds %d records, want %d", len(want), len(recs))
	}
	check("second instance, first still open", open())
	if err := a.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	check("instance opened after the first closed", open())
}

func (s *suite) testInstancesRace(t *testing.T) {
	open := s.backend(t)
	const n = 4
	stores := make([]store.Store, n)
	for i := range stores {
		stores[i] = open()
	}
	// Instances, as separate processes would, race for one lease, then
	// write at once: one lease holder, every write kept, no lock or busy
	// error leaking out.
	raceForLease(t, "export/wug-a", stores)
	var wg sync.WaitGroup
	for i, st := range stores {
		wg.Go(func() {
			for b := range 5 {
				batch := make([]store.Record, 0, 20)
				for j := range 20 {
					batch = append(batch, Record("wug-a", (i*5+b)*20+j))
				}
				if err := st.UpsertRecords(ctx(t), batch); err != nil {
					t.Errorf("UpsertRecords through instance %d: %v", i, err)
					return
				}
			}
		})
	}
	wg.Wait()
	for i, st := range stores {
		if got := len(collect(t, st, store.Query{Connection: "wug-a"})); got != n*5*20 {
			t.Errorf("instance %d sees %d records, want %d", i, got, n*5*20)
		}
	}
}
