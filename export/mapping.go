package export

import (
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode"

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

// WUG's DeviceTemplate limits (characters), from the 2026.0 contract.
const (
	maxDisplayNameLen    = 150
	maxAttributeNameLen  = 150
	maxAttributeValueLen = 3000
	maxBrandLen          = 256
	maxNetworkNameLen    = 256
)

// truncationMarker ends a value that was cut to fit a WUG limit.
const truncationMarker = "…[truncated]"

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

	// DisplayName returns the WUG display name (when nil: the NetBox name, or its display text, with " (<address>)" for
	// addresses other than the main one).
	DisplayName func(Source) string
	// Group returns the group path, "/"-separated, instead of GroupPath.
	Group func(Source) string
	// PrimaryRole returns the WUG primary role instead of Roles.
	PrimaryRole func(Source) string
	// Brand returns the WUG brand (the NetBox manufacturer when nil).
	Brand func(Source) string
	// OS returns the WUG operating system (the NetBox platform when nil).
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

// defaultDisplayName is the device name, or its NetBox display text, or
// "<kind>-<id>" for unnamed objects; addresses other than the main one get
// " (<address>)" appended.
func defaultDisplayName(s Source) string {
	name := cleanText(s.Device.Name)
	if name == "" {
		name = cleanText(s.Device.Display)
	}
	if name == "" {
		kind := s.Device.Kind
		if kind == "" {
			kind = netbox.KindDevice
		}
		name = strings.ReplaceAll(string(kind), "_", "-") + "-" + strconv.FormatInt(s.Device.ID, 10)
	}
	if !s.Main && s.IP.IsValid() {
		name += " (" + s.IP.Address.Addr().String() + ")"
	}
	return name
}

// defaultNote says where the device comes from.
func defaultNote(s Source) string {
	if s.Device.URL == "" {
		return "Managed by wugsync from NetBox."
	}
	return "Managed by wugsync from NetBox " + s.Device.URL
}

// cleanText trims a NetBox value and turns control characters (newlines,
// tabs) into spaces, collapsing runs of them.
func cleanText(s string) string {
	s = strings.TrimSpace(s)
	if strings.IndexFunc(s, unicode.IsControl) < 0 {
		return s
	}
	var b strings.Builder
	space := false
	for _, r := range s {
		if unicode.IsControl(r) || (space && r == ' ') {
			if !space {
				b.WriteByte(' ')
			}
			space = true
			continue
		}
		space = r == ' '
		b.WriteRune(r)
	}
	return strings.TrimSpace(b.String())
}

// refText is a related object's name, or its slug when it has no name.
func refText(r netbox.Ref) string {
	if n := cleanText(r.Name); n != "" {
		return n
	}
	return cleanText(r.Slug)
}

// groupField returns the value of a group path field for s.
type groupField func(s Source) string

var groupFields = map[string]groupField{
	"site":         func(s Source) string { return refText(s.Device.Site) },
	"region":       func(s Source) string { return refText(s.Device.Region) },
	"location":     func(s Source) string { return refText(s.Device.Location) },
	"rack":         func(s Source) string { return refText(s.Device.Rack) },
	"role":         func(s Source) string { return refText(s.Device.Role) },
	"tenant":       func(s Source) string { return refText(s.Device.Tenant) },
	"platform":     func(s Source) string { return refText(s.Device.Platform) },
	"manufacturer": func(s Source) string { return refText(s.Device.Manufacturer) },
	"model":        func(s Source) string { return refText(s.Device.Model) },
	"cluster":      func(s Source) string { return refText(s.Device.Cluster) },
	"status":       func(s Source) string { return cleanText(s.Device.Status) },
	"vrf":          func(s Source) string { return cleanText(s.IP.VRF) },
	"kind": func(s Source) string {
		if s.Device.Kind == netbox.KindVirtualMachine {
			return "Virtual Machines"
		}
		return "Devices"
	},
}

// pathPart is a literal or a field in a group path segment.
type pathPart struct {
	text  string
	field groupField // nil for a literal
}

// groupTemplate is a parsed Mapping.GroupPath: segments of parts.
type groupTemplate [][]pathPart

// parseGroupPath parses a group path template.
func parseGroupPath(tmpl string) (groupTemplate, error) {
	segs := strings.Split(strings.Trim(strings.TrimSpace(tmpl), "/"), "/")
	out := make(groupTemplate, 0, len(segs)+1)
	for i, seg := range segs {
		seg = strings.TrimSpace(seg)
		if seg == "" {
			return nil, fmt.Errorf("group path %q: segment %d is empty", tmpl, i+1)
		}
		if strings.IndexFunc(seg, unicode.IsControl) >= 0 {
			return nil, fmt.Errorf("group path %q: segment %d holds a control character", tmpl, i+1)
		}
		var parts []pathPart
		for seg != "" {
			open := strings.IndexByte(seg, '<')
			literal := seg
			if open >= 0 {
				literal = seg[:open]
			}
			if strings.IndexByte(literal, '>') >= 0 {
				return nil, fmt.Errorf("group path %q: '>' without '<' in segment %d", tmpl, i+1)
			}
			if open < 0 {
				parts = append(parts, pathPart{text: seg})
				break
			}
			if open > 0 {
				parts = append(parts, pathPart{text: seg[:open]})
			}
			end := strings.IndexByte(seg[open:], '>')
			if end < 0 {
				return nil, fmt.Errorf("group path %q: unclosed '<' in segment %d", tmpl, i+1)
			}
			name := strings.TrimSpace(seg[open+1 : open+end])
			f, err := lookupGroupField(name)
			if err != nil {
				return nil, fmt.Errorf("group path %q: %w", tmpl, err)
			}
			parts = append(parts, pathPart{text: name, field: f})
			seg = seg[open+end+1:]
		}
		out = append(out, parts)
	}
	if len(out[0]) != 1 || out[0][0].field != nil || !strings.EqualFold(out[0][0].text, wug.RootGroupName) {
		out = append(groupTemplate{{{text: wug.RootGroupName}}}, out...)
	}
	return out, nil
}

func lookupGroupField(name string) (groupField, error) {
	lower := strings.ToLower(name)
	if cf, ok := strings.CutPrefix(lower, "cf."); ok && cf != "" {
		cf = name[len("cf."):]
		return func(s Source) string {
			v, ok := s.Device.CustomFields[cf]
			if !ok {
				return ""
			}
			return cleanText(renderCustomField(v))
		}, nil
	}
	if f, ok := groupFields[lower]; ok {
		return f, nil
	}
	return nil, fmt.Errorf("unknown field <%s> (want one of site, region, location, rack, role, tenant, platform, manufacturer, model, cluster, status, kind, vrf, cf.NAME)", name)
}

// render builds the group path for s; placeholder fills missing fields.
func (g groupTemplate) render(s Source, placeholder string) string {
	var b strings.Builder
	for i, seg := range g {
		if i > 0 {
			b.WriteString(groupPathSeparator)
		}
		start := b.Len()
		for _, p := range seg {
			if p.field == nil {
				b.WriteString(p.text)
				continue
			}
			v := p.field(s)
			if v == "" {
				v = placeholder
			}
			b.WriteString(groupName(v))
		}
		if b.Len() == start {
			b.WriteString(placeholder)
		}
	}
	return b.String()
}

// groupName makes a NetBox value safe as one WUG group name: no path
// separator, no control characters, no surrounding spaces.
func groupName(v string) string {
	return cleanText(strings.ReplaceAll(v, groupPathSeparator, "-"))
}

// cleanGroupPath tidies a path returned by a Group hook: names trimmed,
// empty names dropped, rooted at "My Network".
func cleanGroupPath(p, placeholder string) string {
	var names []string
	for _, n := range strings.Split(p, groupPathSeparator) {
		if n = cleanText(n); n != "" {
			names = append(names, n)
		}
	}
	if len(names) == 0 {
		return wug.RootGroupName + groupPathSeparator + placeholder
	}
	if !strings.EqualFold(names[0], wug.RootGroupName) {
		names = append([]string{wug.RootGroupName}, names...)
	}
	return strings.Join(names, groupPathSeparator)
}
