package export

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"slices"
	"sync"
	"time"

	"github.com/wugsync/wugsync/netbox"
	"github.com/wugsync/wugsync/store"
)

// ErrUnknownConnection is returned for a connection the scheduler does not
// run.
var ErrUnknownConnection = errors.New("export: unknown connection")

// ErrNotRunning is returned by Trigger before the Scheduler's Run has
// started.
var ErrNotRunning = errors.New("export: the scheduler is not running")

// ErrStopping is returned by Trigger once the Scheduler's Run context has
// ended: it is stopping, or has stopped, and starts no more runs.
var ErrStopping = errors.New("export: the scheduler is stopping")

// scheduledConnection is one connection the Scheduler runs.
type scheduledConnection struct {
	Export *exportJob // required; its Connection.Name names the connection
	Scans  *scanJob   // optional: follows scans after each export and every ScanInterval

	Interval     time.Duration // between exports; default 180 minutes
	Jitter       time.Duration // random delay added to each export; default Interval/10
	ScanInterval time.Duration // between scan-monitor runs; default 5 minutes
	// Webhooks lets NetBox webhook events trigger targeted exports.
	Webhooks bool
}

// SchedulerOptions tune a Scheduler.
type SchedulerOptions struct {
	// Holder names this process in leases (the default is the host name, process id, PID
	// namespace on Linux, and a random suffix).
	Holder string
	// LeaseTTL is how long a run's lease lasts without renewal; it is
	// renewed every third of it. Default 2 minutes.
	LeaseTTL time.Duration
	// WebhookWindow coalesces webhook events: the first event of a burst
	// starts the window, and one targeted export runs at its end.
	// Default 5 seconds.
	WebhookWindow time.Duration
	// OnExport, when set, is called with every finished export's result.
	OnExport func(*Result, error)
	Logger   *slog.Logger
}

// ConnectionStatus is what the scheduler knows about one connection.
type ConnectionStatus struct {
	Connection string    `json:"connection"`
	Running    bool      `json:"running"`
	RunID      string    `json:"run_id,omitempty"` // the run in progress
	NextExport time.Time `json:"next_export"`
	LastResult *Result   `json:"last_result,omitempty"`
	LastError  string    `json:"last_error,omitempty"`
}

// Scheduler runs each connection's export on its interval (with jitter),
// then its scan monitor; it never runs two exports of one connection at
// once, in this process (a run flag) or across processes sharing the store
// (the connection's lease, which Connection.Run takes too).
// When it starts, and whenever a run finds the lease free again, the runs
// of holders that are gone are marked interrupted, and a connection with
// leftovers (pending records, or a run that never finished) is exported
// at once rather than at its next interval. Webhook events are coalesced
// into targeted exports. Cancelling Run's context stops it cleanly: a run
// in progress is recorded as interrupted.
type Scheduler struct {
	st    store.Store
	opts  SchedulerOptions
	log   *slog.Logger
	conns map[string]*connRunner
	order []string

	// mu orders the run bookkeeping: a run is counted in runs under mu,
	// and only while Run has started and is not stopping, so Run's wait
	// sees every run it must wait for.
	mu       sync.Mutex
	ctx      context.Context // Run's context, nil before Run
	stopping bool            // Run's context has ended
	runs     sync.WaitGroup
	timer    *time.Timer
}

type connRunner struct {
	cfg scheduledConnection
	// wake carries webhook events from the coalescing timer.
	wake chan struct{}

	mu      sync.Mutex
	running bool
	runID   string
	holder  string // the lease holder of the run in progress
	next    time.Time
	last    *Result
	lastErr error
	objects map[netbox.ObjectRef]bool // webhook objects waiting for an export
}

// newScheduler returns a scheduler for the connections; call Run to start
// it.
func newScheduler(st store.Store, conns []scheduledConnection, opts SchedulerOptions) (*Scheduler, error) {
	if st == nil && len(conns) > 0 {
		return nil, errors.New("export: scheduler: no store")
	}
	if opts.LeaseTTL <= 0 {
		opts.LeaseTTL = defaultLeaseTTL
	}
	if opts.WebhookWindow <= 0 {
		opts.WebhookWindow = 5 * time.Second
	}
	s := &Scheduler{st: st, opts: opts, log: opts.Logger, conns: map[string]*connRunner{}}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	for _, c := range conns {
		if c.Export == nil {
			return nil, errors.New("export: scheduler: a connection has no export job")
		}
		if err := c.Export.check(); err != nil {
			return nil, fmt.Errorf("export: scheduler: %w", err)
		}
		name := c.Export.Connection.Name
		if _, dup := s.conns[name]; dup {
			return nil, fmt.Errorf("export: scheduler: connection %q is listed twice", name)
		}
		if c.Interval <= 0 {
			c.Interval = 180 * time.Minute
		}
		if c.Jitter <= 0 {
			c.Jitter = c.Interval / 10
		}
		if c.ScanInterval <= 0 {
			c.ScanInterval = 5 * time.Minute
		}
		s.conns[name] = &connRunner{cfg: c, wake: make(chan struct{}, 1), objects: map[netbox.ObjectRef]bool{}}
		s.order = append(s.order, name)
	}
	return s, nil
}

// Run runs the schedules until ctx ends, then waits for the runs in
// progress to record themselves as interrupted.
func (s *Scheduler) Run(ctx context.Context) error {
	s.mu.Lock()
	if s.ctx != nil {
		s.mu.Unlock()
		return errors.New("export: scheduler is already running")
	}
	s.ctx = ctx
	s.mu.Unlock()
	var loops sync.WaitGroup
	for _, name := range s.order {
		c := s.conns[name]
		loops.Go(func() { s.loop(ctx, c) })
	}
	<-ctx.Done()
	s.mu.Lock()
	s.stopping = true
	s.mu.Unlock()
	loops.Wait()
	s.mu.Lock()
	if s.timer != nil {
		s.timer.Stop()
	}
	s.mu.Unlock()
	s.runs.Wait()
	return nil
}

// enter counts a run the scheduler must wait for and returns Run's
// context, or ErrNotRunning or ErrStopping; the caller calls s.runs.Done
// when the run ends (or does not start).
func (s *Scheduler) enter() (context.Context, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case s.ctx == nil:
		return nil, ErrNotRunning
	case s.stopping || s.ctx.Err() != nil:
		return nil, ErrStopping
	}
	s.runs.Add(1)
	return s.ctx, nil
}

// leases are the options the scheduler's runs take leases with.
func (s *Scheduler) leases() leaseOptions {
	return leaseOptions{Holder: s.opts.Holder, TTL: s.opts.LeaseTTL}
}

// leftovers marks the connection's orphaned runs interrupted and reports
// whether the connection has work a run left behind: pending records, a
// run still recorded as running (whose holder may be gone), or a last
// export run that was interrupted.
func (s *Scheduler) leftovers(ctx context.Context, name string) bool {
	orphans, err := recoverRuns(ctx, s.st, name)
	if err != nil {
		s.log.Warn("export: finishing orphaned runs failed", "connection", name, "err", err)
	}
	for _, r := range orphans {
		s.log.Warn("export: a run whose holder is gone was marked interrupted", "connection", name, "run_id", r.ID, "holder", r.Lease.Holder)
	}
	counts, err := s.st.CountByStatus(ctx, name)
	if err != nil {
		return false
	}
	if counts[store.StatusPending] > 0 || len(orphans) > 0 {
		return true
	}
	running, err := s.st.Runs(ctx, store.RunQuery{Connection: name, Status: store.RunRunning, Limit: 1})
	if err == nil && len(running) > 0 {
		return true
	}
	// A run killed between batches leaves no pending record for the
	// addresses it never reached: its being the last export run is the sign.
	last, err := s.st.Runs(ctx, store.RunQuery{Connection: name, Kind: store.RunExport, Limit: 1})
	return err == nil && len(last) > 0 && last[0].Status == store.RunInterrupted
}

func (s *Scheduler) loop(ctx context.Context, c *connRunner) {
	name := c.cfg.Export.Connection.Name
	// Run now if a run left work behind; otherwise pick up the schedule
	// where the last export left it.
	recovering := s.leftovers(ctx, name)
	next := time.Now()
	if !recovering {
		next = s.scheduled(ctx, c)
	}
	scan := time.NewTicker(c.cfg.ScanInterval)
	defer scan.Stop()
	for {
		c.mu.Lock()
		c.next = next
		c.mu.Unlock()
		timer := time.NewTimer(time.Until(next))
		select {
		case <-ctx.Done():
			timer.Stop()
			return
		case <-timer.C:
			if recovering && !s.leftovers(ctx, name) {
				// Whoever held the connection finished its work.
				recovering, next = false, s.scheduled(ctx, c)
				break
			}
			recovering = false
			next = time.Now().Add(c.cfg.Interval + jitter(c.cfg.Jitter))
			_, err := s.start(ctx, c, RunOptions{Trigger: store.TriggerSchedule}, true)
			var busy *RunInProgressError
			switch {
			case errors.As(err, &busy):
				// Another holder runs the connection. If work was left
				// behind (its holder may be gone), look again when its
				// lease ends rather than a whole interval later.
				if !busy.Until.IsZero() && busy.Until.Before(next) && s.leftovers(ctx, name) {
					recovering, next = true, busy.Until.Add(50*time.Millisecond)
				}
			case err != nil && !errors.Is(err, ErrStopping):
				s.log.Warn("export: scheduled export did not start", "connection", name, "err", err)
			}
		case <-scan.C:
			if c.cfg.Scans != nil || c.cfg.Export.syncsState() {
				s.scanOnly(ctx, c)
			}
		case <-c.wake:
			c.mu.Lock()
			objs := make([]netbox.ObjectRef, 0, len(c.objects))
			for o := range c.objects {
				objs = append(objs, o)
			}
			c.objects = map[netbox.ObjectRef]bool{}
			c.mu.Unlock()
			slices.SortFunc(objs, func(a, b netbox.ObjectRef) int {
				if a.Kind != b.Kind {
					return compareStrings(string(a.Kind), string(b.Kind))
				}
				return int(a.ID - b.ID)
			})
			if len(objs) == 0 {
				break
			}
			if _, err := s.start(ctx, c, RunOptions{Trigger: store.TriggerWebhook, Objects: objs}, false); err != nil {
				// Keep the events for the next window.
				c.mu.Lock()
				for _, o := range objs {
					c.objects[o] = true
				}
				c.mu.Unlock()
				s.arm()
				if !busy(err) {
					s.log.Warn("export: webhook export did not start", "connection", name, "err", err)
				}
			}
		}
		timer.Stop()
	}
}

// scheduled is when the connection's next export is due: an interval after
// the last one started, and not before a jittered moment from now.
func (s *Scheduler) scheduled(ctx context.Context, c *connRunner) time.Time {
	next := time.Now().Add(jitter(c.cfg.Jitter))
	runs, err := s.st.Runs(ctx, store.RunQuery{Connection: c.cfg.Export.Connection.Name, Kind: store.RunExport, Limit: 1})
	if err == nil && len(runs) > 0 {
		if t := runs[0].StartedAt.Add(c.cfg.Interval); t.After(next) {
			next = t
		}
	}
	return next
}

func compareStrings(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func jitter(max time.Duration) time.Duration {
	if max <= 0 {
		return 0
	}
	return rand.N(max)
}

// Trigger starts an export of a connection now and returns its run id once
// the run is recorded; the export goes on in the background, under Run's
// context (Run waits for it). It returns a *RunInProgressError when the
// connection already has a run, here or in another process sharing the store; ErrNotRunning before Run
// has started; ErrStopping once Run's context has ended; an error wrapping
// ErrUnknownConnection for a connection it does not run.
func (s *Scheduler) Trigger(ctx context.Context, connection string, opts RunOptions) (runID string, err error) {
	c, ok := s.conns[connection]
	if !ok {
		return "", fmt.Errorf("%w %q", ErrUnknownConnection, connection)
	}
	if opts.Trigger == "" {
		opts.Trigger = store.TriggerManual
	}
	if opts.dryRun {
		return "", errors.New("export: a triggered run cannot be a dry run; call Connection.Plan")
	}
	return s.startWith(ctx, c, opts, false)
}

// Status reports a connection's state.
func (s *Scheduler) Status(connection string) (ConnectionStatus, error) {
	c, ok := s.conns[connection]
	if !ok {
		return ConnectionStatus{}, fmt.Errorf("%w %q", ErrUnknownConnection, connection)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	st := ConnectionStatus{Connection: connection, Running: c.running, RunID: c.runID, NextExport: c.next, LastResult: c.last}
	if c.lastErr != nil {
		st.LastError = c.lastErr.Error()
	}
	return st, nil
}

// Connections lists the connection names in the order given.
func (s *Scheduler) Connections() []string { return slices.Clone(s.order) }

// Notify hands the scheduler a NetBox object that a webhook reported as
// created, updated or deleted. Events are coalesced over the webhook window
// into one targeted export per connection that accepts webhooks.
func (s *Scheduler) Notify(obj netbox.ObjectRef) {
	anyConn := false
	for _, name := range s.order {
		c := s.conns[name]
		if !c.cfg.Webhooks {
			continue
		}
		anyConn = true
		c.mu.Lock()
		c.objects[obj] = true
		c.mu.Unlock()
	}
	if anyConn {
		s.arm()
	}
}

// arm starts the coalescing window unless it is already running.
func (s *Scheduler) arm() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.timer != nil {
		return
	}
	s.timer = time.AfterFunc(s.opts.WebhookWindow, func() {
		s.mu.Lock()
		s.timer = nil
		s.mu.Unlock()
		for _, c := range s.conns {
			select {
			case c.wake <- struct{}{}:
			default:
			}
		}
	})
}

func (s *Scheduler) start(ctx context.Context, c *connRunner, opts RunOptions, withScans bool) (string, error) {
	return s.startWith(ctx, c, opts, withScans)
}

// startWith takes the connection's run flag and lease, starts the export
// under Run's context and waits (bounded by ctx) until it is recorded.
func (s *Scheduler) startWith(ctx context.Context, c *connRunner, opts RunOptions, withScans bool) (string, error) {
	name := c.cfg.Export.Connection.Name
	base, err := s.enter()
	if err != nil {
		return "", err
	}
	c.mu.Lock()
	if c.running {
		busy := &RunInProgressError{Connection: name, RunID: c.runID, Holder: c.holder}
		c.mu.Unlock()
		s.runs.Done()
		return "", busy
	}
	c.running, c.runID, c.holder = true, "", ""
	c.mu.Unlock()
	release := func() {
		c.mu.Lock()
		c.running, c.runID, c.holder = false, "", ""
		c.mu.Unlock()
	}
	// Taking the lease is bounded by the caller's ctx and by Run's; the
	// run itself belongs to Run's context.
	acquireCtx, stopAcquire := context.WithCancel(ctx)
	stopWatch := context.AfterFunc(base, stopAcquire)
	held, err := takeLease(acquireCtx, s.st, name, s.leases(), s.log.With("connection", name))
	stopWatch()
	stopAcquire()
	if err != nil {
		release()
		s.runs.Done()
		switch {
		case busy(err):
			return "", err
		case base.Err() != nil:
			return "", fmt.Errorf("%w: connection %s: %w", ErrStopping, name, err)
		}
		return "", fmt.Errorf("export: connection %s: %w", name, err)
	}
	c.mu.Lock()
	c.holder = held.current().Holder
	c.mu.Unlock()
	runCtx := held.hold(base)
	started := make(chan string, 1)
	userStart := opts.OnStart
	opts.OnStart = func(r store.Run) {
		c.mu.Lock()
		c.runID = r.ID
		c.mu.Unlock()
		if userStart != nil {
			userStart(r)
		}
		started <- r.ID
	}
	finished := make(chan error, 1)
	go func() {
		defer s.runs.Done()
		res, err := c.cfg.Export.Run(runCtx, opts)
		if withScans && c.cfg.Scans != nil && runCtx.Err() == nil {
			if _, serr := c.cfg.Scans.Run(runCtx, opts.Trigger); serr != nil {
				s.log.Warn("export: scan monitor failed", "connection", name, "err", serr)
			}
		}
		held.release(base)
		c.mu.Lock()
		c.last, c.lastErr = res, err
		c.mu.Unlock()
		release()
		if s.opts.OnExport != nil {
			s.opts.OnExport(res, err)
		}
		if err != nil {
			s.log.Warn("export: run ended with an error", "connection", name, "err", err)
		}
		finished <- err
	}()
	select {
	case id := <-started:
		return id, nil
	case err := <-finished:
		if err == nil {
			err = errors.New("the run ended before it was recorded")
		}
		if base.Err() != nil {
			return "", fmt.Errorf("%w: connection %s: %w", ErrStopping, name, err)
		}
		return "", fmt.Errorf("export: connection %s: %w", name, err)
	case <-ctx.Done():
		return "", ctx.Err()
	}
}

// scanOnly runs the scan monitor between exports, under the lease, and
// then refreshes the WUG states written back into NetBox (syncState).
func (s *Scheduler) scanOnly(ctx context.Context, c *connRunner) {
	name := c.cfg.Export.Connection.Name
	c.mu.Lock()
	if c.running {
		c.mu.Unlock()
		return
	}
	c.running = true
	c.mu.Unlock()
	defer func() {
		c.mu.Lock()
		c.running = false
		c.mu.Unlock()
	}()
	held, err := takeLease(ctx, s.st, name, s.leases(), s.log.With("connection", name))
	if err != nil {
		return
	}
	defer held.release(ctx)
	hctx := held.hold(ctx)
	if c.cfg.Scans != nil {
		if _, err := c.cfg.Scans.Run(hctx, store.TriggerSchedule); err != nil {
			s.log.Warn("export: scan monitor failed", "connection", name, "err", err)
		}
	}
	if c.cfg.Export.syncsState() && hctx.Err() == nil {
		if _, err := c.cfg.Export.syncState(hctx); err != nil {
			s.log.Warn("export: WUG state write-back failed", "connection", name, "err", err)
		}
	}
}
