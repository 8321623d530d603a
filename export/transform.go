package export

import (
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/wugsync/wugsync/netbox"
	"github.com/wugsync/wugsync/wug"
)

// transformer turns NetBox objects into WUG device templates by a Mapping.
// Build one with newTransformer; it is safe for concurrent use.
type transformer struct {
	m           Mapping
	group       groupTemplate
	placeholder string
	prefix      string
	cfPrefix    string
	skipCF      map[string]bool
	roles       map[string]string
	monitors    []wug.TemplateActiveMonitor
	names       map[string]string // default attribute name to its owned name
	poll        string
	states      statePolicy // roles and maintenance
}

// newTransformer checks m and fills in its defaults. It fails on a group
// path template that does not parse, a poll interval outside WUG's 10 to
// 84600 seconds, a prefix over WUG's attribute name limit, a credential
// without a name or two of one type, or an active monitor without a name.
// It keeps copies of m's slices and maps.
func newTransformer(m Mapping) (*transformer, error) {
	m.SubRoles = slices.Clone(m.SubRoles)
	m.Credentials = slices.Clone(m.Credentials)
	t := &transformer{
		m:           m,
		placeholder: cmp.Or(groupName(m.Placeholder), defaultPlaceholder),
		prefix:      cmp.Or(m.AttributePrefix, defaultAttributePrefix),
		cfPrefix:    cmp.Or(m.CustomFieldPrefix, defaultCustomFieldPrefix),
	}
	var err error
	if t.states, err = newStatePolicy(m); err != nil {
		return nil, err
	}
	if m.Group == nil {
		g, err := parseGroupPath(cmp.Or(m.GroupPath, defaultGroupPath))
		if err != nil {
			return nil, fmt.Errorf("export: mapping: %w", err)
		}
		t.group = g
	}
	if n := utf8.RuneCountInString(t.prefix + t.cfPrefix); n >= maxAttributeNameLen {
		return nil, fmt.Errorf("export: mapping: attribute prefix %q is %d characters; WUG allows %d per name", t.prefix+t.cfPrefix, n, maxAttributeNameLen)
	}
	if m.PollInterval != 0 {
		sec := m.PollInterval.Seconds()
		if sec < 10 || sec > 84600 || sec != math.Trunc(sec) {
			return nil, fmt.Errorf("export: mapping: poll interval %s: WUG wants whole seconds from 10 to 84600", m.PollInterval)
		}
		t.poll = strconv.Itoa(int(sec))
	}
	types := make(map[string]bool, len(m.Credentials))
	for _, c := range m.Credentials {
		switch {
		case strings.TrimSpace(c.Credential) == "" && c.CredentialID == 0:
			return nil, fmt.Errorf("export: mapping: a credential of type %q has no name", c.CredentialType)
		case types[strings.ToLower(c.CredentialType)]:
			return nil, fmt.Errorf("export: mapping: two credentials of type %q; WUG takes at most one per type", c.CredentialType)
		}
		types[strings.ToLower(c.CredentialType)] = true
	}
	t.skipCF = make(map[string]bool, len(m.SkipCustomFields))
	for _, name := range m.SkipCustomFields {
		t.skipCF[name] = true
	}
	// The fields write-back fills hold WUG's side; sent back to WUG as
	// attributes they would change the device after every write-back.
	for _, f := range netbox.WriteBackFields(true) {
		t.skipCF[f.Name] = true
	}
	t.roles = make(map[string]string, len(m.Roles))
	for k, v := range m.Roles {
		t.roles[strings.ToLower(k)] = v
	}
	t.names = make(map[string]string, len(attributeNames))
	for _, n := range attributeNames {
		t.names[n] = t.prefix + n
	}
	monitors := m.ActiveMonitors
	if monitors == nil {
		monitors = []string{defaultActiveMonitor}
	}
	for _, name := range monitors {
		if strings.TrimSpace(name) == "" {
			return nil, errors.New("export: mapping: an active monitor has no name")
		}
		t.monitors = append(t.monitors, wug.TemplateActiveMonitor{Name: name})
	}
	return t, nil
}

// attributeNames are the names of the default attributes, below the prefix.
var attributeNames = []string{
	"Address", "AddressID", "AssetTag", "Cluster", "Description", "DNSName", "ID", "Interface",
	"Kind", "Location", "Manufacturer", "Model", "Name", "Platform", "Position", "Rack",
	"Region", "Role", "Serial", "Site", "Status", "Tags", "Tenant", "URL", "VRF",
}

// OwnsAttribute reports whether a WUG attribute name belongs to wugsync
// (it starts with the attribute prefix, compared case-insensitively as WUG
// compares names). Updates change and delete only owned attributes.
func (t *transformer) OwnsAttribute(name string) bool { return hasOwnedPrefix(name, t.prefix) }

// AttributePrefix returns the prefix of the attribute names wugsync owns.
func (t *transformer) AttributePrefix() string { return t.prefix }

// Transform builds the WUG device template and group path for one address
// of a NetBox object. The findings are codeTruncated warnings for values
// cut to fit WUG's limits. The template's Groups place the device at the
// group path; its TemplateID is left for the caller.
func (t *transformer) Transform(s Source) (wug.DeviceTemplate, string, []Finding) {
	var groupPath string
	if t.m.Group != nil {
		groupPath = cleanGroupPath(t.m.Group(s), t.placeholder)
	} else {
		groupPath = t.group.render(s, t.placeholder)
	}

	tpl := wug.DeviceTemplate{
		DisplayName:  t.displayName(s),
		DeviceType:   t.m.DeviceType,
		PollInterval: t.poll,
		PrimaryRole:  callOr(t.m.PrimaryRole, s, t.defaultRole),
		SubRoles:     slices.Clone(t.m.SubRoles),
		Brand:        callOr(t.m.Brand, s, t.states.brand),
		OS:           callOr(t.m.OS, s, t.states.os),
		Note:         callOr(t.m.Note, s, defaultNote),
		Credentials:  slices.Clone(t.m.Credentials),
		Interfaces: []wug.TemplateInterface{{
			DefaultInterface: true,
			NetworkAddress:   s.IP.Address.Addr().WithZone("").String(),
			NetworkName:      strings.TrimSuffix(cleanText(s.IP.DNSName), "."),
		}},
		ActiveMonitors: slices.Clone(t.monitors),
	}
	if t.m.PollByName && tpl.Interfaces[0].NetworkName != "" {
		tpl.Interfaces[0].PollUsingNetworkName = true
	}

	if t.m.Attributes == nil {
		tpl.Attributes = t.defaultAttributes(s, t.prefix)
	} else {
		attrs := t.m.Attributes(s, t.defaultAttributes(s, ""))
		for i := range attrs {
			attrs[i].Name = t.prefix + attrs[i].Name
		}
		tpl.Attributes = attrs
	}

	if g, err := wug.GroupTemplate(groupPath); err == nil {
		tpl.Groups = []wug.TemplateGroup{g}
	}
	if t.m.Customize != nil {
		t.m.Customize(s, &tpl)
	}
	return tpl, groupPath, t.enforceLimits(s, &tpl)
}

// displayName is the hook's display name, or the default when the hook
// has none to give: WUG requires one.
func (t *transformer) displayName(s Source) string {
	if t.m.DisplayName != nil {
		if n := cleanText(t.m.DisplayName(s)); n != "" {
			return n
		}
	}
	return defaultDisplayName(s)
}

func callOr(hook func(Source) string, s Source, def func(Source) string) string {
	if hook != nil {
		return hook(s)
	}
	return def(s)
}

func (t *transformer) defaultRole(s Source) string {
	if r, ok := t.roles[strings.ToLower(s.Device.Role.Slug)]; ok && s.Device.Role.Slug != "" {
		return r
	}
	if r, ok := t.roles[strings.ToLower(s.Device.Role.Name)]; ok && s.Device.Role.Name != "" {
		return r
	}
	return defaultPrimaryRole
}

// defaultAttributes lists the NetBox metadata of s as attributes named
// prefix + name; empty values are left out. With the default names the
// list comes out sorted, so finishing it costs no sort.
func (t *transformer) defaultAttributes(s Source, prefix string) []wug.NameValue {
	d := s.Device
	out := make([]wug.NameValue, 0, 26+len(d.CustomFields))
	add := func(name, value string) {
		if value = strings.TrimSpace(value); value != "" {
			if prefix != "" {
				name = t.names[name]
			}
			out = append(out, wug.NameValue{Name: name, Value: value})
		}
	}
	if s.IP.IsValid() {
		add("Address", s.IP.Address.String())
	}
	if s.IP.ID != 0 {
		add("AddressID", strconv.FormatInt(s.IP.ID, 10))
	}
	add("AssetTag", d.AssetTag)
	add("Cluster", refText(d.Cluster))
	add("Description", cleanText(d.Description))
	add("DNSName", s.IP.DNSName)
	add("ID", strconv.FormatInt(d.ID, 10))
	add("Interface", s.IP.Interface)
	add("Kind", string(d.Kind))
	add("Location", refText(d.Location))
	add("Manufacturer", refText(d.Manufacturer))
	add("Model", refText(d.Model))
	add("Name", d.Name)
	add("Platform", refText(d.Platform))
	if d.Position != 0 {
		add("Position", strconv.FormatFloat(d.Position, 'f', -1, 64))
	}
	add("Rack", refText(d.Rack))
	add("Region", refText(d.Region))
	add("Role", refText(d.Role))
	add("Serial", d.Serial)
	add("Site", refText(d.Site))
	add("Status", d.Status)
	if len(d.Tags) > 0 {
		tags := make([]string, 0, len(d.Tags))
		for _, tag := range d.Tags {
			if n := refText(tag); n != "" {
				tags = append(tags, n)
			}
		}
		slices.Sort(tags)
		add("Tags", strings.Join(slices.Compact(tags), ", "))
	}
	add("Tenant", refText(d.Tenant))
	add("URL", d.URL)
	add("VRF", s.IP.VRF)
	if len(d.CustomFields) == 0 {
		return out
	}

	// Custom fields: sorted by name, then placed as one block where their
	// common prefix sorts among the others.
	base := len(out)
	for name, v := range d.CustomFields {
		if t.skipCF[name] {
			continue
		}
		if value := strings.TrimSpace(renderCustomField(v)); value != "" {
			out = append(out, wug.NameValue{Name: prefix + t.cfPrefix + name, Value: value})
		}
	}
	cf := out[base:]
	slices.SortFunc(cf, compareAttrName)
	if len(cf) > 0 {
		at, _ := slices.BinarySearchFunc(out[:base], cf[0], compareAttrName)
		slices.Reverse(out[at:base])
		slices.Reverse(cf)
		slices.Reverse(out[at:])
	}
	return out
}

// enforceLimits sorts and de-duplicates the attributes and cuts values over
// WUG's limits, returning a codeTruncated warning for each cut.
func (t *transformer) enforceLimits(s Source, tpl *wug.DeviceTemplate) []Finding {
	var out []Finding
	cut := func(v *string, limit int, what func() string) {
		if r, ok := truncate(*v, limit); ok {
			out = append(out, Finding{
				Code:    codeTruncated,
				Message: fmt.Sprintf("The %s of %s was %d characters; it is cut to WUG's limit of %d.", what(), s.IP.Address.Addr(), utf8.RuneCountInString(*v), limit),
			})
			*v = r
		}
	}
	cut(&tpl.DisplayName, maxDisplayNameLen, func() string { return "display name" })
	cut(&tpl.Brand, maxBrandLen, func() string { return "brand" })
	for i := range tpl.Interfaces {
		cut(&tpl.Interfaces[i].NetworkName, maxNetworkNameLen, func() string { return "network name" })
	}
	// Sorted first so the findings come in a stable order; again if a cut
	// name moved.
	if !slices.IsSortedFunc(tpl.Attributes, compareAttrName) {
		slices.SortStableFunc(tpl.Attributes, compareAttrName)
	}
	cutNames := false
	for i := range tpl.Attributes {
		a := &tpl.Attributes[i]
		name := a.Name
		if utf8.RuneCountInString(name) > maxAttributeNameLen {
			cut(&a.Name, maxAttributeNameLen, func() string { return fmt.Sprintf("name of attribute %q", name) })
			cutNames = true
		}
		cut(&a.Value, maxAttributeValueLen, func() string { return fmt.Sprintf("value of attribute %q", a.Name) })
	}
	if cutNames {
		slices.SortStableFunc(tpl.Attributes, compareAttrName)
	}
	// WUG names are unique and case-insensitive: keep the first of each.
	tpl.Attributes = slices.CompactFunc(tpl.Attributes, func(a, b wug.NameValue) bool {
		return strings.EqualFold(a.Name, b.Name)
	})
	return out
}

func compareAttrName(a, b wug.NameValue) int { return compareFold(a.Name, b.Name) }

// compareFold compares two strings as their simple lower-case forms,
// without allocating.
func compareFold(a, b string) int {
	for a != "" && b != "" {
		var ra, rb rune
		if a[0] < utf8.RuneSelf && b[0] < utf8.RuneSelf {
			ra, rb = rune(a[0]), rune(b[0])
			a, b = a[1:], b[1:]
			if 'A' <= ra && ra <= 'Z' {
				ra += 'a' - 'A'
			}
			if 'A' <= rb && rb <= 'Z' {
				rb += 'a' - 'A'
			}
		} else {
			var na, nb int
			ra, na = utf8.DecodeRuneInString(a)
			rb, nb = utf8.DecodeRuneInString(b)
			a, b = a[na:], b[nb:]
			ra, rb = unicode.ToLower(ra), unicode.ToLower(rb)
		}
		if ra != rb {
			return cmp.Compare(ra, rb)
		}
	}
	return cmp.Compare(len(a), len(b))
}

// truncate cuts s to limit characters, ending with truncationMarker, and
// reports whether it had to.
func truncate(s string, limit int) (string, bool) {
	if utf8.RuneCountInString(s) <= limit {
		return s, false
	}
	keep := limit - utf8.RuneCountInString(truncationMarker)
	i, n := 0, 0
	for n < keep {
		_, size := utf8.DecodeRuneInString(s[i:])
		i += size
		n++
	}
	return s[:i] + truncationMarker, true
}

// renderCustomField renders a NetBox custom field value (as decoded from
// JSON) as one attribute value: scalars as text, related objects by their
// display text or name, lists joined by ", ", other structures as compact
// JSON with sorted keys. Null renders as "".
func renderCustomField(v any) string {
	switch x := v.(type) {
	case []any:
		parts := make([]string, 0, len(x))
		for _, e := range x {
			if r := renderScalarOrObject(e); r != "" {
				parts = append(parts, r)
			}
		}
		return strings.Join(parts, ", ")
	case []string:
		return strings.Join(x, ", ")
	}
	return renderScalarOrObject(v)
}

func renderScalarOrObject(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	case bool:
		return strconv.FormatBool(x)
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	case float32:
		return strconv.FormatFloat(float64(x), 'f', -1, 32)
	case int:
		return strconv.Itoa(x)
	case int64:
		return strconv.FormatInt(x, 10)
	case int32:
		return strconv.FormatInt(int64(x), 10)
	case json.Number:
		return x.String()
	case map[string]any:
		for _, k := range []string{"display", "name", "label", "slug"} {
			if s, ok := x[k].(string); ok && s != "" {
				return s
			}
		}
	}
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}

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
