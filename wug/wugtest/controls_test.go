package wugtest_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/wugsync/wugsync/wug/wugtest"
)

func TestFailNext(t *testing.T) {
	t.Parallel()
	a := newAPI(t)
	id := a.srv.AddDevice(wugtest.Device{Name: "d"})
	a.srv.FailNext(wugtest.Fault{Route: "GET /api/v1/devices/{deviceId}", Status: 503, Times: 2, RetryAfter: 1500 * time.Millisecond})
	a.srv.FailNext(wugtest.Fault{Route: "/api/v1/devices/" + id + "/status", Status: 500})
	a.login()
	for i := range 2 {
		req, _ := http.NewRequest("GET", a.srv.URL+"/api/v1/devices/"+id, nil)
		req.Header.Set("Authorization", "Bearer "+a.login())
		resp, err := a.hc.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 503 || resp.Header.Get("Retry-After") != "2" {
			t.Errorf("call %d: %d Retry-After %q", i, resp.StatusCode, resp.Header.Get("Retry-After"))
		}
	}
	a.call("GET", "/devices/"+id, nil, 200, nil)
	a.call("GET", "/devices/"+id+"/status", nil, 500, nil)
	a.call("GET", "/devices/"+id+"/status", nil, 200, nil)
	// Other routes were never affected.
	a.call("GET", "/device-groups/-", nil, 200, nil)
}

func TestFaultRateIsSeededAndMixed(t *testing.T) {
	t.Parallel()
	run := func() []int {
		a := newAPI(t)
		a.login()
		a.srv.SetFaultRate(0.5, 42)
		var got []int
		for range 60 {
			s, _ := a.do("GET", "/product/version", nil)
			got = append(got, s)
		}
		return got
	}
	first, second := run(), run()
	if diff := cmp.Diff(first, second); diff != "" {
		t.Errorf("same seed, different sequence (-first +second):\n%s", diff)
	}
	seen := map[int]int{}
	for _, s := range first {
		seen[s]++
	}
	for _, s := range []int{200, 500, 503, 429} {
		if seen[s] == 0 {
			t.Errorf("status %d never answered in %v", s, seen)
		}
	}
}

func TestLatency(t *testing.T) {
	t.Parallel()
	a := newAPI(t)
	a.login()
	a.srv.SetLatency(80*time.Millisecond, 80*time.Millisecond)
	start := time.Now()
	a.call("GET", "/product/api", nil, 200, nil)
	if d := time.Since(start); d < 80*time.Millisecond {
		t.Errorf("request took %v, want at least 80ms", d)
	}
	// An hour of latency that ClearFaults failed to lift would outlast the
	// deadline, whatever the machine's load.
	a.srv.SetLatency(time.Hour, time.Hour)
	a.srv.ClearFaults()
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", a.srv.URL+"/api/v1/product/api", nil)
	req.Header.Set("Authorization", "Bearer "+a.login())
	resp, err := a.hc.Do(req)
	if err != nil {
		t.Fatalf("request after ClearFaults: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Errorf("request after ClearFaults: status %d", resp.StatusCode)
	}
}

func TestDropNext(t *testing.T) {
	t.Parallel()
	a := newAPI(t)
	a.login()
	a.srv.DropNext("PATCH /api/v1/devices/-/config/template", 1)
	req, _ := http.NewRequest("PATCH", a.srv.URL+"/api/v1/devices/-/config/template", strings.NewReader(`{"templates":[]}`))
	req.Header.Set("Authorization", "Bearer "+a.login())
	req.Header.Set("Content-Type", "application/json")
	resp, err := a.hc.Do(req)
	if err == nil {
		resp.Body.Close()
		t.Fatalf("dropped request answered %d", resp.StatusCode)
	}
	a.call("PATCH", "/devices/-/config/template", map[string]any{"templates": []any{}}, 200, nil)
	var dropped []wugtest.Request
	for _, r := range a.srv.Requests() {
		if r.Status == -1 {
			dropped = append(dropped, r)
		}
	}
	if len(dropped) != 1 || dropped[0].Route != "PATCH /api/v1/devices/-/config/template" {
		t.Errorf("dropped requests = %+v", dropped)
	}
}

func TestRequestRecording(t *testing.T) {
	t.Parallel()
	a := newAPI(t)
	id := a.srv.AddDevice(wugtest.Device{Name: "d"})
	a.call("GET", "/devices/"+id, nil, 200, nil)
	a.call("GET", "/devices/"+id+"/attributes/-?names=a&names=b", nil, 200, nil)
	a.call("PATCH", "/devices/"+id+"/attributes/-", map[string]any{"attributesToAdd": []any{map[string]any{"name": "a", "value": "1"}}}, 200, nil)
	got := a.srv.Counts()
	want := wugtest.RequestCounts{Reads: 2, Writes: 2, ByRoute: map[string]int{
		"POST /api/v1/token":                            1,
		"GET /api/v1/devices/{deviceId}":                1,
		"GET /api/v1/devices/{deviceId}/attributes/-":   1,
		"PATCH /api/v1/devices/{deviceId}/attributes/-": 1,
	}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Counts (-want +got):\n%s", diff)
	}
	if n := a.srv.Count("/api/v1/devices/" + id); n != 1 {
		t.Errorf("Count(literal path) = %d", n)
	}
	if n := a.srv.Count("* /api/v1/devices/{deviceId}/attributes/-"); n != 2 {
		t.Errorf("Count(any method) = %d", n)
	}
	reqs := a.srv.Requests()
	last := reqs[len(reqs)-1]
	if last.Method != "PATCH" || !strings.Contains(string(last.Body), "attributesToAdd") || last.Status != 200 || !last.IsWrite() {
		t.Errorf("last request = %+v", last)
	}
	if q := reqs[2].Query["names"]; !cmp.Equal(q, []string{"a", "b"}) {
		t.Errorf("recorded query = %v", q)
	}
	a.srv.ResetRequests()
	if n := len(a.srv.Requests()); n != 0 {
		t.Errorf("after reset: %d requests", n)
	}
}

func TestUnknownRoutesAreReported(t *testing.T) {
	t.Parallel()
	rep := &reporter{}
	a := newAPI(t, wugtest.WithReporter(rep.Errorf))
	a.login()
	tests := []struct {
		method, path string
		status       int
		report       string
	}{
		{"GET", "/scan/network", 404, "no such route (404)"},
		{"POST", "/devices", 404, "no such route (404)"},
		{"PUT", "/device-groups/0/devices/5", 405, "method not allowed"},
		{"PATCH", "/devices/refresh", 405, "method not allowed"},
		{"POST", "/device-groups/0/newDevice", 405, "method not allowed"},
		{"GET", "/devices/1/monitors/-", 501, "does not implement"},
	}
	for _, tc := range tests {
		status, body := a.do(tc.method, tc.path, nil)
		if status != tc.status {
			t.Errorf("%s %s: status %d, want %d (%s)", tc.method, tc.path, status, tc.status, body)
		}
	}
	msgs := rep.all()
	if len(msgs) != len(tests) {
		t.Fatalf("reports = %q", msgs)
	}
	for i, tc := range tests {
		if !strings.Contains(msgs[i], tc.report) || !strings.Contains(msgs[i], tc.path) {
			t.Errorf("report %d = %q, want %q", i, msgs[i], tc.report)
		}
	}
	if v := a.srv.Violations(); len(v) != len(tests) {
		t.Errorf("Violations() = %q", v)
	}
}

func TestAllowUnknownRoutes(t *testing.T) {
	t.Parallel()
	a := newAPI(t, wugtest.AllowUnknownRoutes())
	a.login()
	if status, _ := a.do("GET", "/nope", nil); status != 404 {
		t.Errorf("status %d", status)
	}
	status, body := a.do("PUT", "/device-groups/-", nil)
	if status != 405 {
		t.Errorf("status %d", status)
	}
	if !strings.Contains(string(body), `"status":405`) {
		t.Errorf("405 body %s", body)
	}
	if v := a.srv.Violations(); len(v) != 0 {
		t.Errorf("violations %q", v)
	}
}

func TestContractViolationsAreReported(t *testing.T) {
	t.Parallel()
	rep := &reporter{}
	a := newAPI(t, wugtest.WithReporter(rep.Errorf))
	a.call("GET", "/device-groups/0/devices/-?serach=x", nil, 200, nil)
	a.call("PATCH", "/devices/-/config/template", map[string]any{"templates": []any{map[string]any{"displayName": "x", "pollIntervalSeconds": 60, "interfaces": []any{map[string]any{"networkAddress": "10.0.0.1"}}}}}, 200, nil)
	msgs := strings.Join(rep.all(), "\n")
	for _, want := range []string{`query parameter "serach" is not declared`, `property "pollIntervalSeconds" is unsupported`} {
		if !strings.Contains(msgs, want) {
			t.Errorf("reports %q lack %q", msgs, want)
		}
	}
	// WithoutContract turns it off.
	rep2 := &reporter{}
	b := newAPI(t, wugtest.WithReporter(rep2.Errorf), wugtest.WithoutContract())
	b.call("GET", "/device-groups/0/devices/-?serach=x", nil, 200, nil)
	if m := rep2.all(); len(m) != 0 {
		t.Errorf("WithoutContract still reported %q", m)
	}
}

func TestSeedAndReadBack(t *testing.T) {
	t.Parallel()
	a := newAPI(t)
	gid := a.srv.AddGroup("/My Network/NetBox/Site A/")
	if again := a.srv.AddGroup("NetBox/site a"); again != gid {
		t.Errorf("AddGroup is not idempotent: %s then %s", gid, again)
	}
	id := a.srv.AddDevice(wugtest.Device{
		Name: "web", HostName: "web.lab", Address: "10.3.0.1", Groups: []string{"NetBox/Site A", "My Network/Other"},
		Attributes: map[string]string{"k": "v"}, Role: "Server", State: "Down",
	})
	got, ok := a.srv.Device(id)
	want := wugtest.Device{
		ID: id, Name: "web", HostName: "web.lab", Address: "10.3.0.1",
		Groups:     []string{"My Network/NetBox/Site A", "My Network/Other"},
		Attributes: map[string]string{"k": "v"}, Role: "Server", Brand: "Not Set", OS: "Not Set", State: "Down",
	}
	if diff := cmp.Diff(want, got); !ok || diff != "" {
		t.Errorf("Device (-want +got):\n%s", diff)
	}
	if _, ok := a.srv.Device("nope"); ok {
		t.Error("Device(nope) found")
	}
	var paths []string
	for _, g := range a.srv.Groups() {
		paths = append(paths, g.Path)
	}
	if diff := cmp.Diff([]string{"My Network", "My Network/Discovered Devices", "My Network/NetBox", "My Network/NetBox/Site A", "My Network/Other"}, paths); diff != "" {
		t.Errorf("Groups (-want +got):\n%s", diff)
	}
	if d := a.srv.Devices(); len(d) != 1 || d[0].ID != id {
		t.Errorf("Devices() = %+v", d)
	}
	if _, ok := a.srv.GroupByPath("My Network/Nope"); ok {
		t.Error("GroupByPath found a missing group")
	}
}

func TestProductAndErrorEndpoints(t *testing.T) {
	t.Parallel()
	a := newAPI(t)
	var v struct {
		Data struct {
			Values []struct{ Name, Value string }
		}
	}
	a.call("GET", "/product/version", nil, 200, &v)
	if len(v.Data.Values) == 0 {
		t.Error("no version values")
	}
	a.call("GET", "/product/api", nil, 200, &v)
	for _, p := range []string{"/product/installationId", "/product/timezone", "/product/whoAmI"} {
		var s struct{ Data string }
		a.call("GET", p, nil, 200, &s)
		if s.Data == "" {
			t.Errorf("%s: empty data", p)
		}
	}
	// The error-format endpoint needs no token and shows WUG's error shape.
	status, body := a.doAuth("GET", "/errors/NotFound", nil, "")
	if status != 404 || !strings.Contains(string(body), `{"error":{"status":404,"code":"NotFound"`) {
		t.Errorf("errors endpoint: %d %s", status, body)
	}
}
