package export

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"time"

	"github.com/wugsync/wugsync/netbox"
	"github.com/wugsync/wugsync/store"
)

// DriftKind names one of the ways WUG and NetBox disagree.
type DriftKind string

// The kinds of drift a DriftReport lists.
const (
	// DriftWUGOnly: a WUG device the connection manages (its records link
	// it, so it sits in the connection's groups) that no selected NetBox
	// object maps to any more.
	DriftWUGOnly DriftKind = "wug_only"
	// DriftNetBoxOnly: a selected NetBox object with no WUG device; the
	// item's Reason says why.
	DriftNetBoxOnly DriftKind = "netbox_only"
	// DriftAddressConflict: a WUG device at an address NetBox assigns to
	// another object than the one the device follows.
	DriftAddressConflict DriftKind = "address_conflict"
)

// DriftItem is one disagreement between WUG and NetBox.
type DriftItem struct {
	Kind          DriftKind        `json:"kind"`
	Address       netip.Addr       `json:"address,omitzero"` // invalid when the item has none
	ObjectKind    store.ObjectKind `json:"object_kind,omitempty"`
	ObjectID      int64            `json:"object_id,omitempty"` // 0 without a NetBox object
	ObjectName    string           `json:"object_name,omitempty"`
	WUGDeviceID   string           `json:"wug_device_id,omitempty"` // empty without a WUG device
	WUGDeviceName string           `json:"wug_device_name,omitempty"`
	Reason        string           `json:"reason"`
}

// DriftReport is what WUG and NetBox disagree on for one connection, as
// Connection.Drift found it. Items are ordered by kind, then address.
type DriftReport struct {
	Connection string      `json:"connection"`
	CheckedAt  time.Time   `json:"checked_at"`
	Items      []DriftItem `json:"items"`
}

// Drift compares the connection's NetBox selection, its records and WUG's
// device listing and reports where they disagree. It reads NetBox's
// selection once and WUG's listing once, writes nothing and takes no
// lease, so it may run beside an export (it then reports what it saw at
// that moment).
func (e *Connection) Drift(ctx context.Context) (*DriftReport, error) {
	j := e.export
	conn := j.Connection.withDefaults()
	recs, err := loadRecords(ctx, j.Store, conn.Name)
	if err != nil {
		return nil, fmt.Errorf("drift %s: %w", conn.Name, err)
	}
	inv, err := loadInventory(ctx, j.WUG, nil)
	if err != nil {
		return nil, fmt.Errorf("drift %s: %w", conn.Name, err)
	}
	d := newDrift(recs, inv)
	sel := conn.Selector
	for dev, err := range j.Source.Devices(ctx, sel) {
		if err != nil {
			var de *netbox.DeviceError
			if !errors.As(err, &de) {
				return nil, fmt.Errorf("drift %s: %w", conn.Name, fromNetBox(fmt.Errorf("reading NetBox: %w", err)))
			}
			// An object that cannot be read is neither reported nor lets
			// its devices look unmapped.
			d.unreadable = true
			continue
		}
		d.object(&dev, j.Transformer.Prepare(&dev, sel.IPPolicy, conn.Name), sel.IPPolicy)
	}
	return &DriftReport{Connection: conn.Name, CheckedAt: j.now().UTC(), Items: d.items()}, nil
}

// drift builds a DriftReport from records, the WUG listing and the
// selected objects streamed through object.
type drift struct {
	recs       *recordSet
	inv        *inventory
	linked     map[string]store.Record // WUG device id → a live record linking it
	mapped     map[string]bool         // WUG devices a selected object maps to
	out        []DriftItem
	unreadable bool
}

func newDrift(recs *recordSet, inv *inventory) *drift {
	d := &drift{recs: recs, inv: inv, linked: map[string]store.Record{}, mapped: map[string]bool{}}
	for r := range recs.All() {
		if r.Status != store.StatusRemoved && r.WUGDeviceID != "" && inv.Has(r.WUGDeviceID) {
			d.linked[r.WUGDeviceID] = r
		}
	}
	return d
}

func objectKind(k netbox.Kind) store.ObjectKind {
	if k == netbox.KindVirtualMachine {
		return store.ObjectVirtualMachine
	}
	return store.ObjectDevice
}

// object takes one selected NetBox object and its candidates.
func (d *drift) object(dev *netbox.Device, cands []candidate, policy netbox.IPPolicy) {
	kind := objectKind(dev.Kind)
	item := DriftItem{Kind: DriftNetBoxOnly, ObjectKind: kind, ObjectID: dev.ID, ObjectName: dev.Name}
	if len(cands) == 0 {
		item.Reason = noAddress(dev, policy).Message
		d.out = append(d.out, item)
		return
	}
	hasDevice := false
	reason := ""
	for i := range cands {
		c := &cands[i]
		addr := c.Key.Address
		r, ok := d.recs.Get(c.Key)
		ok = ok && r.ObjectKind == kind && r.ObjectID == dev.ID // keys are addresses: the record may be another object's
		switch {
		case ok && r.Status != store.StatusRemoved && r.WUGDeviceID != "" && d.inv.Has(r.WUGDeviceID):
			hasDevice = true
			d.mapped[r.WUGDeviceID] = true
		case reason != "":
		case !c.Exportable():
			_, why := candidateBlocked(c)
			reason = "not exportable: " + why
		case !ok:
			reason = "not exported yet"
		case r.Status == store.StatusScanTriggered:
			reason = "a WUG scan of " + addr.String() + " is running (scan " + r.ScanID + ")"
		case r.Status == store.StatusError:
			reason = "the last export failed: " + r.LastError
		case r.WUGDeviceID != "":
			reason = "WUG device " + r.WUGDeviceID + " no longer exists"
		default:
			reason = "no WUG device (record " + string(r.Status) + ")"
		}
		if !addr.IsValid() {
			continue
		}
		for _, id := range d.inv.ByAddress(addr) {
			other, ok := d.linked[id]
			if !ok || (other.ObjectKind == kind && other.ObjectID == dev.ID) {
				continue
			}
			wd, _ := d.inv.Device(id)
			d.out = append(d.out, DriftItem{Kind: DriftAddressConflict, Address: addr, ObjectKind: kind, ObjectID: dev.ID,
				ObjectName: dev.Name, WUGDeviceID: id, WUGDeviceName: wd.Name,
				Reason: fmt.Sprintf("WUG device %s follows %s %d %q, but NetBox assigns %s to this object",
					id, other.ObjectKind, other.ObjectID, other.ObjectName, addr)})
		}
	}
	if !hasDevice {
		item.Address = cands[0].Key.Address
		item.Reason = reason
		d.out = append(d.out, item)
	}
}

// items finishes the report: the managed WUG devices no selected object
// maps to (none when an object could not be read), in order.
func (d *drift) items() []DriftItem {
	out := d.out
	if !d.unreadable {
		for id, r := range d.linked {
			if d.mapped[id] {
				continue
			}
			wd, _ := d.inv.Device(id)
			out = append(out, DriftItem{Kind: DriftWUGOnly, Address: wd.Address, WUGDeviceID: id, WUGDeviceName: wd.Name,
				ObjectKind: r.ObjectKind, ObjectID: r.ObjectID, ObjectName: r.ObjectName,
				Reason: fmt.Sprintf("no selected NetBox object maps to it; it was exported for %s %d %q", r.ObjectKind, r.ObjectID, r.ObjectName)})
		}
	}
	order := map[DriftKind]int{DriftWUGOnly: 0, DriftNetBoxOnly: 1, DriftAddressConflict: 2}
	slices.SortFunc(out, func(a, b DriftItem) int {
		return cmp.Or(order[a.Kind]-order[b.Kind], a.Address.Compare(b.Address), cmp.Compare(a.ObjectID, b.ObjectID),
			cmp.Compare(a.WUGDeviceID, b.WUGDeviceID))
	})
	return out
}
