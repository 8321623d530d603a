package export

import (
	"time"

	"github.com/wugsync/wugsync/netbox"
	"github.com/wugsync/wugsync/wug"
)

// Mapping defaults.
const (
	// defaultGroupPath places devices in one WUG group per NetBox site.
	defaultGroupPath = "My Network/NetBox/<site>"
	// defaultPlaceholder stands in for a NetBox field a device does not have.
	defaultPlaceholder = "Unassigned"
	// defaultAttributePrefix starts the name of every WUG attribute wugsync
	// owns. Attributes without it are never changed.
	defaultAttributePrefix = "NetBox."
	// defaultCustomFieldPrefix follows the attribute prefix in the names of
	// custom-field attributes ("NetBox.CF.owner").
	defaultCustomFieldPrefix = "CF."
	// defaultPrimaryRole is WUG's own default primary role.
	defaultPrimaryRole = "Device"
	// defaultActiveMonitor is the active monitor a device gets by default.
	defaultActiveMonitor = "Ping"
)

// Source is what a Mapping hook sees: one address of one NetBox object.
type Source struct {
	Device *netbox.Device
	IP     netbox.IPAddress
	// Main reports whether IP is the object's main address among those the
	// IP policy selected (primary IPv4, else primary IPv6, else out-of-band,
	// else the first). The others get their address in the display name.
	Main bool
}

// Mapping says how a NetBox object becomes a WUG device template. The zero
// Mapping is ready to use: every empty field and nil hook means its default.
// Hooks are plain functions so they can be set in Go; they must be safe for
// concurrent use and should be deterministic, since their output feeds the
// change-detection fingerprint.
type Mapping struct {
	// GroupPath is the WUG group path template, "/"-separated from
	// "My Network" down ("My Network/NetBox/<site>" when empty). A segment mixes text
	// and fields in angle brackets: <site>, <region>, <location>, <rack>,
	// <role>, <tenant>, <platform>, <manufacturer>, <model>, <cluster>,
	// <status>, <kind>, <vrf>, and <cf.NAME> for a custom field. When the
	// path does not start with "My Network" it is placed under it. A '/' in
	// a NetBox value becomes '-'; a missing value becomes Placeholder. A
	// control character in the template is an error.
	GroupPath string
	// Placeholder stands in for missing fields ("Unassigned" when empty).
	Placeholder string
	// AttributePrefix starts every attribute name wugsync owns
	// ("NetBox." when empty).
	AttributePrefix string
	// CustomFieldPrefix follows AttributePrefix in custom-field attribute
	// names ("CF." when empty).
	CustomFieldPrefix string
	// SkipCustomFields lists custom fields not to export.
	SkipCustomFields []string

	// DeviceType is sent as is; empty leaves WUG's default ("Workstation").
	DeviceType string
	// Roles maps a NetBox role slug or name (case-insensitive) to a WUG
	// primary role; unmapped roles get WUG's default, "Device".
	Roles map[string]string
	// SubRoles are WUG sub-roles for every device.
	SubRoles []string
	// Credentials are WUG credentials assigned by name (at most one per type).
	Credentials []wug.TemplateCredential
	// ActiveMonitors are WUG active monitors by name; nil means
	// ["Ping"], an empty non-nil slice means none.
	ActiveMonitors []string
	// PollInterval is the device's polling interval (10 s to 84600 s); zero
	// leaves WUG's default.
	PollInterval time.Duration
	// PollByName polls the device by its NetBox DNS name when it has one.
	PollByName bool
	// OSRoles maps a NetBox platform slug or name (case-insensitive) to
	// the WUG OS role of its devices, BrandRoles a manufacturer to the
	// brand role; an unmapped one gives its own name. A created device gets
	// its roles in its template; later runs assign a role that changed
	// (one request per role name); on a device wugsync adopted, or one a
	// WUG scan discovered, only a role the mapping chooses (an entry here,
	// or the OS or Brand hook). A device without a platform
	// (manufacturer) keeps the role it has.
	OSRoles, BrandRoles map[string]string
	// Maintenance maps NetBox statuses (value or label, case-insensitive;
	// custom statuses too) to WUG maintenance mode, over the default:
	// offline, planned, staged, failed and decommissioning are in
	// maintenance, every other status is not. Runs put a device wugsync
	// manages in or out of maintenance only when its mode changed from
	// what wugsync last set, in one request per status, so maintenance
	// set by hand is left alone. Only selected statuses are seen: select
	// them (netbox.Selector.Statuses) to use this.
	Maintenance map[string]bool
	// WriteAdoptedProperties lets wugsync write the display name and note
	// of devices it adopted (found in WUG rather than created); by default
	// only their attributes are kept current.
	WriteAdoptedProperties bool
	// RemoveEmptyGroups lets wugsync delete the group a device of its own
	// leaves when the device moves (its group path changed) and the group
	// is left with no devices and no child groups. By default such groups
	// stay; groups wugsync never put a device in are never touched.
	RemoveEmptyGroups bool

	// DisplayName returns the WUG display name (when nil: the NetBox name, or its display text, with " (<address>)" for
	// addresses other than the main one).
	DisplayName func(Source) string
	// Group returns the group path, "/"-separated, instead of GroupPath.
	Group func(Source) string
	// PrimaryRole returns the WUG primary role instead of Roles.
	PrimaryRole func(Source) string
	// Brand returns the WUG brand (when nil: BrandRoles, else the NetBox
	// manufacturer's name).
	Brand func(Source) string
	// OS returns the WUG operating system (when nil: OSRoles, else the
	// NetBox platform's name).
	OS func(Source) string
	// Note returns the WUG note (when nil: where the device comes from).
	Note func(Source) string
	// Attributes edits the attribute list before it is finished. It gets
	// the default attributes with names below the prefix ("Site",
	// "CF.owner") and returns the list to send; the prefix is added to every
	// name afterwards, so the result stays owned by wugsync.
	Attributes func(Source, []wug.NameValue) []wug.NameValue
	// Customize has the last word on the template, after every other
	// field is set and before limits are enforced.
	Customize func(Source, *wug.DeviceTemplate)
}

// Validate checks m as New does: a group path template that does not
// parse, a poll interval outside WUG's 10 to 84600 seconds, a prefix over
// WUG's attribute name limit, a credential without a name or two of one
// type, an active monitor without a name, an OSRoles or BrandRoles entry
// without a key or a role, or a Maintenance entry without a status is an
// error.
func (m Mapping) Validate() error {
	_, err := newTransformer(m)
	return err
}
