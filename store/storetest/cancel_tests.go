package storetest

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/wugsync/wugsync/store"
)

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
