package export

import (
	"encoding/json"
	"fmt"
	"io"
	"net/netip"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/wugsync/wugsync/store"
)

// Action is what the planner decided to do with one IP address.
type Action string

// Actions the planner decides.
const (
	ActionAdd    Action = "add"    // create the device with a template apply
	ActionAdopt  Action = "adopt"  // link an existing WUG device with the address and update its metadata
	ActionUpdate Action = "update" // bring our device's metadata up to date
	// ActionReaddress moves our device to the object's new address (the
	// object was renumbered in NetBox) and brings its metadata up to date.
	ActionReaddress Action = "readdress"
	ActionReAdd     Action = "re_add" // our device is gone from WUG: create it again
	ActionScan      Action = "scan"   // have WUG discover the address
	ActionSkip      Action = "skip"   // nothing to do (the reason says why)
	ActionRemove    Action = "remove" // no longer selected: apply the removal policy
)

// RemovalPolicy says what happens to our WUG device when its address is no
// longer selected in NetBox.
type RemovalPolicy string

// Removal policies.
const (
	RemoveKeep        RemovalPolicy = "keep" // the default: leave the device alone
	RemoveMaintenance RemovalPolicy = "maintenance"
	RemoveDelete      RemovalPolicy = "delete"
)

// Skip reasons that the executor and result counts tell apart.
const (
	skipUnchanged = "unchanged since the last export"
	skipInvalid   = "not exportable: "
)

// Decision is the planner's verdict for one IP address.
type Decision struct {
	Key      store.Key
	Action   Action
	Reason   string    // one sentence
	DeviceID string    // the WUG device concerned, when known
	Findings []Finding // validation findings carried along

	// candidate is the NetBox side; nil for removals.
	candidate *candidate
	// record is the recorded state; nil when there is none.
	record *store.Record

	// device is WUG device DeviceID as the inventory listed it: the
	// executor compares the metadata with it and never reads the
	// inventory, which belongs to the planner that is still writing it.
	device wugDevice
	// from is, for a readdress, the key the object's record moves from;
	// zero when the record is already at Key.
	from store.Key
	// taken lists, for an add or a scan, the WUG devices that had the
	// address when the planner decided: other keys own them, so a lookup
	// after an unanswered request must not link them.
	taken []string
}

// object returns the NetBox object the decision is about.
func (d *Decision) object() (kind store.ObjectKind, id int64, name string) {
	if d.candidate != nil {
		return candidateObject(d.candidate)
	}
	if d.record != nil {
		return d.record.ObjectKind, d.record.ObjectID, d.record.ObjectName
	}
	return "", 0, ""
}

// MarshalJSON renders the decision for the plan's JSON form.
func (d Decision) MarshalJSON() ([]byte, error) {
	kind, id, name := d.object()
	return json.Marshal(struct {
		Key        string           `json:"key"`
		VRF        string           `json:"vrf,omitempty"`
		Address    string           `json:"address"`
		Action     Action           `json:"action"`
		Reason     string           `json:"reason"`
		DeviceID   string           `json:"wug_device_id,omitempty"`
		ObjectKind store.ObjectKind `json:"object_kind,omitempty"`
		ObjectID   int64            `json:"object_id,omitempty"`
		ObjectName string           `json:"object_name,omitempty"`
		Findings   []Finding        `json:"findings,omitempty"`
	}{d.Key.String(), d.Key.VRF, addrText(d.Key.Address), d.Action, d.Reason, d.DeviceID, kind, id, name, d.Findings})
}

func addrText(a netip.Addr) string {
	if !a.IsValid() {
		return ""
	}
	return a.String()
}

// Plan is every decision of one export, in the order NetBox listed the
// objects, removals last.
type Plan struct {
	Connection string     `json:"connection"`
	Decisions  []Decision `json:"decisions"`
	Warnings   []string   `json:"warnings,omitempty"` // plan-wide notes, such as a removal held back
}

// Count returns how many decisions have each action.
func (p *Plan) Count() map[Action]int {
	n := map[Action]int{}
	for _, d := range p.Decisions {
		n[d.Action]++
	}
	return n
}

// WriteJSON writes the plan as indented JSON.
func (p *Plan) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(p)
}

// WriteTable writes the plan as an aligned text table, one line per
// decision, followed by the counts and the plan-wide warnings.
func (p *Plan) WriteTable(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ACTION\tADDRESS\tVRF\tNETBOX OBJECT\tWUG DEVICE\tREASON")
	for _, d := range p.Decisions {
		kind, id, name := d.object()
		obj := ""
		if id != 0 {
			obj = fmt.Sprintf("%s %d %s", kind, id, name)
		}
		vrf := d.Key.VRF
		if vrf == "" {
			vrf = "global"
		}
		reason := d.Reason
		var warnings []string
		for _, f := range d.Findings {
			if !f.Error {
				warnings = append(warnings, f.String())
			}
		}
		if len(warnings) > 0 {
			reason += " (warnings: " + strings.Join(warnings, "; ") + ")"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", d.Action, addrText(d.Key.Address), vrf, obj, orDash(d.DeviceID), reason)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	counts := p.Count()
	var parts []string
	for _, a := range []Action{ActionAdd, ActionAdopt, ActionUpdate, ActionReaddress, ActionReAdd, ActionScan, ActionSkip, ActionRemove} {
		if counts[a] > 0 {
			parts = append(parts, fmt.Sprintf("%s %d", a, counts[a]))
		}
	}
	if len(parts) == 0 {
		parts = []string{"nothing selected"}
	}
	if _, err := fmt.Fprintf(w, "\n%d decisions: %s\n", len(p.Decisions), strings.Join(parts, ", ")); err != nil {
		return err
	}
	for _, warn := range p.Warnings {
		if _, err := fmt.Fprintf(w, "warning: %s\n", warn); err != nil {
			return err
		}
	}
	return nil
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// planOptions tune the planner.
type planOptions struct {
	Scan bool // new addresses are scanned (newDevice) instead of added

	// ExcludeRecent skips addresses exported within RecentWindow
	// (default defaultRecentWindow) of Now (default the time newPlanner
	// is called). Records also add recently-exported and previous-failure
	// warnings (checkRecord).
	ExcludeRecent bool
	RecentWindow  time.Duration
	Now           time.Time

	// Removal is applied to recorded addresses that RemovalScope covers and
	// the run did not see. Empty means RemoveKeep. A nil RemovalScope
	// means the run's selection was partial: nothing is removed.
	Removal      RemovalPolicy
	RemovalScope func(store.Record) bool
	// MaxRemoveShare caps removals at this share of the devices we own
	// (default 0.1); ForceRemove lifts the cap.
	MaxRemoveShare float64
	ForceRemove    bool
}

func (o *planOptions) defaults() {
	if o.RecentWindow <= 0 {
		o.RecentWindow = defaultRecentWindow
	}
	if o.Now.IsZero() {
		o.Now = time.Now()
	}
	if o.Removal == "" {
		o.Removal = RemoveKeep
	}
	if o.MaxRemoveShare <= 0 {
		o.MaxRemoveShare = 0.1
	}
}

// inventory is the observed WUG state: every device indexed by its exact
// network address and by id. An address almost always has one device, so
// byAddr holds the first id and more the rest.
type inventory struct {
	byAddr map[netip.Addr]string
	more   map[netip.Addr][]string
	byID   map[string]invEntry
}

// invEntry is an indexed device without its id (the map key holds it)
// and, while a planner runs, the key linked to it: 0 for none, i+1 for the
// record at index i of the planner's recordSet, -1 for a key without a
// record (see planner.claimedNew).
type invEntry struct {
	name, note string
	addr       netip.Addr
	owner      int32
}

// device returns the entry as the listed device with this id.
func (e invEntry) device(id string) wugDevice {
	return wugDevice{ID: id, Name: e.name, Note: e.note, Address: e.addr}
}

// newInventory indexes devices.
func newInventory(devices []wugDevice) *inventory {
	inv := &inventory{byAddr: map[netip.Addr]string{}, more: map[netip.Addr][]string{}, byID: map[string]invEntry{}}
	for _, d := range devices {
		inv.Add(d)
	}
	return inv
}

// Add indexes one more device.
func (inv *inventory) Add(d wugDevice) {
	if _, dup := inv.byID[d.ID]; dup {
		return
	}
	d.Address = d.Address.Unmap().WithZone("")
	inv.byID[d.ID] = invEntry{name: d.Name, note: d.Note, addr: d.Address}
	if !d.Address.IsValid() {
		return
	}
	if _, taken := inv.byAddr[d.Address]; taken {
		inv.more[d.Address] = append(inv.more[d.Address], d.ID)
	} else {
		inv.byAddr[d.Address] = d.ID
	}
}

// Device returns the device with this id.
func (inv *inventory) Device(id string) (wugDevice, bool) {
	e, ok := inv.byID[id]
	if !ok {
		return wugDevice{}, false
	}
	return e.device(id), true
}

// Len is the number of devices indexed.
func (inv *inventory) Len() int { return len(inv.byID) }

// Has reports whether WUG has a device with this id.
func (inv *inventory) Has(id string) bool {
	_, ok := inv.byID[id]
	return ok
}

// ByAddress returns the ids of the devices whose network address is addr.
func (inv *inventory) ByAddress(addr netip.Addr) []string {
	addr = addr.Unmap().WithZone("")
	id, ok := inv.byAddr[addr]
	if !ok {
		return nil
	}
	return append([]string{id}, inv.more[addr]...)
}

// planner decides, one candidate at a time, what an export does. It is pure:
// it reads the inventory and the records it was given and performs no I/O,
// so a run streams candidates through it chunk by chunk and asks for the
// removals at the end. A planner is not safe for concurrent use, and it
// marks the inventory and record set it was given, which serve one
// planner only: nothing else may read them while it runs. Each decision
// carries what the executor needs of them (the record, the device as
// listed), so decisions can be applied on other goroutines.
type planner struct {
	opts planOptions
	inv  *inventory
	recs *recordSet
	// claimedNew links WUG devices to keys without a record; links to
	// recorded keys are kept in the inventory entries.
	claimedNew map[string]store.Key
	seenNew    map[store.Key]bool // keys without a record decided in this run
	objKeys    map[store.Key]bool // the keys the current NetBox object exports (Object)
}

// newPlanner returns a planner over the observed inventory and the recorded
// state of one connection. The planner marks in recs which keys it saw.
func newPlanner(opts planOptions, inv *inventory, recs *recordSet) *planner {
	opts.defaults()
	if inv == nil {
		inv = newInventory(nil)
	}
	if recs == nil {
		recs = recordSetOf()
	}
	p := &planner{opts: opts, inv: inv, recs: recs, claimedNew: map[string]store.Key{}, seenNew: map[store.Key]bool{},
		objKeys: map[store.Key]bool{}}
	for i := range recs.recs {
		st := &recs.recs[i]
		if e, ok := inv.byID[st.deviceID]; ok && st.deviceID != "" && st.status != store.StatusRemoved {
			e.owner = int32(i) + 1
			inv.byID[st.deviceID] = e
		}
	}
	return p
}

// claim links WUG device id to k for the rest of the run and returns the
// device as listed.
func (p *planner) claim(id string, k store.Key) wugDevice {
	e, ok := p.inv.byID[id]
	if !ok {
		return wugDevice{}
	}
	if i, ok := p.recs.index(k); ok {
		e.owner = i + 1
	} else {
		e.owner = -1
		p.claimedNew[id] = k
	}
	p.inv.byID[id] = e
	return e.device(id)
}

// claimedByOther reports whether WUG device id is linked to a key other
// than k.
func (p *planner) claimedByOther(id string, k store.Key) bool {
	e := p.inv.byID[id]
	switch {
	case e.owner == 0:
		return false
	case e.owner < 0:
		return p.claimedNew[id] != k
	}
	i, ok := p.recs.index(k)
	return !ok || i != e.owner-1
}

// Seen reports whether the planner has decided for key in this run.
func (p *planner) Seen(k store.Key) bool { return p.seenNew[k] || p.recs.seen(k) }

// markSeen records that the planner decided for k and reports whether it
// had already.
func (p *planner) markSeen(k store.Key) bool {
	if already, ok := p.recs.markSeen(k); ok {
		return already
	}
	already := p.seenNew[k]
	p.seenNew[k] = true
	return already
}

// Decide returns the decision for one candidate. A key decided twice in one
// run (the same address in the same VRF on two NetBox objects) is skipped
// the second time.
func (p *planner) Decide(c *candidate) Decision {
	d := Decision{Key: c.Key, candidate: c, Findings: candidateFindings(c)}
	if rec, ok := p.recs.Get(c.Key); ok {
		d.record = &rec
	}
	r := d.record
	if r != nil {
		d.Findings = append(d.Findings, checkRecord(*r, p.opts.Now, p.opts.RecentWindow)...)
	}
	dup := p.markSeen(c.Key)
	if blocked, why := candidateBlocked(c); blocked {
		return d.skip(skipInvalid + why)
	}
	if dup {
		return d.skip("the address is already exported for another NetBox object in this run")
	}

	if p.opts.ExcludeRecent && r != nil && !r.ExportedAt.IsZero() && p.opts.Now.Sub(r.ExportedAt) < p.opts.RecentWindow {
		return d.skip(fmt.Sprintf("exported recently (%s) and recent exports are excluded", r.ExportedAt.UTC().Format(time.RFC3339)))
	}

	// Our device is still in WUG: keep its metadata current. One the
	// removal put in maintenance (or a person kept) is still ours when its
	// object returns, unless another address has linked it since.
	back := r != nil && r.Status == store.StatusRemoved && r.WUGDeviceID != "" && !p.claimedByOther(r.WUGDeviceID, c.Key)
	if r != nil && r.WUGDeviceID != "" && (r.Status != store.StatusRemoved || back) && p.inv.Has(r.WUGDeviceID) {
		if dev, _ := p.inv.Device(r.WUGDeviceID); dev.Address.IsValid() {
			if conflict, ok := p.conflict(d, r.WUGDeviceID); ok {
				return conflict
			}
		}
		d.DeviceID = r.WUGDeviceID
		d.device = p.claim(r.WUGDeviceID, c.Key)
		switch {
		case d.device.Address.IsValid() && d.device.Address != c.Key.Address:
			return d.act(ActionReaddress, fmt.Sprintf("WUG device %s is at %s, not at the recorded address", r.WUGDeviceID, d.device.Address))
		case back:
			return d.act(ActionUpdate, fmt.Sprintf("back in the NetBox selection: WUG device %s, kept when it left, follows it again", r.WUGDeviceID))
		case (r.Status == store.StatusExported || r.Status == store.StatusScanCompleted) && r.Fingerprint == c.Fingerprint:
			return d.skip(skipUnchanged)
		case r.Fingerprint != c.Fingerprint:
			return d.act(ActionUpdate, "NetBox metadata changed since the last export")
		default:
			return d.act(ActionUpdate, fmt.Sprintf("the last attempt did not finish (record %s)", r.Status))
		}
	}
	if r != nil && r.Status == store.StatusScanTriggered {
		return d.skip(fmt.Sprintf("scan %s is in progress; the scan monitor follows it", r.ScanID))
	}
	if old, ok := p.moved(c); ok {
		return p.renumber(d, old)
	}

	// Look before adding: a WUG device that already has the address is
	// linked, never duplicated. This also resolves pending records of an
	// interrupted run.
	if id, ok := p.unclaimed(c.Key); ok {
		d.DeviceID = id
		d.device = p.claim(id, c.Key)
		why := fmt.Sprintf("WUG device %s already has this address", id)
		if r != nil && r.Status == store.StatusPending {
			why = fmt.Sprintf("an interrupted run left it pending and WUG device %s has the address", id)
		}
		return d.act(ActionAdopt, why)
	}

	d.taken = slices.Clone(p.inv.ByAddress(c.Key.Address))
	if p.opts.Scan {
		if r != nil && r.Status == store.StatusScanCompleted && !r.ScanDiscovered && r.Fingerprint == c.Fingerprint {
			return d.skip("the last scan found no device at this address")
		}
		return d.act(ActionScan, "discovery by scan is configured for this connection")
	}
	switch {
	case r != nil && r.WUGDeviceID != "" && r.Status != store.StatusRemoved:
		return d.act(ActionReAdd, fmt.Sprintf("recorded WUG device %s no longer exists", r.WUGDeviceID))
	case r != nil && r.Status == store.StatusPending:
		return d.act(ActionAdd, "an interrupted run left it pending and WUG has no device with this address")
	case r != nil && r.Status == store.StatusError:
		return d.act(ActionAdd, "retrying after the last attempt failed: "+r.LastError)
	}
	return d.act(ActionAdd, "new in the NetBox selection")
}

// unclaimed returns a WUG device with k's address that no other key is
// linked to.
func (p *planner) unclaimed(k store.Key) (string, bool) {
	for _, id := range p.inv.ByAddress(k.Address) {
		if !p.claimedByOther(id, k) {
			return id, true
		}
	}
	return "", false
}

func (d Decision) skip(reason string) Decision {
	d.Action, d.Reason = ActionSkip, reason
	return d
}

func (d Decision) act(a Action, reason string) Decision {
	d.Action, d.Reason = a, reason
	return d
}

// Removals returns the decisions for recorded addresses in the removal
// scope that this run did not see, in key order, and a plan-wide warning
// when the share cap held them back.
func (p *planner) Removals() (decisions []Decision, warning string) {
	if p.opts.RemovalScope == nil {
		return nil, ""
	}
	owned := 0
	var gone []store.Record
	for r := range p.recs.All() {
		if r.Status == store.StatusRemoved {
			continue
		}
		if r.WUGDeviceID != "" {
			owned++
		}
		if !p.recs.seen(r.Key) && p.opts.RemovalScope(r) {
			gone = append(gone, r)
		}
	}
	slices.SortFunc(gone, func(a, b store.Record) int { return a.Key.Compare(b.Key) })
	withDevice := 0
	for _, r := range gone {
		if r.WUGDeviceID != "" && p.inv.Has(r.WUGDeviceID) {
			withDevice++
		}
	}
	held := ""
	if p.opts.Removal != RemoveKeep && !p.opts.ForceRemove && float64(withDevice) > p.opts.MaxRemoveShare*float64(owned) {
		held = fmt.Sprintf("%d of our %d WUG devices are no longer selected, more than the %.0f%% a run may remove; nothing was removed (force the run to remove them)",
			withDevice, owned, 100*p.opts.MaxRemoveShare)
	}
	for _, r := range gone {
		rec := r
		d := Decision{Key: r.Key, record: &rec}
		if dev, ok := p.inv.Device(r.WUGDeviceID); ok && r.WUGDeviceID != "" {
			d.DeviceID, d.device = r.WUGDeviceID, dev
		}
		switch {
		case p.opts.Removal == RemoveKeep:
			d = d.skip("no longer selected in NetBox; kept by the removal policy")
		case held != "":
			d = d.skip("no longer selected in NetBox; removal held back by the share cap")
		case d.DeviceID == "":
			d = d.act(ActionRemove, "no longer selected in NetBox and WUG has no device for it")
		default:
			d = d.act(ActionRemove, fmt.Sprintf("no longer selected in NetBox; policy %s", p.opts.Removal))
		}
		decisions = append(decisions, d)
	}
	return decisions, held
}

// makePlan plans a whole export at once: candidates in NetBox order, the
// connection's records, and the WUG devices from one listing. It is the
// pure form of what exportJob does in chunks.
func makePlan(connection string, candidates []candidate, records []store.Record, devices []wugDevice, opts planOptions) *Plan {
	p := newPlanner(opts, newInventory(devices), recordSetOf(records...))
	plan := &Plan{Connection: connection, Decisions: make([]Decision, 0, len(candidates))}
	for i := range candidates {
		if i == 0 || candidates[i].Device != candidates[i-1].Device {
			j := i + 1
			for j < len(candidates) && candidates[j].Device == candidates[i].Device {
				j++
			}
			p.Object(candidates[i:j])
		}
		plan.Decisions = append(plan.Decisions, p.Decide(&candidates[i]))
	}
	removals, warn := p.Removals()
	plan.Decisions = append(plan.Decisions, removals...)
	if warn != "" {
		plan.Warnings = append(plan.Warnings, warn)
	}
	return plan
}
