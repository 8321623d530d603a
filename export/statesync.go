package export

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	"github.com/wugsync/wugsync/netbox"
	"github.com/wugsync/wugsync/store"
)

// SyncState refreshes the wug_state custom field of the connection's
// NetBox objects from WUG between exports, as a Scheduler does on every
// ScanInterval when WriteBack.State is on; call it on a schedule of your
// own otherwise. It reads the connection's records, WUG's device listing
// once and the NetBox selection's custom fields once (no request per
// device or object), and writes only the values that changed, in bulk:
// Requests is ⌈changed objects / WriteBack.PageSize⌉, and 0 when nothing
// changed. It holds the connection's store lease, failing with a
// *RunInProgressError while a run has it, and is an error unless the
// connection writes back with State.
func (c *Connection) SyncState(ctx context.Context) (*WriteBackResult, error) {
	return c.export.syncState(ctx)
}

// syncsState reports whether the job writes WUG states back into NetBox.
func (j *exportJob) syncsState() bool { return j.WriteBack != nil && j.WriteBack.State }

// syncState is SyncState. An object is refreshed only where the export
// left it: its live records link exactly one WUG device, its
// wug_device_id names that device, and WUG's listing has it. Anything
// else (an object whose device the export has yet to settle, or one NetBox
// could not give) is left to the next export, so the two never write
// different values back and forth. wug_last_sync is not touched: it
// follows the fields the export writes.
func (j *exportJob) syncState(ctx context.Context) (*WriteBackResult, error) {
	conn := j.Connection.withDefaults()
	fail := func(err error) error { return fmt.Errorf("export: state sync %s: %w", conn.Name, err) }
	if !j.syncsState() {
		return nil, fail(errors.New("write-back of WUG state (WriteBack.State) is off"))
	}
	nb, ok := j.Source.(netBoxWriter)
	if !ok {
		return nil, fail(errors.New("the NetBox source cannot write"))
	}
	ctx, _, done, err := enterLease(ctx, j.Store, conn.Name, j.Lease, j.logger())
	if err != nil {
		return nil, leaseError("export: state sync "+conn.Name, err)
	}
	defer done()

	res := &WriteBackResult{}
	linked := map[netbox.ObjectRef]string{} // object → its one WUG device; "" when its records name several
	for r, err := range j.Store.Records(ctx, store.Query{Connection: conn.Name, PageSize: 2000}) {
		if err != nil {
			return nil, fail(fmt.Errorf("reading export records: %w", err))
		}
		if r.Status == store.StatusRemoved || r.WUGDeviceID == "" || r.ObjectID == 0 {
			continue
		}
		ref := netbox.ObjectRef{Kind: netbox.KindDevice, ID: r.ObjectID}
		if r.ObjectKind == store.ObjectVirtualMachine {
			ref.Kind = netbox.KindVirtualMachine
		}
		if id, seen := linked[ref]; seen && id != r.WUGDeviceID {
			linked[ref] = ""
		} else {
			linked[ref] = r.WUGDeviceID
		}
	}
	if len(linked) == 0 {
		return res, nil
	}
	wanted := make(map[string]bool, len(linked))
	for _, id := range linked {
		wanted[id] = id != ""
	}
	states := map[string]string{} // linked WUG device id → its state, for the devices WUG lists
	for d, err := range j.WUG.Devices(ctx) {
		if err != nil {
			return nil, fail(fromWUG(fmt.Errorf("listing WUG devices: %w", err)))
		}
		if wanted[d.ID] {
			states[d.ID] = d.State
		}
	}
	if len(states) == 0 {
		return res, nil
	}

	sel := conn.Selector
	sel.OmitCustomFields, sel.CustomFieldsOnly = false, true
	var updates []netbox.FieldUpdate
	for d, err := range j.Source.Devices(ctx, sel) {
		if err != nil {
			if _, ok := errors.AsType[*netbox.DeviceError](err); ok {
				continue
			}
			return nil, fail(fromNetBox(fmt.Errorf("reading NetBox: %w", err)))
		}
		ref := netbox.ObjectRef{Kind: d.Kind, ID: d.ID}
		id := linked[ref]
		st, ok := states[id]
		n, err := strconv.ParseInt(id, 10, 64)
		if !ok || err != nil || netbox.ChangedFields(d.CustomFields, map[string]any{netbox.FieldWUGDeviceID: n}) != nil {
			continue
		}
		var want any // WUG gave no state: null, as the export writes it
		if st != "" {
			want = st
		}
		if ch := netbox.ChangedFields(d.CustomFields, map[string]any{netbox.FieldWUGState: want}); ch != nil {
			updates = append(updates, netbox.FieldUpdate{ObjectRef: ref, Fields: ch})
		}
	}
	if len(updates) == 0 {
		return res, nil
	}
	wr, err := nb.UpdateCustomFields(ctx, updates, j.WriteBack.PageSize)
	res.Requests, res.Written = wr.Requests, len(updates)
	if err != nil {
		res.Errors = append(res.Errors, err.Error())
		return res, fail(fmt.Errorf("write-back: %w", err))
	}
	return res, nil
}
