package netbox_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/wugsync/wugsync/netbox"
	"github.com/wugsync/wugsync/netbox/netboxtest"
)

var equatePrefix = cmpopts.EquateComparable(netip.Prefix{})

// fakeClient starts a fake NetBox and returns it with a client for it.
func fakeClient(t testing.TB, fakeOpts []netboxtest.Option, opts ...netbox.Option) (*netboxtest.Server, *netbox.Client) {
	t.Helper()
	srv := netboxtest.NewServer(t, fakeOpts...)
	opts = append([]netbox.Option{netbox.WithRetry(netbox.RetryPolicy{MaxRetries: 2, WaitMin: time.Millisecond, WaitMax: 5 * time.Millisecond})}, opts...)
	c, err := netbox.NewClient(srv.URL+"/", srv.Token, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return srv, c
}

// drain reads a stream, keeping devices by id and per-device errors.
func drain(t testing.TB, seq func(func(netbox.Device, error) bool)) ([]netbox.Device, []*netbox.DeviceError) {
	t.Helper()
	var devs []netbox.Device
	var derrs []*netbox.DeviceError
	for d, err := range seq {
		if de, ok := errors.AsType[*netbox.DeviceError](err); ok {
			derrs = append(derrs, de)
			continue
		}
		if err != nil {
			t.Fatalf("fatal error after %d devices: %v", len(devs), err)
		}
		devs = append(devs, d)
	}
	return devs, derrs
}

// view is the part of a Device the fake's own records can predict.
type view struct {
	Kind                                                   netbox.Kind
	ID                                                     int64
	Name                                                   string
	Site, Location, Role, Tenant, Platform, Model, Cluster string
	Rack                                                   string
	Position                                               float64
	Status, Serial, AssetTag, Description, Comments        string
	Tags                                                   []string
	CustomFields                                           map[string]any
	V4, V6, OOB                                            netbox.IPAddress
	IPs                                                    []netbox.IPAddress
}

func viewOf(d netbox.Device) view {
	v := view{Kind: d.Kind, ID: d.ID, Name: d.Name, Site: d.Site.Slug, Location: d.Location.Slug, Role: d.Role.Slug,
		Tenant: d.Tenant.Slug, Platform: d.Platform.Slug, Model: d.Model.Slug, Cluster: d.Cluster.Name, Rack: d.Rack.Name,
		Position: d.Position, Status: d.Status, Serial: d.Serial, AssetTag: d.AssetTag, Description: d.Description,
		Comments: d.Comments, CustomFields: d.CustomFields, V4: d.PrimaryIPv4, V6: d.PrimaryIPv6, OOB: d.OOBIP, IPs: d.IPs}
	for _, t := range d.Tags {
		v.Tags = append(v.Tags, t.Slug)
	}
	return v
}

func fakeIP(srv *netboxtest.Server, id int64) netbox.IPAddress {
	if id == 0 {
		return netbox.IPAddress{}
	}
	ip, ok := srv.IPAddress(id)
	if !ok {
		return netbox.IPAddress{}
	}
	return convertIP(ip)
}

func convertIP(ip netboxtest.IPAddress) netbox.IPAddress {
	st := ip.Status
	if st == "" {
		st = "active"
	}
	iface := ip.Interface
	if iface == "" && (ip.DeviceID != 0 || ip.VirtualMachineID != 0) {
		iface = "eth0"
	}
	return netbox.IPAddress{ID: ip.ID, Address: ip.Address, VRF: ip.VRF, Interface: iface, Status: st,
		Role: ip.Role, DNSName: ip.DNSName}
}

// expected predicts the view of a fake device from the fake's records.
func expected(t testing.TB, srv *netboxtest.Server, fd netboxtest.Device, kind netbox.Kind, got netbox.Device) view {
	t.Helper()
	v := view{Kind: kind, ID: fd.ID, Name: fd.Name, Site: fd.Site, Location: fd.Location, Role: fd.Role,
		Tenant: fd.Tenant, Platform: fd.Platform, Model: fd.DeviceType, Cluster: fd.Cluster, Rack: fd.Rack,
		Position: fd.Position, Status: fd.Status, Serial: fd.Serial, AssetTag: fd.AssetTag,
		Description: fd.Description, Comments: fd.Comments, Tags: fd.Tags,
		V4: fakeIP(srv, fd.PrimaryIP4), V6: fakeIP(srv, fd.PrimaryIP6), OOB: fakeIP(srv, fd.OOBIP)}
	if v.Name == "" {
		v.Name = got.Name // unnamed: checked separately
	}
	if v.Status == "" {
		v.Status = "active"
	}
	if len(fd.CustomFields) > 0 {
		// Through JSON, as NetBox sends them; unset fields are dropped.
		b, err := json.Marshal(fd.CustomFields)
		if err != nil {
			t.Fatal(err)
		}
		var m map[string]any
		if err := json.Unmarshal(b, &m); err != nil {
			t.Fatal(err)
		}
		for k, val := range m {
			if val == nil {
				delete(m, k)
			}
		}
		if len(m) > 0 {
			v.CustomFields = m
		}
	}
	for _, ip := range srv.IPAddresses(fd.ID, kind == netbox.KindVirtualMachine) {
		v.IPs = append(v.IPs, convertIP(ip))
	}
	return v
}

// TestFakeEveryField reads every device and VM of a generated fleet (all
// statuses) and compares each with the fake's own records.
func TestFakeEveryField(t *testing.T) {
	t.Parallel()
	srv, c := fakeClient(t, []netboxtest.Option{netboxtest.WithDevices(150), netboxtest.WithVirtualMachines(20)},
		netbox.WithPageSize(60))
	devs, derrs := drain(t, c.Devices(t.Context(), netbox.Selector{Statuses: []string{netbox.AnyStatus}, IncludeVMs: true}))
	if len(derrs) > 0 {
		t.Fatalf("per-device errors: %v", derrs)
	}
	fakeDevs, fakeVMs := srv.Devices(), srv.VirtualMachines()
	if len(devs) != len(fakeDevs)+len(fakeVMs) {
		t.Fatalf("got %d objects, want %d devices + %d VMs", len(devs), len(fakeDevs), len(fakeVMs))
	}
	catalog := srv.Catalog()
	regionOfSite := map[string]string{}
	for _, s := range catalog.Sites {
		regionOfSite[s.Slug] = ""
	}
	for i, d := range devs {
		kind, fd := netbox.KindDevice, netboxtest.Device{}
		if i < len(fakeDevs) {
			fd = fakeDevs[i]
		} else {
			kind, fd = netbox.KindVirtualMachine, fakeVMs[i-len(fakeDevs)]
		}
		want := expected(t, srv, fd, kind, d)
		if diff := cmp.Diff(want, viewOf(d), equatePrefix, cmpopts.EquateEmpty()); diff != "" {
			t.Errorf("%s %d (-want +got):\n%s", kind, fd.ID, diff)
		}
		if d.Name == "" || d.URL == "" || !strings.HasPrefix(d.URL, srv.URL+"/") || d.LastUpdated.IsZero() {
			t.Errorf("%s %d: name %q, URL %q, last updated %v", kind, d.ID, d.Name, d.URL, d.LastUpdated)
		}
		if d.Site.ID != 0 && d.Region.IsZero() {
			t.Errorf("%s %d: site %s has no region", kind, d.ID, d.Site.Slug)
		}
	}
}

// TestFakeQuirks checks each awkward case the fake's generator plants.
func TestFakeQuirks(t *testing.T) {
	t.Parallel()
	srv, c := fakeClient(t, []netboxtest.Option{netboxtest.WithDevices(200), netboxtest.WithUndecodableDevice(), netboxtest.WithCustomStatus()})
	devs, derrs := drain(t, c.Devices(t.Context(), netbox.Selector{Statuses: []string{netbox.AnyStatus}}))
	byID := map[int64]netbox.Device{}
	for _, d := range devs {
		byID[d.ID] = d
	}

	undecodable := srv.Quirky(netboxtest.QuirkUndecodable)
	if len(undecodable) != 1 || len(derrs) != 1 || derrs[0].ID != undecodable[0].ID || derrs[0].Kind != netbox.KindDevice {
		t.Fatalf("per-device errors %v, want one for device %v", derrs, undecodable)
	}
	if msg := derrs[0].Error(); !strings.Contains(msg, "primary_ip4") || !strings.Contains(msg, "/33") {
		t.Errorf("error %q does not give the reason", msg)
	}
	if len(devs) != len(srv.Devices())-1 {
		t.Errorf("got %d devices, want all %d but the undecodable one", len(devs), len(srv.Devices())-1)
	}

	quirky := func(q netboxtest.Quirk) []netbox.Device {
		t.Helper()
		var out []netbox.Device
		for _, fd := range srv.Quirky(q) {
			d, ok := byID[fd.ID]
			if !ok {
				t.Fatalf("quirk %v: device %d not streamed", q, fd.ID)
			}
			out = append(out, d)
		}
		if len(out) == 0 {
			t.Fatalf("the fake planted no %v device", q)
		}
		return out
	}
	for _, d := range quirky(netboxtest.QuirkCustomStatus) {
		if d.Status != "maintenance" || d.StatusLabel != "Maintenance" {
			t.Errorf("custom status device %d: status %q (%q)", d.ID, d.Status, d.StatusLabel)
		}
	}
	for _, d := range quirky(netboxtest.QuirkUnnamed) {
		if d.Name == "" || d.Name != d.Display || !strings.Contains(d.Name, d.Model.Name) {
			t.Errorf("unnamed device %d: fallback name %q, display %q", d.ID, d.Name, d.Display)
		}
	}
	for _, d := range quirky(netboxtest.QuirkNoPrimaryIP) {
		if d.PrimaryIPv4.IsValid() || d.PrimaryIPv6.IsValid() || len(d.ChooseIPs(netbox.PrimaryIPv4)) != 0 {
			t.Errorf("device %d without primary IP has %v / %v", d.ID, d.PrimaryIPv4, d.PrimaryIPv6)
		}
	}
	for _, d := range quirky(netboxtest.QuirkIPv6Only) {
		if !d.PrimaryIPv6.Address.Addr().Is6() || d.PrimaryIPv4.IsValid() {
			t.Errorf("IPv6-only device %d: v4 %v, v6 %v", d.ID, d.PrimaryIPv4.Address, d.PrimaryIPv6.Address)
		}
		for _, ip := range d.IPs {
			if ip.Address.Addr().Is4() {
				t.Errorf("IPv6-only device %d has %v", d.ID, ip.Address)
			}
		}
	}
	byAddr := map[netip.Addr][]netbox.IPAddress{}
	for _, d := range quirky(netboxtest.QuirkSameAddressTwoVRFs) {
		byAddr[d.PrimaryIPv4.Address.Addr()] = append(byAddr[d.PrimaryIPv4.Address.Addr()], d.PrimaryIPv4)
	}
	pairs := 0
	for addr, ips := range byAddr {
		if len(ips) == 2 {
			pairs++
			if ips[0].VRF == ips[1].VRF {
				t.Errorf("%v twice in VRF %q", addr, ips[0].VRF)
			}
		}
	}
	if pairs == 0 {
		t.Errorf("no address found on two devices in two VRFs: %v", byAddr)
	}
	for _, d := range quirky(netboxtest.QuirkNetworkAddress) {
		if p := d.PrimaryIPv4.Address; p.Addr() != p.Masked().Addr() {
			t.Errorf("device %d: %v is not a network address", d.ID, p)
		}
	}
	for _, d := range quirky(netboxtest.QuirkBroadcastAddress) {
		p := d.PrimaryIPv4.Address
		last := p.Addr().As4()
		hostBits := 32 - p.Bits()
		if v := uint32(last[0])<<24 | uint32(last[1])<<16 | uint32(last[2])<<8 | uint32(last[3]); v&(1<<hostBits-1) != 1<<hostBits-1 {
			t.Errorf("device %d: %v is not a broadcast address", d.ID, p)
		}
	}
	for _, d := range quirky(netboxtest.QuirkLongName) {
		if len(d.Name) != 64 || len(d.PrimaryIPv4.DNSName) <= 150 || len(d.Description) <= 150 || len(d.Site.Name) <= 64 {
			t.Errorf("long-name device %d: name %d, DNS name %d, description %d, site %d characters",
				d.ID, len(d.Name), len(d.PrimaryIPv4.DNSName), len(d.Description), len(d.Site.Name))
		}
	}
	for _, d := range quirky(netboxtest.QuirkUnicodeName) {
		fd, _ := srv.Device(d.ID)
		if d.Name != fd.Name || !utf8.ValidString(d.Name) || d.Name == strings.ToValidUTF8(d.Name, "") && isASCII(d.Name) {
			t.Errorf("unicode device %d: got %q, want %q", d.ID, d.Name, fd.Name)
		}
	}
}

func isASCII(s string) bool {
	for i := range len(s) {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

// TestFakeRequestCount proves that requests grow with devices/1000, not
// with devices: full-size pages from the fake.
func TestFakeRequestCount(t *testing.T) {
	t.Parallel()
	for _, n := range []int{10, 1001} {
		srv, c := fakeClient(t, []netboxtest.Option{netboxtest.WithDevices(n)})
		devs, derrs := drain(t, c.Devices(t.Context(), netbox.Selector{Statuses: []string{netbox.AnyStatus}}))
		if len(devs)+len(derrs) != n {
			t.Fatalf("n=%d: got %d devices", n, len(devs)+len(derrs))
		}
		pages := (n + 999) / 1000
		if got := srv.Count(netboxtest.RouteDevices); got != pages {
			t.Errorf("n=%d: %d device list requests, want %d", n, got, pages)
		}
		// ids up to 5 digits: at most 5 IP batches per page, one site lookup per page.
		if got := srv.Count(netboxtest.RouteIPAddresses); got < pages || got > 6*pages {
			t.Errorf("n=%d: %d IP requests for %d pages", n, got, pages)
		}
		if got := srv.Count(netboxtest.RouteSites); got > pages {
			t.Errorf("n=%d: %d site requests for %d pages", n, got, pages)
		}
		for _, r := range srv.Requests() {
			if len(r.Path)+len(r.Query.Encode()) >= 4000 {
				t.Errorf("request URL of %d characters", len(r.Path)+len(r.Query.Encode()))
			}
			if r.Route == netboxtest.RouteDevices && !strings.HasPrefix(r.Query.Get("fields"), "id,name,") {
				t.Errorf("device list without fields=: %v", r.Query)
			}
		}
	}
}

// TestFakeSelectors checks filters against the fake's own data.
func TestFakeSelectors(t *testing.T) {
	t.Parallel()
	srv, c := fakeClient(t, []netboxtest.Option{netboxtest.WithDevices(200)})
	all := srv.Devices()
	cat := srv.Catalog()
	tagA, tagB := cat.Tags[0].Slug, cat.Tags[1].Slug
	site := all[0].Site
	active := func(d netboxtest.Device) bool { return d.Status == "" || d.Status == "active" }
	tests := []struct {
		name string
		sel  netbox.Selector
		want func(netboxtest.Device) bool
	}{
		{"site", netbox.Selector{Sites: []string{site}}, func(d netboxtest.Device) bool { return active(d) && d.Site == site }},
		{"all of tags", netbox.Selector{Tags: []string{tagA, tagB}}, func(d netboxtest.Device) bool {
			return active(d) && slices.Contains(d.Tags, tagA) && slices.Contains(d.Tags, tagB)
		}},
		{"any of tags", netbox.Selector{AnyTags: []string{tagA, tagB}}, func(d netboxtest.Device) bool {
			return active(d) && (slices.Contains(d.Tags, tagA) || slices.Contains(d.Tags, tagB))
		}},
		{"exclude tag", netbox.Selector{ExcludeTags: []string{tagA}}, func(d netboxtest.Device) bool {
			return active(d) && !slices.Contains(d.Tags, tagA)
		}},
		{"planned", netbox.Selector{Statuses: []string{"planned"}}, func(d netboxtest.Device) bool { return d.Status == "planned" }},
		{"no tenant", netbox.Selector{NoTenant: true}, func(d netboxtest.Device) bool { return active(d) && d.Tenant == "" }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			devs, derrs := drain(t, c.Devices(t.Context(), tt.sel))
			var got, want []int64
			for _, d := range devs {
				got = append(got, d.ID)
			}
			for _, de := range derrs {
				got = append(got, de.ID)
			}
			for _, d := range all {
				if tt.want(d) {
					want = append(want, d.ID)
				}
			}
			if len(want) == 0 {
				t.Fatal("the fake's data selects nothing; pick another value")
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("ids (-want +got):\n%s", diff)
			}
		})
	}
}

func TestFakeChangedSinceAndCustomField(t *testing.T) {
	t.Parallel()
	srv, c := fakeClient(t, []netboxtest.Option{netboxtest.WithDevices(50)})
	before := time.Now().Add(-time.Millisecond)
	target := srv.Devices()[7]
	if _, err := srv.UpdateDevice(target.ID, func(d *netboxtest.Device) {
		d.Status = "active"
		if d.CustomFields == nil {
			d.CustomFields = map[string]any{}
		}
		d.CustomFields["wug_group"] = "core-x"
	}); err != nil {
		t.Fatal(err)
	}
	for name, sel := range map[string]netbox.Selector{
		"changed since": {ChangedSince: before},
		"custom field":  {CustomFields: map[string][]string{"wug_group": {"core-x"}}},
	} {
		devs, _ := drain(t, c.Devices(t.Context(), sel))
		if len(devs) != 1 || devs[0].ID != target.ID {
			var ids []int64
			for _, d := range devs {
				ids = append(ids, d.ID)
			}
			t.Errorf("%s: got %v, want [%d]", name, ids, target.ID)
		}
	}
}

func TestFakeErrors(t *testing.T) {
	t.Parallel()
	srv := netboxtest.NewServer(t)
	bad, err := netbox.NewClient(srv.URL, "ffffffffffffffffffffffffffffffffffffffff", netbox.WithRetry(netbox.RetryPolicy{}))
	if err != nil {
		t.Fatal(err)
	}
	var last error
	for _, err := range bad.Devices(t.Context(), netbox.Selector{}) {
		last = err
	}
	if !errors.Is(last, netbox.ErrTokenRefused) || !strings.Contains(last.Error(), "token refused") ||
		strings.Contains(last.Error(), "ffffffff") {
		t.Errorf("bad token: %v", last)
	}

	c, err := netbox.NewClient(srv.URL, srv.Token, netbox.WithRetry(netbox.RetryPolicy{}))
	if err != nil {
		t.Fatal(err)
	}
	for _, err := range c.Devices(t.Context(), netbox.Selector{SiteIDs: []int64{999999}}) {
		last = err
	}
	if !errors.Is(last, netbox.ErrBadFilter) || !strings.Contains(last.Error(), "site_id") {
		t.Errorf("bad filter: %v", last)
	}
}

func TestFakeRetriesTransientFailures(t *testing.T) {
	t.Parallel()
	srv, c := fakeClient(t, []netboxtest.Option{netboxtest.WithDevices(20)})
	srv.FailNext(netboxtest.Fault{Route: netboxtest.RouteDevices, Status: http.StatusServiceUnavailable, Times: 2})
	devs, _ := drain(t, c.Devices(t.Context(), netbox.Selector{Statuses: []string{netbox.AnyStatus}}))
	if len(devs) != 20 {
		t.Errorf("got %d devices after transient 503s, want 20", len(devs))
	}
}

func TestFakeStatus(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		version   string
		supported bool
	}{{"4.3.0", true}, {"4.5.2", true}, {"4.6.0", false}} {
		srv := netboxtest.NewServer(t, netboxtest.WithVersion(tt.version))
		var logs bytes.Buffer
		// Debug level: the transport logs every request there.
		c, err := netbox.NewClient(srv.URL, srv.Token, netbox.WithLogger(slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))))
		if err != nil {
			t.Fatal(err)
		}
		st, err := c.Status(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		if st.Version != tt.version || st.Supported != tt.supported {
			t.Errorf("%s: got %+v", tt.version, st)
		}
		if warned := strings.Contains(logs.String(), "outside the supported range"); warned == tt.supported {
			t.Errorf("%s: warning logged = %v; logs:\n%s", tt.version, warned, logs.String())
		}
		if !strings.Contains(logs.String(), "/api/status/") {
			t.Errorf("%s: the status request was not logged; logs:\n%s", tt.version, logs.String())
		}
		for _, secret := range []string{srv.Token, "Authorization"} {
			if strings.Contains(logs.String(), secret) {
				t.Errorf("%s: the log contains %q", tt.version, secret)
			}
		}
	}
}

// TestFakeWebhook has the fake send signed webhooks for its mutations, in
// each body form, to a WebhookHandler.
func TestFakeWebhook(t *testing.T) {
	t.Parallel()
	for _, version := range []string{"4.3.0", "4.4.1", "4.5.0"} {
		t.Run(version, func(t *testing.T) {
			t.Parallel()
			events := make(chan netbox.Event, 10)
			h, err := netbox.NewWebhookHandler(netbox.WebhookConfig{Secret: "s3cret"}, netbox.EmitTo(events))
			if err != nil {
				t.Fatal(err)
			}
			recv := httptest.NewServer(h)
			defer recv.Close()
			srv := netboxtest.NewServer(t, netboxtest.WithDevices(10), netboxtest.WithVirtualMachines(2),
				netboxtest.WithVersion(version), netboxtest.WithWebhook(recv.URL, "s3cret"))

			target := srv.Devices()[3]
			if _, err := srv.UpdateDevice(target.ID, func(d *netboxtest.Device) { d.Description = "moved" }); err != nil {
				t.Fatal(err)
			}
			if err := srv.DeleteDevice(target.ID); err != nil {
				t.Fatal(err)
			}
			vm := srv.VirtualMachines()[1]
			if _, err := srv.UpdateVirtualMachine(vm.ID, func(d *netboxtest.Device) { d.Status = "offline" }); err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
			defer cancel()
			var got []netbox.Event
			for len(got) < 3 {
				select {
				case e := <-events:
					got = append(got, e)
				case <-ctx.Done():
					t.Fatalf("got %d events; deliveries %+v", len(got), srv.Deliveries())
				}
			}
			if got[0].Action != netbox.Updated || got[0].ID != target.ID || got[0].Kind != netbox.KindDevice ||
				got[0].Device == nil || got[0].Device.Description != "moved" || got[0].Device.Site.Slug != target.Site {
				t.Errorf("update event %+v", got[0])
			}
			if got[1].Action != netbox.Deleted || got[1].ID != target.ID || got[1].Device != nil {
				t.Errorf("delete event %+v", got[1])
			}
			if e := got[2]; e.Action != netbox.Updated || e.Kind != netbox.KindVirtualMachine || e.ID != vm.ID ||
				e.Device == nil || e.Device.Status != "offline" || e.Device.Name != vm.Name {
				t.Errorf("VM update event %+v", e)
			}
		})
	}
}

// TestFakeVersionPaths reads the same data from fakes of each NetBox
// version: the devices are identical, NetBox 4.0 and later are asked for
// fields= and send fewer bytes, 3.7 gets exclude=config_context, and the
// version is read once.
func TestFakeVersionPaths(t *testing.T) {
	t.Parallel()
	sel := netbox.Selector{Statuses: []string{netbox.AnyStatus}, IncludeVMs: true, IPPolicy: netbox.AllIPs}
	type result struct {
		devs  []netbox.Device
		bytes int64
	}
	read := func(t *testing.T, version string, sel netbox.Selector) (result, *netboxtest.Server) {
		srv, c := fakeClient(t, []netboxtest.Option{netboxtest.WithDevices(300), netboxtest.WithVirtualMachines(30),
			netboxtest.WithCustomStatus(), netboxtest.WithVersion(version), netboxtest.WithStrictParams()})
		devs, derrs := drain(t, c.Devices(t.Context(), sel))
		if len(derrs) > 0 {
			t.Fatalf("%s: %v", version, derrs)
		}
		if again, _ := drain(t, c.Devices(t.Context(), netbox.Selector{IDs: []int64{1}})); len(again) != 1 {
			t.Fatalf("%s: second read: %d devices", version, len(again))
		}
		if n := srv.Count(netboxtest.RouteStatus); n != 1 {
			t.Errorf("%s: /api/status/ read %d times, want once", version, n)
		}
		tr := c.Traffic()
		if tr.Objects != int64(len(devs))+1 {
			t.Errorf("%s: traffic counts %d objects, streamed %d", version, tr.Objects, len(devs)+1)
		}
		for i := range devs { // each fake has its own port
			devs[i].URL = strings.TrimPrefix(devs[i].URL, srv.URL)
		}
		return result{devs, tr.Bytes}, srv
	}
	old, _ := read(t, "3.7.8", sel)
	if len(old.devs) != 330 {
		t.Fatalf("3.7: %d objects, want 330", len(old.devs))
	}
	for _, version := range []string{"4.0.11", "4.3.0", "4.5.2"} {
		t.Run(version, func(t *testing.T) {
			t.Parallel()
			got, srv := read(t, version, sel)
			if diff := cmp.Diff(old.devs, got.devs, equatePrefix); diff != "" {
				t.Errorf("devices differ from 3.7's (-3.7 +%s):\n%s", version, diff)
			}
			if got.bytes*4 > old.bytes*3 {
				t.Errorf("received %d bytes, 3.7 %d: fields= should save at least a quarter", got.bytes, old.bytes)
			}
			for _, r := range srv.Requests() {
				switch r.Route {
				case netboxtest.RouteDevices, netboxtest.RouteVirtualMachines, netboxtest.RouteIPAddresses, netboxtest.RouteSites:
					if r.Query.Get("fields") == "" || r.Query.Has("exclude") {
						t.Errorf("%s without fields=: %v", r.Route, r.Query)
					}
				}
			}
			omit := sel
			omit.OmitCustomFields = true
			lean, _ := read(t, version, omit)
			for _, d := range lean.devs {
				if d.CustomFields != nil {
					t.Fatalf("device %d has custom fields though none were asked for", d.ID)
				}
			}
			if lean.bytes >= got.bytes {
				t.Errorf("without custom fields %d bytes, with %d", lean.bytes, got.bytes)
			}
		})
	}
}
