package wug

import (
	"context"
	"encoding/json"
	"maps"
	"net/url"
	"slices"
	"strings"

	"github.com/wugsync/wugsync/internal/httpx"
)

// RoleKind names the role of a device that an assignment sets: its
// primary role, its operating system or its brand. The value is the last
// path segment of the assignment endpoints.
type RoleKind string

// Role kinds for Devices.AssignRole and Devices.AssignRoles.
const (
	RolePrimary RoleKind = "primary"
	RoleOS      RoleKind = "os"
	RoleBrand   RoleKind = "brand"
)

// RoleAssignment is one role a device holds (WUG's DeviceRoleAssignment).
// Kind is "role" (the primary role), "brandModel", "os" or "subRole"
// among others; AlternateName, when set, is the name to show.
type RoleAssignment struct {
	ID              string `json:"id,omitempty"`
	Kind            string `json:"kind,omitempty"`
	Name            string `json:"name,omitempty"`
	AlternateName   string `json:"alternateName,omitempty"`
	Description     string `json:"description,omitempty"`
	IsNetworkDevice bool   `json:"isNetworkDevice,omitempty"`
	AddedByUser     bool   `json:"addedByUser,omitempty"`
	LastSeenUTC     Time   `json:"lastSeenUtc,omitzero"`
}

// UnmarshalJSON decodes a role assignment, accepting a numeric id.
func (r *RoleAssignment) UnmarshalJSON(b []byte) error {
	type wire RoleAssignment
	v := struct {
		*wire
		ID flexID `json:"id"`
	}{wire: (*wire)(r)}
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	r.ID = string(v.ID)
	return nil
}

// Roles returns the roles a device holds
// (GET /api/v1/devices/{deviceId}/roles/-). kind narrows them: "role",
// "brand", "os" or "subRole"; "" or "all" returns every kind.
func (s *DevicesService) Roles(ctx context.Context, deviceID, kind string) ([]RoleAssignment, error) {
	const op = "Devices.Roles"
	var q url.Values
	if kind != "" {
		q = url.Values{"kind": {kind}}
	}
	var out []RoleAssignment
	if err := s.c.do(ctx, request{method: "GET", path: "/devices/" + escape(deviceID) + "/roles/-", query: q}, &out, nil); err != nil {
		return nil, opErr(op, err)
	}
	return out, nil
}

// roleBody is BulkAssignDeviceRoleWithName.
type roleBody struct {
	Devices []string `json:"devices"`
	Name    string   `json:"name"`
}

func (k RoleKind) check() error {
	switch k {
	case RolePrimary, RoleOS, RoleBrand:
		return nil
	}
	return inputErr("kind", "%q is not primary, os or brand", string(k))
}

// AssignRole gives every listed device the role name of kind in one request
// (PATCH /api/v1/devices/-/roles/{primary|os|brand}); name is a role's name
// or id. Assigning is idempotent, so the request is retried like a batch
// delete. Devices WUG could not change come back in a *ResultError next to
// the result.
func (s *DevicesService) AssignRole(ctx context.Context, kind RoleKind, name string, deviceIDs []string) (*CountedResult, error) {
	const op = "Devices.AssignRole"
	if err := kind.check(); err != nil {
		return nil, opErr(op, err)
	}
	if strings.TrimSpace(name) == "" {
		return nil, opErr(op, inputErr("name", "empty role name"))
	}
	return s.c.counted(ctx, op, request{method: "PATCH", path: "/devices/-/roles/" + string(kind), body: roleBody{Devices: deviceIDs, Name: name}, repeat: httpx.RepeatSafe}, len(deviceIDs))
}

// AssignRoles gives each device in byDevice (device id to role name) its
// role of kind with the fewest requests the contract allows: one
// PATCH /api/v1/devices/-/roles/{primary|os|brand} per distinct name, in
// name order, each listing every device that gets that name. The result
// adds up the answers; devices WUG could not change come back in one
// *ResultError. A request that fails stops the rest and returns what the
// earlier ones did with the error. An empty name is an *InputError and
// sends nothing; an empty map sends nothing.
func (s *DevicesService) AssignRoles(ctx context.Context, kind RoleKind, byDevice map[string]string) (*CountedResult, error) {
	const op = "Devices.AssignRoles"
	if err := kind.check(); err != nil {
		return nil, opErr(op, err)
	}
	byName := map[string][]string{}
	for id, name := range byDevice {
		if strings.TrimSpace(name) == "" {
			return nil, opErr(op, inputErr("name", "empty role name for device %s", id))
		}
		byName[name] = append(byName[name], id)
	}
	total := &CountedResult{Success: true}
	for _, name := range slices.Sorted(maps.Keys(byName)) {
		ids := byName[name]
		slices.Sort(ids)
		res, err := s.c.counted(ctx, op, request{method: "PATCH", path: "/devices/-/roles/" + string(kind), body: roleBody{Devices: ids, Name: name}, repeat: httpx.RepeatSafe}, len(ids))
		if res != nil {
			total.add(res)
		}
		if err != nil && res == nil {
			return total, err
		}
	}
	return total, total.check(op)
}

// add folds another answer of the same operation into r.
func (r *CountedResult) add(o *CountedResult) {
	r.SuccessfulOperations += o.SuccessfulOperations
	r.ResourcesNotAllowed = append(r.ResourcesNotAllowed, o.ResourcesNotAllowed...)
	r.ResourcesWithErrors = append(r.ResourcesWithErrors, o.ResourcesWithErrors...)
	r.Errors = append(r.Errors, o.Errors...)
	r.LimitReached = r.LimitReached || o.LimitReached
	r.MaximumReached = r.MaximumReached || o.MaximumReached
	r.Success = r.Success && o.Success
}

// SubRoleOp says what Devices.ChangeSubRoles does with its sub-roles.
type SubRoleOp string

// Sub-role operations (BulkDeviceAssignSubRole's operation).
const (
	SubRolesAdd     SubRoleOp = "add"
	SubRolesDelete  SubRoleOp = "delete"
	SubRolesReplace SubRoleOp = "replace"
	// SubRolesClear removes every sub-role; the list is ignored.
	SubRolesClear SubRoleOp = "clear"
)

// ChangeSubRoles adds, deletes or replaces the sub-roles (names or ids) of
// every listed device, or clears them, in one request
// (PATCH /api/v1/devices/-/roles/sub-role).
func (s *DevicesService) ChangeSubRoles(ctx context.Context, op SubRoleOp, subRoles, deviceIDs []string) (*CountedResult, error) {
	const name = "Devices.ChangeSubRoles"
	switch op {
	case SubRolesClear:
		subRoles = nil
	case SubRolesAdd, SubRolesDelete, SubRolesReplace:
		if len(subRoles) == 0 && op != SubRolesReplace {
			return nil, opErr(name, inputErr("subroles", "empty list"))
		}
	default:
		return nil, opErr(name, inputErr("operation", "%q is not add, delete, replace or clear", string(op)))
	}
	body := struct {
		Devices   []string  `json:"devices"`
		Operation SubRoleOp `json:"operation"`
		SubRoles  []string  `json:"subroles,omitempty"`
	}{deviceIDs, op, subRoles}
	return s.c.counted(ctx, name, request{method: "PATCH", path: "/devices/-/roles/sub-role", body: body, repeat: httpx.RepeatSafe}, len(deviceIDs))
}
