package netboxtest

import (
	"maps"
	"slices"
	"strconv"
)

// API paths of the object types the fake renders.
const (
	pRegions       = "/api/dcim/regions/"
	pSites         = "/api/dcim/sites/"
	pLocations     = "/api/dcim/locations/"
	pRacks         = "/api/dcim/racks/"
	pRoles         = "/api/dcim/device-roles/"
	pManufacturers = "/api/dcim/manufacturers/"
	pDeviceTypes   = "/api/dcim/device-types/"
	pPlatforms     = "/api/dcim/platforms/"
	pTenants       = "/api/tenancy/tenants/"
	pTags          = "/api/extras/tags/"
	pVRFs          = "/api/ipam/vrfs/"
	pClusters      = "/api/virtualization/clusters/"
	pDevices       = "/api/dcim/devices/"
	pVMs           = "/api/virtualization/virtual-machines/"
	pIPs           = "/api/ipam/ip-addresses/"
	pInterfaces    = "/api/dcim/interfaces/"
	pVMInterfaces  = "/api/virtualization/interfaces/"
)

// view says how to render objects for one request.
type view struct {
	base   string          // scheme://host for absolute URLs; "" for webhook bodies (relative URLs)
	brief  bool            // brief=…
	only   map[string]bool // fields=…
	config bool            // include config_context
}

// uiURL writes the UI URL matching an API path ("/api/dcim/…" → "/dcim/…").
func (e *enc) uiURL(base, apiPath string, id int64) { e.url(base, apiPath[len("/api"):], id) }

// head opens a full object and writes the keys every one starts with:
// id, url, display_url and display.
func (e *enc) head(v view, path string, id int64, display string) {
	e.open()
	if e.tk("id") {
		e.int(id)
	}
	if e.tk("url") {
		e.url(v.base, path, id)
	}
	if e.tk("display_url") {
		e.uiURL(v.base, path, id)
	}
	if e.tk("display") {
		e.str(display)
	}
}

// untagged writes tags and custom_fields empty, as the fake keeps neither
// on this object type, and the created and last_updated stamps.
func (e *enc) untagged(created, updated int64) {
	if e.tk("tags") {
		e.raw("[]")
	}
	if e.tk("custom_fields") {
		e.raw("{}")
	}
	if e.tk("created") {
		e.time(created)
	}
	if e.tk("last_updated") {
		e.time(updated)
	}
}

// nulls writes null for each of keys the view asks for.
func (e *enc) nulls(keys ...string) {
	for _, k := range keys {
		if e.tk(k) {
			e.null()
		}
	}
}

// briefHead opens a brief object and writes the keys every one starts
// with: id, url and display.
func (e *enc) briefHead(v view, path string, id int64, display string) {
	e.open()
	e.k("id")
	e.int(id)
	e.k("url")
	e.url(v.base, path, id)
	e.k("display")
	e.str(display)
}

// refHead writes a brief related object with the common leading keys.
func (e *enc) refHead(v view, path string, c *catEntry) {
	e.briefHead(v, path, c.id, c.name)
	e.k("name")
	e.str(c.name)
}

// slugRef writes a brief object with a slug (site, tenant, platform,
// manufacturer), or null.
func (e *enc) slugRef(v view, path string, c *catEntry) {
	if c == nil {
		e.null()
		return
	}
	e.refHead(v, path, c)
	e.k("slug")
	e.str(c.slug)
	e.k("description")
	e.str("")
	e.close()
}

// treeRef writes a brief nested-set object (role, region, location).
func (e *enc) treeRef(v view, path string, c *catEntry, rackCount bool) {
	if c == nil {
		e.null()
		return
	}
	e.refHead(v, path, c)
	e.k("slug")
	e.str(c.slug)
	e.k("description")
	e.str("")
	if rackCount {
		e.k("rack_count")
		e.int(0)
	}
	e.k("_depth")
	e.int(0)
	e.close()
}

// nameRef writes a brief object without a slug (rack, cluster), or null.
func (e *enc) nameRef(v view, path string, c *catEntry) {
	if c == nil {
		e.null()
		return
	}
	e.refHead(v, path, c)
	e.k("description")
	e.str("")
	e.close()
}

func (e *enc) vrfRef(v view, c *catEntry) {
	if c == nil {
		e.null()
		return
	}
	e.refHead(v, pVRFs, c)
	e.k("rd")
	e.nstr(c.extra)
	e.k("description")
	e.str("")
	e.close()
}

func (h *Handler) deviceTypeRef(e *enc, v view, c *catEntry) {
	e.briefHead(v, pDeviceTypes, c.id, c.name)
	e.k("manufacturer")
	e.slugRef(v, pManufacturers, get(h.cat.manufacturers, c.parent))
	e.k("model")
	e.str(c.name)
	e.k("slug")
	e.str(c.slug)
	e.k("description")
	e.str("")
	e.close()
}

func (h *Handler) tagList(e *enc, v view, tags []int64) {
	e.openA()
	for _, id := range tags {
		t := get(h.cat.tags, id)
		e.open()
		e.k("id")
		e.int(t.id)
		e.k("url")
		e.url(v.base, pTags, t.id)
		e.k("display_url")
		e.uiURL(v.base, pTags, t.id)
		e.k("display")
		e.str(t.name)
		e.k("name")
		e.str(t.name)
		e.k("slug")
		e.str(t.slug)
		e.k("color")
		e.str(t.extra)
		e.close()
	}
	e.closeA()
}

// customFields writes the values of the custom fields enabled for devices
// (or VMs, with vm); unset ones are null.
func (h *Handler) customFields(e *enc, vals []any, vm bool) {
	e.open()
	for i, d := range h.cfs {
		if !d.on(vm) {
			continue
		}
		e.k(d.name)
		if i < len(vals) {
			e.any(vals[i])
		} else {
			e.null()
		}
	}
	e.close()
}

// family writes an address's family as {"value": 4, "label": "IPv4"}.
func (e *enc) family(ip *ipAddr) {
	value, label := int64(6), "IPv6"
	if ip.prefix.Addr().Is4() {
		value, label = 4, "IPv4"
	}
	e.open()
	e.k("value")
	e.int(value)
	e.k("label")
	e.str(label)
	e.close()
}

// briefIP writes a BriefIPAddress (primary_ip4 …), or null.
func (h *Handler) briefIP(e *enc, v view, id int64) {
	ip := h.ips.byID[id]
	if ip == nil {
		e.null()
		return
	}
	e.open()
	e.k("id")
	e.int(ip.id)
	e.k("url")
	e.url(v.base, pIPs, ip.id)
	e.k("display")
	e.address(ip)
	e.k("family")
	e.family(ip)
	e.k("address")
	e.address(ip)
	e.k("description")
	e.str(ip.description)
	e.close()
}

// display is a device's display text: its name, else
// "<Manufacturer> <Model> (<asset tag or id>)".
func (h *Handler) display(o *object, vm bool) string {
	if o.name != "" || vm {
		return o.name
	}
	dt := get(h.cat.deviceTypes, o.devType)
	m := get(h.cat.manufacturers, dt.parent)
	tag := o.assetTag
	if tag == "" {
		tag = strconv.FormatInt(o.id, 10)
	}
	return m.name + " " + dt.name + " (" + tag + ")"
}

// briefObject writes the brief form of a device or VM (brief=1, the device
// inside an interface or IP).
func (h *Handler) briefObject(e *enc, v view, o *object, vm bool) {
	path := pDevices
	if vm {
		path = pVMs
	}
	e.briefHead(v, path, o.id, h.display(o, vm))
	e.k("name")
	e.nstr(o.name)
	e.k("description")
	e.str(o.description)
	e.close()
}

// object writes a device (or, with vm, a virtual machine) as
// /api/dcim/devices/ (/api/virtualization/virtual-machines/) does, in
// NetBox's key order for the kind.
func (h *Handler) object(e *enc, v view, o *object, vm bool) {
	if v.brief && v.only == nil {
		h.briefObject(e, v, o, vm)
		return
	}
	path := pDevices
	if vm {
		path = pVMs
	}
	site := get(h.cat.sites, o.site)
	e.head(v, path, o.id, h.display(o, vm))
	if e.tk("name") {
		e.nstr(o.name)
	}
	if vm {
		h.vmFields(e, v, o, site)
	} else {
		h.deviceFields(e, v, o, site)
	}
	if e.tk("description") {
		e.str(o.description)
	}
	if e.tk("comments") {
		e.str(o.comments)
	}
	if e.tk("config_template") {
		e.null()
	}
	if !vm && v.config && e.tk("config_context") {
		h.configContext(e, site)
	}
	if e.tk("local_context_data") {
		e.null()
	}
	if e.tk("tags") {
		h.tagList(e, v, o.tags)
	}
	if e.tk("custom_fields") {
		h.customFields(e, o.cf, vm)
	}
	if vm && v.config && e.tk("config_context") {
		h.configContext(e, site)
	}
	if e.tk("created") {
		e.time(o.created)
	}
	if e.tk("last_updated") {
		e.time(o.updated)
	}
	for _, c := range h.objectCounts(o, vm) {
		if e.tk(c.key) {
			e.int(c.n)
		}
	}
	e.close()
}

// deviceFields writes the fields only devices have, from device_type to
// vc_priority.
func (h *Handler) deviceFields(e *enc, v view, o *object, site *catEntry) {
	if e.tk("device_type") {
		h.deviceTypeRef(e, v, get(h.cat.deviceTypes, o.devType))
	}
	h.roleTenantPlatform(e, v, o)
	if e.tk("serial") {
		e.str(o.serial)
	}
	if e.tk("asset_tag") {
		e.nstr(o.assetTag)
	}
	if e.tk("site") {
		e.slugRef(v, pSites, site)
	}
	if e.tk("location") {
		e.treeRef(v, pLocations, get(h.cat.locations, o.location), true)
	}
	if e.tk("rack") {
		e.nameRef(v, pRacks, get(h.cat.racks, o.rack))
	}
	if e.tk("position") {
		if o.position > 0 {
			e.float(o.position)
		} else {
			e.null()
		}
	}
	if e.tk("face") {
		if o.rack != 0 && o.position > 0 {
			e.choice("front", "Front")
		} else {
			e.null()
		}
	}
	e.nulls("latitude", "longitude", "parent_device")
	if e.tk("status") {
		h.status(e, o.status, deviceStatusLabels)
	}
	if e.tk("airflow") {
		if af := get(h.cat.deviceTypes, o.devType).extra; af != "" {
			e.choice(af, airflowLabels[af])
		} else {
			e.null()
		}
	}
	h.primaryIPs(e, v, o, true)
	if e.tk("cluster") {
		e.nameRef(v, pClusters, get(h.cat.clusters, o.cluster))
	}
	e.nulls("virtual_chassis", "vc_position", "vc_priority")
}

// vmFields writes the fields only virtual machines have, from status to
// disk.
func (h *Handler) vmFields(e *enc, v view, o *object, site *catEntry) {
	if e.tk("status") {
		h.status(e, o.status, vmStatusLabels)
	}
	if e.tk("site") {
		e.slugRef(v, pSites, site)
	}
	if e.tk("cluster") {
		e.nameRef(v, pClusters, get(h.cat.clusters, o.cluster))
	}
	if e.tk("device") {
		e.null()
	}
	if e.tk("serial") {
		e.str(o.serial)
	}
	h.roleTenantPlatform(e, v, o)
	h.primaryIPs(e, v, o, false)
	if e.tk("vcpus") {
		e.float(o.vcpus)
	}
	if e.tk("memory") {
		e.int(o.memory)
	}
	if e.tk("disk") {
		e.int(o.disk)
	}
}

func (h *Handler) roleTenantPlatform(e *enc, v view, o *object) {
	if e.tk("role") {
		e.treeRef(v, pRoles, get(h.cat.roles, o.role), false)
	}
	if e.tk("tenant") {
		e.slugRef(v, pTenants, get(h.cat.tenants, o.tenant))
	}
	if e.tk("platform") {
		e.slugRef(v, pPlatforms, get(h.cat.platforms, o.platform))
	}
}

// device writes a device (see object).
func (h *Handler) device(e *enc, v view, o *object) { h.object(e, v, o, false) }

// vm writes a virtual machine (see object).
func (h *Handler) vm(e *enc, v view, o *object) { h.object(e, v, o, true) }

type count struct {
	key string
	n   int64
}

// objectCounts are an object's *_count fields: every generated device has one
// console port and two power ports besides its interfaces; a VM counts
// its interfaces and no virtual disks.
func (h *Handler) objectCounts(o *object, vm bool) []count {
	if vm {
		ifaces := int64(len(h.ifaces.index().post[ikey{f: fOwner, v: o.id, s: "v"}]))
		return []count{{"interface_count", ifaces}, {"virtual_disk_count", 0}}
	}
	ifaces := int64(len(h.ifaces.index().post[ikey{f: fOwner, v: o.id, s: "d"}]))
	return []count{{"console_port_count", 1}, {"console_server_port_count", 0}, {"power_port_count", 2},
		{"power_outlet_count", 0}, {"interface_count", ifaces}, {"front_port_count", 0},
		{"rear_port_count", 0}, {"device_bay_count", 0}, {"module_bay_count", 0}, {"inventory_item_count", 0}}
}

func (h *Handler) status(e *enc, value string, labels map[string]string) {
	if value == customStatus {
		e.choice(customStatus, customStatusLabel)
		return
	}
	e.choice(value, labels[value])
}

// primaryIPs writes primary_ip (IPv6 first, as with PREFER_IPV4 = False),
// primary_ip4, primary_ip6 and, for devices, oob_ip.
func (h *Handler) primaryIPs(e *enc, v view, o *object, oob bool) {
	if e.tk("primary_ip") {
		if o.ip6 != 0 {
			h.briefIP(e, v, o.ip6)
		} else {
			h.briefIP(e, v, o.ip4)
		}
	}
	if e.tk("primary_ip4") {
		h.briefIP(e, v, o.ip4)
	}
	if e.tk("primary_ip6") {
		h.briefIP(e, v, o.ip6)
	}
	if oob && e.tk("oob_ip") {
		h.briefIP(e, v, o.oob)
	}
}

// configContext writes the rendered config context: site-scoped data, or
// {} for a VM without a site.
func (h *Handler) configContext(e *enc, site *catEntry) {
	if site == nil {
		e.raw("{}")
		return
	}
	e.open()
	e.k("ntp_servers")
	e.openA()
	e.str("10.255.0.1")
	e.str("10.255.0.2")
	e.closeA()
	e.k("snmp")
	e.open()
	e.k("community_ref")
	e.str("vault:snmp/" + site.slug)
	e.close()
	e.close()
}

// ifaceRef writes the brief interface inside an IP's assigned_object.
func (h *Handler) ifaceRef(e *enc, v view, i *iface) {
	if i == nil {
		e.null()
		return
	}
	path, ownerKey, owners, vm := pInterfaces, "device", h.devices, false
	if i.owner == kindVM {
		path, ownerKey, owners, vm = pVMInterfaces, "virtual_machine", h.vms, true
	}
	e.briefHead(v, path, i.id, i.name)
	e.k(ownerKey)
	if o := owners.byID[i.ownerID]; o != nil {
		h.briefObject(e, v, o, vm)
	} else {
		e.null()
	}
	e.k("name")
	e.str(i.name)
	e.k("description")
	e.str("")
	if !vm {
		e.k("cable")
		e.null()
		e.k("_occupied")
		e.bool(false)
	}
	e.close()
}

// ip writes an IP address as /api/ipam/ip-addresses/ does.
func (h *Handler) ip(e *enc, v view, ip *ipAddr) {
	e.open()
	if e.tk("id") {
		e.int(ip.id)
	}
	if e.tk("url") {
		e.url(v.base, pIPs, ip.id)
	}
	if !v.brief || v.only != nil {
		if e.tk("display_url") {
			e.uiURL(v.base, pIPs, ip.id)
		}
	}
	if e.tk("display") {
		e.address(ip)
	}
	if e.tk("family") {
		e.family(ip)
	}
	if e.tk("address") {
		e.address(ip)
	}
	if v.brief && v.only == nil {
		e.k("description")
		e.str(ip.description)
		e.close()
		return
	}
	if e.tk("vrf") {
		e.vrfRef(v, get(h.cat.vrfs, ip.vrf))
	}
	if e.tk("tenant") {
		e.slugRef(v, pTenants, get(h.cat.tenants, ip.tenant))
	}
	if e.tk("status") {
		e.choice(ip.status, ipStatusLabels[ip.status])
	}
	if e.tk("role") {
		if ip.role == "" {
			e.null()
		} else {
			e.choice(ip.role, ipRoleLabels[ip.role])
		}
	}
	i := h.ifaces.byID[ip.iface]
	if e.tk("assigned_object_type") {
		switch {
		case i == nil:
			e.null()
		case i.owner == kindVM:
			e.str("virtualization.vminterface")
		default:
			e.str("dcim.interface")
		}
	}
	if e.tk("assigned_object_id") {
		if i == nil {
			e.null()
		} else {
			e.int(i.id)
		}
	}
	if e.tk("assigned_object") {
		h.ifaceRef(e, v, i)
	}
	if e.tk("nat_inside") {
		e.null()
	}
	if e.tk("nat_outside") {
		e.raw("[]")
	}
	if e.tk("dns_name") {
		e.str(ip.dnsName)
	}
	if e.tk("description") {
		e.str(ip.description)
	}
	if e.tk("comments") {
		e.str("")
	}
	e.untagged(ip.created, ip.updated)
	e.close()
}

// iface writes a device interface as /api/dcim/interfaces/ does.
func (h *Handler) iface(e *enc, v view, i *iface) {
	if v.brief && v.only == nil {
		h.ifaceRef(e, v, i)
		return
	}
	e.head(v, pInterfaces, i.id, i.name)
	if e.tk("device") {
		h.briefObject(e, v, h.devices.byID[i.ownerID], false)
	}
	if e.tk("vdcs") {
		e.raw("[]")
	}
	if e.tk("module") {
		e.null()
	}
	if e.tk("name") {
		e.str(i.name)
	}
	if e.tk("label") {
		e.str("")
	}
	if e.tk("type") {
		e.choice(i.typ, ifaceTypeLabels[i.typ])
	}
	if e.tk("enabled") {
		e.bool(true)
	}
	e.nulls("parent", "bridge", "lag", "mtu", "mac_address", "primary_mac_address")
	if e.tk("mac_addresses") {
		e.raw("[]")
	}
	e.nulls("speed", "duplex", "wwn")
	if e.tk("mgmt_only") {
		e.bool(i.mgmtOnly)
	}
	if e.tk("description") {
		e.str("")
	}
	e.nulls("mode", "rf_role", "rf_channel", "poe_mode", "poe_type", "rf_channel_frequency", "rf_channel_width", "tx_power", "untagged_vlan")
	if e.tk("tagged_vlans") {
		e.raw("[]")
	}
	e.nulls("qinq_svlan", "vlan_translation_policy")
	if e.tk("mark_connected") {
		e.bool(false)
	}
	if e.tk("cable") {
		e.null()
	}
	if e.tk("cable_end") {
		e.str("")
	}
	if e.tk("wireless_link") {
		e.null()
	}
	if e.tk("link_peers") {
		e.raw("[]")
	}
	if e.tk("link_peers_type") {
		e.null()
	}
	if e.tk("wireless_lans") {
		e.raw("[]")
	}
	e.nulls("vrf", "l2vpn_termination", "connected_endpoints", "connected_endpoints_type")
	if e.tk("connected_endpoints_reachable") {
		e.bool(false)
	}
	e.untagged(i.created, i.updated)
	if e.tk("count_ipaddresses") {
		e.int(int64(len(h.ips.index().post[ikey{f: fIface, v: i.id}])))
	}
	if e.tk("count_fhrp_groups") {
		e.int(0)
	}
	if e.tk("_occupied") {
		e.bool(false)
	}
	e.close()
}

// site writes a site as /api/dcim/sites/ does.
func (h *Handler) site(e *enc, v view, s *catEntry) {
	if v.brief && v.only == nil {
		e.slugRef(v, pSites, s)
		return
	}
	e.head(v, pSites, s.id, s.name)
	if e.tk("name") {
		e.str(s.name)
	}
	if e.tk("slug") {
		e.str(s.slug)
	}
	if e.tk("status") {
		e.choice("active", "Active")
	}
	if e.tk("region") {
		e.treeRef(v, pRegions, get(h.cat.regions, s.parent), false)
	}
	e.nulls("group", "tenant")
	if e.tk("facility") {
		e.str("")
	}
	if e.tk("time_zone") {
		e.null()
	}
	for _, k := range []string{"description", "physical_address", "shipping_address"} {
		if e.tk(k) {
			e.str("")
		}
	}
	e.nulls("latitude", "longitude")
	if e.tk("comments") {
		e.str("")
	}
	if e.tk("asns") {
		e.raw("[]")
	}
	e.untagged(siteCreated, siteCreated)
	dix, vix := h.devices.index(), h.vms.index()
	racks := int64(0)
	for _, r := range h.cat.racks {
		if l := get(h.cat.locations, r.parent); l != nil && l.parent == s.id {
			racks++
		}
	}
	for _, c := range [...]count{{"circuit_count", 0}, {"device_count", int64(len(dix.post[ikey{f: fSite, v: s.id}]))},
		{"prefix_count", 0}, {"rack_count", racks}, {"virtualmachine_count", int64(len(vix.post[ikey{f: fSite, v: s.id}]))},
		{"vlan_count", 0}} {
		if e.tk(c.key) {
			e.int(c.n)
		}
	}
	e.close()
}

func sortedKeys(m map[string]any) []string { return slices.Sorted(maps.Keys(m)) }
