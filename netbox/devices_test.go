package netbox

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"net/netip"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/jarcoal/httpmock"
)

// equatePrefix lets cmp compare addresses.
var equatePrefix = cmpopts.EquateComparable(netip.Prefix{})

// collect drains a Devices stream into devices and errors.
func collect(t testing.TB, c *Client, sel Selector) ([]Device, []error) {
	t.Helper()
	var devs []Device
	var errs []error
	for d, err := range c.Devices(t.Context(), sel) {
		if err != nil {
			errs = append(errs, err)
			continue
		}
		devs = append(devs, d)
	}
	return devs, errs
}

// refDevice is the reference device 42 (netbox-api.md §6.1) with the
// reference address 101 (§6.2) as NetBox would stream it.
func refDevice() Device {
	ip101 := IPAddress{ID: 101, Address: netip.MustParsePrefix("192.0.2.10/24"), Interface: "et-0/0/0",
		Status: "active", DNSName: "ams1-edge-01.example.net"}
	return Device{
		Kind: KindDevice, ID: 42, Name: "ams1-edge-01", Display: "ams1-edge-01",
		URL:          testBase + "/dcim/devices/42/",
		Region:       Ref{ID: 9, Name: "Europe", Slug: "europe"},
		Site:         Ref{ID: 1, Name: "AMS1", Slug: "ams1"},
		Location:     Ref{ID: 3, Name: "Hall A", Slug: "hall-a"},
		Rack:         Ref{ID: 11, Name: "R101"},
		Position:     40,
		Role:         Ref{ID: 2, Name: "Edge Router", Slug: "edge-router"},
		Tenant:       Ref{ID: 5, Name: "Acme Corp", Slug: "acme"},
		Platform:     Ref{ID: 4, Name: "Junos", Slug: "junos"},
		Manufacturer: Ref{ID: 3, Name: "Juniper", Slug: "juniper"},
		Model:        Ref{ID: 7, Name: "MX204", Slug: "mx204"},
		Serial:       "JN12AB34CDEF", AssetTag: "AT-000042", Status: "active", StatusLabel: "Active",
		Tags:         []Ref{{ID: 1, Name: "monitored", Slug: "monitored"}},
		CustomFields: map[string]any{"snmp_location": "AMS1 Hall A R101", "ssh_port": float64(22)},
		PrimaryIPv4:  ip101,
		OOBIP:        IPAddress{ID: 102, Address: netip.MustParsePrefix("198.51.100.10/24")},
		IPs:          []IPAddress{ip101},
		LastUpdated:  mustTime("2025-05-02T11:04:12.120411Z"),
	}
}

// TestDevicesReferencePayloads reads the reference device and address on
// each version path: NetBox before 4.0 is asked to exclude the config
// context, later ones for the fields a Device takes.
func TestDevicesReferencePayloads(t *testing.T) {
	t.Parallel()
	eachVersion(t, "", func(t *testing.T, c *Client, mt *httpmock.MockTransport, fields bool) {
		dev := listedDevice(t)
		var devQuery url.Values
		var auth string
		mt.RegisterResponder(http.MethodGet, testBase+"/api/dcim/devices/", func(r *http.Request) (*http.Response, error) {
			devQuery, auth = r.URL.Query(), r.Header.Get("Authorization")
			return jsonResponse(200, envelope(t, 1, false, dev)), nil
		})
		ipQuery := answerQuery(mt, "/api/ipam/ip-addresses/", envelope(t, 1, false, object(t, "ip_address_101.json")))
		siteQuery := answerQuery(mt, "/api/dcim/sites/", envelope(t, 1, false, siteJSON(1, true)))

		devs, errs := collect(t, c, Selector{})
		if len(errs) > 0 {
			t.Fatal(errs)
		}
		if diff := cmp.Diff([]Device{refDevice()}, devs, equatePrefix); diff != "" {
			t.Errorf("devices (-want +got):\n%s", diff)
		}
		wantDev := view(KindDevice, fields)
		wantDev["limit"], wantDev["ordering"], wantDev["status"] = []string{"1000"}, []string{"id"}, []string{"active"}
		if diff := cmp.Diff(wantDev, devQuery); diff != "" {
			t.Errorf("device query (-want +got):\n%s", diff)
		}
		wantIP := url.Values{"device_id": {"42"}, "limit": {"1000"}, "ordering": {"id"}}
		wantSite := url.Values{"id": {"1"}, "limit": {"1000"}}
		if fields {
			wantIP["fields"] = []string{"id,address,vrf,status,role,dns_name,assigned_object"}
			wantSite["fields"] = []string{"id,region"}
		}
		if diff := cmp.Diff(wantIP, *ipQuery); diff != "" {
			t.Errorf("IP query (-want +got):\n%s", diff)
		}
		if diff := cmp.Diff(wantSite, *siteQuery); diff != "" {
			t.Errorf("site query (-want +got):\n%s", diff)
		}
		if want := "Token 0123456789abcdef0123456789abcdef01234567"; auth != want {
			t.Errorf("Authorization = %q, want %q", auth, want)
		}
		if tr := c.Traffic(); tr.Requests != 4 || tr.Objects != 1 || tr.Bytes < int64(len(envelope(t, 1, false, dev))) {
			t.Errorf("traffic %+v, want 4 requests, 1 object and at least the device page's bytes", tr)
		}
	})
}

// TestDevicesVersionOnce checks that the version is read once per client,
// and that a NetBox whose status endpoint answers an error is read with
// exclude=config_context, which every version takes.
func TestDevicesVersionOnce(t *testing.T) {
	t.Parallel()
	for _, status := range []int{200, 404} {
		t.Run(strconv.Itoa(status), func(t *testing.T) {
			t.Parallel()
			c, mt := newMockClient(t)
			var statusCalls atomic.Int32
			mt.RegisterResponder(http.MethodGet, testBase+"/api/status/", func(*http.Request) (*http.Response, error) {
				statusCalls.Add(1)
				if status != 200 {
					return jsonResponse(status, []byte(`{"detail": "Not found."}`)), nil
				}
				return jsonResponse(200, readTestdata(t, "status.json")), nil
			})
			var queries []url.Values
			mt.RegisterResponder(http.MethodGet, testBase+"/api/dcim/devices/", func(r *http.Request) (*http.Response, error) {
				queries = append(queries, r.URL.Query())
				return jsonResponse(200, envelope(t, 0, false)), nil
			})
			for range 3 {
				if _, errs := collect(t, c, Selector{}); len(errs) > 0 {
					t.Fatal(errs)
				}
			}
			if statusCalls.Load() != 1 {
				t.Errorf("/api/status/ read %d times, want once", statusCalls.Load())
			}
			for _, q := range queries {
				if got, want := q.Has("fields"), status == 200; got != want || q.Has("exclude") == want {
					t.Errorf("query %v: fields= %v, want %v", q, got, want)
				}
			}
		})
	}
}

func TestSelectorQuery(t *testing.T) {
	t.Parallel()
	yes := true
	since := time.Date(2025, 5, 1, 12, 0, 0, 0, time.FixedZone("CEST", 2*3600))
	tests := []struct {
		name string
		sel  Selector
		want url.Values
	}{
		{"default", Selector{}, url.Values{"status": {"active"}}},
		{"any status", Selector{Statuses: []string{AnyStatus}}, url.Values{}},
		{"omit custom fields", Selector{OmitCustomFields: true, CustomFields: map[string][]string{"owner": {"ops"}}},
			url.Values{"status": {"active"}, "cf_owner": {"ops"}}},
		{"everything", Selector{
			SiteIDs: []int64{1, 2}, Sites: []string{"ams1"}, LocationIDs: []int64{3}, Locations: []string{"hall-a"},
			RoleIDs: []int64{4}, Roles: []string{"edge-router"}, Tags: []string{"monitored", "prod"}, TagIDs: []int64{8, 9},
			ExcludeTags: []string{"no-monitor"}, Statuses: []string{"active", "staged"},
			TenantIDs: []int64{5}, Tenants: []string{"acme"}, NoTenant: true, PlatformIDs: []int64{6},
			Platforms: []string{"junos"}, ManufacturerIDs: []int64{7}, Manufacturers: []string{"juniper"},
			CustomFields: map[string][]string{"snmp_enabled": {"true"}, "owner": {"neteng", "ops"}},
			HasPrimaryIP: &yes, ChangedSince: since, IDs: []int64{42, 43},
		}, url.Values{
			"site_id": {"1", "2"}, "site": {"ams1"}, "location_id": {"3"}, "location": {"hall-a"},
			"role_id": {"4"}, "role": {"edge-router"}, "tag": {"monitored", "prod"}, "tag_id": {"8", "9"}, "tag__n": {"no-monitor"},
			"status": {"active", "staged"}, "tenant_id": {"5", "null"}, "tenant": {"acme"}, "platform_id": {"6"},
			"platform": {"junos"}, "manufacturer_id": {"7"}, "manufacturer": {"juniper"},
			"cf_snmp_enabled": {"true"}, "cf_owner": {"neteng", "ops"}, "has_primary_ip": {"true"},
			"last_updated__gte": {"2025-05-01T10:00:00Z"}, "id": {"42", "43"},
		}},
	}
	for _, tt := range tests {
		eachVersion(t, tt.name+"/", func(t *testing.T, c *Client, mt *httpmock.MockTransport, fields bool) {
			got := answerQuery(mt, "/api/dcim/devices/", envelope(t, 0, false))
			if _, errs := collect(t, c, tt.sel); len(errs) > 0 {
				t.Fatal(errs)
			}
			want := maps.Clone(tt.want)
			maps.Copy(want, view(KindDevice, fields))
			if tt.sel.OmitCustomFields && fields {
				want["fields"] = []string{objectFields[KindDevice]}
			}
			want["limit"], want["ordering"] = []string{"1000"}, []string{"id"}
			for _, vs := range *got {
				slices.Sort(vs)
			}
			for _, vs := range want {
				slices.Sort(vs)
			}
			if diff := cmp.Diff(want, *got); diff != "" {
				t.Errorf("query (-want +got):\n%s", diff)
			}
		})
	}
}

// TestSelectorQueryVMs checks the virtual machine list query: the filters
// shared with devices, site ids and explicit VM ids.
func TestSelectorQueryVMs(t *testing.T) {
	t.Parallel()
	yes := true
	since := time.Date(2025, 5, 1, 12, 0, 0, 0, time.UTC)
	sel := Selector{
		SiteIDs: []int64{1}, Sites: []string{"ams1"}, RoleIDs: []int64{4}, Roles: []string{"server"},
		Tags: []string{"monitored"}, TagIDs: []int64{3}, ExcludeTags: []string{"no-monitor"}, Statuses: []string{"active"},
		TenantIDs: []int64{5}, Tenants: []string{"acme"}, PlatformIDs: []int64{6}, Platforms: []string{"ubuntu"},
		HasPrimaryIP: &yes, ChangedSince: since, VMIDs: []int64{8, 9},
	}
	want := url.Values{
		"site_id": {"1"}, "site": {"ams1"}, "role_id": {"4"}, "role": {"server"}, "tag": {"monitored"}, "tag_id": {"3"},
		"tag__n": {"no-monitor"}, "status": {"active"}, "tenant_id": {"5"}, "tenant": {"acme"},
		"platform_id": {"6"}, "platform": {"ubuntu"}, "has_primary_ip": {"true"},
		"last_updated__gte": {"2025-05-01T12:00:00Z"}, "id": {"8", "9"},
		"fields": {objectFields[KindVirtualMachine] + ",custom_fields"}, "limit": {"1000"}, "ordering": {"id"},
	}
	c, mt := newMockClient(t)
	got := answerQuery(mt, "/api/virtualization/virtual-machines/", envelope(t, 0, false))
	if _, errs := collect(t, c, sel); len(errs) > 0 {
		t.Fatal(errs)
	}
	if diff := cmp.Diff(want, *got); diff != "" {
		t.Errorf("query (-want +got):\n%s", diff)
	}
}

func TestSelectorValidate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		sel  Selector
		want string
	}{
		{Selector{SiteIDs: []int64{0}}, "SiteIDs: 0"},
		{Selector{TagIDs: []int64{-3}}, "TagIDs: -3"},
		{Selector{IDs: []int64{1 << 40}}, "IDs"},
		{Selector{Tags: []string{"has space"}}, `Tags: "has space"`},
		{Selector{Statuses: []string{AnyStatus, "active"}}, "AnyStatus"},
		{Selector{CustomFields: map[string][]string{"Bad-Name": {"x"}}}, `"Bad-Name"`},
		{Selector{CustomFields: map[string][]string{"owner": nil}}, "no value"},
		{Selector{IPPolicy: "first"}, `unknown policy "first"`},
	}
	for _, tt := range tests {
		err := tt.sel.Validate()
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("Validate(%+v) = %v, want an error containing %q", tt.sel, err, tt.want)
		}
	}
	if err := (&Selector{Sites: []string{"ams1"}, IPPolicy: AllIPs}).Validate(); err != nil {
		t.Errorf("valid selector: %v", err)
	}
}

func TestDevicesErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		status int
		body   string
		is     error
		want   string
	}{
		{"bad token", 403, `{"detail": "Invalid token"}`, ErrTokenRefused, "token refused (403): Invalid token"},
		{"no permission", 403, `{"detail": "You do not have permission to perform this action."}`, ErrTokenRefused, "token refused"},
		{"bad filter", 400, `{"site_id": ["Select a valid choice. 999999 is not one of the available choices."]}`, ErrBadFilter,
			"parameter site_id: Select a valid choice. 999999"},
		{"server error", 500, `{"error": "boom", "exception": "ValueError"}`, nil, "HTTP 500: boom"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, mt := newMockClient(t)
			mt.RegisterResponder(http.MethodGet, testBase+"/api/dcim/devices/", jsonResponder(tt.status, []byte(tt.body)))
			devs, errs := collect(t, c, Selector{SiteIDs: []int64{999999}})
			if len(devs) != 0 || len(errs) != 1 {
				t.Fatalf("got %d devices and errors %v, want one error", len(devs), errs)
			}
			err := errs[0]
			if tt.is != nil && !errors.Is(err, tt.is) {
				t.Errorf("errors.Is(%v, %v) = false", err, tt.is)
			}
			if _, ok := errors.AsType[*DeviceError](err); ok {
				t.Errorf("%v is a *DeviceError, want a fatal error", err)
			}
			var ae *APIError
			if !errors.As(err, &ae) || ae.StatusCode != tt.status {
				t.Errorf("error %v is not an *APIError with status %d", err, tt.status)
			}
			if !strings.Contains(err.Error(), tt.want) || strings.Contains(err.Error(), "0123456789abcdef") {
				t.Errorf("error %q does not contain %q or leaks the token", err, tt.want)
			}
		})
	}
}

// TestDevicesWhatNetBoxSends reads one page holding what real NetBox sends
// and strict decoders trip on (custom status and role choices, nulls,
// empty strings, unknown fields) and objects that cannot be decoded: each
// bad object fails alone, in its place, and the others stream.
func TestDevicesWhatNetBoxSends(t *testing.T) {
	t.Parallel()
	eachVersion(t, "", func(t *testing.T, c *Client, mt *httpmock.MockTransport, fields bool) {
		base := listedDevice(t)
		var results []any
		for id := 1; id <= 6; id++ {
			d := cloneMap(base)
			d["id"], d["name"], d["primary_ip4"], d["primary_ip"], d["oob_ip"] = id, fmt.Sprintf("dev-%d", id), nil, nil, nil
			switch id {
			case 2: // a FIELD_CHOICES status, nulls, an unknown field
				d["status"] = map[string]any{"value": "maintenance", "label": "Maintenance"}
				d["face"], d["airflow"], d["position"], d["rack"], d["asset_tag"] = nil, nil, nil, nil, nil
				d["custom_fields"] = map[string]any{"snmp_location": nil, "ssh_port": nil}
				d["owner"] = map[string]any{"id": 1, "name": "neteng"} // 4.5's owner field
			case 4: // a field of the wrong JSON type
				d["tags"] = "monitored"
			case 5: // an address that does not parse
				d["primary_ip4"] = map[string]any{"id": 7, "address": "192.0.2.300/24"}
			}
			results = append(results, d)
		}
		// Device 3 holds a custom-role address with nulls and an empty
		// DNS name; device 6 one whose address does not parse.
		ip := object(t, "ip_address_101.json")
		ip["role"] = map[string]any{"value": "mystery", "label": "Mystery"}
		ip["vrf"], ip["dns_name"], ip["tenant"] = nil, "", nil
		ip["assigned_object"].(map[string]any)["device"] = map[string]any{"id": 3, "url": "x", "display": "x", "name": "dev-3", "description": ""}
		badIP := object(t, "ip_address_101.json")
		badIP["id"], badIP["address"] = 102, "not-an-address"
		badIP["assigned_object"].(map[string]any)["device"] = map[string]any{"id": 6, "url": "x", "display": "x", "name": "dev-6", "description": ""}
		mt.RegisterResponder(http.MethodGet, testBase+"/api/dcim/devices/", jsonResponder(200, envelope(t, 6, false, results...)))
		mt.RegisterResponder(http.MethodGet, testBase+"/api/ipam/ip-addresses/", jsonResponder(200, envelope(t, 2, false, ip, badIP)))
		mt.RegisterResponder(http.MethodGet, testBase+"/api/dcim/sites/", jsonResponder(200, envelope(t, 1, false, siteJSON(1, false))))

		type got struct {
			ID     int64
			Status string
			Label  string
			IPs    []string
			ErrID  int64
			Reason string
		}
		var seq []got
		var dev2 Device
		for d, err := range c.Devices(t.Context(), Selector{}) {
			g := got{ID: d.ID, Status: d.Status, Label: d.StatusLabel}
			for _, ip := range d.IPs {
				g.IPs = append(g.IPs, fmt.Sprintf("%s role=%q dns=%q vrf=%q", ip.Address, ip.Role, ip.DNSName, ip.VRF))
			}
			if err != nil {
				de, ok := errors.AsType[*DeviceError](err)
				if !ok {
					t.Fatalf("fatal error %v", err)
				}
				g.ErrID, g.Reason = de.ID, err.Error()
			}
			if d.ID == 2 {
				dev2 = d
			}
			seq = append(seq, g)
		}
		want := []got{
			{ID: 1, Status: "active", Label: "Active"},
			{ID: 2, Status: "maintenance", Label: "Maintenance"},
			{ID: 3, Status: "active", Label: "Active", IPs: []string{`192.0.2.10/24 role="mystery" dns="" vrf=""`}},
			{ID: 4, ErrID: 4, Reason: `netbox: device 4 (dev-4): field /tags: `},
			{ID: 5, ErrID: 5, Reason: `netbox: device 5 (dev-5): primary_ip4: address "192.0.2.300/24": `},
			{ID: 6, ErrID: 6, Reason: `netbox: device 6 (dev-6): IP address 102: address "not-an-address": `},
		}
		if diff := cmp.Diff(want, seq, cmp.Comparer(func(a, b string) bool {
			return strings.HasPrefix(a, b) || strings.HasPrefix(b, a)
		})); diff != "" {
			t.Errorf("stream (-want +got):\n%s", diff)
		}
		if dev2.Rack != (Ref{}) || dev2.Position != 0 || dev2.AssetTag != "" || dev2.CustomFields != nil {
			t.Errorf("nulls did not decode to zero values: %+v", dev2)
		}
	})
}

func TestDevicesAnyTagsMerge(t *testing.T) {
	t.Parallel()
	c, mt := newMockClient(t, WithPageSize(2))
	base := object(t, "device_42.json")
	delete(base, "config_context")
	tagsOf := map[int][]string{1: {"a"}, 2: {"b"}, 3: {"a", "b"}, 4: {"c"}, 5: {"b"}, 6: {"a", "b"}, 7: {"a"}, 9: {"b"}}
	mt.RegisterResponder(http.MethodGet, testBase+"/api/dcim/devices/", func(r *http.Request) (*http.Response, error) {
		after, limit := keyset(r)
		tags := r.URL.Query()["tag"]
		var out []any
		more := false
		for id := after + 1; id <= 10; id++ {
			if !slices.ContainsFunc(tags, func(tag string) bool { return !slices.Contains(tagsOf[id], tag) }) && tagsOf[id] != nil {
				if len(out) == limit {
					more = true
					break
				}
				d := cloneMap(base)
				d["id"], d["name"], d["primary_ip4"], d["primary_ip"], d["oob_ip"] = id, strconv.Itoa(id), nil, nil, nil
				out = append(out, d)
			}
		}
		return jsonResponse(200, envelope(t, len(out), more, out...)), nil
	})
	mt.RegisterResponder(http.MethodGet, testBase+"/api/ipam/ip-addresses/", jsonResponder(200, envelope(t, 0, false)))
	mt.RegisterResponder(http.MethodGet, testBase+"/api/dcim/sites/", jsonResponder(200, envelope(t, 0, false)))

	devs, errs := collect(t, c, Selector{AnyTags: []string{"a", "b"}})
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	var ids []int64
	for _, d := range devs {
		ids = append(ids, d.ID)
	}
	if diff := cmp.Diff([]int64{1, 2, 3, 5, 6, 7, 9}, ids); diff != "" {
		t.Errorf("ids (-want +got):\n%s", diff)
	}
}

// TestDevicesRequestCount checks that requests grow with devices per page,
// not with devices: per page one device list, the IP batches (URLs within
// the limit) and, once, the site lookup. Small pages and a short URL limit
// keep it quick; BenchmarkDevices runs full-size pages.
func TestDevicesRequestCount(t *testing.T) {
	t.Parallel()
	const pageSize, maxURL = 100, 600
	for _, n := range []int{0, 1, 99, 100, 250} {
		t.Run(strconv.Itoa(n), func(t *testing.T) {
			t.Parallel()
			c, mt := newMockClient(t, WithPageSize(pageSize), WithMaxURLLength(maxURL))
			g := newGenerated(t, mt, n)
			devs, errs := collect(t, c, Selector{})
			if len(errs) > 0 {
				t.Fatal(errs)
			}
			if len(devs) != n {
				t.Fatalf("got %d devices, want %d", len(devs), n)
			}
			for i, d := range devs {
				if d.ID != int64(i+1) || len(d.IPs) != 2 || d.PrimaryIPv4.Interface != "et-0/0/0" || d.Region.Slug != "europe" {
					t.Fatalf("device %d not filled: %+v", i+1, d)
				}
			}
			pages := max(1, (n+pageSize-1)/pageSize)
			ipBatches := 0
			for p := range pages {
				var ids []int64
				for id := p*pageSize + 1; id <= min(n, (p+1)*pageSize); id++ {
					ids = append(ids, int64(id))
				}
				fixed := testBase + "/api/ipam/ip-addresses/?fields=" + url.QueryEscape(ipFields) + "&id__gt=9223372036854775807&limit=1000&ordering=id"
				ipBatches += len(chunkIDs(ids, "device_id", maxURL-len(fixed)))
			}
			want := map[string]int{"/api/dcim/devices/": pages}
			if n > 0 {
				want["/api/ipam/ip-addresses/"] = ipBatches
				want["/api/dcim/sites/"] = 1
			}
			g.mu.Lock()
			defer g.mu.Unlock()
			if diff := cmp.Diff(want, g.requests); diff != "" {
				t.Errorf("requests (-want +got):\n%s", diff)
			}
			if g.maxURL >= maxURL {
				t.Errorf("longest URL %d characters, want < %d", g.maxURL, maxURL)
			}
			if n == 250 && ipBatches < 2*pages {
				t.Errorf("only %d IP batches: the URL limit was not exercised", ipBatches)
			}
		})
	}
}

func TestDevicesManyExplicitIDs(t *testing.T) {
	t.Parallel()
	const maxURL = 600
	c, mt := newMockClient(t, WithPageSize(100), WithMaxURLLength(maxURL))
	g := newGenerated(t, mt, 300)
	var ids []int64
	for id := 250; id >= 1; id-- {
		ids = append(ids, int64(id), int64(id))
	}
	devs, errs := collect(t, c, Selector{IDs: ids})
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	if len(devs) != 250 {
		t.Fatalf("got %d devices, want 250", len(devs))
	}
	for i, d := range devs {
		if d.ID != int64(i+1) {
			t.Fatalf("device %d has id %d: not in id order", i, d.ID)
		}
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.maxURL >= maxURL || g.requests["/api/dcim/devices/"] < 3 {
		t.Errorf("%d device requests, longest URL %d characters", g.requests["/api/dcim/devices/"], g.maxURL)
	}
}

func TestDevicesStopEarly(t *testing.T) {
	t.Parallel()
	c, mt := newMockClient(t, WithPageSize(20))
	g := newGenerated(t, mt, 500)
	seen := 0
	for _, err := range c.Devices(t.Context(), Selector{}) {
		if err != nil {
			t.Fatal(err)
		}
		seen++
		if seen == 10 {
			break
		}
	}
	// The first page and at most the prefetched second one were read.
	g.mu.Lock()
	defer g.mu.Unlock()
	if got := g.requests["/api/dcim/devices/"]; got > 2 {
		t.Errorf("%d device pages fetched after stopping on the first", got)
	}
}

func TestDevicesContextCanceled(t *testing.T) {
	t.Parallel()
	c, mt := newMockClient(t)
	ctx, cancel := context.WithCancel(t.Context())
	var calls atomic.Int32
	mt.RegisterResponder(http.MethodGet, testBase+"/api/dcim/devices/", func(r *http.Request) (*http.Response, error) {
		calls.Add(1)
		cancel()
		return nil, r.Context().Err()
	})
	var last error
	for _, err := range c.Devices(ctx, Selector{}) {
		last = err
	}
	if !errors.Is(last, context.Canceled) {
		t.Errorf("last value %v, want context.Canceled", last)
	}
}

func TestChunkIDs(t *testing.T) {
	t.Parallel()
	ids := make([]int64, 1000)
	for i := range ids {
		ids[i] = int64(99000 + i)
	}
	chunks := chunkIDs(ids, "device_id", 3900)
	total := 0
	for _, ch := range chunks {
		n := 0
		for _, id := range ch {
			n += len("device_id=&") + len(strconv.Itoa(int(id)))
		}
		if n > 3900 {
			t.Errorf("chunk of %d ids uses %d characters", len(ch), n)
		}
		total += len(ch)
	}
	if total != 1000 || len(chunks) != 5 {
		t.Errorf("%d ids in %d chunks, want 1000 in 5", total, len(chunks))
	}
	if chunkIDs(nil, "id", 100) != nil {
		t.Error("chunks of no ids")
	}
}
