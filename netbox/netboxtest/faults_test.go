package netboxtest_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	gonetbox "github.com/netbox-community/go-netbox/v4"

	"github.com/wugsync/wugsync/netbox/netboxtest"
)

func TestFailNext(t *testing.T) {
	t.Parallel()
	s := netboxtest.NewServer(t)
	s.FailNext(netboxtest.Fault{Route: netboxtest.RouteDevices, Status: http.StatusServiceUnavailable, Times: 2, RetryAfter: 1500 * time.Millisecond})
	s.FailNext(netboxtest.Fault{Route: netboxtest.RouteDevices, Status: http.StatusInternalServerError})
	var got []int
	var retryAfter []string
	for range 4 {
		req, _ := http.NewRequest(http.MethodGet, s.URL+"/api/dcim/devices/", nil)
		req.Header.Set("Authorization", "Token "+s.Token)
		resp, err := s.HTTPClient().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		got = append(got, resp.StatusCode)
		retryAfter = append(retryAfter, resp.Header.Get("Retry-After"))
	}
	if want := []int{503, 503, 500, 200}; !slices.Equal(got, want) {
		t.Errorf("statuses %v, want %v", got, want)
	}
	if want := []string{"2", "2", "", ""}; !slices.Equal(retryAfter, want) {
		t.Errorf("Retry-After %q, want %q", retryAfter, want)
	}
	if status, _ := fetch(t, s, "/api/status/"); status != 200 {
		t.Errorf("another route failed: %d", status)
	}
	if n := s.Count(netboxtest.RouteDevices); n != 4 {
		t.Errorf("Count(RouteDevices) = %d, want 4", n)
	}
	if n := s.Count(netboxtest.RouteAny); n != 5 {
		t.Errorf("Count(RouteAny) = %d, want 5", n)
	}

	// A fault on every route, seen through go-netbox: the status survives.
	s.FailNext(netboxtest.Fault{Route: netboxtest.RouteAny, Status: http.StatusInternalServerError, Times: 1})
	_, resp, err := goNetBox(s).DcimAPI.DcimDevicesRetrieve(context.Background(), 1).Execute()
	var apiErr *gonetbox.GenericOpenAPIError
	if !errors.As(err, &apiErr) || resp.StatusCode != 500 || !strings.Contains(string(apiErr.Body()), `"exception"`) {
		t.Errorf("injected 500 through go-netbox: %v (%v)", err, resp)
	}
	if _, _, err := goNetBox(s).DcimAPI.DcimDevicesRetrieve(context.Background(), 1).Execute(); err != nil {
		t.Errorf("after the fault: %v", err)
	}

	s.FailNext(netboxtest.Fault{Route: netboxtest.RouteStatus, Status: http.StatusBadGateway, Times: 5})
	s.DropNext(netboxtest.RouteAny, 3)
	s.ClearFaults()
	if status, _ := fetch(t, s, "/api/status/"); status != http.StatusOK {
		t.Errorf("after ClearFaults: %d", status)
	}
}

func TestDropNext(t *testing.T) {
	t.Parallel()
	s := netboxtest.NewServer(t)
	s.DropNext(netboxtest.RouteStatus, 1)
	req, _ := http.NewRequest(http.MethodGet, s.URL+"/api/status/", nil)
	req.Header.Set("Authorization", "Token "+s.Token)
	if resp, err := s.HTTPClient().Do(req); err == nil {
		resp.Body.Close()
		t.Fatalf("dropped request answered %d", resp.StatusCode)
	}
	if status, _ := fetch(t, s, "/api/status/"); status != 200 {
		t.Errorf("after the drop: %d", status)
	}
}

func TestLatencyAndRequestLog(t *testing.T) {
	t.Parallel()
	s := netboxtest.NewServer(t)
	s.SetLatency(60*time.Millisecond, 80*time.Millisecond)
	start := time.Now()
	fetch(t, s, "/api/ipam/ip-addresses/?device_id=1&device_id=2")
	if d := time.Since(start); d < 60*time.Millisecond {
		t.Errorf("request took %v with 60ms latency", d)
	}
	s.SetLatency(0)
	fetchAuth(t, s, "/api/dcim/devices/?status=active", "Token wrong")
	log := s.Requests()
	if len(log) != 2 {
		t.Fatalf("%d requests logged, want 2", len(log))
	}
	if log[0].Route != netboxtest.RouteIPAddresses || len(log[0].Query["device_id"]) != 2 || log[0].Status != 200 {
		t.Errorf("first request logged as %+v", log[0])
	}
	if log[1].Route != netboxtest.RouteDevices || log[1].Status != 403 {
		t.Errorf("refused request logged as %+v", log[1])
	}
	s.ResetRequests()
	if len(s.Requests()) != 0 || s.Count(netboxtest.RouteAny) != 0 {
		t.Error("ResetRequests left requests behind")
	}
}

func TestReadOnly(t *testing.T) {
	t.Parallel()
	s := netboxtest.NewServer(t)
	req, _ := http.NewRequest(http.MethodPost, s.URL+"/api/dcim/devices/", strings.NewReader(`{}`))
	req.Header.Set("Authorization", "Token "+s.Token)
	resp, err := s.HTTPClient().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed || string(body) != `{"detail":"Method \"POST\" not allowed."}` {
		t.Errorf("POST: %d %s", resp.StatusCode, body)
	}
}

func TestGatewayFaultsAreHTML(t *testing.T) {
	t.Parallel()
	s := netboxtest.NewServer(t)
	s.FailNext(netboxtest.Fault{Route: netboxtest.RouteDevices, Status: http.StatusGatewayTimeout})
	_, resp, err := goNetBox(s).DcimAPI.DcimDevicesList(context.Background()).Execute()
	var apiErr *gonetbox.GenericOpenAPIError
	if !errors.As(err, &apiErr) || err.Error() != "504 Gateway Timeout" || resp.Header.Get("Content-Type") != "text/html" {
		t.Errorf("504: %v, %v", err, resp.Header)
	}
}

func TestClose(t *testing.T) {
	t.Parallel()
	s := netboxtest.NewServer(t)
	s.Close()
	if _, _, err := goNetBox(s).StatusAPI.StatusRetrieve(context.Background()).Execute(); err == nil {
		t.Error("a closed server answered")
	}
}
