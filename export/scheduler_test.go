package export

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/wugsync/wugsync/netbox"
	"github.com/wugsync/wugsync/store"
)

// blockingEnv is a job environment whose WUG listing waits for release.
func blockingEnv(t *testing.T) (*jobEnv, chan struct{}, chan struct{}) {
	e := newJobEnv(t, 5)
	entered, release := make(chan struct{}, 10), make(chan struct{})
	e.wug.hook = func(op string) {
		if op == "Devices" {
			e.wug.mu.Unlock() // let the fake serve other calls while blocked
			entered <- struct{}{}
			<-release
			e.wug.mu.Lock()
		}
	}
	return e, entered, release
}

func startScheduler(t *testing.T, s *Scheduler) (cancel func(), done chan error) {
	ctx, cancel := context.WithCancel(context.Background())
	done = make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	// Wait until Run has taken its context.
	for range 100 {
		s.mu.Lock()
		ok := s.ctx != nil
		s.mu.Unlock()
		if ok {
			break
		}
		time.Sleep(time.Millisecond)
	}
	t.Cleanup(func() { cancel(); <-done })
	return cancel, done
}

func TestSchedulerTriggerAndRunInProgress(t *testing.T) {
	t.Parallel()
	e, entered, release := blockingEnv(t)
	s, err := newScheduler(e.st, []scheduledConnection{{Export: e.job, Interval: time.Hour}}, SchedulerOptions{})
	if err != nil {
		t.Fatal(err)
	}
	startScheduler(t, s)
	ctx := context.Background()
	id, err := s.Trigger(ctx, "test", RunOptions{})
	if err != nil || id == "" {
		t.Fatalf("Trigger = %q, %v", id, err)
	}
	<-entered
	_, err = s.Trigger(ctx, "test", RunOptions{})
	var busy *RunInProgressError
	if !errors.As(err, &busy) || busy.RunID != id {
		t.Errorf("second Trigger = %v, want RunInProgressError naming %s", err, id)
	}
	if st, _ := s.Status("test"); !st.Running || st.RunID != id {
		t.Errorf("Status = %+v, want running %s", st, id)
	}
	if _, err := s.Trigger(ctx, "nope", RunOptions{}); !errors.Is(err, ErrUnknownConnection) {
		t.Errorf("unknown connection: %v", err)
	}
	close(release)
	waitFor(t, func() bool { st, _ := s.Status("test"); return !st.Running && st.LastResult != nil })
	run, err := e.st.Run(ctx, id)
	if err != nil || run.Status != store.RunSucceeded || run.Trigger != store.TriggerManual || run.Counts.Added != 5 {
		t.Errorf("run = %+v, %v", run, err)
	}
}

func TestSchedulerLeaseAcrossSchedulers(t *testing.T) {
	t.Parallel()
	e, entered, release := blockingEnv(t)
	defer close(release)
	a, _ := newScheduler(e.st, []scheduledConnection{{Export: e.job, Interval: time.Hour}}, SchedulerOptions{Holder: "a"})
	b, _ := newScheduler(e.st, []scheduledConnection{{Export: e.job, Interval: time.Hour}}, SchedulerOptions{Holder: "b"})
	startScheduler(t, a)
	startScheduler(t, b)
	id, err := a.Trigger(context.Background(), "test", RunOptions{})
	if err != nil {
		t.Fatal(err)
	}
	<-entered
	_, err = b.Trigger(context.Background(), "test", RunOptions{})
	var busy *RunInProgressError
	if !errors.As(err, &busy) || busy.RunID != id {
		t.Errorf("other process's Trigger = %v, want RunInProgressError naming %s", err, id)
	}
}

func TestSchedulerShutdownRecordsInterrupted(t *testing.T) {
	t.Parallel()
	e, entered, release := blockingEnv(t)
	defer close(release)
	e.wug.hook = func(op string) {
		if op == "BulkAdd" {
			e.wug.mu.Unlock()
			entered <- struct{}{}
			<-release
			e.wug.mu.Lock()
		}
	}
	s, _ := newScheduler(e.st, []scheduledConnection{{Export: e.job, Interval: time.Hour}}, SchedulerOptions{})
	cancel, done := startScheduler(t, s)
	id, err := s.Trigger(context.Background(), "test", RunOptions{})
	if err != nil {
		t.Fatal(err)
	}
	<-entered
	cancel()
	go func() { time.Sleep(50 * time.Millisecond); release <- struct{}{} }()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	done <- nil // for the cleanup
	run, err := e.st.Run(context.Background(), id)
	if err != nil || run.Status != store.RunInterrupted {
		t.Errorf("run after shutdown = %+v, %v; want interrupted", run, err)
	}
	// The lease was released: another process can take it.
	if _, err := e.st.AcquireLease(context.Background(), leaseName("test"), "other", time.Minute); err != nil {
		t.Errorf("lease after shutdown: %v", err)
	}
}

func TestSchedulerCoalescesWebhooks(t *testing.T) {
	t.Parallel()
	e := newJobEnv(t, 6)
	s, _ := newScheduler(e.st, []scheduledConnection{{Export: e.job, Interval: time.Hour, Webhooks: true}},
		SchedulerOptions{WebhookWindow: 100 * time.Millisecond})
	startScheduler(t, s)
	for _, id := range []int64{2, 4, 2, 5} {
		s.Notify(netbox.ObjectRef{Kind: netbox.KindDevice, ID: id})
	}
	waitFor(t, func() bool {
		st, _ := s.Status("test")
		return st.LastResult != nil && !st.Running
	})
	runs, err := e.st.Runs(context.Background(), store.RunQuery{Connection: "test"})
	if err != nil {
		t.Fatal(err)
	}
	if len(runs) != 1 || runs[0].Trigger != store.TriggerWebhook {
		t.Fatalf("runs = %+v, want one webhook run", runs)
	}
	want := []string{"device:2", "device:4", "device:5"}
	got := slices.Clone(runs[0].Filters["objects"])
	slices.Sort(got)
	if !slices.Equal(want, got) || runs[0].Counts.Added != 3 {
		t.Errorf("webhook run objects %v added %d, want %v and 3", got, runs[0].Counts.Added, want)
	}
}

func TestSchedulerRunsOnInterval(t *testing.T) {
	t.Parallel()
	e := newJobEnv(t, 3)
	mon := &scanJob{Connection: "test", WUG: e.wug, Store: e.st}
	s, _ := newScheduler(e.st, []scheduledConnection{{Export: e.job, Scans: mon, Interval: 30 * time.Millisecond, Jitter: time.Millisecond}},
		SchedulerOptions{})
	startScheduler(t, s)
	waitFor(t, func() bool {
		runs, _ := e.st.Runs(context.Background(), store.RunQuery{Connection: "test", Kind: store.RunExport, Status: store.RunSucceeded})
		return len(runs) >= 2
	})
	runs, _ := e.st.Runs(context.Background(), store.RunQuery{Connection: "test", Kind: store.RunScanMonitor})
	if len(runs) == 0 || runs[0].Trigger != store.TriggerSchedule {
		t.Errorf("scan monitor runs after scheduled exports: %+v", runs)
	}
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met within 10s")
		}
		time.Sleep(5 * time.Millisecond)
	}
}
