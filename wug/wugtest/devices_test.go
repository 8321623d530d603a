package wugtest_test

import (
	"fmt"
	"net/url"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/wugsync/wugsync/wug/wugtest"
)

func seedFleet(a *api, n int) []string {
	ds := make([]wugtest.Device, n)
	for i := range ds {
		ds[i] = wugtest.Device{
			Name:     fmt.Sprintf("host-%03d", i),
			HostName: fmt.Sprintf("host-%03d.lab", i),
			Address:  fmt.Sprintf("10.0.%d.%d", i/250, i%250+1),
			Groups:   []string{fmt.Sprintf("My Network/Sites/Site %d", i%3)},
		}
	}
	return a.srv.AddDevices(ds...)
}

func TestListDevicesPagingClampsLimit(t *testing.T) {
	t.Parallel()
	a := newAPI(t, wugtest.WithPageLimit(40))
	ids := seedFleet(a, 100)
	tests := []struct {
		limit     string
		wantPages int
	}{
		{"", 3}, {"0", 3}, {"10000", 3}, {"40", 3}, {"25", 4}, {"7", 15}, {"100", 3},
	}
	for _, tc := range tests {
		t.Run("limit="+tc.limit, func(t *testing.T) {
			t.Parallel()
			q := url.Values{}
			if tc.limit != "" {
				q.Set("limit", tc.limit)
			}
			got, pages := listAll(a, "0", q)
			if pages != tc.wantPages {
				t.Errorf("pages = %d, want %d", pages, tc.wantPages)
			}
			var gotIDs []string
			for _, d := range got {
				gotIDs = append(gotIDs, d.ID)
			}
			if diff := cmp.Diff(ids, gotIDs); diff != "" {
				t.Errorf("ids (-want +got):\n%s", diff)
			}
		})
	}
}

func TestListDevicesLastPageOmitsNextPageID(t *testing.T) {
	t.Parallel()
	a := newAPI(t)
	seedFleet(a, 3)
	status, body := a.do("GET", "/device-groups/0/devices/-", nil)
	if status != 200 {
		t.Fatal(status)
	}
	if s := string(body); contains(s, "nextPageId") || contains(s, "totalCount") {
		t.Errorf("single page carries nextPageId or totals: %s", s)
	}
}

var contains = strings.Contains

func TestListDevicesSearchIsSubstring(t *testing.T) {
	t.Parallel()
	a := newAPI(t)
	a.srv.AddDevices(
		wugtest.Device{Name: "Core-SW1", HostName: "core-sw1.lab", Address: "10.0.0.1"},
		wugtest.Device{Name: "edge", HostName: "edge.lab", Address: "10.0.0.10"},
		wugtest.Device{Name: "printer-2", HostName: "prn2.lab", Address: "10.0.1.5"},
	)
	tests := []struct {
		search string
		want   []string
	}{
		{"10.0.0.1", []string{"Core-SW1", "edge"}}, // substring: a superset, as in WUG
		{"CORE", []string{"Core-SW1"}},
		{"prn2", []string{"printer-2"}},
		{"LAB", []string{"Core-SW1", "edge", "printer-2"}},
		{"nothing", nil},
	}
	for _, tc := range tests {
		t.Run(tc.search, func(t *testing.T) {
			t.Parallel()
			got, _ := listAll(a, "0", url.Values{"search": {tc.search}})
			var names []string
			for _, d := range got {
				names = append(names, d.Name)
			}
			if diff := cmp.Diff(tc.want, names); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestListDevicesHierarchyAndViews(t *testing.T) {
	t.Parallel()
	a, _ := newLenientAPI(t)
	a.srv.AddDevice(wugtest.Device{Name: "top", Address: "10.1.0.1", Groups: []string{"My Network/A"}})
	a.srv.AddDevice(wugtest.Device{Name: "nested", Address: "10.1.0.2", Groups: []string{"My Network/A/B"}})
	a.srv.AddDevice(wugtest.Device{Name: "root", Address: "10.1.0.3"})
	ga, _ := a.srv.GroupByPath("My Network/A")
	names := func(q url.Values, gid string) []string {
		got, _ := listAll(a, gid, q)
		var out []string
		for _, d := range got {
			out = append(out, d.Name)
		}
		return out
	}
	if diff := cmp.Diff([]string{"top", "nested"}, names(url.Values{}, ga.ID)); diff != "" {
		t.Errorf("returnHierarchy default (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"top"}, names(url.Values{"returnHierarchy": {"false"}}, ga.ID)); diff != "" {
		t.Errorf("returnHierarchy=false (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"root"}, names(url.Values{"returnHierarchy": {"false"}}, "0")); diff != "" {
		t.Errorf("root without hierarchy (-want +got):\n%s", diff)
	}
	var dl deviceList
	a.call("GET", "/device-groups/0/devices/-?view=id&limit=1", nil, 200, &dl)
	if d := dl.Data.Devices[0]; d.ID == "" || d.Name != "" {
		t.Errorf("view=id gave %+v", d)
	}
	status, body := a.do("GET", "/device-groups/0/devices/-?view=overview&limit=1", nil)
	if status != 200 || !contains(string(body), `"totalActiveMonitors":0`) {
		t.Errorf("view=overview: %d %s", status, body)
	}
	a.call("GET", "/device-groups/0/devices/-?view=bogus", nil, 400, nil)
	a.call("GET", "/device-groups/0/devices/-?state=Sideways", nil, 400, nil)
	a.call("GET", "/device-groups/0/devices/-?pageId=garbage", nil, 400, nil)
	a.call("GET", "/device-groups/999/devices/-", nil, 404, nil)
	// The deprecated path without "/-" still answers.
	a.call("GET", "/device-groups/0/devices", nil, 200, &dl)
	if len(dl.Data.Devices) != 3 {
		t.Errorf("deprecated listing gave %d devices", len(dl.Data.Devices))
	}
}

func TestListDevicesStateFilter(t *testing.T) {
	t.Parallel()
	a := newAPI(t)
	a.srv.AddDevices(wugtest.Device{Name: "up"}, wugtest.Device{Name: "down", State: "Down"}, wugtest.Device{Name: "maint", Maintenance: true})
	for state, want := range map[string][]string{"Up": {"up"}, "Down": {"down"}, "Maintenance": {"maint"}, "Any": {"up", "down", "maint"}} {
		got, _ := listAll(a, "0", url.Values{"state": {state}})
		var names []string
		for _, d := range got {
			names = append(names, d.Name)
		}
		if diff := cmp.Diff(want, names); diff != "" {
			t.Errorf("state=%s (-want +got):\n%s", state, diff)
		}
	}
}

func TestDeviceGetStatusProperties(t *testing.T) {
	t.Parallel()
	a, rep := newLenientAPI(t)
	id := a.srv.AddDevice(wugtest.Device{Name: "web-01", HostName: "web-01.lab", Address: "10.2.0.1", Role: "Server", Notes: "n1"})
	var one struct{ Data devOverview }
	a.call("GET", "/devices/"+id, nil, 200, &one)
	if diff := cmp.Diff(devOverview{ID: id, Name: "web-01", HostName: "web-01.lab", NetworkAddress: "10.2.0.1", BestState: "Up", WorstState: "Up", Role: "Server"}, one.Data); diff != "" {
		t.Errorf("GET device (-want +got):\n%s", diff)
	}
	var st struct {
		Data struct{ BestState, WorstState, LastChangeUtc string }
	}
	a.call("GET", "/devices/"+id+"/status", nil, 200, &st)
	if st.Data.BestState != "Up" || st.Data.LastChangeUtc == "" {
		t.Errorf("status = %+v", st.Data)
	}
	// Keys are matched case-insensitively, as WUG's binder does; absent
	// fields stay unchanged.
	a.call("PUT", "/devices/"+id+"/properties", `{"displayname":"web-01b","ISWIRELESS":"true"}`, 200, nil)
	var props struct {
		Data struct {
			ID, DisplayName, Note string
			IsWireless            bool
			KeepDetailsCurrent    bool
		}
	}
	a.call("GET", "/devices/"+id+"/properties", nil, 200, &props)
	if props.Data.DisplayName != "web-01b" || !props.Data.IsWireless || props.Data.Note != "n1" || !props.Data.KeepDetailsCurrent {
		t.Errorf("properties after PUT = %+v", props.Data)
	}
	// The batch form cannot rename.
	var res struct{ Data counted }
	a.call("PATCH", "/devices/-/properties", map[string]any{"devices": []string{id, "9999"}, "note": "batch", "displayName": "nope"}, 200, &res)
	if res.Data.SuccessfulOperations != 1 || len(res.Data.ResourcesWithErros) != 1 {
		t.Errorf("batch result = %+v", res.Data)
	}
	d, _ := a.srv.Device(id)
	if d.Name != "web-01b" || d.Notes != "batch" {
		t.Errorf("device after batch = %+v", d)
	}
	a.call("PUT", "/devices/"+id+"/properties", map[string]any{"displayName": ""}, 400, nil)
	a.call("GET", "/devices/424242", nil, 404, nil)
	a.call("GET", "/devices/424242/status", nil, 404, nil)
	// The contract check saw the lower-case keys and the displayName in
	// the batch form.
	if got := len(rep.all()); got != 3 {
		t.Errorf("contract reports = %d, want 3: %q", got, rep.all())
	}
}

func TestDeleteDevices(t *testing.T) {
	t.Parallel()
	a, _ := newLenientAPI(t)
	ids := seedFleet(a, 5)
	a.call("DELETE", "/devices/"+ids[0]+"?deleteDiscoveredDevices=true", nil, 200, nil)
	a.call("DELETE", "/devices/"+ids[0], nil, 404, nil)
	var res struct{ Data counted }
	a.call("PATCH", "/devices/-", map[string]any{"operation": "delete", "devices": []string{ids[1], ids[2], "777"}}, 200, &res)
	if res.Data.SuccessfulOperations != 2 || !cmp.Equal(res.Data.ResourcesWithErros, []string{"777"}) || res.Data.Success {
		t.Errorf("bulk delete = %+v", res.Data)
	}
	a.call("PATCH", "/devices/-", map[string]any{"operation": "explode", "devices": []string{ids[3]}}, 400, nil)
	// Numeric ids are accepted, as WUG's binder turns numbers into strings.
	a.call("PATCH", "/devices/-", `{"operation":"delete","devices":[`+ids[3]+`]}`, 200, &res)
	if res.Data.SuccessfulOperations != 1 {
		t.Errorf("numeric ids: %+v", res.Data)
	}
	a.call("PATCH", "/devices/-", `{"operation":"delete","devices":[{"id":1}]}`, 400, nil)
	if n := a.srv.DeviceCount(); n != 1 {
		t.Errorf("DeviceCount() = %d, want 1", n)
	}
	if got := a.srv.DevicesByAddress("10.0.0.1"); len(got) != 0 {
		t.Errorf("deleted device still indexed by address: %+v", got)
	}
}

func TestPollNowAndMaintenance(t *testing.T) {
	t.Parallel()
	a, _ := newLenientAPI(t)
	ids := seedFleet(a, 4)
	a.call("PUT", "/devices/"+ids[0]+"/poll-now", nil, 200, nil)
	var res struct{ Data counted }
	a.call("PATCH", "/devices/-/poll-now", map[string]any{"devices": ids[:2]}, 200, &res)
	if res.Data.SuccessfulOperations != 2 {
		t.Errorf("bulk poll = %+v", res.Data)
	}
	g, _ := a.srv.GroupByPath("My Network/Sites/Site 0")
	var bare counted
	a.call("PUT", "/device-groups/"+g.ID+"/poll-now", nil, 200, &bare)
	if bare.SuccessfulOperations != 2 { // ids[0] and ids[3] are in Site 0
		t.Errorf("group poll = %+v", bare)
	}
	d, _ := a.srv.Device(ids[0])
	if d.Polls != 3 {
		t.Errorf("polls = %d, want 3", d.Polls)
	}

	a.call("PUT", "/devices/"+ids[1]+"/config/maintenance", map[string]any{"enabled": true, "endUtc": "2030-01-01T00:00:00Z", "reason": "patching"}, 200, nil)
	if d, _ := a.srv.Device(ids[1]); !d.Maintenance || d.State != "Maintenance" {
		t.Errorf("after maintenance on: %+v", d)
	}
	a.call("PATCH", "/devices/-/config/maintenance", map[string]any{"devices": ids[1:3], "enabled": false}, 200, &res)
	if d, _ := a.srv.Device(ids[1]); d.Maintenance {
		t.Errorf("after maintenance off: %+v", d)
	}
	a.call("PUT", "/devices/"+ids[1]+"/config/maintenance", map[string]any{"enabled": true, "endUtc": "tomorrow"}, 400, nil)
	a.call("PUT", "/devices/"+ids[1]+"/config/maintenance", map[string]any{"enabled": true, "endUtc": "2030-01-01T00:00:00"}, 200, nil)
	a.call("PUT", "/devices/"+ids[1]+"/config/maintenance", map[string]any{"reason": "x"}, 400, nil)
}

func TestDevicesByAddressIsExact(t *testing.T) {
	t.Parallel()
	a := newAPI(t)
	a.srv.AddDevices(wugtest.Device{Name: "a", Address: "10.0.0.1"}, wugtest.Device{Name: "b", Address: "10.0.0.10"}, wugtest.Device{Name: "c", Address: "10.0.0.1"})
	var names []string
	for _, d := range a.srv.DevicesByAddress("10.0.0.1") {
		names = append(names, d.Name)
	}
	sort.Strings(names)
	if diff := cmp.Diff([]string{"a", "c"}, names); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}
