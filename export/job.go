package export

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"strconv"
	"sync"
	"time"

	"github.com/wugsync/wugsync/netbox"
	"github.com/wugsync/wugsync/store"
	"github.com/wugsync/wugsync/wug"
)

// connSettings is one WUG server NetBox is exported to, and how.
type connSettings struct {
	Name     string          // the store's connection name; required
	Selector netbox.Selector // what the connection exports
	Settings
}

func (c connSettings) withDefaults() connSettings {
	if c.BatchSize <= 0 {
		c.BatchSize = wug.DefaultBatchSize
	}
	if c.Concurrency <= 0 {
		c.Concurrency = 2
	}
	if c.Removal == "" {
		c.Removal = RemoveKeep
	}
	if c.ScanOptions == (ScanOptions{}) {
		c.ScanOptions = defaultScanOptions()
	}
	return c
}

// RunOptions shape one export run.
type RunOptions struct {
	Trigger store.Trigger // default TriggerManual
	// Sites and Roles narrow the connection's selection for this run to
	// any of the sites (roles) they name, by NetBox id, slug or a mix,
	// intersected with its own; Tags (ids or slugs) are all required on
	// top of its own. A run narrowed so removes nothing.
	Sites, Roles, Tags netbox.Refs
	// ExcludeRecent skips addresses exported in the last 24 hours.
	ExcludeRecent bool
	// Objects limits the run to these NetBox objects (a webhook's targeted
	// export); addresses recorded for them and no longer selected are
	// treated as removed.
	Objects []netbox.ObjectRef
	// IPs limits the run to these addresses (a bulk export); an address
	// the selection does not hold is reported as failed.
	IPs []netip.Addr
	// Wait makes the run wait for the connection's store lease (until
	// ctx ends) instead of failing with a *RunInProgressError.
	Wait bool
	// dryRun plans and touches nothing: no WUG write, no store write
	// (Connection.Plan sets it).
	dryRun bool
	// selectsNothing: the filters and the connection's selector have no
	// site or role in common, so NetBox is not asked (Run sets it).
	selectsNothing bool
	// ForceRemove lifts the cap on removals.
	ForceRemove bool
	// AcceptMissingDevices lifts the add guard (Settings.MaxMissingShare)
	// for this run: the devices WUG's listing lacks are added again.
	AcceptMissingDevices bool
	// Progress, when set, is called after each batch with the number of
	// addresses that have an outcome and the counts so far (from worker
	// goroutines, one call at a time).
	Progress func(done int, counts Counts)
	// OnStart, when set, is called once the run is recorded.
	OnStart func(store.Run)
}

// partial reports whether the run sees only part of the connection's
// selection, in which case unseen records are not removed.
func (o *RunOptions) partial() bool {
	return !o.filters().empty() || len(o.Objects) > 0 || len(o.IPs) > 0
}

// removalScope says which unseen records the run may remove: all of them
// for a run over the connection's whole selection, those of the targeted
// objects for a targeted run, none for a filtered or bulk run.
func (o *RunOptions) removalScope() func(store.Record) bool {
	switch {
	case len(o.Objects) > 0:
		targeted := map[netbox.ObjectRef]bool{}
		for _, obj := range o.Objects {
			targeted[obj] = true
		}
		return func(r store.Record) bool {
			kind := netbox.KindDevice
			if r.ObjectKind == store.ObjectVirtualMachine {
				kind = netbox.KindVirtualMachine
			}
			return targeted[netbox.ObjectRef{Kind: kind, ID: r.ObjectID}]
		}
	case !o.partial():
		return func(store.Record) bool { return true }
	}
	return nil
}

// collector gathers outcomes from the workers.
type collector struct {
	mu       sync.Mutex
	counts   Counts
	done     int
	outcomes []Outcome
	warnings []string
	progress func(done int, counts Counts)
}

func (c *collector) report() {
	if c.progress != nil {
		c.progress(c.done, c.counts)
	}
}

func (c *collector) selected() {
	c.mu.Lock()
	c.counts.Selected++
	c.mu.Unlock()
}

func (c *collector) warn(format string, args ...any) {
	c.mu.Lock()
	c.warnings = append(c.warnings, fmt.Sprintf(format, args...))
	c.mu.Unlock()
}

func decisionOutcome(d *Decision) Outcome {
	kind, id, name := d.object()
	return Outcome{Kind: OutcomeApplied, Key: d.Key, ObjectKind: kind, ObjectID: id, ObjectName: name, Action: d.Action,
		DeviceID: d.DeviceID, Reason: d.Reason, Findings: d.Findings}
}

func (c *collector) skip(d Decision) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.done++
	if d.Reason == skipUnchanged {
		c.counts.Unchanged++
		return
	}
	o := decisionOutcome(&d)
	o.Kind = OutcomeSkipped
	if blocked, _ := candidateBlocked(d.candidate); d.candidate != nil && blocked {
		c.counts.Invalid++
		o.Kind, o.Error = OutcomeInvalid, d.Reason
		if d.Key.Validate() == nil {
			o.Status = store.StatusError
		}
	} else {
		c.counts.Skipped++
	}
	c.outcomes = append(c.outcomes, o)
}

// failObject reports a NetBox object that could not be read.
func (c *collector) failObject(kind store.ObjectKind, id int64, name string, err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.counts.Failed++
	c.outcomes = append(c.outcomes, Outcome{Kind: OutcomeFailed, ObjectKind: kind, ObjectID: id, ObjectName: name, Action: ActionSkip, Error: err.Error()})
}

// noAddress reports a NetBox object that has no address to export.
func (c *collector) noAddress(d *netbox.Device, f Finding) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.counts.Invalid++
	kind := store.ObjectDevice
	if d.Kind == netbox.KindVirtualMachine {
		kind = store.ObjectVirtualMachine
	}
	f.Error = true
	c.outcomes = append(c.outcomes, Outcome{Kind: OutcomeInvalid, ObjectKind: kind, ObjectID: d.ID, ObjectName: d.Name,
		Action: ActionSkip, Reason: f.Message, Findings: []Finding{f}})
}

// failKey reports an address that failed before it reached the planner.
func (c *collector) failKey(k store.Key, action Action, err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.counts.Failed++
	c.outcomes = append(c.outcomes, Outcome{Kind: OutcomeFailed, Key: k, Action: action, Error: err.Error()})
}

func (c *collector) record(outs []outcome, recs []store.Record, storeErr error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for i, o := range outs {
		out := decisionOutcome(&o.d)
		out.Status, out.DeviceID, out.ScanID = recs[i].Status, recs[i].WUGDeviceID, recs[i].ScanID
		for _, w := range o.warnings {
			out.Findings = append(out.Findings, Finding{Code: codeWUGWarning, Message: w})
		}
		c.done++
		switch {
		case o.err != nil || storeErr != nil:
			c.counts.Failed++
			out.Kind, out.Error = OutcomeFailed, errors.Join(o.err, storeErr).Error()
		case o.removed:
			c.counts.Removed++
		case o.scanID != "" || o.scanFound:
			c.counts.Scanned++
			out.Action = ActionScan
		case o.d.Action == ActionAdopt:
			c.counts.Adopted++
		case o.d.Action == ActionUpdate || o.d.Action == ActionReaddress:
			c.counts.Updated++
		default:
			c.counts.Added++
		}
		c.outcomes = append(c.outcomes, out)
	}
	c.report()
}

// exportJob exports a connection's NetBox selection to WUG: it reads the
// WUG inventory once, streams NetBox objects through the planner chunk by
// chunk, applies the decisions in batches and records every item.
type exportJob struct {
	Connection connSettings
	Source     netBoxSource // NetBox
	WUG        wugAPI       // the connection's WUG server
	Store      store.Store  // export records and runs
	// Transformer validates and transforms NetBox objects (the
	// connection's compiled Mapping).
	Transformer *transformer
	// Logger receives the run's warnings, which do not repeat the
	// connection's name: give it one that carries it
	// (Logger.With("connection", name)) when connections share a handler.
	Logger *slog.Logger
	Now    func() time.Time // default time.Now
	// Lease says how a run takes the connection's store lease: every run
	// but a dry run holds it, so runs of one connection from any process
	// sharing the store never overlap.
	Lease leaseOptions
	// WriteBack, when set, writes each run's outcome back into NetBox
	// (Source must be a netBoxWriter).
	WriteBack *WriteBack
}

func (j *exportJob) check() error {
	switch {
	case j.Connection.Name == "":
		return errors.New("export: connection name is empty")
	case j.Source == nil:
		return errors.New("export: no NetBox source")
	case j.WUG == nil:
		return errors.New("export: no WUG API")
	case j.Store == nil:
		return errors.New("export: no store")
	case j.Transformer == nil:
		return errors.New("export: no Transformer (mapping)")
	}
	return nil
}

func (j *exportJob) now() time.Time {
	if j.Now != nil {
		return j.Now()
	}
	return time.Now()
}

func (j *exportJob) logger() *slog.Logger {
	if j.Logger != nil {
		return j.Logger
	}
	return slog.New(slog.DiscardHandler)
}

// selection returns the selector for a run and its filters as recorded;
// it sets o.selectsNothing when the filters leave nothing to select.
func (j *exportJob) selection(ctx context.Context, o *RunOptions) (netbox.Selector, map[string][]string, error) {
	f := o.filters()
	filters := f.asMap()
	if err := f.resolve(ctx, j.Source); err != nil {
		return netbox.Selector{}, nil, err
	}
	sel, any := f.narrow(j.Connection.Selector)
	o.selectsNothing = !any
	if len(o.Objects) > 0 {
		sel.IDs, sel.VMIDs = nil, nil
		for _, obj := range o.Objects {
			if obj.Kind == netbox.KindVirtualMachine {
				sel.VMIDs = append(sel.VMIDs, obj.ID)
			} else {
				sel.IDs = append(sel.IDs, obj.ID)
			}
			filters["objects"] = append(filters["objects"], fmt.Sprintf("%s:%d", obj.Kind, obj.ID))
		}
	}
	for _, ip := range o.IPs {
		filters["ips"] = append(filters["ips"], ip.String())
	}
	for name, vals := range filters {
		if len(vals) > maxRecordedFilterValues {
			filters[name] = vals[:maxRecordedFilterValues]
			filters[name+"_total"] = []string{strconv.Itoa(len(vals))}
		}
	}
	return sel, filters, nil
}

// maxRecordedFilterValues bounds the values a run records per filter (a
// bulk export's addresses, a targeted export's objects): the first ones are
// kept as a sample and "<filter>_total" gives the count, so a run's record
// stays small however many addresses it was given.
const maxRecordedFilterValues = 20

// Run runs one export. Every run but a dry run holds the connection's
// store lease (see leaseOptions) from before it is recorded until it ends;
// while another holder has it, Run fails with a *RunInProgressError naming
// that holder, or waits with Lease.Wait. The run is recorded with
// BeginRun and FinishRun (not for a dry run); a cancelled context, or a
// lost lease, ends it as interrupted, with every item either recorded or
// left pending for the next run to resolve. The error is non-nil only when
// the run itself failed; item failures are in the result.
func (j *exportJob) Run(ctx context.Context, opts RunOptions) (*Result, error) {
	if err := j.check(); err != nil {
		return nil, err
	}
	if opts.Trigger == "" {
		opts.Trigger = store.TriggerManual
	}
	sel, filters, err := j.selection(ctx, &opts)
	if err != nil {
		return nil, fmt.Errorf("export %s: %w", j.Connection.Name, err)
	}
	if err := sel.Validate(); err != nil {
		return nil, fmt.Errorf("export %s: %w", j.Connection.Name, err)
	}
	var run store.Run
	if !opts.dryRun {
		lo := j.Lease
		lo.Wait = lo.Wait || opts.Wait
		runCtx, lease, done, err := enterLease(ctx, j.Store, j.Connection.Name, lo, j.logger())
		if err != nil {
			return nil, leaseError("export "+j.Connection.Name, err)
		}
		defer done()
		ctx = runCtx
		run.Lease = lease
	}
	res := &Result{Connection: j.Connection.Name, DryRun: opts.dryRun, StartedAt: j.now().UTC()}
	if !opts.dryRun {
		var err error
		run, err = j.Store.BeginRun(ctx, store.Run{Connection: j.Connection.Name, Kind: store.RunExport,
			Trigger: opts.Trigger, Filters: filters, Status: store.RunRunning, Lease: run.Lease})
		if err != nil {
			return nil, fmt.Errorf("export %s: recording the run: %w", j.Connection.Name, err)
		}
		res.RunID = run.ID
		if opts.OnStart != nil {
			opts.OnStart(run)
		}
	}
	col := &collector{progress: opts.Progress}
	err = j.run(ctx, &opts, sel, col, res)

	res.Counts, res.Outcomes, res.Warnings = col.counts, col.outcomes, col.warnings
	res.FinishedAt = j.now().UTC()
	res.Status = runStatus(ctx, err, res.Counts.Failed)
	if !opts.dryRun {
		run.Status, run.Counts, run.FinishedAt = res.Status, res.Counts.RunCounts(), res.FinishedAt
		err = finishRun(ctx, j.Store, run, err)
	}
	if err != nil {
		return res, fmt.Errorf("export %s: %w", j.Connection.Name, err)
	}
	return res, nil
}

// runStatus says how a run ended: interrupted when its context ended,
// failed on err, partial when items failed.
func runStatus(ctx context.Context, err error, failed int) store.RunStatus {
	switch {
	case err != nil && ctx.Err() != nil:
		return store.RunInterrupted
	case err != nil:
		return store.RunFailed
	case failed > 0:
		return store.RunPartial
	}
	return store.RunSucceeded
}

// finishRun records the end of run, whose status and counts the caller
// set, with err's text (naming a lost lease as the cause), and returns err
// joined with a failure to record it. It records even when ctx has ended.
func finishRun(ctx context.Context, st store.Store, run store.Run, err error) error {
	if err != nil {
		if cause := context.Cause(ctx); errors.Is(cause, ErrLeaseLost) && !errors.Is(err, ErrLeaseLost) {
			err = fmt.Errorf("%w: %w", err, cause)
		}
		run.Error = err.Error()
	}
	fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if ferr := st.FinishRun(fctx, run); ferr != nil {
		err = errors.Join(err, fmt.Errorf("recording the end of run %s: %w", run.ID, ferr))
	}
	return err
}

func (j *exportJob) run(ctx context.Context, opts *RunOptions, sel netbox.Selector, col *collector, res *Result) error {
	conn := j.Connection.withDefaults()
	recs, err := loadRecords(ctx, j.Store, conn.Name)
	if err != nil {
		return err
	}
	var wb *writeBack
	if !opts.dryRun {
		nbw, _ := j.Source.(netBoxWriter)
		wb = newWriteBack(j.WriteBack, nbw)
	}
	inv, err := loadInventory(ctx, j.WUG, wb.stateMap())
	if err != nil {
		return err
	}
	if err := checkMissing(conn.Name, recs, inv, conn.MaxMissingShare); err != nil && !opts.AcceptMissingDevices {
		if !opts.dryRun {
			return err
		}
		col.warn("%v", err)
	}
	planner := newPlanner(planOptions{Scan: conn.Scan, ExcludeRecent: opts.ExcludeRecent, Now: j.now(),
		Removal: conn.Removal, MaxRemoveShare: conn.MaxRemoveShare, ForceRemove: opts.ForceRemove,
		RemovalScope: opts.removalScope()}, inv, recs)

	var plan *Plan
	var ex *executor
	if opts.dryRun {
		plan = &Plan{Connection: conn.Name}
		res.Plan = plan
	} else {
		ex = newExecutor(ctx, applyConfig{batchSize: conn.BatchSize, concurrency: conn.Concurrency,
			scanFallback: conn.ScanFallback, removal: conn.Removal,
			scanRanges: conn.ScanRanges, scanOpts: conn.ScanOptions, owned: j.Transformer.prefix,
			adoptedProps: j.Transformer.m.WriteAdoptedProperties, emptyGroups: j.Transformer.m.RemoveEmptyGroups, states: &j.Transformer.states,
			reasonBulk: opts.Trigger == store.TriggerBulk, now: j.now, log: j.logger()},
			j.WUG, j.Store, col)
	}
	decide := func(d Decision) {
		if plan != nil {
			plan.Decisions = append(plan.Decisions, d)
			return
		}
		ex.submit(ctx, d)
	}

	wantIPs := map[netip.Addr]bool{}
	for _, ip := range opts.IPs {
		wantIPs[ip.Unmap()] = false
	}
	incomplete := false
	dups := newDuplicateIndex()
	streamErr := func() error {
		if opts.selectsNothing {
			return nil
		}
		for dev, err := range j.Source.Devices(ctx, sel) {
			if err != nil {
				var de *netbox.DeviceError
				if !errors.As(err, &de) {
					return fromNetBox(fmt.Errorf("reading NetBox: %w", err))
				}
				incomplete = true
				kind := store.ObjectDevice
				if de.Kind == netbox.KindVirtualMachine {
					kind = store.ObjectVirtualMachine
				}
				col.failObject(kind, de.ID, de.Name, err)
				continue
			}
			cands := j.Transformer.Prepare(&dev, sel.IPPolicy, conn.Name)
			if wb != nil {
				wb.observe(&dev, cands, sel.IPPolicy)
			}
			planner.Object(cands)
			if len(cands) == 0 && len(wantIPs) == 0 {
				col.noAddress(&dev, noAddress(&dev, sel.IPPolicy))
			}
			for i := range cands {
				c := &cands[i]
				if len(wantIPs) > 0 {
					if _, ok := wantIPs[c.Key.Address]; !ok {
						continue
					}
					wantIPs[c.Key.Address] = true
				}
				dups.ObserveCandidate(c)
				col.selected()
				decide(planner.Decide(c))
			}
			if ctx.Err() != nil {
				return ctx.Err()
			}
		}
		return nil
	}()
	if streamErr == nil {
		removals, warn := planner.Removals()
		if incomplete && len(removals) > 0 {
			col.warn("some NetBox objects could not be read; removals are skipped in this run")
		} else {
			for _, d := range removals {
				decide(d)
			}
			if warn != "" {
				col.warn("%s", warn)
			}
		}
		for _, ip := range opts.IPs {
			if !wantIPs[ip.Unmap()] {
				col.failKey(store.Key{Connection: conn.Name, Address: ip}, ActionSkip,
					fmt.Errorf("address %s is not an exportable address of any object in the NetBox selection", ip))
			}
		}
	}
	if ex != nil {
		ex.close(ctx)
	}
	if wb != nil && streamErr == nil && ctx.Err() == nil {
		r, err := wb.finish(ctx, j.Store, conn.Name, netbox.FormatDateTime(j.now()), col.outcomes)
		res.WriteBack = r
		if err != nil {
			col.warn("%v", err)
		}
	}
	if plan != nil {
		plan.Warnings = col.warnings
		for _, d := range plan.Decisions {
			col.plan(d)
		}
	}
	if streamErr != nil {
		return streamErr
	}
	return ctx.Err()
}

// plan counts a dry run's decision as if it had been applied.
func (c *collector) plan(d Decision) {
	switch d.Action {
	case ActionSkip:
		c.skip(d)
		return
	case ActionAdd, ActionReAdd:
		c.counts.Added++
	case ActionAdopt:
		c.counts.Adopted++
	case ActionUpdate, ActionReaddress:
		c.counts.Updated++
	case ActionScan:
		c.counts.Scanned++
	case ActionRemove:
		c.counts.Removed++
	}
	c.done++
	c.outcomes = append(c.outcomes, decisionOutcome(&d))
}

// loadRecords reads a connection's records.
func loadRecords(ctx context.Context, st store.Store, conn string) (*recordSet, error) {
	counts, err := st.CountByStatus(ctx, conn)
	if err != nil {
		return nil, fmt.Errorf("counting export records: %w", err)
	}
	total := 0
	for _, n := range counts {
		total += n
	}
	recs := newRecordSet(total)
	for r, err := range st.Records(ctx, store.Query{Connection: conn, PageSize: 2000}) {
		if err != nil {
			return nil, fmt.Errorf("reading export records: %w", err)
		}
		recs.Add(r)
	}
	return recs, nil
}

// loadInventory reads every WUG device in one paged listing; when states
// is not nil it also keeps each device's state there, by id.
func loadInventory(ctx context.Context, w wugAPI, states map[string]string) (*inventory, error) {
	inv := newInventory(nil)
	for d, err := range w.Devices(ctx) {
		if err != nil {
			return nil, fromWUG(fmt.Errorf("listing WUG devices: %w", err))
		}
		inv.Add(d)
		if states != nil {
			states[d.ID] = d.State
		}
	}
	return inv, nil
}
