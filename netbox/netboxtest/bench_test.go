package netboxtest_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/wugsync/wugsync/netbox/netboxtest"
)

var sizes = []int{1_000, 10_000, 100_000}

// BenchmarkGenerate measures building a fake with n devices (and n/10
// VMs) and the heap it holds afterwards.
func BenchmarkGenerate(b *testing.B) {
	for _, n := range sizes {
		b.Run(fmt.Sprintf("devices=%d", n), func(b *testing.B) {
			var h *netboxtest.Handler
			for b.Loop() {
				var err error
				if h, err = netboxtest.NewHandler(netboxtest.WithDevices(n), netboxtest.WithVirtualMachines(n/10)); err != nil {
					b.Fatal(err)
				}
			}
			b.StopTimer()
			runtime.GC()
			var m runtime.MemStats
			runtime.ReadMemStats(&m)
			b.ReportMetric(float64(m.HeapAlloc)/(1<<20), "heap-MB")
			b.ReportMetric(float64(m.HeapAlloc)/float64(n), "heap-B/device")
			runtime.KeepAlive(h)
		})
	}
}

// serve runs one request against h in process and returns the body.
func serve(b *testing.B, h http.Handler, path string) []byte {
	req := httptest.NewRequest(http.MethodGet, path, nil)
	req.Header.Set("Authorization", "Token "+netboxtest.DefaultToken)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusOK {
		b.Fatalf("GET %s: %d %s", path, rec.Code, rec.Body.Bytes())
	}
	return rec.Body.Bytes()
}

// BenchmarkKeysetPage measures one page of 1000 devices (status=active,
// exclude=config_context, keyset by id) taken from the middle of the
// fleet: the cost must not grow with the page's position.
func BenchmarkKeysetPage(b *testing.B) {
	for _, n := range sizes {
		b.Run(fmt.Sprintf("devices=%d", n), func(b *testing.B) {
			h, err := netboxtest.NewHandler(netboxtest.WithDevices(n))
			if err != nil {
				b.Fatal(err)
			}
			path := fmt.Sprintf("/api/dcim/devices/?exclude=config_context&id__gt=%d&limit=1000&ordering=id&status=active", n/2)
			size := len(serve(b, h, path)) // builds the indexes outside the measurement
			for b.Loop() {
				size = len(serve(b, h, path))
			}
			b.ReportMetric(float64(size)/1000, "bytes/device")
		})
	}
}

// BenchmarkSelectAll reads every active device and its IP addresses over
// HTTP the way a selector does: keyset pages of 1000 with
// exclude=config_context, then the page's IPs in device_id batches.
func BenchmarkSelectAll(b *testing.B) {
	for _, n := range sizes {
		b.Run(fmt.Sprintf("devices=%d", n), func(b *testing.B) {
			s := netboxtest.NewServer(b, netboxtest.WithDevices(n))
			c := s.HTTPClient()
			get := func(path string) []byte {
				req, _ := http.NewRequest(http.MethodGet, s.URL+path, nil)
				req.Header.Set("Authorization", "Token "+s.Token)
				resp, err := c.Do(req)
				if err != nil {
					b.Fatal(err)
				}
				defer resp.Body.Close()
				body, _ := io.ReadAll(resp.Body)
				if resp.StatusCode != http.StatusOK {
					b.Fatalf("GET %s: %d", path, resp.StatusCode)
				}
				return body
			}
			var devices, requests int
			start := time.Now()
			for b.Loop() {
				devices, requests = 0, 0
				for last := int64(0); ; {
					var page struct {
						Results []struct {
							ID int64 `json:"id"`
						} `json:"results"`
					}
					requests++
					if err := json.Unmarshal(get(fmt.Sprintf("/api/dcim/devices/?exclude=config_context&id__gt=%d&limit=1000&ordering=id&status=active", last)), &page); err != nil {
						b.Fatal(err)
					}
					if len(page.Results) == 0 {
						break
					}
					var q strings.Builder
					for i, d := range page.Results {
						fmt.Fprintf(&q, "&device_id=%d", d.ID)
						if (i+1)%400 == 0 || i == len(page.Results)-1 {
							requests++
							get("/api/ipam/ip-addresses/?limit=1000" + q.String())
							q.Reset()
						}
					}
					devices += len(page.Results)
					last = page.Results[len(page.Results)-1].ID
				}
			}
			elapsed := time.Since(start)
			b.ReportMetric(float64(requests), "requests")
			b.ReportMetric(float64(devices)*float64(b.N)/elapsed.Seconds(), "devices/s")
		})
	}
}
