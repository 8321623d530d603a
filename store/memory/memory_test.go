package memory_test

import (
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/wugsync/wugsync/store"
	"github.com/wugsync/wugsync/store/memory"
	"github.com/wugsync/wugsync/store/storetest"
)

func TestStore(t *testing.T) {
	storetest.RunWithOptions(t, storetest.Options{
		New: func(*testing.T) store.Store { return memory.New() },
		Backend: func(*testing.T) func() store.Store {
			s := memory.New()
			return func() store.Store { return s.Connect() }
		},
	})
}

func BenchmarkStore(b *testing.B) {
	storetest.Benchmark(b, func(*testing.B) store.Store { return memory.New() })
}

// fakeClock is a clock that moves only when told.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

func TestWithClock(t *testing.T) {
	t.Parallel()
	clock := &fakeClock{now: time.Date(2026, 11, 25, 12, 0, 0, 123456789, time.UTC)}
	s := memory.New(memory.WithClock(clock.Now))
	defer s.Close()
	ctx := t.Context()

	r := storetest.Record("wug-a", 0)
	if err := s.UpsertRecords(ctx, []store.Record{r}); err != nil {
		t.Fatal(err)
	}
	got, err := s.Record(ctx, r.Key)
	if err != nil {
		t.Fatal(err)
	}
	want := time.Date(2026, 11, 25, 12, 0, 0, 123456000, time.UTC)
	if !got.UpdatedAt.Equal(want) || !got.CreatedAt.Equal(want) {
		t.Errorf("CreatedAt %v, UpdatedAt %v; want both %v", got.CreatedAt, got.UpdatedAt, want)
	}

	a, err := s.AcquireLease(ctx, "export/wug-a", "host-a", time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if !a.ExpiresAt.Equal(want.Add(time.Minute)) {
		t.Errorf("ExpiresAt %v, want %v", a.ExpiresAt, want.Add(time.Minute))
	}
	clock.Advance(time.Minute - time.Microsecond)
	if _, err := s.AcquireLease(ctx, "export/wug-a", "host-b", time.Minute); !errors.Is(err, store.ErrLeaseHeld) {
		t.Errorf("AcquireLease just before expiry: %v, want store.ErrLeaseHeld", err)
	}
	clock.Advance(time.Microsecond)
	if _, err := s.RenewLease(ctx, a, time.Minute); !errors.Is(err, store.ErrLeaseLost) {
		t.Errorf("RenewLease at expiry: %v, want store.ErrLeaseLost", err)
	}
	b, err := s.AcquireLease(ctx, "export/wug-a", "host-b", time.Minute)
	if err != nil {
		t.Fatalf("AcquireLease at expiry: %v", err)
	}
	if b.Token != a.Token+1 {
		t.Errorf("token after takeover %d, want %d", b.Token, a.Token+1)
	}
}

func TestClosed(t *testing.T) {
	t.Parallel()
	s := memory.New()
	other := s.Connect()
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if _, err := s.CountByStatus(t.Context(), "wug-a"); !errors.Is(err, memory.ErrClosed) {
		t.Errorf("CountByStatus after Close: %v, want memory.ErrClosed", err)
	}
	for _, err := range s.Records(t.Context(), store.Query{}) {
		if !errors.Is(err, memory.ErrClosed) {
			t.Errorf("Records after Close: %v, want memory.ErrClosed", err)
		}
	}
	// A Store opened by Connect is not closed with s.
	if err := other.UpsertRecords(t.Context(), storetest.Records("wug-a", 3)); err != nil {
		t.Errorf("UpsertRecords on a connected store: %v", err)
	}
}

// TestCloseWhileAcquiring closes a store while goroutines take and renew
// leases through it: calls succeed or fail with ErrClosed (or, for a lease
// Close released, ErrLeaseLost), and none panics.
func TestCloseWhileAcquiring(t *testing.T) {
	t.Parallel()
	for range 20 {
		s := memory.New()
		var wg sync.WaitGroup
		for i := range 4 {
			wg.Go(func() {
				for j := 0; ; j++ {
					l, err := s.AcquireLease(t.Context(), fmt.Sprint("lease-", i, "-", j), "host", time.Minute)
					if err == nil {
						_, err = s.RenewLease(t.Context(), l, time.Minute)
					}
					if errors.Is(err, memory.ErrClosed) || errors.Is(err, store.ErrLeaseLost) {
						return
					}
					if err != nil {
						t.Errorf("AcquireLease or RenewLease: %v", err)
						return
					}
				}
			})
		}
		time.Sleep(time.Millisecond)
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
		wg.Wait()
	}
}
