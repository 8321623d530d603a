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
