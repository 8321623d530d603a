package netboxtest

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"
)

// ErrNotFound is returned (wrapped) by mutations of an object that does
// not exist.
var ErrNotFound = errors.New("netboxtest: not found")

// Ref names a catalog object.
type Ref struct {
	ID   int64
	Name string
	Slug string // empty for racks, VRFs and clusters
}

// Catalog lists the related objects devices can refer to.
type Catalog struct {
	Regions, Sites, Locations, Racks, Roles, Manufacturers, DeviceTypes,
	Platforms, Tenants, Tags, VRFs, Clusters []Ref
}

// Catalog returns the regions, sites, roles, tags and other related
// objects the fake holds.
func (h *Handler) Catalog() Catalog {
	h.mu.RLock()
	defer h.mu.RUnlock()
	refs := func(list []catEntry, slugs bool) []Ref {
		out := make([]Ref, len(list))
		for i, c := range list {
			out[i] = Ref{ID: c.id, Name: c.name}
			if slugs {
				out[i].Slug = c.slug
			}
		}
		return out
	}
	c := &h.cat
	return Catalog{Regions: refs(c.regions, true), Sites: refs(c.sites, true), Locations: refs(c.locations, true),
		Racks: refs(c.racks, false), Roles: refs(c.roles, true), Manufacturers: refs(c.manufacturers, true),
		DeviceTypes: refs(c.deviceTypes, true), Platforms: refs(c.platforms, true), Tenants: refs(c.tenants, true),
		Tags: refs(c.tags, true), VRFs: refs(c.vrfs, false), Clusters: refs(c.clusters, false)}
}

// Device returns the device with the given id.
func (h *Handler) Device(id int64) (Device, bool) { return h.getObj(h.devices, id) }

// VirtualMachine returns the virtual machine with the given id.
func (h *Handler) VirtualMachine(id int64) (Device, bool) { return h.getObj(h.vms, id) }

func (h *Handler) getObj(t *table[object], id int64) (Device, bool) {
	h.mu.RLock()
	defer h.mu.RUnlock()
	o := t.byID[id]
	if o == nil {
		return Device{}, false
	}
	return h.export(o), true
}

// Devices returns every device in id order.
func (h *Handler) Devices() []Device { return h.all(h.devices, 0) }

// VirtualMachines returns every virtual machine in id order.
func (h *Handler) VirtualMachines() []Device { return h.all(h.vms, 0) }

// Quirky returns the devices flagged with every bit of q, in id order.
func (h *Handler) Quirky(q Quirk) []Device { return h.all(h.devices, q) }

func (h *Handler) all(t *table[object], q Quirk) []Device {
	h.mu.RLock()
	defer h.mu.RUnlock()
	var out []Device
	for _, o := range t.rows {
		if o.quirks&q == q {
			out = append(out, h.export(o))
		}
	}
	return out
}

// IPAddress returns the IP address with the given id.
func (h *Handler) IPAddress(id int64) (IPAddress, bool) {
	h.mu.RLock()
	defer h.mu.RUnlock()
	ip := h.ips.byID[id]
	if ip == nil {
		return IPAddress{}, false
	}
	return h.exportIP(ip), true
}

// IPAddresses returns the addresses assigned to the interfaces of a
// device or, with vm, of a virtual machine, in id order.
func (h *Handler) IPAddresses(id int64, vm bool) []IPAddress {
	if vm {
		return h.ownedIPs(kindVM, id)
	}
	return h.ownedIPs(kindDevice, id)
}

func (h *Handler) ownedIPs(k kind, id int64) []IPAddress {
	h.mu.RLock()
	defer h.mu.RUnlock()
	var out []IPAddress
	for _, pos := range h.ips.index().post[ikey{f: fOwner, v: id, s: ownerTag(k)}] {
		out = append(out, h.exportIP(h.ips.rows[pos]))
	}
	return out
}

func (h *Handler) export(o *object) Device {
	name := func(list []catEntry, id int64) string {
		if c := get(list, id); c != nil {
			return c.name
		}
		return ""
	}
	slug := func(list []catEntry, id int64) string {
		if c := get(list, id); c != nil {
			return c.slug
		}
		return ""
	}
	d := Device{ID: o.id, Name: o.name, Site: slug(h.cat.sites, o.site), Location: slug(h.cat.locations, o.location),
		Rack: name(h.cat.racks, o.rack), Position: o.position, Role: slug(h.cat.roles, o.role),
		Tenant: slug(h.cat.tenants, o.tenant), Platform: slug(h.cat.platforms, o.platform),
		DeviceType: slug(h.cat.deviceTypes, o.devType), Cluster: name(h.cat.clusters, o.cluster),
		Status: o.status, Serial: o.serial, AssetTag: o.assetTag, Description: o.description, Comments: o.comments,
		PrimaryIP4: o.ip4, PrimaryIP6: o.ip6, OOBIP: o.oob, Created: fromMicros(o.created),
		LastUpdated: fromMicros(o.updated), Quirks: o.quirks}
	for _, t := range o.tags {
		d.Tags = append(d.Tags, get(h.cat.tags, t).slug)
	}
	d.CustomFields = map[string]any{}
	vm := h.vms.byID[o.id] == o
	for i, def := range h.cfs {
		if !def.on(vm) {
			continue
		}
		var v any
		if i < len(o.cf) {
			v = o.cf[i]
		}
		d.CustomFields[def.name] = v
	}
	return d
}

func (h *Handler) exportIP(ip *ipAddr) IPAddress {
	out := IPAddress{ID: ip.id, Address: ip.prefix, Status: ip.status, Role: ip.role, DNSName: ip.dnsName,
		Description: ip.description, Created: fromMicros(ip.created), LastUpdated: fromMicros(ip.updated)}
	if v := get(h.cat.vrfs, ip.vrf); v != nil {
		out.VRF = v.name
	}
	if t := get(h.cat.tenants, ip.tenant); t != nil {
		out.Tenant = t.slug
	}
	if i := h.ifaces.byID[ip.iface]; i != nil {
		out.Interface = i.name
	}
	switch ip.owner {
	case kindDevice:
		out.DeviceID = ip.ownerID
	case kindVM:
		out.VirtualMachineID = ip.ownerID
	}
	return out
}

// stamp returns a mutation time in Unix microseconds, strictly after the
// previous one.
func (h *Handler) stamp() int64 {
	us := h.cfg.now().UnixMicro()
	if us <= h.lastUS {
		us = h.lastUS + 1
	}
	h.lastUS = us
	return us
}

// ensure finds a catalog entry by slug (or name), creating it when missing.
func ensure(list *[]catEntry, key string, byName bool, parent int64, extra string) int64 {
	if key == "" {
		return 0
	}
	for _, c := range *list {
		if (byName && c.name == key) || (!byName && c.slug == key) {
			return c.id
		}
	}
	id := int64(len(*list) + 1)
	slug := key
	if byName {
		slug = strings.ToLower(strings.ReplaceAll(key, " ", "-"))
	}
	*list = append(*list, catEntry{id: id, name: key, slug: slug, parent: parent, extra: extra})
	return id
}

// fill validates d and copies it into o, creating missing related objects;
// on error the catalog and custom fields are left as they were.
func (h *Handler) fill(o *object, d Device, vm bool) (err error) {
	saved, cfs := h.cat, len(h.cfs)
	defer func() {
		if err != nil {
			h.cat.truncate(&saved)
			h.cfs = h.cfs[:cfs]
		}
	}()
	what := "device"
	if vm {
		what = "virtual machine"
	}
	switch {
	case vm && d.Name == "":
		return fmt.Errorf("netboxtest: %s: name is required", what)
	case utf8.RuneCountInString(d.Name) > 64:
		return fmt.Errorf("netboxtest: %s %q: name longer than 64 characters", what, d.Name)
	case len(d.Serial) > 50:
		return fmt.Errorf("netboxtest: %s %q: serial longer than 50 characters", what, d.Name)
	case len(d.AssetTag) > 50:
		return fmt.Errorf("netboxtest: %s %q: asset tag longer than 50 characters", what, d.Name)
	case utf8.RuneCountInString(d.Description) > 200:
		return fmt.Errorf("netboxtest: %s %q: description longer than 200 characters", what, d.Name)
	case d.Position < 0 || d.Position >= 1000:
		return fmt.Errorf("netboxtest: %s %q: position %v out of range", what, d.Name, d.Position)
	case d.Position > 0 && d.Rack == "":
		return fmt.Errorf("netboxtest: %s %q: a rack position needs a rack", what, d.Name)
	}
	status := d.Status
	if status == "" {
		status = "active"
	}
	labels := deviceStatusLabels
	if vm {
		labels = vmStatusLabels
	}
	if _, ok := labels[status]; !ok && status != customStatus {
		return fmt.Errorf("netboxtest: %s %q: unknown status %q", what, d.Name, status)
	}
	if d.AssetTag != "" {
		for _, x := range h.devices.rows {
			if x.assetTag == d.AssetTag && x.id != o.id && !vm {
				return fmt.Errorf("netboxtest: %s %q: asset tag %q already used by device %d", what, d.Name, d.AssetTag, x.id)
			}
		}
	}
	c := &h.cat
	o.name, o.status, o.serial, o.assetTag, o.description, o.comments = d.Name, status, d.Serial, d.AssetTag, d.Description, d.Comments
	o.site = ensure(&c.sites, d.Site, false, 1, "")
	o.cluster = ensure(&c.clusters, d.Cluster, true, max(o.site, 1), "")
	switch {
	case o.site != 0:
	case vm && o.cluster != 0:
		o.site = get(c.clusters, o.cluster).parent
	case !vm:
		o.site = 1
	}
	if vm {
		o.location, o.rack, o.position, o.devType = 0, 0, 0, 0
		o.role = ensure(&c.roles, d.Role, false, 0, "9e9e9e")
	} else {
		o.location = ensure(&c.locations, d.Location, false, o.site, "")
		if l := get(c.locations, o.location); l != nil && l.parent != o.site {
			return fmt.Errorf("netboxtest: device %q: location %q is not in site %q", d.Name, d.Location, d.Site)
		}
		if d.Rack != "" && o.location == 0 {
			return fmt.Errorf("netboxtest: device %q: rack %q needs a location", d.Name, d.Rack)
		}
		o.rack = ensure(&c.racks, d.Rack, true, o.location, "")
		if r := get(c.racks, o.rack); r != nil && r.parent != o.location {
			return fmt.Errorf("netboxtest: device %q: rack %q is not in location %q", d.Name, d.Rack, d.Location)
		}
		o.position = d.Position
		if o.rack == 0 {
			o.position = 0
		}
		o.role = 1
		if d.Role != "" {
			o.role = ensure(&c.roles, d.Role, false, 0, "9e9e9e")
		}
		o.devType = 1
		if d.DeviceType != "" {
			o.devType = ensure(&c.deviceTypes, d.DeviceType, false, 1, "")
		}
	}
	o.tenant = ensure(&c.tenants, d.Tenant, false, 0, "")
	o.platform = ensure(&c.platforms, d.Platform, false, 0, "")
	o.tags = o.tags[:0:0]
	for _, t := range d.Tags {
		o.tags = append(o.tags, ensure(&c.tags, t, false, 0, "9e9e9e"))
	}
	slices.Sort(o.tags)
	o.tags = slices.Compact(o.tags)
	cf := make([]any, len(h.cfs))
	copy(cf, o.cf)
	for name, v := range d.CustomFields {
		v, typ, err := cfValue(v)
		if err != nil {
			return fmt.Errorf("netboxtest: %s %q: custom field %q: %w", what, d.Name, name, err)
		}
		i := slices.IndexFunc(h.cfs, func(c cfDef) bool { return c.name == name })
		if i < 0 {
			h.cfs = append(h.cfs, cfDef{name: name, typ: typ, objects: otDevice | otVM, id: h.nextCFID(), uiEditable: "yes"})
			cf = append(cf, nil)
			i = len(h.cfs) - 1
		}
		cf[i] = v
	}
	o.cf = cf
	// Primary and out-of-band addresses must be this object's own.
	k := kindDevice
	if vm {
		k = kindVM
	}
	for _, p := range []struct {
		id   int64
		v4   bool
		what string
	}{{d.PrimaryIP4, true, "primary IPv4"}, {d.PrimaryIP6, false, "primary IPv6"}, {d.OOBIP, true, "out-of-band"}} {
		if p.id == 0 {
			continue
		}
		ip := h.ips.byID[p.id]
		switch {
		case ip == nil:
			return fmt.Errorf("netboxtest: %s %q: %s address %d: %w", what, d.Name, p.what, p.id, ErrNotFound)
		case ip.owner != k || ip.ownerID != o.id:
			return fmt.Errorf("netboxtest: %s %q: %s address %d is not assigned to it", what, d.Name, p.what, p.id)
		case p.what != "out-of-band" && ip.prefix.Addr().Is4() != p.v4:
			return fmt.Errorf("netboxtest: %s %q: %s address %d has the wrong family", what, d.Name, p.what, p.id)
		}
	}
	if vm && d.OOBIP != 0 {
		return fmt.Errorf("netboxtest: virtual machine %q: virtual machines have no out-of-band address", d.Name)
	}
	o.ip4, o.ip6, o.oob = d.PrimaryIP4, d.PrimaryIP6, d.OOBIP
	return nil
}

// cfValue normalizes a custom field value and infers its type.
func cfValue(v any) (any, cfType, error) {
	switch v := v.(type) {
	case nil:
		return nil, cfText, nil
	case string:
		return v, cfText, nil
	case bool:
		return v, cfBoolean, nil
	case int:
		return int64(v), cfInteger, nil
	case int32:
		return int64(v), cfInteger, nil
	case int64:
		return v, cfInteger, nil
	case float64:
		return v, cfDecimal, nil
	case []string:
		return slices.Clone(v), cfSelect, nil
	}
	return nil, 0, fmt.Errorf("unsupported value type %T", v)
}

// CreateDevice stores a new device and returns it with its id. Primary
// addresses cannot be set yet: add them with [Handler.CreateIP] and
// MakePrimary. Fires a "created" webhook when one is configured.
func (h *Handler) CreateDevice(d Device) (Device, error) { return h.create(h.devices, d, false) }

// CreateVirtualMachine stores a new virtual machine (see CreateDevice).
func (h *Handler) CreateVirtualMachine(d Device) (Device, error) { return h.create(h.vms, d, true) }

func (h *Handler) create(t *table[object], d Device, vm bool) (Device, error) {
	var out Device
	err := h.mutate(func() (*hookEvent, error) {
		o := &object{id: t.nextID}
		if err := h.fill(o, d, vm); err != nil {
			return nil, err
		}
		o.created = h.stamp()
		o.updated = o.created
		t.add(o)
		out = h.export(o)
		return &hookEvent{event: "created", vm: vm, obj: o}, nil
	})
	return out, err
}

// UpdateDevice changes a device through fn and bumps its last_updated.
// Fires an "updated" webhook with pre- and post-change snapshots. fn runs
// with the fake locked and must not call the Handler.
func (h *Handler) UpdateDevice(id int64, fn func(*Device)) (Device, error) {
	return h.update(h.devices, id, fn, false)
}

// UpdateVirtualMachine changes a virtual machine (see UpdateDevice).
func (h *Handler) UpdateVirtualMachine(id int64, fn func(*Device)) (Device, error) {
	return h.update(h.vms, id, fn, true)
}

func (h *Handler) update(t *table[object], id int64, fn func(*Device), vm bool) (Device, error) {
	var out Device
	err := h.mutate(func() (*hookEvent, error) {
		o := t.byID[id]
		if o == nil {
			return nil, fmt.Errorf("netboxtest: update %s %d: %w", objWord(vm), id, ErrNotFound)
		}
		d := h.export(o)
		fn(&d)
		pre := h.snapshot(o, vm)
		n := *o
		if err := h.fill(&n, d, vm); err != nil {
			return nil, err
		}
		n.id, n.created, n.quirks = o.id, o.created, o.quirks
		n.updated = h.stamp()
		*o = n
		t.changed()
		out = h.export(o)
		return &hookEvent{event: "updated", vm: vm, obj: o, pre: pre}, nil
	})
	return out, err
}

// DeleteDevice removes a device with its interfaces and their addresses,
// as NetBox cascades. Fires a "deleted" webhook.
func (h *Handler) DeleteDevice(id int64) error { return h.delete(h.devices, id, false) }

// DeleteVirtualMachine removes a virtual machine (see DeleteDevice).
func (h *Handler) DeleteVirtualMachine(id int64) error { return h.delete(h.vms, id, true) }

func (h *Handler) delete(t *table[object], id int64, vm bool) error {
	return h.mutate(func() (*hookEvent, error) {
		o := t.byID[id]
		if o == nil {
			return nil, fmt.Errorf("netboxtest: delete %s %d: %w", objWord(vm), id, ErrNotFound)
		}
		ev := &hookEvent{event: "deleted", vm: vm, obj: o, pre: h.snapshot(o, vm)}
		// Render the last state before the interfaces and addresses go.
		ev.data = h.hookData(o, vm)
		k := kindDevice
		if vm {
			k = kindVM
		}
		tag := ownerTag(k)
		for _, pos := range slices.Clone(h.ips.index().post[ikey{f: fOwner, v: id, s: tag}]) {
			h.ips.remove(h.ips.rows[pos].id)
		}
		var ifaceIDs []int64
		for _, pos := range h.ifaces.index().post[ikey{f: fOwner, v: id, s: tag}] {
			ifaceIDs = append(ifaceIDs, h.ifaces.rows[pos].id)
		}
		for _, iid := range ifaceIDs {
			h.ifaces.remove(iid)
		}
		t.remove(id)
		return ev, nil
	})
}

func objWord(vm bool) string {
	if vm {
		return "virtual machine"
	}
	return "device"
}

// CreateIP stores a new IP address, creating the named interface on its
// device or VM when missing. With MakePrimary or MakeOOB it also becomes
// that device's primary or out-of-band address, which updates the device
// (and fires its "updated" webhook).
func (h *Handler) CreateIP(ip IPAddress) (IPAddress, error) {
	var out IPAddress
	err := h.mutate(func() (*hookEvent, error) {
		n := &ipAddr{id: h.ips.nextID}
		if err := h.fillIP(n, ip); err != nil {
			return nil, err
		}
		if (ip.MakePrimary || ip.MakeOOB) && n.owner == kindNone {
			return nil, fmt.Errorf("netboxtest: IP %s: MakePrimary/MakeOOB need a device or VM", ip.Address)
		}
		if ip.MakeOOB && n.owner != kindDevice {
			return nil, fmt.Errorf("netboxtest: IP %s: MakeOOB needs a device", ip.Address)
		}
		n.created = h.stamp()
		n.updated = n.created
		h.ips.add(n)
		out = h.exportIP(n)
		if !ip.MakePrimary && !ip.MakeOOB {
			return nil, nil
		}
		vm := n.owner == kindVM
		t := h.devices
		if vm {
			t = h.vms
		}
		o := t.byID[n.ownerID]
		pre := h.snapshot(o, vm)
		switch {
		case ip.MakeOOB:
			o.oob = n.id
		case n.prefix.Addr().Is4():
			o.ip4 = n.id
		default:
			o.ip6 = n.id
		}
		o.updated = h.stamp()
		t.changed()
		return &hookEvent{event: "updated", vm: vm, obj: o, pre: pre}, nil
	})
	return out, err
}

// UpdateIP changes an IP address through fn and bumps its last_updated.
// An address that is a primary or out-of-band address cannot move to
// another object. fn runs with the fake locked and must not call the
// Handler.
func (h *Handler) UpdateIP(id int64, fn func(*IPAddress)) (IPAddress, error) {
	var out IPAddress
	err := h.mutate(func() (*hookEvent, error) {
		cur := h.ips.byID[id]
		if cur == nil {
			return nil, fmt.Errorf("netboxtest: update IP address %d: %w", id, ErrNotFound)
		}
		ip := h.exportIP(cur)
		fn(&ip)
		n := *cur
		if err := h.fillIP(&n, ip); err != nil {
			return nil, err
		}
		if o := h.holder(cur); o != nil && (n.owner != cur.owner || n.ownerID != cur.ownerID ||
			(o.oob != id && n.prefix.Addr().Is4() != cur.prefix.Addr().Is4())) {
			return nil, fmt.Errorf("netboxtest: update IP address %d: it is a primary or out-of-band address of %s %d; unset that first",
				id, objWord(cur.owner == kindVM), cur.ownerID)
		}
		n.id, n.created = cur.id, cur.created
		n.updated = h.stamp()
		*cur = n
		h.ips.changed()
		out = h.exportIP(cur)
		return nil, nil
	})
	return out, err
}

// holder returns the device or VM that uses ip as a primary or out-of-band
// address.
func (h *Handler) holder(ip *ipAddr) *object {
	t := h.devices
	if ip.owner == kindVM {
		t = h.vms
	}
	if o := t.byID[ip.ownerID]; o != nil && (o.ip4 == ip.id || o.ip6 == ip.id || o.oob == ip.id) {
		return o
	}
	return nil
}

// DeleteIP removes an IP address. A device or VM that used it as a primary
// or out-of-band address loses it without a change to its last_updated, as
// NetBox's SET_NULL does.
func (h *Handler) DeleteIP(id int64) error {
	return h.mutate(func() (*hookEvent, error) {
		ip := h.ips.byID[id]
		if ip == nil {
			return nil, fmt.Errorf("netboxtest: delete IP address %d: %w", id, ErrNotFound)
		}
		if o := h.holder(ip); o != nil {
			for _, f := range []*int64{&o.ip4, &o.ip6, &o.oob} {
				if *f == id {
					*f = 0
				}
			}
			h.devices.changed()
			h.vms.changed()
		}
		h.ips.remove(id)
		return nil, nil
	})
}

func (h *Handler) fillIP(n *ipAddr, ip IPAddress) error {
	if !ip.Address.IsValid() {
		return fmt.Errorf("netboxtest: IP address: invalid address %v", ip.Address)
	}
	if ip.DeviceID != 0 && ip.VirtualMachineID != 0 {
		return fmt.Errorf("netboxtest: IP %s: assign it to a device or a VM, not both", ip.Address)
	}
	status := ip.Status
	if status == "" {
		status = "active"
	}
	if _, ok := ipStatusLabels[status]; !ok {
		return fmt.Errorf("netboxtest: IP %s: unknown status %q", ip.Address, status)
	}
	if _, ok := ipRoleLabels[ip.Role]; !ok && ip.Role != "" {
		return fmt.Errorf("netboxtest: IP %s: unknown role %q", ip.Address, ip.Role)
	}
	if len(ip.DNSName) > 255 {
		return fmt.Errorf("netboxtest: IP %s: DNS name longer than 255 characters", ip.Address)
	}
	n.prefix, n.status, n.role, n.dnsName, n.description = ip.Address, status, ip.Role, ip.DNSName, ip.Description
	n.vrf = ensure(&h.cat.vrfs, ip.VRF, true, 0, "")
	n.tenant = ensure(&h.cat.tenants, ip.Tenant, false, 0, "")
	n.owner, n.ownerID, n.iface = kindNone, 0, 0
	owner, ownerID, typ := kindDevice, ip.DeviceID, "1000base-t"
	if ip.VirtualMachineID != 0 {
		owner, ownerID, typ = kindVM, ip.VirtualMachineID, "virtual"
	}
	if ownerID == 0 {
		return nil
	}
	t := h.devices
	if owner == kindVM {
		t = h.vms
	}
	if t.byID[ownerID] == nil {
		return fmt.Errorf("netboxtest: IP %s: %s %d: %w", ip.Address, objWord(owner == kindVM), ownerID, ErrNotFound)
	}
	name := ip.Interface
	if name == "" {
		name = "eth0"
	}
	n.owner, n.ownerID = owner, ownerID
	for _, pos := range h.ifaces.index().post[ikey{f: fOwner, v: ownerID, s: ownerTag(owner)}] {
		if i := h.ifaces.rows[pos]; i.name == name {
			n.iface = i.id
			return nil
		}
	}
	stamp := h.stamp()
	i := &iface{id: h.ifaces.nextID, owner: owner, ownerID: ownerID, name: name, typ: typ, created: stamp, updated: stamp}
	h.ifaces.add(i)
	n.iface = i.id
	return nil
}
