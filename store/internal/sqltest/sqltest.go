// Package sqltest checks the paths of the SQL backends that the
// conformance suite (store/storetest) does not reach: duplicate keys in one
// batch, small and bulk; each shape of keyset cursor the query builder
// writes; a holder re-acquiring its own expired lease.
package sqltest

import (
	"context"
	"errors"
	"net/netip"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/wugsync/wugsync/store"
)

// Run runs the checks, each on a fresh store from newStore.
func Run(t *testing.T, newStore func(t *testing.T) store.Store) {
	t.Run("DuplicatesInBatch", func(t *testing.T) { t.Parallel(); duplicates(t, newStore(t)) })
	t.Run("Pages", func(t *testing.T) { t.Parallel(); pages(t, newStore(t)) })
	t.Run("LeaseTokens", func(t *testing.T) { t.Parallel(); leaseTokens(t, newStore(t)) })
}

func rec(conn, vrf, addr string, st store.Status) store.Record {
	return store.Record{
		Key:        store.Key{Connection: conn, VRF: vrf, Address: netip.MustParseAddr(addr)},
		ObjectKind: store.ObjectDevice, ObjectID: 7, ObjectName: "sw1",
		Status: st, Reason: store.ReasonNewDevice,
	}
}

// duplicates writes batches large enough for every backend's bulk path
// with keys repeated: the last value wins, the first CreatedAt stays.
func duplicates(t *testing.T, s store.Store) {
	ctx := context.Background()
	first := time.Date(2025, 5, 5, 5, 5, 5, 0, time.UTC)
	for _, n := range []int{3, 300} {
		var batch []store.Record
		for i := range n {
			r := rec("dup", "", netip.AddrFrom4([4]byte{10, 0, byte(i >> 8), byte(i)}).String(), store.StatusPending)
			r.CreatedAt = first
			batch = append(batch, r)
		}
		for i := range batch {
			r := batch[i]
			r.CreatedAt = time.Time{}
			r.Status = store.StatusExported
			r.Attempts = n
			batch = append(batch, r)
		}
		if err := s.UpsertRecords(ctx, batch); err != nil {
			t.Fatalf("batch of %d: %v", len(batch), err)
		}
		count := 0
		for r, err := range s.Records(ctx, store.Query{Connection: "dup", PageSize: 7}) {
			if err != nil {
				t.Fatal(err)
			}
			count++
			if r.Status != store.StatusExported || !r.CreatedAt.Equal(first) {
				t.Fatalf("%s: status %s created %v, want exported, %v", r.Key, r.Status, r.CreatedAt, first)
			}
		}
		if count != n {
			t.Errorf("batch of %d distinct keys: %d records", n, count)
		}
		got, err := s.CountByStatus(ctx, "dup")
		if err != nil {
			t.Fatal(err)
		}
		want := map[store.Status]int{}
		for _, st := range store.Statuses {
			want[st] = 0
		}
		want[store.StatusExported] = n
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("counts (-want +got):\n%s", diff)
		}
	}
}

// pages checks filters, key order and cursors.
func pages(t *testing.T, s store.Store) {
	ctx := context.Background()
	var all []store.Record
	for _, conn := range []string{"a", "b"} {
		for _, vrf := range []string{"", "red"} {
			for i := range 25 {
				st := store.StatusPending
				if i%3 == 0 {
					st = store.StatusError
				}
				all = append(all, rec(conn, vrf, netip.AddrFrom4([4]byte{10, 0, 0, byte(i)}).String(), st))
			}
		}
	}
	all = append(all, rec("a", "", "2001:db8::1", store.StatusError), rec("a", "", "::ffff:10.0.0.1", store.StatusError))
	if err := s.UpsertRecords(ctx, all); err != nil {
		t.Fatal(err)
	}
	keys := func(q store.Query) []string {
		var ks []string
		for r, err := range s.Records(ctx, q) {
			if err != nil {
				t.Fatal(err)
			}
			ks = append(ks, r.Key.String())
		}
		return ks
	}
	red := "red"
	after := store.Key{Connection: "a", VRF: "", Address: netip.MustParseAddr("10.0.0.9")}
	foreign := store.Key{Connection: "0", Address: netip.MustParseAddr("1.1.1.1")}
	for _, tc := range []struct {
		name string
		q    store.Query
	}{
		{"all", store.Query{PageSize: 4}},
		{"conn", store.Query{Connection: "a", PageSize: 3}},
		{"status", store.Query{Connection: "a", Statuses: []store.Status{store.StatusError}, PageSize: 2}},
		{"statuses", store.Query{Statuses: []store.Status{store.StatusError, store.StatusPending}, PageSize: 5}},
		{"vrf", store.Query{Connection: "b", VRF: &red, PageSize: 4}},
		{"after", store.Query{Connection: "a", After: &after, PageSize: 4}},
		{"after vrf", store.Query{Connection: "a", VRF: new(string), After: &after}},
		{"after other conn", store.Query{Connection: "a", After: &foreign, PageSize: 6}},
		{"address", store.Query{Address: netip.MustParseAddr("10.0.0.3")}},
	} {
		var want []string
		for _, r := range all {
			q := tc.q
			ok := (q.Connection == "" || r.Connection == q.Connection) &&
				(q.VRF == nil || r.VRF == *q.VRF) &&
				(!q.Address.IsValid() || r.Address == q.Address) &&
				(q.After == nil || r.Key.Compare(*q.After) > 0)
			if len(q.Statuses) > 0 {
				found := false
				for _, st := range q.Statuses {
					found = found || st == r.Status
				}
				ok = ok && found
			}
			if ok {
				want = append(want, r.Key.String())
			}
		}
		sortByKey(all, want)
		if diff := cmp.Diff(want, keys(tc.q)); diff != "" {
			t.Errorf("%s (-want +got):\n%s", tc.name, diff)
		}
	}
}

// sortByKey orders key strings the way Key.Compare orders the records.
func sortByKey(all []store.Record, ks []string) {
	idx := map[string]store.Key{}
	for _, r := range all {
		idx[r.Key.String()] = r.Key
	}
	for i := 1; i < len(ks); i++ {
		for j := i; j > 0 && idx[ks[j]].Compare(idx[ks[j-1]]) < 0; j-- {
			ks[j], ks[j-1] = ks[j-1], ks[j]
		}
	}
}

// leaseTokens checks that a holder re-acquiring its own lease after it
// expired gets a new token, and that its old token is then stale.
func leaseTokens(t *testing.T, s store.Store) {
	ctx := context.Background()
	l1, err := s.AcquireLease(ctx, "L", "a", 50*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(100 * time.Millisecond)
	l2, err := s.AcquireLease(ctx, "L", "a", time.Minute)
	if err != nil || l2.Token <= l1.Token {
		t.Fatalf("re-acquire after expiry: %+v, %v; want token > %d", l2, err, l1.Token)
	}
	if _, err := s.RenewLease(ctx, l1, time.Minute); !errors.Is(err, store.ErrLeaseLost) {
		t.Errorf("renew with the old token: err %v, want ErrLeaseLost", err)
	}
	if err := s.ReleaseLease(ctx, l1); err != nil {
		t.Fatalf("release with the old token: %v", err)
	}
	if _, err := s.AcquireLease(ctx, "L", "b", time.Minute); !errors.Is(err, store.ErrLeaseHeld) {
		t.Errorf("a release with the old token freed the lease: err %v", err)
	}
}
