package wugtest

import (
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"
)

// Request shapes of PATCH /devices/-/config/template (DeviceTemplateBatch).
// encoding/json matches keys case-insensitively, as WUG's binder does.
type templateBatch struct {
	Options   []string         `json:"options"`
	Templates []deviceTemplate `json:"templates"`
}

type deviceTemplate struct {
	TemplateID   string          `json:"templateId,omitempty"`
	DisplayName  string          `json:"displayName"`
	DeviceType   string          `json:"deviceType,omitempty"`
	SnmpOid      string          `json:"snmpOid,omitempty"`
	SnmpPort     looseString     `json:"snmpPort,omitempty"`
	PollInterval looseString     `json:"pollInterval,omitempty"`
	PrimaryRole  string          `json:"primaryRole,omitempty"`
	SubRoles     []string        `json:"subRoles,omitempty"`
	OS           string          `json:"os,omitempty"`
	Brand        string          `json:"brand,omitempty"`
	ActionPolicy string          `json:"actionPolicy,omitempty"`
	Note         string          `json:"note,omitempty"`
	AutoRefresh  looseString     `json:"autoRefresh,omitempty"`
	Credentials  []tplCredential `json:"credentials,omitempty"`
	Interfaces   []tplInterface  `json:"interfaces,omitempty"`
	Attributes   []nameValue     `json:"attributes,omitempty"`
	CustomLinks  []nameValue     `json:"customLinks,omitempty"`
	Active       []tplMonitor    `json:"activeMonitors,omitempty"`
	Performance  []tplMonitor    `json:"performanceMonitors,omitempty"`
	Passive      []tplMonitor    `json:"passiveMonitors,omitempty"`
	Groups       []tplGroup      `json:"groups,omitempty"`
	Layer2Data   string          `json:"layer2Data,omitempty"`
}

type tplCredential struct {
	CredentialType string `json:"credentialType,omitempty"`
	Credential     string `json:"credential"`
}

type tplInterface struct {
	DefaultInterface     looseBool `json:"defaultInterface"`
	PollUsingNetworkName looseBool `json:"pollUsingNetworkName"`
	NetworkAddress       string    `json:"networkAddress"`
	NetworkName          string    `json:"networkName,omitempty"`
}

type tplMonitor struct {
	ClassID string `json:"classId,omitempty"`
	Name    string `json:"name"`
}

type tplGroup struct {
	Name    string   `json:"name"`
	Parents []string `json:"parents,omitempty"`
}

type templateMap struct {
	TemplateID string `json:"templateId"`
	ResultID   string `json:"resultId"`
}

type templateErrors struct {
	TemplateID string   `json:"templateId"`
	Messages   []string `json:"messages"`
}

type applyResults struct {
	IDMap      []templateMap    `json:"idMap"`
	Errors     []templateErrors `json:"errors"`
	Update     *scanStarted     `json:"update,omitempty"`
	Operations int              `json:"operations"`
	Successful int              `json:"successful"`
}

// scanStarted is WUG's NamedResourceSuccessResult for a started scan.
type scanStarted struct {
	ID          string `json:"id"`
	Name        string `json:"name,omitempty"`
	Description string `json:"description,omitempty"`
	Success     bool   `json:"success"`
}

// templateProblems checks what makes a template fail outright: WUG's
// required fields and the contract's length limits.
func templateProblems(t *deviceTemplate) []string {
	var p []string
	if strings.TrimSpace(t.DisplayName) == "" {
		p = append(p, "displayName is required")
	}
	if n := len([]rune(t.DisplayName)); n > 150 {
		p = append(p, fmt.Sprintf("displayName is %d characters; the limit is 150", n))
	}
	if len([]rune(t.SnmpOid)) > 256 {
		p = append(p, "snmpOid exceeds 256 characters")
	}
	if len([]rune(t.Brand)) > 256 {
		p = append(p, "brand exceeds 256 characters")
	}
	if len(t.Interfaces) == 0 {
		p = append(p, "at least one interface is required")
	}
	defaults := 0
	for i, in := range t.Interfaces {
		if in.DefaultInterface {
			defaults++
		}
		if len(in.NetworkAddress) > 100 {
			p = append(p, fmt.Sprintf("interfaces[%d].networkAddress exceeds 100 characters", i))
		} else if _, err := netip.ParseAddr(in.NetworkAddress); err != nil {
			p = append(p, fmt.Sprintf("interfaces[%d].networkAddress %q is not a valid IP address", i, in.NetworkAddress))
		}
		if len([]rune(in.NetworkName)) > 256 {
			p = append(p, fmt.Sprintf("interfaces[%d].networkName exceeds 256 characters", i))
		}
	}
	if defaults > 1 {
		p = append(p, "only one interface may be the default")
	}
	for i, a := range t.Attributes {
		if len([]rune(a.Name)) > 150 {
			p = append(p, fmt.Sprintf("attributes[%d].name exceeds 150 characters", i))
		}
		if len([]rune(a.Value)) > 3000 {
			p = append(p, fmt.Sprintf("attributes[%d].value exceeds 3000 characters", i))
		}
	}
	for i, l := range t.CustomLinks {
		if len([]rune(l.Name)) > 150 || len([]rune(l.Value)) > 1024 {
			p = append(p, fmt.Sprintf("customLinks[%d] exceeds the name (150) or value (1024) limit", i))
		}
	}
	if t.PollInterval != "" {
		n, err := strconv.Atoi(string(t.PollInterval))
		if err != nil || n < 10 || n > 84600 {
			p = append(p, fmt.Sprintf("pollInterval %q must be seconds between 10 and 84600", t.PollInterval))
		}
	}
	return p
}

// applyTemplates serves PATCH /devices/-/config/template. Every valid
// template creates a new device, even one identical to an existing device
// (WUG never matches templates to devices). Unknown monitors, credentials and
// roles are reported as warnings in errors[] while the device is still
// created; an invalid template gets an errors[] entry and no idMap entry.
func (h *Handler) applyTemplates(c *call) {
	var b templateBatch
	if !c.decode(&b) {
		return
	}
	update := false
	for _, o := range b.Options {
		if strings.HasPrefix(strings.ToLower(o), "update") {
			update = true
		}
	}
	res := applyResults{IDMap: []templateMap{}, Errors: []templateErrors{}}
	h.mu.Lock()
	defer h.mu.Unlock()
	s := h.st
	var created []int
	for i := range b.Templates {
		t := &b.Templates[i]
		res.Operations++
		if t.TemplateID == "" {
			t.TemplateID = strconv.Itoa(i + 1)
		}
		if p := templateProblems(t); len(p) > 0 {
			res.Errors = append(res.Errors, templateErrors{TemplateID: t.TemplateID, Messages: p})
			continue
		}
		d, warnings := s.createFromTemplate(t)
		res.IDMap = append(res.IDMap, templateMap{TemplateID: t.TemplateID, ResultID: strconv.Itoa(d.id)})
		res.Successful++
		created = append(created, d.id)
		if len(warnings) > 0 {
			res.Errors = append(res.Errors, templateErrors{TemplateID: t.TemplateID, Messages: warnings})
		}
	}
	if update && len(created) > 0 {
		sc := h.startScanLocked("refresh", "Template update", nil, created, rootGroupID, newDeviceOptions{})
		res.Update = &scanStarted{ID: sc.id, Name: sc.name, Description: sc.desc, Success: true}
	}
	c.data(res)
}

// createFromTemplate makes a device from a checked template and returns
// the warnings for what could not be applied.
func (s *state) createFromTemplate(t *deviceTemplate) (*device, []string) {
	var warn []string
	d := s.newDevice()
	d.name = t.DisplayName
	def := 0
	for i, in := range t.Interfaces {
		if in.DefaultInterface {
			def = i
		}
	}
	for i, in := range t.Interfaces {
		s.addIface(d, in.NetworkAddress, in.NetworkName, i == def, bool(in.PollUsingNetworkName))
	}
	if t.DeviceType != "" {
		d.deviceType = t.DeviceType
	}
	if t.OS != "" {
		d.os = t.OS
	}
	if t.Brand != "" {
		d.brand = t.Brand
	}
	d.snmpOid, d.snmpPort, d.pollInterval, d.notes = t.SnmpOid, string(t.SnmpPort), string(t.PollInterval), t.Note
	if t.AutoRefresh != "" {
		d.keepCurr = strings.EqualFold(string(t.AutoRefresh), "true")
	}
	if t.PrimaryRole != "" {
		if s.roles[strings.ToLower(t.PrimaryRole)] {
			d.role = t.PrimaryRole
		} else {
			warn = append(warn, fmt.Sprintf("primary role %q not found or disabled; \"Device\" used", t.PrimaryRole))
		}
	}
	for _, r := range t.SubRoles {
		if s.roles[strings.ToLower(r)] {
			d.subRoles = append(d.subRoles, r)
		} else {
			warn = append(warn, fmt.Sprintf("sub-role %q not found or disabled; skipped", r))
		}
	}
	if t.ActionPolicy != "" && s.policies[strings.ToLower(t.ActionPolicy)] {
		d.actionPolicy = t.ActionPolicy
	}
	seenType := map[string]bool{}
	for _, cr := range t.Credentials {
		typ, ok := s.credentials[strings.ToLower(cr.Credential)]
		switch {
		case !ok || (cr.CredentialType != "" && !strings.EqualFold(typ, cr.CredentialType)):
			warn = append(warn, fmt.Sprintf("credential %q of type %q not found", cr.Credential, cr.CredentialType))
		case seenType[strings.ToLower(typ)]:
			warn = append(warn, fmt.Sprintf("credential %q skipped: only one credential per type (%s)", cr.Credential, typ))
		default:
			seenType[strings.ToLower(typ)] = true
			d.credentials = append(d.credentials, credRef{typ: typ, name: cr.Credential})
		}
	}
	for _, m := range []struct {
		kind string
		list []tplMonitor
		dst  *[]string
	}{{"active", t.Active, &d.active}, {"performance", t.Performance, &d.perf}, {"passive", t.Passive, &d.passive}} {
		for _, mon := range m.list {
			if s.monitors[m.kind][strings.ToLower(mon.Name)] {
				*m.dst = append(*m.dst, mon.Name)
			} else {
				warn = append(warn, fmt.Sprintf("%s monitor %q not found", m.kind, mon.Name))
			}
		}
	}
	d.customLinks = append(d.customLinks, t.CustomLinks...)
	for _, a := range t.Attributes {
		if a.Name == "" {
			warn = append(warn, "attribute with an empty name skipped")
			continue
		}
		if at := findAttr(d, a.Name); at != nil {
			at.value = a.Value
			warn = append(warn, fmt.Sprintf("attribute %q given twice; the last value kept", a.Name))
			continue
		}
		s.addAttr(d, a.Name, a.Value)
	}
	if len(t.Groups) == 0 {
		g := s.groups[discoveredGroupID]
		if g == nil || !strings.EqualFold(g.name, "Discovered Devices") {
			g = s.groups[rootGroupID]
		}
		s.join(d, g)
	}
	for _, tg := range t.Groups {
		g := s.templateGroup(tg)
		if g == nil {
			warn = append(warn, fmt.Sprintf("group %q could not be resolved", tg.Name))
			continue
		}
		if g.typ != "static" {
			warn = append(warn, fmt.Sprintf("group %q is not a static group; device not added to it", tg.Name))
			continue
		}
		s.join(d, g)
	}
	if len(d.groups) == 0 {
		s.join(d, s.groups[rootGroupID])
	}
	if len(d.active) > 0 {
		d.best, d.worst = "Up", "Up"
	}
	return d, warn
}

// templateGroup resolves a template group reference. With parents (the
// chain from "My Network" down), missing groups along it are created. With
// no parents, the oldest group of that name is used, or a new one is made
// under My Network.
func (s *state) templateGroup(tg tplGroup) *group {
	if strings.TrimSpace(tg.Name) == "" {
		return nil
	}
	if len(tg.Parents) > 0 {
		return s.ensurePath(append(append([]string{}, tg.Parents...), tg.Name))
	}
	if strings.EqualFold(tg.Name, "My Network") {
		return s.groups[rootGroupID]
	}
	for _, id := range s.groupOrder {
		if g := s.groups[id]; strings.EqualFold(g.name, tg.Name) {
			return g
		}
	}
	return s.addGroup(rootGroupID, tg.Name, "", "static")
}

// getTemplate serves GET /devices/{deviceId}/config/template: the device as
// a template, which applied again creates a duplicate.
func (h *Handler) getTemplate(c *call) {
	c.withDevice(func(s *state, d *device) {
		t := deviceTemplate{
			TemplateID: strconv.Itoa(d.id), DisplayName: d.name, DeviceType: d.deviceType,
			SnmpOid: d.snmpOid, SnmpPort: looseString(d.snmpPort), PollInterval: looseString(d.pollInterval),
			PrimaryRole: d.role, SubRoles: d.subRoles, OS: d.os, Brand: d.brand, ActionPolicy: d.actionPolicy,
			Note: d.notes, AutoRefresh: looseString(strconv.FormatBool(d.keepCurr)), CustomLinks: d.customLinks,
		}
		for _, in := range d.interfaces {
			t.Interfaces = append(t.Interfaces, tplInterface{DefaultInterface: looseBool(in.isDefault), PollUsingNetworkName: looseBool(in.byName), NetworkAddress: in.addr, NetworkName: in.name})
		}
		for _, a := range d.attrs {
			t.Attributes = append(t.Attributes, nameValue{Name: a.name, Value: a.value})
		}
		for _, cr := range d.credentials {
			t.Credentials = append(t.Credentials, tplCredential{CredentialType: cr.typ, Credential: cr.name})
		}
		for _, m := range d.active {
			t.Active = append(t.Active, tplMonitor{Name: m})
		}
		for _, m := range d.perf {
			t.Performance = append(t.Performance, tplMonitor{Name: m})
		}
		for _, m := range d.passive {
			t.Passive = append(t.Passive, tplMonitor{Name: m})
		}
		for _, gid := range sortedKeys(d.groups) {
			g := s.groups[gid]
			parts := strings.Split(s.groupPath(g), "/")
			t.Groups = append(t.Groups, tplGroup{Name: g.name, Parents: parts[:len(parts)-1]})
		}
		c.data(map[string]any{"deviceCount": 1, "errors": []string{}, "templates": []deviceTemplate{t}})
	})
}

func sortedKeys(m map[int]bool) []int {
	out := make([]int, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}
