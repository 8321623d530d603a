package export

import (
	"encoding/json"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/wugsync/wugsync/netbox"
	"github.com/wugsync/wugsync/netbox/netboxtest"
	"github.com/wugsync/wugsync/store"
	"github.com/wugsync/wugsync/wug/wugtest"
)

const (
	routeTemplate   = "PATCH /api/v1/devices/-/config/template"
	routeAttributes = "PATCH /api/v1/devices/{deviceId}/attributes/-"
	routeListing    = "GET /api/v1/device-groups/{groupId}/devices/-"
	routeNewDevice  = "PATCH /api/v1/device-groups/{groupId}/newDevice"
)

// lookups counts the address searches the fake received.
func (e *e2e) lookups() int {
	n := 0
	for _, r := range e.wug.Requests() {
		if r.Route == routeListing && r.Query.Get("search") != "" {
			n++
		}
	}
	return n
}

// Each fault class costs a pinned number of WUG requests end to end,
// through the real client's retry layer and the executor: a refusal is
// sent once, a 503 as often as the HTTP layer tries, and a request WUG may
// have acted on is looked up before it is sent at most once more.
func TestE2ERequestsPerFault(t *testing.T) {
	t.Parallel()
	httpAttempts := fastRetry.MaxRetries + 1
	tests := []struct {
		name   string
		update bool // the fault hits a metadata update instead of an add
		fault  func(*wugtest.Server)
		route  string
		want   int // requests on route
		lookup bool
		failed int
	}{
		{name: "add refused (400)", route: routeTemplate, want: 1, failed: 10,
			fault: func(s *wugtest.Server) {
				s.FailNext(wugtest.Fault{Route: routeTemplate, Status: http.StatusBadRequest, Times: 100})
			}},
		{name: "add unavailable (503)", route: routeTemplate, want: httpAttempts, failed: 10,
			fault: func(s *wugtest.Server) {
				s.FailNext(wugtest.Fault{Route: routeTemplate, Status: http.StatusServiceUnavailable, Times: 100})
			}},
		{name: "add answer lost after WUG applied it", route: routeTemplate, want: 1, lookup: true,
			fault: func(s *wugtest.Server) {
				s.MisbehaveNext(wugtest.Misbehave{Route: routeTemplate, Kind: wugtest.ApplyThenDrop, Times: 1})
			}},
		{name: "add request lost before WUG read it", route: routeTemplate, want: 2, lookup: true,
			fault: func(s *wugtest.Server) { s.DropNext(routeTemplate, 1) }},
		{name: "add request lost twice", route: routeTemplate, want: 2, lookup: true, failed: 10,
			fault: func(s *wugtest.Server) { s.DropNext(routeTemplate, 2) }},
		{name: "add answered unreadably, not applied", route: routeTemplate, want: 2, lookup: true,
			fault: func(s *wugtest.Server) {
				s.MisbehaveNext(wugtest.Misbehave{Route: routeTemplate, Kind: wugtest.NonJSON, Times: 1})
			}},
		{name: "update refused (400)", update: true, route: routeAttributes, want: 1, failed: 1,
			fault: func(s *wugtest.Server) {
				s.FailNext(wugtest.Fault{Route: routeAttributes, Status: http.StatusBadRequest, Times: 100})
			}},
		{name: "update unavailable (503)", update: true, route: routeAttributes, want: httpAttempts, failed: 1,
			fault: func(s *wugtest.Server) {
				s.FailNext(wugtest.Fault{Route: routeAttributes, Status: http.StatusServiceUnavailable, Times: 100})
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := newE2E(t, []netboxtest.Option{netboxtest.WithDevices(0)})
			src := &fakeSource{devs: testDevices(10)}
			for i := range src.devs { // one group path: one template apply
				src.devs[i].Site = src.devs[0].Site
			}
			e.job.Source = src
			if tt.update {
				e.run(t, RunOptions{})
				src.set(3, func(d *netbox.Device) { d.Description = "moved" })
			}
			e.wug.ResetRequests()
			tt.fault(e.wug)
			res, err := e.job.Run(t.Context(), RunOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if got := e.wug.Count(tt.route); got != tt.want {
				t.Errorf("%d requests on %s, want %d", got, tt.route, tt.want)
			}
			if got := e.lookups(); (got > 0) != tt.lookup {
				t.Errorf("%d address lookups, want some: %v", got, tt.lookup)
			}
			if res.Counts.Failed != tt.failed {
				t.Errorf("counts %+v, want %d failed", res.Counts, tt.failed)
			}
			e.wug.ClearFaults()
			rest := e.run(t, RunOptions{})
			if rest.Counts.Failed != 0 {
				t.Errorf("next run: %+v", rest.Counts)
			}
			e.checkDistinct(t, 10)
		})
	}
}

// checkDistinct asserts the end state every fault test must reach: WUG
// holds one device per distinct address, the store links each to the
// record of its address (exported, or completed by a scan), and no record
// is left pending.
func (e *e2e) checkDistinct(t testing.TB, addrs int) {
	t.Helper()
	devs, distinct := e.wugDevices()
	if len(devs) != addrs || len(distinct) != addrs {
		t.Errorf("WUG holds %d devices for %d distinct addresses, want %d each", len(devs), len(distinct), addrs)
	}
	linked := map[string]store.Key{}
	for _, r := range e.records(t) {
		if r.Status != store.StatusExported && r.Status != store.StatusScanCompleted {
			t.Errorf("record %s left %s (%s)", r.Key, r.Status, r.LastError)
			continue
		}
		if !holdsAddress(devs, r) {
			t.Errorf("record %s names WUG device %q, which does not hold the address", r.Key, r.WUGDeviceID)
		}
		if other, dup := linked[r.WUGDeviceID]; dup {
			t.Errorf("WUG device %s is linked to %s and %s", r.WUGDeviceID, other, r.Key)
		}
		linked[r.WUGDeviceID] = r.Key
	}
	if len(linked) != addrs {
		t.Errorf("the store links %d devices, want %d", len(linked), addrs)
	}
}

// A re-run whose device listing answers 200 with an error envelope, as a
// failing WUG may, adds nothing: the run fails before any write, with the
// decoder's error or the add guard's.
func TestE2EListingErrorEnvelopeOnReRun(t *testing.T) {
	t.Parallel()
	const n = 200
	e := newE2E(t, []netboxtest.Option{netboxtest.WithDevices(0)})
	e.job.Source = &fakeSource{devs: testDevices(n)}
	e.run(t, RunOptions{})
	e.wug.ResetRequests()
	e.wug.MisbehaveNext(wugtest.Misbehave{Route: routeListing, Kind: wugtest.ErrorEnvelope, Times: 1})
	res, err := e.job.Run(t.Context(), RunOptions{})
	if err == nil || !(isType[*MissingDevicesError](err) || strings.Contains(err.Error(), "listing WUG devices")) {
		t.Fatalf("re-run: err %v, want the decoder's or the add guard's error", err)
	}
	if e.wug.Count(routeListing) == 0 {
		t.Fatal("the run never listed WUG's devices")
	}
	if w := e.wugWrites(); res.Status != store.RunFailed || w != 0 || e.wug.DeviceCount() != n {
		t.Errorf("re-run: status %s, %d writes, WUG holds %d devices; want failed, 0, %d", res.Status, w, e.wug.DeviceCount(), n)
	}
	t.Logf("the re-run failed with: %v", err)
	if again := e.run(t, RunOptions{}); again.Counts.Unchanged != n {
		t.Errorf("next run: %+v", again.Counts)
	}
	e.checkDistinct(t, n)
}

// WUG applies 30% of the creating requests (template applies, newDevice
// scans) and then drops the connection before answering. Each one is
// resolved by a lookup, or by finding the scan it started, so WUG ends
// with one device per address.
func TestE2EAnswersDroppedAfterApply(t *testing.T) {
	t.Parallel()
	n := 3000
	if testing.Short() {
		n = 600
	}
	for _, tt := range []struct {
		scan  bool
		route string
	}{{false, routeTemplate}, {true, routeNewDevice}} {
		t.Run(tt.route, func(t *testing.T) {
			t.Parallel()
			e := newE2E(t, []netboxtest.Option{netboxtest.WithDevices(0)}, wugtest.WithScanDelay(time.Hour))
			devs := testDevices(n)
			e.job.Source = &fakeSource{devs: devs}
			e.job.Connection.Scan = tt.scan
			if tt.scan {
				addrs := make([]string, len(devs))
				for i, d := range devs {
					addrs[i] = d.PrimaryIPv4.Address.Addr().String()
				}
				e.wug.SetReachable(addrs...)
			}
			var applied atomic.Int32
			e.wug.Observe(tt.route, func(int) { applied.Add(1) })
			e.wug.SetMisbehaveRate(tt.route, wugtest.ApplyThenDrop, 0.3, 11)
			res := e.run(t, RunOptions{})
			e.wug.SetMisbehaveRate(tt.route, wugtest.ApplyThenDrop, 0, 0)

			// The drops landed mid-run: WUG answered requests after the
			// first one it applied and dropped.
			var answered, dropped, answeredAfterDrop, sent int
			for _, r := range e.wug.Requests() {
				if r.Route != tt.route {
					continue
				}
				var body struct {
					Templates []json.RawMessage `json:"templates"`
					IPOrNames []string          `json:"ipOrNames"`
				}
				if err := json.Unmarshal(r.Body, &body); err != nil {
					t.Fatalf("request body: %v", err)
				}
				sent += len(body.Templates) + len(body.IPOrNames)
				if r.Status == -1 {
					dropped++
					continue
				}
				answered++
				if dropped > 0 {
					answeredAfterDrop++
				}
			}
			if dropped == 0 || answeredAfterDrop == 0 || int(applied.Load()) != answered+dropped {
				t.Fatalf("%d applied, %d answered, %d dropped, %d answered after the first drop: the drops did not land mid-run",
					applied.Load(), answered, dropped, answeredAfterDrop)
			}
			t.Logf("%d requests applied, %d of their answers dropped; counts %+v", applied.Load(), dropped, res.Counts)
			if sent != n { // every dropped request was applied: none needed sending again
				t.Errorf("%d addresses sent for %d", sent, n)
			}
			if res.Counts.Failed != 0 {
				t.Errorf("counts %+v: every dropped answer should resolve by a lookup", res.Counts)
			}
			if tt.scan {
				e.wug.CompleteScans()
				mon := &scanJob{Connection: "wug1", WUG: e.job.WUG, Store: e.st}
				if sr, err := mon.Run(t.Context(), store.TriggerManual); err != nil || sr.Linked != n {
					t.Fatalf("scan monitor: %+v, %v; want %d linked", sr, err, n)
				}
			}
			e.checkDistinct(t, n)
		})
	}
}
