package netbox_test

import (
	"fmt"
	"log"
	"net"
	"net/http"
	"os"
	"runtime"
	"runtime/metrics"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/wugsync/wugsync/internal/childproc"
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

// benchLatency is what every answer of the benchmark's fake NetBox takes,
// as in the export benchmarks.
const benchLatency = 2 * time.Millisecond

// fakeEnv, when set in the environment, makes the test binary serve a fake
// NetBox with that many devices instead of running tests: BenchmarkDevices
// runs the fake in its own process so that the figures are the client's.
const fakeEnv = "WUGSYNC_NETBOX_FAKE_DEVICES"

func TestMain(m *testing.M) {
	if n := os.Getenv(fakeEnv); n != "" {
		serveFake(n)
		return
	}
	os.Exit(m.Run())
}

// serveFake serves a fake NetBox on a loopback port, prints its URL and
// stops when stdin is closed.
func serveFake(devices string) {
	n, err := strconv.Atoi(devices)
	if err != nil {
		log.Fatalf("%s=%q: %v", fakeEnv, devices, err)
	}
	h, err := netboxtest.NewHandler(netboxtest.WithDevices(n))
	if err != nil {
		log.Fatal(err)
	}
	h.SetLatency(benchLatency)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	go http.Serve(ln, h)
	fmt.Printf("http://%s\n", ln.Addr())
	childproc.Serve()
}

// startFake runs a fake NetBox with n devices in a child process and
// returns its URL; the process ends with the benchmark.
func startFake(b *testing.B, n int) string {
	url, _ := childproc.Start(b, "", nil, fmt.Sprintf("%s=%d", fakeEnv, n))
	return url
}

// BenchmarkDevices streams 1,000 / 10,000 / 100,000 devices with their IP
// addresses from a fake NetBox running in a child process (over loopback,
// each answer 2 ms late)
// and reports requests per run, devices per second, bytes allocated per
// device, the peak heap in use and peak live heap (as of the last GC)
// above the baseline, the client's CPU time per device, and the bytes
// NetBox sent per device (all requests, the version check included): all
// of them the client's alone.
func BenchmarkDevices(b *testing.B) {
	for _, n := range []int{1_000, 10_000, 100_000} {
		b.Run(fmt.Sprintf("devices=%d", n), func(b *testing.B) {
			url := startFake(b, n)
			var requests atomic.Int64
			counting := &http.Client{Transport: countingTransport{next: http.DefaultTransport, n: &requests}}
			c, err := netbox.NewClient(url, netboxtest.DefaultToken, netbox.WithHTTPClient(counting))
			if err != nil {
				b.Fatal(err)
			}
			sel := netbox.Selector{Statuses: []string{netbox.AnyStatus}}
			runtime.GC()
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			baseLive := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
			metrics.Read(baseLive)
			stop := heapPeak()
			cpu0 := cpuTime()
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
			cpu := cpuTime() - cpu0
			peakInuse, peakLive := stop()
			runtime.ReadMemStats(&after)
			devices := float64(n * b.N)
			b.ReportMetric(float64(requests.Load())/float64(b.N), "requests/op")
			b.ReportMetric(devices/b.Elapsed().Seconds(), "devices/s")
			b.ReportMetric(float64(after.TotalAlloc-before.TotalAlloc)/devices, "B/device")
			b.ReportMetric(float64(peakInuse-before.HeapInuse)/1e6, "peak-heap-MB")
			b.ReportMetric(float64(peakLive-baseLive[0].Value.Uint64())/1e6, "peak-live-MB")
			b.ReportMetric(float64(ips)/devices, "IPs/device")
			b.ReportMetric(cpu.Seconds()*1e6/devices, "client-CPU-µs/device")
			b.ReportMetric(float64(c.Traffic().Bytes)/devices, "nb_bytes/device")
		})
	}
}

// cpuTime returns the user and system CPU time this process used so far
// (the fake's child process not included).
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// countingTransport counts the requests that reach the network.
type countingTransport struct {
	next http.RoundTripper
	n    *atomic.Int64
}

func (t countingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	t.n.Add(1)
	return t.next.RoundTrip(r)
}
