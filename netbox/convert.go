package netbox

import (
	"errors"
	"fmt"
	"net/netip"
	"net/url"
	"strconv"
	"time"

	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
)

// decodeOpts accepts what NetBox may send beyond the strict defaults:
// text with invalid UTF-8 (kept with replacement characters). Unknown
// fields are ignored and null leaves a field at its zero value.
var decodeOpts = json.JoinOptions(jsontext.AllowInvalidUTF8(true))

// choice is a NetBox choice field such as status: any value is accepted,
// custom choices an administrator added included; null leaves it empty.
type choice struct {
	Value string `json:"value"`
	Label string `json:"label"`
}

// briefIP is a nested IP address (primary_ip4, primary_ip6, oob_ip).
type briefIP struct {
	ID      int64  `json:"id"`
	Address string `json:"address"`
}

// deviceType is a nested device type with its manufacturer.
type deviceType struct {
	ID           int64  `json:"id"`
	Model        string `json:"model"`
	Slug         string `json:"slug"`
	Manufacturer Ref    `json:"manufacturer"`
}

// wireObject holds the fields of a device or virtual machine that a Device
// takes, as NetBox renders them; every other field is skipped unread.
// Related objects decode straight into Ref, whose keys are NetBox's.
type wireObject struct {
	ID           int64          `json:"id"`
	Name         string         `json:"name"`
	Display      string         `json:"display"`
	DisplayURL   string         `json:"display_url"`
	DeviceType   deviceType     `json:"device_type"`
	Role         Ref            `json:"role"`
	Tenant       Ref            `json:"tenant"`
	Platform     Ref            `json:"platform"`
	Site         Ref            `json:"site"`
	Location     Ref            `json:"location"`
	Rack         Ref            `json:"rack"`
	Cluster      Ref            `json:"cluster"`
	Position     float64        `json:"position"`
	Serial       string         `json:"serial"`
	AssetTag     string         `json:"asset_tag"`
	Status       choice         `json:"status"`
	PrimaryIP4   briefIP        `json:"primary_ip4"`
	PrimaryIP6   briefIP        `json:"primary_ip6"`
	OOBIP        briefIP        `json:"oob_ip"`
	Description  string         `json:"description"`
	Comments     string         `json:"comments"`
	Tags         []Ref          `json:"tags"`
	CustomFields map[string]any `json:"custom_fields"`
	LastUpdated  time.Time      `json:"last_updated"`
}

// objectFields are the fields a Device takes from each kind of object,
// asked for with fields= on NetBox 4.0 and later; custom_fields is added
// when the selector wants them.
var objectFields = map[Kind]string{
	KindDevice: "id,name,display,display_url,device_type,role,tenant,platform,site,location,rack,position," +
		"serial,asset_tag,status,primary_ip4,primary_ip6,oob_ip,cluster,description,comments,tags,last_updated",
	KindVirtualMachine: "id,name,display,display_url,role,tenant,platform,site,cluster,serial,status," +
		"primary_ip4,primary_ip6,description,comments,tags,last_updated",
}

// decodeObject decodes one device or virtual machine (a list element or a
// webhook's data) into a Device without its IP list. Only the fields a
// Device needs are read; unknown fields and custom choice values are
// accepted.
func decodeObject(kind Kind, raw []byte, base *url.URL) (Device, error) {
	var w wireObject
	if err := json.Unmarshal(raw, &w, decodeOpts); err != nil {
		return Device{}, decodeErr(err)
	}
	return w.device(kind, base)
}

// device converts a decoded object into a Device.
func (w *wireObject) device(kind Kind, base *url.URL) (Device, error) {
	path := "/dcim/devices/"
	if kind == KindVirtualMachine {
		path = "/virtualization/virtual-machines/"
	}
	out := Device{
		Kind:         kind,
		ID:           w.ID,
		Name:         w.Name,
		Display:      w.Display,
		URL:          uiURL(base, w.DisplayURL, path, w.ID),
		Site:         w.Site,
		Location:     w.Location,
		Rack:         w.Rack,
		Position:     w.Position,
		Cluster:      w.Cluster,
		Role:         w.Role,
		Tenant:       w.Tenant,
		Platform:     w.Platform,
		Manufacturer: w.DeviceType.Manufacturer,
		Model:        Ref{ID: w.DeviceType.ID, Name: w.DeviceType.Model, Slug: w.DeviceType.Slug},
		Serial:       w.Serial,
		AssetTag:     w.AssetTag,
		Status:       w.Status.Value,
		StatusLabel:  w.Status.Label,
		Tags:         w.Tags,
		CustomFields: customFields(w.CustomFields),
		Description:  w.Description,
		Comments:     w.Comments,
		LastUpdated:  w.LastUpdated,
	}
	if out.ID <= 0 {
		return out, fmt.Errorf("object has no id")
	}
	if out.Name == "" {
		out.Name = fallbackName(kind, out.ID, out.Display)
	}
	var err error
	if out.PrimaryIPv4, err = w.PrimaryIP4.ip(); err != nil {
		return out, fmt.Errorf("primary_ip4: %w", err)
	}
	if out.PrimaryIPv6, err = w.PrimaryIP6.ip(); err != nil {
		return out, fmt.Errorf("primary_ip6: %w", err)
	}
	if out.OOBIP, err = w.OOBIP.ip(); err != nil {
		return out, fmt.Errorf("oob_ip: %w", err)
	}
	return out, nil
}

// decodeErr shortens a semantic decoding error to the field and the
// reason, e.g. `field "name": cannot unmarshal JSON number into Go string`.
func decodeErr(err error) error {
	var se *json.SemanticError
	if errors.As(err, &se) && se.JSONPointer != "" {
		reason := "unexpected " + se.JSONKind.String()
		if se.Err != nil {
			reason = se.Err.Error()
		} else if se.GoType != nil {
			reason = fmt.Sprintf("cannot decode JSON %s into %s", se.JSONKind, se.GoType)
		}
		return fmt.Errorf("field %s: %s", se.JSONPointer, reason)
	}
	return err
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
// absolute in REST answers and relative in webhooks; without one (NetBox
// before 4.1, or fields= without it) it is derived from the object's path.
func uiURL(base *url.URL, displayURL string, path string, id int64) string {
	ref := path + strconv.FormatInt(id, 10) + "/"
	if displayURL != "" {
		ref = displayURL
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

// ip converts a nested address; the zero briefIP (null) is no address.
func (b briefIP) ip() (IPAddress, error) {
	if b.ID == 0 && b.Address == "" {
		return IPAddress{}, nil
	}
	p, err := parseAddress(b.Address)
	if err != nil {
		return IPAddress{}, err
	}
	return IPAddress{ID: b.ID, Address: p}, nil
}

// parseAddress reads NetBox's "<address>/<prefix length>" text.
func parseAddress(s string) (netip.Prefix, error) {
	p, err := netip.ParsePrefix(s)
	if err != nil {
		return netip.Prefix{}, fmt.Errorf("address %q: %w", s, err)
	}
	return p, nil
}

// customFields drops the custom fields without a value: NetBox lists every
// defined field, unset ones as null.
func customFields(m map[string]any) map[string]any {
	for k, v := range m {
		if v == nil {
			delete(m, k)
		}
	}
	if len(m) == 0 {
		return nil
	}
	return m
}

// wireIP holds the fields of an IP address that an IPAddress takes.
type wireIP struct {
	ID             int64  `json:"id"`
	Address        string `json:"address"`
	VRF            Ref    `json:"vrf"`
	Status         choice `json:"status"`
	Role           choice `json:"role"`
	DNSName        string `json:"dns_name"`
	AssignedObject struct {
		Name           string `json:"name"`
		Device         Ref    `json:"device"`
		VirtualMachine Ref    `json:"virtual_machine"`
	} `json:"assigned_object"`
}

// ipFields are the IP address fields asked for with fields=.
const ipFields = "id,address,vrf,status,role,dns_name,assigned_object"

// decodeIP decodes one IP address and returns it with the id of the device
// (or virtual machine, for kind KindVirtualMachine) whose interface holds
// it: 0 when unassigned or held by something else, such as an FHRP group.
// On failure it still returns what it could read of the id and owner.
func decodeIP(raw []byte, kind Kind) (IPAddress, int64, error) {
	var w wireIP
	err := json.Unmarshal(raw, &w, decodeOpts)
	owner := w.AssignedObject.Device.ID
	if kind == KindVirtualMachine {
		owner = w.AssignedObject.VirtualMachine.ID
	}
	out := IPAddress{
		ID:        w.ID,
		VRF:       w.VRF.Name,
		Interface: w.AssignedObject.Name,
		Status:    w.Status.Value,
		Role:      w.Role.Value,
		DNSName:   w.DNSName,
	}
	if err != nil {
		if out.ID == 0 {
			out.ID, _ = peek(raw)
		}
		return out, owner, decodeErr(err)
	}
	out.Address, err = parseAddress(w.Address)
	return out, owner, err
}

// peek reads what can be read of the id and name of an object that did
// not decode.
func peek(raw []byte) (id int64, name string) {
	var v struct {
		ID   int64  `json:"id"`
		Name string `json:"name"`
	}
	// Each field is read on its own: a bad name still gives the id.
	_ = json.Unmarshal(raw, &struct {
		ID *int64 `json:"id"`
	}{&v.ID}, decodeOpts)
	_ = json.Unmarshal(raw, &struct {
		Name *string `json:"name"`
	}{&v.Name}, decodeOpts)
	return v.ID, v.Name
}
