package wugtest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
)

// groupSummary is WUG's DeviceGroupSummary; the root has no parentGroupId.
type groupSummary struct {
	ID            string        `json:"id"`
	ParentGroupID string        `json:"parentGroupId,omitempty"`
	Name          string        `json:"name"`
	Description   string        `json:"description,omitempty"`
	Details       *groupDetails `json:"details,omitempty"`
}

type groupDetails struct {
	GroupType             string `json:"groupType"`
	MonitorState          string `json:"monitorState"`
	ChildrenCount         int    `json:"childrenCount"`
	DeviceChildrenCount   int    `json:"deviceChildrenCount"`
	DeviceDescendantCount int    `json:"deviceDescendantCount"`
}

func (s *state) summary(g *group, detail bool) groupSummary {
	out := groupSummary{ID: strconv.Itoa(g.id), Name: g.name, Description: g.desc}
	if g.id != rootGroupID {
		out.ParentGroupID = strconv.Itoa(g.parent)
	}
	if detail {
		desc := 0
		for gid := range s.descendants(g) {
			desc += len(s.groups[gid].devices)
		}
		out.Details = &groupDetails{
			GroupType: g.typ, MonitorState: s.groupState(g), ChildrenCount: len(g.children),
			DeviceChildrenCount: len(g.devices), DeviceDescendantCount: desc,
		}
	}
	return out
}

// groupState summarises the worst state among a group's own devices.
func (s *state) groupState(g *group) string {
	st := "Unknown"
	for id := range g.devices {
		switch s.devices[id].worst {
		case "Down":
			return "Down"
		case "Up":
			st = "Up"
		}
	}
	return st
}

// groupView reads view=summary|detail.
func (c *call) groupView() (bool, bool) {
	switch v := c.query.Get("view"); v {
	case "", "summary":
		return false, true
	case "detail":
		return true, true
	default:
		c.fail(http.StatusBadRequest, "query parameter view: %q is not summary or detail", v)
		return false, false
	}
}

// groupTypeFilter reads the group-type filter (groupType on group lists,
// type on a device's groups).
func (c *call) groupTypeFilter(param string) (func(*group) bool, bool) {
	switch v := c.query.Get(param); v {
	case "", "all":
		return func(*group) bool { return true }, true
	case "static_group":
		return func(g *group) bool { return g.typ == "static" }, true
	case "dynamic_group":
		return func(g *group) bool { return g.typ == "dynamic" }, true
	case "layer2":
		return func(g *group) bool { return g.typ == "layer2" }, true
	default:
		c.fail(http.StatusBadRequest, "query parameter %s: %q is not all, static_group, dynamic_group or layer2", param, v)
		return nil, false
	}
}

// pageGroups pages over ids (ascending) keeping those keep accepts, and
// writes {"paging", "data": wrap(summaries)}.
func (c *call) pageGroups(ids []int, keep func(*group) bool, wrap func([]groupSummary) any) {
	detail, ok := c.groupView()
	if !ok {
		return
	}
	limit, ok := c.limit()
	if !ok {
		return
	}
	s := c.h.st
	writePage(c, ids, limit, func(id int) bool { return keep(s.groups[id]) },
		func(id int) groupSummary { return s.summary(s.groups[id], detail) }, wrap)
}

// listGroups serves GET /device-groups/-: every group, nested ones included,
// as one flat list (root first), filtered by search and groupType.
func (h *Handler) listGroups(c *call) {
	typeOK, ok := c.groupTypeFilter("groupType")
	if !ok {
		return
	}
	needle := strings.ToLower(c.query.Get("search"))
	h.mu.Lock()
	defer h.mu.Unlock()
	c.pageGroups(h.st.groupOrder, func(g *group) bool {
		return typeOK(g) && strings.Contains(strings.ToLower(g.name), needle)
	}, func(gs []groupSummary) any { return map[string]any{"groups": gs} })
}

// withGroup runs fn on the group named by the groupId path parameter under
// the state lock, answering 404 when there is none.
func (c *call) withGroup(fn func(s *state, g *group)) {
	withObject(c, "device group", "groupId", func(s *state) map[int]*group { return s.groups }, fn)
}

// getGroup serves GET /device-groups/{groupId}.
func (h *Handler) getGroup(c *call) {
	detail, ok := c.groupView()
	if !ok {
		return
	}
	c.withGroup(func(s *state, g *group) { c.data(s.summary(g, detail)) })
}

// groupStatus serves GET /device-groups/{groupId}/status.
func (h *Handler) groupStatus(c *call) {
	c.withGroup(func(s *state, g *group) {
		counts := map[string]int{}
		ids := s.groupDevices(g, true)
		for _, id := range ids {
			counts[s.devices[id].worst]++
		}
		var sums []map[string]any
		for _, st := range []string{"Up", "Down", "Maintenance", "Unknown"} {
			if counts[st] > 0 {
				sums = append(sums, map[string]any{"state": st, "deviceCount": counts[st]})
			}
		}
		if sums == nil {
			sums = []map[string]any{}
		}
		c.data(map[string]any{"id": strconv.Itoa(g.id), "totalDevices": len(ids), "stateSummaries": sums})
	})
}

// groupChildren serves GET /device-groups/{groupId}/children: immediate
// children, or every descendant with returnHierarchy=true.
func (h *Handler) groupChildren(c *call) {
	hier, ok := c.queryBool("returnHierarchy", false)
	if !ok {
		return
	}
	typeOK, ok := c.groupTypeFilter("groupType")
	if !ok {
		return
	}
	needle := strings.ToLower(c.query.Get("search"))
	c.withGroup(func(s *state, g *group) {
		var ids []int
		if hier {
			for id := range s.descendants(g) {
				if id != g.id {
					ids = append(ids, id)
				}
			}
		} else {
			ids = append(ids, g.children...)
		}
		slices.Sort(ids)
		c.pageGroups(ids, func(x *group) bool {
			return typeOK(x) && strings.Contains(strings.ToLower(x.name), needle)
		}, func(gs []groupSummary) any {
			return map[string]any{"parentGroupId": strconv.Itoa(g.id), "groups": gs}
		})
	})
}

// groupCreation is DeviceGroupCreation.
type groupCreation struct {
	Name              string `json:"name"`
	Description       string `json:"description"`
	GroupType         string `json:"groupType"`
	DynamicDefinition *struct {
		Filter string `json:"filter"`
	} `json:"dynamicDefinition"`
}

// addChildGroup serves POST /device-groups/{groupId}/child. The name is
// required and must be unique (case-insensitively) under the parent.
func (h *Handler) addChildGroup(c *call) {
	var b groupCreation
	if !c.decode(&b) {
		return
	}
	b.Name = strings.TrimSpace(b.Name)
	if b.Name == "" {
		c.fail(http.StatusBadRequest, "name is required")
		return
	}
	typ := strings.ToLower(b.GroupType)
	switch typ {
	case "", "static":
		typ = "static"
	case "dynamic", "layer2":
	default:
		c.fail(http.StatusBadRequest, "groupType %q is not static, dynamic or layer2", b.GroupType)
		return
	}
	c.withGroup(func(s *state, parent *group) {
		if parent.typ != "static" {
			c.fail(http.StatusBadRequest, "group %d is not a static group and cannot have children", parent.id)
			return
		}
		if s.child(parent, b.Name) != nil {
			c.fail(http.StatusBadRequest, "a group named %q already exists under group %d", b.Name, parent.id)
			return
		}
		g := s.addGroup(parent.id, b.Name, b.Description, typ)
		if b.DynamicDefinition != nil {
			g.filter = b.DynamicDefinition.Filter
		}
		c.data(s.summary(g, false))
	})
}

type groupDefinition struct {
	ID                string          `json:"id"`
	ParentGroupID     string          `json:"parentGroupId,omitempty"`
	Name              string          `json:"name"`
	Description       string          `json:"description,omitempty"`
	GroupType         string          `json:"groupType"`
	DynamicDefinition *map[string]any `json:"dynamicDefinition,omitempty"`
}

// getDefinition serves GET /device-groups/{groupId}/definition.
func (h *Handler) getDefinition(c *call) {
	c.withGroup(func(s *state, g *group) {
		def := groupDefinition{ID: strconv.Itoa(g.id), Name: g.name, Description: g.desc, GroupType: g.typ}
		if g.id != rootGroupID {
			def.ParentGroupID = strconv.Itoa(g.parent)
		}
		if g.typ == "dynamic" {
			m := map[string]any{"filter": g.filter}
			def.DynamicDefinition = &m
		}
		c.data(def)
	})
}

// putDefinition serves PUT /device-groups/{groupId}/definition: rename,
// describe or move a group; empty or absent fields are left unchanged.
func (h *Handler) putDefinition(c *call) {
	var b struct {
		Name              string `json:"name"`
		Description       string `json:"description"`
		ParentGroupID     string `json:"parentGroupId"`
		DynamicDefinition *struct {
			Filter string `json:"filter"`
		} `json:"dynamicDefinition"`
	}
	if !c.decode(&b) {
		return
	}
	c.withGroup(func(s *state, g *group) {
		parent := s.groups[g.parent]
		if b.ParentGroupID != "" {
			if g.id == rootGroupID {
				c.fail(http.StatusBadRequest, "the root group cannot be moved")
				return
			}
			parent = s.group(b.ParentGroupID)
			if parent == nil {
				c.notFound("parent group", b.ParentGroupID)
				return
			}
			if s.isAncestor(g, parent) {
				c.fail(http.StatusBadRequest, "group %d cannot move under its own descendant %d", g.id, parent.id)
				return
			}
		}
		name := g.name
		if strings.TrimSpace(b.Name) != "" {
			name = strings.TrimSpace(b.Name)
		}
		if parent != nil {
			if other := s.child(parent, name); other != nil && other != g {
				c.fail(http.StatusBadRequest, "a group named %q already exists under group %d", name, parent.id)
				return
			}
			if parent.id != g.parent {
				old := s.groups[g.parent]
				old.children = removeInt(old.children, g.id)
				parent.children = append(parent.children, g.id)
				g.parent = parent.id
			}
		}
		g.name = name
		if b.Description != "" {
			g.desc = b.Description
		}
		if b.DynamicDefinition != nil && g.typ == "dynamic" {
			g.filter = b.DynamicDefinition.Filter
		}
		c.json(successResult{true})
	})
}

// deleteGroup serves DELETE /device-groups/{groupId}: only an empty group
// (no child groups, no devices) can go, and never the root.
func (h *Handler) deleteGroup(c *call) {
	c.withGroup(func(s *state, g *group) {
		switch {
		case g.id == rootGroupID:
			c.fail(http.StatusBadRequest, "the root group cannot be deleted")
		case len(g.children) > 0 || len(g.devices) > 0:
			c.fail(http.StatusBadRequest, "group %d is not empty (%d child groups, %d devices)", g.id, len(g.children), len(g.devices))
		default:
			s.removeGroup(g)
			c.json(successResult{true})
		}
	})
}

// membershipChange applies one device-to-group change, enforcing WUG's
// rules: static groups only, and a device keeps at least one static group.
func (s *state) membershipChange(d *device, g *group, add bool) error {
	if g.typ != "static" {
		return fmt.Errorf("group %d is a %s group; only static membership can change", g.id, g.typ)
	}
	if add {
		s.join(d, g)
		return nil
	}
	if !d.groups[g.id] {
		return nil
	}
	if s.staticGroups(d) <= 1 {
		return fmt.Errorf("device %d cannot leave group %d: it is the device's last static group", d.id, g.id)
	}
	s.leave(d, g)
	return nil
}

// groupMembers handles the group side of membership (bare Counted result).
func (h *Handler) groupMembers(c *call, ids []string, add bool) {
	c.withGroup(func(s *state, g *group) {
		c.json(s.eachDevice(ids, func(d *device) error { return s.membershipChange(d, g, add) }))
	})
}

// addGroupMembers serves POST /device-groups/{groupId}/devices/-.
func (h *Handler) addGroupMembers(c *call) {
	var b bulkDevices
	if c.decode(&b) {
		h.groupMembers(c, b.Devices, true)
	}
}

// removeGroupMembers serves DELETE /device-groups/{groupId}/devices/- (a
// DELETE with the same JSON body as the POST).
func (h *Handler) removeGroupMembers(c *call) {
	var b bulkDevices
	if c.decode(&b) {
		h.groupMembers(c, b.Devices, false)
	}
}

// removeGroupMember serves DELETE /device-groups/{groupId}/devices/{deviceId}.
func (h *Handler) removeGroupMember(c *call) {
	h.groupMembers(c, []string{c.params["deviceId"]}, false)
}

// deviceGroups serves GET /devices/{deviceId}/group/-: data is the array.
func (h *Handler) deviceGroups(c *call) {
	typeOK, ok := c.groupTypeFilter("type")
	if !ok {
		return
	}
	view := c.query.Get("view")
	switch view {
	case "", "id", "summary", "detail":
	default:
		c.fail(http.StatusBadRequest, "query parameter view: %q is not id, summary or detail", view)
		return
	}
	limit, needle, ok := c.pageQuery()
	if !ok {
		return
	}
	c.withDevice(func(s *state, d *device) {
		writePage(c, sortedKeys(d.groups), limit, func(id int) bool {
			g := s.groups[id]
			return typeOK(g) && strings.Contains(strings.ToLower(g.name), needle)
		}, func(id int) groupSummary {
			if view == "id" {
				return groupSummary{ID: strconv.Itoa(id)}
			}
			return s.summary(s.groups[id], view == "detail")
		}, func(out []groupSummary) any { return out })
	})
}

// assignDeviceGroup serves PUT /devices/{deviceId}/group/-, whose body is
// a bare JSON string holding the group id, e.g. "5".
func (h *Handler) assignDeviceGroup(c *call) {
	var id looseString
	if err := json.Unmarshal(c.body, &id); err != nil || id == "" {
		c.fail(http.StatusBadRequest, "body must be the group id as a JSON string, e.g. \"5\"")
		return
	}
	c.withDeviceGroup(string(id), func(s *state, d *device, g *group) {
		if err := s.membershipChange(d, g, true); err != nil {
			c.fail(http.StatusBadRequest, "%v", err)
			return
		}
		c.json(successResult{true})
	})
}

// patchDeviceGroups serves PATCH /devices/{deviceId}/group/-: deletions run
// first, then additions; unknown groups are reported per id.
func (h *Handler) patchDeviceGroups(c *call) {
	var b struct {
		GroupsToAdd    idList `json:"groupsToAdd"`
		GroupsToDelete idList `json:"groupsToDelete"`
	}
	if !c.decode(&b) {
		return
	}
	c.withDevice(func(s *state, d *device) {
		res := newCounted()
		for _, step := range []struct {
			ids []string
			add bool
		}{{b.GroupsToDelete, false}, {b.GroupsToAdd, true}} {
			applyEach(res, "device group", step.ids, s.group, func(g *group) error { return s.membershipChange(d, g, step.add) })
		}
		c.data(res.done())
	})
}

// leaveGroup serves DELETE /devices/{deviceId}/group/{groupId}.
func (h *Handler) leaveGroup(c *call) {
	c.withDeviceGroup(c.params["groupId"], func(s *state, d *device, g *group) {
		if !d.groups[g.id] {
			c.fail(http.StatusBadRequest, "device %d is not a member of group %d", d.id, g.id)
			return
		}
		if err := s.membershipChange(d, g, false); err != nil {
			c.fail(http.StatusBadRequest, "%v", err)
			return
		}
		c.json(successResult{true})
	})
}

// isMember serves GET /devices/{deviceId}/group/{groupId}/is-member.
func (h *Handler) isMember(c *call) {
	c.withDeviceGroup(c.params["groupId"], func(_ *state, d *device, g *group) {
		c.json(successResult{d.groups[g.id]})
	})
}

// withDeviceGroup runs fn on the device named by the deviceId path
// parameter and the group with id groupID, answering 404 when either is
// missing.
func (c *call) withDeviceGroup(groupID string, fn func(s *state, d *device, g *group)) {
	c.withDevice(func(s *state, d *device) {
		g := s.group(groupID)
		if g == nil {
			c.notFound("device group", groupID)
			return
		}
		fn(s, d, g)
	})
}
