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

	"github.com/wugsync/wugsync/store"
	"github.com/wugsync/wugsync/wug"
)

// applyConfig is what the executor needs from a connection and a run.
type applyConfig struct {
	batchSize    int
	concurrency  int
	attempts     int
	retryWait    time.Duration
	scanFallback bool
	scanMode     ScanMode
	scanOpts     ScanOptions
	removal      RemovalPolicy
	reasonBulk   bool
	now          func() time.Time
	log          *slog.Logger // the job's, which names the connection
}

// executor applies decisions to WUG and records every item in the store.
// The producer (one goroutine) calls submit and close; batches run on
// concurrency worker goroutines, so at most that many WUG requests are in
// flight at once.
type executor struct {
	cfg    applyConfig
	wug    WUG
	st     store.Store
	res    *collector
	groups groupCache

	ops chan func(context.Context)
	wg  sync.WaitGroup

	adds, updates, removals []Decision
	scans                   map[string][]Decision // by group path
	scanBuffered            int                   // decisions in scans
	records                 []store.Record        // record-only writes
}

func newExecutor(ctx context.Context, cfg applyConfig, w WUG, st store.Store, res *collector) *executor {
	ex := &executor{cfg: cfg, wug: w, st: st, res: res, scans: map[string][]Decision{},
		ops: make(chan func(context.Context), cfg.concurrency)}
	ex.groups.m, ex.groups.retry = map[string]*groupEntry{}, ex.retry
	for range cfg.concurrency {
		ex.wg.Go(func() {
			for op := range ex.ops {
				op(ctx)
			}
		})
	}
	return ex
}

// submit queues one decision; it blocks while the workers are busy, which
// keeps memory flat however large the selection.
func (ex *executor) submit(ctx context.Context, d Decision) {
	switch d.Action {
	case ActionAdd, ActionReAdd:
		ex.adds = append(ex.adds, d)
		if len(ex.adds) >= ex.cfg.batchSize {
			ex.dispatch(ctx, &ex.adds, ex.add)
		}
	case ActionAdopt, ActionUpdate:
		ex.updates = append(ex.updates, d)
		if len(ex.updates) >= ex.cfg.batchSize {
			ex.dispatch(ctx, &ex.updates, ex.update)
		}
	case ActionScan:
		// Scans gather more addresses than one request holds, so range
		// grouping sees neighbours (FormatIPsForScan splits them), but
		// never more than that over all group paths together.
		path := d.Candidate.GroupPath
		ex.scans[path] = append(ex.scans[path], d)
		ex.scanBuffered++
		if len(ex.scans[path]) >= scanGather*ex.cfg.batchSize {
			ex.flushScans(ctx, path)
		} else if ex.scanBuffered >= scanGather*ex.cfg.batchSize {
			ex.flushAllScans(ctx)
		}
	case ActionRemove:
		ex.removals = append(ex.removals, d)
		if len(ex.removals) >= ex.cfg.batchSize {
			ex.dispatch(ctx, &ex.removals, ex.remove)
		}
	case ActionSkip:
		ex.skip(ctx, d)
	}
}

func (ex *executor) enqueue(ctx context.Context, op func(context.Context)) {
	select {
	case ex.ops <- op:
	case <-ctx.Done():
	}
}

// dispatch hands a batch to the workers and empties it.
func (ex *executor) dispatch(ctx context.Context, batch *[]Decision, run func(context.Context, []Decision)) {
	if len(*batch) == 0 {
		return
	}
	b := *batch
	*batch = nil
	ex.enqueue(ctx, func(ctx context.Context) { run(ctx, b) })
}

func (ex *executor) flushScans(ctx context.Context, path string) {
	batch := ex.scans[path]
	delete(ex.scans, path)
	ex.scanBuffered -= len(batch)
	ex.dispatch(ctx, &batch, func(ctx context.Context, b []Decision) { ex.scan(ctx, path, b) })
}

func (ex *executor) flushAllScans(ctx context.Context) {
	for path := range ex.scans {
		ex.flushScans(ctx, path)
	}
}

func (ex *executor) flushRecords(ctx context.Context) {
	if len(ex.records) > 0 {
		recs := ex.records
		ex.records = nil
		ex.enqueue(ctx, func(ctx context.Context) {
			if err := ex.st.UpsertRecords(ctx, recs); err != nil {
				ex.cfg.log.Warn("export: recording skipped addresses failed", "err", err)
			}
		})
	}
}

// close flushes what is left and waits for the workers.
func (ex *executor) close(ctx context.Context) {
	ex.dispatch(ctx, &ex.adds, ex.add)
	ex.dispatch(ctx, &ex.updates, ex.update)
	ex.flushAllScans(ctx)
	ex.dispatch(ctx, &ex.removals, ex.remove)
	ex.flushRecords(ctx)
	close(ex.ops)
	ex.wg.Wait()
}

// skip records an invalid address as an error (once, while its reason
// stays the same) and counts the rest.
func (ex *executor) skip(ctx context.Context, d Decision) {
	ex.res.skip(d)
	if d.Candidate == nil || !d.Key.Address.IsValid() || d.Key.Validate() != nil {
		return
	}
	if blocked, _ := candidateBlocked(d.Candidate); !blocked {
		return
	}
	if d.Record != nil && d.Record.Status == store.StatusError && d.Record.LastError == d.Reason {
		return
	}
	r := ex.base(&d)
	r.Status, r.LastError = store.StatusError, d.Reason
	ex.records = append(ex.records, r)
	if len(ex.records) >= 500 {
		ex.flushRecords(ctx)
	}
}

// base is the record to write for a decision: the recorded state with the
// NetBox object refreshed.
func (ex *executor) base(d *Decision) store.Record {
	var r store.Record
	if d.Record != nil {
		r = *d.Record
	}
	r.Key = d.Key
	if d.Candidate != nil {
		r.ObjectKind, r.ObjectID, r.ObjectName = candidateObject(d.Candidate)
	}
	return r
}

func (ex *executor) reason(a Action) store.Reason {
	if ex.cfg.reasonBulk {
		return store.ReasonBulk
	}
	switch a {
	case ActionAdopt:
		return store.ReasonAdopted
	case ActionUpdate:
		return store.ReasonMetadataUpdate
	case ActionReAdd:
		return store.ReasonReAdd
	}
	return store.ReasonNewDevice
}

// pending records the items as in flight before the request that acts on
// them. If that fails, no request is sent.
func (ex *executor) pending(ctx context.Context, items []Decision) error {
	recs := make([]store.Record, len(items))
	for i := range items {
		r := ex.base(&items[i])
		r.Status = store.StatusPending
		r.Attempts++
		if items[i].Action != ActionRemove {
			r.Reason = ex.reason(items[i].Action)
		}
		if items[i].Action == ActionAdd || items[i].Action == ActionReAdd {
			r.WUGDeviceID = ""
		} else if items[i].DeviceID != "" {
			r.WUGDeviceID = items[i].DeviceID
		}
		recs[i] = r
		// Later writes for the item start from what is now recorded.
		items[i].Record = &recs[i]
	}
	if err := ex.st.UpsertRecords(ctx, recs); err != nil {
		return fmt.Errorf("recording %d items as pending: %w", len(items), err)
	}
	return nil
}

// outcome is the result of one item, recorded after the request.
type outcome struct {
	d        Decision
	deviceID string
	scanID   string
	warnings []string
	err      error
	removed  bool
}

// finish records outcomes in one store write and reports them.
func (ex *executor) finish(ctx context.Context, outs []outcome) {
	if len(outs) == 0 {
		return
	}
	now := ex.cfg.now().UTC()
	recs := make([]store.Record, 0, len(outs))
	for _, o := range outs {
		r := ex.base(&o.d)
		switch {
		case o.err != nil:
			r.Status, r.LastError = store.StatusError, o.err.Error()
		case o.removed:
			r.Status, r.LastError = store.StatusRemoved, ""
		case o.scanID != "":
			r.Status, r.ScanID, r.ScanState, r.ScanDiscovered = store.StatusScanTriggered, o.scanID, "", false
			r.ScanTriggeredAt, r.ScanCompletedAt, r.LastError = now, time.Time{}, ""
			r.WUGDeviceID = ""
			r.Fingerprint = o.d.Candidate.Fingerprint
		default:
			r.Status, r.WUGDeviceID, r.LastError = store.StatusExported, o.deviceID, ""
			r.Fingerprint = o.d.Candidate.Fingerprint
			r.ExportedAt = now
		}
		recs = append(recs, r)
	}
	storeErr := ex.st.UpsertRecords(context.WithoutCancel(ctx), recs)
	if storeErr != nil {
		storeErr = fmt.Errorf("recording the outcome failed (the next run resolves it): %w", storeErr)
		ex.cfg.log.Warn("export: recording outcomes failed", "items", len(recs), "err", storeErr)
	}
	ex.res.record(outs, recs, storeErr)
}

// lookup resolves an item whose request had an unknown outcome by looking
// its address up in WUG.
func (ex *executor) lookup(ctx context.Context, addr netip.Addr) (string, error) {
	found, err := ex.wug.FindByAddress(ctx, addr)
	if err != nil || len(found) == 0 {
		return "", err
	}
	return found[len(found)-1].ID, nil
}

// wait sleeps before another attempt; it reports false when ctx ends.
func (ex *executor) wait(ctx context.Context, attempt int) bool {
	t := time.NewTimer(ex.cfg.retryWait * time.Duration(attempt))
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// retry calls op until it succeeds, ctx ends or the attempts run out,
// waiting longer before each new attempt.
func (ex *executor) retry(ctx context.Context, op func() error) error {
	for attempt := 1; ; attempt++ {
		err := op()
		if err == nil || ctx.Err() != nil || attempt >= ex.cfg.attempts || !ex.wait(ctx, attempt) {
			return err
		}
	}
}

// add creates devices with batched template applies. An answer lost to an
// error is resolved by looking each address up before trying again, so no
// address gets a second device.
func (ex *executor) add(ctx context.Context, items []Decision) {
	items, outs := ex.ensureGroups(ctx, items)
	ex.finish(ctx, outs)
	if len(items) == 0 {
		return
	}
	if err := ex.pending(ctx, items); err != nil {
		ex.finish(ctx, failAll(items, err))
		return
	}
	var failed []outcome
	for attempt := 1; len(items) > 0; attempt++ {
		tmpls := make([]wug.DeviceTemplate, len(items))
		for i := range items {
			tmpls[i] = items[i].Candidate.Template
			tmpls[i].TemplateID = strconv.Itoa(i)
		}
		res, err := ex.wug.BulkAdd(ctx, tmpls)
		if err == nil && len(res) != len(items) {
			err = fmt.Errorf("WUG answered %d outcomes for %d templates", len(res), len(items))
		}
		if err == nil {
			outs := make([]outcome, 0, len(items))
			for i, r := range res {
				o := outcome{d: items[i], deviceID: r.DeviceID, warnings: r.Warnings, err: r.Err}
				if r.DeviceID == "" && r.Err == nil {
					o.err = errors.New("WUG created no device and gave no reason")
				}
				if o.err != nil {
					o.err = fmt.Errorf("add: %w", o.err)
					failed = append(failed, o)
					continue
				}
				outs = append(outs, o)
			}
			ex.finish(ctx, outs)
			break
		}
		if ctx.Err() != nil {
			return // the items stay pending; the next run resolves them
		}
		var retry []Decision
		var outs []outcome
		for _, d := range items {
			var id string
			lerr := ex.retry(ctx, func() (err error) {
				id, err = ex.lookup(ctx, d.Key.Address)
				return err
			})
			switch {
			case lerr != nil:
				outs = append(outs, outcome{d: d, err: fmt.Errorf("add failed (%v) and looking the address up failed: %w", err, lerr)})
			case id != "":
				outs = append(outs, outcome{d: d, deviceID: id})
			default:
				retry = append(retry, d)
			}
		}
		ex.finish(ctx, outs)
		items = retry
		if len(items) == 0 {
			break
		}
		if attempt >= ex.cfg.attempts || !ex.wait(ctx, attempt) {
			failed = append(failed, failAll(items, fmt.Errorf("add: %w", err))...)
			break
		}
	}
	ex.fallback(ctx, failed)
}

// fallback records failed adds, or scans them when the connection says so.
func (ex *executor) fallback(ctx context.Context, failed []outcome) {
	if len(failed) == 0 {
		return
	}
	if !ex.cfg.scanFallback || ctx.Err() != nil {
		ex.finish(ctx, failed)
		return
	}
	byPath := map[string][]Decision{}
	var order []string
	for _, o := range failed {
		d := o.d
		d.Action, d.Reason = ActionScan, fmt.Sprintf("falling back to a scan: %v", o.err)
		p := d.Candidate.GroupPath
		if _, ok := byPath[p]; !ok {
			order = append(order, p)
		}
		byPath[p] = append(byPath[p], d)
	}
	for _, p := range order {
		ex.scan(ctx, p, byPath[p])
	}
}

func failAll(items []Decision, err error) []outcome {
	outs := make([]outcome, len(items))
	for i, d := range items {
		outs[i] = outcome{d: d, err: err}
	}
	return outs
}

// update links adopted devices and brings metadata up to date: one read
// and at most one write per device.
func (ex *executor) update(ctx context.Context, items []Decision) {
	if err := ex.pending(ctx, items); err != nil {
		ex.finish(ctx, failAll(items, err))
		return
	}
	outs := make([]outcome, 0, len(items))
	for _, d := range items {
		cur := d.device
		if cur.ID != d.DeviceID {
			cur = WUGDevice{ID: d.DeviceID, Address: d.Key.Address}
		}
		err := ex.retry(ctx, func() error {
			_, err := ex.wug.UpdateMetadata(ctx, cur, d.Candidate.Template)
			return err
		})
		if ctx.Err() != nil {
			break
		}
		o := outcome{d: d, deviceID: d.DeviceID}
		if err != nil {
			o.err = fmt.Errorf("metadata update of WUG device %s: %w", d.DeviceID, err)
		}
		outs = append(outs, o)
	}
	ex.finish(ctx, outs)
}

// scanGather is how many batches of scan addresses are grouped at once.
const scanGather = 10

// scan starts discovery scans for the items of a group path: their
// addresses grouped by FormatIPsForScan, one newDevice request per target.
func (ex *executor) scan(ctx context.Context, path string, items []Decision) {
	gid := "0"
	if path != "" {
		id, err := ex.groups.ensure(ctx, ex.wug, path)
		if err != nil {
			ex.finish(ctx, failAll(items, err))
			return
		}
		gid = id
	}
	if err := ex.pending(ctx, items); err != nil {
		ex.finish(ctx, failAll(items, err))
		return
	}
	addrs := make([]netip.Addr, len(items))
	for i, d := range items {
		addrs[i] = d.Key.Address
	}
	targets, err := FormatIPsForScan(addrs, ex.cfg.scanMode, ex.cfg.scanOpts)
	if err != nil {
		ex.finish(ctx, failAll(items, fmt.Errorf("scan: %w", err)))
		return
	}
	for _, tgt := range targets {
		var covered []Decision
		for _, d := range items {
			for _, r := range tgt.Ranges {
				if r.Contains(d.Key.Address) {
					covered = append(covered, d)
					break
				}
			}
		}
		// A repeated newDevice scan finds the same devices; it never
		// creates a second one for an address.
		var scanID string
		err = ex.retry(ctx, func() (err error) {
			scanID, err = ex.wug.ScanIPs(ctx, gid, tgt.AddrStrings())
			return err
		})
		if ctx.Err() != nil {
			return
		}
		outs := make([]outcome, len(covered))
		for i, d := range covered {
			outs[i] = outcome{d: d, scanID: scanID}
			if err != nil {
				outs[i] = outcome{d: d, err: fmt.Errorf("scan: %w", err)}
			}
		}
		ex.finish(ctx, outs)
	}
}

// remove applies the removal policy to devices no longer selected.
func (ex *executor) remove(ctx context.Context, items []Decision) {
	var ids []string
	var withDevice []Decision
	outs := make([]outcome, 0, len(items))
	for _, d := range items {
		if d.DeviceID == "" {
			outs = append(outs, outcome{d: d, removed: true})
			continue
		}
		ids = append(ids, d.DeviceID)
		withDevice = append(withDevice, d)
	}
	ex.finish(ctx, outs)
	if len(ids) == 0 {
		return
	}
	if err := ex.pending(ctx, withDevice); err != nil {
		ex.finish(ctx, failAll(withDevice, err))
		return
	}
	err := ex.retry(ctx, func() error {
		if ex.cfg.removal == RemoveDelete {
			return ex.wug.DeleteDevices(ctx, ids)
		}
		return ex.wug.SetMaintenance(ctx, ids, true, "no longer selected in NetBox (wugsync)", time.Time{})
	})
	if ctx.Err() != nil {
		return
	}
	outs = outs[:0]
	for _, d := range withDevice {
		o := outcome{d: d, removed: err == nil}
		if err != nil {
			o.err = fmt.Errorf("removal (%s): %w", ex.cfg.removal, err)
		}
		outs = append(outs, o)
	}
	ex.finish(ctx, outs)
}

// ensureGroups makes sure the group paths of a batch exist, once per run
// per path; items whose path cannot be made fail.
func (ex *executor) ensureGroups(ctx context.Context, items []Decision) (ok []Decision, failed []outcome) {
	for _, d := range items {
		if p := d.Candidate.GroupPath; p != "" {
			if _, err := ex.groups.ensure(ctx, ex.wug, p); err != nil {
				failed = append(failed, outcome{d: d, err: err})
				continue
			}
		}
		ok = append(ok, d)
	}
	return ok, failed
}

// groupCache remembers the groups ensured in this run; a failure is not
// remembered, so a later batch tries again.
type groupCache struct {
	mu    sync.Mutex
	m     map[string]*groupEntry
	retry func(ctx context.Context, op func() error) error
}
type groupEntry struct {
	mu sync.Mutex
	id string
}

func (g *groupCache) ensure(ctx context.Context, w WUG, path string) (string, error) {
	g.mu.Lock()
	e := g.m[path]
	if e == nil {
		e = &groupEntry{}
		g.m[path] = e
	}
	g.mu.Unlock()
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.id != "" {
		return e.id, nil
	}
	var id string
	err := g.retry(ctx, func() (err error) {
		id, err = w.EnsurePath(ctx, path)
		return err
	})
	if err != nil {
		return "", fmt.Errorf("group path %q: %w", path, err)
	}
	e.id = id
	return id, nil
}
