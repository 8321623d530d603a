package main

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/wugsync/wugsync/netbox/netboxtest"
	"github.com/wugsync/wugsync/store"
	"github.com/wugsync/wugsync/store/memory"
	"github.com/wugsync/wugsync/wug/wugtest"
)

func TestAPIRefusesRequestsWithoutTheToken(t *testing.T) {
	t.Parallel()
	f := newFixture(t, 10)
	endpoints := []struct{ method, path, body string }{
		{"POST", "/api/plugins/wug-sync/connections/1/export/", `{}`},
		{"GET", "/api/plugins/wug-sync/connections/1/export-status/", ""},
		{"GET", "/api/plugins/wug-sync/ip-exports/", ""},
		{"POST", "/api/plugins/wug-sync/ip-exports/bulk-export/", `{"connection": 1, "addresses": ["10.0.0.1"]}`},
		{"GET", "/api/plugins/wug-sync/nothing-here/", ""},
	}
	for _, e := range endpoints {
		for _, tc := range []struct {
			header string
			want   int
		}{
			{"", http.StatusUnauthorized},
			{"Token", http.StatusUnauthorized},
			{"Bearer " + testToken, http.StatusUnauthorized},
			{"Token wrong-token", http.StatusForbidden},
			{"Token " + testToken + "x", http.StatusForbidden},
		} {
			req, _ := http.NewRequest(e.method, f.srv.URL+e.path, strings.NewReader(e.body))
			if tc.header != "" {
				req.Header.Set("Authorization", tc.header)
			}
			resp, err := testClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			var body map[string]string
			err = json.NewDecoder(resp.Body).Decode(&body)
			resp.Body.Close()
			if resp.StatusCode != tc.want || err != nil || body["reason"] == "" {
				t.Errorf("%s %s with %q: %d %v (%v), want %d with a JSON reason", e.method, e.path, tc.header, resp.StatusCode, body, err, tc.want)
			}
		}
	}
	f.checkNoRuns(t, "refused requests")
	// Probes and metrics need no token.
	for _, path := range []string{"/healthz", "/readyz", "/metrics"} {
		if status, _ := do(t, "GET", f.srv.URL+path, "", ""); status != http.StatusOK {
			t.Errorf("GET %s: %d, want 200", path, status)
		}
	}
}

func TestExportTriggerConflictAndStatus(t *testing.T) {
	t.Parallel()
	f := newFixture(t, 20)
	f.nb.SetLatency(250*time.Millisecond, 250*time.Millisecond) // keeps the run going while the second trigger arrives
	base := f.srv.URL + "/api/plugins/wug-sync/"

	status, body := doJSON(t, "POST", base+"connections/1/export/", testToken,
		`{"device_filters": {"sites": [], "device_roles": [], "tags": [], "exclude_recent_exports": true}}`)
	if status != http.StatusAccepted {
		t.Fatalf("export: %d %v, want 202", status, body)
	}
	runID, _ := body["run_id"].(string)
	if runID == "" || body["connection"] != "main" {
		t.Fatalf("export answer %v has no run id", body)
	}

	// A second trigger, by name or as a bulk export, finds the run.
	for _, req := range []struct{ path, body string }{
		{"connections/main/export/", ``},
		{"ip-exports/bulk-export/", `{"connection": "1", "addresses": ["10.1.2.3"]}`},
	} {
		status, body = doJSON(t, "POST", base+req.path, testToken, req.body)
		holder, _ := body["holder"].(string)
		if status != http.StatusConflict || body["run_id"] != runID || !strings.Contains(body["reason"].(string), runID) ||
			holder == "" || !strings.Contains(body["reason"].(string), holder) {
			t.Errorf("POST %s during run %s: %d %v, want 409 naming the run and its lease holder", req.path, runID, status, body)
		}
	}

	status, st := doJSON(t, "GET", base+"connections/1/export-status/", testToken, "")
	if status != http.StatusOK || st["in_progress"] != true || st["running_run_id"] != runID {
		t.Errorf("status during the run: %d in_progress=%v running_run_id=%v", status, st["in_progress"], st["running_run_id"])
	}

	run := waitRun(t, f.st, runID)
	if run.Status != store.RunSucceeded || run.Trigger != store.TriggerManual || run.Counts.Added == 0 {
		t.Errorf("run = %+v, want a succeeded manual run that added devices", run)
	}
	if diff := cmp.Diff(map[string][]string{"exclude_recent_exports": {"true"}}, run.Filters); diff != "" {
		t.Errorf("run filters (-want +got):\n%s", diff)
	}
	if f.wug.DeviceCount() != run.Counts.Added {
		t.Errorf("WUG holds %d devices, the run added %d", f.wug.DeviceCount(), run.Counts.Added)
	}

	status, st = doJSON(t, "GET", base+"connections/main/export-status/", testToken, "")
	if status != http.StatusOK {
		t.Fatalf("status: %d %v", status, st)
	}
	counts := st["counts"].(map[string]any)
	last := st["last_export"].(map[string]any)
	recent := st["recent_runs"].([]any)
	if st["in_progress"] != false || last["id"] != runID || last["status"] != "succeeded" ||
		counts["exported"] != float64(run.Counts.Added) || st["total"].(float64) < counts["exported"].(float64) ||
		len(recent) == 0 || st["recent_errors"] == nil {
		t.Errorf("status after the run = %v", st)
	}
}

func TestBulkExport(t *testing.T) {
	t.Parallel()
	f := newFixture(t, 50)
	var addrs []string
	for _, d := range plainDevices(f.nb)[:3] {
		ip, ok := f.nb.IPAddress(d.PrimaryIP4)
		if !ok {
			t.Fatalf("device %d: primary IP %d not found", d.ID, d.PrimaryIP4)
		}
		addrs = append(addrs, ip.Address.String()) // with its prefix length, as NetBox shows it
	}
	// An address no selected object holds fails on its own.
	outside := "192.0.2.77"
	body, _ := json.Marshal(map[string]any{"connection": 1, "ip_addresses": append(addrs, outside)})
	status, ans := doJSON(t, "POST", f.srv.URL+"/api/plugins/wug-sync/ip-exports/bulk-export/", testToken, string(body))
	if status != http.StatusAccepted {
		t.Fatalf("bulk export: %d %v", status, ans)
	}
	run := waitRun(t, f.st, ans["run_id"].(string))
	if run.Trigger != store.TriggerBulk || run.Status != store.RunPartial || run.Counts.Added != len(addrs) || run.Counts.Failed != 1 ||
		f.wug.DeviceCount() != len(addrs) {
		t.Errorf("run = %+v, WUG has %d devices; want %d bulk adds and 1 failure", run, f.wug.DeviceCount(), len(addrs))
	}
}

func TestAPIErrors(t *testing.T) {
	t.Parallel()
	f := newFixture(t, 10)
	base := f.srv.URL + "/api/plugins/wug-sync/"
	tests := []struct {
		name, method, path, body string
		want                     int
		reason                   string
	}{
		{"export unknown connection", "POST", "connections/9/export/", `{}`, 404, `unknown connection "9"`},
		{"status unknown connection", "GET", "connections/nope/export-status/", "", 404, `unknown connection "nope"`},
		{"bulk unknown connection", "POST", "ip-exports/bulk-export/", `{"connection": 9, "addresses": ["10.0.0.1"]}`, 404, `unknown connection "9"`},
		{"records unknown connection", "GET", "ip-exports/?connection=9", "", 404, `unknown connection "9"`},
		{"export disabled", "POST", "connections/2/export/", `{}`, 400, "disabled"},
		{"unknown filter field", "POST", "connections/1/export/", `{"device_filters": {"site": ["a"]}}`, 400, `unknown field "site"`},
		{"bad filter value", "POST", "connections/1/export/", `{"device_filters": {"sites": ["no spaces allowed"]}}`, 400, "device_filters:"},
		{"not JSON", "POST", "connections/1/export/", `{"device_filters":`, 400, "invalid JSON body"},
		{"body too large", "POST", "connections/1/export/", `{"device_filters": {"sites": ["` + strings.Repeat("a", maxAPIBody) + `"]}}`, 413, "over"},
		{"bulk without addresses", "POST", "ip-exports/bulk-export/", `{"connection": 1}`, 400, "addresses: at least one"},
		{"bulk bad address", "POST", "ip-exports/bulk-export/", `{"connection": 1, "addresses": ["10.0.0.1", "ten"]}`, 400, "addresses[1]"},
		{"bulk without connection", "POST", "ip-exports/bulk-export/", `{"addresses": ["10.0.0.1"]}`, 400, "connection: required"},
		{"wrong method", "GET", "connections/1/export/", "", 405, "use POST"},
		{"bad status filter", "GET", "ip-exports/?status=done", "", 400, `status: "done"`},
		{"bad limit", "GET", "ip-exports/?limit=-1", "", 400, "limit:"},
		{"unknown query", "GET", "ip-exports/?colour=red", "", 400, `unknown filter "colour"`},
		{"two object ids", "GET", "ip-exports/?device_id=1&virtual_machine_id=2", "", 400, "virtual_machine_id: cannot be combined with device_id"},
	}
	for _, tt := range tests {
		status, body := doJSON(t, tt.method, base+tt.path, testToken, tt.body)
		reason, _ := body["reason"].(string)
		if status != tt.want || !strings.Contains(reason, tt.reason) {
			t.Errorf("%s: %d %q, want %d with a reason containing %q", tt.name, status, reason, tt.want, tt.reason)
		}
	}
	f.checkNoRuns(t, "refused requests")
}

func TestIPExportsPagination(t *testing.T) {
	t.Parallel()
	f := newFixture(t, 10)
	ctx := context.Background()
	var recs []store.Record
	for i := range 7 {
		st := store.StatusExported
		if i%3 == 0 {
			st = store.StatusError
		}
		recs = append(recs, store.Record{
			Key:        store.Key{Connection: "main", Address: netip.AddrFrom4([4]byte{10, 0, 0, byte(i + 1)})},
			ObjectKind: store.ObjectDevice, ObjectID: int64(100 + i%2), ObjectName: fmt.Sprintf("dev-%d", i%2),
			Status: st, WUGDeviceID: fmt.Sprint(i + 1),
		})
	}
	recs = append(recs, store.Record{Key: store.Key{Connection: "off", VRF: "blue", Address: netip.MustParseAddr("10.0.0.1")},
		ObjectKind: store.ObjectVirtualMachine, ObjectID: 5, Status: store.StatusPending})
	if err := f.st.UpsertRecords(ctx, recs); err != nil {
		t.Fatal(err)
	}
	list := f.srv.URL + "/api/plugins/wug-sync/ip-exports/"

	type pageOut struct {
		Count    int     `json:"count"`
		Next     *string `json:"next"`
		Previous *string `json:"previous"`
		Results  []struct {
			IPAddress  string `json:"ip_address"`
			Connection string `json:"connection"`
			Status     string `json:"status"`
		} `json:"results"`
	}
	get := func(query string) pageOut {
		t.Helper()
		status, b := do(t, "GET", list+query, testToken, "")
		var p pageOut
		if status != http.StatusOK || json.Unmarshal(b, &p) != nil {
			t.Fatalf("GET %s: %d %s", query, status, b)
		}
		return p
	}
	addrs := func(p pageOut) []string {
		var out []string
		for _, r := range p.Results {
			out = append(out, r.IPAddress)
		}
		return out
	}
	str := func(s *string) string {
		if s == nil {
			return "<nil>"
		}
		return strings.TrimPrefix(*s, list)
	}

	tests := []struct {
		query, next, previous string
		count                 int
		addrs                 []string
	}{
		{"?connection=1&limit=3", "?connection=1&limit=3&offset=3", "<nil>", 7, []string{"10.0.0.1", "10.0.0.2", "10.0.0.3"}},
		{"?connection=1&limit=3&offset=3", "?connection=1&limit=3&offset=6", "?connection=1&limit=3", 7, []string{"10.0.0.4", "10.0.0.5", "10.0.0.6"}},
		{"?connection=main&limit=3&offset=6", "<nil>", "?connection=main&limit=3&offset=3", 7, []string{"10.0.0.7"}},
		{"?connection=main&limit=3&offset=9", "<nil>", "?connection=main&limit=3&offset=6", 7, nil},
		// An offset near the largest int has no next page (not page 1).
		{"?connection=main&limit=3&offset=9223372036854775806", "<nil>", "?connection=main&limit=3&offset=9223372036854775803", 7, nil},
		{"?connection=main&limit=1000&offset=9223372036854775000", "<nil>", "?connection=main&limit=1000&offset=9223372036854774000", 7, nil},
		{"?connection=1&status=error", "<nil>", "<nil>", 3, []string{"10.0.0.1", "10.0.0.4", "10.0.0.7"}},
		{"?status=pending,error", "<nil>", "<nil>", 4, []string{"10.0.0.1", "10.0.0.4", "10.0.0.7", "10.0.0.1"}},
		{"?address=10.0.0.1/24", "<nil>", "<nil>", 2, []string{"10.0.0.1", "10.0.0.1"}},
		{"?device_id=101", "<nil>", "<nil>", 3, []string{"10.0.0.2", "10.0.0.4", "10.0.0.6"}},
		{"?object_type=virtual_machine&object_id=5&vrf=blue", "<nil>", "<nil>", 1, []string{"10.0.0.1"}},
		{"", "<nil>", "<nil>", 8, nil},
	}
	for _, tt := range tests {
		p := get(tt.query)
		got := []any{p.Count, str(p.Next), str(p.Previous)}
		want := []any{tt.count, tt.next, tt.previous}
		if tt.addrs != nil || p.Count <= 3 {
			got, want = append(got, addrs(p)), append(want, tt.addrs)
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("GET %s (-want +got):\n%s", tt.query, diff)
		}
	}
}

func TestWebhookSignatureAndTargetedExport(t *testing.T) {
	t.Parallel()
	f := newFixture(t, 20)
	ctx := context.Background()
	hook := f.srv.URL + "/webhooks/netbox"
	dev := plainDevices(f.nb)[0]

	// A delivery signed with another secret is refused and triggers nothing.
	body := []byte(fmt.Sprintf(`{"event": "updated", "timestamp": "2026-01-01T00:00:00Z", "model": "device", "username": "admin",
		"request_id": "0b0b", "data": {"id": %d, "name": %q, "url": "/api/dcim/devices/%d/"}}`, dev.ID, dev.Name, dev.ID))
	for _, sig := range []string{"", netboxtest.SignWebhook("not-the-secret", body)} {
		req, _ := http.NewRequest("POST", hook, strings.NewReader(string(body)))
		req.Header.Set("Content-Type", "application/json")
		if sig != "" {
			req.Header.Set("X-Hook-Signature", sig)
		}
		resp, err := testClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusUnauthorized && resp.StatusCode != http.StatusForbidden {
			t.Errorf("webhook with signature %q: %d, want 401 or 403", sig, resp.StatusCode)
		}
	}
	time.Sleep(1200 * time.Millisecond) // two webhook windows
	if runs, _ := f.st.Runs(ctx, store.RunQuery{}); len(runs) != 0 {
		t.Fatalf("a refused webhook started %d runs", len(runs))
	}

	// NetBox's own delivery of a change, signed with the secret, starts an
	// export of just that device.
	if err := f.nb.SetWebhook(hook, testSecret); err != nil {
		t.Fatal(err)
	}
	if _, err := f.nb.UpdateDevice(dev.ID, func(d *netboxtest.Device) { d.Description = "changed" }); err != nil {
		t.Fatal(err)
	}
	deliveries := f.nb.Deliveries()
	if len(deliveries) != 1 || deliveries[0].Status != http.StatusNoContent {
		t.Fatalf("deliveries = %+v, want one answered 204", deliveries)
	}
	run := waitExports(t, f.st, 1)
	if run.Trigger != store.TriggerWebhook || run.Status != store.RunSucceeded || run.Counts.Selected != 1 || run.Counts.Added != 1 {
		t.Errorf("run = %+v, want a succeeded webhook run of one address", run)
	}
	devs := f.wug.Devices()
	if len(devs) != 1 || !strings.HasPrefix(devs[0].Name, dev.Name) {
		t.Errorf("WUG devices = %+v, want only %q", devs, dev.Name)
	}
	_, metrics := do(t, "GET", f.srv.URL+"/metrics", "", "")
	if v, _ := metricValue(metrics, "wugsync_webhook_events_total", "kind", "device", "action", "updated"); v != 1 {
		t.Errorf("wugsync_webhook_events_total = %v, want 1", v)
	}

	// Changes within one window are coalesced into one export of just the
	// objects they touched.
	plain := plainDevices(f.nb)
	if len(plain) < 3 {
		t.Fatalf("the fake has %d plain devices, want 3", len(plain))
	}
	for _, d := range []netboxtest.Device{plain[1], plain[2], plain[1]} {
		if _, err := f.nb.UpdateDevice(d.ID, func(d *netboxtest.Device) { d.Comments += "." }); err != nil {
			t.Fatal(err)
		}
	}
	run = waitExports(t, f.st, 2)
	want := map[string][]string{"objects": {fmt.Sprintf("device:%d", plain[1].ID), fmt.Sprintf("device:%d", plain[2].ID)}}
	if diff := cmp.Diff(want, run.Filters); diff != "" || run.Trigger != store.TriggerWebhook || run.Counts.Added != 2 {
		t.Errorf("second webhook run %+v; filters (-want +got):\n%s", run, diff)
	}
	time.Sleep(1200 * time.Millisecond) // two more windows: no further run
	if runs, _ := f.st.Runs(ctx, store.RunQuery{Kind: store.RunExport}); len(runs) != 2 {
		t.Errorf("%d export runs, want 2", len(runs))
	}
}

// waitExports waits until the store holds n export runs and returns the
// newest once it has finished.
func waitExports(t *testing.T, st store.Store, n int) store.Run {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		runs, err := st.Runs(context.Background(), store.RunQuery{Kind: store.RunExport})
		if err != nil {
			t.Fatal(err)
		}
		if len(runs) >= n {
			return waitRun(t, st, runs[0].ID)
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("fewer than %d export runs after 10s", n)
	return store.Run{}
}

func TestMetricsExposed(t *testing.T) {
	t.Parallel()
	f := newFixture(t, 10)
	status, ans := doJSON(t, "POST", f.srv.URL+"/api/plugins/wug-sync/connections/1/export/", testToken, "")
	if status != http.StatusAccepted {
		t.Fatalf("export: %d %v", status, ans)
	}
	run := waitRun(t, f.st, ans["run_id"].(string))
	// The scheduler reports the result just after recording it.
	var text []byte
	for range 100 {
		_, text = do(t, "GET", f.srv.URL+"/metrics", "", "")
		if _, ok := metricValue(text, "wugsync_export_runs_total"); ok {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	checks := []struct {
		name   string
		labels []string
		want   func(float64) bool
	}{
		{"wugsync_export_runs_total", []string{"connection", "main", "status", "succeeded"}, func(v float64) bool { return v == 1 }},
		{"wugsync_export_items_total", []string{"connection", "main", "outcome", "added"}, func(v float64) bool { return v == float64(run.Counts.Added) }},
		{"wugsync_export_run_duration_seconds_count", []string{"connection", "main"}, func(v float64) bool { return v == 1 }},
		{"wugsync_http_client_requests_total", []string{"server", "wug", "connection", "main", "code", "200"}, func(v float64) bool { return v >= 3 }},
		{"wugsync_http_client_requests_total", []string{"server", "netbox", "code", "200"}, func(v float64) bool { return v >= 1 }},
		{"wugsync_http_client_request_duration_seconds_count", []string{"server", "netbox"}, func(v float64) bool { return v >= 1 }},
		{"wugsync_http_client_request_duration_seconds_count", []string{"server", "wug"}, func(v float64) bool { return v >= 3 }},
		{"wugsync_http_client_retries_total", nil, func(v float64) bool { return v == 0 }},
		{"wugsync_records", []string{"connection", "main", "status", "exported"}, func(v float64) bool { return v == float64(run.Counts.Added) }},
		{"wugsync_scan_backlog", []string{"connection", "main"}, func(v float64) bool { return v == 0 }},
		{"wugsync_export_in_progress", []string{"connection", "main"}, func(v float64) bool { return v == 0 }},
		{"wugsync_store_up", nil, func(v float64) bool { return v == 1 }},
		{"wugsync_api_requests_total", []string{"handler", "export", "code", "202"}, func(v float64) bool { return v == 1 }},
		{"go_goroutines", nil, func(v float64) bool { return v > 0 }},
	}
	for _, c := range checks {
		v, ok := metricValue(text, c.name, c.labels...)
		if !ok || !c.want(v) {
			t.Errorf("%s%v = %v (present %v)", c.name, c.labels, v, ok)
		}
	}
}

func TestMetricsCountRetries(t *testing.T) {
	t.Parallel()
	f := newFixture(t, 10)
	f.nb.FailNext(netboxtest.Fault{Route: netboxtest.RouteAny, Status: http.StatusServiceUnavailable, Times: 1})
	status, ans := doJSON(t, "POST", f.srv.URL+"/api/plugins/wug-sync/connections/1/export/", testToken, "")
	if status != http.StatusAccepted {
		t.Fatalf("export: %d %v", status, ans)
	}
	if run := waitRun(t, f.st, ans["run_id"].(string)); run.Status != store.RunSucceeded {
		t.Fatalf("run = %+v", run)
	}
	_, text := do(t, "GET", f.srv.URL+"/metrics", "", "")
	if v, _ := metricValue(text, "wugsync_http_client_retries_total", "server", "netbox"); v != 1 {
		t.Errorf("NetBox retries = %v, want 1", v)
	}
	if v, _ := metricValue(text, "wugsync_http_client_requests_total", "server", "netbox", "code", "503"); v != 1 {
		t.Errorf("NetBox 503 answers = %v, want 1", v)
	}
}

// plainDevices are the fake's active devices without awkward data that
// have a primary IPv4 address: those a default selection exports.
func plainDevices(nb *netboxtest.Server) []netboxtest.Device {
	var out []netboxtest.Device
	for _, d := range nb.Devices() {
		if d.Quirks == 0 && d.PrimaryIP4 != 0 && d.Status == "active" {
			out = append(out, d)
		}
	}
	return out
}

func TestScanFallbackFollowedByTheScanMonitor(t *testing.T) {
	t.Parallel()
	f := newFixtureWith(t, 20, "    attempts: 1\n    scan_interval_minutes: 0.005\n", wugtest.WithScanDelay(time.Hour))
	for _, d := range plainDevices(f.nb) {
		ip, _ := f.nb.IPAddress(d.PrimaryIP4)
		f.wug.SetReachable(ip.Address.Addr().String())
	}
	// WUG refuses the template batch: auto_scan_exported_ips hands the
	// addresses to a discovery scan instead.
	f.wug.FailNext(wugtest.Fault{Route: "PATCH /api/v1/devices/-/config/template", Status: http.StatusBadRequest, Times: 1})
	status, ans := doJSON(t, "POST", f.srv.URL+"/api/plugins/wug-sync/connections/1/export/", testToken, "")
	if status != http.StatusAccepted {
		t.Fatalf("export: %d %v", status, ans)
	}
	run := waitRun(t, f.st, ans["run_id"].(string))
	if run.Counts.Scanned == 0 || run.Counts.Added != 0 {
		t.Fatalf("run = %+v, want every add turned into a scan", run)
	}
	backlog := func() float64 {
		_, text := do(t, "GET", f.srv.URL+"/metrics", "", "")
		v, _ := metricValue(text, "wugsync_scan_backlog", "connection", "main")
		return v
	}
	if got := backlog(); got != float64(run.Counts.Scanned) {
		t.Errorf("scan backlog while WUG scans = %v, want %d", got, run.Counts.Scanned)
	}

	// The scan monitor, every 0.3 s, sees the scans finish and links what
	// they found.
	f.wug.CompleteScans()
	deadline := time.Now().Add(15 * time.Second)
	for backlog() != 0 && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	counts, err := f.st.CountByStatus(context.Background(), "main")
	if err != nil {
		t.Fatal(err)
	}
	if counts[store.StatusScanTriggered] != 0 || counts[store.StatusScanCompleted] != run.Counts.Scanned {
		t.Errorf("records by status = %v, want %d scan_completed", counts, run.Counts.Scanned)
	}
	if monitors, _ := f.st.Runs(context.Background(), store.RunQuery{Kind: store.RunScanMonitor}); len(monitors) == 0 {
		t.Error("no scan-monitor run was recorded")
	}
}

func TestTriggerWaitsForTheSchedulerToStart(t *testing.T) {
	t.Parallel()
	nb := netboxtest.NewServer(t, netboxtest.WithDevices(10))
	wg := wugtest.NewServer(t, wugtest.WithPlainHTTP())
	cfg, err := ParseConfig([]byte(configText(nb.URL, wg.URL, "")), fixtureEnv())
	if err != nil {
		t.Fatal(err)
	}
	st := memory.New()
	defer st.Close()
	svc, err := newService(cfg, st, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(svc.handler())
	defer srv.Close()
	stopped := make(chan func(), 1)
	time.AfterFunc(200*time.Millisecond, func() { stopped <- svc.runScheduler() })
	status, ans := doJSON(t, "POST", srv.URL+"/api/plugins/wug-sync/connections/1/export/", testToken, "")
	if status != http.StatusAccepted {
		t.Errorf("export before the scheduler started: %d %v, want 202 once it has", status, ans)
	} else {
		waitRun(t, st, ans["run_id"].(string))
	}
	(<-stopped)()
	// Once the scheduler has stopped, triggers are refused.
	status, ans = doJSON(t, "POST", srv.URL+"/api/plugins/wug-sync/connections/1/export/", testToken, "")
	if status != http.StatusServiceUnavailable || !strings.Contains(ans["reason"].(string), "shutting down") {
		t.Errorf("export after the scheduler stopped: %d %v, want 503", status, ans)
	}
}

// TestStatusSizeBoundedAfterBulkExport: an export-status answer stays small
// after a bulk export of thousands of addresses: runs record a sample of
// their addresses and the count, not every address.
func TestStatusSizeBoundedAfterBulkExport(t *testing.T) {
	t.Parallel()
	const n = 400
	f := newFixture(t, n)
	var addrs []string
	for _, d := range plainDevices(f.nb) {
		ip, ok := f.nb.IPAddress(d.PrimaryIP4)
		if ok {
			addrs = append(addrs, ip.Address.Addr().String())
		}
	}
	if len(addrs) < n/2 {
		t.Fatalf("only %d addresses in the fake NetBox", len(addrs))
	}
	body, _ := json.Marshal(map[string]any{"connection": "main", "addresses": addrs})
	status, ans := doJSON(t, "POST", f.srv.URL+"/api/plugins/wug-sync/ip-exports/bulk-export/", testToken, string(body))
	if status != http.StatusAccepted {
		t.Fatalf("bulk export: %d %v", status, ans)
	}
	run := waitRun(t, f.st, ans["run_id"].(string))
	if run.Counts.Added != len(addrs) {
		t.Fatalf("bulk run added %d of %d", run.Counts.Added, len(addrs))
	}
	status, b := do(t, "GET", f.srv.URL+"/api/plugins/wug-sync/connections/main/export-status/", testToken, "")
	if status != http.StatusOK {
		t.Fatalf("status: %d %s", status, b)
	}
	// The answer with the run's sample of 20 addresses is some 1.5 KiB;
	// with its full address list (some 12 bytes an address) it would be
	// over 3 KiB.
	if len(b) > 3<<10 {
		t.Errorf("export-status answer is %d bytes after a %d-address bulk export, want at most %d", len(b), len(addrs), 3<<10)
	}
	t.Logf("export-status answer: %d bytes after a %d-address bulk export", len(b), len(addrs))
	// The library records at most 20 values a filter (the first ones).
	const maxRecordedFilterValues = 20
	var st struct {
		LastExport struct {
			Filters map[string][]string `json:"filters"`
		} `json:"last_export"`
	}
	if err := json.Unmarshal(b, &st); err != nil {
		t.Fatal(err)
	}
	f1 := st.LastExport.Filters
	if len(f1["ips"]) != maxRecordedFilterValues || len(f1["ips_total"]) != 1 || f1["ips_total"][0] != strconv.Itoa(len(addrs)) {
		t.Errorf("last export's filters: %d addresses, total %v; want a sample of %d and the total %d",
			len(f1["ips"]), f1["ips_total"], maxRecordedFilterValues, len(addrs))
	}
}

// TestStatusAndTriggerAfterACrash: a run left "running" by a process on
// this host that is gone (killed) is shown interrupted, not in progress,
// and a trigger starts a new run at once instead of answering 409 naming
// the dead run.
func TestStatusAndTriggerAfterACrash(t *testing.T) {
	t.Parallel()
	if _, err := os.Readlink("/proc/self/ns/pid"); err != nil {
		t.Skip("no PID namespace to judge a holder's process by")
	}
	f := newFixture(t, 10)
	ctx := context.Background()
	// A process that has exited, as a killed service would have.
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	if err := cmd.Run(); err != nil {
		t.Fatal(err)
	}
	ns, _ := os.Readlink("/proc/self/ns/pid")
	ns = strings.TrimSuffix(strings.TrimPrefix(ns, "pid:["), "]")
	host, _ := os.Hostname()
	dead := fmt.Sprintf("%s/%d/%s/0badf00d#1", host, cmd.Process.Pid, ns)
	l, err := f.st.AcquireLease(ctx, "wugsync/export/main", dead, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	l.ExpiresAt = time.Time{}
	crashed, err := f.st.BeginRun(ctx, store.Run{Connection: "main", Kind: store.RunExport, Trigger: store.TriggerSchedule, Lease: l})
	if err != nil {
		t.Fatal(err)
	}
	base := f.srv.URL + "/api/plugins/wug-sync/"

	status, st := doJSON(t, "GET", base+"connections/main/export-status/", testToken, "")
	last, _ := st["last_export"].(map[string]any)
	if status != http.StatusOK || st["in_progress"] != false || last["id"] != crashed.ID || last["status"] != "interrupted" {
		t.Errorf("status after the crash: %d in_progress=%v last_export=%v; want the crashed run interrupted", status, st["in_progress"], last)
	}
	status, ans := doJSON(t, "POST", base+"connections/main/export/", testToken, "")
	if status != http.StatusAccepted {
		t.Fatalf("trigger after the crash: %d %v, want 202", status, ans)
	}
	if run := waitRun(t, f.st, ans["run_id"].(string)); run.Status != store.RunSucceeded || f.wug.DeviceCount() != run.Counts.Added {
		t.Errorf("run after the crash: %+v; WUG holds %d devices", run, f.wug.DeviceCount())
	}
}
