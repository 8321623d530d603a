package export

import (
	"fmt"

	"github.com/wugsync/wugsync/store"
)

// Object tells the planner which keys one NetBox object exports in this
// run, before its candidates are decided, so a record of the object at a
// key it no longer exports is known to be renumbered (moved) rather than
// still to come.
func (p *planner) Object(cands []candidate) {
	clear(p.objKeys)
	for i := range cands {
		p.objKeys[cands[i].Key] = true
	}
}

// moved returns the record of c's NetBox object, on the same connection,
// at a key the object no longer exports, whose WUG device is still listed
// and linked to no other key: the object was renumbered, and its device
// follows it.
func (p *planner) moved(c *candidate) (store.Record, bool) {
	kind, id, _ := candidateObject(c)
	if id == 0 {
		return store.Record{}, false
	}
	for _, k := range p.recs.objectKeys(kind, id) {
		if k == c.Key || p.objKeys[k] || p.recs.seen(k) {
			continue
		}
		r, ok := p.recs.Get(k)
		if !ok || r.ObjectKind != kind || r.ObjectID != id || r.WUGDeviceID == "" || r.Status == store.StatusRemoved ||
			r.Status == store.StatusScanTriggered || !p.inv.Has(r.WUGDeviceID) || p.claimedByOther(r.WUGDeviceID, k) {
			continue
		}
		return r, true
	}
	return store.Record{}, false
}

// renumber decides for an object whose record old is at another key: its
// WUG device moves to the new address, unless another device holds it.
// Either way the old key is settled for this run (never removed by it).
func (p *planner) renumber(d Decision, old store.Record) Decision {
	p.recs.markSeen(old.Key)
	if conflict, ok := p.conflict(d, old.WUGDeviceID); ok {
		return conflict
	}
	d.record, d.from = &old, old.Key
	d.DeviceID = old.WUGDeviceID
	d.device = p.claim(old.WUGDeviceID, d.Key)
	return d.act(ActionReaddress, fmt.Sprintf("the NetBox object moved from %s to %s; WUG device %s follows it",
		old.Address, d.Key.Address, old.WUGDeviceID))
}

// conflict returns a skip for d when a WUG device other than ours holds
// d's address and ours does not: moving ours there would leave two
// devices at one address, so nothing is done and the finding names both.
func (p *planner) conflict(d Decision, ours string) (Decision, bool) {
	if dev, ok := p.inv.Device(ours); !ok || dev.Address == d.Key.Address {
		return d, false
	}
	for _, id := range p.inv.ByAddress(d.Key.Address) {
		if id == ours {
			continue
		}
		msg := fmt.Sprintf("the object's new address %s belongs to WUG device %s; its own WUG device %s was left as it is",
			d.Key.Address, id, ours)
		d.DeviceID = ours
		d.Findings = append(d.Findings, Finding{Code: codeAddressConflict, Message: msg, WUGDevices: []string{ours, id}})
		return d.skip(msg), true
	}
	return d, false
}
