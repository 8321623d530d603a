package wugtest

import (
	"net/http"
	"strings"
)

// roleAssignment is WUG's DeviceRoleAssignment.
type roleAssignment struct {
	Kind string `json:"kind"`
	Name string `json:"name"`
}

// roleKinds maps the kind filter of GET /devices/{id}/roles/- to the kind
// an assignment reports.
var roleKinds = map[string]string{"role": "role", "brand": "brandModel", "os": "os", "subRole": "subRole"}

// roles lists d's roles, primary role first; want is an assignment kind,
// or "" for all.
func (d *device) roles(want string) []roleAssignment {
	out := []roleAssignment{}
	add := func(kind, name string) {
		if want == "" || want == kind {
			out = append(out, roleAssignment{Kind: kind, Name: name})
		}
	}
	add("role", d.role)
	add("brandModel", d.brand)
	add("os", d.os)
	for _, r := range d.subRoles {
		add("subRole", r)
	}
	return out
}

// listRoles serves GET /devices/{deviceId}/roles/-; data is the array.
func (h *Handler) listRoles(c *call) {
	want := ""
	switch k := c.query.Get("kind"); k {
	case "", "all":
	default:
		if want = roleKinds[k]; want == "" {
			c.fail(http.StatusBadRequest, "query parameter kind: %q is not all, role, brand, os or subRole", k)
			return
		}
	}
	c.withDevice(func(_ *state, d *device) { c.data(d.roles(want)) })
}

// assignRole gives d the role name of kind ("primary", "os" or "brand").
// A primary role must exist in the role library ([Handler.AddRole]); any
// operating system or brand name is taken, as templates take them.
func (s *state) assignRole(d *device, kind, name string) {
	switch kind {
	case "primary":
		d.role = name
	case "os":
		d.os = name
	case "brand":
		d.brand = name
	}
}

// checkRole answers 400 for an empty name or an unknown primary role.
func (c *call) checkRole(kind, name string) bool {
	switch {
	case strings.TrimSpace(name) == "":
		c.fail(http.StatusBadRequest, "a %s role name is required", kind)
	case kind == "primary" && !c.h.st.roles[strings.ToLower(name)]:
		c.fail(http.StatusBadRequest, "role %q not found or disabled", name)
	default:
		return true
	}
	return false
}

// roleMany serves PATCH /devices/-/roles/{kind} (BulkAssignDeviceRoleWithName):
// one role for every listed device, answered with a bare
// CountedSuccessResult as the contract declares.
func (h *Handler) roleMany(kind string) func(*call) {
	return func(c *call) {
		var b struct {
			Devices idList `json:"devices"`
			Name    string `json:"name"`
		}
		if !c.decode(&b) {
			return
		}
		h.mu.Lock()
		defer h.mu.Unlock()
		if !c.checkRole(kind, b.Name) {
			return
		}
		c.json(h.st.eachDevice(b.Devices, func(d *device) error { h.st.assignRole(d, kind, b.Name); return nil }))
	}
}

// roleOne serves PUT /devices/{deviceId}/roles/{kind}, the role named by
// the query parameter param; the answer is a bare SuccessResult.
func (h *Handler) roleOne(kind, param string) func(*call) {
	return func(c *call) {
		name := c.query.Get(param)
		c.withDevice(func(s *state, d *device) {
			if !c.checkRole(kind, name) {
				return
			}
			s.assignRole(d, kind, name)
			c.json(successResult{true})
		})
	}
}

// subRoleMany serves PATCH /devices/-/roles/sub-role
// (BulkDeviceAssignSubRole): clear, add, delete or replace sub-roles on
// every listed device. Sub-roles must exist in the role library.
func (h *Handler) subRoleMany(c *call) {
	var b struct {
		Devices   idList   `json:"devices"`
		Operation string   `json:"operation"`
		SubRoles  []string `json:"subroles"`
	}
	if !c.decode(&b) {
		return
	}
	op := strings.ToLower(b.Operation)
	switch op {
	case "clear", "add", "delete", "replace":
	default:
		c.fail(http.StatusBadRequest, "operation %q is not clear, add, delete or replace", b.Operation)
		return
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if op != "clear" {
		for _, r := range b.SubRoles {
			if !h.st.roles[strings.ToLower(r)] {
				c.fail(http.StatusBadRequest, "sub-role %q not found or disabled", r)
				return
			}
		}
	}
	c.json(h.st.eachDevice(b.Devices, func(d *device) error {
		switch op {
		case "clear":
			d.subRoles = nil
		case "replace":
			d.subRoles = append([]string(nil), b.SubRoles...)
		case "add":
			for _, r := range b.SubRoles {
				if !anyFold(d.subRoles, r) {
					d.subRoles = append(d.subRoles, r)
				}
			}
		case "delete":
			kept := d.subRoles[:0]
			for _, r := range d.subRoles {
				if !anyFold(b.SubRoles, r) {
					kept = append(kept, r)
				}
			}
			d.subRoles = kept
		}
		return nil
	}))
}
