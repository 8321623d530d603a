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

func (s *suite) testCancellation(t *testing.T) {
	st := s.open(t)
	recs := Records("wug-a", 10)
	mustUpsert(t, st, recs...)
	run, err := st.BeginRun(ctx(t), store.Run{Connection: "wug-a", Kind: store.RunExport, Trigger: store.TriggerManual})
	if err != nil {
		t.Fatal(err)
	}
	lease := acquire(t, st, "export/wug-a", "host-1", time.Hour)
	before := collect(t, st, store.Query{})

	cctx, cancel := context.WithCancel(ctx(t))
	cancel()
	check := func(method string, err error) {
		t.Helper()
		if !errors.Is(err, context.Canceled) {
			t.Errorf("%s with a cancelled context: %v, want an error wrapping context.Canceled", method, err)
		}
	}
	changed := recs[0]
	changed.Status = store.StatusError
	check("UpsertRecords", st.UpsertRecords(cctx, []store.Record{changed, Record("wug-a", 100)}))
	_, err = st.Record(cctx, recs[0].Key)
	check("Record", err)
	n := 0
	for _, err := range st.Records(cctx, store.Query{}) {
		n++
		check("Records", err)
	}
	if n != 1 {
		t.Errorf("Records with a cancelled context yielded %d times, want once, with the error", n)
	}
	_, err = st.CountByStatus(cctx, "wug-a")
	check("CountByStatus", err)
	_, err = st.CountRecords(cctx, store.Query{Connection: "wug-a"})
	check("CountRecords", err)
	check("DeleteRecords", st.DeleteRecords(cctx, []store.Key{recs[1].Key}))
	check("ReplaceRecords", st.ReplaceRecords(cctx, []store.Record{changed}, []store.Key{recs[1].Key}))
	_, err = st.BeginRun(cctx, store.Run{Connection: "wug-a", Kind: store.RunExport, Trigger: store.TriggerManual})
	check("BeginRun", err)
	fin := run
	fin.Status = store.RunFailed
	check("FinishRun", st.FinishRun(cctx, fin))
	_, err = st.Run(cctx, run.ID)
	check("Run", err)
	_, err = st.Runs(cctx, store.RunQuery{})
	check("Runs", err)
	_, err = st.AcquireLease(cctx, "export/wug-b", "host-1", time.Hour)
	check("AcquireLease", err)
	_, err = st.RenewLease(cctx, lease, time.Hour)
	check("RenewLease", err)
	check("ReleaseLease", st.ReleaseLease(cctx, lease))

	// Nothing changed.
	if diff := cmp.Diff(before, collect(t, st, store.Query{}), cmpOpts); diff != "" {
		t.Errorf("records changed by cancelled calls (-want +got):\n%s", diff)
	}
	runs, err := st.Runs(ctx(t), store.RunQuery{})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]store.Run{run}, runs, cmpOpts); diff != "" {
		t.Errorf("runs changed by cancelled calls (-want +got):\n%s", diff)
	}
	wantHeld(t, st, "export/wug-a", "host-2")
	acquire(t, st, "export/wug-b", "host-2", time.Hour)
}

func (s *suite) testCancelWhileIterating(t *testing.T) {
	st := s.open(t)
	mustUpsert(t, st, Records("wug-a", 60)...)
	const size = 5
	cctx, cancel := context.WithCancel(ctx(t))
	defer cancel()
	n, afterCancel, afterErr := 0, 0, 0
	var gotErr error
	for _, err := range st.Records(cctx, store.Query{Connection: "wug-a", PageSize: size}) {
		switch {
		case gotErr != nil:
			afterErr++
		case err != nil:
			gotErr = err
		default:
			n++
			if n == 4 {
				cancel()
			} else if n > 4 {
				afterCancel++
			}
		}
	}
	if !errors.Is(gotErr, context.Canceled) {
		t.Fatalf("iteration cancelled after 4 records ended with %v, want an error wrapping context.Canceled", gotErr)
	}
	if afterCancel > size {
		t.Errorf("iteration yielded %d records after cancel, want at most a page (%d)", afterCancel, size)
	}
	if afterErr > 0 {
		t.Errorf("iteration yielded %d times after its error, want none", afterErr)
	}
}

func (s *suite) testValuesIsolated(t *testing.T) {
	st := s.open(t)
	filters := map[string][]string{"site": {"ams1", "fra2"}, "tag": {"monitor"}}
	wantFilters := map[string][]string{"site": {"ams1", "fra2"}, "tag": {"monitor"}}
	run, err := st.BeginRun(ctx(t), store.Run{Connection: "wug-a", Kind: store.RunExport, Trigger: store.TriggerManual, Filters: filters})
	if err != nil {
		t.Fatal(err)
	}
	checkFilters := func(when string) {
		t.Helper()
		got, err := st.Run(ctx(t), run.ID)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(wantFilters, got.Filters); diff != "" {
			t.Errorf("stored filters changed %s (-want +got):\n%s", when, diff)
		}
	}
	filters["site"][0] = "changed"
	filters["new"] = []string{"x"}
	checkFilters("by the caller's map after BeginRun")
	run.Filters["site"][1] = "changed"
	run.Filters["tag"] = nil
	checkFilters("through BeginRun's result")
	got, err := st.Run(ctx(t), run.ID)
	if err != nil {
		t.Fatal(err)
	}
	got.Filters["site"][0] = "changed"
	checkFilters("through Run's result")
	runs, err := st.Runs(ctx(t), store.RunQuery{})
	if err != nil {
		t.Fatal(err)
	}
	runs[0].Filters["site"][0] = "changed"
	delete(runs[0].Filters, "tag")
	checkFilters("through Runs' result")

	// What was written to a WUG device is copied in and out.
	wr := full(key("wug-w", "", "192.0.2.1"))
	wantAttrs := wr.Written.Clone().Attributes
	mustUpsert(t, st, wr)
	checkAttrs := func(when string) {
		t.Helper()
		if diff := cmp.Diff(wantAttrs, mustGet(t, st, wr.Key).Written.Attributes); diff != "" {
			t.Errorf("stored written attributes changed %s (-want +got):\n%s", when, diff)
		}
	}
	wr.Written.Attributes["NetBox.Site"] = "changed"
	wr.Written.Attributes["new"] = "x"
	checkAttrs("by the caller's map after UpsertRecords")
	mustGet(t, st, wr.Key).Written.Attributes["NetBox.Site"] = "changed"
	checkAttrs("through Record's result")
	for r, err := range st.Records(ctx(t), store.Query{Connection: "wug-w"}) {
		if err != nil {
			t.Fatal(err)
		}
		delete(r.Written.Attributes, "NetBox.Site")
	}
	checkAttrs("through Records' result")

	// The query is copied when Records is called.
	recs := Records("wug-a", 30)
	mustUpsert(t, st, recs...)
	after, vrf := recs[0].Key, ""
	q := store.Query{Connection: "wug-a", Statuses: []store.Status{store.StatusExported}, VRF: &vrf, After: &after, PageSize: 2}
	want := collect(t, st, q)
	seq := st.Records(ctx(t), q)
	q.Statuses[0] = store.StatusPending
	after.Connection = "wug-z"
	vrf = "blue"
	var gotRecs []store.Record
	for r, err := range seq {
		if err != nil {
			t.Fatal(err)
		}
		gotRecs = append(gotRecs, r)
	}
	if len(want) == 0 {
		t.Fatal("the test data select nothing; the test is broken")
	}
	if diff := cmp.Diff(want, gotRecs, cmpOpts); diff != "" {
		t.Errorf("Records followed changes to the query after the call (-want +got):\n%s", diff)
	}
}

func (s *suite) testUseAfterClose(t *testing.T) {
	st := s.open(t)
	mustUpsert(t, st, Records("wug-a", 3)...)
	run, err := st.BeginRun(ctx(t), store.Run{Connection: "wug-a", Kind: store.RunExport, Trigger: store.TriggerManual})
	if err != nil {
		t.Fatal(err)
	}
	lease := acquire(t, st, "export/wug-a", "host-1", time.Hour)
	if err := st.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	// Every method fails, none panics or blocks.
	check := func(method string, err error) {
		t.Helper()
		if err == nil {
			t.Errorf("%s after Close: no error", method)
		}
	}
	check("UpsertRecords", st.UpsertRecords(ctx(t), Records("wug-a", 1)))
	_, err = st.Record(ctx(t), Record("wug-a", 0).Key)
	check("Record", err)
	n := 0
	for _, err := range st.Records(ctx(t), store.Query{}) {
		n++
		check("Records", err)
	}
	if n != 1 {
		t.Errorf("Records after Close yielded %d times, want once, with the error", n)
	}
	_, err = st.CountByStatus(ctx(t), "wug-a")
	check("CountByStatus", err)
	_, err = st.CountRecords(ctx(t), store.Query{})
	check("CountRecords", err)
	check("DeleteRecords", st.DeleteRecords(ctx(t), []store.Key{Record("wug-a", 0).Key}))
	check("ReplaceRecords", st.ReplaceRecords(ctx(t), Records("wug-a", 1), []store.Key{Record("wug-a", 1).Key}))
	_, err = st.BeginRun(ctx(t), store.Run{Connection: "wug-a", Kind: store.RunExport})
	check("BeginRun", err)
	run.Status = store.RunSucceeded
	check("FinishRun", st.FinishRun(ctx(t), run))
	_, err = st.Run(ctx(t), run.ID)
	check("Run", err)
	_, err = st.Runs(ctx(t), store.RunQuery{})
	check("Runs", err)
	_, err = st.AcquireLease(ctx(t), "export/wug-b", "host-1", time.Hour)
	check("AcquireLease", err)
	_, err = st.RenewLease(ctx(t), lease, time.Hour)
	check("RenewLease", err)
}
