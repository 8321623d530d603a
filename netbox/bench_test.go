package netbox_test

import (
	"fmt"
	"runtime"
	"runtime/metrics"
	"sync"
	"testing"
	"time"

	"github.com/wugsync/wugsync/netbox"
	"github.com/wugsync/wugsync/netbox/netboxtest"
)

// heapPeak samples the heap (runtime/metrics, no stop-the-world) until
// stopped and returns the highest heap in use (as MemStats.HeapInuse) and
// the highest live heap (as marked by the last GC) seen.
func heapPeak() (stop func() (inuse, live uint64)) {
	samples := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"},
		{Name: "/memory/classes/heap/unused:bytes"}, {Name: "/gc/heap/live:bytes"}}
	var mu sync.Mutex
	var peakInuse, peakLive uint64
	read := func() {
		metrics.Read(samples)
		mu.Lock()
		defer mu.Unlock()
		peakInuse = max(peakInuse, samples[0].Value.Uint64()+samples[1].Value.Uint64())
		peakLive = max(peakLive, samples[2].Value.Uint64())
	}
	read()
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		t := time.NewTicker(2 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				read()
			}
		}
	})
	return func() (uint64, uint64) {
		close(done)
		wg.Wait()
		read()
		mu.Lock()
		defer mu.Unlock()
		return peakInuse, peakLive
	}
}

// BenchmarkDevices streams 1,000 / 10,000 / 100,000 devices with their IP
// addresses from the fake NetBox (in process, over loopback) and reports
// requests per run, devices per second, bytes allocated per device, and
// the peak heap in use and peak live heap above the baseline taken after
// the fake generated its data. Allocation figures include the fake's own
// rendering of each page. The heap in use also follows the GC's pacing
// (GOGC), which lets garbage grow with the live heap, the fake's data
// included; the live heap is what the stream retains.
func BenchmarkDevices(b *testing.B) {
	for _, n := range []int{1_000, 10_000, 100_000} {
		b.Run(fmt.Sprintf("devices=%d", n), func(b *testing.B) {
			srv := netboxtest.NewServer(b, netboxtest.WithDevices(n))
			c, err := netbox.NewClient(srv.URL, srv.Token)
			if err != nil {
				b.Fatal(err)
			}
			sel := netbox.Selector{Statuses: []string{netbox.AnyStatus}}
			// One page first, so the fake builds its lookup indexes before
			// the baseline is taken.
			for _, err := range c.Devices(b.Context(), sel) {
				if err != nil {
					b.Fatal(err)
				}
				break
			}
			runtime.GC()
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			baseLive := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
			metrics.Read(baseLive)
			srv.ResetRequests()
			stop := heapPeak()
			b.ResetTimer()
			ips := 0
			for b.Loop() {
				got := 0
				for d, err := range c.Devices(b.Context(), sel) {
					if err != nil {
						b.Fatal(err)
					}
					got++
					ips += len(d.IPs)
				}
				if got != n {
					b.Fatalf("streamed %d devices, want %d", got, n)
				}
			}
			b.StopTimer()
			peakInuse, peakLive := stop()
			runtime.ReadMemStats(&after)
			devices := float64(n * b.N)
			b.ReportMetric(float64(srv.Count(netboxtest.RouteAny))/float64(b.N), "requests/op")
			b.ReportMetric(devices/b.Elapsed().Seconds(), "devices/s")
			b.ReportMetric(float64(after.TotalAlloc-before.TotalAlloc)/devices, "B/device")
			b.ReportMetric(float64(peakInuse-before.HeapInuse)/1e6, "peak-heap-MB")
			b.ReportMetric(float64(peakLive-baseLive[0].Value.Uint64())/1e6, "peak-live-MB")
			b.ReportMetric(float64(ips)/devices, "IPs/device")
		})
	}
}
