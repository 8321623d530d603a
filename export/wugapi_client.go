package export

import (
	"context"
	"errors"
	"iter"
	"net/netip"
	"strings"
	"time"

	"github.com/wugsync/wugsync/wug"
)

// wugOptions tune newWUGAPI.
type wugOptions struct {
	// ScanOptions are sent with every newDevice scan; nil sends WUG's
	// defaults.
	ScanOptions *wug.ScanOptions
}

// newWUGAPI adapts a *wug.Client to the WUG interface the engine uses.
func newWUGAPI(c *wug.Client, opts wugOptions) wugAPI {
	return &wugClientAPI{c: c, opts: opts}
}

type wugClientAPI struct {
	c    *wug.Client
	opts wugOptions
}

func deviceOf(d wug.Device) wugDevice {
	addr, _ := netip.ParseAddr(strings.TrimSpace(d.NetworkAddress))
	return wugDevice{ID: d.ID, Name: d.Name, Note: d.Notes, Address: addr.Unmap().WithZone(""), State: strings.ToLower(string(d.WorstState))}
}

// Devices lists every device (GET /api/v1/device-groups/0/devices/-).
func (a *wugClientAPI) Devices(ctx context.Context) iter.Seq2[wugDevice, error] {
	return func(yield func(wugDevice, error) bool) {
		for d, err := range a.c.Devices.All(ctx) {
			if !yield(deviceOf(d), err) || err != nil {
				return
			}
		}
	}
}

// FindByAddress searches by address and filters exactly
// (GET /api/v1/device-groups/0/devices/-?search=).
func (a *wugClientAPI) FindByAddress(ctx context.Context, addr netip.Addr) ([]wugDevice, error) {
	found, err := a.c.Devices.FindByAddress(ctx, addr.String())
	if err != nil {
		return nil, err
	}
	out := make([]wugDevice, len(found))
	for i, d := range found {
		out[i] = deviceOf(d)
	}
	return out, nil
}

// GroupPaths lists the groups by path (GET /api/v1/device-groups/-, all
// pages).
func (a *wugClientAPI) GroupPaths(ctx context.Context) (map[string]string, error) {
	groups, err := a.c.Groups.List(ctx)
	if err != nil {
		return nil, err
	}
	out := make(map[string]string, len(groups))
	for _, g := range groups {
		if _, dup := out[g.Path]; !dup {
			out[g.Path] = g.ID
		}
	}
	return out, nil
}

// CreateGroup creates a static child group
// (POST /api/v1/device-groups/{parentGroupId}/child).
func (a *wugClientAPI) CreateGroup(ctx context.Context, parentID, name string) (string, error) {
	g, err := a.c.Groups.CreateChild(ctx, parentID, name)
	if err != nil {
		return "", err
	}
	return g.ID, nil
}

// MoveDevice moves a device between static groups, joining first
// (POST and DELETE /api/v1/device-groups/{groupId}/devices/-).
func (a *wugClientAPI) MoveDevice(ctx context.Context, deviceID, from, to string) error {
	if from == "" {
		_, err := a.c.Groups.AddDevices(ctx, to, []string{deviceID})
		return err
	}
	_, err := a.c.Groups.MoveDevices(ctx, from, to, []string{deviceID})
	return err
}

// RemoveGroupIfEmpty reads the group's device count
// (GET /api/v1/device-groups/{groupId}/status) and deletes it when it is
// zero (DELETE /api/v1/device-groups/{groupId}, which WUG refuses for a
// group that is not empty).
func (a *wugClientAPI) RemoveGroupIfEmpty(ctx context.Context, groupID string) (bool, error) {
	st, err := a.c.Groups.Status(ctx, groupID)
	if err != nil || st.TotalDevices > 0 {
		return false, err
	}
	if err := a.c.Groups.Delete(ctx, groupID); err != nil {
		return false, err
	}
	return true, nil
}

// BulkAdd applies templates (PATCH /api/v1/devices/-/config/template). The
// executor sends at most the client's batch size, so this is one request.
func (a *wugClientAPI) BulkAdd(ctx context.Context, ts []wug.DeviceTemplate) ([]addOutcome, error) {
	res, err := a.c.Devices.BulkAdd(ctx, ts)
	if len(res) != len(ts) {
		if err == nil {
			err = errors.New("wug: BulkAdd returned no outcomes")
		}
		return nil, err
	}
	out := make([]addOutcome, len(res))
	for i, r := range res {
		// A template-level failure is WUG's known answer; a request error
		// leaves the outcome unknown.
		var te *wug.TemplateError
		if r.Err != nil && !errors.As(r.Err, &te) {
			return nil, r.Err
		}
		out[i] = addOutcome{DeviceID: r.DeviceID, Warnings: r.Warnings, Err: r.Err}
	}
	return out, nil
}

// UpdateMetadata sends only what differs (GET and PATCH
// /api/v1/devices/{id}/attributes/-, PUT /api/v1/devices/{id}/properties
// when the display name or note changed). The display name and note are
// compared with current, as listed, so no properties read is needed.
func (a *wugClientAPI) UpdateMetadata(ctx context.Context, current wugDevice, t wug.DeviceTemplate, owned string, props bool) (bool, error) {
	attrs := make(map[string]string, len(t.Attributes))
	for _, nv := range t.Attributes {
		attrs[nv.Name] = nv.Value
	}
	u := wug.MetadataUpdate{Attributes: attrs, OwnedPrefix: owned,
		Current: &wug.Device{ID: current.ID, Name: current.Name, Notes: current.Note}}
	if props {
		u.DisplayName = &t.DisplayName
	}
	if props && t.Note != "" {
		u.Note = &t.Note
	}
	ch, err := a.c.Devices.UpdateMetadata(ctx, current.ID, u)
	return ch != nil && ch.Changed(), err
}

// WriteMetadata sends an attribute batch
// (PATCH /api/v1/devices/{id}/attributes/-) and, after it, the properties
// (PUT /api/v1/devices/{id}/properties), each only when there is
// something to send.
func (a *wugClientAPI) WriteMetadata(ctx context.Context, id string, remove []string, set []wug.NameValue, props *wug.PropertiesUpdate) error {
	if len(remove)+len(set) > 0 {
		if _, err := a.c.Attributes.Replace(ctx, id, remove, set); err != nil {
			return err
		}
	}
	if props != nil {
		return a.c.Devices.UpdateProperties(ctx, id, *props)
	}
	return nil
}

// Readdress changes the default interface's address
// (GET /api/v1/devices/{id}/interfaces/default, PUT
// /api/v1/devices/{id}/interfaces/{interfaceId}).
func (a *wugClientAPI) Readdress(ctx context.Context, id string, addr netip.Addr) error {
	_, err := a.c.Devices.Readdress(ctx, id, addr.String())
	return err
}

// ScanIPs starts one newDevice scan (PATCH /api/v1/device-groups/{id}/newDevice).
func (a *wugClientAPI) ScanIPs(ctx context.Context, groupID string, ipOrNames []string) (string, error) {
	st, err := a.c.Scans.ScanIPs(ctx, groupID, ipOrNames, a.opts.ScanOptions)
	if err != nil {
		return "", err
	}
	return st.ID, nil
}

// ScanStatus reads a scan's progress (GET /api/v1/device-scan/{id}/status).
// WUG does not signal completion explicitly: a scan is done when WUG no
// longer knows it, when wug.Scan.Done says so, or when the active-scan list
// (GET /api/v1/device-scan/-/status?activeOnly=true) no longer holds it.
func (a *wugClientAPI) ScanStatus(ctx context.Context, scanID string) (scanInfo, error) {
	sc, err := a.c.Scans.Status(ctx, scanID)
	if errors.Is(err, wug.ErrNotFound) {
		return scanInfo{ID: scanID, Done: true, State: "no longer tracked by WUG"}, nil
	}
	if err != nil {
		return scanInfo{}, err
	}
	info := scanInfo{ID: scanID, State: sc.Phase, Found: sc.DevicesFound, Progress: sc.Progress}
	if sc.Done() {
		info.Done = true
		return info, nil
	}
	for s, err := range a.c.Scans.Active(ctx, nil) {
		if err != nil {
			return scanInfo{}, err
		}
		if s.ID == scanID {
			return info, nil
		}
	}
	info.Done = true
	return info, nil
}

// Scans lists the scans WUG tracks, running or finished
// (GET /api/v1/device-scan/-/status?activeOnly=false).
func (a *wugClientAPI) Scans(ctx context.Context) ([]scanInfo, error) {
	var out []scanInfo
	for s, err := range a.c.Scans.Active(ctx, &wug.ActiveOptions{IncludeFinished: true}) {
		if err != nil {
			return nil, err
		}
		out = append(out, scanInfo{ID: s.ID, Done: s.Done(), State: s.Phase, Found: s.DevicesFound, Progress: s.Progress,
			Model: string(s.Model), Addresses: s.AddressTotal, StartedAt: s.ScanUTC.Time})
	}
	return out, nil
}

// ScanDevices lists what a scan added or updated
// (GET /api/v1/device-scan/{id}/devices).
func (a *wugClientAPI) ScanDevices(ctx context.Context, scanID string) ([]wugDevice, error) {
	var out []wugDevice
	for d, err := range a.c.Scans.Results(ctx, scanID) {
		if err != nil {
			return nil, err
		}
		out = append(out, deviceOf(d))
	}
	return out, nil
}

// SetMaintenance switches maintenance for many devices
// (PATCH /api/v1/devices/-/config/maintenance).
func (a *wugClientAPI) SetMaintenance(ctx context.Context, ids []string, enabled bool, reason string, until time.Time) error {
	m := wug.Maintenance{Enabled: enabled, Reason: reason}
	if !until.IsZero() {
		m.EndUTC = &until
	}
	_, err := a.c.Devices.SetMaintenanceMany(ctx, ids, m)
	return err
}

// DeleteDevices deletes many devices (PATCH /api/v1/devices/- with
// operation delete).
func (a *wugClientAPI) DeleteDevices(ctx context.Context, ids []string) error {
	_, err := a.c.Devices.DeleteMany(ctx, ids)
	return err
}
