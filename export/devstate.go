package export

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/wugsync/wugsync/netbox"
	"github.com/wugsync/wugsync/store"
	"github.com/wugsync/wugsync/wug"
)

// defaultMaintenanceStatuses are the NetBox statuses whose devices are in
// WUG maintenance when the mapping does not say otherwise.
var defaultMaintenanceStatuses = []string{"offline", "planned", "staged", "failed", "decommissioning"}

// maxMaintenanceReason is WUG's limit on a maintenance reason (characters).
const maxMaintenanceReason = 250

// statePolicy is the compiled part of a Mapping that says which WUG OS
// role, brand role and maintenance mode a device should have.
type statePolicy struct {
	osRoles, brandRoles map[string]string // lower-case platform (manufacturer) slug or name to role
	maintenance         map[string]bool   // lower-case status value or label to in maintenance
	osHook, brandHook   bool              // Mapping.OS (Brand) chooses the role
}

// newStatePolicy compiles m's role and maintenance mappings. A role map
// entry with an empty key or role name, or a maintenance entry with an
// empty status, is an error.
func newStatePolicy(m Mapping) (statePolicy, error) {
	p := statePolicy{osHook: m.OS != nil, brandHook: m.Brand != nil,
		osRoles: map[string]string{}, brandRoles: map[string]string{}, maintenance: map[string]bool{}}
	for _, x := range []struct {
		what string
		from map[string]string
		to   map[string]string
	}{{"OS", m.OSRoles, p.osRoles}, {"brand", m.BrandRoles, p.brandRoles}} {
		for k, role := range x.from {
			k, role = strings.TrimSpace(k), cleanText(role)
			if k == "" || role == "" {
				return statePolicy{}, fmt.Errorf("export: mapping: %s roles: %q to %q: want a NetBox slug or name and a WUG role name", x.what, k, role)
			}
			x.to[strings.ToLower(k)] = role
		}
	}
	for _, s := range defaultMaintenanceStatuses {
		p.maintenance[s] = true
	}
	for s, on := range m.Maintenance {
		if s = strings.TrimSpace(s); s == "" {
			return statePolicy{}, errors.New("export: mapping: maintenance: a status is empty")
		}
		p.maintenance[strings.ToLower(s)] = on
	}
	return p, nil
}

// mapped returns the role roles gives r (by slug, then name), if any.
func mapped(roles map[string]string, r netbox.Ref) (string, bool) {
	for _, k := range []string{r.Slug, r.Name} {
		if role, ok := roles[strings.ToLower(strings.TrimSpace(k))]; ok && k != "" {
			return role, true
		}
	}
	return "", false
}

// os is the default OS role of s: its platform as OSRoles maps it, else
// the platform's name.
func (p *statePolicy) os(s Source) string {
	if role, ok := mapped(p.osRoles, s.Device.Platform); ok {
		return role
	}
	return refText(s.Device.Platform)
}

// brand is the default brand role of s: its manufacturer as BrandRoles
// maps it, else the manufacturer's name.
func (p *statePolicy) brand(s Source) string {
	if role, ok := mapped(p.brandRoles, s.Device.Manufacturer); ok {
		return role
	}
	return refText(s.Device.Manufacturer)
}

// inMaintenance reports whether d's status (its value, else its label)
// puts it in WUG maintenance.
func (p *statePolicy) inMaintenance(d *netbox.Device) bool {
	for _, s := range []string{d.Status, d.StatusLabel} {
		if on, ok := p.maintenance[strings.ToLower(strings.TrimSpace(s))]; ok && s != "" {
			return on
		}
	}
	return false
}

// rolesFor reports whether the mapping chooses d's OS and brand roles
// itself (a hook, or a map entry for its platform or manufacturer), which
// is what allows writing them on a device wugsync adopted.
func (p *statePolicy) rolesFor(d *netbox.Device) (os, brand bool) {
	_, osMapped := mapped(p.osRoles, d.Platform)
	_, brandMapped := mapped(p.brandRoles, d.Manufacturer)
	return p.osHook || osMapped, p.brandHook || brandMapped
}

// maintenanceReason is the reason wugsync gives WUG for putting a device
// in maintenance.
func maintenanceReason(d *netbox.Device) string {
	r, _ := truncate(fmt.Sprintf("NetBox status %q (wugsync)", cmp.Or(cleanText(d.StatusLabel), cleanText(d.Status))), maxMaintenanceReason)
	return r
}

// reasonOutOfMaintenance is the reason sent when wugsync ends the
// maintenance it started.
const reasonOutOfMaintenance = "NetBox status no longer calls for maintenance (wugsync)"

// stateChange is what one device needs: roles to assign ("" for none) and
// a maintenance mode, set when it changes.
type stateChange struct {
	rec         store.Record // as last recorded; its Written gets what is written
	os, brand   string
	maintenance *bool
	reason      string
	errs        []error
}

// stateSync gathers over a run the devices wugsync manages whose OS role,
// brand role or maintenance mode differ from what it last wrote
// (store.Written), and writes them once the run's other writes are done,
// in as few requests as WUG's contract allows: one per distinct role name
// (PATCH /devices/-/roles/{os|brand}) and one per maintenance reason
// (PATCH /devices/-/config/maintenance). Every request is idempotent, so
// a run that ends before recording them sends them again next time.
type stateSync struct {
	p       *statePolicy
	removal RemovalPolicy

	mu      sync.Mutex
	changes map[store.Key]*stateChange
	// relinked is what the planner's record said wugsync last wrote to
	// a device of its own that an adopt links again (a removed object
	// that came back), since the adopt starts its record afresh.
	relinked map[store.Key]store.Written
}

func newStateSync(p *statePolicy, removal RemovalPolicy) *stateSync {
	if p == nil {
		def, _ := newStatePolicy(Mapping{}) // the zero Mapping compiles
		p = &def
	}
	return &stateSync{p: p, removal: removal, changes: map[store.Key]*stateChange{}, relinked: map[store.Key]store.Written{}}
}

// planned sees each decision as the executor receives it: an unchanged
// device is compared at once, and an adopt of wugsync's own device keeps
// what was last written to it.
func (s *stateSync) planned(d *Decision) {
	switch {
	case d.Action == ActionSkip && d.Reason == skipUnchanged && d.record != nil && d.candidate != nil && d.DeviceID != "":
		s.observe(*d.record, d.candidate)
	case d.Action == ActionAdopt && d.record != nil && d.record.WUGDeviceID == d.DeviceID && d.DeviceID != "":
		s.mu.Lock()
		s.relinked[d.Key] = d.record.Written
		s.mu.Unlock()
	}
}

// settle completes the record finish writes for o: it keeps the roles and
// maintenance wugsync last wrote (a template apply writes the template's
// OS and brand; a removal into maintenance records it) and queues the
// device when they are not what the candidate wants.
func (s *stateSync) settle(r *store.Record, o *outcome) {
	s.mu.Lock()
	delete(s.changes, r.Key)
	prior, relinked := s.relinked[r.Key]
	delete(s.relinked, r.Key)
	s.mu.Unlock()
	if o.err != nil {
		return
	}
	if o.removed {
		r.Written.Maintenance = r.Written.Maintenance || (s.removal == RemoveMaintenance && o.d.DeviceID != "")
		return
	}
	c := o.d.candidate
	if r.Status != store.StatusExported || r.WUGDeviceID == "" || c == nil {
		return
	}
	switch {
	case o.d.Action == ActionAdd || o.d.Action == ActionReAdd:
		prior = store.Written{OSRole: c.Template.OS, BrandRole: c.Template.Brand}
	case o.d.Action == ActionAdopt && !relinked:
		prior = store.Written{}
	case !relinked && o.d.record != nil:
		prior = o.d.record.Written
	}
	r.Written.OSRole, r.Written.BrandRole, r.Written.Maintenance = prior.OSRole, prior.BrandRole, prior.Maintenance
	s.observe(*r, c)
}

// observe queues rec's device when c wants other roles or another
// maintenance mode than rec says were written. On a device wugsync adopted,
// or one a WUG scan discovered (whose roles came from the device itself),
// roles are written only when the mapping chooses them.
func (s *stateSync) observe(rec store.Record, c *candidate) {
	ch := &stateChange{}
	osOK, brandOK := true, true
	if rec.Adopted || rec.ScanDiscovered {
		osOK, brandOK = s.p.rolesFor(c.Device)
	}
	if t := &c.Template; osOK && t.OS != "" && t.OS != rec.Written.OSRole {
		ch.os = t.OS
	}
	if t := &c.Template; brandOK && t.Brand != "" && t.Brand != rec.Written.BrandRole {
		ch.brand = t.Brand
	}
	if on := s.p.inMaintenance(c.Device); on != rec.Written.Maintenance {
		ch.maintenance, ch.reason = &on, reasonOutOfMaintenance
		if on {
			ch.reason = maintenanceReason(c.Device)
		}
	}
	if ch.os == "" && ch.brand == "" && ch.maintenance == nil {
		return
	}
	ch.rec = rec
	s.mu.Lock()
	s.changes[rec.Key] = ch
	s.mu.Unlock()
}

// stateRequest is one request of apply: the devices it covers and how it
// records its success on a change.
type stateRequest struct {
	what string
	ids  []string
	send func(ctx context.Context, ids []string) error
	done func(ch *stateChange)
}

// apply sends the queued changes, records what was written in one store
// write, and reports each device whose change failed (its record keeps
// the old values, so the next run tries again). It does nothing once the
// run's context has ended.
func (s *stateSync) apply(ctx context.Context, w wugAPI, st store.Store, col *collector, log *slog.Logger) {
	s.mu.Lock()
	changes := s.changes
	s.changes = map[store.Key]*stateChange{}
	s.mu.Unlock()
	if len(changes) == 0 || ctx.Err() != nil {
		return
	}
	byDevice := make(map[string]*stateChange, len(changes))
	for _, ch := range changes {
		byDevice[ch.rec.WUGDeviceID] = ch
	}
	for _, req := range s.requests(changes, w) {
		if ctx.Err() != nil {
			return // nothing recorded: the next run sends them again
		}
		slices.Sort(req.ids)
		err := req.send(ctx, req.ids)
		failed := failedDevices(err, req.ids)
		for _, id := range req.ids {
			ch := byDevice[id]
			if failed[id] {
				ch.errs = append(ch.errs, fmt.Errorf("%s: %w", req.what, err))
			} else {
				req.done(ch)
			}
		}
	}
	recs := make([]store.Record, 0, len(changes))
	for _, ch := range changes {
		recs = append(recs, ch.rec)
	}
	slices.SortFunc(recs, func(a, b store.Record) int { return a.Key.Compare(b.Key) })
	for i := range recs {
		if ch := changes[recs[i].Key]; len(ch.errs) > 0 {
			col.stateFailed(&recs[i], errors.Join(ch.errs...))
		}
	}
	if err := st.UpsertRecords(context.WithoutCancel(ctx), recs); err != nil {
		col.warn("recording the roles and maintenance written to %d WUG devices failed (the next run writes them again): %v", len(recs), err)
		log.Warn("export: recording roles and maintenance failed", "devices", len(recs), "err", err)
	}
}

// requests groups the changes into requests: one per OS role name, one per
// brand role name, one per maintenance reason, in a stable order.
func (s *stateSync) requests(changes map[store.Key]*stateChange, w wugAPI) []stateRequest {
	type group struct {
		kind wug.RoleKind
		name string
		on   bool
	}
	ids := map[group][]string{}
	for _, ch := range changes {
		add := func(g group) { ids[g] = append(ids[g], ch.rec.WUGDeviceID) }
		if ch.os != "" {
			add(group{kind: wug.RoleOS, name: ch.os})
		}
		if ch.brand != "" {
			add(group{kind: wug.RoleBrand, name: ch.brand})
		}
		if ch.maintenance != nil {
			add(group{name: ch.reason, on: *ch.maintenance})
		}
	}
	groups := make([]group, 0, len(ids))
	for g := range ids {
		groups = append(groups, g)
	}
	slices.SortFunc(groups, func(a, b group) int {
		return cmp.Or(cmp.Compare(a.kind, b.kind), cmp.Compare(a.name, b.name), compareBool(a.on, b.on))
	})
	out := make([]stateRequest, 0, len(groups))
	for _, g := range groups {
		req := stateRequest{ids: ids[g]}
		switch g.kind {
		case wug.RoleOS, wug.RoleBrand:
			req.what = fmt.Sprintf("assigning WUG %s role %q", map[wug.RoleKind]string{wug.RoleOS: "OS", wug.RoleBrand: "brand"}[g.kind], g.name)
			req.send = func(ctx context.Context, ids []string) error { return w.AssignRole(ctx, g.kind, g.name, ids) }
			req.done = func(ch *stateChange) {
				if g.kind == wug.RoleOS {
					ch.rec.Written.OSRole = g.name
				} else {
					ch.rec.Written.BrandRole = g.name
				}
			}
		default:
			req.what = "taking the device out of WUG maintenance"
			if g.on {
				req.what = "putting the device in WUG maintenance (" + g.name + ")"
			}
			req.send = func(ctx context.Context, ids []string) error {
				return w.SetMaintenance(ctx, ids, g.on, g.name, time.Time{})
			}
			req.done = func(ch *stateChange) { ch.rec.Written.Maintenance = g.on }
		}
		out = append(out, req)
	}
	return out
}

func compareBool(a, b bool) int {
	switch {
	case a == b:
		return 0
	case b:
		return -1
	}
	return 1
}

// failedDevices returns the devices of ids that a request ending in err
// did not change: those WUG's answer names as failed or not allowed, or
// all of them when it names none.
func failedDevices(err error, ids []string) map[string]bool {
	if err == nil {
		return nil
	}
	out := map[string]bool{}
	var re *wug.ResultError
	if errors.As(err, &re) && len(re.Failed)+len(re.NotAllowed) > 0 {
		for _, id := range append(slices.Clone(re.Failed), re.NotAllowed...) {
			out[id] = true
		}
		return out
	}
	for _, id := range ids {
		out[id] = true
	}
	return out
}

// stateFailed reports a device whose roles or maintenance could not be
// written; its metadata outcome, if any, stands.
func (c *collector) stateFailed(r *store.Record, err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.counts.Failed++
	c.outcomes = append(c.outcomes, Outcome{Kind: OutcomeFailed, Key: r.Key, ObjectKind: r.ObjectKind, ObjectID: r.ObjectID,
		ObjectName: r.ObjectName, Action: ActionUpdate, Status: r.Status, DeviceID: r.WUGDeviceID, Error: err.Error()})
}

// AssignRole gives devices one role of kind in one request
// (PATCH /api/v1/devices/-/roles/{primary|os|brand}).
func (a *wugClientAPI) AssignRole(ctx context.Context, kind wug.RoleKind, name string, ids []string) error {
	_, err := a.c.Devices.AssignRole(ctx, kind, name, ids)
	return err
}
