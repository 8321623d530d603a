package wug_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/google/go-cmp/cmp"

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
