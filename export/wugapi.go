package export

import (
	"context"
	"iter"
	"net/netip"
	"time"

	"github.com/wugsync/wugsync/netbox"
	"github.com/wugsync/wugsync/wug"
)

// netBoxSource streams the NetBox devices and virtual machines a selector
// picks. *netbox.Client satisfies it. A *netbox.DeviceError in the stream fails
// that object only; any other error ends the stream.
type netBoxSource interface {
	Devices(ctx context.Context, sel netbox.Selector) iter.Seq2[netbox.Device, error]
}

// wugDevice is what the engine needs to know about a device in WUG.
type wugDevice struct {
	ID      string     `json:"id"`
	Name    string     `json:"name,omitempty"`
	Note    string     `json:"note,omitempty"`
	Address netip.Addr `json:"address"` // the device's network address; invalid when WUG holds none or a host name
	// State is WUG's worst state of the device, lower-case ("up", "down",
	// "maintenance", "unknown"); empty when the listing gives none.
	State string `json:"state,omitempty"`
}

// addOutcome is WUG's answer for one template of a BulkAdd call.
type addOutcome struct {
	DeviceID string   // the created device, empty when the template failed
	Warnings []string // messages WUG reported for a created device
	Err      error    // why the template failed, nil when DeviceID is set
}

// scanInfo is a WUG discovery scan as last seen.
type scanInfo struct {
	ID       string
	Done     bool    // the scan finished (or WUG no longer tracks it as active)
	State    string  // WUG's phase text, for the record
	Found    int     // devices found so far
	Progress float64 // WUG's progress figure

	// Model is WUG's scan model ("newDevice" for a scan ScanIPs started),
	// Addresses the number of addresses it covers and StartedAt when WUG
	// started it: what tells a scan whose start was not answered apart
	// (Scans).
	Model     string
	Addresses int
	StartedAt time.Time
}

// wugAPI is the part of the WhatsUp Gold REST API the engine uses. It is small
// on purpose so the planner and executor are tested without a server;
// newWUGAPI adapts a *wug.Client to it.
//
// Methods that change wugAPI send exactly one request per call unless their
// documentation says otherwise, so the executor's pending records cover
// each request.
type wugAPI interface {
	// Devices lists every device with its network address in one paged
	// listing (GET /device-groups/0/devices/-).
	Devices(ctx context.Context) iter.Seq2[wugDevice, error]
	// FindByAddress returns the devices whose network address is exactly
	// addr (GET /device-groups/0/devices/-?search=, filtered exactly).
	FindByAddress(ctx context.Context, addr netip.Addr) ([]wugDevice, error)
	// GroupPaths lists every device group as its path from "My Network"
	// ("My Network/NetBox/Site A") to its id, from one paged listing
	// (GET /device-groups/-).
	GroupPaths(ctx context.Context) (map[string]string, error)
	// CreateGroup creates a static group named name under parentID and
	// returns its id (POST /device-groups/{parentID}/child).
	CreateGroup(ctx context.Context, parentID, name string) (string, error)
	// MoveDevice has a device join static group to and then leave static
	// group from (POST /device-groups/{to}/devices/-, then
	// DELETE /device-groups/{from}/devices/-); other groups are not
	// touched. When the join fails, the device does not leave. An empty
	// from only joins.
	MoveDevice(ctx context.Context, deviceID, from, to string) error
	// RemoveGroupIfEmpty deletes a group that holds no device
	// (GET /device-groups/{id}/status, then DELETE /device-groups/{id})
	// and reports whether it did.
	RemoveGroupIfEmpty(ctx context.Context, groupID string) (bool, error)
	// BulkAdd applies templates in one request
	// (PATCH /devices/-/config/template) and returns one outcome per
	// template, in order. An error means WUG's answer is unknown.
	BulkAdd(ctx context.Context, templates []wug.DeviceTemplate) ([]addOutcome, error)
	// UpdateMetadata brings an existing device's attributes (those whose
	// names start with owned, the mapping's attribute prefix: others are
	// never touched) in line with t, and its display name and note too
	// when props: one read (GET /devices/{id}/attributes/-) and at most
	// one attribute write (PATCH /devices/{id}/attributes/-), plus a
	// properties write (PUT /devices/{id}/properties) when the name or
	// note differ from current's. It reports whether anything was written.
	// The executor uses it only when the record does not say what was
	// written before (WriteMetadata).
	UpdateMetadata(ctx context.Context, current wugDevice, t wug.DeviceTemplate, owned string, props bool) (changed bool, err error)
	// WriteMetadata changes a device's metadata and reads nothing: one
	// attribute batch (PATCH /devices/{id}/attributes/-) that deletes the
	// names in remove and in set and adds set, when either is not empty,
	// and one properties write (PUT /devices/{id}/properties) when props
	// is not nil, after the batch. A failed batch sends no properties.
	WriteMetadata(ctx context.Context, deviceID string, remove []string, set []wug.NameValue, props *wug.PropertiesUpdate) error
	// Readdress moves a device to a new network address by changing its
	// default interface's address, keeping the device, its id and history:
	// one read (GET /devices/{id}/interfaces/default) and, unless the
	// address is already addr, one PUT /devices/{id}/interfaces/{interfaceId}.
	// Sending it again after a lost answer is harmless.
	Readdress(ctx context.Context, deviceID string, addr netip.Addr) error
	// ScanIPs starts one discovery scan that adds what it finds to the
	// group (PATCH /device-groups/{id}/newDevice) and returns its id.
	ScanIPs(ctx context.Context, groupID string, ipOrNames []string) (scanID string, err error)
	// ScanStatus reports a scan's progress (GET /device-scan/{id}/status).
	ScanStatus(ctx context.Context, scanID string) (scanInfo, error)
	// Scans lists the scans WUG tracks, running or lately finished
	// (GET /device-scan/-/status?activeOnly=false).
	Scans(ctx context.Context) ([]scanInfo, error)
	// ScanDevices lists the devices a scan added or updated
	// (GET /device-scan/{id}/devices).
	ScanDevices(ctx context.Context, scanID string) ([]wugDevice, error)
	// SetMaintenance puts devices in or out of maintenance
	// (PATCH /devices/-/config/maintenance); a zero until means no end.
	SetMaintenance(ctx context.Context, deviceIDs []string, enabled bool, reason string, until time.Time) error
	// AssignRole gives every listed device the role name of kind
	// (PATCH /devices/-/roles/{primary|os|brand}).
	AssignRole(ctx context.Context, kind wug.RoleKind, name string, deviceIDs []string) error
	// DeleteDevices deletes devices (PATCH /devices/- with operation delete).
	DeleteDevices(ctx context.Context, deviceIDs []string) error
}
