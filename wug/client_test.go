package wug_test

import (
	"context"
	"crypto/tls"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/jarcoal/httpmock"

	"github.com/wugsync/wugsync/wug"
)

func TestNewClientOptions(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		base    string
		opts    []wug.Option
		wantErr string
		wantURL string
	}{
		{name: "plain", base: "https://wug.example.com:9644", wantURL: "https://wug.example.com:9644/api/v1"},
		{name: "prefix given", base: "https://wug.example.com:9644/api/v1/", wantURL: "https://wug.example.com:9644/api/v1"},
		{name: "sub path", base: "http://127.0.0.1:8734/wug", wantURL: "http://127.0.0.1:8734/wug/api/v1"},
		{name: "no scheme", base: "wug.example.com", wantErr: "scheme must be http or https"},
		{name: "user info", base: "https://u:p@wug", wantErr: "user info"},
		{name: "bad scheme hides password", base: "ftp://admin:s3cr3t@wug", wantErr: `"ftp://wug": scheme must be http or https`},
		{name: "unparseable hides password", base: "https://admin:s3cr3t@wug:port", wantErr: "invalid port"},
		{name: "empty password", base: "https://wug", opts: []wug.Option{wug.WithCredentials("u", "")}, wantErr: "empty password"},
		{name: "bad pin", base: "https://wug", opts: []wug.Option{wug.WithPinnedCertificate("zz")}, wantErr: "not a hex SHA-256"},
		{name: "tls twice", base: "https://wug", opts: []wug.Option{wug.WithTLSConfig(&tls.Config{}), wug.WithInsecureSkipVerify()}, wantErr: "cannot be combined"},
		{name: "batch size", base: "https://wug", opts: []wug.Option{wug.WithBatchSize(0)}, wantErr: "not positive"},
		{name: "negative rate", base: "https://wug", opts: []wug.Option{wug.WithRateLimit(-1, 1)}, wantErr: "negative"},
		{name: "bad retry", base: "https://wug", opts: []wug.Option{wug.WithRetry(wug.RetryPolicy{MaxRetries: 1, WaitMin: time.Second, WaitMax: time.Millisecond})}, wantErr: "invalid policy"},
		{name: "missing CA file", base: "https://wug", opts: []wug.Option{wug.WithCAFile("/nonexistent.pem")}, wantErr: "read CA file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, err := wug.NewClient(tt.base, tt.opts...)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				if strings.Contains(err.Error(), "s3cr3t") {
					t.Errorf("error reveals the password: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if c.BaseURL() != tt.wantURL {
				t.Errorf("BaseURL = %q, want %q", c.BaseURL(), tt.wantURL)
			}
		})
	}
}

func TestAPIErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		status   int
		body     string
		sentinel error
		code     string
		message  string
	}{
		{"not found", 404, `{"error":{"status":404,"code":"NotFound","message":"Device 5 not found"}}`, wug.ErrNotFound, "NotFound", "Device 5 not found"},
		{"rate limited", 429, `{"message":"slow down"}`, wug.ErrRateLimited, "", "slow down"},
		{"bad request text", 400, "bad things", nil, "", "bad things"},
		{"server error", 500, `{"error":{"status":500,"code":"E","message":"boom"}}`, nil, "E", "boom"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			m := newMockWUG(t)
			m.handle("GET", "/devices/5/status", tt.status, tt.body)
			c := m.client(t)
			_, err := c.Devices.Status(context.Background(), "5")
			var ae *wug.APIError
			if !errors.As(err, &ae) {
				t.Fatalf("err = %v, want *APIError", err)
			}
			want := &wug.APIError{StatusCode: tt.status, Method: "GET", URL: mockBase + "/api/v1/devices/5/status", Code: tt.code, Message: tt.message}
			if diff := cmp.Diff(want, ae); diff != "" {
				t.Errorf("APIError (-want +got):\n%s", diff)
			}
			for _, s := range []error{wug.ErrNotFound, wug.ErrRateLimited, wug.ErrUnauthorized} {
				if got := errors.Is(err, s); got != (s == tt.sentinel) {
					t.Errorf("errors.Is(err, %v) = %v", s, got)
				}
			}
			if !strings.HasPrefix(err.Error(), "wug: Devices.Status: GET "+mockBase+"/api/v1/devices/5/status: ") || strings.Count(err.Error(), "wug: ") != 1 {
				t.Errorf("error text %q does not name the package, the operation and the request once each", err)
			}
		})
	}
}

func TestRetriesThroughClient(t *testing.T) {
	t.Parallel()
	m := newMockWUG(t)
	var n atomic.Int32
	m.mt.RegisterResponder("GET", mockBase+"/api/v1/devices/5", m.authed(func(*http.Request) (*http.Response, error) {
		if n.Add(1) <= 2 {
			return httpmock.NewStringResponse(503, ""), nil
		}
		return httpmock.NewStringResponse(200, `{"data":{"id":"5","name":"core"}}`), nil
	}))
	var events []wug.RetryEvent
	c := m.client(t, wug.WithRateLimit(100, 10), wug.WithHooks(wug.Hooks{OnRetry: func(e wug.RetryEvent) { events = append(events, e) }}))
	d, err := c.Devices.Get(context.Background(), "5")
	if err != nil {
		t.Fatal(err)
	}
	if d.Name != "core" || c.Retries() != 2 || len(events) != 2 {
		t.Errorf("device %+v, retries %d, events %d; want core, 2, 2", d, c.Retries(), len(events))
	}
	if r := c.RateLimit(); r != 25 {
		t.Errorf("rate after two 503s = %v, want 25 (halved twice from 100)", r)
	}
}

// TestScanStartNotRetriedAfter500 checks that a PUT starting a scan is not
// repeated after a 500 (the scan may have started), while other PUTs are.
func TestScanStartNotRetriedAfter500(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, path string
		call       func(*wug.Client) error
		attempts   int
	}{
		{"ScanIP", "/device-groups/0/newDevice", func(c *wug.Client) error {
			_, err := c.Scans.ScanIP(context.Background(), "0", "192.0.2.1", &wug.ScanOptions{ForceAdd: true, ForceCreate: true})
			return err
		}, 1},
		{"Refresh", "/devices/5/refresh", func(c *wug.Client) error {
			_, err := c.Devices.Refresh(context.Background(), "5", nil)
			return err
		}, 1},
		{"PollNow", "/devices/5/poll-now", func(c *wug.Client) error {
			return c.Devices.PollNow(context.Background(), "5")
		}, fastRetry.MaxRetries + 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			m := newMockWUG(t)
			m.handle("PUT", tt.path, 500, `{"error":{"status":500,"code":"Internal","message":"boom"}}`)
			c := m.client(t)
			err := tt.call(c)
			var ae *wug.APIError
			if !errors.As(err, &ae) || ae.StatusCode != 500 {
				t.Errorf("err = %v, want a 500 *APIError", err)
			}
			if n := m.calls("PUT", tt.path); n != tt.attempts {
				t.Errorf("attempts = %d, want %d", n, tt.attempts)
			}
		})
	}
}

func TestConcurrencyCapThroughClient(t *testing.T) {
	t.Parallel()
	m := newMockWUG(t)
	var inFlight, peak atomic.Int32
	m.mt.RegisterResponder("GET", mockBase+"/api/v1/devices/1/status", m.authed(func(*http.Request) (*http.Response, error) {
		n := inFlight.Add(1)
		for p := peak.Load(); n > p && !peak.CompareAndSwap(p, n); p = peak.Load() {
		}
		time.Sleep(3 * time.Millisecond)
		inFlight.Add(-1)
		return httpmock.NewStringResponse(200, `{"data":{"bestState":"Up"}}`), nil
	}))
	c := m.client(t, wug.WithMaxConcurrency(3))
	var wg sync.WaitGroup
	for range 15 {
		wg.Go(func() {
			if _, err := c.Devices.Status(context.Background(), "1"); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if p := peak.Load(); p > 3 {
		t.Errorf("peak in flight = %d, want at most 3", p)
	}
}

func TestEnvelopes(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		body string
		want *wug.CountedResult
	}{
		{"wrapped", `{"data":{"successfulOperations":2,"success":true}}`, &wug.CountedResult{SuccessfulOperations: 2, Success: true}},
		{"bare", `{"successfulOperations":2,"resourcesWithErros":[],"success":true}`, &wug.CountedResult{SuccessfulOperations: 2, ResourcesWithErrors: []string{}, Success: true}},
		{"bare without success", `{"successfulOperations":1}`, &wug.CountedResult{SuccessfulOperations: 1, Success: true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			m := newMockWUG(t)
			m.handle("POST", "/device-groups/3/devices/-", 200, tt.body)
			c := m.client(t)
			got, err := c.Groups.AddDevices(context.Background(), "3", []string{"1", "2"})
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("result (-want +got):\n%s", diff)
			}
		})
	}
}

func TestPartialFailureReported(t *testing.T) {
	t.Parallel()
	m := newMockWUG(t)
	m.handle("PATCH", "/devices/-", 200, `{"data":{"successfulOperations":1,"resourcesWithErros":["13"],"errors":["device 13 is locked"],"success":false}}`)
	m.handle("PUT", "/devices/4/poll-now", 200, `{"data":{"success":false}}`)
	c := m.client(t)
	res, err := c.Devices.DeleteMany(context.Background(), []string{"12", "13"})
	var re *wug.ResultError
	if !errors.As(err, &re) || !errors.Is(err, wug.ErrOperationFailed) {
		t.Fatalf("err = %v, want *ResultError", err)
	}
	want := &wug.ResultError{Op: "Devices.DeleteMany", Succeeded: 1, Failed: []string{"13"}, Messages: []string{"device 13 is locked"}}
	if diff := cmp.Diff(want, re); diff != "" {
		t.Errorf("ResultError (-want +got):\n%s", diff)
	}
	if res == nil || res.SuccessfulOperations != 1 {
		t.Errorf("result = %+v, want it returned with the error", res)
	}
	if err := c.Devices.PollNow(context.Background(), "4"); !errors.Is(err, wug.ErrOperationFailed) {
		t.Errorf("success:false gave %v", err)
	}
}

// pagedDevices serves pages of devices keyed by pageId and records queries.
func pagedDevices(m *mockWUG, pages map[string]string) *[]url.Values {
	var seen []url.Values
	var mu sync.Mutex
	m.mt.RegisterResponder("GET", mockBase+"/api/v1/device-groups/0/devices/-", m.authed(func(req *http.Request) (*http.Response, error) {
		mu.Lock()
		seen = append(seen, req.URL.Query())
		mu.Unlock()
		body, ok := pages[req.URL.Query().Get("pageId")]
		if !ok {
			return httpmock.NewStringResponse(400, `{"error":{"code":"BadPage","message":"unknown pageId"}}`), nil
		}
		return httpmock.NewStringResponse(200, body), nil
	}))
	return &seen
}

func TestPager(t *testing.T) {
	t.Parallel()
	m := newMockWUG(t)
	seen := pagedDevices(m, map[string]string{
		"":   `{"paging":{"pageId":"p0","nextPageId":"p1","size":2},"data":{"devices":[{"id":"1","networkAddress":"10.0.0.1"},{"id":"2","networkAddress":"10.0.0.10"}]}}`,
		"p1": `{"paging":{"pageId":"p1","nextPageId":"p2","size":1},"data":{"devices":[{"id":"3","networkAddress":"10.0.0.100"}]}}`,
		"p2": `{"paging":{"pageId":"p2","size":1},"data":{"devices":[{"id":"4","networkAddress":"10.0.0.1"}]}}`,
	})
	c := m.client(t)
	var ids []string
	for d, err := range c.Devices.List(context.Background(), "0", &wug.ListOptions{Search: "10.0.0.1", View: wug.ViewCard, Limit: 2}) {
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, d.ID)
	}
	if diff := cmp.Diff([]string{"1", "2", "3", "4"}, ids); diff != "" {
		t.Errorf("ids (-want +got):\n%s", diff)
	}
	want := []url.Values{
		{"search": {"10.0.0.1"}, "view": {"card"}, "limit": {"2"}},
		{"search": {"10.0.0.1"}, "view": {"card"}, "limit": {"2"}, "pageId": {"p1"}},
		{"search": {"10.0.0.1"}, "view": {"card"}, "limit": {"2"}, "pageId": {"p2"}},
	}
	if diff := cmp.Diff(want, *seen); diff != "" {
		t.Errorf("queries (-want +got):\n%s", diff)
	}

	found, err := c.Devices.FindByAddress(context.Background(), "10.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	var foundIDs []string
	for _, d := range found {
		foundIDs = append(foundIDs, d.ID)
	}
	if diff := cmp.Diff([]string{"1", "4"}, foundIDs); diff != "" {
		t.Errorf("FindByAddress ids (-want +got):\n%s", diff)
	}
}

func TestPagerStopsOnRepeatedPageID(t *testing.T) {
	t.Parallel()
	m := newMockWUG(t)
	pagedDevices(m, map[string]string{
		"":   `{"paging":{"nextPageId":"p1","size":1},"data":{"devices":[{"id":"1"}]}}`,
		"p1": `{"paging":{"nextPageId":"p1","size":1},"data":{"devices":[{"id":"2"}]}}`,
	})
	c := m.client(t)
	var ids []string
	var lastErr error
	for d, err := range c.Devices.All(context.Background()) {
		if err != nil {
			lastErr = err
			break
		}
		ids = append(ids, d.ID)
	}
	if lastErr == nil || !strings.Contains(lastErr.Error(), `repeated page id "p1"`) {
		t.Errorf("err = %v, want a repeated page id error", lastErr)
	}
	if !slices.Equal(ids, []string{"1", "2"}) {
		t.Errorf("ids = %v", ids)
	}
}

func TestPagerEarlyBreakSendsNoMore(t *testing.T) {
	t.Parallel()
	m := newMockWUG(t)
	seen := pagedDevices(m, map[string]string{
		"": `{"paging":{"nextPageId":"p1","size":2},"data":{"devices":[{"id":"1"},{"id":"2"}]}}`,
	})
	c := m.client(t)
	for range c.Devices.All(context.Background()) {
		break
	}
	if len(*seen) != 1 {
		t.Errorf("pages fetched = %d, want 1", len(*seen))
	}
}

// TestBadInputSendsNothing checks that invalid input fails with a clear
// *InputError before any request (not even a login) is made.
func TestBadInputSendsNothing(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("x", 151)
	good := wug.DeviceTemplate{DisplayName: "ok", Interfaces: []wug.TemplateInterface{{NetworkAddress: "10.0.0.1"}}}
	with := func(f func(*wug.DeviceTemplate)) []wug.DeviceTemplate {
		t := good
		t.Interfaces = slices.Clone(good.Interfaces)
		f(&t)
		return []wug.DeviceTemplate{good, t}
	}
	tests := []struct {
		name string
		call func(*wug.Client) error
		want string
	}{
		{"unparseable IP to find", func(c *wug.Client) error { _, err := c.Devices.FindByAddress(ctx(), "10.0.0.300"); return err }, `invalid address: "10.0.0.300" is not an IP address`},
		{"unparseable IP to add", func(c *wug.Client) error { _, err := c.Devices.AddDeviceByIP(ctx(), "10.0.0", nil); return err }, `invalid ip: "10.0.0" is not an IP address`},
		{"unparseable IP to scan", func(c *wug.Client) error { _, err := c.Scans.ScanIP(ctx(), "0", "300.1.1.1", nil); return err }, `invalid ipOrName: "300.1.1.1" is not an IP address`},
		{"bad host name to scan", func(c *wug.Client) error {
			_, err := c.Scans.ScanIPs(ctx(), "0", []string{"ok.example", "bad name"}, nil)
			return err
		}, `invalid ipOrNames[1]: "bad name" is not a valid host name`},
		{"empty template list", func(c *wug.Client) error { _, err := c.Devices.BulkAdd(ctx(), nil); return err }, "invalid templates: empty list"},
		{"over-long display name", func(c *wug.Client) error {
			_, err := c.Devices.BulkAdd(ctx(), with(func(t *wug.DeviceTemplate) { t.DisplayName = long }))
			return err
		}, "invalid templates[1].displayName: 151 characters, at most 150 allowed"},
		{"template without interface", func(c *wug.Client) error {
			_, err := c.Devices.BulkAdd(ctx(), with(func(t *wug.DeviceTemplate) { t.Interfaces = nil }))
			return err
		}, "invalid templates[1].interfaces: at least one interface is required"},
		{"template with bad address", func(c *wug.Client) error {
			_, err := c.Devices.BulkAdd(ctx(), with(func(t *wug.DeviceTemplate) { t.Interfaces[0].NetworkAddress = "10.0.0.256" }))
			return err
		}, `invalid templates[1].interfaces[0].networkAddress: "10.0.0.256" is not an IP address`},
		{"over-long attribute name", func(c *wug.Client) error {
			_, err := c.Devices.BulkAdd(ctx(), with(func(t *wug.DeviceTemplate) { t.Attributes = []wug.NameValue{{Name: long, Value: "v"}} }))
			return err
		}, "invalid templates[1].attributes[0].name: 151 characters, at most 150 allowed"},
		{"over-long attribute value", func(c *wug.Client) error {
			_, err := c.Devices.UpdateMetadata(ctx(), "1", wug.MetadataUpdate{Attributes: map[string]string{"NetBoxId": strings.Repeat("v", 3001)}})
			return err
		}, "invalid attributes[0].value: 3001 characters, at most 3000 allowed"},
		{"over-long brand", func(c *wug.Client) error {
			_, err := c.Devices.BulkAdd(ctx(), with(func(t *wug.DeviceTemplate) { t.Brand = strings.Repeat("b", 257) }))
			return err
		}, "invalid templates[1].brand: 257 characters, at most 256 allowed"},
		{"over-long custom link value", func(c *wug.Client) error {
			_, err := c.Devices.BulkAdd(ctx(), with(func(t *wug.DeviceTemplate) {
				t.CustomLinks = []wug.NameValue{{Name: "ok", Value: "v"}, {Name: "docs", Value: strings.Repeat("u", 1025)}}
			}))
			return err
		}, "invalid templates[1].customLinks[1].value: 1025 characters, at most 1024 allowed"},
		{"over-long monitor comment", func(c *wug.Client) error {
			_, err := c.Devices.BulkAdd(ctx(), with(func(t *wug.DeviceTemplate) {
				t.ActiveMonitors = []wug.TemplateActiveMonitor{{Comment: long}}
			}))
			return err
		}, "invalid templates[1].activeMonitors[0].comment: 151 characters, at most 150 allowed"},
		{"duplicate attribute", func(c *wug.Client) error {
			_, err := c.Devices.BulkAdd(ctx(), with(func(t *wug.DeviceTemplate) {
				t.Attributes = []wug.NameValue{{Name: "A", Value: "1"}, {Name: "a", Value: "2"}}
			}))
			return err
		}, `invalid templates[1].attributes[1].name: duplicate attribute name "a"`},
		{"bad poll interval", func(c *wug.Client) error {
			_, err := c.Devices.BulkAdd(ctx(), with(func(t *wug.DeviceTemplate) { t.PollInterval = "5" }))
			return err
		}, `invalid templates[1].pollInterval: "5" is not a number of seconds between 10 and 84600`},
		{"duplicate template id", func(c *wug.Client) error {
			_, err := c.Devices.BulkAdd(ctx(), []wug.DeviceTemplate{{TemplateID: "a", DisplayName: "x", Interfaces: good.Interfaces}, {TemplateID: "a", DisplayName: "y", Interfaces: good.Interfaces}})
			return err
		}, `invalid templates[1].templateId: "a" repeats templates[0]`},
		{"over-long display name update", func(c *wug.Client) error {
			return c.Devices.UpdateProperties(ctx(), "1", wug.PropertiesUpdate{DisplayName: &long})
		}, "invalid displayName: 151 characters"},
		{"range too large", func(c *wug.Client) error { _, err := c.Scans.ScanRange(ctx(), "0", "10.0.0.0/21", nil); return err }, "invalid range: 10.0.0.0/21 holds 2048 addresses, more than the limit of 1024"},
		{"range start-end too large", func(c *wug.Client) error {
			_, err := c.Scans.ScanRange(ctx(), "0", "10.0.0.0-10.0.8.0", nil)
			return err
		}, `invalid range: "10.0.0.0-10.0.8.0" holds more than the limit of 1024 addresses`},
		{"IPv6 prefix too large", func(c *wug.Client) error { _, err := c.Scans.ScanRange(ctx(), "0", "2001:db8::/64", nil); return err }, "more than the limit of 1024"},
		{"reversed range", func(c *wug.Client) error {
			_, err := c.Scans.ScanRange(ctx(), "0", "10.0.0.9-10.0.0.1", nil)
			return err
		}, "ends before it starts"},
		{"range not parseable", func(c *wug.Client) error { _, err := c.Scans.ScanRange(ctx(), "0", "10.0.0.1", nil); return err }, "neither start-end nor CIDR"},
		{"empty scan list", func(c *wug.Client) error { _, err := c.Scans.ScanIPs(ctx(), "0", nil, nil); return err }, "invalid ipOrNames: empty list"},
		{"empty delete list", func(c *wug.Client) error { _, err := c.Devices.DeleteMany(ctx(), nil); return err }, "invalid devices: empty list"},
		{"group path with empty name", func(c *wug.Client) error { _, err := c.Groups.EnsurePath(ctx(), "My Network//Site"); return err }, "empty name at position 2"},
		{"maintenance reason too long", func(c *wug.Client) error {
			return c.Devices.SetMaintenance(ctx(), "1", wug.Maintenance{Enabled: true, Reason: strings.Repeat("r", 251)})
		}, "invalid reason: 251 characters, at most 250 allowed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			m := newMockWUG(t)
			m.mt.RegisterNoResponder(httpmock.NewStringResponder(200, `{"data":{}}`))
			c := m.client(t)
			err := tt.call(c)
			var ie *wug.InputError
			if !errors.As(err, &ie) {
				t.Fatalf("err = %v, want *InputError", err)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %q, want it to contain %q", err, tt.want)
			}
			if n := m.mt.GetTotalCallCount(); n != 0 {
				t.Errorf("%d requests sent, want none", n)
			}
		})
	}
}

func ctx() context.Context { return context.Background() }

func TestExpandRange(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   string
		want []string
	}{
		{"10.0.0.0/30", []string{"10.0.0.1", "10.0.0.2"}},
		{"10.0.0.4/31", []string{"10.0.0.4", "10.0.0.5"}},
		{"10.0.0.9/32", []string{"10.0.0.9"}},
		{"10.0.0.254-10.0.1.1", []string{"10.0.0.254", "10.0.0.255", "10.0.1.0", "10.0.1.1"}},
		{" 2001:db8::1 - 2001:db8::3 ", []string{"2001:db8::1", "2001:db8::2", "2001:db8::3"}},
		{"2001:db8::/126", []string{"2001:db8::", "2001:db8::1", "2001:db8::2", "2001:db8::3"}},
	}
	for _, tt := range tests {
		got, err := wug.ExpandRange(tt.in, 1024)
		if err != nil {
			t.Errorf("ExpandRange(%q): %v", tt.in, err)
			continue
		}
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("ExpandRange(%q) (-want +got):\n%s", tt.in, diff)
		}
	}
	if got, err := wug.ExpandRange("10.0.0.0/22", 1022); err != nil || len(got) != 1022 {
		t.Errorf("a /22 has 1022 hosts: got %d, %v", len(got), err)
	}
}

func TestWithHTTPClientBuildsStackOverIt(t *testing.T) {
	t.Parallel()
	m := newMockWUG(t)
	m.handle("GET", "/devices/5", 503, `{"message":"busy"}`)
	c, err := wug.NewClient(mockBase, wug.WithCredentials(mockUser, mockPassword),
		wug.WithHTTPClient(&http.Client{Transport: m.mt}), wug.WithRetry(fastRetry), wug.WithRateLimit(0, 0))
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Devices.Get(context.Background(), "5")
	var ae *wug.APIError
	if !errors.As(err, &ae) || ae.StatusCode != 503 {
		t.Fatalf("err = %v, want the 503", err)
	}
	if n := m.calls("GET", "/devices/5"); n != fastRetry.MaxRetries+1 || c.Retries() != int64(fastRetry.MaxRetries) {
		t.Errorf("calls %d, retries %d; want the retry layer over the caller's transport", n, c.Retries())
	}
	_, err = wug.NewClient(mockBase, wug.WithHTTPClient(&http.Client{Transport: m.mt}), wug.WithInsecureSkipVerify())
	if err == nil || !strings.Contains(err.Error(), "wug: WithInsecureSkipVerify cannot apply to the *httpmock.MockTransport from WithHTTPClient") {
		t.Errorf("TLS option on a mock transport: %v, want an error naming both options", err)
	}
}

func TestWithTimeout(t *testing.T) {
	t.Parallel()
	m := newMockWUG(t)
	m.mt.RegisterResponder("GET", mockBase+"/api/v1/devices/5", m.authed(func(req *http.Request) (*http.Response, error) {
		<-req.Context().Done()
		return nil, req.Context().Err()
	}))
	c := m.client(t, wug.WithTimeout(50*time.Millisecond))
	start := time.Now()
	_, err := c.Devices.Get(context.Background(), "5")
	if err == nil || time.Since(start) > 5*time.Second {
		t.Errorf("err = %v after %v, want a timeout after about 50ms", err, time.Since(start))
	}
}
