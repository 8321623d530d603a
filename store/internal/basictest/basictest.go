// Package basictest checks the behaviour the SQL backends add on top of
// the conformance suite: times round-tripped to the microsecond in UTC,
// created-at kept across upserts, duplicate keys in one batch, cursors that
// start outside the filtered range, bad input rejected with nothing written,
// and lease tokens across release and expiry.
package basictest

import (
	"context"
	"errors"
	"net/netip"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/wugsync/wugsync/store"
)

// Run runs the checks, each on a fresh store from newStore.
func Run(t *testing.T, newStore func(t *testing.T) store.Store) {
	t.Run("RoundTrip", func(t *testing.T) { t.Parallel(); roundTrip(t, newStore(t)) })
	t.Run("DuplicatesInBatch", func(t *testing.T) { t.Parallel(); duplicates(t, newStore(t)) })
	t.Run("Pages", func(t *testing.T) { t.Parallel(); pages(t, newStore(t)) })
	t.Run("BadInput", func(t *testing.T) { t.Parallel(); badInput(t, newStore(t)) })
	t.Run("Runs", func(t *testing.T) { t.Parallel(); runs(t, newStore(t)) })
	t.Run("LeaseTokens", func(t *testing.T) { t.Parallel(); leaseTokens(t, newStore(t)) })
}

func rec(conn, vrf, addr string, st store.Status) store.Record {
	return store.Record{
		Key:        store.Key{Connection: conn, VRF: vrf, Address: netip.MustParseAddr(addr)},
		ObjectKind: store.ObjectDevice, ObjectID: 7, ObjectName: "sw1",
		Status: st, Reason: store.ReasonNewDevice,
	}
}

func roundTrip(t *testing.T, s store.Store) {
	ctx := context.Background()
	loc := time.FixedZone("X", 3600)
	created := time.Date(2026, 1, 2, 3, 4, 5, 123456789, loc)
	r := store.Record{
		Key:        store.Key{Connection: "c1", VRF: "blue", Address: netip.MustParseAddr("2001:db8::1")},
		ObjectKind: store.ObjectVirtualMachine, ObjectID: 1 << 40, ObjectName: "vm ü",
		Status: store.StatusScanCompleted, Reason: store.ReasonMetadataUpdate,
		WUGDeviceID: "42", ScanID: "s-1", ScanState: "Completed", ScanDiscovered: true,
		Fingerprint: "abc", Attempts: 3, LastError: "e",
		CreatedAt: created, ExportedAt: created.Add(time.Hour), ScanTriggeredAt: created.Add(2 * time.Hour),
		ScanCompletedAt: created.Add(3 * time.Hour),
	}
	before := time.Now().Add(-time.Second)
	if err := s.UpsertRecords(ctx, []store.Record{r}); err != nil {
		t.Fatal(err)
	}
	got, err := s.Record(ctx, r.Key)
	if err != nil {
		t.Fatal(err)
	}
	want := r
	want.CreatedAt = created.UTC().Truncate(time.Microsecond)
	want.ExportedAt = r.ExportedAt.UTC().Truncate(time.Microsecond)
	want.ScanTriggeredAt = r.ScanTriggeredAt.UTC().Truncate(time.Microsecond)
	want.ScanCompletedAt = r.ScanCompletedAt.UTC().Truncate(time.Microsecond)
	want.UpdatedAt = got.UpdatedAt
	if diff := cmp.Diff(want, got, cmpopts.EquateComparable(netip.Addr{})); diff != "" {
		t.Errorf("round trip (-want +got):\n%s", diff)
	}
	if got.UpdatedAt.Before(before) || got.UpdatedAt.Location() != time.UTC {
		t.Errorf("UpdatedAt %v: want UTC, after %v", got.UpdatedAt, before)
	}

	// A later upsert keeps CreatedAt, whatever it carries, and moves UpdatedAt.
	r2 := r
	r2.CreatedAt = time.Time{}
	r2.Status = store.StatusError
	r2.ExportedAt = time.Time{}
	time.Sleep(2 * time.Millisecond)
	if err := s.UpsertRecords(ctx, []store.Record{r2}); err != nil {
		t.Fatal(err)
	}
	got2, err := s.Record(ctx, r.Key)
	if err != nil {
		t.Fatal(err)
	}
	if !got2.CreatedAt.Equal(want.CreatedAt) || !got2.ExportedAt.IsZero() || got2.Status != store.StatusError {
		t.Errorf("after second upsert: created %v exported %v status %s", got2.CreatedAt, got2.ExportedAt, got2.Status)
	}
	if !got2.UpdatedAt.After(got.UpdatedAt) {
		t.Errorf("UpdatedAt did not move: %v then %v", got.UpdatedAt, got2.UpdatedAt)
	}
	if _, err := s.Record(ctx, store.Key{Connection: "c1", Address: netip.MustParseAddr("10.9.9.9")}); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("missing record: err %v, want ErrNotFound", err)
	}
	if err := s.DeleteRecords(ctx, []store.Key{r.Key, r.Key}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Record(ctx, r.Key); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("deleted record: err %v, want ErrNotFound", err)
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

func badInput(t *testing.T, s store.Store) {
	ctx := context.Background()
	good := rec("c", "", "10.1.1.1", store.StatusPending)
	for name, bad := range map[string]store.Record{
		"status":     rec("c", "", "10.1.1.2", "bogus"),
		"connection": rec("", "", "10.1.1.2", store.StatusPending),
		"address":    {Key: store.Key{Connection: "c"}, Status: store.StatusPending},
	} {
		if err := s.UpsertRecords(ctx, []store.Record{good, bad}); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
	if _, err := s.Record(ctx, good.Key); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("valid record of a rejected batch: err %v, want ErrNotFound", err)
	}
	for r, err := range s.Records(ctx, store.Query{Statuses: []store.Status{"bogus"}}) {
		if err == nil {
			t.Errorf("invalid status filter: got record %v", r.Key)
		}
	}
	if _, err := s.CountByStatus(ctx, ""); err == nil {
		t.Error("count by status of an empty connection: no error")
	}
	ctx2, cancel := context.WithCancel(ctx)
	cancel()
	if err := s.UpsertRecords(ctx2, []store.Record{good}); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled upsert: err %v", err)
	}
}

func runs(t *testing.T, s store.Store) {
	ctx := context.Background()
	filters := map[string][]string{"site": {"a", "b"}, "tag": {}}
	var ids []string
	for i := range 3 {
		r, err := s.BeginRun(ctx, store.Run{Connection: "c", Kind: store.RunExport, Trigger: store.TriggerManual, Filters: filters})
		if err != nil {
			t.Fatal(err)
		}
		if i == 0 {
			filters["site"][0] = "changed"
		}
		ids = append(ids, r.ID)
	}
	got, err := s.Run(ctx, ids[0])
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(map[string][]string{"site": {"a", "b"}, "tag": {}}, got.Filters); diff != "" {
		t.Errorf("filters (-want +got):\n%s", diff)
	}
	got.Status, got.Counts, got.Error = store.RunPartial, store.RunCounts{Selected: 5, Failed: 1}, "one failed"
	if err := s.FinishRun(ctx, got); err != nil {
		t.Fatal(err)
	}
	fin, err := s.Run(ctx, ids[0])
	if err != nil {
		t.Fatal(err)
	}
	if fin.FinishedAt.IsZero() || fin.Status != store.RunPartial || fin.Counts.Failed != 1 || fin.Error != "one failed" {
		t.Errorf("finished run: %+v", fin)
	}
	list, err := s.Runs(ctx, store.RunQuery{Connection: "c"})
	if err != nil {
		t.Fatal(err)
	}
	var gotIDs []string
	for _, r := range list {
		gotIDs = append(gotIDs, r.ID)
	}
	if diff := cmp.Diff([]string{ids[2], ids[1], ids[0]}, gotIDs); diff != "" {
		t.Errorf("runs newest first (-want +got):\n%s", diff)
	}
	if err := s.FinishRun(ctx, store.Run{ID: "nope", Status: store.RunSucceeded}); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("finish unknown run: err %v, want ErrNotFound", err)
	}
}

func leaseTokens(t *testing.T, s store.Store) {
	ctx := context.Background()
	l1, err := s.AcquireLease(ctx, "L", "a", time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.AcquireLease(ctx, "L", "b", time.Minute); !errors.Is(err, store.ErrLeaseHeld) {
		t.Fatalf("second holder: err %v, want ErrLeaseHeld", err)
	}
	again, err := s.AcquireLease(ctx, "L", "a", time.Minute)
	if err != nil || again.Token != l1.Token {
		t.Fatalf("re-acquire by holder: %+v, %v; want token %d", again, err, l1.Token)
	}
	if err := s.ReleaseLease(ctx, again); err != nil {
		t.Fatal(err)
	}
	if _, err := s.RenewLease(ctx, again, time.Minute); !errors.Is(err, store.ErrLeaseLost) {
		t.Fatalf("renew released: err %v, want ErrLeaseLost", err)
	}
	l2, err := s.AcquireLease(ctx, "L", "b", 50*time.Millisecond)
	if err != nil || l2.Token <= l1.Token {
		t.Fatalf("after release: %+v, %v; want token > %d", l2, err, l1.Token)
	}
	time.Sleep(100 * time.Millisecond)
	if _, err := s.RenewLease(ctx, l2, time.Minute); !errors.Is(err, store.ErrLeaseLost) {
		t.Fatalf("renew expired: err %v, want ErrLeaseLost", err)
	}
	l3, err := s.AcquireLease(ctx, "L", "a", time.Minute)
	if err != nil || l3.Token <= l2.Token {
		t.Fatalf("after expiry: %+v, %v; want token > %d", l3, err, l2.Token)
	}
	if err := s.ReleaseLease(ctx, l2); err != nil {
		t.Fatalf("release lost lease: %v", err)
	}
	if _, err := s.AcquireLease(ctx, "L", "b", time.Minute); !errors.Is(err, store.ErrLeaseHeld) {
		t.Fatalf("stale release freed the lease: err %v", err)
	}
}
