package wug

import (
	"context"
	"iter"
	"net/netip"
	"net/url"
	"strings"

	"github.com/wugsync/wugsync/internal/httpx"
)

// DevicesService handles devices: listing, reading, properties, deletion,
// polling, refresh, maintenance, adding (templates) and metadata.
type DevicesService struct{ c *Client }

// ListOptions filter a device listing in a group.
type ListOptions struct {
	// Search is WUG's case-insensitive substring search over display name,
	// host name and network address.
	Search string
	// View is the detail level; empty means WUG's default (card).
	View DeviceView
	// State filters by state; empty means any.
	State State
	// DirectOnly lists only the group's own devices, not its descendants'
	// (returnHierarchy=false).
	DirectOnly bool
	// Limit is the page size; 0 means the server's maximum.
	Limit int
}

// List returns the devices in group groupID and its descendants
// (GET /api/v1/device-groups/{groupId}/devices/-), following pages.
// Group "0" is "My Network", i.e. every device.
func (s *DevicesService) List(ctx context.Context, groupID string, opts *ListOptions) iter.Seq2[Device, error] {
	q := url.Values{}
	if opts != nil {
		if opts.Search != "" {
			q.Set("search", opts.Search)
		}
		if opts.View != "" {
			q.Set("view", string(opts.View))
		}
		if opts.State != "" {
			q.Set("state", string(opts.State))
		}
		if opts.DirectOnly {
			q.Set("returnHierarchy", "false")
		}
		setLimit(q, opts.Limit)
	}
	return pager(ctx, s.c, "Devices.List", "/device-groups/"+escape(groupID)+"/devices/-", q, fieldItems[Device]("devices"))
}

// All returns every device in WUG with its network address, one paged
// listing of "My Network" in the card view
// (GET /api/v1/device-groups/0/devices/-?view=card).
func (s *DevicesService) All(ctx context.Context) iter.Seq2[Device, error] {
	return s.List(ctx, RootGroupID, &ListOptions{View: ViewCard})
}

// FindByAddress returns the devices whose network address is exactly addr
// (GET /api/v1/device-groups/0/devices/-?search=addr). WUG's search is a
// substring match, so results are filtered here: 10.0.0.1 does not match
// 10.0.0.10. An unparseable address is an *InputError and sends nothing.
func (s *DevicesService) FindByAddress(ctx context.Context, addr string) ([]Device, error) {
	want, err := netip.ParseAddr(strings.TrimSpace(addr))
	if err != nil {
		return nil, opErr("Devices.FindByAddress", inputErr("address", "%q is not an IP address", addr))
	}
	want = want.Unmap()
	var out []Device
	for d, err := range s.List(ctx, RootGroupID, &ListOptions{Search: want.String(), View: ViewCard}) {
		if err != nil {
			return nil, opErr("Devices.FindByAddress", err)
		}
		if got, perr := netip.ParseAddr(strings.TrimSpace(d.NetworkAddress)); perr == nil && got.Unmap() == want.WithZone("") {
			out = append(out, d)
		}
	}
	return out, nil
}

// Get returns one device's overview (GET /api/v1/devices/{deviceId}).
func (s *DevicesService) Get(ctx context.Context, deviceID string) (*Device, error) {
	var d Device
	if err := s.c.do(ctx, request{method: "GET", path: "/devices/" + escape(deviceID)}, &d, nil); err != nil {
		return nil, opErr("Devices.Get", err)
	}
	return &d, nil
}

// Status returns a device's state (GET /api/v1/devices/{deviceId}/status).
func (s *DevicesService) Status(ctx context.Context, deviceID string) (*DeviceStatus, error) {
	var st DeviceStatus
	if err := s.c.do(ctx, request{method: "GET", path: "/devices/" + escape(deviceID) + "/status"}, &st, nil); err != nil {
		return nil, opErr("Devices.Status", err)
	}
	return &st, nil
}

// Properties returns a device's properties
// (GET /api/v1/devices/{deviceId}/properties).
func (s *DevicesService) Properties(ctx context.Context, deviceID string) (*DeviceProperties, error) {
	var p DeviceProperties
	if err := s.c.do(ctx, request{method: "GET", path: "/devices/" + escape(deviceID) + "/properties"}, &p, nil); err != nil {
		return nil, opErr("Devices.Properties", err)
	}
	return &p, nil
}

// UpdateProperties changes the properties set in u
// (PUT /api/v1/devices/{deviceId}/properties). The display name is limited
// to 150 characters.
func (s *DevicesService) UpdateProperties(ctx context.Context, deviceID string, u PropertiesUpdate) error {
	const op = "Devices.UpdateProperties"
	if u.DisplayName != nil {
		if err := checkDisplayName("displayName", *u.DisplayName); err != nil {
			return opErr(op, err)
		}
	}
	return s.c.checked(ctx, op, request{method: "PUT", path: "/devices/" + escape(deviceID) + "/properties", body: u}, new(SuccessResult))
}

// Delete removes a device (DELETE /api/v1/devices/{deviceId}); with
// deleteDiscovered it also removes the matching discovered-device entry.
func (s *DevicesService) Delete(ctx context.Context, deviceID string, deleteDiscovered bool) error {
	const op = "Devices.Delete"
	var q url.Values
	if deleteDiscovered {
		q = url.Values{"deleteDiscoveredDevices": {"true"}}
	}
	return s.c.checked(ctx, op, request{method: "DELETE", path: "/devices/" + escape(deviceID), query: q}, new(SuccessResult))
}

// DeleteMany removes devices in one call (PATCH /api/v1/devices/- with
// operation "delete"). A partial failure returns the result and a *ResultError.
func (s *DevicesService) DeleteMany(ctx context.Context, deviceIDs []string) (*CountedResult, error) {
	body := struct {
		Operation string   `json:"operation"`
		Devices   []string `json:"devices"`
	}{"delete", deviceIDs}
	return s.c.counted(ctx, "Devices.DeleteMany", request{method: "PATCH", path: "/devices/-", body: body, repeat: httpx.RepeatSafe}, len(deviceIDs))
}

// PollNow polls a device now (PUT /api/v1/devices/{deviceId}/poll-now).
func (s *DevicesService) PollNow(ctx context.Context, deviceID string) error {
	return s.c.checked(ctx, "Devices.PollNow", request{method: "PUT", path: "/devices/" + escape(deviceID) + "/poll-now"}, new(SuccessResult))
}

// PollNowMany polls devices now (PATCH /api/v1/devices/-/poll-now).
func (s *DevicesService) PollNowMany(ctx context.Context, deviceIDs []string) (*CountedResult, error) {
	return s.c.counted(ctx, "Devices.PollNowMany", request{method: "PATCH", path: "/devices/-/poll-now", body: BulkDevices{Devices: deviceIDs}, repeat: httpx.RepeatSafe}, len(deviceIDs))
}

// Refresh rescans a device from the device itself
// (PUT /api/v1/devices/{deviceId}/refresh with a DeviceRefreshOptions body;
// {} when opts is nil). It returns the scan WUG started.
func (s *DevicesService) Refresh(ctx context.Context, deviceID string, opts *RefreshOptions) (*ScanStarted, error) {
	if opts == nil {
		opts = &RefreshOptions{}
	}
	return s.c.scanStarted(ctx, "Devices.Refresh", request{method: "PUT", path: "/devices/" + escape(deviceID) + "/refresh", body: opts})
}

// RefreshMany rescans devices in one scan (PATCH /api/v1/devices/-/refresh).
func (s *DevicesService) RefreshMany(ctx context.Context, deviceIDs []string, opts *RefreshOptions) (*ScanStarted, error) {
	const op = "Devices.RefreshMany"
	if len(deviceIDs) == 0 {
		return nil, opErr(op, inputErr("deviceIds", "empty list"))
	}
	body := struct {
		DeviceIDs []string `json:"deviceIds"`
		RefreshOptions
	}{DeviceIDs: deviceIDs}
	if opts != nil {
		body.RefreshOptions = *opts
	}
	return s.c.scanStarted(ctx, op, request{method: "PATCH", path: "/devices/-/refresh", body: body})
}

// SetMaintenance turns a device's manual maintenance on or off
// (PUT /api/v1/devices/{deviceId}/config/maintenance).
func (s *DevicesService) SetMaintenance(ctx context.Context, deviceID string, m Maintenance) error {
	const op = "Devices.SetMaintenance"
	if err := checkLen("reason", m.Reason, 250); err != nil {
		return opErr(op, err)
	}
	return s.c.checked(ctx, op, request{method: "PUT", path: "/devices/" + escape(deviceID) + "/config/maintenance", body: m}, new(SuccessResult))
}

// SetMaintenanceMany sets manual maintenance on several devices
// (PATCH /api/v1/devices/-/config/maintenance).
func (s *DevicesService) SetMaintenanceMany(ctx context.Context, deviceIDs []string, m Maintenance) (*CountedResult, error) {
	const op = "Devices.SetMaintenanceMany"
	if err := checkLen("reason", m.Reason, 250); err != nil {
		return nil, opErr(op, err)
	}
	body := struct {
		Devices []string `json:"devices"`
		Maintenance
	}{deviceIDs, m}
	return s.c.counted(ctx, op, request{method: "PATCH", path: "/devices/-/config/maintenance", body: body, repeat: httpx.RepeatSafe}, len(deviceIDs))
}

// Groups lists the groups a device belongs to
// (GET /api/v1/devices/{deviceId}/group/-).
func (s *DevicesService) Groups(ctx context.Context, deviceID string) iter.Seq2[Group, error] {
	return pager(ctx, s.c, "Devices.Groups", "/devices/"+escape(deviceID)+"/group/-", nil, arrayItems[Group])
}

// JoinGroup adds a device to a static group
// (PUT /api/v1/devices/{deviceId}/group/- with the group id as a JSON string).
func (s *DevicesService) JoinGroup(ctx context.Context, deviceID, groupID string) error {
	return s.c.checked(ctx, "Devices.JoinGroup", request{method: "PUT", path: "/devices/" + escape(deviceID) + "/group/-", body: groupID}, new(SuccessResult))
}

// LeaveGroup removes a device from a static group
// (DELETE /api/v1/devices/{deviceId}/group/{groupId}). WUG refuses to
// remove a device's last static group.
func (s *DevicesService) LeaveGroup(ctx context.Context, deviceID, groupID string) error {
	return s.c.checked(ctx, "Devices.LeaveGroup", request{method: "DELETE", path: "/devices/" + escape(deviceID) + "/group/" + escape(groupID)}, new(SuccessResult))
}

// ChangeGroups adds a device to and removes it from static groups in one
// call (PATCH /api/v1/devices/{deviceId}/group/-); WUG removes first.
func (s *DevicesService) ChangeGroups(ctx context.Context, deviceID string, add, remove []string) (*CountedResult, error) {
	const op = "Devices.ChangeGroups"
	if len(add) == 0 && len(remove) == 0 {
		return nil, opErr(op, inputErr("groups", "nothing to add or remove"))
	}
	body := struct {
		GroupsToDelete []string `json:"groupsToDelete,omitempty"`
		GroupsToAdd    []string `json:"groupsToAdd,omitempty"`
	}{remove, add}
	return s.c.counted(ctx, op, request{method: "PATCH", path: "/devices/" + escape(deviceID) + "/group/-", body: body, repeat: httpx.RepeatSafe}, len(add)+len(remove))
}

// counted sends r, whose answer is a CountedSuccessResult, and reports a
// partial failure as a *ResultError next to the result. An empty id list
// (n == 0) is refused before sending.
func (c *Client) counted(ctx context.Context, op string, r request, n int) (*CountedResult, error) {
	if n == 0 {
		return nil, opErr(op, inputErr("devices", "empty list"))
	}
	var res CountedResult
	if err := c.do(ctx, r, &res, nil); err != nil {
		return nil, opErr(op, err)
	}
	return &res, res.check(op)
}

// scanStarted sends r, whose answer names a started scan.
func (c *Client) scanStarted(ctx context.Context, op string, r request) (*ScanStarted, error) {
	// A second scan could add a device twice (forceCreate), so the request
	// is never repeated once it may have reached WUG.
	r.repeat = httpx.RepeatNever
	var res ScanStarted
	if err := c.do(ctx, r, &res, nil); err != nil {
		return nil, opErr(op, err)
	}
	if !res.Success {
		return &res, &ResultError{Op: op}
	}
	return &res, nil
}

// checkLen refuses values longer than max characters.
func checkLen(field, v string, max int) error {
	if n := len([]rune(v)); n > max {
		return inputErr(field, "%d characters, at most %d allowed", n, max)
	}
	return nil
}

// lenLimit is one field's length limit, for checkLens.
type lenLimit struct {
	field, value string
	max          int
}

// checkLens applies checkLen to each limit in order and returns the first
// refusal.
func checkLens(limits ...lenLimit) error {
	for _, l := range limits {
		if err := checkLen(l.field, l.value, l.max); err != nil {
			return err
		}
	}
	return nil
}

func checkDisplayName(field, v string) error {
	if strings.TrimSpace(v) == "" {
		return inputErr(field, "empty display name")
	}
	return checkLen(field, v, 150)
}
