package export

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/wugsync/wugsync/store"
	"github.com/wugsync/wugsync/wug"
)

// applyConfig is what the executor needs from a connection and a run.
type applyConfig struct {
	batchSize    int
	concurrency  int
	scanFallback bool
	scanRanges   bool
	scanOpts     ScanOptions
	removal      RemovalPolicy
	owned        string       // the mapping's attribute prefix
	states       *statePolicy // the mapping's roles and maintenance
	adoptedProps bool         // write display name and note on adopted devices too
	emptyGroups  bool         // delete the group a moved device left when it is empty
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
	wug    wugAPI
	st     store.Store
	res    *collector
	groups groupIndex
	states *stateSync // roles and maintenance, written at close

	ops chan func(context.Context)
	wg  sync.WaitGroup

	adds, updates, removals []Decision
	scans                   map[string][]Decision // by group path
	scanBuffered            int                   // decisions in scans
	records                 []store.Record        // record-only writes

	scanSend sync.Mutex      // one newDevice request in flight (startScan)
	ours     map[string]bool // scans this run started or took over; under scanSend
}

func newExecutor(ctx context.Context, cfg applyConfig, w wugAPI, st store.Store, res *collector) *executor {
	ex := &executor{cfg: cfg, wug: w, st: st, res: res, scans: map[string][]Decision{},
		ops: make(chan func(context.Context), cfg.concurrency), ours: map[string]bool{}}
	ex.states = newStateSync(cfg.states, cfg.removal)
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
	ex.states.planned(&d)
	switch d.Action {
	case ActionAdd, ActionReAdd:
		ex.adds = append(ex.adds, d)
		if len(ex.adds) >= ex.cfg.batchSize {
			ex.dispatch(ctx, &ex.adds, ex.add)
		}
	case ActionAdopt, ActionUpdate, ActionReaddress:
		ex.updates = append(ex.updates, d)
		if len(ex.updates) >= ex.cfg.batchSize {
			ex.dispatch(ctx, &ex.updates, ex.update)
		}
	case ActionScan:
		// Scans gather more addresses than one request holds, so range
		// grouping sees neighbours (formatIPsForScan splits them), but
		// never more than that over all group paths together.
		path := d.candidate.GroupPath
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
			if ctx.Err() != nil {
				return // the next run records them
			}
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
	ex.states.apply(ctx, ex.wug, ex.st, ex.res, ex.cfg.log)
}

// skip records an invalid address as an error (once, while its reason
// stays the same) and counts the rest.
func (ex *executor) skip(ctx context.Context, d Decision) {
	ex.res.skip(d)
	if d.candidate == nil || !d.Key.Address.IsValid() || d.Key.Validate() != nil {
		return
	}
	if blocked, _ := candidateBlocked(d.candidate); !blocked {
		return
	}
	if d.record != nil && d.record.Status == store.StatusError && d.record.LastError == d.Reason {
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
	if d.record != nil {
		r = *d.record
	}
	r.Key = d.Key
	if d.candidate != nil {
		r.ObjectKind, r.ObjectID, r.ObjectName = candidateObject(d.candidate)
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
	case ActionReaddress:
		return store.ReasonIPChanged
	case ActionReAdd:
		return store.ReasonReAdd
	}
	return store.ReasonNewDevice
}

// pending records the items as in flight before the request that acts on
// them. If that fails, no request is sent. An item whose request then ends
// with the run stays pending: the next run resolves it by looking its
// address up.
func (ex *executor) pending(ctx context.Context, items []Decision) error {
	recs := make([]store.Record, len(items))
	var moved []store.Key
	for i := range items {
		if from := items[i].from; from.Address.IsValid() && from != items[i].Key {
			moved = append(moved, from)
		}
		r := ex.base(&items[i])
		r.Status = store.StatusPending
		r.Attempts++
		if items[i].Action != ActionRemove {
			r.Reason = ex.reason(items[i].Action)
		}
		switch {
		case items[i].Action == ActionAdd || items[i].Action == ActionReAdd:
			r.WUGDeviceID, r.Adopted, r.Written = "", false, store.Written{}
		case items[i].Action == ActionAdopt:
			r.WUGDeviceID, r.Adopted, r.Written = items[i].DeviceID, true, store.Written{}
		case items[i].DeviceID != "":
			r.WUGDeviceID = items[i].DeviceID
		}
		recs[i] = r
		// Later writes for the item start from what is now recorded.
		items[i].record = &recs[i]
	}
	// A renumbered object's record moves to its new key in the same
	// write, so no moment has both or neither.
	var err error
	if len(moved) > 0 {
		err = ex.st.ReplaceRecords(ctx, recs, moved)
	} else {
		err = ex.st.UpsertRecords(ctx, recs)
	}
	if err != nil {
		return fmt.Errorf("recording %d items as pending: %w", len(items), err)
	}
	return nil
}

// outcome is the result of one item, recorded after the request.
type outcome struct {
	d         Decision
	deviceID  string
	scanID    string
	scanFound bool // deviceID was found after a scan whose start went unanswered
	warnings  []string
	err       error
	removed   bool
	// written is what the device holds after the item's write; nil when
	// the write left nothing known (a scan, a failure).
	written *store.Written
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
		case o.scanFound:
			// Linked as the scan monitor links; the metadata is not on
			// the device yet, so the next export applies it.
			r.Status, r.WUGDeviceID, r.ScanDiscovered, r.ScanCompletedAt = store.StatusScanCompleted, o.deviceID, true, now
			r.Fingerprint, r.LastError = "", ""
			r.Written = scanPlaced(&o.d)
		case o.scanID != "":
			r.Status, r.ScanID, r.ScanState, r.ScanDiscovered = store.StatusScanTriggered, o.scanID, "", false
			r.ScanTriggeredAt, r.ScanCompletedAt, r.LastError = now, time.Time{}, ""
			r.WUGDeviceID = ""
			r.Fingerprint = o.d.candidate.Fingerprint
			r.Written = scanPlaced(&o.d)
		default:
			r.Status, r.WUGDeviceID, r.LastError = store.StatusExported, o.deviceID, ""
			r.Fingerprint = o.d.candidate.Fingerprint
			r.ExportedAt = now
			if o.written != nil {
				r.Written = *o.written
			}
		}
		ex.states.settle(&r, &o)
		recs = append(recs, r)
	}
	storeErr := ex.st.UpsertRecords(context.WithoutCancel(ctx), recs)
	if storeErr != nil {
		storeErr = fmt.Errorf("recording the outcome failed (the next run resolves it): %w", storeErr)
		ex.cfg.log.Warn("export: recording outcomes failed", "items", len(recs), "err", storeErr)
	}
	ex.res.record(outs, recs, storeErr)
}

// add creates devices with batched template applies. A request WUG may
// have applied without the answer saying so is resolved by looking each
// address up, and only what the lookup does not find is sent once more;
// a known failure is recorded (or scanned, with ScanFallback) at once.
func (ex *executor) add(ctx context.Context, items []Decision) {
	items, outs := ex.ensureGroups(ctx, items)
	ex.finish(ctx, outs)
	if len(items) == 0 || !ex.begin(ctx, items) {
		return
	}
	var failed []outcome
	for resent := false; len(items) > 0; resent = true {
		tmpls := make([]wug.DeviceTemplate, len(items))
		for i := range items {
			tmpls[i] = items[i].candidate.Template
			tmpls[i].TemplateID = strconv.Itoa(i)
		}
		res, err := ex.wug.BulkAdd(ctx, tmpls)
		if err == nil && len(res) != len(items) {
			err = fmt.Errorf("WUG answered %d outcomes for %d templates", len(res), len(items))
		}
		if err == nil {
			outs := make([]outcome, 0, len(items))
			for i, r := range res {
				o := outcome{d: items[i], deviceID: r.DeviceID, warnings: r.Warnings, err: r.Err, written: ex.created(&items[i])}
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
		if !outcomeUnknown(err) {
			failed = append(failed, failAll(items, fmt.Errorf("add: %w", err))...)
			break
		}
		found, missing, unresolved := ex.resolve(ctx, items, err)
		ex.finish(ctx, append(found, unresolved...))
		if ctx.Err() != nil {
			return
		}
		if resent && len(missing) > 0 {
			ex.finish(ctx, failAll(missing, fmt.Errorf("add: WUG's answer was lost twice and WUG has no device with the address yet; the next run looks again before adding: %w", err)))
			return
		}
		items = missing
	}
	ex.fallback(ctx, failed)
}

// outcomeUnknown reports whether WUG may have acted on a request that
// failed with err: its answer was lost, late or unreadable, or WUG failed
// while handling it. A refusal (4xx, or 503 and 429, which WUG sends before
// acting; a refused login; input the client would not send) is a known
// outcome.
func outcomeUnknown(err error) bool {
	if errors.Is(err, wug.ErrOutcomeUnknown) {
		return true
	}
	if errors.Is(err, wug.ErrUnauthorized) {
		return false
	}
	var ae *wug.APIError
	if errors.As(err, &ae) {
		switch ae.StatusCode {
		case http.StatusInternalServerError, http.StatusBadGateway, http.StatusGatewayTimeout:
			return true
		}
		return false
	}
	var ie *wug.InputError
	return !errors.As(err, &ie)
}

// resolve looks up the addresses of items whose creating request had an
// unknown outcome: found links the devices WUG has for them, missing are
// the items WUG has no new device for, failed those whose lookup failed.
// A device the planner saw linked to another key is not taken.
func (ex *executor) resolve(ctx context.Context, items []Decision, cause error) (found []outcome, missing []Decision, failed []outcome) {
	taken := map[string]bool{}
	for _, d := range items {
		for _, id := range d.taken {
			taken[id] = true
		}
	}
	for _, d := range items {
		devs, err := ex.wug.FindByAddress(ctx, d.Key.Address)
		if ctx.Err() != nil {
			return found, nil, failed
		}
		if err != nil {
			failed = append(failed, outcome{d: d, err: fmt.Errorf("WUG may have acted on the request (%v) and looking the address up failed; the next run looks again: %w", cause, err)})
			continue
		}
		id := ""
		for i := len(devs) - 1; i >= 0; i-- { // the last listed, likely the newest, first
			if !taken[devs[i].ID] {
				id = devs[i].ID
				break
			}
		}
		if id == "" {
			missing = append(missing, d)
			continue
		}
		taken[id] = true
		found = append(found, outcome{d: d, deviceID: id, written: ex.created(&d)})
	}
	return found, missing, failed
}

// begin records the items as pending unless the run has ended; it reports
// whether the request may be sent.
func (ex *executor) begin(ctx context.Context, items []Decision) bool {
	if ctx.Err() != nil {
		return false // untouched: the next run plans them again
	}
	if err := ex.pending(ctx, items); err != nil {
		if ctx.Err() == nil {
			ex.finish(ctx, failAll(items, err))
		}
		return false
	}
	return true
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
		p := d.candidate.GroupPath
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

// update links adopted devices and brings metadata up to date (see
// updateOne).
func (ex *executor) update(ctx context.Context, items []Decision) {
	if !ex.begin(ctx, items) {
		return
	}
	outs := make([]outcome, 0, len(items))
	for i := range items {
		d := &items[i]
		// Sent once: the HTTP layer retries what is safe to retry, and a
		// failed item is planned again by the next run (a device not yet
		// at its new address is re-addressed then).
		var err error
		if d.Action == ActionReaddress {
			if err = ex.wug.Readdress(ctx, d.DeviceID, d.Key.Address); err != nil {
				err = fmt.Errorf("moving WUG device %s to %s: %w", d.DeviceID, d.Key.Address, err)
			}
		}
		var w store.Written
		if err == nil {
			w, err = ex.updateOne(ctx, d)
		}
		if ctx.Err() != nil {
			break
		}
		o := outcome{d: *d, deviceID: d.DeviceID, written: &w}
		if err != nil {
			o.err, o.written = fmt.Errorf("update of WUG device %s: %w", d.DeviceID, err), nil
		}
		outs = append(outs, o)
	}
	ex.finish(ctx, outs)
}

// scanPlaced is what a scan of the decision's address leaves written: the
// device it discovers is put in the group the scan ran in, and nothing
// else of wugsync's is on it yet.
func scanPlaced(d *Decision) store.Written {
	return store.Written{GroupPath: d.candidate.GroupPath}
}

// created is what a template apply of the decision's candidate writes.
func (ex *executor) created(d *Decision) *store.Written {
	w := written(&d.candidate.Template, ex.cfg.owned, true, d.candidate.GroupPath)
	return &w
}

// scanGather is how many batches of scan addresses are grouped at once.
const scanGather = 10

// scan starts discovery scans for the items of a group path: their
// addresses grouped by formatIPsForScan, one newDevice request per target.
func (ex *executor) scan(ctx context.Context, path string, items []Decision) {
	if ctx.Err() != nil {
		return
	}
	gid := "0"
	if path != "" {
		id, err := ex.groups.ensure(ctx, ex.wug, path)
		if ctx.Err() != nil {
			return
		}
		if err != nil {
			ex.finish(ctx, failAll(items, err))
			return
		}
		gid = id
	}
	if !ex.begin(ctx, items) {
		return
	}
	addrs := make([]netip.Addr, len(items))
	for i, d := range items {
		addrs[i] = d.Key.Address
	}
	targets, err := formatIPsForScan(addrs, ex.cfg.scanRanges, ex.cfg.scanOpts)
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
		if !ex.scanTarget(ctx, gid, tgt.AddrStrings(), covered) {
			return
		}
	}
}

// scanClockSlack is how much earlier than our request WUG's clock may date
// a scan that the request started.
const scanClockSlack = time.Minute

// scanTarget starts one newDevice scan of targets for the covered items and
// records them. A request WUG may have acted on is resolved before anything
// is sent again: a newDevice scan WUG started at that moment for as many
// addresses, running or finished, is taken as ours and followed; addresses
// WUG already has a device for are linked; the rest are scanned once more. It reports false
// when the run ended, leaving the items pending.
func (ex *executor) scanTarget(ctx context.Context, gid string, targets []string, covered []Decision) bool {
	for resent := false; ; resent = true {
		st, err := ex.startScan(ctx, gid, targets)
		if st.id != "" { // started, or found started after a lost answer
			outs := make([]outcome, len(covered))
			for i, d := range covered {
				outs[i] = outcome{d: d, scanID: st.id}
			}
			ex.finish(ctx, outs)
			return true
		}
		switch {
		case ctx.Err() != nil:
			return false
		case !outcomeUnknown(err):
			ex.finish(ctx, failAll(covered, fmt.Errorf("scan: %w", err)))
			return true
		case st.listErr != nil:
			ex.finish(ctx, failAll(covered, fmt.Errorf("scan: WUG may have started the scan (%v) and listing its scans failed; the next run looks again: %w", err, st.listErr)))
			return true
		case st.candidates > 1:
			ex.finish(ctx, failAll(covered, fmt.Errorf("scan: WUG may have started the scan (%v) and tracks %d scans that could be it; the next run looks again", err, st.candidates)))
			return true
		}
		found, missing, failed := ex.resolve(ctx, covered, err)
		for i := range found {
			found[i].scanFound, found[i].written = true, nil
		}
		ex.finish(ctx, append(found, failed...))
		if ctx.Err() != nil {
			return false
		}
		if len(missing) == 0 {
			return true
		}
		if resent {
			ex.finish(ctx, failAll(missing, fmt.Errorf("scan: WUG's answer was lost twice and WUG has neither a device nor a scan for the address; the next run looks again: %w", err)))
			return true
		}
		covered, targets = missing, make([]string, len(missing))
		for i, d := range missing {
			targets[i] = d.Key.Address.String()
		}
	}
}

// scanStart is what startScan learnt of a newDevice request.
type scanStart struct {
	id         string // the scan started, or taken over after a lost answer
	candidates int    // scans WUG tracks that could be an unanswered request's
	listErr    error  // why WUG's scans could not be listed
}

// startScan sends one newDevice request and returns the scan's id. When WUG
// may have started the scan without the answer saying so, it returns the
// error and looks among the scans WUG tracks: the one scan that could be it
// is taken over (its id returned). One newDevice request of the run is in
// flight at a time, so no other scan of the run can be taken for it.
func (ex *executor) startScan(ctx context.Context, gid string, targets []string) (scanStart, error) {
	ex.scanSend.Lock()
	defer ex.scanSend.Unlock()
	sentAt := ex.cfg.now()
	id, err := ex.wug.ScanIPs(ctx, gid, targets)
	if err == nil {
		ex.ours[id] = true
		return scanStart{id: id}, nil
	}
	if ctx.Err() != nil || !outcomeUnknown(err) {
		return scanStart{}, err
	}
	maybe, lerr := ex.startedScans(ctx, sentAt, len(targets))
	if lerr != nil || len(maybe) != 1 {
		return scanStart{candidates: len(maybe), listErr: lerr}, err
	}
	ex.ours[maybe[0]] = true
	return scanStart{id: maybe[0], candidates: 1}, err
}

// startedScans returns the newDevice scans for n addresses that WUG
// started no earlier than sentAt (less the clock slack), running or
// finished, that this run does not follow already. ex.scanSend is held.
func (ex *executor) startedScans(ctx context.Context, sentAt time.Time, n int) ([]string, error) {
	tracked, err := ex.wug.Scans(ctx)
	if err != nil {
		return nil, err
	}
	var ids []string
	for _, sc := range tracked {
		if !strings.EqualFold(sc.Model, string(wug.ScanModelNewDevice)) || ex.ours[sc.ID] ||
			(sc.Addresses > 0 && sc.Addresses != n) || sc.StartedAt.Before(sentAt.Add(-scanClockSlack)) {
			continue
		}
		ids = append(ids, sc.ID)
	}
	return ids, nil
}

// remove applies the removal policy to devices no longer selected.
func (ex *executor) remove(ctx context.Context, items []Decision) {
	if ctx.Err() != nil {
		return
	}
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
	if !ex.begin(ctx, withDevice) {
		return
	}
	var err error
	if ex.cfg.removal == RemoveDelete {
		err = ex.wug.DeleteDevices(ctx, ids)
	} else {
		err = ex.wug.SetMaintenance(ctx, ids, true, "no longer selected in NetBox (wugsync)", time.Time{})
	}
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
		if ctx.Err() != nil {
			return nil, nil // untouched: the next run plans them again
		}
		if p := d.candidate.GroupPath; p != "" {
			if _, err := ex.groups.ensure(ctx, ex.wug, p); err != nil {
				if ctx.Err() != nil {
					return nil, nil
				}
				failed = append(failed, outcome{d: d, err: err})
				continue
			}
		}
		ok = append(ok, d)
	}
	return ok, failed
}
