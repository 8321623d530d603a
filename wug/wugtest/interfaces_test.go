package wugtest_test

import (
	"net/url"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/wugsync/wugsync/wug/wugtest"
)

type netIface struct {
	InterfaceID      string `json:"interfaceId"`
	HostName         string `json:"hostName"`
	Address          string `json:"address"`
	DefaultInterface bool   `json:"defaultInterface"`
	PollUsingName    bool   `json:"pollUsingName"`
}

// twoInterfaces creates a device with a default interface and a second
// one through a template, as WUG users do, and returns its id.
func twoInterfaces(a *api) string {
	a.t.Helper()
	res := apply(a, template("t", "web", "10.0.0.5", func(m map[string]any) {
		m["interfaces"] = []any{
			map[string]any{"defaultInterface": true, "networkAddress": "10.0.0.5", "networkName": "web.lab"},
			map[string]any{"networkAddress": "192.0.2.5"},
		}
	}))
	return res.Data.IDMap[0].ResultID
}

func TestInterfacesListAndDefault(t *testing.T) {
	t.Parallel()
	a := newAPI(t, wugtest.WithPageLimit(1))
	id := twoInterfaces(a)
	var all []netIface
	q := url.Values{}
	for {
		var p page[[]netIface]
		a.call("GET", "/devices/"+id+"/interfaces/-?"+q.Encode(), nil, 200, &p)
		all = append(all, p.Data...)
		if p.Paging.NextPageID == "" {
			break
		}
		q.Set("pageId", p.Paging.NextPageID)
	}
	if len(all) != 2 || !all[0].DefaultInterface || all[1].DefaultInterface {
		t.Fatalf("interfaces = %+v", all)
	}
	want := []netIface{
		{InterfaceID: all[0].InterfaceID, HostName: "web.lab", Address: "10.0.0.5", DefaultInterface: true},
		{InterfaceID: all[1].InterfaceID, Address: "192.0.2.5"},
	}
	if diff := cmp.Diff(want, all); diff != "" {
		t.Errorf("listing (-want +got):\n%s", diff)
	}
	var def, one struct{ Data netIface }
	a.call("GET", "/devices/"+id+"/interfaces/default", nil, 200, &def)
	a.call("GET", "/devices/"+id+"/interfaces/"+all[1].InterfaceID, nil, 200, &one)
	if diff := cmp.Diff(want, []netIface{def.Data, one.Data}); diff != "" {
		t.Errorf("default and by id (-want +got):\n%s", diff)
	}
	var found struct{ Data []netIface }
	a.call("GET", "/devices/"+id+"/interfaces/-?search=192.0", nil, 200, &found)
	if len(found.Data) != 1 || found.Data[0].Address != "192.0.2.5" {
		t.Errorf("search = %+v", found.Data)
	}
	got, _ := a.srv.Interfaces(id)
	wantState := []wugtest.Interface{
		{ID: all[0].InterfaceID, Address: "10.0.0.5", HostName: "web.lab", Default: true},
		{ID: all[1].InterfaceID, Address: "192.0.2.5"},
	}
	if diff := cmp.Diff(wantState, got); diff != "" {
		t.Errorf("Interfaces (-want +got):\n%s", diff)
	}
	a.call("GET", "/devices/"+id+"/interfaces/999", nil, 404, nil)
	a.call("GET", "/devices/999/interfaces/default", nil, 404, nil)
	noIface := a.srv.AddDevice(wugtest.Device{Name: "cloud"})
	a.call("GET", "/devices/"+noIface+"/interfaces/default", nil, 404, nil)
}

// TestInterfaceReaddress changes the default interface's address: the
// device's listing, its address and lookups by address follow.
func TestInterfaceReaddress(t *testing.T) {
	t.Parallel()
	a := newAPI(t)
	id := a.srv.AddDevice(wugtest.Device{Name: "sw", HostName: "10.0.0.1", Address: "10.0.0.1"})
	var def struct{ Data netIface }
	a.call("GET", "/devices/"+id+"/interfaces/default", nil, 200, &def)
	var put struct{ Data netIface }
	a.call("PUT", "/devices/"+id+"/interfaces/"+def.Data.InterfaceID, map[string]any{"address": "10.9.0.1", "hostName": "10.9.0.1"}, 200, &put)
	want := netIface{InterfaceID: def.Data.InterfaceID, HostName: "10.9.0.1", Address: "10.9.0.1", DefaultInterface: true}
	if diff := cmp.Diff(want, put.Data); diff != "" {
		t.Errorf("answer (-want +got):\n%s", diff)
	}
	if d, _ := a.srv.Device(id); d.Address != "10.9.0.1" || d.HostName != "10.9.0.1" {
		t.Errorf("device = %+v", d)
	}
	if n := len(a.srv.DevicesByAddress("10.0.0.1")); n != 0 {
		t.Errorf("old address still finds %d devices", n)
	}
	if ds := a.srv.DevicesByAddress("10.9.0.1"); len(ds) != 1 || ds[0].ID != id {
		t.Errorf("new address finds %+v", ds)
	}
	found, _ := listAll(a, "0", url.Values{"search": {"10.9.0.1"}})
	if len(found) != 1 || found[0].NetworkAddress != "10.9.0.1" {
		t.Errorf("search by the new address = %+v", found)
	}
	if old, _ := listAll(a, "0", url.Values{"search": {"10.0.0.1"}}); len(old) != 0 {
		t.Errorf("search by the old address = %+v", old)
	}
	// Empty fields change nothing.
	a.call("PUT", "/devices/"+id+"/interfaces/"+def.Data.InterfaceID, map[string]any{"address": "", "defaultInterface": false}, 200, &put)
	if diff := cmp.Diff(want, put.Data); diff != "" {
		t.Errorf("empty update (-want +got):\n%s", diff)
	}
}

func TestInterfaceUpdateRules(t *testing.T) {
	t.Parallel()
	a := newAPI(t)
	id := twoInterfaces(a)
	ifs, _ := a.srv.Interfaces(id)
	def, second := ifs[0].ID, ifs[1].ID
	tests := []struct {
		name   string
		ifID   string
		body   map[string]any
		status int
	}{
		{"not an IP", def, map[string]any{"address": "web.lab"}, 400},
		{"address of another interface", def, map[string]any{"address": "192.0.2.5"}, 400},
		{"unknown interface", "999", map[string]any{"address": "10.1.1.1"}, 404},
	}
	for _, tt := range tests {
		a.call("PUT", "/devices/"+id+"/interfaces/"+tt.ifID, tt.body, tt.status, nil)
	}
	if got, _ := a.srv.Interfaces(id); !cmp.Equal(ifs, got) {
		t.Errorf("refused updates changed interfaces: %+v", got)
	}
	// Making the second interface the default moves the device there.
	a.call("PUT", "/devices/"+id+"/interfaces/"+second, map[string]any{"defaultInterface": true, "pollUsingName": false}, 200, nil)
	got, _ := a.srv.Interfaces(id)
	if got[0].Default || !got[1].Default {
		t.Errorf("interfaces = %+v", got)
	}
	if d, _ := a.srv.Device(id); d.Address != "192.0.2.5" {
		t.Errorf("device address = %q, want the new default's", d.Address)
	}
}

func addrs(a *api, id string) []string {
	a.t.Helper()
	ifs, _ := a.srv.Interfaces(id)
	var out []string
	for _, in := range ifs {
		s := in.Address
		if in.Default {
			s += "*"
		}
		out = append(out, s)
	}
	return out
}

// TestInterfaceAddAndDelete adds and deletes interfaces one at a time: an
// added default moves the device, and the default cannot be deleted.
func TestInterfaceAddAndDelete(t *testing.T) {
	t.Parallel()
	a := newAPI(t)
	id := a.srv.AddDevice(wugtest.Device{Name: "sw", Address: "10.0.0.1"})
	var added struct{ Data netIface }
	a.call("POST", "/devices/"+id+"/interfaces/-", map[string]any{"address": "10.0.0.2"}, 200, &added)
	if added.Data.HostName != "10.0.0.2" || added.Data.DefaultInterface {
		t.Errorf("added %+v", added.Data)
	}
	a.call("POST", "/devices/"+id+"/interfaces/-", map[string]any{"address": "10.0.0.1"}, 400, nil)
	a.call("POST", "/devices/"+id+"/interfaces/-", map[string]any{"hostName": "x.lab"}, 400, nil)
	a.call("POST", "/devices/"+id+"/interfaces/-", map[string]any{"address": "10.0.0.3", "defaultInterface": true}, 200, nil)
	if diff := cmp.Diff([]string{"10.0.0.1", "10.0.0.2", "10.0.0.3*"}, addrs(a, id)); diff != "" {
		t.Errorf("interfaces (-want +got):\n%s", diff)
	}
	if d, _ := a.srv.Device(id); d.Address != "10.0.0.3" {
		t.Errorf("device address %q", d.Address)
	}
	ifs, _ := a.srv.Interfaces(id)
	a.call("DELETE", "/devices/"+id+"/interfaces/"+ifs[2].ID, nil, 400, nil)
	a.call("DELETE", "/devices/"+id+"/interfaces/"+ifs[0].ID, nil, 200, nil)
	a.call("DELETE", "/devices/"+id+"/interfaces/"+ifs[0].ID, nil, 404, nil)
	a.call("DELETE", "/devices/"+id+"/interfaces/-", nil, 200, nil)
	if diff := cmp.Diff([]string{"10.0.0.3*"}, addrs(a, id)); diff != "" {
		t.Errorf("after deletes (-want +got):\n%s", diff)
	}
}

// TestInterfaceBatch runs the batch steps in the contract's order.
func TestInterfaceBatch(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		batch func(ids []string) map[string]any
		want  []string
		ok    int
		fail  bool
	}{
		{"delete all keeps the default", func([]string) map[string]any {
			return map[string]any{"deleteAllInterfaces": true}
		}, []string{"10.0.0.1*"}, 2, false},
		{"delete by id refuses the default", func(ids []string) map[string]any {
			return map[string]any{"interfacesToDelete": []string{ids[0], ids[1], "999"}}
		}, []string{"10.0.0.1*", "192.0.2.2"}, 1, true},
		{"delete by partial address", func([]string) map[string]any {
			return map[string]any{"addressOrHostNameToDelete": []string{"192.0.2", "10.0"}}
		}, []string{"10.0.0.1*"}, 2, false},
		{"deletes run before modify and add", func(ids []string) map[string]any {
			return map[string]any{
				"interfacesToDelete": []string{ids[1]},
				"interfaceToModify":  []any{map[string]any{"interfaceId": ids[2], "address": "10.0.0.2", "defaultInterface": true}},
				"interfacesToAdd":    []any{map[string]any{"address": "192.0.2.1"}},
			}
		}, []string{"10.0.0.1", "10.0.0.2*", "192.0.2.1"}, 3, false},
		{"a broken rule is refused, the rest go on", func(ids []string) map[string]any {
			return map[string]any{
				"interfaceToModify": []any{map[string]any{"interfaceId": ids[1], "address": "192.0.2.2"}, map[string]any{"interfaceId": "999", "address": "10.5.5.5"}},
				"interfacesToAdd":   []any{map[string]any{"address": "10.0.0.1"}, map[string]any{"address": "10.0.0.9"}},
			}
		}, []string{"10.0.0.1*", "10.0.0.2", "192.0.2.2", "10.0.0.9"}, 1, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			a := newAPI(t)
			id := a.srv.AddDevice(wugtest.Device{Name: "sw", Address: "10.0.0.1"})
			a.call("POST", "/devices/"+id+"/interfaces/-", map[string]any{"address": "10.0.0.2"}, 200, nil)
			a.call("POST", "/devices/"+id+"/interfaces/-", map[string]any{"address": "192.0.2.2"}, 200, nil)
			ifs, _ := a.srv.Interfaces(id)
			ids := []string{ifs[0].ID, ifs[1].ID, ifs[2].ID}
			var res struct{ Data counted }
			a.call("PATCH", "/devices/"+id+"/interfaces/-", tt.batch(ids), 200, &res)
			if diff := cmp.Diff(tt.want, addrs(a, id)); diff != "" {
				t.Errorf("interfaces (-want +got):\n%s", diff)
			}
			if res.Data.SuccessfulOperations != tt.ok || res.Data.Success == tt.fail {
				t.Errorf("result %+v, want %d operations, failure %v", res.Data, tt.ok, tt.fail)
			}
			if d, _ := a.srv.Device(id); d.Address != strings.TrimSuffix(findDefault(tt.want), "*") {
				t.Errorf("device address %q", d.Address)
			}
		})
	}
}

func findDefault(addrs []string) string {
	for _, a := range addrs {
		if strings.HasSuffix(a, "*") {
			return a
		}
	}
	return ""
}
