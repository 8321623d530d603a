package netboxtest_test

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	gonetbox "github.com/netbox-community/go-netbox/v4"

	"github.com/wugsync/wugsync/netbox/netboxtest"
)

// goNetBox returns go-netbox's own client pointed at s, configured as the
// reference recommends.
func goNetBox(s *netboxtest.Server) *gonetbox.APIClient {
	cfg := gonetbox.NewConfiguration()
	cfg.Servers = gonetbox.ServerConfigurations{{URL: s.URL}}
	cfg.HTTPClient = s.HTTPClient()
	cfg.AddDefaultHeader("Authorization", "Token "+s.Token)
	cfg.AddDefaultHeader("Accept-Language", "en-US")
	return gonetbox.NewAPIClient(cfg)
}

// summary is what the tests compare between the fake's state and what
// go-netbox decoded.
type summary struct {
	ID         int64
	Name       string
	Display    string
	Status     string
	Site       string
	Role       string
	Tags       []string
	PrimaryIP4 string
	PrimaryIP6 string
	OOBIP      string
}

func fakeSummary(h *netboxtest.Handler, d netboxtest.Device) summary {
	addr := func(id int64) string {
		if ip, ok := h.IPAddress(id); ok {
			return ip.Address.String()
		}
		return ""
	}
	return summary{ID: d.ID, Name: d.Name, Status: d.Status, Site: d.Site, Role: d.Role, Tags: d.Tags,
		PrimaryIP4: addr(d.PrimaryIP4), PrimaryIP6: addr(d.PrimaryIP6), OOBIP: addr(d.OOBIP)}
}

func decodedSummary(d *gonetbox.DeviceWithConfigContext) summary {
	ip := func(n gonetbox.NullableBriefIPAddress) string {
		if p := n.Get(); p != nil {
			return p.Address
		}
		return ""
	}
	s := summary{ID: int64(d.Id), Name: d.GetName(), Display: d.Display, Status: string(d.Status.GetValue()),
		Site: d.Site.Slug, Role: d.Role.Slug, PrimaryIP4: ip(d.PrimaryIp4), PrimaryIP6: ip(d.PrimaryIp6), OOBIP: ip(d.OobIp)}
	for _, t := range d.Tags {
		s.Tags = append(s.Tags, t.Slug)
	}
	return s
}

// TestGoNetBoxDecodesEverything pages through every list endpoint with
// go-netbox's models and retrieves every awkward device, comparing what
// was decoded with the fake's state.
func TestGoNetBoxDecodesEverything(t *testing.T) {
	t.Parallel()
	s := netboxtest.NewServer(t, netboxtest.WithDevices(120), netboxtest.WithVirtualMachines(12))
	c := goNetBox(s)
	ctx := context.Background()

	var got []summary
	for offset := int32(0); ; {
		page, _, err := c.DcimAPI.DcimDevicesList(ctx).Ordering("id").Limit(128).Offset(offset).Execute()
		if err != nil {
			t.Fatalf("DcimDevicesList offset %d: %v", offset, err)
		}
		for i := range page.Results {
			d := decodedSummary(&page.Results[i])
			d.Display = ""
			got = append(got, d)
		}
		if page.Next.Get() == nil {
			break
		}
		offset += int32(len(page.Results))
	}
	var want []summary
	for _, d := range s.Devices() {
		want = append(want, fakeSummary(s.Handler, d))
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("devices (-want +got):\n%s", diff)
	}

	for _, q := range netboxtest.AllQuirks() {
		devs := s.Quirky(q)
		if q == netboxtest.QuirkUndecodable || q == netboxtest.QuirkCustomStatus {
			if len(devs) != 0 {
				t.Errorf("opt-in quirk %v planted without being asked for", q)
			}
			continue
		}
		if len(devs) == 0 {
			t.Errorf("no device flagged %v", q)
			continue
		}
		for _, d := range devs {
			dev, _, err := c.DcimAPI.DcimDevicesRetrieve(ctx, int32(d.ID)).Execute()
			if err != nil {
				t.Errorf("%v: DcimDevicesRetrieve(%d): %v", q, d.ID, err)
				continue
			}
			if dev.Display == "" || dev.Url == "" {
				t.Errorf("%v: device %d decoded without display or url", q, d.ID)
			}
			if q == netboxtest.QuirkUnnamed && (dev.Name.Get() != nil || !strings.Contains(dev.Display, "(")) {
				t.Errorf("unnamed device %d: name %v, display %q", d.ID, dev.Name.Get(), dev.Display)
			}
		}
	}

	ipCount := 0
	for offset := int32(0); ; {
		page, _, err := c.IpamAPI.IpamIpAddressesList(ctx).Limit(1000).Offset(offset).Execute()
		if err != nil {
			t.Fatalf("IpamIpAddressesList: %v", err)
		}
		ipCount += len(page.Results)
		if page.Next.Get() == nil {
			break
		}
		offset += int32(len(page.Results))
	}
	if ipCount == 0 {
		t.Error("no IP addresses decoded")
	}
	if _, _, err := c.IpamAPI.IpamIpAddressesRetrieve(ctx, 1).Execute(); err != nil {
		t.Errorf("IpamIpAddressesRetrieve: %v", err)
	}

	ifaces, _, err := c.DcimAPI.DcimInterfacesList(ctx).DeviceId([]int32{1, 2, 3}).Execute()
	if err != nil || len(ifaces.Results) == 0 {
		t.Errorf("DcimInterfacesList: %v (%d results)", err, len(ifaces.GetResults()))
	}

	vms, _, err := c.VirtualizationAPI.VirtualizationVirtualMachinesList(ctx).Limit(1000).Execute()
	if err != nil || len(vms.Results) != 12 {
		t.Fatalf("VirtualizationVirtualMachinesList: %v (%d results)", err, len(vms.GetResults()))
	}
	if _, _, err := c.VirtualizationAPI.VirtualizationVirtualMachinesRetrieve(ctx, vms.Results[0].Id).Execute(); err != nil {
		t.Errorf("VirtualizationVirtualMachinesRetrieve: %v", err)
	}
	vmIPs, _, err := c.IpamAPI.IpamIpAddressesList(ctx).VirtualMachineId([]int32{1, 2}).Execute()
	if err != nil || len(vmIPs.Results) != 2 {
		t.Errorf("IpamIpAddressesList(virtual_machine_id): %v (%d results)", err, len(vmIPs.GetResults()))
	}

	sites, _, err := c.DcimAPI.DcimSitesList(ctx).Execute()
	if err != nil || len(sites.Results) == 0 {
		t.Fatalf("DcimSitesList: %v", err)
	}
	site, _, err := c.DcimAPI.DcimSitesRetrieve(ctx, sites.Results[0].Id).Execute()
	if err != nil || site.Region.Get() == nil {
		t.Errorf("DcimSitesRetrieve: %v (region %v)", err, site.GetRegion())
	}

	st, _, err := c.StatusAPI.StatusRetrieve(ctx).Execute()
	if err != nil || st["netbox-version"] != "4.3.0" {
		t.Errorf("StatusRetrieve: %v, %v", err, st["netbox-version"])
	}
}

// TestGoNetBoxRejectsCustomStatus checks the opt-in custom status device
// fails exactly as go-netbox fails against a NetBox with a custom status
// choice: the page holding it does not decode, the others do.
func TestGoNetBoxRejectsCustomStatus(t *testing.T) {
	t.Parallel()
	s := netboxtest.NewServer(t, netboxtest.WithDevices(50), netboxtest.WithCustomStatus())
	c := goNetBox(s)
	ctx := context.Background()
	bad := s.Quirky(netboxtest.QuirkCustomStatus)
	if len(bad) != 1 {
		t.Fatalf("want one custom status device, got %d", len(bad))
	}
	id := int32(bad[0].ID)
	_, _, err := c.DcimAPI.DcimDevicesRetrieve(ctx, id).Execute()
	var apiErr *gonetbox.GenericOpenAPIError
	if !errors.As(err, &apiErr) {
		t.Fatalf("DcimDevicesRetrieve(%d): want a GenericOpenAPIError, got %v", id, err)
	}
	if want := "maintenance is not a valid DeviceStatusValue"; err.Error() != want {
		t.Errorf("decode error = %q, want %q", err.Error(), want)
	}
	if _, _, err := c.DcimAPI.DcimDevicesList(ctx).Id([]int32{id, id + 1}).Execute(); err == nil {
		t.Error("a page holding the custom status device decoded")
	}
	other := id + 1
	if other > 50 {
		other = id - 1
	}
	if _, _, err := c.DcimAPI.DcimDevicesList(ctx).Id([]int32{other}).Execute(); err != nil {
		t.Errorf("a page without the custom status device: %v", err)
	}
	// NetBox accepts the custom choice as a filter value.
	page, _, err := c.DcimAPI.DcimDevicesList(ctx).Status([]string{"active"}).Execute()
	if err != nil {
		t.Fatalf("status=active: %v", err)
	}
	if slices.ContainsFunc(page.Results, func(d gonetbox.DeviceWithConfigContext) bool { return d.Id == id }) {
		t.Error("status=active returned the maintenance device")
	}
}

// TestGoNetBoxBriefAndFieldsDoNotDecode checks the reduced shapes fail in
// go-netbox as the reference describes, while exclude=config_context does
// not change the decodable shape.
func TestGoNetBoxBriefAndFieldsDoNotDecode(t *testing.T) {
	t.Parallel()
	s := netboxtest.NewServer(t)
	ctx := context.Background()
	for _, tc := range []struct {
		param, value, wantErr string
	}{
		{"brief", "1", "no value given for required property device_type"},
		{"fields", "id,name,primary_ip4", "no value given for required property url"},
		{"exclude", "config_context", ""},
	} {
		c := goNetBox(s)
		c.GetConfig().HTTPClient = &http.Client{Transport: addQuery{tc.param, tc.value, s.HTTPClient().Transport}}
		_, _, err := c.DcimAPI.DcimDevicesList(ctx).Execute()
		got := ""
		if err != nil {
			got = err.Error()
		}
		if got != tc.wantErr {
			t.Errorf("%s=%s: error %q, want %q", tc.param, tc.value, got, tc.wantErr)
		}
	}
}
