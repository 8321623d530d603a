package wugtest_test

import (
	"context"
	"fmt"
	"net/http/httptest"
	"testing"

	"github.com/wugsync/wugsync/wug"
	"github.com/wugsync/wugsync/wug/wugtest"
)

// In a test, one line starts the fake and hands back a wired client. (This
// example is compiled, not run: it needs the test's *testing.T.)
func ExampleNewServer() {
	var t *testing.T // the *testing.T of your test function
	srv := wugtest.NewServer(t)
	c := srv.Client()
	srv.SetReachable("192.0.2.10")
	started, _ := c.Scans.ScanIP(context.Background(), "0", "192.0.2.10", nil)
	srv.CompleteScans()
	fmt.Println(started.ID != "", len(srv.DevicesByAddress("192.0.2.10")))
}

// Outside tests, Start serves the fake on a loopback TLS address.
func ExampleStart() {
	srv := wugtest.Start()
	defer srv.Close()
	srv.AddDevice(wugtest.Device{Name: "core-sw1", Address: "10.0.0.1", Groups: []string{"My Network/Core"}})

	ctx := context.Background()
	for d, err := range srv.Client().Devices.All(ctx) {
		if err != nil {
			panic(err)
		}
		fmt.Println(d.Name, d.NetworkAddress)
	}
	// Output: core-sw1 10.0.0.1
}

// Template apply always creates a new device, even for a duplicate.
func ExampleHandler_DevicesByAddress() {
	srv := wugtest.Start()
	defer srv.Close()
	c := srv.Client()
	t := wug.DeviceTemplate{DisplayName: "web-01", Interfaces: []wug.TemplateInterface{{DefaultInterface: true, NetworkAddress: "10.0.0.5"}}}
	for range 2 {
		if _, err := c.Devices.BulkAdd(context.Background(), []wug.DeviceTemplate{t}); err != nil {
			panic(err)
		}
	}
	fmt.Println(len(srv.DevicesByAddress("10.0.0.5")))
	// Output: 2
}

// Faults are injected per route; the client sees WUG's answer.
func ExampleHandler_FailNext() {
	srv := wugtest.Start()
	defer srv.Close()
	srv.FailNext(wugtest.Fault{Route: "GET /api/v1/product/whoAmI", Status: 404})
	_, err := srv.Client().Product.WhoAmI(context.Background())
	fmt.Println(err != nil)
	// Output: true
}

// NewHandler is a plain http.Handler for serving the fake yourself.
func ExampleNewHandler() {
	h := wugtest.NewHandler(wugtest.WithCredentials("ops", "secret"))
	ts := httptest.NewServer(h)
	defer ts.Close()
	h.AddGroup("My Network/NetBox/Site A")
	for _, g := range h.Groups() {
		fmt.Println(g.ID, g.Path)
	}
	// Output:
	// 0 My Network
	// 1 My Network/Discovered Devices
	// 2 My Network/NetBox
	// 3 My Network/NetBox/Site A
}

// A template apply whose answer is lost after WUG applied it: the device
// exists although the client saw only a dropped connection, so sending the
// batch again blind would duplicate it.
func ExampleHandler_MisbehaveNext() {
	srv := wugtest.Start()
	defer srv.Close()
	srv.MisbehaveNext(wugtest.Misbehave{Route: "PATCH /api/v1/devices/-/config/template", Kind: wugtest.ApplyThenDrop})
	t := wug.DeviceTemplate{DisplayName: "web-01", Interfaces: []wug.TemplateInterface{{DefaultInterface: true, NetworkAddress: "10.0.0.5"}}}
	_, err := srv.Client().Devices.BulkAdd(context.Background(), []wug.DeviceTemplate{t})
	fmt.Println(err != nil, len(srv.DevicesByAddress("10.0.0.5")))
	// Output: true 1
}

// Observe runs after the fake has applied a request and before it answers,
// the moment to stop the code under test mid-work.
func ExampleHandler_Observe() {
	srv := wugtest.Start()
	defer srv.Close()
	srv.Observe("PATCH /api/v1/devices/-/config/template", func(n int) {
		fmt.Println("apply", n, "devices", srv.DeviceCount())
	})
	for _, addr := range []string{"10.0.0.5", "10.0.0.6"} {
		t := wug.DeviceTemplate{DisplayName: addr, Interfaces: []wug.TemplateInterface{{DefaultInterface: true, NetworkAddress: addr}}}
		if _, err := srv.Client().Devices.BulkAdd(context.Background(), []wug.DeviceTemplate{t}); err != nil {
			panic(err)
		}
	}
	// Output:
	// apply 1 devices 1
	// apply 2 devices 2
}
