package wugtest_test

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/wugsync/wugsync/wug/wugtest"
)

type roleAssignment struct {
	Kind string `json:"kind"`
	Name string `json:"name"`
}

func roles(a *api, id, kind string) []roleAssignment {
	a.t.Helper()
	var out struct{ Data []roleAssignment }
	q := ""
	if kind != "" {
		q = "?kind=" + kind
	}
	a.call("GET", "/devices/"+id+"/roles/-"+q, nil, 200, &out)
	return out.Data
}

// TestRolesMany assigns roles to many devices with the multi-device
// endpoints and reads them back through the device and its roles.
func TestRolesMany(t *testing.T) {
	t.Parallel()
	a := newAPI(t)
	ids := a.srv.AddDevices(wugtest.Device{Name: "a"}, wugtest.Device{Name: "b"}, wugtest.Device{Name: "c"})
	var res counted
	a.call("PATCH", "/devices/-/roles/os", map[string]any{"devices": ids[:2], "name": "Cisco IOS"}, 200, &res)
	if res.SuccessfulOperations != 2 || !res.Success {
		t.Errorf("os result %+v", res)
	}
	a.call("PATCH", "/devices/-/roles/brand", map[string]any{"devices": ids, "name": "Cisco"}, 200, nil)
	a.call("PATCH", "/devices/-/roles/primary", map[string]any{"devices": ids[2:], "name": "switch"}, 200, nil)
	a.call("PATCH", "/devices/-/roles/sub-role", map[string]any{"devices": ids[:1], "operation": "add", "subroles": []string{"Resource Monitors", "Resource Attributes"}}, 200, nil)
	a.call("PATCH", "/devices/-/roles/sub-role", map[string]any{"devices": ids[:1], "operation": "delete", "subroles": []string{"resource monitors"}}, 200, nil)

	type roleState struct{ Role, Brand, OS string }
	got := map[string]roleState{}
	for _, id := range ids {
		d, _ := a.srv.Device(id)
		got[id] = roleState{d.Role, d.Brand, d.OS}
	}
	want := map[string]roleState{
		ids[0]: {"Device", "Cisco", "Cisco IOS"},
		ids[1]: {"Device", "Cisco", "Cisco IOS"},
		ids[2]: {"switch", "Cisco", "Not Set"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("roles (-want +got):\n%s", diff)
	}
	wantRoles := []roleAssignment{{"role", "Device"}, {"brandModel", "Cisco"}, {"os", "Cisco IOS"}, {"subRole", "Resource Attributes"}}
	if diff := cmp.Diff(wantRoles, roles(a, ids[0], "")); diff != "" {
		t.Errorf("GET roles (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(wantRoles[1:2], roles(a, ids[0], "brand")); diff != "" {
		t.Errorf("GET roles?kind=brand (-want +got):\n%s", diff)
	}
	var dev struct{ Data devOverview }
	a.call("GET", "/devices/"+ids[2], nil, 200, &dev)
	if dev.Data.Role != "switch" {
		t.Errorf("device read shows role %q", dev.Data.Role)
	}
}

func TestRolesRefused(t *testing.T) {
	t.Parallel()
	a := newAPI(t)
	ids := a.srv.AddDevices(wugtest.Device{Name: "a", OS: "Linux"})
	a.call("PATCH", "/devices/-/roles/primary", map[string]any{"devices": ids, "name": "No Such Role"}, 400, nil)
	a.call("PATCH", "/devices/-/roles/os", map[string]any{"devices": ids, "name": " "}, 400, nil)
	a.call("PATCH", "/devices/-/roles/sub-role", map[string]any{"devices": ids, "operation": "replace", "subroles": []string{"nope"}}, 400, nil)
	a.call("PUT", "/devices/"+ids[0]+"/roles/primary?primary=nope", nil, 400, nil)
	var res counted
	a.call("PATCH", "/devices/-/roles/os", map[string]any{"devices": []string{ids[0], "999"}, "name": "Windows"}, 200, &res)
	if res.Success || res.SuccessfulOperations != 1 || len(res.ResourcesWithErros) != 1 {
		t.Errorf("unknown device: %+v", res)
	}
	if d, _ := a.srv.Device(ids[0]); d.Role != "Device" || d.OS != "Windows" {
		t.Errorf("device %+v", d)
	}
}

func TestRoleOneDevice(t *testing.T) {
	t.Parallel()
	a := newAPI(t)
	id := a.srv.AddDevice(wugtest.Device{Name: "a"})
	a.call("PUT", "/devices/"+id+"/roles/os?osName=Junos", nil, 200, nil)
	a.call("PUT", "/devices/"+id+"/roles/brand?brand=Juniper", nil, 200, nil)
	a.call("PUT", "/devices/"+id+"/roles/primary?primary=Router", nil, 200, nil)
	d, _ := a.srv.Device(id)
	if d.OS != "Junos" || d.Brand != "Juniper" || d.Role != "Router" {
		t.Errorf("device %+v", d)
	}
	a.call("PATCH", "/devices/-/roles/sub-role", map[string]any{"devices": []string{id}, "operation": "replace", "subroles": []string{"Resource Monitors"}}, 200, nil)
	a.call("PATCH", "/devices/-/roles/sub-role", map[string]any{"devices": []string{id}, "operation": "add", "subroles": []string{"resource monitors"}}, 200, nil)
	if d, _ := a.srv.Device(id); !cmp.Equal(d.SubRoles, []string{"Resource Monitors"}) {
		t.Errorf("sub-roles %q", d.SubRoles)
	}
	a.call("PATCH", "/devices/-/roles/sub-role", map[string]any{"devices": []string{id}, "operation": "clear"}, 200, nil)
	if d, _ := a.srv.Device(id); len(d.SubRoles) != 0 {
		t.Errorf("sub-roles after clear %q", d.SubRoles)
	}
}
