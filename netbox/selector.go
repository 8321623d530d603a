package netbox

import (
	"errors"
	"fmt"
	"math"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"time"
)

// AnyStatus in Selector.Statuses selects objects of every status.
const AnyStatus = "*"

// Selector picks the devices (and optionally virtual machines) to read.
// Within one field, values are alternatives (OR), except Tags and TagIDs;
// different fields must all match (AND), the id and slug fields of one
// type included, as NetBox combines site_id with site. To select any of
// several sites (roles) named by a mix of ids and slugs, such as a filter
// list [1, "ams1"] (see Refs), turn the slugs into ids with
// Client.ResolveRefs and set SiteIDs (RoleIDs) only. The zero Selector
// selects every active device.
type Selector struct {
	SiteIDs []int64  // site ids (site_id)
	Sites   []string // site slugs (site)

	LocationIDs []int64  // location ids, descendants included (location_id); devices only
	Locations   []string // location slugs (location); devices only

	RoleIDs []int64  // role ids, child roles included (role_id)
	Roles   []string // role slugs (role)

	Tags   []string // tag slugs that must all be present (tag, NetBox's AND)
	TagIDs []int64  // tag ids that must all be present (tag_id, NetBox's AND)
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

	// OmitCustomFields leaves custom field values out of NetBox's answers
	// (on NetBox 4.0 and later, which take fields=), for callers that do
	// not use Device.CustomFields; CustomFields filters still apply.
	OmitCustomFields bool

	// CustomFieldsOnly reads each object's id, name and custom fields and
	// nothing else (fields=id,name,custom_fields on NetBox 4.0 and later):
	// no addresses and no regions, so one request reads a page of objects,
	// for callers that compare custom fields only (Device then carries
	// Kind, ID, Name, URL and CustomFields).
	CustomFieldsOnly bool
}

var (
	slugRE = regexp.MustCompile(`^[-a-zA-Z0-9_]+$`)
	cfRE   = regexp.MustCompile(`^[a-z0-9_]+$`)
)

// Validate reports the first field whose values NetBox could not accept.
func (s *Selector) Validate() error {
	for name, ids := range map[string][]int64{"SiteIDs": s.SiteIDs, "LocationIDs": s.LocationIDs,
		"RoleIDs": s.RoleIDs, "TagIDs": s.TagIDs, "TenantIDs": s.TenantIDs, "PlatformIDs": s.PlatformIDs,
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
	if s.OmitCustomFields && s.CustomFieldsOnly {
		return errors.New("netbox: selector: OmitCustomFields and CustomFieldsOnly exclude each other")
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

// query returns the filters of the selector for a list of kind, with
// anyTag (one of AnyTags, or empty) added to the all-of tags. Repeated keys
// are alternatives, as NetBox reads them (tags excepted).
func (s *Selector) query(kind Kind, anyTag string) url.Values {
	q := url.Values{}
	ids := func(name string, ids []int64) {
		for _, id := range ids {
			q.Add(name, strconv.FormatInt(id, 10))
		}
	}
	strs := func(name string, vals []string) {
		if len(vals) > 0 {
			q[name] = append(q[name], vals...)
		}
	}
	ids("site_id", s.SiteIDs)
	strs("site", s.Sites)
	ids("role_id", s.RoleIDs)
	strs("role", s.Roles)
	strs("tag", s.tagsWith(anyTag))
	ids("tag_id", s.TagIDs)
	strs("tag__n", s.ExcludeTags)
	strs("status", s.statuses())
	ids("tenant_id", s.TenantIDs)
	if s.NoTenant {
		q.Add("tenant_id", "null")
	}
	strs("tenant", s.Tenants)
	ids("platform_id", s.PlatformIDs)
	strs("platform", s.Platforms)
	for name, vals := range s.CustomFields {
		strs("cf_"+name, vals)
	}
	if s.HasPrimaryIP != nil {
		q.Set("has_primary_ip", strconv.FormatBool(*s.HasPrimaryIP))
	}
	if !s.ChangedSince.IsZero() {
		q.Set("last_updated__gte", s.ChangedSince.UTC().Format(time.RFC3339Nano))
	}
	if kind == KindVirtualMachine {
		ids("id", s.VMIDs)
		return q
	}
	ids("location_id", s.LocationIDs)
	strs("location", s.Locations)
	ids("manufacturer_id", s.ManufacturerIDs)
	strs("manufacturer", s.Manufacturers)
	ids("id", s.IDs)
	return q
}

func (s *Selector) tagsWith(anyTag string) []string {
	if anyTag == "" || slices.Contains(s.Tags, anyTag) {
		return s.Tags
	}
	return append(slices.Clip(s.Tags), anyTag)
}
