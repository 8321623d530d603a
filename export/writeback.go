package export

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/wugsync/wugsync/netbox"
	"github.com/wugsync/wugsync/store"
)

// WriteBack turns on writing WUG's view of each exported object back into
// NetBox's custom fields (netbox.WriteBackFields) after every export run.
// It is off unless WithWriteBack is given, since it writes to the source
// of truth.
//
// After a run, each selected device and virtual machine should carry:
//
//   - wug_device_id: the id of its WUG device, or null;
//   - wug_device_url: DeviceLink with the id in place of {id} (left alone
//     when DeviceLink is empty);
//   - wug_sync_state: "exported", "scan_pending", or "error: <reason>";
//   - wug_last_sync: when wugsync last changed the three fields above.
//
// The values are compared with those the run read from NetBox (no extra
// reads) and only objects with a difference are written, with NetBox's
// bulk PATCH, PageSize objects a request; wug_last_sync is set only when
// another field changes, so a run that changes nothing writes nothing.
//
// An object whose WUG device a run removes (Settings.Removal maintenance
// or delete) and that is no longer selected gets its id, link and state
// cleared (set to null), with wug_last_sync set; under RemoveKeep the WUG
// device stays and so do the fields. With Journal set, an object whose
// WUG device a run creates (add or re-add), or first finds linked after a
// scan, and an object removed from WUG also get a NetBox journal entry.
//
// A NetBox write that fails does not fail the run: it is a warning of the
// run and listed in Result.WriteBack. The fields of a selected object are
// written again by the next run, since they still differ; a removed
// object's clearing and the journal entries are not repeated.
//
// The custom fields must exist: create them once with
// Connection.SetupWriteBack. The NetBox token needs write access and
// dcim.view_device and dcim.change_device, the same two on
// virtualization.virtualmachine, extras.add_journalentry with Journal, and
// extras.view_customfield and extras.add_customfield for the setup.
type WriteBack struct {
	// DeviceLink is the address of a device in WUG's web UI, with {id}
	// where the device id goes, e.g.
	// "https://wug.example.com/NmConsole/#device/{id}".
	DeviceLink string
	// Journal adds a journal entry to an object added to or removed from
	// WUG.
	Journal bool
	// PageSize is how many objects one bulk write carries; 0 means
	// netbox.DefaultWritePageSize.
	PageSize int
	// State also writes WUG's up/down state of each object's device
	// (wug_state: "up", "down", "maintenance", "unknown"; null without a
	// device), read from the device listing every export makes: no
	// request per device. It is compared and written like the other
	// fields, from the listing a run begins with. Between exports a
	// Scheduler refreshes it on every ScanInterval (Connection.SyncState):
	// one device listing, one custom-field read of the selection, and a
	// bulk write of the changed states only, so a device added by a run
	// gets its state at the next tick and a tick with no change writes
	// nothing.
	State bool
}

// WriteBackResult reports what a run's write-back did.
type WriteBackResult struct {
	Requests  int      `json:"requests"`         // NetBox write requests sent
	Written   int      `json:"written"`          // objects whose fields differed and were sent (Errors says what failed)
	Cleared   int      `json:"cleared"`          // removed objects whose fields were cleared
	Journaled int      `json:"journaled"`        // journal entries added
	Errors    []string `json:"errors,omitempty"` // what NetBox refused
}

// netBoxWriter is the part of the NetBox client write-back uses;
// *netbox.Client satisfies it.
type netBoxWriter interface {
	SetupCustomFields(ctx context.Context, fields []netbox.CustomField) (netbox.SetupResult, error)
	UpdateCustomFields(ctx context.Context, updates []netbox.FieldUpdate, pageSize int) (netbox.WriteResult, error)
	AddJournalEntries(ctx context.Context, entries []netbox.JournalEntry, pageSize int) (netbox.WriteResult, error)
}

var _ netBoxWriter = (*netbox.Client)(nil)

// WithWriteBack turns write-back to NetBox on for the connection (see
// WriteBack).
func WithWriteBack(wb WriteBack) Option {
	return func(c *config) error {
		if wb.DeviceLink != "" && !strings.Contains(wb.DeviceLink, "{id}") {
			return fmt.Errorf("write-back: device link %q has no {id}", wb.DeviceLink)
		}
		if wb.PageSize < 0 || wb.PageSize > netbox.MaxPageSize {
			return fmt.Errorf("write-back: page size %d is outside 0..%d", wb.PageSize, netbox.MaxPageSize)
		}
		c.writeBack = &wb
		return nil
	}
}

// SetupWriteBack creates the NetBox custom fields write-back writes
// (netbox.WriteBackFields) where they are missing, and reports what it
// found; an existing field of another type is an error naming it. It is
// the explicit setup step: runs never create fields.
func (e *Connection) SetupWriteBack(ctx context.Context) (netbox.SetupResult, error) {
	w, ok := e.export.Source.(netBoxWriter)
	if !ok {
		return netbox.SetupResult{}, errors.New("export: the NetBox source cannot write")
	}
	return w.SetupCustomFields(ctx, netbox.WriteBackFields(e.export.WriteBack != nil && e.export.WriteBack.State))
}

// writeBack is one run's write-back: it keeps what the run read of each
// selected object and writes the differences once the run is done.
type writeBack struct {
	cfg     WriteBack
	nb      netBoxWriter
	objects []wbObject
	seen    map[netbox.ObjectRef]bool
	states  map[string]string // WUG device id → state, with cfg.State
}

// wbObject is a selected object: its current write-back fields as read,
// its keys in candidate order, and why it has none.
type wbObject struct {
	ref       netbox.ObjectRef
	have      map[string]any
	keys      []store.Key
	noAddress string
}

// syncFields are the fields a run compares and writes (wug_last_sync
// follows them).
var syncFields = []string{netbox.FieldWUGDeviceID, netbox.FieldWUGDeviceURL, netbox.FieldWUGSyncState, netbox.FieldWUGState}

func newWriteBack(cfg *WriteBack, nb netBoxWriter) *writeBack {
	if cfg == nil || nb == nil {
		return nil
	}
	wb := &writeBack{cfg: *cfg, nb: nb, seen: map[netbox.ObjectRef]bool{}}
	if cfg.State {
		wb.states = map[string]string{}
	}
	return wb
}

// stateMap is the map the run's WUG listing fills with device states, or
// nil when they are not written back (or write-back is off).
func (wb *writeBack) stateMap() map[string]string {
	if wb == nil {
		return nil
	}
	return wb.states
}

// observe remembers a selected object and its candidates' keys.
func (wb *writeBack) observe(d *netbox.Device, cands []candidate, policy netbox.IPPolicy) {
	o := wbObject{ref: netbox.ObjectRef{Kind: d.Kind, ID: d.ID}, have: map[string]any{}}
	if wb.seen[o.ref] {
		return
	}
	wb.seen[o.ref] = true
	for _, f := range syncFields {
		if v, ok := d.CustomFields[f]; ok {
			o.have[f] = v
		}
	}
	for i := range cands {
		o.keys = append(o.keys, cands[i].Key)
	}
	if len(cands) == 0 {
		o.noAddress = noAddress(d, policy).Message
	}
	wb.objects = append(wb.objects, o)
}

// link returns the device's address in WUG's web UI, or "" without a
// DeviceLink.
func (wb *writeBack) link(id string) string {
	if wb.cfg.DeviceLink == "" {
		return ""
	}
	return strings.ReplaceAll(wb.cfg.DeviceLink, "{id}", id)
}

// want returns the fields an object should carry given its records (by
// key) and the run's failures (by key).
func (wb *writeBack) want(o *wbObject, recs map[store.Key]store.Record, failed map[store.Key]string) map[string]any {
	var id, state string
	var first *store.Record
	for _, k := range o.keys {
		r, ok := recs[k]
		if !ok || r.Status == store.StatusRemoved || r.ObjectKind != objectKind(o.ref.Kind) || r.ObjectID != o.ref.ID {
			continue
		}
		if first == nil {
			first = &r
		}
		if id == "" {
			id = r.WUGDeviceID
		}
	}
	reason := o.noAddress
	if len(o.keys) > 0 {
		reason = cmp.Or(failed[o.keys[0]], "not exported")
	}
	switch {
	case first != nil && first.Status == store.StatusError:
		state = netbox.SyncError(cmp.Or(first.LastError, reason))
	case id != "":
		state = netbox.SyncExported
	case first != nil && first.Status == store.StatusScanTriggered:
		state = netbox.SyncScanPending
	default:
		state = netbox.SyncError(reason)
	}
	f := map[string]any{netbox.FieldWUGDeviceID: nil, netbox.FieldWUGSyncState: state}
	if n, err := strconv.ParseInt(id, 10, 64); err == nil {
		f[netbox.FieldWUGDeviceID] = n
	}
	if wb.cfg.DeviceLink != "" {
		f[netbox.FieldWUGDeviceURL] = nil
		if id != "" {
			f[netbox.FieldWUGDeviceURL] = wb.link(id)
		}
	}
	if wb.cfg.State {
		f[netbox.FieldWUGState] = nil
		if st := wb.states[id]; id != "" && st != "" {
			f[netbox.FieldWUGState] = st
		}
	}
	return f
}

// finish writes what the run changed: the fields of the selected objects
// that differ from what NetBox holds, the cleared fields of the removed
// objects, and the journal entries. It reads the connection's records
// from the store, and nothing from NetBox.
func (wb *writeBack) finish(ctx context.Context, st store.Store, conn string, now string, outcomes []Outcome) (*WriteBackResult, error) {
	res := &WriteBackResult{}
	need := map[store.Key]bool{}
	for _, o := range wb.objects {
		for _, k := range o.keys {
			need[k] = true
		}
	}
	recs := make(map[store.Key]store.Record, len(need))
	for r, err := range st.Records(ctx, store.Query{Connection: conn, PageSize: 2000}) {
		if err != nil {
			return res, fmt.Errorf("write-back: reading export records: %w", err)
		}
		if need[r.Key] {
			recs[r.Key] = r
		}
	}
	failed := map[store.Key]string{}
	var journal []netbox.JournalEntry
	journaled := map[netbox.ObjectRef]bool{}
	var updates []netbox.FieldUpdate
	cleared := map[netbox.ObjectRef]bool{}
	for _, o := range outcomes {
		ref := netbox.ObjectRef{Kind: netbox.KindDevice, ID: o.ObjectID}
		if o.ObjectKind == store.ObjectVirtualMachine {
			ref.Kind = netbox.KindVirtualMachine
		}
		if o.Kind == OutcomeFailed || o.Kind == OutcomeInvalid {
			failed[o.Key] = cmp.Or(o.Error, o.Reason)
			continue
		}
		if o.Kind != OutcomeApplied || o.ObjectID == 0 {
			continue
		}
		switch o.Action {
		case ActionRemove:
			if wb.seen[ref] || cleared[ref] {
				continue
			}
			cleared[ref] = true
			f := map[string]any{netbox.FieldWUGDeviceID: nil, netbox.FieldWUGSyncState: nil, netbox.FieldWUGLastSync: now}
			if wb.cfg.DeviceLink != "" {
				f[netbox.FieldWUGDeviceURL] = nil
			}
			if wb.cfg.State {
				f[netbox.FieldWUGState] = nil
			}
			updates = append(updates, netbox.FieldUpdate{ObjectRef: ref, Fields: f})
			if wb.cfg.Journal {
				id, _ := strconv.ParseInt(o.DeviceID, 10, 64)
				journal = append(journal, netbox.RemovedFromWUG(ref, id, o.Reason))
			}
		case ActionAdd, ActionReAdd:
			id, err := strconv.ParseInt(o.DeviceID, 10, 64)
			if wb.cfg.Journal && err == nil && !journaled[ref] {
				journaled[ref] = true
				journal = append(journal, netbox.AddedToWUG(ref, id, wb.link(o.DeviceID)))
			}
		}
	}
	res.Cleared = len(updates)
	// A device a scan added is journaled by the export that first finds
	// it linked (its fields still say the scan is pending), once NetBox
	// has taken the new fields, so a refused write does not journal twice.
	scanned := map[netbox.ObjectRef]netbox.JournalEntry{}
	for i := range wb.objects {
		o := &wb.objects[i]
		want := wb.want(o, recs, failed)
		if ch := netbox.ChangedFields(o.have, want); ch != nil {
			ch[netbox.FieldWUGLastSync] = now
			updates = append(updates, netbox.FieldUpdate{ObjectRef: o.ref, Fields: ch})
			res.Written++
			id, ok := want[netbox.FieldWUGDeviceID].(int64)
			if wb.cfg.Journal && ok && !journaled[o.ref] && o.have[netbox.FieldWUGSyncState] == netbox.SyncScanPending {
				scanned[o.ref] = netbox.AddedToWUG(o.ref, id, wb.link(strconv.FormatInt(id, 10)))
			}
		}
	}
	var errs []error
	if len(updates) > 0 {
		wr, err := wb.nb.UpdateCustomFields(ctx, updates, wb.cfg.PageSize)
		res.Requests += wr.Requests
		errs = append(errs, err)
		for _, ref := range wr.Written {
			if j, ok := scanned[ref]; ok {
				journal = append(journal, j)
			}
		}
	}
	if len(journal) > 0 {
		wr, err := wb.nb.AddJournalEntries(ctx, journal, wb.cfg.PageSize)
		res.Requests += wr.Requests
		res.Journaled = len(wr.Written)
		errs = append(errs, err)
	}
	if err := errors.Join(errs...); err != nil {
		res.Errors = append(res.Errors, err.Error())
		return res, fmt.Errorf("write-back: %w", err)
	}
	return res, nil
}
