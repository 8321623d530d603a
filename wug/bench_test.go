package wug_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/wugsync/wugsync/wug"
	"github.com/wugsync/wugsync/wug/wugtest"
)

// BenchmarkAllDevices measures the paged inventory listing the export
// planner uses, against the fake server (TLS on loopback, 250 per page).
func BenchmarkAllDevices(b *testing.B) {
	const n = 2000
	srv := wugtest.NewServer(b)
	ds := make([]wugtest.Device, n)
	for i := range ds {
		ds[i] = wugtest.Device{Name: fmt.Sprintf("d%d", i), Address: fmt.Sprintf("10.%d.%d.%d", i>>16&255, i>>8&255, i&255)}
	}
	srv.AddDevices(ds...)
	c, err := srv.NewClient(wug.WithRateLimit(0, 0))
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		count := 0
		for _, err := range c.Devices.All(ctx) {
			if err != nil {
				b.Fatal(err)
			}
			count++
		}
		if count != n {
			b.Fatalf("listed %d devices, want %d", count, n)
		}
	}
	b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "devices/s")
}

// BenchmarkExpandRange measures expanding the largest default range.
func BenchmarkExpandRange(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := wug.ExpandRange("10.0.0.0/22", 1024); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkBulkAdd measures adding 1,000 devices in batches of 50 against
// the fake server, reporting templates per second and requests per device.
func BenchmarkBulkAdd(b *testing.B) {
	const n = 1000
	ts := make([]wug.DeviceTemplate, n)
	for i := range ts {
		ts[i] = wug.DeviceTemplate{
			TemplateID:  fmt.Sprintf("nb-%d", i),
			DisplayName: fmt.Sprintf("dev-%d", i),
			Interfaces:  []wug.TemplateInterface{{DefaultInterface: true, NetworkAddress: fmt.Sprintf("10.%d.%d.%d", i>>16&255, i>>8&255, i&255)}},
			Attributes:  []wug.NameValue{{Name: "NetBoxId", Value: fmt.Sprint(i)}, {Name: "NetBoxSite", Value: "site-a"}},
			Groups:      []wug.TemplateGroup{{Name: "Site A", Parents: []string{"My Network", "NetBox"}}},
		}
	}
	ctx := context.Background()
	var requests int
	b.ReportAllocs()
	for b.Loop() {
		b.StopTimer()
		srv := wugtest.NewServer(b)
		srv.AddGroup("My Network/NetBox/Site A")
		c, err := srv.NewClient(wug.WithRateLimit(0, 0))
		if err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		outs, err := c.Devices.BulkAdd(ctx, ts)
		if err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		for _, o := range outs {
			if !o.Created() {
				b.Fatalf("template %s: %v", o.TemplateID, o.Err)
			}
		}
		requests = srv.Count("PATCH /api/v1/devices/-/config/template")
		srv.Close()
		b.StartTimer()
	}
	b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "devices/s")
	b.ReportMetric(float64(requests)/n, "req/device")
}
