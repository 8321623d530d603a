package netboxtest_test

import (
	"net/netip"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"

	"github.com/wugsync/wugsync/netbox/netboxtest"
)

func TestGeneratorIsDeterministic(t *testing.T) {
	t.Parallel()
	build := func(seed uint64) *netboxtest.Handler {
		h, err := netboxtest.NewHandler(netboxtest.WithDevices(500), netboxtest.WithVirtualMachines(50), netboxtest.WithSeed(seed))
		if err != nil {
			t.Fatal(err)
		}
		return h
	}
	a, b, c := build(3), build(3), build(4)
	if diff := cmp.Diff(a.Devices(), b.Devices()); diff != "" {
		t.Errorf("same seed, different devices (-a +b):\n%s", diff)
	}
	if diff := cmp.Diff(a.VirtualMachines(), b.VirtualMachines()); diff != "" {
		t.Errorf("same seed, different VMs (-a +b):\n%s", diff)
	}
	if cmp.Equal(a.Devices(), c.Devices()) {
		t.Error("different seeds gave the same devices")
	}
	if n := len(a.Devices()); n != 500 {
		t.Errorf("%d devices, want 500", n)
	}
}

// TestQuirks checks each awkward case is planted, at the smallest size that holds them all,
// and is what its flag says.
func TestQuirks(t *testing.T) {
	t.Parallel()
	h, err := netboxtest.NewHandler(netboxtest.WithDevices(11), netboxtest.WithUndecodableDevice(), netboxtest.WithCustomStatus())
	if err != nil {
		t.Fatal(err)
	}
	addrs := func(d netboxtest.Device) []netip.Prefix {
		var out []netip.Prefix
		for _, ip := range h.IPAddresses(d.ID, false) {
			out = append(out, ip.Address)
		}
		return out
	}
	primary := func(d netboxtest.Device) netboxtest.IPAddress {
		ip, _ := h.IPAddress(d.PrimaryIP4)
		return ip
	}
	for _, q := range netboxtest.AllQuirks() {
		devs := h.Quirky(q)
		want := 1
		if q == netboxtest.QuirkSameAddressTwoVRFs {
			want = 2
		}
		if len(devs) != want {
			t.Errorf("%v: %d devices, want %d", q, len(devs), want)
			continue
		}
		d := devs[0]
		var bad bool
		switch q {
		case netboxtest.QuirkUnnamed:
			bad = d.Name != ""
		case netboxtest.QuirkNoPrimaryIP:
			bad = d.PrimaryIP4 != 0 || d.PrimaryIP6 != 0
		case netboxtest.QuirkIPv6Only:
			bad = d.PrimaryIP4 != 0 || d.PrimaryIP6 == 0 || d.OOBIP != 0
			for _, a := range addrs(d) {
				bad = bad || a.Addr().Is4()
			}
		case netboxtest.QuirkSameAddressTwoVRFs:
			a, b := primary(devs[0]), primary(devs[1])
			bad = a.Address != b.Address || a.VRF == b.VRF || a.VRF == "" || b.VRF == ""
		case netboxtest.QuirkNetworkAddress:
			p := primary(d).Address
			bad = p.Addr() != p.Masked().Addr()
		case netboxtest.QuirkBroadcastAddress:
			p := primary(d).Address
			bad = p.Addr().Next().IsValid() && p.Contains(p.Addr().Next())
		case netboxtest.QuirkLongName:
			site := ""
			for _, s := range h.Catalog().Sites {
				if s.Slug == d.Site {
					site = s.Name
				}
			}
			snmp, _ := d.CustomFields["snmp_location"].(string)
			bad = len(d.Name) != 64 || len(primary(d).DNSName) <= 150 || len(primary(d).DNSName) > 253 ||
				len(d.Description) != 200 || len(snmp) <= 150 || len(site) != 100
		case netboxtest.QuirkUnicodeName:
			bad = !utf8.ValidString(d.Name) || len(d.Name) == utf8.RuneCountInString(d.Name)
		case netboxtest.QuirkCustomStatus:
			bad = d.Status != "maintenance"
		case netboxtest.QuirkUndecodable:
			bad = !primary(d).Address.IsValid()
		}
		if bad {
			t.Errorf("%v: device does not show it: %+v (addresses %v)", q, d, addrs(d))
		}
		if strings.Contains(q.String(), "|") || q.String() == "none" {
			t.Errorf("Quirk(%d).String() = %q", q, q)
		}
	}
	if s := (netboxtest.QuirkUnnamed | netboxtest.QuirkLongName).String(); s != "unnamed|long-name" {
		t.Errorf("String of two flags = %q", s)
	}
}

func TestOptionErrors(t *testing.T) {
	t.Parallel()
	for _, o := range []netboxtest.Option{netboxtest.WithDevices(5), netboxtest.WithDevices(100_001),
		netboxtest.WithVirtualMachines(-1), netboxtest.WithToken(""), netboxtest.WithToken("a b"),
		netboxtest.WithVersion("3.6.9"), netboxtest.WithVersion("5.0.0"), netboxtest.WithVersion("latest"), netboxtest.WithMaxPageSize(0),
		netboxtest.WithClock(nil), netboxtest.WithWebhook("ftp://127.0.0.1/", "")} {
		if _, err := netboxtest.NewHandler(o); err == nil || !strings.HasPrefix(err.Error(), "netboxtest: ") {
			t.Errorf("option accepted or error unclear: %v", err)
		}
	}
}
