package netbox

import (
	"net/netip"
	"time"
)

// Kind is the kind of NetBox object a Device was read from.
type Kind string

// Object kinds.
const (
	KindDevice         Kind = "device"          // /api/dcim/devices/
	KindVirtualMachine Kind = "virtual_machine" // /api/virtualization/virtual-machines/
)

// Ref is a brief reference to a related NetBox object. The zero Ref means
// "none".
type Ref struct {
	ID   int64  `json:"id,omitempty"`
	Name string `json:"name,omitempty"`
	Slug string `json:"slug,omitempty"`
}

// IsZero reports whether r refers to nothing.
func (r Ref) IsZero() bool { return r.ID == 0 && r.Name == "" && r.Slug == "" }

// IPAddress is one IP address assigned to a device or VM.
type IPAddress struct {
	ID        int64        `json:"id"`
	Address   netip.Prefix `json:"address"`             // host address with its prefix length, e.g. 192.0.2.10/24
	VRF       string       `json:"vrf,omitempty"`       // VRF name; empty for the global table
	Interface string       `json:"interface,omitempty"` // interface name, when assigned to one
	Status    string       `json:"status,omitempty"`    // NetBox value, e.g. "active"
	Role      string       `json:"role,omitempty"`      // NetBox value, e.g. "loopback"; empty when unset
	DNSName   string       `json:"dns_name,omitempty"`
}

// IsValid reports whether the address is set.
func (ip IPAddress) IsValid() bool { return ip.Address.IsValid() }

// Device is wugsync's slim, project-owned view of a NetBox device or
// virtual machine. It carries what an export needs and no go-netbox types.
type Device struct {
	Kind    Kind   `json:"kind"`
	ID      int64  `json:"id"`
	Name    string `json:"name"`    // NetBox name, or a fallback for unnamed devices
	Display string `json:"display"` // NetBox display text
	URL     string `json:"url"`     // NetBox UI URL of the object

	Region   Ref     `json:"region,omitzero"`
	Site     Ref     `json:"site,omitzero"`
	Location Ref     `json:"location,omitzero"`
	Rack     Ref     `json:"rack,omitzero"`
	Position float64 `json:"position,omitempty"` // rack unit; 0 when not racked
	Cluster  Ref     `json:"cluster,omitzero"`   // virtual machines

	Role         Ref `json:"role,omitzero"`
	Tenant       Ref `json:"tenant,omitzero"`
	Platform     Ref `json:"platform,omitzero"`
	Manufacturer Ref `json:"manufacturer,omitzero"`
	Model        Ref `json:"model,omitzero"` // device type

	Serial       string         `json:"serial,omitempty"`
	AssetTag     string         `json:"asset_tag,omitempty"`
	Status       string         `json:"status,omitempty"`       // NetBox value, e.g. "active", or a custom choice's
	StatusLabel  string         `json:"status_label,omitempty"` // NetBox label, e.g. "Active", for display
	Tags         []Ref          `json:"tags,omitempty"`
	CustomFields map[string]any `json:"custom_fields,omitempty"`
	Description  string         `json:"description,omitempty"`
	Comments     string         `json:"comments,omitempty"`

	PrimaryIPv4 IPAddress   `json:"primary_ip4,omitzero"`
	PrimaryIPv6 IPAddress   `json:"primary_ip6,omitzero"`
	OOBIP       IPAddress   `json:"oob_ip,omitzero"`
	IPs         []IPAddress `json:"ips,omitempty"` // every assigned address

	LastUpdated time.Time `json:"last_updated,omitzero"`
}

// IPPolicy chooses which of a device's addresses are exported.
type IPPolicy string

// IP choice policies.
const (
	PrimaryIPv4 IPPolicy = "primary_ip4" // the default
	PrimaryIPv6 IPPolicy = "primary_ip6"
	OOBIP       IPPolicy = "oob_ip"
	AllIPs      IPPolicy = "all"
)

// ChooseIPs returns the device's addresses that policy selects; an empty
// policy means PrimaryIPv4. AllIPs returns every assigned address once, in
// the order NetBox listed them, plus primary and out-of-band addresses that
// were not among them.
func (d *Device) ChooseIPs(policy IPPolicy) []IPAddress {
	one := func(ip IPAddress) []IPAddress {
		if !ip.IsValid() {
			return nil
		}
		return []IPAddress{ip}
	}
	switch policy {
	case "", PrimaryIPv4:
		return one(d.PrimaryIPv4)
	case PrimaryIPv6:
		return one(d.PrimaryIPv6)
	case OOBIP:
		return one(d.OOBIP)
	case AllIPs:
		out := make([]IPAddress, 0, len(d.IPs)+3)
		seen := make(map[[2]string]bool, len(d.IPs)+3)
		for _, ip := range append(append([]IPAddress(nil), d.IPs...), d.PrimaryIPv4, d.PrimaryIPv6, d.OOBIP) {
			k := [2]string{ip.VRF, ip.Address.Addr().String()}
			if !ip.IsValid() || seen[k] {
				continue
			}
			seen[k] = true
			out = append(out, ip)
		}
		return out
	}
	return nil
}
