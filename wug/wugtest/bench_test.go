package wugtest_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/wugsync/wugsync/wug/wugtest"
)

const fleet = 100_000

func fleetDevices(n int) []wugtest.Device {
	ds := make([]wugtest.Device, n)
	for i := range ds {
		ds[i] = wugtest.Device{
			Name:    fmt.Sprintf("dev-%06d", i),
			Address: fmt.Sprintf("10.%d.%d.%d", i>>16&255, i>>8&255, i&255),
			Groups:  []string{fmt.Sprintf("My Network/Site %d", i%50)},
		}
	}
	return ds
}

// benchHandler is a handler holding n devices and a bearer token.
func benchHandler(b *testing.B, n int, opts ...wugtest.Option) (*wugtest.Handler, string) {
	b.Helper()
	h := wugtest.NewHandler(opts...)
	h.AddDevices(fleetDevices(n)...)
	rec := httptest.NewRecorder()
	form := url.Values{"grant_type": {"password"}, "username": {wugtest.DefaultUser}, "password": {wugtest.DefaultPassword}}
	h.ServeHTTP(rec, httptest.NewRequest("POST", "/api/v1/token", strings.NewReader(form.Encode())))
	var tr tokenResp
	if err := json.Unmarshal(rec.Body.Bytes(), &tr); err != nil {
		b.Fatal(err)
	}
	return h, "Bearer " + tr.AccessToken
}

func get(b *testing.B, h http.Handler, auth, target string, out any) {
	req := httptest.NewRequest("GET", target, nil)
	req.Header.Set("Authorization", auth)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != 200 {
		b.Fatalf("%s: %d %s", target, rec.Code, rec.Body)
	}
	if out != nil {
		if err := json.Unmarshal(rec.Body.Bytes(), out); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkSeed100k measures seeding 100,000 devices into a fresh fake.
func BenchmarkSeed100k(b *testing.B) {
	ds := fleetDevices(fleet)
	b.ReportAllocs()
	for b.Loop() {
		wugtest.NewHandler().AddDevices(ds...)
	}
	b.ReportMetric(float64(fleet)*float64(b.N)/b.Elapsed().Seconds(), "devices/s")
}

// BenchmarkListAll pages through every device of My Network at the default
// page size; one op is the whole walk. ns/page staying flat from 10,000 to
// 100,000 devices shows paging does no quadratic work.
func BenchmarkListAll(b *testing.B) {
	for _, n := range []int{10_000, fleet} {
		for _, contract := range []bool{false, true} {
			b.Run(fmt.Sprintf("devices=%d/contract=%v", n, contract), func(b *testing.B) {
				opts := []wugtest.Option{}
				if !contract {
					opts = append(opts, wugtest.WithoutContract())
				}
				h, auth := benchHandler(b, n, opts...)
				pages := 0
				for b.Loop() {
					next, got := "", 0
					for {
						var dl deviceList
						get(b, h, auth, "/api/v1/device-groups/0/devices/-?view=basic&pageId="+next, &dl)
						got += len(dl.Data.Devices)
						pages++
						if next = dl.Paging.NextPageID; next == "" {
							break
						}
					}
					if got != n {
						b.Fatalf("listed %d devices", got)
					}
				}
				b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(pages), "ns/page")
			})
		}
	}
}

// BenchmarkSearch100k is one substring search for an address over the
// whole fleet (a full scan: WUG's search is a substring match).
func BenchmarkSearch100k(b *testing.B) {
	h, auth := benchHandler(b, fleet, wugtest.WithoutContract())
	for b.Loop() {
		var dl deviceList
		get(b, h, auth, "/api/v1/device-groups/0/devices/-?search=10.1.134.159", &dl)
		if len(dl.Data.Devices) != 1 {
			b.Fatalf("found %d", len(dl.Data.Devices))
		}
	}
}

// BenchmarkGroupList100k lists one of 50 sites (2,000 devices) in pages.
func BenchmarkGroupList100k(b *testing.B) {
	h, auth := benchHandler(b, fleet, wugtest.WithoutContract())
	g, _ := h.GroupByPath("My Network/Site 7")
	for b.Loop() {
		next, n := "", 0
		for {
			var dl deviceList
			get(b, h, auth, "/api/v1/device-groups/"+g.ID+"/devices/-?view=id&pageId="+next, &dl)
			n += len(dl.Data.Devices)
			if next = dl.Paging.NextPageID; next == "" {
				break
			}
		}
		if n != fleet/50 {
			b.Fatalf("listed %d", n)
		}
	}
}

// BenchmarkDevicesByAddress100k is the indexed exact-address control.
func BenchmarkDevicesByAddress100k(b *testing.B) {
	h, _ := benchHandler(b, fleet)
	for b.Loop() {
		if len(h.DevicesByAddress("10.1.134.159")) != 1 {
			b.Fatal("not found")
		}
	}
}
