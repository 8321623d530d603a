package netbox

import (
	"errors"
	"fmt"
	"math"
	"net/url"
	"regexp"
	"slices"
	"time"

	nb "github.com/netbox-community/go-netbox/v4"
)

// AnyStatus in Selector.Statuses selects objects of every status.
const AnyStatus = "*"

// Selector picks the devices (and optionally virtual machines) to read.
// Within one field, values are alternatives (OR), except Tags; different
// fields must all match (AND). The zero Selector selects every active
// device.
type Selector struct {
	SiteIDs []int64  // site ids (site_id)
	Sites   []string // site slugs (site)

	LocationIDs []int64  // location ids, descendants included (location_id); devices only
	Locations   []string // location slugs (location); devices only

	RoleIDs []int64  // role ids, child roles included (role_id)
	Roles   []string // role slugs (role)

	Tags []string // tag slugs that must all be present (tag, NetBox's AND)
	// AnyTags are tag slugs of which at least one must be present. NetBox
	// only ANDs tags, so each is listed on its own and the lists are merged
	// by id: requests grow with the number of these tags.
	AnyTags     []string
	ExcludeTags []string // tag slugs that must all be absent (tag__n)

	// Statuses are status values such as "active" or "planned". Empty
	// means active only; AnyStatus means every status.
	Statuses []string

	TenantIDs []int64  // tenant ids (tenant_id)
	Tenants   []string // tenant slugs (tenant)
	// NoTenant also selects objects without a tenant (tenant_id=null).
	NoTenant bool

	PlatformIDs []int64  // platform ids (platform_id)
	Platforms   []string // platform slugs (platform)

	ManufacturerIDs []int64  // manufacturer ids (manufacturer_id); devices only
	Manufacturers   []string // manufacturer slugs (manufacturer); devices only

	// CustomFields are exact custom-field filters sent as cf_<name>=value;
	// several values for one name are alternatives.
	CustomFields map[string][]string

	// HasPrimaryIP, when set, selects objects with (true) or without
	// (false) a primary IPv4 or IPv6 address.
	HasPrimaryIP *bool

	// ChangedSince selects objects changed at or after the time
	// (last_updated__gte); the zero time means no limit.
	ChangedSince time.Time

	IDs   []int64 // explicit device ids (id)
	VMIDs []int64 // explicit virtual machine ids; setting them implies IncludeVMs

	// IncludeVMs also reads virtual machines from
	// /api/virtualization/virtual-machines/. Location and manufacturer
	// filters do not apply to virtual machines: when they are set, no
	// virtual machines are read.
	IncludeVMs bool

	// IPPolicy says which addresses an export uses (Device.ChooseIPs);
	// empty means PrimaryIPv4.
	IPPolicy IPPolicy
}

var (
	slugRE = regexp.MustCompile(`^[-a-zA-Z0-9_]+$`)
	cfRE   = regexp.MustCompile(`^[a-z0-9_]+$`)
)

// Validate reports the first field whose values NetBox could not accept.
func (s *Selector) Validate() error {
	for name, ids := range map[string][]int64{"SiteIDs": s.SiteIDs, "LocationIDs": s.LocationIDs,
		"RoleIDs": s.RoleIDs, "TenantIDs": s.TenantIDs, "PlatformIDs": s.PlatformIDs,
		"ManufacturerIDs": s.ManufacturerIDs, "IDs": s.IDs, "VMIDs": s.VMIDs} {
		for _, id := range ids {
			if id <= 0 || id > math.MaxInt32 {
				return fmt.Errorf("netbox: selector %s: %d is not a valid NetBox id", name, id)
			}
		}
	}
	for name, slugs := range map[string][]string{"Sites": s.Sites, "Locations": s.Locations,
		"Roles": s.Roles, "Tags": s.Tags, "AnyTags": s.AnyTags, "ExcludeTags": s.ExcludeTags,
		"Tenants": s.Tenants, "Platforms": s.Platforms, "Manufacturers": s.Manufacturers} {
		for _, v := range slugs {
			if !slugRE.MatchString(v) {
				return fmt.Errorf("netbox: selector %s: %q is not a slug", name, v)
			}
		}
	}
	for _, v := range s.Statuses {
		if v == "" || (v != AnyStatus && !slugRE.MatchString(v)) {
			return fmt.Errorf("netbox: selector Statuses: %q is not a status value", v)
		}
	}
	if slices.Contains(s.Statuses, AnyStatus) && len(s.Statuses) > 1 {
		return errors.New("netbox: selector Statuses: AnyStatus cannot be combined with other values")
	}
	for name, vals := range s.CustomFields {
		if !cfRE.MatchString(name) {
			return fmt.Errorf("netbox: selector CustomFields: %q is not a custom field name", name)
		}
		if len(vals) == 0 {
			return fmt.Errorf("netbox: selector CustomFields: %q has no value", name)
		}
	}
	switch s.IPPolicy {
	case "", PrimaryIPv4, PrimaryIPv6, OOBIP, AllIPs:
	default:
		return fmt.Errorf("netbox: selector IPPolicy: unknown policy %q", s.IPPolicy)
	}
	return nil
}

// includesVMs reports whether virtual machines are read.
func (s *Selector) includesVMs() bool {
	if !s.IncludeVMs && len(s.VMIDs) == 0 {
		return false
	}
	return len(s.LocationIDs) == 0 && len(s.Locations) == 0 &&
		len(s.ManufacturerIDs) == 0 && len(s.Manufacturers) == 0
}

// includesDevices reports whether devices are read: not when only explicit
// virtual machine ids were asked for.
func (s *Selector) includesDevices() bool {
	return len(s.VMIDs) == 0 || len(s.IDs) > 0
}

// idParts splits the selector by its explicit ids of kind (sorted, without
// repeats) so that each part's ids take at most budget characters of query;
// without explicit ids it returns s alone.
func (s *Selector) idParts(kind Kind, budget int) []*Selector {
	ids := s.IDs
	if kind == KindVirtualMachine {
		ids = s.VMIDs
	}
	if len(ids) == 0 {
		return []*Selector{s}
	}
	ids = slices.Compact(slices.Sorted(slices.Values(ids)))
	var parts []*Selector
	for _, chunk := range chunkIDs(ids, "id", budget) {
		p := *s
		part := make([]int64, len(chunk))
		for i, id := range chunk {
			part[i] = int64(id)
		}
		if kind == KindDevice {
			p.IDs = part
		} else {
			p.VMIDs = part
		}
		parts = append(parts, &p)
	}
	return parts
}

func (s *Selector) statuses() []string {
	switch {
	case len(s.Statuses) == 0:
		return []string{"active"}
	case s.Statuses[0] == AnyStatus:
		return nil
	}
	return s.Statuses
}

// extraQuery holds the parameters go-netbox has no builder for; they reach
// the request through the queryHook transport layer.
func (s *Selector) extraQuery() url.Values {
	q := url.Values{"exclude": {"config_context"}}
	for name, vals := range s.CustomFields {
		q["cf_"+name] = vals
	}
	if s.NoTenant {
		q.Add("tenant_id", "null")
	}
	return q
}

func int32s(ids []int64) []int32 {
	out := make([]int32, len(ids))
	for i, id := range ids {
		out[i] = int32(id)
	}
	return out
}

func int32Ptrs(ids []int64) []*int32 {
	out := make([]*int32, len(ids))
	for i, id := range ids {
		v := int32(id)
		out[i] = &v
	}
	return out
}

func strIDs(ids []int64) []string {
	out := make([]string, len(ids))
	for i, id := range ids {
		out[i] = fmt.Sprint(id)
	}
	return out
}

// deviceListRequest applies the selector to a device list request; anyTag
// is one of AnyTags (or empty).
func (s *Selector) deviceListRequest(r nb.ApiDcimDevicesListRequest, anyTag string) nb.ApiDcimDevicesListRequest {
	r = applyShared(s, r, anyTag)
	if len(s.SiteIDs) > 0 {
		r = r.SiteId(int32s(s.SiteIDs))
	}
	if len(s.LocationIDs) > 0 {
		r = r.LocationId(strIDs(s.LocationIDs))
	}
	if len(s.Locations) > 0 {
		r = r.Location(s.Locations)
	}
	if len(s.ManufacturerIDs) > 0 {
		r = r.ManufacturerId(int32s(s.ManufacturerIDs))
	}
	if len(s.Manufacturers) > 0 {
		r = r.Manufacturer(s.Manufacturers)
	}
	if len(s.IDs) > 0 {
		r = r.Id(int32s(s.IDs))
	}
	return r
}

// vmListRequest applies the selector to a virtual machine list request.
func (s *Selector) vmListRequest(r nb.ApiVirtualizationVirtualMachinesListRequest, anyTag string) nb.ApiVirtualizationVirtualMachinesListRequest {
	r = applyShared(s, r, anyTag)
	if len(s.SiteIDs) > 0 {
		r = r.SiteId(int32Ptrs(s.SiteIDs))
	}
	if len(s.VMIDs) > 0 {
		r = r.Id(int32s(s.VMIDs))
	}
	return r
}

// sharedFilters are the filters go-netbox's device and virtual machine
// list requests take with the same types.
type sharedFilters[R any] interface {
	Site([]string) R
	RoleId([]string) R
	Role([]string) R
	Tag([]string) R
	TagN([]string) R
	Status([]string) R
	TenantId([]*int32) R
	Tenant([]string) R
	PlatformId([]*int32) R
	Platform([]string) R
	HasPrimaryIp(bool) R
	LastUpdatedGte([]time.Time) R
}

// applyShared applies the selector's filters that devices and virtual
// machines have in common.
func applyShared[R sharedFilters[R]](s *Selector, r R, anyTag string) R {
	if len(s.Sites) > 0 {
		r = r.Site(s.Sites)
	}
	if len(s.RoleIDs) > 0 {
		r = r.RoleId(strIDs(s.RoleIDs))
	}
	if len(s.Roles) > 0 {
		r = r.Role(s.Roles)
	}
	if tags := s.tagsWith(anyTag); len(tags) > 0 {
		r = r.Tag(tags)
	}
	if len(s.ExcludeTags) > 0 {
		r = r.TagN(s.ExcludeTags)
	}
	if st := s.statuses(); len(st) > 0 {
		r = r.Status(st)
	}
	if len(s.TenantIDs) > 0 {
		r = r.TenantId(int32Ptrs(s.TenantIDs))
	}
	if len(s.Tenants) > 0 {
		r = r.Tenant(s.Tenants)
	}
	if len(s.PlatformIDs) > 0 {
		r = r.PlatformId(int32Ptrs(s.PlatformIDs))
	}
	if len(s.Platforms) > 0 {
		r = r.Platform(s.Platforms)
	}
	if s.HasPrimaryIP != nil {
		r = r.HasPrimaryIp(*s.HasPrimaryIP)
	}
	if !s.ChangedSince.IsZero() {
		r = r.LastUpdatedGte([]time.Time{s.ChangedSince.UTC()})
	}
	return r
}

func (s *Selector) tagsWith(anyTag string) []string {
	if anyTag == "" || slices.Contains(s.Tags, anyTag) {
		return s.Tags
	}
	return append(slices.Clip(s.Tags), anyTag)
}
