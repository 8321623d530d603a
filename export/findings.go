package export

import "strings"

// Finding is one remark about an address or a NetBox object: an error
// makes the address not exportable, a warning is reported and the export
// goes on. Code is a stable snake_case identifier that programs may match
// on; Message is a sentence for people that names the address.
//
// Errors: unparseable, zoned_address, unspecified, this_network, loopback,
// multicast, limited_broadcast, network_address, broadcast_address,
// ipv6_link_local, and no_address (the object has no address to export).
// Warnings about the address: ipv4_link_local, reserved, documentation,
// benchmarking, shared_address_space, public_address, ipv4_mapped,
// ipv6_transition, ipv6_site_local, subnet_router_anycast. Warnings from
// context: duplicate_address (another object in the VRF has it),
// recently_exported, previous_export_failed, truncated (a value was cut to
// a WUG limit), wug_warning (WUG's own message about a created
// device), and address_conflict (a renumbered object's new address
// belongs to another WUG device; WUGDevices names both).
type Finding struct {
	Code    string `json:"code"`
	Message string `json:"message"`
	// Error is set for a finding that makes the address not exportable.
	Error bool `json:"error,omitempty"`
	// WUGDevices are the WUG device ids the finding is about: for
	// address_conflict, the object's own device first, then the device
	// that holds the new address.
	WUGDevices []string `json:"wug_device_ids,omitempty"`
}

// String renders the finding as "code: message".
func (f Finding) String() string { return f.Code + ": " + f.Message }

// Finding codes, as Finding's doc lists them. They are part of the API:
// programs may match on them, and they are stored in records and shown in
// plans.
const (
	// Errors: the address is not exportable.
	codeUnparseable      = "unparseable"       // the text is not an IP address
	codeZoned            = "zoned_address"     // an IPv6 zone (fe80::1%eth0) cannot be sent to WUG
	codeUnspecified      = "unspecified"       // 0.0.0.0 or ::
	codeThisNetwork      = "this_network"      // 0.0.0.0/8: not a destination
	codeLoopback         = "loopback"          // 127.0.0.0/8 or ::1
	codeMulticast        = "multicast"         // 224.0.0.0/4 or ff00::/8
	codeLimitedBroadcast = "limited_broadcast" // 255.255.255.255
	codeNetworkAddress   = "network_address"   // the network address of its own IPv4 subnet
	codeBroadcastAddress = "broadcast_address" // the broadcast address of its own IPv4 subnet
	codeIPv6LinkLocal    = "ipv6_link_local"   // fe80::/10: needs a zone, not reachable from WUG

	// Warnings about the address itself.
	codeIPv4LinkLocal      = "ipv4_link_local"       // 169.254.0.0/16
	codeReserved           = "reserved"              // 240.0.0.0/4 and other reserved blocks
	codeDocumentation      = "documentation"         // 192.0.2.0/24, 198.51.100.0/24, 203.0.113.0/24, 2001:db8::/32, 3fff::/20
	codeBenchmarking       = "benchmarking"          // 198.18.0.0/15, 2001:2::/48
	codeSharedAddressSpace = "shared_address_space"  // 100.64.0.0/10 (carrier-grade NAT)
	codePublic             = "public_address"        // globally routable: make sure WUG can reach it
	codeIPv4Mapped         = "ipv4_mapped"           // ::ffff:0:0/96: record the IPv4 address instead
	codeIPv6Transition     = "ipv6_transition"       // 6to4, Teredo, NAT64: a tunnel or translator address
	codeIPv6SiteLocal      = "ipv6_site_local"       // fec0::/10, deprecated
	codeSubnetAnycast      = "subnet_router_anycast" // the all-zero host of an IPv6 subnet

	// Warnings from context.
	codeDuplicate        = "duplicate_address"      // another NetBox object in the same VRF uses the address
	codeRecentlyExported = "recently_exported"      // exported within the recent-export window
	codePreviousFailure  = "previous_export_failed" // the last export of the address failed
	codeTruncated        = "truncated"              // a value was cut to fit a WUG limit
	codeNoAddress        = "no_address"             // the IP policy selects no address of the object
	codeWUGWarning       = "wug_warning"            // WUG's own message about a device it created
	codeAddressConflict  = "address_conflict"       // the new address of a renumbered object belongs to another WUG device
)

// verdict collects the findings about one address. An address with no
// errors is exportable; warnings never stop an export.
type verdict struct {
	Errors   []Finding `json:"errors,omitempty"`
	Warnings []Finding `json:"warnings,omitempty"`
}

// OK reports whether the verdict has no errors.
func (v verdict) OK() bool { return len(v.Errors) == 0 }

// Has reports whether the verdict holds an error or warning with code.
func (v verdict) Has(code string) bool {
	for _, f := range v.Errors {
		if f.Code == code {
			return true
		}
	}
	for _, f := range v.Warnings {
		if f.Code == code {
			return true
		}
	}
	return false
}

// Error adds an error finding.
func (v *verdict) Error(code, message string) {
	v.Errors = append(v.Errors, Finding{Code: code, Message: message})
}

// Warn adds a warning finding.
func (v *verdict) Warn(code, message string) {
	v.Warnings = append(v.Warnings, Finding{Code: code, Message: message})
}

// Merge appends o's findings to v.
func (v *verdict) Merge(o verdict) {
	v.Errors = append(v.Errors, o.Errors...)
	v.Warnings = append(v.Warnings, o.Warnings...)
}

// String renders the findings on one line, errors first, "ok" when there
// are none.
func (v verdict) String() string {
	if len(v.Errors) == 0 && len(v.Warnings) == 0 {
		return "ok"
	}
	var b strings.Builder
	for _, f := range v.Errors {
		if b.Len() > 0 {
			b.WriteString("; ")
		}
		b.WriteString("error ")
		b.WriteString(f.String())
	}
	for _, f := range v.Warnings {
		if b.Len() > 0 {
			b.WriteString("; ")
		}
		b.WriteString("warning ")
		b.WriteString(f.String())
	}
	return b.String()
}
