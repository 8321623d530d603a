package netboxtest

import (
	"net/netip"
	"slices"
	"strings"
	"time"
)

// Quirk marks a generated object that carries one of the awkward cases real
// NetBox data has, so tests can find it with [Handler.Quirky].
type Quirk uint32

// The awkward cases the generator plants.
const (
	// QuirkUnnamed: the device has no name ("name": null); its display is
	// "<Manufacturer> <Model> (<asset tag or id>)".
	QuirkUnnamed Quirk = 1 << iota
	// QuirkNoPrimaryIP: no primary IPv4 or IPv6 (an interface address may exist).
	QuirkNoPrimaryIP
	// QuirkIPv6Only: a primary IPv6 address and no IPv4 address at all.
	QuirkIPv6Only
	// QuirkSameAddressTwoVRFs: the primary IPv4 address also exists, in
	// another VRF, on a second device (both devices carry the flag).
	QuirkSameAddressTwoVRFs
	// QuirkNetworkAddress: the primary IPv4 address is its subnet's network
	// address (e.g. 10.1.2.0/24).
	QuirkNetworkAddress
	// QuirkBroadcastAddress: the primary IPv4 address is its subnet's
	// broadcast address (e.g. 10.1.2.255/24).
	QuirkBroadcastAddress
	// QuirkLongName: text longer than WUG's 150-character limits. NetBox caps
	// a device name at 64 characters, so the name has exactly 64 and the
	// long text is elsewhere: a 253-character DNS name on the primary IP, a
	// 200-character description, a 300-character snmp_location custom field,
	// and a site whose name has 100 characters.
	QuirkLongName
	// QuirkUnicodeName: a name with non-ASCII letters (and a CJK part).
	QuirkUnicodeName
	// QuirkUndecodable: data no client can decode: the primary IPv4
	// address is rendered with an impossible prefix length (e.g.
	// "10.0.0.7/33") in the device and in address lists. Only planted with
	// [WithUndecodableDevice].
	QuirkUndecodable
	// QuirkCustomStatus: a custom status choice ("maintenance", label
	// "Maintenance") an administrator added through FIELD_CHOICES; NetBox
	// serves it like any status, go-netbox's enum check rejects it. Only
	// planted with [WithCustomStatus].
	QuirkCustomStatus
)

// QuirkUndecodableStatus is the former name of QuirkUndecodable.
//
// Deprecated: use QuirkUndecodable; a custom status choice is now
// QuirkCustomStatus, which clients can decode.
const QuirkUndecodableStatus = QuirkUndecodable

var quirkNames = []string{"unnamed", "no-primary-ip", "ipv6-only", "same-address-two-vrfs",
	"network-address", "broadcast-address", "long-name", "unicode-name", "undecodable", "custom-status"}

// String lists the flags, e.g. "unnamed|ipv6-only".
func (q Quirk) String() string {
	var parts []string
	for i, n := range quirkNames {
		if q&(1<<i) != 0 {
			parts = append(parts, n)
		}
	}
	if len(parts) == 0 {
		return "none"
	}
	return strings.Join(parts, "|")
}

// AllQuirks lists each single flag the generator can plant.
func AllQuirks() []Quirk {
	out := make([]Quirk, len(quirkNames))
	for i := range out {
		out[i] = 1 << i
	}
	return out
}

// Device is a device or virtual machine as the fake stores it, in the terms
// a test writes: related objects by slug (rack and cluster by name), custom
// fields by name. Related objects that do not exist yet are created when
// the device is stored. Empty Site, Role and DeviceType default to the first
// ones in the catalog; an empty Status means "active".
type Device struct {
	ID   int64  // assigned by the fake
	Name string // empty: an unnamed device ("name": null); VMs need a name

	Site       string  // site slug
	Location   string  // location slug (devices)
	Rack       string  // rack name (devices)
	Position   float64 // rack unit; 0 when not racked
	Role       string  // device role slug
	Tenant     string  // tenant slug; empty for none
	Platform   string  // platform slug; empty for none
	DeviceType string  // device type slug (devices)
	Cluster    string  // cluster name (virtual machines)

	Status       string // status value, e.g. "active"
	Serial       string
	AssetTag     string
	Description  string
	Comments     string
	Tags         []string       // tag slugs
	CustomFields map[string]any // unknown names define a new custom field

	PrimaryIP4 int64 // IP address ids; 0 for none
	PrimaryIP6 int64
	OOBIP      int64 // devices only

	Created     time.Time // set by the fake
	LastUpdated time.Time // set by the fake
	Quirks      Quirk     // set by the generator
}

// IPAddress is an IP address as the fake stores it.
type IPAddress struct {
	ID      int64        // assigned by the fake
	Address netip.Prefix // host address with prefix length, e.g. 192.0.2.10/24
	VRF     string       // VRF name; empty for the global table

	// The object the address is assigned to: a device or a virtual machine
	// (at most one), and the interface name on it, which is created when
	// missing ("eth0" when empty). Both zero: unassigned.
	DeviceID         int64
	VirtualMachineID int64
	Interface        string

	Status      string // "active" when empty
	Role        string // e.g. "loopback"; empty for none
	DNSName     string
	Description string
	Tenant      string // tenant slug

	// MakePrimary and MakeOOB, on create, also set the address as its
	// device's primary (IPv4 or IPv6 by family) or out-of-band address, which
	// updates the device too.
	MakePrimary bool
	MakeOOB     bool

	Created     time.Time // set by the fake
	LastUpdated time.Time // set by the fake
}

// kind tells devices from virtual machines inside the fake.
type kind uint8

const (
	kindNone kind = iota
	kindDevice
	kindVM
)

// catEntry is one catalog object (site, role, tag, ...). Its id is its
// index in its catalog slice plus one.
type catEntry struct {
	id     int64
	name   string
	slug   string
	parent int64  // region of a site, site of a location or cluster, location of a rack, manufacturer of a device type or platform
	extra  string // color of a tag or role, RD of a VRF, airflow of a device type
}

type catalog struct {
	regions, sites, locations, racks, roles, manufacturers, deviceTypes,
	platforms, tenants, tags, vrfs, clusters []catEntry
}

// truncate drops the entries added since saved was copied.
func (c *catalog) truncate(saved *catalog) {
	for _, p := range []struct{ cur, old *[]catEntry }{{&c.regions, &saved.regions}, {&c.sites, &saved.sites},
		{&c.locations, &saved.locations}, {&c.racks, &saved.racks}, {&c.roles, &saved.roles},
		{&c.manufacturers, &saved.manufacturers}, {&c.deviceTypes, &saved.deviceTypes},
		{&c.platforms, &saved.platforms}, {&c.tenants, &saved.tenants}, {&c.tags, &saved.tags},
		{&c.vrfs, &saved.vrfs}, {&c.clusters, &saved.clusters}} {
		*p.cur = (*p.cur)[:len(*p.old)]
	}
}

func findSlug(list []catEntry, slug string) int64 {
	for i := range list {
		if list[i].slug == slug {
			return list[i].id
		}
	}
	return 0
}

func findName(list []catEntry, name string) int64 {
	for i := range list {
		if list[i].name == name {
			return list[i].id
		}
	}
	return 0
}

func get(list []catEntry, id int64) *catEntry {
	if id <= 0 || id > int64(len(list)) {
		return nil
	}
	return &list[id-1]
}

// cfType is the type of a custom field.
type cfType uint8

const (
	cfText cfType = iota
	cfInteger
	cfDecimal
	cfBoolean
	cfDate
	cfSelect
	cfLongText
	cfDateTime
	cfURL
	cfJSON
)

// cfTypes are the NetBox type values and labels of cfType, by index.
var cfTypes = [...]struct{ value, label, dataType string }{
	cfText: {"text", "Text", "string"}, cfInteger: {"integer", "Integer", "integer"},
	cfDecimal: {"decimal", "Decimal", "number"}, cfBoolean: {"boolean", "Boolean (true/false)", "boolean"},
	cfDate: {"date", "Date", "string"}, cfSelect: {"select", "Selection", "string"},
	cfLongText: {"longtext", "Text (long)", "string"}, cfDateTime: {"datetime", "Date & time", "string"},
	cfURL: {"url", "URL", "string"}, cfJSON: {"json", "JSON", "object"},
}

// Object types a custom field can be enabled for.
const (
	otDevice uint8 = 1 << iota // dcim.device
	otVM                       // virtualization.virtualmachine
)

// objectTypes are the NetBox names of the object type bits.
var objectTypes = []struct {
	bit  uint8
	name string
}{{otDevice, "dcim.device"}, {otVM, "virtualization.virtualmachine"}}

// cfDef is a custom field definition. Fields the generator or a
// test-made device defines are enabled for devices and VMs; those made
// through the API for the object types they name.
type cfDef struct {
	name        string
	typ         cfType
	objects     uint8 // otDevice | otVM
	id          int64
	label       string
	group       string
	description string
	uiEditable  string // "yes", "no" or "hidden"
	created     int64  // Unix microseconds; 0 for generated fields
}

// on reports whether the field is enabled for devices, or VMs with vm.
func (d *cfDef) on(vm bool) bool {
	if vm {
		return d.objects&otVM != 0
	}
	return d.objects&otDevice != 0
}

// object is a stored device or virtual machine.
type object struct {
	id       int64
	name     string // "" = unnamed (devices)
	site     int64
	location int64
	rack     int64
	position float64
	role     int64
	tenant   int64
	platform int64
	devType  int64
	cluster  int64

	status      string
	serial      string
	assetTag    string
	description string
	comments    string
	tags        []int64 // tag ids, sorted
	cf          []any   // parallel to Handler.cfs; shorter means null

	ip4, ip6, oob int64

	vcpus  float64
	memory int64
	disk   int64

	created, updated int64 // Unix microseconds
	quirks           Quirk
}

func (o *object) hasTag(id int64) bool {
	_, ok := slices.BinarySearch(o.tags, id)
	return ok
}

// ipAddr is a stored IP address.
type ipAddr struct {
	id          int64
	prefix      netip.Prefix
	vrf         int64
	tenant      int64
	status      string
	role        string
	dnsName     string
	description string
	owner       kind
	ownerID     int64
	iface       int64
	malformed   bool // rendered with an impossible prefix length (QuirkUndecodable)

	created, updated int64
}

// iface is a stored device interface or VM interface.
type iface struct {
	id       int64
	owner    kind
	ownerID  int64
	name     string
	typ      string
	mgmtOnly bool
	created  int64
	updated  int64
}

// Choice labels NetBox 4.3 sends in English.
var (
	deviceStatusLabels = map[string]string{"offline": "Offline", "active": "Active", "planned": "Planned",
		"staged": "Staged", "failed": "Failed", "inventory": "Inventory", "decommissioning": "Decommissioning"}
	vmStatusLabels = map[string]string{"offline": "Offline", "active": "Active", "planned": "Planned",
		"staged": "Staged", "failed": "Failed", "decommissioning": "Decommissioning", "paused": "Paused"}
	ipStatusLabels = map[string]string{"active": "Active", "reserved": "Reserved", "deprecated": "Deprecated",
		"dhcp": "DHCP", "slaac": "SLAAC"}
	ipRoleLabels = map[string]string{"loopback": "Loopback", "secondary": "Secondary", "anycast": "Anycast",
		"vip": "VIP", "vrrp": "VRRP", "hsrp": "HSRP", "glbp": "GLBP", "carp": "CARP"}
	airflowLabels = map[string]string{"front-to-rear": "Front to rear", "rear-to-front": "Rear to front",
		"left-to-right": "Left to right", "right-to-left": "Right to left", "side-to-rear": "Side to rear",
		"passive": "Passive"}
	ifaceTypeLabels = map[string]string{"virtual": "Virtual", "1000base-t": "1000BASE-T (1GE)",
		"10gbase-x-sfpp": "SFP+ (10GE)", "25gbase-x-sfp28": "SFP28 (25GE)", "100base-tx": "100BASE-TX (10/100ME)"}
)

// customStatus is the status choice an administrator added through
// FIELD_CHOICES; go-netbox v4.3.0 cannot decode it.
const customStatus, customStatusLabel = "maintenance", "Maintenance"

func fromMicros(us int64) time.Time {
	if us == 0 {
		return time.Time{}
	}
	return time.UnixMicro(us).UTC()
}
