package export

import (
	"context"
	crand "crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"slices"
	"sync"
	"time"

	"github.com/wugsync/wugsync/store"
)

// ErrRunInProgress is returned (wrapped in a *RunInProgressError) when a
// run is asked for while the connection already has one.
var ErrRunInProgress = errors.New("export: a run is already in progress for this connection")

// ErrUnknownConnection is returned for a connection the scheduler does not
// run.
var ErrUnknownConnection = errors.New("export: unknown connection")

// RunInProgressError names the run that is in progress.
type RunInProgressError struct {
	Connection string
	RunID      string // empty when another process holds the lease and its run is not recorded yet
}

// Error names the connection and the run.
func (e *RunInProgressError) Error() string {
	if e.RunID == "" {
		return fmt.Sprintf("export: connection %s: a run is already in progress", e.Connection)
	}
	return fmt.Sprintf("export: connection %s: run %s is already in progress", e.Connection, e.RunID)
}

// Is makes errors.Is(err, ErrRunInProgress) true.
func (e *RunInProgressError) Is(target error) bool { return target == ErrRunInProgress }

// ScheduledConnection is one connection the Scheduler runs.
type ScheduledConnection struct {
	Export *ExportJob     // required; its Connection.Name names the connection
	Scans  *ScanStatusJob // optional: follows scans after each export and every ScanInterval

	Interval     time.Duration // between exports; default 180 minutes
	Jitter       time.Duration // random delay added to each export; default Interval/10
	ScanInterval time.Duration // between scan-monitor runs; default 5 minutes
	// Webhooks lets NetBox webhook events trigger targeted exports.
	Webhooks bool
}

// SchedulerOptions tune a Scheduler.
type SchedulerOptions struct {
	// Holder names this process in leases; default host name, process id
	// and a random suffix.
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
// (a lease per connection). Webhook events are coalesced into targeted
// exports. Cancelling Run's context stops it cleanly: a run in progress is
// recorded as interrupted.
type Scheduler struct {
	st    store.Store
	opts  SchedulerOptions
	log   *slog.Logger
	conns map[string]*connRunner
	order []string

	mu     sync.Mutex
	ctx    context.Context // Run's context, nil before Run
	runs   sync.WaitGroup
	events map[ObjectRef]bool
	timer  *time.Timer
}

type connRunner struct {
	cfg ScheduledConnection
	// wake carries webhook events from the coalescing timer.
	wake chan struct{}

	mu      sync.Mutex
	running bool
	runID   string
	next    time.Time
	last    *Result
	lastErr error
	objects map[ObjectRef]bool // webhook objects waiting for an export
}

// NewScheduler returns a scheduler for the connections; call Run to start
// it.
func NewScheduler(st store.Store, conns []ScheduledConnection, opts SchedulerOptions) (*Scheduler, error) {
	if st == nil {
		return nil, errors.New("export: scheduler: no store")
	}
	if opts.Holder == "" {
		host, _ := os.Hostname()
		var b [4]byte
		_, _ = crand.Read(b[:])
		opts.Holder = fmt.Sprintf("%s/%d/%s", host, os.Getpid(), hex.EncodeToString(b[:]))
	}
	if opts.LeaseTTL <= 0 {
		opts.LeaseTTL = 2 * time.Minute
	}
	if opts.WebhookWindow <= 0 {
		opts.WebhookWindow = 5 * time.Second
	}
	s := &Scheduler{st: st, opts: opts, log: opts.Logger, conns: map[string]*connRunner{}, events: map[ObjectRef]bool{}}
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
		s.conns[name] = &connRunner{cfg: c, wake: make(chan struct{}, 1), objects: map[ObjectRef]bool{}}
		s.order = append(s.order, name)
	}
	return s, nil
}

func leaseName(conn string) string { return "wugsync/export/" + conn }

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
	loops.Wait()
	s.mu.Lock()
	if s.timer != nil {
		s.timer.Stop()
	}
	s.mu.Unlock()
	s.runs.Wait()
	return nil
}

func (s *Scheduler) loop(ctx context.Context, c *connRunner) {
	name := c.cfg.Export.Connection.Name
	next := time.Now().Add(jitter(c.cfg.Jitter))
	// Pick up the schedule where the last export left it.
	if runs, err := s.st.Runs(ctx, store.RunQuery{Connection: name, Kind: store.RunExport, Limit: 1}); err == nil && len(runs) > 0 {
		if t := runs[0].StartedAt.Add(c.cfg.Interval); t.After(next) {
			next = t
		}
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
			next = time.Now().Add(c.cfg.Interval + jitter(c.cfg.Jitter))
			if _, err := s.start(ctx, c, ExportOptions{Trigger: store.TriggerSchedule}, true); err != nil && !errors.Is(err, ErrRunInProgress) {
				s.log.Warn("export: scheduled export did not start", "connection", name, "err", err)
			}
		case <-scan.C:
			if c.cfg.Scans != nil {
				s.scanOnly(ctx, c)
			}
		case <-c.wake:
			c.mu.Lock()
			objs := make([]ObjectRef, 0, len(c.objects))
			for o := range c.objects {
				objs = append(objs, o)
			}
			c.objects = map[ObjectRef]bool{}
			c.mu.Unlock()
			slices.SortFunc(objs, func(a, b ObjectRef) int {
				if a.Kind != b.Kind {
					return compareStrings(string(a.Kind), string(b.Kind))
				}
				return int(a.ID - b.ID)
			})
			if len(objs) == 0 {
				break
			}
			if _, err := s.start(ctx, c, ExportOptions{Trigger: store.TriggerWebhook, Objects: objs}, false); err != nil {
				// Keep the events for the next window.
				c.mu.Lock()
				for _, o := range objs {
					c.objects[o] = true
				}
				c.mu.Unlock()
				s.arm()
				if !errors.Is(err, ErrRunInProgress) {
					s.log.Warn("export: webhook export did not start", "connection", name, "err", err)
				}
			}
		}
		timer.Stop()
	}
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
// the run is recorded; the export goes on in the background. It returns a
// *RunInProgressError (errors.Is ErrRunInProgress) when the connection
// already has a run, here or in another process sharing the store.
func (s *Scheduler) Trigger(ctx context.Context, connection string, opts ExportOptions) (runID string, err error) {
	c, ok := s.conns[connection]
	if !ok {
		return "", fmt.Errorf("%w %q", ErrUnknownConnection, connection)
	}
	s.mu.Lock()
	base := s.ctx
	s.mu.Unlock()
	if base == nil || base.Err() != nil {
		return "", errors.New("export: the scheduler is not running")
	}
	if opts.Trigger == "" {
		opts.Trigger = store.TriggerManual
	}
	if opts.DryRun {
		return "", errors.New("export: a triggered run cannot be a dry run; call ExportJob.Run")
	}
	// The run belongs to the scheduler, not to the caller's request.
	return s.startWith(ctx, base, c, opts, false)
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
func (s *Scheduler) Notify(obj ObjectRef) {
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

func (s *Scheduler) start(ctx context.Context, c *connRunner, opts ExportOptions, withScans bool) (string, error) {
	return s.startWith(ctx, ctx, c, opts, withScans)
}

// startWith takes the connection's run flag and lease, starts the export
// under base and waits (bounded by ctx) until it is recorded.
func (s *Scheduler) startWith(ctx, base context.Context, c *connRunner, opts ExportOptions, withScans bool) (string, error) {
	name := c.cfg.Export.Connection.Name
	c.mu.Lock()
	if c.running {
		id := c.runID
		c.mu.Unlock()
		return "", &RunInProgressError{Connection: name, RunID: id}
	}
	c.running, c.runID = true, ""
	c.mu.Unlock()
	release := func() {
		c.mu.Lock()
		c.running, c.runID = false, ""
		c.mu.Unlock()
	}
	lease, err := s.st.AcquireLease(ctx, leaseName(name), s.opts.Holder, s.opts.LeaseTTL)
	if err != nil {
		release()
		if errors.Is(err, store.ErrLeaseHeld) {
			return "", &RunInProgressError{Connection: name, RunID: s.runningElsewhere(ctx, name)}
		}
		return "", fmt.Errorf("export: connection %s: taking the lease: %w", name, err)
	}
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
	runCtx, cancel := context.WithCancel(base)
	finished := make(chan error, 1)
	s.runs.Add(1)
	go func() {
		defer s.runs.Done()
		defer cancel()
		stopRenew := s.renew(runCtx, cancel, lease, name)
		res, err := c.cfg.Export.Run(runCtx, opts)
		if withScans && c.cfg.Scans != nil && runCtx.Err() == nil {
			if _, serr := c.cfg.Scans.Run(runCtx, opts.Trigger); serr != nil {
				s.log.Warn("export: scan monitor failed", "connection", name, "err", serr)
			}
		}
		stopRenew()
		rctx, rcancel := context.WithTimeout(context.WithoutCancel(base), 5*time.Second)
		if rerr := s.st.ReleaseLease(rctx, lease); rerr != nil {
			s.log.Warn("export: releasing the lease failed", "connection", name, "err", rerr)
		}
		rcancel()
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
		return "", fmt.Errorf("export: connection %s: %w", name, err)
	case <-ctx.Done():
		return "", ctx.Err()
	}
}

// renew keeps the lease while a run goes on; losing it cancels the run.
func (s *Scheduler) renew(ctx context.Context, cancel context.CancelFunc, l store.Lease, name string) (stop func()) {
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		t := time.NewTicker(s.opts.LeaseTTL / 3)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-ctx.Done():
				return
			case <-t.C:
				nl, err := s.st.RenewLease(ctx, l, s.opts.LeaseTTL)
				if errors.Is(err, store.ErrLeaseLost) {
					s.log.Warn("export: lease lost; stopping the run", "connection", name)
					cancel()
					return
				}
				if err == nil {
					l = nl
				}
			}
		}
	})
	return func() { close(done); wg.Wait() }
}

// runningElsewhere finds the id of a connection's running export.
func (s *Scheduler) runningElsewhere(ctx context.Context, name string) string {
	runs, err := s.st.Runs(ctx, store.RunQuery{Connection: name, Kind: store.RunExport, Status: store.RunRunning, Limit: 1})
	if err != nil || len(runs) == 0 {
		return ""
	}
	return runs[0].ID
}

// scanOnly runs the scan monitor between exports, under the lease.
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
	lease, err := s.st.AcquireLease(ctx, leaseName(name), s.opts.Holder, s.opts.LeaseTTL)
	if err != nil {
		return
	}
	defer func() {
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		_ = s.st.ReleaseLease(rctx, lease)
	}()
	if _, err := c.cfg.Scans.Run(ctx, store.TriggerSchedule); err != nil {
		s.log.Warn("export: scan monitor failed", "connection", name, "err", err)
	}
}
