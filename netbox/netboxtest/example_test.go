package netboxtest_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"

	"github.com/wugsync/wugsync/netbox/netboxtest"
)

// get is the plain HTTP call the examples make.
func get(url string) (int, []byte) {
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	req.Header.Set("Authorization", "Token "+netboxtest.DefaultToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, []byte(err.Error())
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

// The fake as a plain http.Handler: generated devices served with NetBox's
// filters and paging. In a test, NewServer(t) does the serving and cleanup.
func Example() {
	h, err := netboxtest.NewHandler(netboxtest.WithDevices(10))
	if err != nil {
		panic(err)
	}
	srv := httptest.NewServer(h)
	defer srv.Close()

	_, body := get(srv.URL + "/api/dcim/devices/?ordering=id&limit=4&fields=id,name,status&status=active")
	var page struct {
		Count   int `json:"count"`
		Results []struct {
			ID     int     `json:"id"`
			Name   *string `json:"name"`
			Status struct {
				Label string `json:"label"`
			} `json:"status"`
		} `json:"results"`
	}
	if err := json.Unmarshal(body, &page); err != nil {
		panic(err)
	}
	fmt.Println("active devices:", page.Count)
	for _, d := range page.Results {
		name := "(unnamed)"
		if d.Name != nil {
			name = *d.Name
		}
		fmt.Println(d.ID, name, d.Status.Label)
	}
	// Output:
	// active devices: 8
	// 1 fra1-core-router-00001 Active
	// 2 nyc1-core-router-00002 Active
	// 3 ams-science-park-dc3-core-aggregation-router-00003-long-long-lon Active
	// 4 ams1-firewall-00004 Active
}

// Awkward cases are flagged, so a test can pick the device it needs.
func ExampleHandler_Quirky() {
	h, err := netboxtest.NewHandler(netboxtest.WithDevices(1000))
	if err != nil {
		panic(err)
	}
	v6only := h.Quirky(netboxtest.QuirkIPv6Only)[0]
	ip, _ := h.IPAddress(v6only.PrimaryIP6)
	fmt.Printf("%v: device %d, primary IPv4 id %d, IPv6 %v\n", v6only.Quirks, v6only.ID, v6only.PrimaryIP4, ip.Address)
	bcast := h.Quirky(netboxtest.QuirkBroadcastAddress)[0]
	ip, _ = h.IPAddress(bcast.PrimaryIP4)
	fmt.Printf("%v: device %d, primary IPv4 %v\n", bcast.Quirks, bcast.ID, ip.Address)
	// Output:
	// ipv6-only: device 601, primary IPv4 id 0, IPv6 2001:db8:0:2::66/64
	// broadcast-address: device 475, primary IPv4 10.97.0.255/24
}

// Mutations bump last_updated, so "changed since" selections see them;
// faults are injected per route.
func ExampleHandler_CreateDevice() {
	srv, err := netboxtest.Start(netboxtest.WithDevices(0))
	if err != nil {
		panic(err)
	}
	defer srv.Close()

	d, err := srv.CreateDevice(netboxtest.Device{Name: "lab-fw-01", Site: "lab1", Role: "firewall", Tags: []string{"monitored"}})
	if err != nil {
		panic(err)
	}
	if _, err := srv.CreateIP(netboxtest.IPAddress{DeviceID: d.ID, Interface: "ethernet1/1",
		Address: netip.MustParsePrefix("10.20.30.1/24"), MakePrimary: true}); err != nil {
		panic(err)
	}
	srv.FailNext(netboxtest.Fault{Route: netboxtest.RouteDevices, Status: http.StatusBadGateway, Times: 1})
	status, _ := get(srv.URL + "/api/dcim/devices/?tag=monitored")
	fmt.Println("first try:", status)
	status, body := get(srv.URL + "/api/dcim/devices/?tag=monitored&fields=name,primary_ip4")
	var page struct {
		Count   int `json:"count"`
		Results []struct {
			Name       string `json:"name"`
			PrimaryIP4 struct {
				Address string `json:"address"`
			} `json:"primary_ip4"`
		} `json:"results"`
	}
	if err := json.Unmarshal(body, &page); err != nil {
		panic(err)
	}
	fmt.Println("second try:", status, page.Count, page.Results[0].Name, page.Results[0].PrimaryIP4.Address)
	// Output:
	// first try: 502
	// second try: 200 1 lab-fw-01 10.20.30.1/24
}
