package netboxtest_test

import (
	"encoding/json"
	"fmt"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/wugsync/wugsync/netbox/netboxtest"
)

func TestInterfaces(t *testing.T) {
	t.Parallel()
	s := netboxtest.NewServer(t, netboxtest.WithDevices(50), netboxtest.WithVirtualMachines(5))
	ids := []int64{3, 4, 5}
	var want []string
	for _, id := range ids {
		for _, ip := range s.IPAddresses(id, false) {
			if !slices.Contains(want, fmt.Sprint(id, "/", ip.Interface)) {
				want = append(want, fmt.Sprint(id, "/", ip.Interface))
			}
		}
	}
	slices.Sort(want)
	p, _ := list(t, s, "/api/dcim/interfaces/?device_id=3&device_id=4&device_id=5&limit=1000")
	var got []string
	for _, r := range p.Results {
		var i struct {
			Name     string `json:"name"`
			MgmtOnly bool   `json:"mgmt_only"`
			Count    int    `json:"count_ipaddresses"`
			Device   struct {
				ID int64 `json:"id"`
			} `json:"device"`
		}
		if err := json.Unmarshal(r, &i); err != nil {
			t.Fatal(err)
		}
		if i.Count == 0 {
			t.Errorf("interface %s of device %d has no addresses", i.Name, i.Device.ID)
		}
		if i.MgmtOnly != (i.Name == "mgmt0") {
			t.Errorf("interface %s: mgmt_only %v", i.Name, i.MgmtOnly)
		}
		got = append(got, fmt.Sprint(i.Device.ID, "/", i.Name))
	}
	slices.Sort(got)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("interfaces of devices 3-5 (-want +got):\n%s", diff)
	}
	// VM interfaces are not device interfaces.
	total, _ := list(t, s, "/api/dcim/interfaces/?limit=1")
	mgmt, _ := list(t, s, "/api/dcim/interfaces/?limit=1&mgmt_only=true&name=mgmt0")
	if total.Count <= mgmt.Count || mgmt.Count == 0 {
		t.Errorf("interfaces: %d in all, %d management", total.Count, mgmt.Count)
	}
}

func TestSites(t *testing.T) {
	t.Parallel()
	s := netboxtest.NewServer(t, netboxtest.WithDevices(100))
	counts := map[string]int{}
	for _, d := range s.Devices() {
		counts[d.Site]++
	}
	p, _ := list(t, s, "/api/dcim/sites/?limit=1000")
	if p.Count != len(s.Catalog().Sites) {
		t.Errorf("%d sites listed, catalog has %d", p.Count, len(s.Catalog().Sites))
	}
	for _, r := range p.Results {
		var site struct {
			Slug        string `json:"slug"`
			DeviceCount int    `json:"device_count"`
			Region      *struct {
				Slug string `json:"slug"`
			} `json:"region"`
		}
		if err := json.Unmarshal(r, &site); err != nil {
			t.Fatal(err)
		}
		if site.DeviceCount != counts[site.Slug] || site.Region == nil {
			t.Errorf("site %s: device_count %d (want %d), region %v", site.Slug, site.DeviceCount, counts[site.Slug], site.Region)
		}
	}
	eu, _ := list(t, s, "/api/dcim/sites/?region=europe")
	if eu.Count == 0 || eu.Count >= p.Count {
		t.Errorf("region=europe: %d of %d sites", eu.Count, p.Count)
	}
	if status, body := fetch(t, s, "/api/dcim/sites/99999/"); status != 404 || string(body) != `{"detail":"No Site matches the given query."}` {
		t.Errorf("unknown site: %d %s", status, body)
	}
	if status, body := fetch(t, s, "/api/ipam/ip-addresses/99999/"); status != 404 || string(body) != `{"detail":"No IPAddress matches the given query."}` {
		t.Errorf("unknown IP: %d %s", status, body)
	}
}
