package export

import (
	"fmt"

	"github.com/wugsync/wugsync/netbox"
	"github.com/wugsync/wugsync/store"
	"github.com/wugsync/wugsync/wug"
)

// candidate is one NetBox address prepared for export: its store key, the
// object it belongs to, the validation verdict, and what would be sent to
// WUG. candidates of one device share the Device pointer; treat it as
// read-only.
type candidate struct {
	Key         store.Key
	Device      *netbox.Device
	IP          netbox.IPAddress
	Verdict     verdict
	Template    wug.DeviceTemplate // what is sent to WUG; zero when not exportable
	GroupPath   string             // WUG group path from "My Network" down, joined by "/"
	Fingerprint string             // hash of what is sent, for change detection; empty when not exportable
}

// Exportable reports whether the candidate's verdict has no errors.
func (c *candidate) Exportable() bool { return c.Verdict.OK() }

// ObjectKind returns the store kind of the candidate's NetBox object.
func (c *candidate) ObjectKind() store.ObjectKind {
	if c.Device != nil && c.Device.Kind == netbox.KindVirtualMachine {
		return store.ObjectVirtualMachine
	}
	return store.ObjectDevice
}

// groupPathSeparator separates group names in a candidate's GroupPath.
// Names never contain it: the mapping replaces it inside NetBox values.
const groupPathSeparator = "/"

// noAddress returns the codeNoAddress finding for an object whose IP policy
// selects no address.
func noAddress(d *netbox.Device, policy netbox.IPPolicy) Finding {
	if policy == "" {
		policy = netbox.PrimaryIPv4
	}
	return Finding{
		Code:    codeNoAddress,
		Message: fmt.Sprintf("%s has no address for IP policy %q; it is not exported.", ownerOf(d), policy),
	}
}

// mainAddress picks the main address among chosen: primary IPv4, primary
// IPv6, out-of-band, else the first.
func mainAddress(d *netbox.Device, chosen []netbox.IPAddress) int {
	for _, want := range []netbox.IPAddress{d.PrimaryIPv4, d.PrimaryIPv6, d.OOBIP} {
		if !want.IsValid() {
			continue
		}
		for i, ip := range chosen {
			if ip.VRF == want.VRF && ip.Address.Addr() == want.Address.Addr() {
				return i
			}
		}
	}
	return 0
}

// Prepare is the one way a NetBox object becomes candidates for
// connection: the addresses policy selects (netbox.Device.ChooseIPs), each
// validated (validate.go) and, when exportable, transformed by the compiled
// mapping (transform.go) and fingerprinted. Context checks (duplicates,
// store records) are the caller's: see duplicateIndex and checkRecord. An
// object with no selected address yields no candidates (see noAddress).
// The candidates share d.
func (t *transformer) Prepare(d *netbox.Device, policy netbox.IPPolicy, connection string) []candidate {
	ips := d.ChooseIPs(policy)
	if len(ips) == 0 {
		return nil
	}
	main := mainAddress(d, ips)
	out := make([]candidate, len(ips))
	for i, ip := range ips {
		c := &out[i]
		c.Key = store.Key{Connection: connection, VRF: ip.VRF, Address: ip.Address.Addr().WithZone("")}
		c.Device = d
		c.IP = ip
		c.Verdict = validatePrefix(ip.Address)
		if !c.Verdict.OK() {
			continue
		}
		tpl, path, findings := t.Transform(Source{Device: d, IP: ip, Main: i == main})
		c.Template = tpl
		c.GroupPath = path
		c.Verdict.Warnings = append(c.Verdict.Warnings, findings...)
		c.Fingerprint = fingerprint(&c.Template, c.GroupPath)
	}
	return out
}
