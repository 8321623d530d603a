package export

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"time"

	"github.com/wugsync/wugsync/netbox"
	"github.com/wugsync/wugsync/store"
)

// scanJob follows the discovery scans an export started: it reads
// the records in scan_triggered, asks WUG how each scan is doing, and when a
// scan is done links the device it found (by the scan's own results, then by
// exact address) and applies the NetBox metadata to it. A scan that never
// finishes is recorded as an error after Timeout.
type scanJob struct {
	Connection string
	WUG        wugAPI
	Store      store.Store
	// Source and Transformer, when both set, let the job apply the
	// metadata to linked devices right away (reading their NetBox objects
	// with Selector's IP policy); otherwise the next export does it (the
	// record's fingerprint is cleared so it sees a change).
	Source      netBoxSource
	Selector    netbox.Selector
	Transformer *transformer
	Timeout     time.Duration // default 1 hour
	Logger      *slog.Logger
	Now         func() time.Time
	// Lease says how a run takes the connection's store lease, which it
	// holds while it writes, as an export does.
	Lease leaseOptions
}

// ScanResult is the outcome of one scan-monitor run.
type ScanResult struct {
	RunID    string          `json:"run_id"`
	Status   store.RunStatus `json:"status"`
	Scans    int             `json:"scans"`     // distinct scans followed
	Linked   int             `json:"linked"`    // addresses whose scan found a device
	NotFound int             `json:"not_found"` // addresses whose finished scan found nothing
	Waiting  int             `json:"waiting"`   // addresses whose scan is still running
	TimedOut int             `json:"timed_out"` // addresses whose scan never finished
	Failed   int             `json:"failed"`
	Outcomes []Outcome       `json:"outcomes,omitempty"`
}

func (j *scanJob) now() time.Time {
	if j.Now != nil {
		return j.Now()
	}
	return time.Now()
}

// Run follows every scan the connection is waiting for, once, holding the
// connection's store lease (a *RunInProgressError while another run has
// it).
func (j *scanJob) Run(ctx context.Context, trigger store.Trigger) (*ScanResult, error) {
	if j.Connection == "" || j.WUG == nil || j.Store == nil {
		return nil, errors.New("scan monitor: connection, WUG and store are required")
	}
	if trigger == "" {
		trigger = store.TriggerManual
	}
	log := j.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	ctx, lease, done, err := enterLease(ctx, j.Store, j.Connection, j.Lease, log)
	if err != nil {
		return nil, leaseError("scan monitor "+j.Connection, err)
	}
	defer done()
	run, err := j.Store.BeginRun(ctx, store.Run{Connection: j.Connection, Kind: store.RunScanMonitor, Trigger: trigger, Status: store.RunRunning, Lease: lease})
	if err != nil {
		return nil, fmt.Errorf("scan monitor %s: recording the run: %w", j.Connection, err)
	}
	res := &ScanResult{RunID: run.ID}
	err = j.run(ctx, res)
	res.Status = runStatus(ctx, err, res.Failed)
	run.Status = res.Status
	run.Counts = store.RunCounts{Selected: res.Linked + res.NotFound + res.Waiting + res.TimedOut + res.Failed,
		Scanned: res.Linked + res.NotFound, Updated: res.Linked, Failed: res.Failed + res.TimedOut}
	if err = finishRun(ctx, j.Store, run, err); err != nil {
		return res, fmt.Errorf("scan monitor %s: %w", j.Connection, err)
	}
	return res, nil
}

func (j *scanJob) run(ctx context.Context, res *ScanResult) error {
	timeout := j.Timeout
	if timeout <= 0 {
		timeout = time.Hour
	}
	// Group the waiting records by scan, keeping the order scans appear in.
	byScan := map[string][]store.Record{}
	var scans []string
	for r, err := range j.Store.Records(ctx, store.Query{Connection: j.Connection, Statuses: []store.Status{store.StatusScanTriggered}}) {
		if err != nil {
			return fmt.Errorf("reading scan records: %w", err)
		}
		if _, ok := byScan[r.ScanID]; !ok {
			scans = append(scans, r.ScanID)
		}
		byScan[r.ScanID] = append(byScan[r.ScanID], r)
	}
	res.Scans = len(scans)
	owners, err := j.owners(ctx, byScan)
	if err != nil {
		return err
	}
	var linked []store.Record
	current := map[string]wugDevice{}
	for _, scanID := range scans {
		recs := byScan[scanID]
		done, state, err := j.status(ctx, scanID)
		if ctx.Err() != nil {
			return ctx.Err()
		}
		now := j.now().UTC()
		if !done {
			var expired []store.Record
			for _, r := range recs {
				if now.Sub(r.ScanTriggeredAt) < timeout {
					res.Waiting++
					continue
				}
				r.Status, r.ScanState = store.StatusError, state
				r.LastError = fmt.Sprintf("scan %s did not finish within %s", scanID, timeout)
				if err != nil {
					r.LastError += fmt.Sprintf(" (last status check: %v)", err)
				}
				expired = append(expired, r)
			}
			res.TimedOut += len(expired)
			if err := j.save(ctx, res, expired, ActionScan); err != nil {
				return err
			}
			continue
		}
		// Devices the scan reports, by exact address.
		found := map[netip.Addr][]wugDevice{}
		if devs, err := j.WUG.ScanDevices(ctx, scanID); err == nil {
			for _, d := range devs {
				if d.Address.IsValid() {
					a := d.Address.Unmap()
					found[a] = append(found[a], d)
				}
			}
		}
		var out []store.Record
		for _, r := range recs {
			dev, other := pickDevice(found[r.Address], r.Key, owners)
			if dev.ID == "" {
				devs, err := j.WUG.FindByAddress(ctx, r.Address)
				if err != nil {
					if ctx.Err() != nil {
						return ctx.Err()
					}
					res.Failed++
					res.Outcomes = append(res.Outcomes, Outcome{Kind: OutcomeFailed, Key: r.Key, Action: ActionScan, Status: r.Status, ScanID: scanID,
						Error: fmt.Sprintf("looking up %s after scan %s: %v", r.Address, scanID, err)})
					continue
				}
				var o store.Key
				if dev, o = pickDevice(devs, r.Key, owners); o.Address.IsValid() {
					other = o
				}
			}
			id := dev.ID
			r.Status, r.ScanState, r.ScanCompletedAt = store.StatusScanCompleted, state, now
			r.ScanDiscovered, r.WUGDeviceID, r.LastError = id != "", id, ""
			if id != "" {
				owners[id] = r.Key
				current[id] = dev
				res.Linked++
				r.Fingerprint = "" // the metadata is not on the device yet
				linked = append(linked, r)
			} else {
				res.NotFound++
				if other.Address.IsValid() {
					// A scan finds the device WUG already has for the
					// address; it never adds a second one.
					r.LastError = fmt.Sprintf("the WUG device with this address is linked to %s (the same address in another VRF)", other)
				}
			}
			out = append(out, r)
		}
		if err := j.save(ctx, res, out, ActionScan); err != nil {
			return err
		}
	}
	return j.applyMetadata(ctx, res, linked, current)
}

// owners maps the WUG devices that the connection's records link, for the
// addresses the waiting records hold, to the key linking each: one device
// is linked to one key, even when an address sits in two VRFs.
func (j *scanJob) owners(ctx context.Context, byScan map[string][]store.Record) (map[string]store.Key, error) {
	waiting := map[netip.Addr]bool{}
	for _, recs := range byScan {
		for _, r := range recs {
			waiting[r.Address] = true
		}
	}
	owners := map[string]store.Key{}
	if len(waiting) == 0 {
		return owners, nil
	}
	for r, err := range j.Store.Records(ctx, store.Query{Connection: j.Connection}) {
		if err != nil {
			return nil, fmt.Errorf("reading the devices records link: %w", err)
		}
		if waiting[r.Address] && r.WUGDeviceID != "" && r.Status != store.StatusRemoved {
			owners[r.WUGDeviceID] = r.Key
		}
	}
	return owners, nil
}

// pickDevice returns the first of devs that no key other than k links,
// and otherwise a key that links one of them.
func pickDevice(devs []wugDevice, k store.Key, owners map[string]store.Key) (wugDevice, store.Key) {
	var other store.Key
	for _, d := range devs {
		o, linked := owners[d.ID]
		if !linked || o == k {
			return d, store.Key{}
		}
		other = o
	}
	return wugDevice{}, other
}

// status asks WUG whether a scan is done.
func (j *scanJob) status(ctx context.Context, scanID string) (done bool, state string, err error) {
	if scanID == "" {
		return false, "", errors.New("the record has no scan id")
	}
	info, err := j.WUG.ScanStatus(ctx, scanID)
	if err != nil {
		return false, "", err
	}
	return info.Done, info.State, nil
}

func (j *scanJob) save(ctx context.Context, res *ScanResult, recs []store.Record, a Action) error {
	if len(recs) == 0 {
		return nil
	}
	if err := j.Store.UpsertRecords(ctx, recs); err != nil {
		return fmt.Errorf("recording scan outcomes: %w", err)
	}
	for _, r := range recs {
		kind := OutcomeApplied
		if r.LastError != "" {
			kind = OutcomeFailed
		}
		res.Outcomes = append(res.Outcomes, Outcome{Kind: kind, Key: r.Key, ObjectKind: r.ObjectKind, ObjectID: r.ObjectID,
			ObjectName: r.ObjectName, Action: a, Status: r.Status, DeviceID: r.WUGDeviceID, ScanID: r.ScanID, Error: r.LastError})
	}
	return nil
}

// applyMetadata reads the NetBox objects of newly linked addresses and
// brings the WUG devices' metadata in line, recording the fingerprint.
func (j *scanJob) applyMetadata(ctx context.Context, res *ScanResult, linked []store.Record, current map[string]wugDevice) error {
	if len(linked) == 0 || j.Source == nil || j.Transformer == nil {
		return nil
	}
	byKey := map[store.Key]store.Record{}
	sel := j.Selector
	sel.IDs, sel.VMIDs = nil, nil
	for _, r := range linked {
		byKey[r.Key] = r
		if r.ObjectKind == store.ObjectVirtualMachine {
			sel.VMIDs = append(sel.VMIDs, r.ObjectID)
		} else {
			sel.IDs = append(sel.IDs, r.ObjectID)
		}
	}
	for dev, err := range j.Source.Devices(ctx, sel) {
		if err != nil {
			var de *netbox.DeviceError
			if errors.As(err, &de) {
				continue
			}
			return fromNetBox(fmt.Errorf("reading NetBox for scanned devices: %w", err))
		}
		for _, c := range j.Transformer.Prepare(&dev, sel.IPPolicy, j.Connection) {
			r, ok := byKey[c.Key]
			if !ok || !c.Exportable() {
				continue
			}
			delete(byKey, c.Key)
			// The scan wugsync started created the device: its display
			// name and note are wugsync's to write, and it holds none of
			// wugsync's attributes yet, so they are set without a read in
			// one batch; the properties follow only when the name or note
			// WUG gave the device differ.
			// The scan put the device in the group it ran in; when the
			// object has moved since, the next export moves the device,
			// as the fingerprint is then left unrecorded.
			want := written(&c.Template, j.Transformer.prefix, true, cmp.Or(r.Written.GroupPath, c.GroupPath))
			cur := current[r.WUGDeviceID]
			_, set, props := metadataDelta(store.Written{DisplayName: cur.Name, Note: cur.Note}, want, true)
			if err := j.WUG.WriteMetadata(ctx, r.WUGDeviceID, nil, set, props); err != nil {
				if ctx.Err() != nil {
					return ctx.Err()
				}
				res.Failed++
				res.Outcomes = append(res.Outcomes, Outcome{Kind: OutcomeFailed, Key: r.Key, Action: ActionUpdate, Status: r.Status, DeviceID: r.WUGDeviceID,
					Error: fmt.Sprintf("applying metadata to WUG device %s: %v", r.WUGDeviceID, err)})
				continue
			}
			r.Fingerprint, r.ExportedAt = c.Fingerprint, j.now().UTC()
			if want.GroupPath != c.GroupPath {
				r.Fingerprint = ""
			}
			r.Written = want
			if err := j.Store.UpsertRecords(ctx, []store.Record{r}); err != nil {
				return fmt.Errorf("recording metadata of %s: %w", r.Key, err)
			}
		}
	}
	return nil
}
