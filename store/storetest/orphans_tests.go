package storetest

import (
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/wugsync/wugsync/store"
)

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
