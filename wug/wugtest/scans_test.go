package wugtest_test

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/wugsync/wugsync/wug/wugtest"
)

type scanStarted struct {
	Data struct {
		ID      string `json:"id"`
		Success bool   `json:"success"`
	} `json:"data"`
}

type activeScan struct {
	ID              string  `json:"id"`
	Progress        float64 `json:"progress"`
	Phase           string  `json:"phase"`
	DevicesFound    int     `json:"devicesFound"`
	DevicesComplete int     `json:"devicesComplete"`
	AddressTotal    int     `json:"addressTotal"`
	Model           string  `json:"model"`
}

type scanDevices = page[struct {
	ID      string        `json:"id"`
	Devices []devOverview `json:"devices"`
}]

func TestNewDeviceScanIsAsynchronous(t *testing.T) {
	t.Parallel()
	a := newAPI(t, wugtest.WithScanDelay(time.Hour))
	a.srv.SetReachable("192.0.2.1", "192.0.2.2")
	gid := a.srv.AddGroup("My Network/Scanned")
	var st scanStarted
	a.call("PATCH", "/device-groups/"+gid+"/newDevice", map[string]any{"ipOrNames": []string{"192.0.2.1", "192.0.2.2", "192.0.2.3"}}, 200, &st)
	if st.Data.ID == "" || !st.Data.Success {
		t.Fatalf("started %+v", st.Data)
	}
	// Nothing exists yet: the scan is running.
	if n := a.srv.DeviceCount(); n != 0 {
		t.Fatalf("devices before the scan ends: %d", n)
	}
	var status struct{ Data activeScan }
	a.call("GET", "/device-scan/"+st.Data.ID+"/status", nil, 200, &status)
	if status.Data.Phase != "Scanning" || status.Data.Progress >= 100 || status.Data.Model != "newDevice" || status.Data.AddressTotal != 3 {
		t.Errorf("running status %+v", status.Data)
	}
	var list struct {
		Data []activeScan `json:"data"`
	}
	a.call("GET", "/device-scan/-/status", nil, 200, &list)
	if len(list.Data) != 1 {
		t.Errorf("active scans = %+v", list.Data)
	}
	var devs scanDevices
	a.call("GET", "/device-scan/"+st.Data.ID+"/devices", nil, 200, &devs)
	if len(devs.Data.Devices) != 0 {
		t.Errorf("devices before completion: %+v", devs.Data.Devices)
	}

	a.srv.CompleteScans()
	a.call("GET", "/device-scan/"+st.Data.ID+"/status", nil, 200, &status)
	if status.Data.Phase != "Complete" || status.Data.Progress != 100 || status.Data.DevicesFound != 2 || status.Data.DevicesComplete != 2 {
		t.Errorf("finished status %+v", status.Data)
	}
	a.call("GET", "/device-scan/-/status", nil, 200, &list)
	if len(list.Data) != 0 {
		t.Errorf("activeOnly default still lists finished scans: %+v", list.Data)
	}
	a.call("GET", "/device-scan/-/status?activeOnly=false&model=newDevice", nil, 200, &list)
	if len(list.Data) != 1 {
		t.Errorf("activeOnly=false: %+v", list.Data)
	}
	a.call("GET", "/device-scan/"+st.Data.ID+"/devices?view=basic", nil, 200, &devs)
	var addrs []string
	for _, d := range devs.Data.Devices {
		addrs = append(addrs, d.NetworkAddress)
	}
	if diff := cmp.Diff([]string{"192.0.2.1", "192.0.2.2"}, addrs); diff != "" {
		t.Errorf("scan devices (-want +got):\n%s", diff)
	}
	d := a.srv.DevicesByAddress("192.0.2.1")
	if len(d) != 1 || !cmp.Equal(d[0].Groups, []string{"My Network/Scanned"}) {
		t.Errorf("scanned device %+v", d)
	}
}

func TestNewDeviceScanCompletesAfterDelay(t *testing.T) {
	t.Parallel()
	a := newAPI(t, wugtest.WithScanDelay(30*time.Millisecond))
	a.srv.SetReachable("192.0.2.7")
	var st scanStarted
	a.call("PUT", "/device-groups/0/newDevice?ipOrName=192.0.2.7", map[string]any{}, 200, &st)
	deadline := time.Now().Add(5 * time.Second)
	for len(a.srv.DevicesByAddress("192.0.2.7")) == 0 {
		if time.Now().After(deadline) {
			t.Fatal("the scan never created the device")
		}
		time.Sleep(10 * time.Millisecond)
	}
	if s := a.srv.Scans(); len(s) != 1 || !s[0].Done || len(s[0].DeviceIDs) != 1 {
		t.Errorf("Scans() = %+v", s)
	}
}

func TestNewDeviceScanExistingAndForce(t *testing.T) {
	t.Parallel()
	a := newAPI(t)
	a.srv.SetReachable("192.0.2.5")
	a.srv.SetReachableHost("printer.lab", "192.0.2.6")
	existing := a.srv.AddDevice(wugtest.Device{Name: "known", Address: "192.0.2.5"})
	var st scanStarted
	// An address already monitored is updated, not duplicated.
	a.call("PATCH", "/device-groups/0/newDevice", map[string]any{"ipOrNames": []string{"192.0.2.5", "printer.lab"}}, 200, &st)
	// forceAdd adds without scanning, even when unreachable; with
	// forceCreate it duplicates an existing address.
	var forced scanStarted
	a.call("PATCH", "/device-groups/0/newDevice", map[string]any{"ipOrNames": []string{"198.51.100.1", "192.0.2.5"}, "forceAdd": true, "forceCreate": true}, 200, &forced)
	a.srv.CompleteScans()
	if n := len(a.srv.DevicesByAddress("192.0.2.5")); n != 2 {
		t.Errorf("devices at 192.0.2.5 = %d, want 2 (one existing, one forced)", n)
	}
	var devs scanDevices
	a.call("GET", "/device-scan/"+st.Data.ID+"/devices", nil, 200, &devs)
	var names []string
	for _, d := range devs.Data.Devices {
		names = append(names, d.Name)
	}
	if diff := cmp.Diff([]string{"known", "printer.lab"}, names); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	if d, _ := a.srv.Device(existing); d.Refreshes != 1 {
		t.Errorf("existing device refreshes = %d", d.Refreshes)
	}
	p := a.srv.DevicesByAddress("printer.lab")
	if len(p) != 1 || p[0].Address != "192.0.2.6" || p[0].HostName != "printer.lab" {
		t.Errorf("host scanned device = %+v", p)
	}
	if len(a.srv.DevicesByAddress("198.51.100.1")) != 1 {
		t.Error("forceAdd did not add the unreachable address")
	}
}

func TestNewDeviceBadInput(t *testing.T) {
	t.Parallel()
	a, _ := newLenientAPI(t)
	a.call("PUT", "/device-groups/0/newDevice", map[string]any{}, 400, nil)
	a.call("PATCH", "/device-groups/0/newDevice", map[string]any{"ipOrNames": []string{}}, 400, nil)
	a.call("PATCH", "/device-groups/0/newDevice", map[string]any{"ipOrNames": []string{"10.0.0.0/24"}}, 400, nil)
	a.call("PATCH", "/device-groups/0/newDevice", map[string]any{"ipOrNames": []string{"10.0.0.1-10.0.0.9"}}, 400, nil)
	a.call("PATCH", "/device-groups/404/newDevice", map[string]any{"ipOrNames": []string{"10.0.0.1"}}, 404, nil)
	a.call("GET", "/device-scan/nope/status", nil, 404, nil)
	if n := len(a.srv.Scans()); n != 0 {
		t.Errorf("scans started by bad input: %d", n)
	}
}

func TestCancelScan(t *testing.T) {
	t.Parallel()
	a := newAPI(t, wugtest.WithScanDelay(time.Hour))
	a.srv.SetReachable("192.0.2.9")
	var st scanStarted
	a.call("PUT", "/device-groups/0/newDevice?ipOrName=192.0.2.9", map[string]any{}, 200, &st)
	var ok struct{ Success bool }
	a.call("PUT", "/device-scan/"+st.Data.ID+"/cancel", nil, 200, &ok)
	if !ok.Success {
		t.Error("cancel of a running scan: success false")
	}
	a.call("PUT", "/device-scan/"+st.Data.ID+"/cancel", nil, 200, &ok)
	if ok.Success {
		t.Error("second cancel: success true")
	}
	a.srv.CompleteScans()
	var status struct{ Data activeScan }
	a.call("GET", "/device-scan/"+st.Data.ID+"/status", nil, 200, &status)
	if status.Data.Phase != "Cancelled" || a.srv.DeviceCount() != 0 {
		t.Errorf("status %+v, devices %d", status.Data, a.srv.DeviceCount())
	}
}

func TestRefreshScans(t *testing.T) {
	t.Parallel()
	a, _ := newLenientAPI(t, wugtest.WithScanDelay(time.Hour))
	ids := seedFleet(a, 6)
	var st scanStarted
	a.call("PUT", "/devices/"+ids[0]+"/refresh", map[string]any{"resetOptions": []string{"attributes", "DISPLAYNAME"}, "dropDataOlderThanHours": 24}, 200, &st)
	one := st.Data.ID
	a.call("PATCH", "/devices/-/refresh", map[string]any{"deviceIds": []string{ids[1], ids[2]}}, 200, &st)
	bulk := st.Data.ID
	g, _ := a.srv.GroupByPath("My Network/Sites/Site 0")
	a.call("PUT", "/device-groups/"+g.ID+"/refresh?resetOptions=interfaces&includeAssignedRoles=true", nil, 200, &st)
	group := st.Data.ID
	a.call("PUT", "/devices/"+ids[0]+"/refresh", map[string]any{"resetOptions": []string{"everything"}}, 400, nil)
	a.call("PATCH", "/devices/-/refresh", map[string]any{"deviceIds": []string{"999"}}, 400, nil)
	a.call("PUT", "/devices/999/refresh", map[string]any{}, 404, nil)
	a.srv.CompleteScans()
	for id, want := range map[string]int{one: 1, bulk: 2, group: 2} {
		var devs scanDevices
		a.call("GET", "/device-scan/"+id+"/devices", nil, 200, &devs)
		if len(devs.Data.Devices) != want {
			t.Errorf("scan %s devices = %d, want %d", id, len(devs.Data.Devices), want)
		}
	}
	if d, _ := a.srv.Device(ids[0]); d.Refreshes != 2 {
		t.Errorf("device refreshes = %d, want 2", d.Refreshes)
	}
}
