package export

import (
	"fmt"
	"strings"
	"unicode"

	"github.com/wugsync/wugsync/netbox"
	"github.com/wugsync/wugsync/wug"
)

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
