package storetest

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/wugsync/wugsync/store"
)

func (s *suite) testRunRoundTrip(t *testing.T) {
	st := s.open(t)
	in := store.Run{
		Status:     store.RunSucceeded, // BeginRun records it as running, whatever it says
		Connection: "wug-a",
		Kind:       store.RunExport,
		Trigger:    store.TriggerWebhook,
		Filters:    map[string][]string{"site": {"ams1", "fra2"}, "tag": {"monitor"}, "changed_since": {"2026-11-25T10:00:00Z"}},
		Lease:      store.Lease{Name: "wugsync/export/wug-a", Holder: "host-1/42/ab12", Token: 7},
	}
	before := time.Now()
	begun, err := st.BeginRun(ctx(t), in)
	after := time.Now()
	if err != nil {
		t.Fatalf("BeginRun: %v", err)
	}
	if begun.ID == "" {
		t.Fatal("BeginRun returned no ID")
	}
	checkStamp(t, "StartedAt", begun.StartedAt, before, after)
	want := in
	want.ID, want.StartedAt, want.Status = begun.ID, begun.StartedAt, store.RunRunning
	if diff := cmp.Diff(want, begun, cmpOpts); diff != "" {
		t.Errorf("BeginRun result mismatch (-want +got):\n%s", diff)
	}
	got, err := st.Run(ctx(t), begun.ID)
	if err != nil {
		t.Fatalf("Run(%q): %v", begun.ID, err)
	}
	if diff := cmp.Diff(want, got, cmpOpts); diff != "" {
		t.Errorf("Run after BeginRun mismatch (-want +got):\n%s", diff)
	}

	fin := begun
	fin.Status = store.RunPartial
	fin.Counts = store.RunCounts{Selected: 120, Added: 10, Updated: 7, Scanned: 3, Unchanged: 98, Failed: 2}
	fin.Error = "2 addresses failed: wug: 500"
	before = time.Now()
	if err := st.FinishRun(ctx(t), fin); err != nil {
		t.Fatalf("FinishRun: %v", err)
	}
	after = time.Now()
	got, err = st.Run(ctx(t), begun.ID)
	if err != nil {
		t.Fatalf("Run(%q): %v", begun.ID, err)
	}
	checkStamp(t, "FinishedAt", got.FinishedAt, before, after)
	fin.FinishedAt = got.FinishedAt
	if diff := cmp.Diff(fin, got, cmpOpts); diff != "" {
		t.Errorf("Run after FinishRun mismatch (-want +got):\n%s", diff)
	}

	// A caller's ID and times are kept, in UTC to the microsecond.
	zone := time.FixedZone("CET", 3600)
	own := store.Run{
		ID:         "run-own-id",
		Connection: "wug-b",
		Kind:       store.RunScanMonitor,
		Trigger:    store.TriggerSchedule,
		StartedAt:  time.Date(2026, 11, 25, 9, 0, 0, 123456789, zone),
	}
	begun2, err := st.BeginRun(ctx(t), own)
	if err != nil {
		t.Fatalf("BeginRun with an ID: %v", err)
	}
	own.StartedAt = norm(own.StartedAt)
	own.Status = store.RunRunning
	if diff := cmp.Diff(own, begun2, cmpOpts); diff != "" {
		t.Errorf("BeginRun with an ID mismatch (-want +got):\n%s", diff)
	}
	own.Status = store.RunSucceeded
	own.FinishedAt = time.Date(2026, 11, 25, 9, 3, 0, 999, zone)
	own.Counts = store.RunCounts{Selected: 1, Scanned: 1}
	if err := st.FinishRun(ctx(t), own); err != nil {
		t.Fatalf("FinishRun: %v", err)
	}
	own.FinishedAt = norm(own.FinishedAt)
	got, err = st.Run(ctx(t), own.ID)
	if err != nil {
		t.Fatalf("Run(%q): %v", own.ID, err)
	}
	if diff := cmp.Diff(own, got, cmpOpts); diff != "" {
		t.Errorf("Run with an ID mismatch (-want +got):\n%s", diff)
	}

	// FinishRun records the end only: a run carrying just its ID and
	// outcome leaves what BeginRun recorded alone.
	third, err := st.BeginRun(ctx(t), in)
	if err != nil {
		t.Fatal(err)
	}
	end := store.Run{ID: third.ID, Status: store.RunFailed, Error: "netbox: 401 Unauthorized"}
	if err := st.FinishRun(ctx(t), end); err != nil {
		t.Fatalf("FinishRun with only ID and outcome: %v", err)
	}
	got, err = st.Run(ctx(t), third.ID)
	if err != nil {
		t.Fatal(err)
	}
	want = third
	want.Status, want.Error, want.FinishedAt = end.Status, end.Error, got.FinishedAt
	if diff := cmp.Diff(want, got, cmpOpts); diff != "" {
		t.Errorf("Run after FinishRun with only ID and outcome mismatch (-want +got):\n%s", diff)
	}

	// Runs begun without an ID get distinct ones.
	ids := map[string]bool{begun.ID: true, own.ID: true, third.ID: true}
	for range 5 {
		r, err := st.BeginRun(ctx(t), store.Run{Connection: "wug-a", Kind: store.RunExport, Trigger: store.TriggerManual})
		if err != nil {
			t.Fatal(err)
		}
		if ids[r.ID] {
			t.Errorf("BeginRun reused ID %q", r.ID)
		}
		ids[r.ID] = true
	}
}

func (s *suite) testRuns(t *testing.T) {
	st := s.open(t)
	start := time.Date(2026, 11, 25, 8, 0, 0, 0, time.UTC)
	var all []store.Run // in start order
	for i := range 25 {
		r := store.Run{
			Connection: []string{"wug-a", "wug-b"}[i%2],
			Kind:       []store.RunKind{store.RunExport, store.RunExport, store.RunScanMonitor}[i%3],
			Trigger:    store.TriggerSchedule,
			StartedAt:  start.Add(time.Duration(i) * time.Minute),
			Filters:    map[string][]string{"site": {fmt.Sprint("site-", i)}},
		}
		all = append(all, r)
	}
	// Begin them out of order: the list is by start time, not by insertion.
	order := []int{3, 0, 24, 1, 2, 17, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 18, 19, 20, 21, 22, 23}
	for _, i := range order {
		r, err := st.BeginRun(ctx(t), all[i])
		if err != nil {
			t.Fatalf("BeginRun: %v", err)
		}
		all[i] = r
		if i%4 == 0 {
			all[i].Status = store.RunFailed
			all[i].Error = "netbox: 503"
			all[i].FinishedAt = r.StartedAt.Add(30 * time.Second)
			if err := st.FinishRun(ctx(t), all[i]); err != nil {
				t.Fatalf("FinishRun: %v", err)
			}
		}
	}
	newest := func(keep func(store.Run) bool, limit int) []store.Run {
		var out []store.Run
		for i := len(all) - 1; i >= 0 && len(out) < limit; i-- {
			if keep(all[i]) {
				out = append(out, all[i])
			}
		}
		return out
	}
	tests := []struct {
		name string
		q    store.RunQuery
		want []store.Run
	}{
		{"default limit", store.RunQuery{}, newest(func(store.Run) bool { return true }, 20)},
		{"limit", store.RunQuery{Limit: 3}, newest(func(store.Run) bool { return true }, 3)},
		{"large limit", store.RunQuery{Limit: 100}, newest(func(store.Run) bool { return true }, 100)},
		{"connection", store.RunQuery{Connection: "wug-b"}, newest(func(r store.Run) bool { return r.Connection == "wug-b" }, 20)},
		{"kind", store.RunQuery{Kind: store.RunScanMonitor}, newest(func(r store.Run) bool { return r.Kind == store.RunScanMonitor }, 20)},
		{"status", store.RunQuery{Status: store.RunFailed}, newest(func(r store.Run) bool { return r.Status == store.RunFailed }, 20)},
		{"running", store.RunQuery{Status: store.RunRunning, Connection: "wug-a", Limit: 4},
			newest(func(r store.Run) bool { return r.Status == store.RunRunning && r.Connection == "wug-a" }, 4)},
		{"no match", store.RunQuery{Connection: "wug-c"}, nil},
	}
	for _, tt := range tests {
		got, err := st.Runs(ctx(t), tt.q)
		if err != nil {
			t.Fatalf("Runs(%+v): %v", tt.q, err)
		}
		if diff := cmp.Diff(tt.want, got, cmpOpts); diff != "" {
			t.Errorf("%s: Runs(%+v) mismatch (-want +got):\n%s", tt.name, tt.q, diff)
		}
	}
}

// beginUnder begins a running export of connection under lease l.
func beginUnder(t *testing.T, st store.Store, connection string, l store.Lease) store.Run {
	t.Helper()
	l.ExpiresAt = time.Time{}
	r, err := st.BeginRun(ctx(t), store.Run{Connection: connection, Kind: store.RunExport, Trigger: store.TriggerManual, Lease: l})
	if err != nil {
		t.Fatalf("BeginRun under lease %q of %s: %v", l.Name, l.Holder, err)
	}
	if r.Lease != l {
		t.Errorf("BeginRun recorded lease %+v, want %+v", r.Lease, l)
	}
	return r
}

// interrupt calls InterruptOrphanedRuns and returns the ids it finished,
// checking what it recorded on each.
func interrupt(t *testing.T, st store.Store, connection string) []string {
	t.Helper()
	before := time.Now()
	runs, err := st.InterruptOrphanedRuns(ctx(t), connection)
	after := time.Now()
	if err != nil {
		t.Fatalf("InterruptOrphanedRuns(%q): %v", connection, err)
	}
	ids := []string{}
	for _, r := range runs {
		ids = append(ids, r.ID)
		if r.Status != store.RunInterrupted || r.Error != store.OrphanedRunError || r.Connection != connection {
			t.Errorf("interrupted run %s: status %q, error %q, connection %q; want %q, %q, %q",
				r.ID, r.Status, r.Error, r.Connection, store.RunInterrupted, store.OrphanedRunError, connection)
		}
		checkStamp(t, "interrupted run FinishedAt", r.FinishedAt, before, after)
		got, err := st.Run(ctx(t), r.ID)
		if err != nil {
			t.Fatalf("Run(%q): %v", r.ID, err)
		}
		if diff := cmp.Diff(r, got, cmpOpts); diff != "" {
			t.Errorf("run %s as stored differs from what InterruptOrphanedRuns returned (-returned +stored):\n%s", r.ID, diff)
		}
	}
	return ids
}

// testInterruptOrphanedRuns: a running run is finished as interrupted once
// its holder no longer holds its lease with its token (released, expired,
// taken over, or re-acquired with a new token), and never before; runs
// without a lease, finished runs and other connections are left alone.
func (s *suite) testInterruptOrphanedRuns(t *testing.T) {
	st := s.open(t)
	const conn = "wug-a"
	live := acquire(t, st, "export/live", "host-1", time.Minute)
	released := acquire(t, st, "export/released", "host-1", time.Minute)
	expiring := acquire(t, st, "export/expiring", "host-2", 2*time.Second)
	renewed := acquire(t, st, "export/renewed", "host-3", 2*time.Second)

	rLive := beginUnder(t, st, conn, live)
	rReleased := beginUnder(t, st, conn, released)
	rExpired := beginUnder(t, st, conn, expiring)
	rRetoken := beginUnder(t, st, conn, renewed)
	rOther := beginUnder(t, st, "wug-b", released)
	noLease, err := st.BeginRun(ctx(t), store.Run{Connection: conn, Kind: store.RunScanMonitor, Trigger: store.TriggerSchedule})
	if err != nil {
		t.Fatal(err)
	}
	done := beginUnder(t, st, conn, released)
	done.Status = store.RunSucceeded
	if err := st.FinishRun(ctx(t), done); err != nil {
		t.Fatal(err)
	}

	if got := interrupt(t, st, conn); len(got) != 0 {
		t.Errorf("InterruptOrphanedRuns while every holder holds its lease finished %v, want none", got)
	}

	if err := st.ReleaseLease(ctx(t), released); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{rReleased.ID}, interrupt(t, st, conn)); diff != "" {
		t.Errorf("after a release: interrupted runs (-want +got):\n%s", diff)
	}

	time.Sleep(time.Until(renewed.ExpiresAt) + 100*time.Millisecond)
	// host-3 takes its own lease again after it expired: a new token,
	// which the run begun under the old one does not hold.
	again := acquire(t, st, "export/renewed", "host-3", time.Minute)
	if again.Token == renewed.Token {
		t.Fatalf("re-acquiring an expired lease kept token %d", again.Token)
	}
	if diff := cmp.Diff([]string{rExpired.ID, rRetoken.ID}, interrupt(t, st, conn)); diff != "" {
		t.Errorf("after an expiry and a new token: interrupted runs, oldest first (-want +got):\n%s", diff)
	}
	if got := interrupt(t, st, conn); len(got) != 0 {
		t.Errorf("a second InterruptOrphanedRuns finished %v again", got)
	}

	running, err := st.Runs(ctx(t), store.RunQuery{Status: store.RunRunning})
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, r := range running {
		ids = append(ids, r.ID)
	}
	want := []string{noLease.ID, rOther.ID, rLive.ID} // newest first
	if diff := cmp.Diff(want, ids); diff != "" {
		t.Errorf("runs still running: live holder's, lease-less and other connection's (-want +got):\n%s", diff)
	}
	if got, err := st.Run(ctx(t), done.ID); err != nil || got.Status != store.RunSucceeded {
		t.Errorf("finished run after InterruptOrphanedRuns: %+v, %v; want it left succeeded", got, err)
	}
}

// testLeaseHeldError: AcquireLease of a held lease names its holder, token
// and expiry in a *store.LeaseHeldError.
func (s *suite) testLeaseHeldError(t *testing.T) {
	st := s.open(t)
	l := acquire(t, st, "export/wug-a", "host-1", time.Minute)
	_, err := st.AcquireLease(ctx(t), "export/wug-a", "host-2", time.Minute)
	var held *store.LeaseHeldError
	if !errors.As(err, &held) {
		t.Fatalf("AcquireLease of a held lease: %v, want a *store.LeaseHeldError", err)
	}
	if diff := cmp.Diff(l, held.Lease, cmpOpts); diff != "" {
		t.Errorf("LeaseHeldError.Lease (-want +got):\n%s", diff)
	}
	if !errors.Is(err, store.ErrLeaseHeld) {
		t.Errorf("%v does not wrap store.ErrLeaseHeld", err)
	}
}
