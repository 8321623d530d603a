package export

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/wugsync/wugsync/store"
)

// startBlockedRun starts e's run in the background and returns once the
// run holds the lease and is listing WUG (blockingEnv's entered): the run
// as recorded at its start, and where its error arrives.
func startBlockedRun(ctx context.Context, e *jobEnv, entered <-chan struct{}) (store.Run, <-chan error) {
	var run store.Run
	done := make(chan error, 1)
	go func() {
		_, err := e.job.Run(ctx, RunOptions{OnStart: func(r store.Run) { run = r }})
		done <- err
	}()
	<-entered
	return run, done
}

// TestExportJobLeaseExcludes: while one ExportJob.Run holds the
// connection, a second run through the same store fails fast naming the
// holder and the run, or, asked to wait, starts only once the first ends;
// WUG gets each device once.
func TestExportJobLeaseExcludes(t *testing.T) {
	t.Parallel()
	e, entered, release := blockingEnv(t)
	ctx := context.Background()
	first, firstDone := startBlockedRun(ctx, e, entered)

	second := *e.job
	_, err := second.Run(ctx, RunOptions{})
	var busy *RunInProgressError
	if !errors.As(err, &busy) {
		t.Fatalf("second Run while the first holds the lease: %v, want a *RunInProgressError", err)
	}
	if busy.RunID != first.ID || busy.Holder != first.Lease.Holder || busy.Holder == "" || busy.Until.IsZero() {
		t.Errorf("busy error %+v, want run %s of holder %q with an expiry", busy, first.ID, first.Lease.Holder)
	}
	if !strings.Contains(err.Error(), first.Lease.Holder) || !strings.Contains(err.Error(), first.ID) {
		t.Errorf("busy error %q does not name the holder %q and run %s", err, first.Lease.Holder, first.ID)
	}

	// Asked to wait, the second run waits for the first to end.
	second.Lease = leaseOptions{Wait: true, TTL: 400 * time.Millisecond}
	secondDone := make(chan *Result, 1)
	go func() {
		res, err := second.Run(ctx, RunOptions{})
		if err != nil {
			t.Errorf("waiting Run: %v", err)
		}
		secondDone <- res
	}()
	select {
	case <-secondDone:
		t.Fatal("the waiting run finished while the first still held the lease")
	case <-entered:
		t.Fatal("the waiting run listed WUG while the first still held the lease")
	case <-time.After(300 * time.Millisecond):
	}
	close(release)
	if err := <-firstDone; err != nil {
		t.Fatal(err)
	}
	res := <-secondDone
	if res == nil || res.Counts.Added != 0 || res.Counts.Unchanged != 5 {
		t.Errorf("waiting run after the first: %+v, want 5 unchanged and nothing added", res)
	}
	for addr, n := range e.wug.byAddr() {
		if n != 1 {
			t.Errorf("WUG holds %d devices for %s, want 1", n, addr)
		}
	}
	// Both runs released the lease.
	if _, err := e.st.AcquireLease(ctx, leaseName("test"), "other", time.Minute); err != nil {
		t.Errorf("lease after both runs: %v", err)
	}
}

// TestExportJobLeaseLostInterrupts: a run whose lease is taken over (its
// renewal finds it lost) stops and is recorded as interrupted, naming the
// lost lease.
func TestExportJobLeaseLostInterrupts(t *testing.T) {
	t.Parallel()
	e, entered, release := blockingEnv(t)
	e.job.Lease = leaseOptions{TTL: 150 * time.Millisecond}
	ctx := context.Background()
	run, done := startBlockedRun(ctx, e, entered)
	// Another process breaks the lease and takes it.
	held := run.Lease
	if err := e.st.ReleaseLease(ctx, held); err != nil {
		t.Fatal(err)
	}
	if _, err := e.st.AcquireLease(ctx, leaseName("test"), "thief", time.Minute); err != nil {
		t.Fatal(err)
	}
	time.Sleep(150 * time.Millisecond) // at least one renewal
	close(release)
	err := <-done
	if !errors.Is(err, ErrLeaseLost) {
		t.Errorf("Run after losing its lease: %v, want an error wrapping ErrLeaseLost", err)
	}
	got, _ := e.st.Run(ctx, run.ID)
	if got.Status != store.RunInterrupted || !strings.Contains(got.Error, "lease") {
		t.Errorf("run after losing its lease: %+v, want interrupted naming the lease", got)
	}
	if writes, _ := e.wug.stats(); writes != 0 {
		t.Errorf("the run wrote %d times to WUG after losing its lease", writes)
	}
}

// goneHolder returns a default-format holder of a process on this host
// that has exited.
func goneHolder(t *testing.T) string {
	t.Helper()
	if pidNamespace() == "-" {
		t.Skip("no PID namespace to judge a holder's process by")
	}
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	if err := cmd.Run(); err != nil {
		t.Fatal(err)
	}
	host, _ := os.Hostname()
	return fmt.Sprintf("%s/%d/%s/deadbeef#1", host, cmd.Process.Pid, pidNamespace())
}

// crashedRun leaves what a process killed mid-run leaves: its lease,
// unexpired, a running run recorded under it, and a pending record.
func crashedRun(t *testing.T, st store.Store, holder string, ttl time.Duration) store.Run {
	t.Helper()
	ctx := context.Background()
	l, err := st.AcquireLease(ctx, leaseName("test"), holder, ttl)
	if err != nil {
		t.Fatal(err)
	}
	l.ExpiresAt = time.Time{}
	run, err := st.BeginRun(ctx, store.Run{Connection: "test", Kind: store.RunExport, Trigger: store.TriggerSchedule, Lease: l})
	if err != nil {
		t.Fatal(err)
	}
	rec := store.Record{Key: store.Key{Connection: "test", Address: netip.MustParseAddr("10.0.0.1")},
		ObjectKind: store.ObjectDevice, ObjectID: 1, ObjectName: "dev-1", Status: store.StatusPending, Reason: store.ReasonNewDevice}
	if err := st.UpsertRecords(ctx, []store.Record{rec}); err != nil {
		t.Fatal(err)
	}
	return run
}

// TestExportJobTakesOverGoneHolder: a lease whose holder is a process on
// this host that no longer exists is taken over at once, not after its
// time to live, and the dead process's run is marked interrupted.
func TestExportJobTakesOverGoneHolder(t *testing.T) {
	t.Parallel()
	e := newJobEnv(t, 5)
	dead := crashedRun(t, e.st, goneHolder(t), time.Hour)
	res := e.run(t, RunOptions{})
	if res.Counts.Added != 5 {
		t.Errorf("run after the holder died: %+v, want 5 added", res.Counts)
	}
	got, err := e.st.Run(context.Background(), dead.ID)
	if err != nil || got.Status != store.RunInterrupted || got.Error != store.OrphanedRunError {
		t.Errorf("dead holder's run: %+v, %v; want interrupted", got, err)
	}
	for addr, n := range e.wug.byAddr() {
		if n != 1 {
			t.Errorf("WUG holds %d devices for %s, want 1", n, addr)
		}
	}
}

// TestExportJobLeavesLiveHolder: a holder that may be alive (this very
// process, another host, a chosen name) keeps its lease.
func TestExportJobLeavesLiveHolder(t *testing.T) {
	t.Parallel()
	host, _ := os.Hostname()
	for _, holder := range []string{
		fmt.Sprintf("%s/%d/%s/cafe#1", host, os.Getpid(), pidNamespace()),
		fmt.Sprintf("other-host/%d/%s/cafe#1", 1<<22, pidNamespace()),
		"cron-nightly",
	} {
		e := newJobEnv(t, 2)
		crashedRun(t, e.st, holder, time.Hour)
		_, err := e.job.Run(context.Background(), RunOptions{})
		if !isType[*RunInProgressError](err) {
			t.Errorf("Run while %q holds the lease: %v, want a *RunInProgressError", holder, err)
		}
	}
}

// TestSchedulerRecoversCrashedRun: a scheduler starting beside a crashed
// holder's leftovers (its lease not yet expired, a pending record, a run
// still "running") exports as soon as that lease expires, not a whole
// interval later, and marks the crashed run interrupted.
func TestSchedulerRecoversCrashedRun(t *testing.T) {
	t.Parallel()
	e := newJobEnv(t, 5)
	const ttl = 300 * time.Millisecond
	dead := crashedRun(t, e.st, "elsewhere/1/1/abcd#1", ttl)
	start := time.Now()
	s, err := newScheduler(e.st, []scheduledConnection{{Export: e.job, Interval: time.Hour}}, SchedulerOptions{LeaseTTL: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	startScheduler(t, s)
	waitFor(t, func() bool { st, _ := s.Status("test"); return st.LastResult != nil && !st.Running })
	if took := time.Since(start); took > ttl+2*time.Second {
		t.Errorf("leftovers exported after %v, want within about the crashed lease's %v", took, ttl)
	}
	st, _ := s.Status("test")
	if st.LastResult.Counts.Added != 5 || st.LastResult.Status != store.RunSucceeded {
		t.Errorf("recovery run: %+v", st.LastResult)
	}
	got, err := e.st.Run(context.Background(), dead.ID)
	if err != nil || got.Status != store.RunInterrupted {
		t.Errorf("crashed run after recovery: %+v, %v; want interrupted", got, err)
	}
	counts, _ := e.st.CountByStatus(context.Background(), "test")
	if counts[store.StatusPending] != 0 {
		t.Errorf("pending records after recovery: %d", counts[store.StatusPending])
	}
}

// TestSchedulerTriggerSentinels: Trigger answers ErrNotRunning before Run
// and ErrStopping once Run's context has ended.
func TestSchedulerTriggerSentinels(t *testing.T) {
	t.Parallel()
	e := newJobEnv(t, 1)
	s, _ := newScheduler(e.st, []scheduledConnection{{Export: e.job, Interval: time.Hour}}, SchedulerOptions{})
	if _, err := s.Trigger(context.Background(), "test", RunOptions{}); !errors.Is(err, ErrNotRunning) {
		t.Errorf("Trigger before Run: %v, want ErrNotRunning", err)
	}
	cancel, done := startScheduler(t, s)
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	done <- nil
	if _, err := s.Trigger(context.Background(), "test", RunOptions{}); !errors.Is(err, ErrStopping) {
		t.Errorf("Trigger after Run stopped: %v, want ErrStopping", err)
	}
}

// TestSchedulerTriggerRacesStop: triggers racing the scheduler's stop are
// either refused or waited for: when Run returns, no run it started is
// still going.
func TestSchedulerTriggerRacesStop(t *testing.T) {
	t.Parallel()
	for i := range 30 {
		e := newJobEnv(t, 3)
		e.wug.hook = func(op string) {
			if op == "BulkAdd" {
				e.wug.mu.Unlock()
				time.Sleep(10 * time.Millisecond)
				e.wug.mu.Lock()
			}
		}
		s, _ := newScheduler(e.st, []scheduledConnection{{Export: e.job, Interval: time.Hour}}, SchedulerOptions{})
		cancel, done := startScheduler(t, s)
		var mu sync.Mutex
		var ids []string
		var wg sync.WaitGroup
		stop := make(chan struct{})
		for range 4 {
			wg.Go(func() {
				for {
					select {
					case <-stop:
						return
					default:
					}
					id, err := s.Trigger(context.Background(), "test", RunOptions{})
					switch {
					case err == nil:
						mu.Lock()
						ids = append(ids, id)
						mu.Unlock()
					case errors.Is(err, ErrStopping):
						return
					case !isType[*RunInProgressError](err):
						t.Errorf("Trigger: %v", err)
						return
					}
				}
			})
		}
		time.Sleep(time.Duration(i%5) * time.Millisecond)
		cancel()
		if err := <-done; err != nil {
			t.Fatal(err)
		}
		done <- nil
		// Run has returned: every run it started has recorded its end.
		mu.Lock()
		for _, id := range ids {
			r, err := e.st.Run(context.Background(), id)
			if err != nil || r.Status == store.RunRunning {
				t.Errorf("iteration %d: run %s still %q after the scheduler's Run returned (%v)", i, id, r.Status, err)
			}
		}
		mu.Unlock()
		close(stop)
		wg.Wait()
	}
}

// TestRunRecordsBoundedFilters: a bulk run records a sample of its
// addresses and their count, not every address.
func TestRunRecordsBoundedFilters(t *testing.T) {
	t.Parallel()
	e := newJobEnv(t, 50)
	var ips []netip.Addr
	for _, d := range testDevices(50) {
		ips = append(ips, d.PrimaryIPv4.Address.Addr())
	}
	res := e.run(t, RunOptions{Trigger: store.TriggerBulk, IPs: ips})
	run, err := e.st.Run(context.Background(), res.RunID)
	if err != nil {
		t.Fatal(err)
	}
	var want []string
	for _, ip := range ips[:maxRecordedFilterValues] {
		want = append(want, ip.String())
	}
	if diff := cmp.Diff(map[string][]string{"ips": want, "ips_total": {"50"}}, run.Filters); diff != "" {
		t.Errorf("bulk run's recorded filters (-want +got):\n%s", diff)
	}
}

// TestRecoverRuns: the run of a gone process is finished and its lease
// freed; a live holder's run is left alone.
func TestRecoverRuns(t *testing.T) {
	t.Parallel()
	e := newJobEnv(t, 1)
	ctx := context.Background()
	dead := crashedRun(t, e.st, goneHolder(t), time.Hour)
	live, err := e.st.AcquireLease(ctx, leaseName("other"), "alive-elsewhere", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	live.ExpiresAt = time.Time{}
	liveRun, err := e.st.BeginRun(ctx, store.Run{Connection: "test", Kind: store.RunScanMonitor, Lease: live})
	if err != nil {
		t.Fatal(err)
	}
	runs, err := recoverRuns(ctx, e.st, "test")
	if err != nil {
		t.Fatal(err)
	}
	if len(runs) != 1 || runs[0].ID != dead.ID || runs[0].Status != store.RunInterrupted {
		t.Errorf("RecoverRuns = %+v, want the dead holder's run %s interrupted", runs, dead.ID)
	}
	if got, _ := e.st.Run(ctx, liveRun.ID); got.Status != store.RunRunning {
		t.Errorf("live holder's run after RecoverRuns: %q, want running", got.Status)
	}
	if _, err := e.st.AcquireLease(ctx, leaseName("test"), "next", time.Minute); err != nil {
		t.Errorf("the dead holder's lease after RecoverRuns: %v, want it free", err)
	}
}

// TestSchedulerLeavesALiveHoldersWork: a scheduler starting while another
// live holder exports the connection (its records pending, its lease
// renewed) looks again when that lease would end, and once the holder has
// finished its work it goes back to its interval instead of exporting
// again at once.
func TestSchedulerLeavesALiveHoldersWork(t *testing.T) {
	t.Parallel()
	e := newJobEnv(t, 3)
	ctx := context.Background()
	// The holder renews every tenth of its lease, so only a stall of most
	// of a second (a loaded machine) could let the lease lapse.
	const ttl = time.Second
	other := crashedRun(t, e.st, "elsewhere/1/1/live#1", ttl)
	s, _ := newScheduler(e.st, []scheduledConnection{{Export: e.job, Interval: time.Hour}}, SchedulerOptions{})
	startScheduler(t, s)
	// The other holder goes on, renewing its lease, until the scheduler has
	// been refused twice: at its start and again when the lease it saw
	// would have ended. Each refusal sets its next look to a later lease
	// end.
	l := other.Lease
	var looks int
	var lastLook time.Time
	for deadline := time.Now().Add(20 * ttl); looks < 2; {
		if time.Now().After(deadline) {
			t.Fatalf("the scheduler looked %d times in %v while another holder held the connection, want 2", looks, 20*ttl)
		}
		time.Sleep(ttl / 10)
		var err error
		if l, err = e.st.RenewLease(ctx, l, ttl); err != nil {
			t.Fatal(err)
		}
		st, _ := s.Status("test")
		if st.NextExport.After(time.Now()) && st.NextExport.After(lastLook) {
			looks, lastLook = looks+1, st.NextExport
		}
	}
	rec, err := e.st.Record(ctx, store.Key{Connection: "test", Address: netip.MustParseAddr("10.0.0.1")})
	if err != nil {
		t.Fatal(err)
	}
	rec.Status, rec.WUGDeviceID = store.StatusExported, "77"
	if err := e.st.UpsertRecords(ctx, []store.Record{rec}); err != nil {
		t.Fatal(err)
	}
	other.Status = store.RunSucceeded
	if err := e.st.FinishRun(ctx, other); err != nil {
		t.Fatal(err)
	}
	if err := e.st.ReleaseLease(ctx, l); err != nil {
		t.Fatal(err)
	}
	// Its next look, when the released lease would have ended, finds no
	// work left and sets the next export an interval away. An export it
	// started instead would be recorded before that next time is shown.
	for deadline := time.Now().Add(20 * ttl); ; time.Sleep(ttl / 20) {
		if st, _ := s.Status("test"); time.Until(st.NextExport) > 50*time.Minute {
			break
		}
		if time.Now().After(deadline) {
			st, _ := s.Status("test")
			t.Fatalf("next export %v from now %v after the other holder finished, want about the interval", time.Until(st.NextExport), 20*ttl)
		}
	}
	runs, _ := e.st.Runs(ctx, store.RunQuery{Connection: "test"})
	if len(runs) != 1 || runs[0].ID != other.ID {
		t.Errorf("runs after the other holder finished: %d, want only its own (no extra export)", len(runs))
	}
}

// isType reports whether err's chain holds an error of type E.
func isType[E error](err error) bool {
	_, ok := errors.AsType[E](err)
	return ok
}
