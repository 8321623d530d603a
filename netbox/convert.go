package netbox

import (
	"encoding/json"
	"fmt"
	"net/netip"
	"net/url"
	"strconv"

	nb "github.com/netbox-community/go-netbox/v4"
)

// decodeObject decodes one device or virtual machine with go-netbox's
// strict model and converts it into a Device without its IP list.
func decodeObject(kind Kind, raw json.RawMessage, base *url.URL) (Device, error) {
	if kind == KindDevice {
		var d nb.DeviceWithConfigContext
		if err := json.Unmarshal(raw, &d); err != nil {
			return Device{}, err
		}
		return fromDevice(&d, base)
	}
	var v nb.VirtualMachineWithConfigContext
	if err := json.Unmarshal(raw, &v); err != nil {
		return Device{}, err
	}
	return fromVM(&v, base)
}

// fromDevice converts a go-netbox device into a Device without its IP list.
func fromDevice(d *nb.DeviceWithConfigContext, base *url.URL) (Device, error) {
	out := Device{
		Kind:         KindDevice,
		ID:           int64(d.Id),
		Name:         d.GetName(),
		Display:      d.Display,
		URL:          uiURL(base, d.DisplayUrl, "/dcim/devices/", d.Id),
		Site:         Ref{ID: int64(d.Site.Id), Name: d.Site.Name, Slug: d.Site.Slug},
		Role:         Ref{ID: int64(d.Role.Id), Name: d.Role.Name, Slug: d.Role.Slug},
		Manufacturer: Ref{ID: int64(d.DeviceType.Manufacturer.Id), Name: d.DeviceType.Manufacturer.Name, Slug: d.DeviceType.Manufacturer.Slug},
		Model:        Ref{ID: int64(d.DeviceType.Id), Name: d.DeviceType.Model, Slug: d.DeviceType.Slug},
		Serial:       d.GetSerial(),
		AssetTag:     d.GetAssetTag(),
		Status:       string(d.Status.GetValue()),
		Tags:         tagRefs(d.Tags),
		CustomFields: customFields(d.CustomFields),
		Description:  d.GetDescription(),
		Comments:     d.GetComments(),
		LastUpdated:  d.GetLastUpdated(),
	}
	if l := d.Location.Get(); l != nil {
		out.Location = Ref{ID: int64(l.Id), Name: l.Name, Slug: l.Slug}
	}
	if r := d.Rack.Get(); r != nil {
		out.Rack = Ref{ID: int64(r.Id), Name: r.Name}
	}
	out.Position = d.GetPosition()
	if cl := d.Cluster.Get(); cl != nil {
		out.Cluster = Ref{ID: int64(cl.Id), Name: cl.Name}
	}
	if t := d.Tenant.Get(); t != nil {
		out.Tenant = Ref{ID: int64(t.Id), Name: t.Name, Slug: t.Slug}
	}
	if p := d.Platform.Get(); p != nil {
		out.Platform = Ref{ID: int64(p.Id), Name: p.Name, Slug: p.Slug}
	}
	if out.Name == "" {
		out.Name = fallbackName(KindDevice, out.ID, out.Display)
	}
	var err error
	if out.PrimaryIPv4, err = briefIP(d.PrimaryIp4.Get()); err != nil {
		return out, fmt.Errorf("primary_ip4: %w", err)
	}
	if out.PrimaryIPv6, err = briefIP(d.PrimaryIp6.Get()); err != nil {
		return out, fmt.Errorf("primary_ip6: %w", err)
	}
	if out.OOBIP, err = briefIP(d.OobIp.Get()); err != nil {
		return out, fmt.Errorf("oob_ip: %w", err)
	}
	return out, nil
}

// fromVM converts a go-netbox virtual machine into a Device without its IP
// list.
func fromVM(v *nb.VirtualMachineWithConfigContext, base *url.URL) (Device, error) {
	out := Device{
		Kind:         KindVirtualMachine,
		ID:           int64(v.Id),
		Name:         v.Name,
		Display:      v.Display,
		URL:          uiURL(base, v.DisplayUrl, "/virtualization/virtual-machines/", v.Id),
		Serial:       v.GetSerial(),
		Status:       string(v.Status.GetValue()),
		Tags:         tagRefs(v.Tags),
		CustomFields: customFields(v.CustomFields),
		Description:  v.GetDescription(),
		Comments:     v.GetComments(),
		LastUpdated:  v.GetLastUpdated(),
	}
	if s := v.Site.Get(); s != nil {
		out.Site = Ref{ID: int64(s.Id), Name: s.Name, Slug: s.Slug}
	}
	if cl := v.Cluster.Get(); cl != nil {
		out.Cluster = Ref{ID: int64(cl.Id), Name: cl.Name}
	}
	if r := v.Role.Get(); r != nil {
		out.Role = Ref{ID: int64(r.Id), Name: r.Name, Slug: r.Slug}
	}
	if t := v.Tenant.Get(); t != nil {
		out.Tenant = Ref{ID: int64(t.Id), Name: t.Name, Slug: t.Slug}
	}
	if p := v.Platform.Get(); p != nil {
		out.Platform = Ref{ID: int64(p.Id), Name: p.Name, Slug: p.Slug}
	}
	if out.Name == "" {
		out.Name = fallbackName(KindVirtualMachine, out.ID, out.Display)
	}
	var err error
	if out.PrimaryIPv4, err = briefIP(v.PrimaryIp4.Get()); err != nil {
		return out, fmt.Errorf("primary_ip4: %w", err)
	}
	if out.PrimaryIPv6, err = briefIP(v.PrimaryIp6.Get()); err != nil {
		return out, fmt.Errorf("primary_ip6: %w", err)
	}
	return out, nil
}

// fallbackName names an unnamed object: NetBox's display text (for an
// unnamed device "<manufacturer> <model> (<asset tag or id>)", which is
// unique) or, without one, "<kind>-<id>".
func fallbackName(k Kind, id int64, display string) string {
	if display != "" {
		return display
	}
	return string(k) + "-" + strconv.FormatInt(id, 10)
}

// uiURL makes the object's UI URL absolute: NetBox sends display_url
// absolute in REST answers and relative in webhooks; without one it is
// derived from the object's path.
func uiURL(base *url.URL, displayURL *string, path string, id int32) string {
	ref := path + strconv.Itoa(int(id)) + "/"
	if displayURL != nil && *displayURL != "" {
		ref = *displayURL
	} else if base != nil {
		ref = base.Path + ref
	}
	if base == nil {
		return ref
	}
	u, err := base.Parse(ref)
	if err != nil {
		return ref
	}
	return u.String()
}

func briefIP(b *nb.BriefIPAddress) (IPAddress, error) {
	if b == nil {
		return IPAddress{}, nil
	}
	p, err := parseAddress(b.Address)
	if err != nil {
		return IPAddress{}, err
	}
	return IPAddress{ID: int64(b.Id), Address: p}, nil
}

// parseAddress reads NetBox's "<address>/<prefix length>" text.
func parseAddress(s string) (netip.Prefix, error) {
	p, err := netip.ParsePrefix(s)
	if err != nil {
		return netip.Prefix{}, fmt.Errorf("address %q: %w", s, err)
	}
	return p, nil
}

func tagRefs(tags []nb.NestedTag) []Ref {
	if len(tags) == 0 {
		return nil
	}
	out := make([]Ref, len(tags))
	for i, t := range tags {
		out[i] = Ref{ID: int64(t.Id), Name: t.Name, Slug: t.Slug}
	}
	return out
}

// customFields copies the custom fields that have a value; NetBox lists
// every defined field, unset ones as null.
func customFields(m map[string]any) map[string]any {
	var out map[string]any
	for k, v := range m {
		if v == nil {
			continue
		}
		if out == nil {
			out = make(map[string]any, len(m))
		}
		out[k] = v
	}
	return out
}

// fromIP converts a go-netbox IP address and returns the id of the device
// or virtual machine whose interface holds it (0 when unassigned or held
// by something else, such as an FHRP group).
func fromIP(ip *nb.IPAddress, kind Kind) (IPAddress, int64, error) {
	ao, _ := ip.AssignedObject.(map[string]any)
	parent := "device"
	if kind == KindVirtualMachine {
		parent = "virtual_machine"
	}
	owner, _ := ao[parent].(map[string]any)
	ownerID, _ := owner["id"].(float64)
	out := IPAddress{
		ID:      int64(ip.Id),
		Status:  string(ip.Status.GetValue()),
		Role:    string(ip.Role.GetValue()),
		DNSName: ip.GetDnsName(),
	}
	out.Interface, _ = ao["name"].(string)
	if v := ip.Vrf.Get(); v != nil {
		out.VRF = v.Name
	}
	var err error
	out.Address, err = parseAddress(ip.Address)
	return out, int64(ownerID), err
}

// rawPage is a list envelope whose results are kept as raw JSON, used when
// go-netbox cannot decode a page so that each object is decoded on its own.
type rawPage struct {
	Next    *string           `json:"next"`
	Results []json.RawMessage `json:"results"`
}

func decodeRawPage(body []byte) (*rawPage, error) {
	var p rawPage
	if err := json.Unmarshal(body, &p); err != nil {
		return nil, fmt.Errorf("list answer: %w", err)
	}
	if p.Results == nil {
		return nil, fmt.Errorf("list answer has no results")
	}
	return &p, nil
}

// peek reads what can be read of an object that go-netbox rejected.
func peek(raw json.RawMessage) (id int64, name string) {
	var v struct {
		ID   int64  `json:"id"`
		Name string `json:"name"`
	}
	_ = json.Unmarshal(raw, &v)
	return v.ID, v.Name
}
