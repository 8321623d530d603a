package netboxtest_test

import (
	"cmp"
	"encoding/json"
	"fmt"
	"net/http"
	"net/netip"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	gocmp "github.com/google/go-cmp/cmp"

	"github.com/wugsync/wugsync/netbox/netboxtest"
)

// all pages through a list with limit=1000 and returns every id (asking
// for the id field only, which keeps the race-detector run short).
func all(t *testing.T, s *netboxtest.Server, path string) []int64 {
	t.Helper()
	sep := "?"
	if strings.Contains(path, "?") {
		sep = "&"
	}
	ids := []int64{}
	for offset := 0; ; {
		p, got := list(t, s, fmt.Sprintf("%s%sfields=id&limit=1000&offset=%d", path, sep, offset))
		ids = append(ids, got...)
		if p.Next == nil {
			if len(ids) != p.Count {
				t.Errorf("GET %s: count %d, but %d rows", path, p.Count, len(ids))
			}
			return ids
		}
		offset += len(got)
	}
}

func idsWhere(devs []netboxtest.Device, keep func(netboxtest.Device) bool) []int64 {
	out := []int64{}
	for _, d := range devs {
		if keep(d) {
			out = append(out, d.ID)
		}
	}
	return out
}

func TestDeviceFilters(t *testing.T) {
	t.Parallel()
	s := netboxtest.NewServer(t, netboxtest.WithDevices(400), netboxtest.WithSeed(7))
	devs := s.Devices()
	cat := s.Catalog()
	site2, loc3, role2 := cat.Sites[1], cat.Locations[2], cat.Roles[1]
	sample := devs[17]
	since := time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC)
	has := func(tags []string, tag string) bool { return slices.Contains(tags, tag) }
	europe := map[string]bool{}
	for _, st := range cat.Sites {
		// Generated sites named after European cities (and the long-name
		// site) are in region 1.
		for _, code := range []string{"ams", "fra", "lon", "par", "mad", "zrh"} {
			if strings.HasPrefix(st.Slug, code) {
				europe[st.Slug] = true
			}
		}
	}
	tests := []struct {
		name  string
		query string
		keep  func(netboxtest.Device) bool
	}{
		{"site slug", "site=" + site2.Slug, func(d netboxtest.Device) bool { return d.Site == site2.Slug }},
		{"site ids OR", "site_id=1&site_id=2", func(d netboxtest.Device) bool { return d.Site == cat.Sites[0].Slug || d.Site == site2.Slug }},
		{"site_id__n", "site_id__n=1", func(d netboxtest.Device) bool { return d.Site != cat.Sites[0].Slug }},
		{"location_id", fmt.Sprintf("location_id=%d", loc3.ID), func(d netboxtest.Device) bool { return d.Location == loc3.Slug }},
		{"location null", "location_id=null", func(d netboxtest.Device) bool { return d.Location == "" }},
		{"region slug", "region=europe", func(d netboxtest.Device) bool { return europe[d.Site] }},
		{"role slug", "role=core-router", func(d netboxtest.Device) bool { return d.Role == "core-router" }},
		{"role id", fmt.Sprintf("role_id=%d", role2.ID), func(d netboxtest.Device) bool { return d.Role == role2.Slug }},
		{"tags AND", "tag=monitored&tag=backup", func(d netboxtest.Device) bool { return has(d.Tags, "monitored") && has(d.Tags, "backup") }},
		{"tag__n", "tag__n=monitored", func(d netboxtest.Device) bool { return !has(d.Tags, "monitored") }},
		{"tag and tag__n", "tag=snmp-v3&tag__n=lab", func(d netboxtest.Device) bool { return has(d.Tags, "snmp-v3") && !has(d.Tags, "lab") }},
		{"status OR", "status=planned&status=offline", func(d netboxtest.Device) bool { return d.Status == "planned" || d.Status == "offline" }},
		{"status__n", "status__n=active", func(d netboxtest.Device) bool { return d.Status != "active" }},
		{"tenant slug", "tenant=acme", func(d netboxtest.Device) bool { return d.Tenant == "acme" }},
		{"tenant null", "tenant_id=null", func(d netboxtest.Device) bool { return d.Tenant == "" }},
		{"tenant null or 1", "tenant_id=null&tenant_id=1", func(d netboxtest.Device) bool { return d.Tenant == "" || d.Tenant == cat.Tenants[0].Slug }},
		{"platform slug", "platform=junos", func(d netboxtest.Device) bool { return d.Platform == "junos" }},
		{"platform null", "platform=null", func(d netboxtest.Device) bool { return d.Platform == "" }},
		{"manufacturer", "manufacturer=juniper", func(d netboxtest.Device) bool {
			return slices.Contains([]string{"mx204", "ex4300-48t"}, d.DeviceType)
		}},
		{"cf integer", "cf_ssh_port=2222", func(d netboxtest.Device) bool { return d.CustomFields["ssh_port"] == int64(2222) }},
		{"cf select", "cf_monitoring_profile=critical", func(d netboxtest.Device) bool { return d.CustomFields["monitoring_profile"] == "critical" }},
		{"cf boolean", "cf_warranty_expired=true", func(d netboxtest.Device) bool { return d.CustomFields["warranty_expired"] == true }},
		{"cf unknown ignored", "cf_nope=1", func(netboxtest.Device) bool { return true }},
		{"last_updated__gte", "last_updated__gte=" + url.QueryEscape(since.Format(time.RFC3339Nano)),
			func(d netboxtest.Device) bool { return !d.LastUpdated.Before(since) }},
		{"ids", "id=5&id=7&id=9&id=100000", func(d netboxtest.Device) bool { return d.ID == 5 || d.ID == 7 || d.ID == 9 }},
		{"id__gt", "id__gt=350", func(d netboxtest.Device) bool { return d.ID > 350 }},
		{"id__gt values are alternatives", "id__gt=390&id__gt=350", func(d netboxtest.Device) bool { return d.ID > 350 }},
		{"id__gte and id__lt", "id__gte=10&id__lt=20", func(d netboxtest.Device) bool { return d.ID >= 10 && d.ID < 20 }},
		{"has_primary_ip false", "has_primary_ip=false", func(d netboxtest.Device) bool { return d.PrimaryIP4 == 0 && d.PrimaryIP6 == 0 }},
		{"has_oob_ip", "has_oob_ip=true", func(d netboxtest.Device) bool { return d.OOBIP != 0 }},
		{"name is case-insensitive", "name=" + url.QueryEscape(strings.ToUpper(sample.Name)), func(d netboxtest.Device) bool { return d.ID == sample.ID }},
		{"unknown params ignored", "nonsense=1", func(netboxtest.Device) bool { return true }},
		{"combined", "status=active&site_id=1&tag=monitored", func(d netboxtest.Device) bool {
			return d.Status == "active" && d.Site == cat.Sites[0].Slug && has(d.Tags, "monitored")
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			want := idsWhere(devs, tc.keep)
			got := all(t, s, "/api/dcim/devices/?ordering=id&"+tc.query)
			if diff := gocmp.Diff(want, got); diff != "" {
				t.Errorf("%s (-want +got):\n%s", tc.query, diff)
			}
			// A filter that keeps none or all of the data would pass even
			// if the fake ignored it.
			if len(want) == 0 || (len(want) == len(devs) && !strings.HasSuffix(tc.name, "ignored")) {
				t.Errorf("%s keeps %d of %d generated devices; the case tests nothing", tc.query, len(want), len(devs))
			}
		})
	}
}

func TestVirtualMachineFilters(t *testing.T) {
	t.Parallel()
	s := netboxtest.NewServer(t, netboxtest.WithVirtualMachines(2500)) // enough sites for two clusters
	vms := s.VirtualMachines()
	cat := s.Catalog()
	cl := cat.Clusters[0]
	for _, tc := range []struct {
		query   string
		keep    func(netboxtest.Device) bool
		ignored bool // device-only filters, which NetBox ignores on VMs
	}{
		{fmt.Sprintf("cluster_id=%d", cl.ID), func(d netboxtest.Device) bool { return d.Cluster == cl.Name }, false},
		{"cluster=" + cl.Name, func(d netboxtest.Device) bool { return d.Cluster == cl.Name }, false},
		{"site=" + cat.Sites[0].Slug, func(d netboxtest.Device) bool { return d.Site == cat.Sites[0].Slug }, false},
		{"status=paused&status=offline", func(d netboxtest.Device) bool { return d.Status == "paused" || d.Status == "offline" }, false},
		{"role=server&platform=ubuntu", func(d netboxtest.Device) bool { return d.Role == "server" && d.Platform == "ubuntu" }, false},
		{"tag=monitored&has_primary_ip=true", func(d netboxtest.Device) bool { return slices.Contains(d.Tags, "monitored") && d.PrimaryIP4 != 0 }, false},
		{"location_id=1&manufacturer=cisco&has_oob_ip=true", func(netboxtest.Device) bool { return true }, true},
	} {
		want := idsWhere(vms, tc.keep)
		got := all(t, s, "/api/virtualization/virtual-machines/?ordering=id&"+tc.query)
		if diff := gocmp.Diff(want, got); diff != "" {
			t.Errorf("%s (-want +got):\n%s", tc.query, diff)
		}
		if len(want) == 0 || (len(want) == len(vms) && !tc.ignored) {
			t.Errorf("%s keeps %d of %d generated VMs; the case tests nothing", tc.query, len(want), len(vms))
		}
	}
}

func TestOrdering(t *testing.T) {
	t.Parallel()
	s := netboxtest.NewServer(t, netboxtest.WithDevices(120))
	devs := s.Devices()
	byName := slices.Clone(devs)
	// Generated names have zero-padded numbers, so natural order is byte
	// order here; unnamed devices sort last.
	slices.SortStableFunc(byName, func(a, b netboxtest.Device) int {
		if (a.Name == "") != (b.Name == "") {
			if a.Name == "" {
				return 1
			}
			return -1
		}
		return cmp.Or(strings.Compare(a.Name, b.Name), cmp.Compare(a.ID, b.ID))
	})
	ids := func(ds []netboxtest.Device) []int64 {
		return idsWhere(ds, func(netboxtest.Device) bool { return true })
	}
	asc := ids(devs)
	desc := slices.Clone(asc)
	slices.Reverse(desc)
	byUpdated := slices.Clone(devs)
	slices.SortStableFunc(byUpdated, func(a, b netboxtest.Device) int {
		return cmp.Or(b.LastUpdated.Compare(a.LastUpdated), cmp.Compare(a.ID, b.ID))
	})
	for _, tc := range []struct {
		query string
		want  []int64
	}{
		{"ordering=id", asc},
		{"ordering=-id", desc},
		{"ordering=name", ids(byName)},
		{"", ids(byName)},
		{"ordering=-last_updated", ids(byUpdated)},
	} {
		got := all(t, s, "/api/dcim/devices/?"+tc.query)
		if diff := gocmp.Diff(tc.want, got); diff != "" {
			t.Errorf("%q (-want +got):\n%s", tc.query, diff)
		}
	}
}

func TestPaging(t *testing.T) {
	t.Parallel()
	s := netboxtest.NewServer(t, netboxtest.WithDevices(1500))
	base := s.URL + "/api/dcim/devices/"
	str := func(p *string) string {
		if p == nil {
			return "null"
		}
		return *p
	}
	for _, tc := range []struct {
		query              string
		rows, count        int
		next, previous     string
		firstID, lastIDgot int64
	}{
		{"site_id=1&exclude=config_context&limit=2", 2, -1,
			base + "?exclude=config_context&limit=2&offset=2&site_id=1", "null", 0, 0},
		{"site_id=1&exclude=config_context&limit=2&offset=2", 2, -1,
			base + "?exclude=config_context&limit=2&offset=4&site_id=1", base + "?exclude=config_context&limit=2&site_id=1", 0, 0},
		{"ordering=id&limit=5000&fields=id", 1000, 1500, base + "?fields=id&limit=1000&offset=1000&ordering=id", "null", 1, 1000},
		{"ordering=id&limit=0&fields=id", 1000, 1500, base + "?fields=id&limit=1000&offset=1000&ordering=id", "null", 1, 1000},
		{"ordering=id", 50, 1500, base + "?limit=50&offset=50&ordering=id", "null", 1, 50},
		{"ordering=id&limit=-3", 50, 1500, base + "?limit=50&offset=50&ordering=id", "null", 1, 50},
		{"ordering=id&limit=1000&offset=1000&fields=id", 500, 1500, "null", base + "?fields=id&limit=1000&ordering=id", 1001, 1500},
		{"ordering=id&limit=10&offset=1495", 5, 1500, "null", base + "?limit=10&offset=1485&ordering=id", 1496, 1500},
		{"ordering=id&offset=9999", 0, 1500, "null", base + "?limit=50&offset=9949&ordering=id", 0, 0},
		{"ordering=id&id__gt=1400&limit=1000", 100, 100, "null", "null", 1401, 1500},
		{"id__gt=1400&ordering=-id&limit=1000&fields=id", 100, 100, "null", "null", 1500, 1401},
	} {
		p, ids := list(t, s, "/api/dcim/devices/?"+tc.query)
		if len(ids) != tc.rows || (tc.count >= 0 && p.Count != tc.count) {
			t.Errorf("%s: %d rows of %d, want %d of %d", tc.query, len(ids), p.Count, tc.rows, tc.count)
		}
		if str(p.Next) != tc.next || str(p.Previous) != tc.previous {
			t.Errorf("%s: next %s previous %s, want %s and %s", tc.query, str(p.Next), str(p.Previous), tc.next, tc.previous)
		}
		if tc.firstID != 0 && (ids[0] != tc.firstID || ids[len(ids)-1] != tc.lastIDgot) {
			t.Errorf("%s: ids %d…%d, want %d…%d", tc.query, ids[0], ids[len(ids)-1], tc.firstID, tc.lastIDgot)
		}
	}

	// Keyset paging visits every device once.
	var seen []int64
	last := int64(0)
	for requests := 0; ; requests++ {
		p, ids := list(t, s, fmt.Sprintf("/api/dcim/devices/?ordering=id&limit=1000&id__gt=%d&status=active&fields=id", last))
		if len(ids) == 0 {
			break
		}
		if requests > 5 {
			t.Fatal("keyset paging does not end")
		}
		if p.Count < len(ids) {
			t.Errorf("count %d below page size %d", p.Count, len(ids))
		}
		seen = append(seen, ids...)
		last = ids[len(ids)-1]
	}
	want := idsWhere(s.Devices(), func(d netboxtest.Device) bool { return d.Status == "active" })
	if diff := gocmp.Diff(want, seen); diff != "" {
		t.Errorf("keyset (-want +got):\n%s", diff)
	}

	small := netboxtest.NewServer(t, netboxtest.WithMaxPageSize(20))
	if p, ids := list(t, small, "/api/dcim/devices/?limit=1000"); len(ids) != 10 || p.Next != nil {
		t.Errorf("MAX_PAGE_SIZE 20: %d rows, next %v", len(ids), str(p.Next))
	}
	if p, ids := list(t, small, "/api/ipam/ip-addresses/?limit=0"); len(ids) != 20 || p.Next == nil {
		t.Errorf("MAX_PAGE_SIZE 20, limit=0: %d rows, next %v", len(ids), str(p.Next))
	}
}

func keysOf(t *testing.T, raw json.RawMessage) []string {
	t.Helper()
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatal(err)
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

func TestShapes(t *testing.T) {
	t.Parallel()
	s := netboxtest.NewServer(t, netboxtest.WithVirtualMachines(3))
	first := func(path string) json.RawMessage {
		p, _ := list(t, s, path)
		if len(p.Results) == 0 {
			t.Fatalf("%s: no results", path)
		}
		return p.Results[0]
	}
	hasKey := func(raw json.RawMessage, k string) bool { return slices.Contains(keysOf(t, raw), k) }
	if !hasKey(first("/api/dcim/devices/"), "config_context") {
		t.Error("device list without exclude lacks config_context")
	}
	if hasKey(first("/api/dcim/devices/?exclude=config_context"), "config_context") {
		t.Error("exclude=config_context kept config_context")
	}
	if hasKey(first("/api/virtualization/virtual-machines/?exclude=config_context"), "config_context") {
		t.Error("VM exclude=config_context kept config_context")
	}
	_, b := fetch(t, s, "/api/dcim/devices/1/?exclude=config_context")
	if hasKey(b, "config_context") {
		t.Error("detail exclude=config_context kept config_context")
	}
	for _, tc := range []struct {
		path string
		want []string
	}{
		{"/api/dcim/devices/?brief=1", []string{"description", "display", "id", "name", "url"}},
		{"/api/dcim/devices/?brief=0", []string{"description", "display", "id", "name", "url"}},
		{"/api/dcim/devices/?brief=true&fields=id,primary_ip4,nope", []string{"id", "primary_ip4"}},
		{"/api/dcim/devices/?fields=id,config_context", []string{"config_context", "id"}},
		{"/api/dcim/devices/?fields=id,config_context&exclude=config_context", []string{"id"}},
		{"/api/ipam/ip-addresses/?brief=1", []string{"address", "description", "display", "family", "id", "url"}},
		{"/api/virtualization/virtual-machines/?brief=yes", []string{"description", "display", "id", "name", "url"}},
		{"/api/dcim/sites/?brief=1", []string{"description", "display", "id", "name", "slug", "url"}},
	} {
		if diff := gocmp.Diff(tc.want, keysOf(t, first(tc.path))); diff != "" {
			t.Errorf("%s keys (-want +got):\n%s", tc.path, diff)
		}
	}
	if !hasKey(first("/api/dcim/devices/?brief="), "device_type") {
		t.Error("an empty brief= enabled the brief form")
	}
}

func TestIPAddressFilters(t *testing.T) {
	t.Parallel()
	s := netboxtest.NewServer(t, netboxtest.WithDevices(100), netboxtest.WithVirtualMachines(10))
	ipIDs := func(deviceIDs []int64, vm bool) []int64 {
		var out []int64
		for _, id := range deviceIDs {
			for _, ip := range s.IPAddresses(id, vm) {
				out = append(out, ip.ID)
			}
		}
		slices.Sort(out)
		return out
	}
	dups := s.Quirky(netboxtest.QuirkSameAddressTwoVRFs)
	for _, tc := range []struct {
		query string
		want  []int64
	}{
		{"device_id=1&device_id=2&device_id=3", ipIDs([]int64{1, 2, 3}, false)},
		{"device_id=999999", nil},
		{"virtual_machine_id=2&virtual_machine_id=3", ipIDs([]int64{2, 3}, true)},
		{"device_id=4&virtual_machine_id=4", nil},
		// Device 3 has an address outside any VRF and one in VRF mgmt.
		{fmt.Sprintf("device_id=3&device_id=%d&device_id=%d&vrf_id=null", dups[0].ID, dups[1].ID), nil},
		{fmt.Sprintf("device_id=%d&device_id=%d&family=4&vrf=65000:10", dups[0].ID, dups[1].ID), nil},
	} {
		got := all(t, s, "/api/ipam/ip-addresses/?ordering=id&"+tc.query)
		want := tc.want
		if strings.Contains(tc.query, "vrf") {
			// Compute from the fake's state: the queried devices' addresses
			// outside any VRF, or in VRF red.
			want = nil
			q, _ := url.ParseQuery(tc.query)
			for _, v := range q["device_id"] {
				id, _ := strconv.ParseInt(v, 10, 64)
				for _, ip := range s.IPAddresses(id, false) {
					if (strings.Contains(tc.query, "null") && ip.VRF == "") ||
						(strings.Contains(tc.query, "65000:10") && ip.VRF == "red" && ip.Address.Addr().Is4()) {
						want = append(want, ip.ID)
					}
				}
			}
			slices.Sort(want)
			if len(want) == 0 {
				t.Errorf("%s keeps none of the duplicate pair's addresses; the case tests nothing", tc.query)
			}
		}
		if want == nil {
			want = []int64{}
		}
		if diff := gocmp.Diff(want, got); diff != "" {
			t.Errorf("%s (-want +got):\n%s", tc.query, diff)
		}
	}
	// NetBox's default IP ordering is by address (IPv4 first), then id;
	// a few devices' addresses are sorted alone, many walk the full order.
	for _, n := range []int64{10, 60} {
		var q strings.Builder
		var want []int64
		for id := int64(1); id <= n; id++ {
			fmt.Fprintf(&q, "&device_id=%d", id)
			want = append(want, ipIDs([]int64{id}, false)...)
		}
		p, _ := list(t, s, "/api/ipam/ip-addresses/?limit=1000"+q.String())
		var prev netip.Prefix
		for i, r := range p.Results {
			var ip struct {
				Address string `json:"address"`
			}
			if err := json.Unmarshal(r, &ip); err != nil {
				t.Fatal(err)
			}
			cur := netip.MustParsePrefix(ip.Address)
			if i > 0 && (prev.Addr().BitLen() > cur.Addr().BitLen() ||
				(prev.Addr().BitLen() == cur.Addr().BitLen() && prev.Addr().Compare(cur.Addr()) > 0)) {
				t.Errorf("default IP order: %v before %v", prev, cur)
			}
			prev = cur
		}
		if p.Count != len(want) || len(p.Results) != len(want) {
			t.Errorf("device_id=1…%d: %d addresses, want %d", n, p.Count, len(want))
		}
	}

	// The two devices of a duplicate pair share one address in two VRFs.
	a, _ := s.IPAddress(dups[0].PrimaryIP4)
	b, _ := s.IPAddress(dups[1].PrimaryIP4)
	if a.Address != b.Address || a.VRF == b.VRF {
		t.Errorf("duplicate pair: %v in %q and %v in %q", a.Address, a.VRF, b.Address, b.VRF)
	}
	p, _ := list(t, s, "/api/ipam/ip-addresses/?address="+a.Address.Addr().String())
	if p.Count != 2 {
		t.Errorf("address=%s: %d results, want 2", a.Address.Addr(), p.Count)
	}
}

func TestErrors(t *testing.T) {
	t.Parallel()
	s := netboxtest.NewServer(t)
	for _, tc := range []struct {
		path, auth string
		status     int
		body       string
	}{
		{"/api/dcim/devices/", "", 403, `{"detail":"Authentication credentials were not provided."}`},
		{"/api/dcim/devices/", "Token wrong", 403, `{"detail":"Invalid token"}`},
		{"/api/dcim/devices/", "Bearer " + s.Token, 403, `{"detail":"Authentication credentials were not provided."}`},
		{"/api/status/", "Token", 403, `{"detail":"Authentication credentials were not provided."}`},
		{"/api/dcim/devices/?id=abc", "", 400, `{"id":["Enter a number."]}`},
		{"/api/dcim/devices/?id__gt=x", "", 400, `{"id__gt":["Enter a number."]}`},
		{"/api/dcim/devices/?status=foo&status=active", "", 400, `{"status":["Select a valid choice. foo is not one of the available choices."]}`},
		{"/api/dcim/devices/?status=maintenance", "", 400, `{"status":["Select a valid choice. maintenance is not one of the available choices."]}`},
		{"/api/dcim/devices/?site_id=999999", "", 400, `{"site_id":["Select a valid choice. 999999 is not one of the available choices."]}`},
		{"/api/dcim/devices/?site=nowhere&tag=nope", "", 400, `{"site":["Select a valid choice. nowhere is not one of the available choices."],"tag":["Select a valid choice. nope is not one of the available choices."]}`},
		{"/api/dcim/devices/?tenant_id=x", "", 400, `{"tenant_id":["“x” is not a valid value."]}`},
		{"/api/dcim/devices/?last_updated__gte=yesterday", "", 400, `{"last_updated__gte":["Enter a valid date/time."]}`},
		{"/api/dcim/devices/?cf_ssh_port=abc", "", 400, `{"cf_ssh_port":["Enter a number."]}`},
		{"/api/ipam/ip-addresses/?device_id=abc", "", 400, `{"device_id":["Enter a number."]}`},
		{"/api/ipam/ip-addresses/?status=up", "", 400, `{"status":["Select a valid choice. up is not one of the available choices."]}`},
		{"/api/virtualization/virtual-machines/?status=inventory", "", 400, `{"status":["Select a valid choice. inventory is not one of the available choices."]}`},
		{"/api/dcim/devices/999999/", "", 404, `{"detail":"No Device matches the given query."}`},
		{"/api/virtualization/virtual-machines/999999/", "", 404, `{"detail":"No VirtualMachine matches the given query."}`},
		{"/api/dcim/devices/abc/", "", 404, `{"detail":"Not found."}`},
		{"/api/dcim/cables/", "", 404, `{"detail":"Not found."}`},
	} {
		auth := tc.auth
		if auth == "" && tc.status != 403 {
			auth = "Token " + s.Token
		}
		status, body := fetchAuth(t, s, tc.path, auth)
		if status != tc.status || string(body) != tc.body {
			t.Errorf("GET %s: %d %s, want %d %s", tc.path, status, body, tc.status, tc.body)
		}
	}
	for _, auth := range []string{"Token " + s.Token, "token " + s.Token, "TOKEN " + s.Token} {
		if status, _ := fetchAuth(t, s, "/api/status/", auth); status != http.StatusOK {
			t.Errorf("%s…: status %d", auth[:6], status)
		}
	}

	v2 := netboxtest.NewServer(t, netboxtest.WithToken("nbt_abc123.s3cr3t"), netboxtest.WithVersion("4.5.0"))
	for _, tc := range []struct {
		auth   string
		status int
		body   string
	}{
		{"Bearer nbt_abc123.s3cr3t", 200, ""},
		{"Token nbt_abc123.s3cr3t", 200, ""},
		{"Bearer nbt_abc123.wrong", 403, `{"detail":"Invalid v2 token"}`},
		{"Token 0123456789abcdef0123456789abcdef01234567", 403, `{"detail":"Invalid v1 token"}`},
	} {
		status, body := fetchAuth(t, v2, "/api/status/", tc.auth)
		if status != tc.status || (tc.body != "" && string(body) != tc.body) {
			t.Errorf("4.5 %s: %d %s, want %d %s", tc.auth[:10], status, body, tc.status, tc.body)
		}
	}
}

func TestStrictParams(t *testing.T) {
	t.Parallel()
	s := netboxtest.NewServer(t, netboxtest.WithStrictParams(), netboxtest.WithVirtualMachines(3))
	for _, path := range []string{
		"/api/dcim/devices/?exclude=config_context&id__gt=0&limit=1000&ordering=id&status=active&tag=monitored" +
			"&tag__n=lab&tenant_id=null&platform=null&cf_ssh_port=22&last_updated__gte=2025-01-01T00:00:00Z&site_id=1&role=server&has_primary_ip=true",
		"/api/virtualization/virtual-machines/?exclude=config_context&id__gt=0&cluster_id=1&format=json",
		"/api/ipam/ip-addresses/?device_id=1&device_id=2&virtual_machine_id=1&limit=1000&offset=0&ordering=id",
		"/api/dcim/interfaces/?device_id=1&brief=1",
		"/api/dcim/sites/?id=1&id=2&fields=id,region",
	} {
		if status, body := fetch(t, s, path); status != http.StatusOK {
			t.Errorf("strict GET %s: %d %s", path, status, body)
		}
	}
	status, body := fetch(t, s, "/api/dcim/devices/?device_role=core-router&site_id=1&cf_nope=1&limit=5")
	want := `{"cf_nope":["Unknown query parameter (netboxtest strict mode; NetBox would ignore it)."],` +
		`"device_role":["Unknown query parameter (netboxtest strict mode; NetBox would ignore it)."]}`
	if status != http.StatusBadRequest || string(body) != want {
		t.Errorf("strict unknown parameters: %d %s", status, body)
	}
	// VM lists do not understand device-only filters.
	if status, _ := fetch(t, s, "/api/virtualization/virtual-machines/?location_id=1"); status != http.StatusBadRequest {
		t.Errorf("strict VM location_id: %d", status)
	}
}

// TestFieldsByVersion checks fields= is honoured from NetBox 4.0 on and
// ignored before, as NetBox 3.x ignores a parameter it does not know (a
// strict fake flags it), and that /api/status/ reports the version.
func TestFieldsByVersion(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		version string
		fields  bool
	}{{"3.7.8", false}, {"4.0.11", true}, {"4.3.0", true}, {"4.5.2", true}} {
		t.Run(tc.version, func(t *testing.T) {
			t.Parallel()
			s := netboxtest.NewServer(t, netboxtest.WithVersion(tc.version))
			p, _ := list(t, s, "/api/dcim/devices/?fields=id,name&exclude=config_context")
			keys := keysOf(t, p.Results[0])
			if got := len(keys) == 2; got != tc.fields {
				t.Errorf("fields= honoured = %v, want %v (keys %v)", got, tc.fields, keys)
			}
			if slices.Contains(keys, "config_context") {
				t.Error("exclude=config_context not honoured")
			}
			_, b := fetch(t, s, "/api/status/")
			var st struct {
				Version string `json:"netbox-version"`
			}
			if err := json.Unmarshal(b, &st); err != nil || st.Version != tc.version {
				t.Errorf("status reports %q (%v), want %q", st.Version, err, tc.version)
			}
			strict := netboxtest.NewServer(t, netboxtest.WithVersion(tc.version), netboxtest.WithStrictParams())
			status, b := fetch(t, strict, "/api/dcim/devices/?fields=id")
			if flagged := status == http.StatusBadRequest && strings.Contains(string(b), "fields"); flagged == tc.fields {
				t.Errorf("strict fake: fields= answered %d %s", status, b)
			}
		})
	}
}
