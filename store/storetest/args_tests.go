package storetest

import (
	"context"
	"errors"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/wugsync/wugsync/store"
)

// testBadArguments checks that every method refuses arguments it cannot
// act on with an error naming the field at fault, the same way in every
// backend, and that the refused call changes nothing.
func (s *suite) testBadArguments(t *testing.T) {
	st := s.open(t)
	c := ctx(t)
	recs := Records("wug-a", 5)
	mustUpsert(t, st, recs...)
	run, err := st.BeginRun(c, store.Run{Connection: "wug-a", Kind: store.RunExport, Trigger: store.TriggerManual})
	if err != nil {
		t.Fatal(err)
	}
	lease := acquire(t, st, "export/wug-a", "host-1", time.Hour)
	records := collect(t, st, store.Query{})
	runs, err := st.Runs(c, store.RunQuery{})
	if err != nil {
		t.Fatal(err)
	}

	records1 := func(q store.Query) error {
		for _, err := range st.Records(c, q) {
			return err
		}
		return errors.New("Records yielded nothing")
	}
	noAddr := recs[0].Key
	noAddr.Address = netip.Addr{}
	tests := []struct {
		name  string
		err   error
		words []string // the error must contain each, case-insensitively
	}{
		{"CountByStatus without connection", func() error { _, err := st.CountByStatus(c, ""); return err }(), []string{"connection"}},
		{"InterruptOrphanedRuns without connection", func() error { _, err := st.InterruptOrphanedRuns(c, ""); return err }(), []string{"connection"}},
		{"BeginRun with a NUL in the lease holder", func() error {
			_, err := st.BeginRun(c, store.Run{Connection: "wug-a", Kind: store.RunExport, Lease: store.Lease{Name: "n", Holder: "h\x00"}})
			return err
		}(), []string{"holder", "utf-8"}},
		{"Record without connection", func() error { _, err := st.Record(c, store.Key{Address: recs[0].Address}); return err }(), []string{"connection"}},
		{"Record without address", func() error { _, err := st.Record(c, noAddr); return err }(), []string{"address"}},
		{"DeleteRecords without address", st.DeleteRecords(c, []store.Key{recs[1].Key, noAddr}), []string{"address"}},
		{"ReplaceRecords deleting a key without address", st.ReplaceRecords(c, recs[:1], []store.Key{noAddr}), []string{"address"}},
		{"Records with a negative offset", records1(store.Query{Offset: -1}), []string{"offset"}},
		{"CountRecords with an invalid status", func() error {
			_, err := st.CountRecords(c, store.Query{Statuses: []store.Status{"exportd"}})
			return err
		}(), []string{"status", "exportd"}},
		{"Records with a NUL in the search", records1(store.Query{Search: "sw\x00"}), []string{"search", "utf-8"}},
		{"Records with an invalid status", records1(store.Query{Statuses: []store.Status{"exportd"}}), []string{"status", "exportd"}},
		{"Records with a negative page size", records1(store.Query{PageSize: -1}), []string{"page size"}},
		{"Records with a zoned address", records1(store.Query{Address: netip.MustParseAddr("fe80::1%eth0")}), []string{"zone"}},
		{"Records after a key without address", records1(store.Query{After: &store.Key{Connection: "wug-a"}}), []string{"cursor"}},
		{"BeginRun without connection", func() error { _, err := st.BeginRun(c, store.Run{Kind: store.RunExport}); return err }(), []string{"connection"}},
		{"BeginRun without kind", func() error { _, err := st.BeginRun(c, store.Run{Connection: "wug-a"}); return err }(), []string{"kind"}},
		{"BeginRun with a taken id", func() error {
			_, err := st.BeginRun(c, store.Run{ID: run.ID, Connection: "wug-b", Kind: store.RunScanMonitor})
			return err
		}(), nil},
		{"FinishRun without id", st.FinishRun(c, store.Run{Status: store.RunSucceeded}), []string{"id"}},
		{"FinishRun as running", st.FinishRun(c, store.Run{ID: run.ID, Status: store.RunRunning}), []string{"status", "running"}},
		{"FinishRun without status", st.FinishRun(c, store.Run{ID: run.ID}), []string{"status"}},
		{"CountByStatus with a NUL in the connection", func() error { _, err := st.CountByStatus(c, "wug-a\x00"); return err }(), []string{"connection", "utf-8"}},
		{"Records with invalid UTF-8 in the VRF", records1(store.Query{VRF: new(string("\xff"))}), []string{"vrf", "utf-8"}},
		{"BeginRun with a NUL in a filter", func() error {
			_, err := st.BeginRun(c, store.Run{Connection: "wug-a", Kind: store.RunExport, Filters: map[string][]string{"site": {"ams\x001"}}})
			return err
		}(), []string{"filter site", "utf-8"}},
		{"FinishRun with invalid UTF-8 in the error", st.FinishRun(c, store.Run{ID: run.ID, Status: store.RunFailed, Error: "\xff"}), []string{"error", "utf-8"}},
		{"AcquireLease with a NUL in the holder", func() error { _, err := st.AcquireLease(c, "export/wug-b", "host\x00", time.Minute); return err }(), []string{"holder", "utf-8"}},
		{"Run with a NUL in the id", func() error { _, err := st.Run(c, "run\x00"); return err }(), []string{"id", "utf-8"}},
		{"Runs with a negative limit", func() error { _, err := st.Runs(c, store.RunQuery{Limit: -1}); return err }(), []string{"limit"}},
		{"AcquireLease without name", func() error { _, err := st.AcquireLease(c, "", "host-1", time.Minute); return err }(), []string{"name"}},
		{"AcquireLease without holder", func() error { _, err := st.AcquireLease(c, "export/wug-b", "", time.Minute); return err }(), []string{"holder"}},
		{"AcquireLease without time to live", func() error { _, err := st.AcquireLease(c, "export/wug-b", "host-1", 0); return err }(), []string{"time to live"}},
		{"AcquireLease for less than a microsecond", func() error {
			_, err := st.AcquireLease(c, "export/wug-b", "host-1", time.Nanosecond)
			return err
		}(), []string{"time to live"}},
		{"RenewLease without time to live", func() error { _, err := st.RenewLease(c, lease, -time.Second); return err }(), []string{"time to live"}},
		{"RenewLease without holder", func() error {
			l := lease
			l.Holder = ""
			_, err := st.RenewLease(c, l, time.Minute)
			return err
		}(), []string{"holder"}},
		{"ReleaseLease with invalid UTF-8 in the holder", st.ReleaseLease(c, store.Lease{Name: lease.Name, Holder: "\xff", Token: lease.Token}), []string{"holder", "utf-8"}},
	}
	for _, tt := range tests {
		if tt.err == nil {
			t.Errorf("%s: no error", tt.name)
			continue
		}
		for _, w := range tt.words {
			if !strings.Contains(strings.ToLower(tt.err.Error()), w) {
				t.Errorf("%s: error %q does not mention %q", tt.name, tt.err, w)
			}
		}
		for _, sentinel := range []error{store.ErrNotFound, store.ErrLeaseHeld, store.ErrLeaseLost, context.Canceled} {
			if errors.Is(tt.err, sentinel) {
				t.Errorf("%s: error %q wraps %v; bad arguments are not a state of the store", tt.name, tt.err, sentinel)
			}
		}
	}

	// Nothing changed.
	if diff := cmp.Diff(records, collect(t, st, store.Query{}), cmpOpts); diff != "" {
		t.Errorf("records changed by refused calls (-want +got):\n%s", diff)
	}
	got, err := st.Runs(c, store.RunQuery{})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(runs, got, cmpOpts); diff != "" {
		t.Errorf("runs changed by refused calls (-want +got):\n%s", diff)
	}
	wantHeld(t, st, "export/wug-a", "host-2")
	l, err := st.RenewLease(c, lease, time.Hour)
	if err != nil || l.Token != lease.Token {
		t.Errorf("RenewLease after refused calls: %+v, %v; want the lease renewed with token %d", l, err, lease.Token)
	}
	acquire(t, st, "export/wug-b", "host-2", time.Hour)
}
