package wug_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/wugsync/wugsync/wug"
	"github.com/wugsync/wugsync/wug/wugtest"
)

// TestEnsurePathsOneListing ensures many group paths with one group listing
// and one creation per missing group, parents first, and reads the groups
// back from the fake.
func TestEnsurePathsOneListing(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		existing []string
		paths    []string
		creates  int
	}{
		{
			name:    "all new, shared parents created once",
			paths:   []string{"NetBox/Site A", "NetBox/Site B", "My Network/NetBox/Site A/Rack 1", "NetBox"},
			creates: 4, // NetBox, Site A, Site B, Rack 1
		},
		{
			name:     "some exist, names compare case-insensitively",
			existing: []string{"NetBox/Site A"},
			paths:    []string{"netbox/site a", "NetBox/Site C", "NetBox/Site C/Rack 2"},
			creates:  2,
		},
		{
			name:     "all exist",
			existing: []string{"NetBox/Site A", "NetBox/Site B"},
			paths:    []string{"NetBox/Site A", "NetBox/Site B", "My Network"},
			creates:  0,
		},
		{
			name:    "thirty sites under one parent",
			paths:   sitePaths(30),
			creates: 31,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv, c := fake(t, nil)
			for _, p := range tt.existing {
				srv.AddGroup(p)
			}
			login(t, c)
			srv.ResetRequests()
			got, err := c.Groups.EnsurePaths(context.Background(), tt.paths)
			if err != nil {
				t.Fatal(err)
			}
			want := map[string]string{}
			for _, p := range tt.paths {
				g, ok := srv.GroupByPath(p)
				if !ok {
					t.Fatalf("fake has no group at %q", p)
				}
				want[p] = g.ID
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("ids (-want +got):\n%s", diff)
			}
			counts := srv.Counts()
			wantCounts := map[string]int{"GET /api/v1/device-groups/-": 1}
			if tt.creates > 0 {
				wantCounts["POST /api/v1/device-groups/{groupId}/child"] = tt.creates
			}
			if diff := cmp.Diff(wantCounts, counts.ByRoute); diff != "" {
				t.Errorf("requests (-want +got):\n%s", diff)
			}
		})
	}
}

// login fetches the client's token now, so request counts that follow
// hold only the calls under test.
func login(t *testing.T, c *wug.Client) {
	t.Helper()
	if err := c.Login(context.Background()); err != nil {
		t.Fatal(err)
	}
}

func sitePaths(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("My Network/NetBox/Site %02d", i)
	}
	return out
}

func TestEnsurePathsRefusesBadPathsBeforeSending(t *testing.T) {
	t.Parallel()
	srv, c := fake(t, nil)
	ctx := context.Background()
	_, err := c.Groups.EnsurePaths(ctx, []string{"NetBox/Site A", "NetBox//Rack"})
	var ie *wug.InputError
	if !errors.As(err, &ie) {
		t.Fatalf("err = %v, want an *InputError", err)
	}
	if got, err := c.Groups.EnsurePaths(ctx, nil); err != nil || len(got) != 0 {
		t.Errorf("no paths: %v, %v", got, err)
	}
	if n := len(srv.Requests()); n != 0 {
		t.Errorf("%d requests sent, want none", n)
	}
}

// TestAttributesReplace changes owned attributes with one request that
// deletes by name and adds, leaving other attributes alone.
func TestAttributesReplace(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		remove []string
		set    []wug.NameValue
		want   map[string]string
	}{
		{
			name:   "changed value, removed name, new name",
			remove: []string{"NetBox_Tenant"},
			set:    []wug.NameValue{{Name: "NetBox_Site", Value: "B"}, {Name: "NetBox_Role", Value: "core"}},
			want:   map[string]string{"NetBox_Site": "B", "NetBox_Role": "core", "Owner": "ops"},
		},
		{
			name: "name in another case replaces the old one",
			set:  []wug.NameValue{{Name: "netbox_site", Value: "C"}},
			want: map[string]string{"netbox_site": "C", "NetBox_Tenant": "t1", "Owner": "ops"},
		},
		{
			name:   "remove only, unknown names skipped",
			remove: []string{"NetBox_Site", "NetBox_Gone", "netbox_site"},
			want:   map[string]string{"NetBox_Tenant": "t1", "Owner": "ops"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv, c := fake(t, nil)
			id := srv.AddDevice(wugtest.Device{Name: "d", Address: "10.1.0.1", Attributes: map[string]string{"NetBox_Site": "A", "NetBox_Tenant": "t1", "Owner": "ops"}})
			login(t, c)
			srv.ResetRequests()
			if _, err := c.Attributes.Replace(context.Background(), id, tt.remove, tt.set); err != nil {
				t.Fatal(err)
			}
			if n := len(srv.Requests()); n != 1 {
				t.Errorf("%d requests, want 1", n)
			}
			d, _ := srv.Device(id)
			if diff := cmp.Diff(tt.want, d.Attributes); diff != "" {
				t.Errorf("attributes (-want +got):\n%s", diff)
			}
		})
	}
}

func TestAttributesReplaceInputErrors(t *testing.T) {
	t.Parallel()
	srv, c := fake(t, nil)
	id := srv.AddDevice(wugtest.Device{Name: "d", Attributes: map[string]string{"k": "v"}})
	srv.ResetRequests()
	for name, call := range map[string]func() error{
		"nothing":    func() error { _, err := c.Attributes.Replace(context.Background(), id, nil, nil); return err },
		"empty name": func() error { _, err := c.Attributes.Replace(context.Background(), id, []string{" "}, nil); return err },
		"twice": func() error {
			_, err := c.Attributes.Replace(context.Background(), id, nil, []wug.NameValue{{Name: "a", Value: "1"}, {Name: "A", Value: "2"}})
			return err
		},
	} {
		var ie *wug.InputError
		if err := call(); !errors.As(err, &ie) {
			t.Errorf("%s: err = %v, want an *InputError", name, err)
		}
	}
	if n := len(srv.Requests()); n != 0 {
		t.Errorf("%d requests sent, want none", n)
	}
}

// TestAttributesReplaceRefusedLeavesState: an answer that is not the
// promised result is an error, and a batch the fake refused whole changed
// nothing.
func TestAttributesReplaceRefusedLeavesState(t *testing.T) {
	t.Parallel()
	srv, c := fake(t, nil, wug.WithRetry(wug.RetryPolicy{}))
	id := srv.AddDevice(wugtest.Device{Name: "d", Attributes: map[string]string{"NetBox_Site": "A"}})
	srv.MisbehaveNext(wugtest.Misbehave{Route: "PATCH /api/v1/devices/{deviceId}/attributes/-", Kind: wugtest.ErrorEnvelope})
	if _, err := c.Attributes.Replace(context.Background(), id, nil, []wug.NameValue{{Name: "NetBox_Site", Value: "B"}}); err == nil {
		t.Fatal("an error envelope was taken for success")
	}
	if d, _ := srv.Device(id); d.Attributes["NetBox_Site"] != "A" {
		t.Errorf("attributes = %v, want untouched", d.Attributes)
	}
}

// TestGroupMembershipMany adds many devices to groups and removes them with
// one request per group; a device may be in several groups.
func TestGroupMembershipMany(t *testing.T) {
	t.Parallel()
	srv, c := fake(t, nil)
	ctx := context.Background()
	a, b := srv.AddGroup("NetBox/Site A"), srv.AddGroup("NetBox/Site B")
	devs := srv.AddDevices(
		wugtest.Device{Name: "x", Groups: []string{"NetBox/Site A"}},
		wugtest.Device{Name: "y", Groups: []string{"NetBox/Site A"}},
		wugtest.Device{Name: "z", Groups: []string{"NetBox/Site A"}},
	)
	login(t, c)
	srv.ResetRequests()
	res, err := c.Groups.AddDevices(ctx, b, devs[:2])
	if err != nil || res.SuccessfulOperations != 2 {
		t.Fatalf("AddDevices = %+v, %v", res, err)
	}
	members := func(path string) []string {
		ids, ok := srv.GroupMembers(path)
		if !ok {
			t.Fatalf("no group %q", path)
		}
		return ids
	}
	if diff := cmp.Diff(devs, members("NetBox/Site A")); diff != "" {
		t.Errorf("Site A (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(devs[:2], members("NetBox/Site B")); diff != "" {
		t.Errorf("Site B (-want +got):\n%s", diff)
	}
	d, _ := srv.Device(devs[0])
	if diff := cmp.Diff([]string{"My Network/NetBox/Site A", "My Network/NetBox/Site B"}, d.Groups); diff != "" {
		t.Errorf("device groups (-want +got):\n%s", diff)
	}
	// Leaving the old group once the device is in the new one is allowed.
	if _, err := c.Groups.RemoveDevices(ctx, a, devs[:2]); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(devs[2:], members("NetBox/Site A")); diff != "" {
		t.Errorf("Site A after removal (-want +got):\n%s", diff)
	}
	// The last static group stays: WUG refuses, reported per device.
	res, err = c.Groups.RemoveDevices(ctx, a, devs[2:])
	var re *wug.ResultError
	if !errors.As(err, &re) || res == nil || len(res.ResourcesNotAllowed) != 1 {
		t.Errorf("removing a last group = %+v, %v; want a *ResultError naming the device", res, err)
	}
	if diff := cmp.Diff(devs[2:], members("NetBox/Site A")); diff != "" {
		t.Errorf("Site A after refused removal (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(map[string]int{
		"POST /api/v1/device-groups/{groupId}/devices/-":   1,
		"DELETE /api/v1/device-groups/{groupId}/devices/-": 2,
	}, srv.Counts().ByRoute); diff != "" {
		t.Errorf("requests (-want +got):\n%s", diff)
	}
}

// TestMaintenanceMany puts many devices in maintenance and out again with
// one request each way; device reads show it.
func TestMaintenanceMany(t *testing.T) {
	t.Parallel()
	srv, c := fake(t, nil)
	ctx := context.Background()
	devs := srv.AddDevices(wugtest.Device{Name: "a"}, wugtest.Device{Name: "b"}, wugtest.Device{Name: "c"})
	if _, err := c.Devices.SetMaintenanceMany(ctx, devs[:2], wug.Maintenance{Enabled: true, Reason: "NetBox status offline"}); err != nil {
		t.Fatal(err)
	}
	state := func() map[string]string {
		out := map[string]string{}
		for _, id := range devs {
			d, err := c.Devices.Get(ctx, id)
			if err != nil {
				t.Fatal(err)
			}
			out[id] = string(d.BestState)
		}
		return out
	}
	if diff := cmp.Diff(map[string]string{devs[0]: "Maintenance", devs[1]: "Maintenance", devs[2]: "Up"}, state()); diff != "" {
		t.Errorf("states (-want +got):\n%s", diff)
	}
	if d, _ := srv.Device(devs[1]); !d.Maintenance || d.MaintenanceReason != "NetBox status offline" {
		t.Errorf("fake device = %+v", d)
	}
	if _, err := c.Devices.SetMaintenanceMany(ctx, devs[:2], wug.Maintenance{Enabled: false}); err != nil {
		t.Fatal(err)
	}
	for _, id := range devs[:2] {
		if d, _ := srv.Device(id); d.Maintenance || d.State == "Maintenance" {
			t.Errorf("device %s still in maintenance: %+v", id, d)
		}
	}
	if n := srv.Count("PATCH /api/v1/devices/-/config/maintenance"); n != 2 {
		t.Errorf("%d maintenance requests, want 2", n)
	}
	if _, err := c.Devices.SetMaintenanceMany(ctx, []string{devs[0], "999"}, wug.Maintenance{Enabled: true}); err == nil {
		t.Error("an unknown device was not reported")
	}
}

// TestReaddress moves a device to a new address through its default
// interface: same device, new address in listings and lookups, no second
// device.
func TestReaddress(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		seed     wugtest.Device
		addr     string
		wantHost string
		writes   int
	}{
		{"host name was the address", wugtest.Device{Name: "sw", HostName: "10.0.0.1", Address: "10.0.0.1"}, "10.9.0.1", "10.9.0.1", 1},
		{"real host name kept", wugtest.Device{Name: "sw", HostName: "sw.lab", Address: "10.0.0.1"}, "10.9.0.1", "sw.lab", 1},
		{"no host name", wugtest.Device{Name: "sw", Address: "10.0.0.1"}, "10.9.0.1", "10.9.0.1", 1},
		{"already there", wugtest.Device{Name: "sw", HostName: "sw.lab", Address: "10.0.0.1"}, "10.0.0.1", "sw.lab", 0},
		{"IPv6", wugtest.Device{Name: "sw", Address: "2001:db8::1"}, "2001:DB8::2", "2001:db8::2", 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv, c := fake(t, nil)
			ctx := context.Background()
			id := srv.AddDevice(tt.seed)
			login(t, c)
			srv.ResetRequests()
			in, err := c.Devices.Readdress(ctx, id, tt.addr)
			if err != nil {
				t.Fatal(err)
			}
			counts := srv.Counts()
			if counts.Reads != 1 || counts.Writes != tt.writes {
				t.Errorf("%d reads, %d writes (%v); want 1 read, %d writes", counts.Reads, counts.Writes, counts.ByRoute, tt.writes)
			}
			d, _ := srv.Device(id)
			wantAddr := in.Address
			if d.Address != wantAddr || d.HostName != tt.wantHost || !in.DefaultInterface {
				t.Errorf("device %+v, interface %+v; want address %s, host %s", d, in, wantAddr, tt.wantHost)
			}
			found, err := c.Devices.FindByAddress(ctx, tt.addr)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff([]string{id}, ids(found)); diff != "" {
				t.Errorf("FindByAddress (-want +got):\n%s", diff)
			}
			if n := srv.DeviceCount(); n != 1 {
				t.Errorf("%d devices, want 1", n)
			}
		})
	}
}

func TestInterfacesClient(t *testing.T) {
	t.Parallel()
	srv, c := fake(t, []wugtest.Option{wugtest.WithPageLimit(1)})
	ctx := context.Background()
	res, err := c.Devices.BulkAdd(ctx, []wug.DeviceTemplate{{
		TemplateID: "t", DisplayName: "web",
		Interfaces: []wug.TemplateInterface{{DefaultInterface: true, NetworkAddress: "10.0.0.5", NetworkName: "web.lab"}, {NetworkAddress: "192.0.2.5"}},
	}})
	if err != nil {
		t.Fatal(err)
	}
	id := res[0].DeviceID
	all, err := wug.Collect(c.Devices.Interfaces(ctx, id, ""))
	if err != nil {
		t.Fatal(err)
	}
	state, _ := srv.Interfaces(id)
	want := make([]wug.Interface, len(state))
	for i, in := range state {
		want[i] = wug.Interface{ID: in.ID, HostName: in.HostName, Address: in.Address, DefaultInterface: in.Default, PollUsingName: in.PollUsingName}
	}
	if diff := cmp.Diff(want, all); diff != "" {
		t.Errorf("Interfaces (-want +got):\n%s", diff)
	}
	if n := srv.Count("GET /api/v1/devices/{deviceId}/interfaces/-"); n != 2 {
		t.Errorf("%d pages read, want 2", n)
	}
	one, err := c.Devices.Interface(ctx, id, want[1].ID)
	if err != nil || *one != want[1] {
		t.Errorf("Interface = %+v, %v", one, err)
	}
	up, err := c.Devices.UpdateInterface(ctx, id, want[1].ID, wug.InterfaceUpdate{DefaultInterface: true})
	if err != nil || !up.DefaultInterface {
		t.Fatalf("UpdateInterface = %+v, %v", up, err)
	}
	def, err := c.Devices.DefaultInterface(ctx, id)
	if err != nil || def.ID != want[1].ID {
		t.Errorf("DefaultInterface = %+v, %v", def, err)
	}
	if d, _ := srv.Device(id); d.Address != "192.0.2.5" {
		t.Errorf("device address %q, want the new default's", d.Address)
	}
	srv.ResetRequests()
	var ie *wug.InputError
	if _, err := c.Devices.UpdateInterface(ctx, id, want[1].ID, wug.InterfaceUpdate{Address: "web.lab"}); !errors.As(err, &ie) {
		t.Errorf("a host name as address: %v, want an *InputError", err)
	}
	if _, err := c.Devices.UpdateInterface(ctx, id, want[1].ID, wug.InterfaceUpdate{}); !errors.As(err, &ie) {
		t.Errorf("an empty update: %v, want an *InputError", err)
	}
	if _, err := c.Devices.Readdress(ctx, id, "not-an-ip"); !errors.As(err, &ie) {
		t.Errorf("Readdress to a name: %v, want an *InputError", err)
	}
	if n := len(srv.Requests()); n != 0 {
		t.Errorf("%d requests for refused input, want none", n)
	}
	var ae *wug.APIError
	if _, err := c.Devices.UpdateInterface(ctx, id, want[0].ID, wug.InterfaceUpdate{Address: "192.0.2.5"}); !errors.As(err, &ae) || ae.StatusCode != 400 {
		t.Errorf("a duplicate address: %v, want a 400 *APIError", err)
	}
}

// TestInterfaceDecoding reads interfaces strictly: numeric ids are taken,
// an interface without its id or a listing that is not a list is an error.
func TestInterfaceDecoding(t *testing.T) {
	t.Parallel()
	srv, c := fake(t, nil)
	ctx := context.Background()
	id := srv.AddDevice(wugtest.Device{Name: "d", Address: "10.0.0.1"})
	srv.MisbehaveNext(wugtest.Misbehave{Route: "GET /api/v1/devices/{deviceId}/interfaces/default", Kind: wugtest.NumericIDs})
	in, err := c.Devices.DefaultInterface(ctx, id)
	if err != nil || in.ID == "" || in.Address != "10.0.0.1" {
		t.Errorf("numeric id: %+v, %v", in, err)
	}
	for _, kind := range []wugtest.Misbehavior{wugtest.ErrorEnvelope, wugtest.NonJSON} {
		srv.MisbehaveNext(wugtest.Misbehave{Route: "GET /api/v1/devices/{deviceId}/interfaces/-", Kind: kind})
		if _, err := wug.Collect(c.Devices.Interfaces(ctx, id, "")); err == nil {
			t.Errorf("%s: listing taken for success", kind)
		}
	}
	var bad wug.Interface
	if err := json.Unmarshal([]byte(`{"address":"10.0.0.1"}`), &bad); err == nil {
		t.Error("an interface without an id was accepted")
	}
}

// TestAssignRoles sets OS, brand and primary roles on many devices with
// one request per distinct name and reads them back.
func TestAssignRoles(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		kind     wug.RoleKind
		byDevice func(ids []string) map[string]string
		requests int
		read     func(wugtest.Device) string
	}{
		{"os, two names", wug.RoleOS, func(ids []string) map[string]string {
			return map[string]string{ids[0]: "Cisco IOS", ids[1]: "Cisco IOS", ids[2]: "Junos", ids[3]: "Cisco IOS"}
		}, 2, func(d wugtest.Device) string { return d.OS }},
		{"brand, one name", wug.RoleBrand, func(ids []string) map[string]string {
			return map[string]string{ids[0]: "Cisco", ids[1]: "Cisco", ids[2]: "Cisco", ids[3]: "Cisco"}
		}, 1, func(d wugtest.Device) string { return d.Brand }},
		{"primary, some devices", wug.RolePrimary, func(ids []string) map[string]string {
			return map[string]string{ids[1]: "Switch", ids[3]: "Router"}
		}, 2, func(d wugtest.Device) string { return d.Role }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv, c := fake(t, nil)
			ctx := context.Background()
			ids := srv.AddDevices(wugtest.Device{Name: "a"}, wugtest.Device{Name: "b"}, wugtest.Device{Name: "c"}, wugtest.Device{Name: "d"})
			want := tt.byDevice(ids)
			login(t, c)
			srv.ResetRequests()
			res, err := c.Devices.AssignRoles(ctx, tt.kind, want)
			if err != nil {
				t.Fatal(err)
			}
			if res.SuccessfulOperations != len(want) {
				t.Errorf("result %+v, want %d operations", res, len(want))
			}
			if n := srv.Count("PATCH /api/v1/devices/-/roles/" + string(tt.kind)); n != tt.requests || len(srv.Requests()) != n {
				t.Errorf("%d requests (%v), want %d", len(srv.Requests()), srv.Counts().ByRoute, tt.requests)
			}
			got := map[string]string{}
			for id := range want {
				d, _ := srv.Device(id)
				got[id] = tt.read(d)
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("roles (-want +got):\n%s", diff)
			}
		})
	}
}

func TestAssignRolePartialAndRefused(t *testing.T) {
	t.Parallel()
	srv, c := fake(t, nil)
	ctx := context.Background()
	ids := srv.AddDevices(wugtest.Device{Name: "a"}, wugtest.Device{Name: "b"})
	res, err := c.Devices.AssignRoles(ctx, wug.RoleOS, map[string]string{ids[0]: "Linux", "999": "Linux", ids[1]: "Windows"})
	var re *wug.ResultError
	if !errors.As(err, &re) || res == nil || res.SuccessfulOperations != 2 || !slices.Equal(re.Failed, []string{"999"}) {
		t.Errorf("unknown device: %+v, %v; want 2 done and a *ResultError naming 999", res, err)
	}
	if d, _ := srv.Device(ids[1]); d.OS != "Windows" {
		t.Errorf("the name after a partial failure was not sent: %+v", d)
	}
	var ae *wug.APIError
	if _, err := c.Devices.AssignRole(ctx, wug.RolePrimary, "No Such Role", ids); !errors.As(err, &ae) || ae.StatusCode != 400 {
		t.Errorf("unknown primary role: %v, want a 400", err)
	}
	srv.ResetRequests()
	var ie *wug.InputError
	for name, err := range map[string]error{
		"kind":       second(c.Devices.AssignRole(ctx, "subRole", "x", ids)),
		"empty name": second(c.Devices.AssignRoles(ctx, wug.RoleBrand, map[string]string{ids[0]: ""})),
		"no devices": second(c.Devices.AssignRole(ctx, wug.RoleBrand, "Cisco", nil)),
	} {
		if !errors.As(err, &ie) {
			t.Errorf("%s: %v, want an *InputError", name, err)
		}
	}
	if res, err := c.Devices.AssignRoles(ctx, wug.RoleBrand, nil); err != nil || res.SuccessfulOperations != 0 {
		t.Errorf("no devices: %+v, %v", res, err)
	}
	if n := len(srv.Requests()); n != 0 {
		t.Errorf("%d requests for refused input, want none", n)
	}
}

func second[T any](_ T, err error) error { return err }

func TestDeviceRoles(t *testing.T) {
	t.Parallel()
	srv, c := fake(t, nil)
	ctx := context.Background()
	id := srv.AddDevice(wugtest.Device{Name: "a", Role: "Switch", Brand: "Cisco", OS: "Cisco IOS"})
	got, err := c.Devices.Roles(ctx, id, "")
	if err != nil {
		t.Fatal(err)
	}
	want := []wug.RoleAssignment{{Kind: "role", Name: "Switch"}, {Kind: "brandModel", Name: "Cisco"}, {Kind: "os", Name: "Cisco IOS"}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Roles (-want +got):\n%s", diff)
	}
	got, err = c.Devices.Roles(ctx, id, "os")
	if err != nil || !cmp.Equal(want[2:], got) {
		t.Errorf("Roles(os) = %+v, %v", got, err)
	}
	srv.MisbehaveNext(wugtest.Misbehave{Route: "GET /api/v1/devices/{deviceId}/roles/-", Kind: wugtest.ErrorEnvelope})
	if _, err := c.Devices.Roles(ctx, id, ""); err == nil {
		t.Error("an error envelope was taken for roles")
	}
}

func TestChangeSubRoles(t *testing.T) {
	t.Parallel()
	srv, c := fake(t, nil)
	ctx := context.Background()
	ids := srv.AddDevices(wugtest.Device{Name: "a"}, wugtest.Device{Name: "b"})
	steps := []struct {
		op    wug.SubRoleOp
		roles []string
		want  []string
	}{
		{wug.SubRolesAdd, []string{"Resource Monitors", "Resource Attributes"}, []string{"Resource Monitors", "Resource Attributes"}},
		{wug.SubRolesDelete, []string{"resource monitors"}, []string{"Resource Attributes"}},
		{wug.SubRolesReplace, []string{"Resource Monitors"}, []string{"Resource Monitors"}},
		{wug.SubRolesClear, []string{"ignored"}, nil},
	}
	for _, st := range steps {
		if _, err := c.Devices.ChangeSubRoles(ctx, st.op, st.roles, ids); err != nil {
			t.Fatalf("%s: %v", st.op, err)
		}
		for _, id := range ids {
			if d, _ := srv.Device(id); !cmp.Equal(st.want, d.SubRoles, cmpopts.EquateEmpty()) {
				t.Errorf("after %s: sub-roles %q, want %q", st.op, d.SubRoles, st.want)
			}
		}
	}
	var ie *wug.InputError
	if _, err := c.Devices.ChangeSubRoles(ctx, "toggle", nil, ids); !errors.As(err, &ie) {
		t.Errorf("unknown operation: %v, want an *InputError", err)
	}
}

// TestProperties changes display name and note of one device in one
// request, and a note on many devices in one request.
func TestProperties(t *testing.T) {
	t.Parallel()
	srv, c := fake(t, nil)
	ctx := context.Background()
	ids := srv.AddDevices(wugtest.Device{Name: "a", Notes: "old"}, wugtest.Device{Name: "b"}, wugtest.Device{Name: "c"})
	login(t, c)
	srv.ResetRequests()
	name, note := "core-1", "managed by wugsync"
	if err := c.Devices.UpdateProperties(ctx, ids[0], wug.PropertiesUpdate{DisplayName: &name, Note: &note}); err != nil {
		t.Fatal(err)
	}
	if d, _ := srv.Device(ids[0]); d.Name != name || d.Notes != note {
		t.Errorf("device %+v", d)
	}
	if n := len(srv.Requests()); n != 1 {
		t.Errorf("%d requests for name and note, want 1", n)
	}
	many := "site B"
	res, err := c.Devices.UpdatePropertiesMany(ctx, ids[1:], wug.PropertiesUpdate{Note: &many})
	if err != nil || res.SuccessfulOperations != 2 {
		t.Fatalf("UpdatePropertiesMany = %+v, %v", res, err)
	}
	for _, id := range ids[1:] {
		if d, _ := srv.Device(id); d.Notes != many {
			t.Errorf("device %s note %q", id, d.Notes)
		}
	}
	if d, _ := srv.Device(ids[0]); d.Notes != note {
		t.Errorf("an unlisted device changed: %+v", d)
	}
	var ie *wug.InputError
	if _, err := c.Devices.UpdatePropertiesMany(ctx, ids, wug.PropertiesUpdate{DisplayName: &name}); !errors.As(err, &ie) {
		t.Errorf("display name for many: %v, want an *InputError", err)
	}
	if n := len(srv.Requests()); n != 2 {
		t.Errorf("%d requests, want 2", n)
	}
}

// TestEndpointsMisbehave runs each multi-device and re-addressing call
// against the fake's misbehaving answers: a lost answer is retried (each
// call is safe to repeat) and ends applied; an error envelope or an HTML
// page is an error and leaves WUG untouched; numeric ids and the corrected
// spelling decode.
func TestEndpointsMisbehave(t *testing.T) {
	t.Parallel()
	type env struct {
		srv *wugtest.Server
		ids []string
		grp string
	}
	calls := []struct {
		name    string
		route   string
		call    func(context.Context, *wug.Client, env) error
		applied func(env) bool
	}{
		{"readdress", "PUT /api/v1/devices/{deviceId}/interfaces/{interfaceId}",
			func(ctx context.Context, c *wug.Client, e env) error {
				_, err := c.Devices.Readdress(ctx, e.ids[0], "10.9.9.9")
				return err
			},
			func(e env) bool { d, _ := e.srv.Device(e.ids[0]); return d.Address == "10.9.9.9" }},
		{"assign roles", "PATCH /api/v1/devices/-/roles/os",
			func(ctx context.Context, c *wug.Client, e env) error {
				_, err := c.Devices.AssignRoles(ctx, wug.RoleOS, map[string]string{e.ids[0]: "Junos", e.ids[1]: "Junos"})
				return err
			},
			func(e env) bool { d, _ := e.srv.Device(e.ids[1]); return d.OS == "Junos" }},
		{"join group", "POST /api/v1/device-groups/{groupId}/devices/-",
			func(ctx context.Context, c *wug.Client, e env) error {
				_, err := c.Groups.AddDevices(ctx, e.grp, e.ids)
				return err
			},
			func(e env) bool { m, _ := e.srv.GroupMembers("Site B"); return len(m) == 2 }},
		{"maintenance", "PATCH /api/v1/devices/-/config/maintenance",
			func(ctx context.Context, c *wug.Client, e env) error {
				_, err := c.Devices.SetMaintenanceMany(ctx, e.ids, wug.Maintenance{Enabled: true})
				return err
			},
			func(e env) bool { d, _ := e.srv.Device(e.ids[1]); return d.Maintenance }},
		{"attributes", "PATCH /api/v1/devices/{deviceId}/attributes/-",
			func(ctx context.Context, c *wug.Client, e env) error {
				_, err := c.Attributes.Replace(ctx, e.ids[0], nil, []wug.NameValue{{Name: "NetBox_Site", Value: "B"}})
				return err
			},
			func(e env) bool { d, _ := e.srv.Device(e.ids[0]); return d.Attributes["NetBox_Site"] == "B" }},
		{"notes", "PATCH /api/v1/devices/-/properties",
			func(ctx context.Context, c *wug.Client, e env) error {
				note := "n"
				_, err := c.Devices.UpdatePropertiesMany(ctx, e.ids, wug.PropertiesUpdate{Note: &note})
				return err
			},
			func(e env) bool { d, _ := e.srv.Device(e.ids[1]); return d.Notes == "n" }},
	}
	modes := []struct {
		mode     wugtest.Misbehavior
		failed   bool
		requests int // requests to the route
	}{
		{wugtest.ApplyThenDrop, false, 2},
		{wugtest.ErrorEnvelope, true, 1},
		{wugtest.NonJSON, true, 1},
		{wugtest.NumericIDs, false, 1},
		{wugtest.CorrectedSpelling, false, 1},
	}
	for _, cl := range calls {
		for _, m := range modes {
			t.Run(cl.name+"/"+string(m.mode), func(t *testing.T) {
				t.Parallel()
				srv, c := fake(t, nil)
				e := env{srv: srv, grp: srv.AddGroup("Site B")}
				e.ids = srv.AddDevices(
					wugtest.Device{Name: "a", Address: "10.0.0.1", Attributes: map[string]string{"NetBox_Site": "A"}},
					wugtest.Device{Name: "b", Address: "10.0.0.2"},
				)
				srv.MisbehaveNext(wugtest.Misbehave{Route: cl.route, Kind: m.mode})
				err := cl.call(context.Background(), c, e)
				if (err != nil) != m.failed {
					t.Errorf("err = %v, want failure %v", err, m.failed)
				}
				if got := cl.applied(e); got == m.failed {
					t.Errorf("applied = %v, want %v", got, !m.failed)
				}
				if n := srv.Count(cl.route); n != m.requests {
					t.Errorf("%d requests to %s, want %d", n, cl.route, m.requests)
				}
			})
		}
	}
}

// TestMoveDevices moves devices between site groups with two requests and
// leaves their other groups alone.
func TestMoveDevices(t *testing.T) {
	t.Parallel()
	srv, c := fake(t, nil)
	ctx := context.Background()
	a, b := srv.AddGroup("NetBox/Site A"), srv.AddGroup("NetBox/Site B")
	devs := srv.AddDevices(
		wugtest.Device{Name: "x", Groups: []string{"NetBox/Site A", "Manual"}},
		wugtest.Device{Name: "y", Groups: []string{"NetBox/Site A"}},
	)
	login(t, c)
	srv.ResetRequests()
	moved, err := c.Groups.MoveDevices(ctx, a, b, append(slices.Clone(devs), "999"))
	var re *wug.ResultError
	if !errors.As(err, &re) || !slices.Equal(re.Failed, []string{"999"}) {
		t.Errorf("err = %v, want a *ResultError naming 999", err)
	}
	if diff := cmp.Diff(devs, moved); diff != "" {
		t.Errorf("moved (-want +got):\n%s", diff)
	}
	got := map[string][]string{}
	for _, id := range devs {
		d, _ := srv.Device(id)
		got[id] = d.Groups
	}
	want := map[string][]string{
		devs[0]: {"My Network/NetBox/Site B", "My Network/Manual"},
		devs[1]: {"My Network/NetBox/Site B"},
	}
	if diff := cmp.Diff(want, got, cmpopts.SortSlices(func(x, y string) bool { return x < y })); diff != "" {
		t.Errorf("groups (-want +got):\n%s", diff)
	}
	if n := len(srv.Requests()); n != 2 {
		t.Errorf("%d requests, want 2", n)
	}
	var ie *wug.InputError
	if _, err := c.Groups.MoveDevices(ctx, a, a, devs); !errors.As(err, &ie) {
		t.Errorf("same group: %v, want an *InputError", err)
	}
}

func TestInterfacesAddDeleteBatch(t *testing.T) {
	t.Parallel()
	srv, c := fake(t, nil)
	ctx := context.Background()
	id := srv.AddDevice(wugtest.Device{Name: "sw", Address: "10.0.0.1"})
	addrs := func() []string {
		ifs, _ := srv.Interfaces(id)
		var out []string
		for _, in := range ifs {
			out = append(out, fmt.Sprintf("%s default=%v", in.Address, in.Default))
		}
		return out
	}
	second, err := c.Devices.AddInterface(ctx, id, wug.InterfaceData{Address: "10.0.0.2", HostName: "sw-b.lab"})
	if err != nil || second.Address != "10.0.0.2" || second.HostName != "sw-b.lab" {
		t.Fatalf("AddInterface = %+v, %v", second, err)
	}
	res, err := c.Devices.BatchInterfaces(ctx, id, wug.InterfaceBatch{
		InterfaceToModify: []wug.InterfaceModify{{InterfaceID: second.ID, InterfaceUpdate: wug.InterfaceUpdate{DefaultInterface: true}}},
		InterfacesToAdd:   []wug.InterfaceData{{Address: "192.0.2.1"}, {Address: "192.0.2.2"}},
	})
	if err != nil || res.SuccessfulOperations != 3 {
		t.Fatalf("BatchInterfaces = %+v, %v", res, err)
	}
	if diff := cmp.Diff([]string{"10.0.0.1 default=false", "10.0.0.2 default=true", "192.0.2.1 default=false", "192.0.2.2 default=false"}, addrs()); diff != "" {
		t.Errorf("after batch (-want +got):\n%s", diff)
	}
	ifs, _ := srv.Interfaces(id)
	if err := c.Devices.DeleteInterface(ctx, id, ifs[2].ID); err != nil {
		t.Fatal(err)
	}
	var ae *wug.APIError
	if err := c.Devices.DeleteInterface(ctx, id, second.ID); !errors.As(err, &ae) || ae.StatusCode != 400 {
		t.Errorf("deleting the default: %v, want a 400", err)
	}
	if err := c.Devices.DeleteOtherInterfaces(ctx, id); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"10.0.0.2 default=true"}, addrs()); diff != "" {
		t.Errorf("after deletes (-want +got):\n%s", diff)
	}
	res, err = c.Devices.BatchInterfaces(ctx, id, wug.InterfaceBatch{InterfacesToAdd: []wug.InterfaceData{{Address: "10.0.0.2"}}})
	var re *wug.ResultError
	if !errors.As(err, &re) || res == nil || len(re.NotAllowed) != 1 {
		t.Errorf("a duplicate address in a batch: %+v, %v; want a *ResultError", res, err)
	}
	srv.ResetRequests()
	var ie *wug.InputError
	if _, err := c.Devices.AddInterface(ctx, id, wug.InterfaceData{HostName: "x.lab"}); !errors.As(err, &ie) {
		t.Errorf("no address: %v, want an *InputError", err)
	}
	if _, err := c.Devices.BatchInterfaces(ctx, id, wug.InterfaceBatch{InterfaceToModify: []wug.InterfaceModify{{InterfaceID: "1", InterfaceUpdate: wug.InterfaceUpdate{Address: "x"}}}}); !errors.As(err, &ie) {
		t.Errorf("bad modify address: %v, want an *InputError", err)
	}
	if n := len(srv.Requests()); n != 0 {
		t.Errorf("%d requests for refused input, want none", n)
	}
}

// TestAttributesReplaceIsAtomic: readers never see a replaced attribute
// missing between the batch's delete and its add.
func TestAttributesReplaceIsAtomic(t *testing.T) {
	t.Parallel()
	srv, c := fake(t, nil)
	ctx := context.Background()
	id := srv.AddDevice(wugtest.Device{Name: "d", Attributes: map[string]string{"NetBox_Site": "v0", "Owner": "ops"}})
	const rounds = 40
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := range rounds {
			if _, err := c.Attributes.Replace(ctx, id, nil, []wug.NameValue{{Name: "NetBox_Site", Value: fmt.Sprintf("v%d", i+1)}}); err != nil {
				t.Error(err)
				return
			}
		}
	}()
	reads := 0
	for running := true; running; reads++ {
		select {
		case <-done:
			running = false
		default:
		}
		attrs, err := wug.Collect(c.Attributes.List(ctx, id, nil))
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, a := range attrs {
			if a.Name == "NetBox_Site" {
				n++
			}
		}
		if n != 1 || len(attrs) != 2 {
			t.Fatalf("read %d saw %d NetBox_Site attributes among %+v, want exactly one", reads, n, attrs)
		}
	}
	if d, _ := srv.Device(id); d.Attributes["NetBox_Site"] != fmt.Sprintf("v%d", rounds) {
		t.Errorf("final attributes %v", d.Attributes)
	}
}
