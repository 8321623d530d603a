package export

import (
	"net/netip"

	"github.com/wugsync/wugsync/wug"
)

// testTemplate builds the template the test mapping sends.
func testTemplate(name string, addr netip.Addr, note string) wug.DeviceTemplate {
	return wug.DeviceTemplate{DisplayName: name, Note: note,
		Interfaces: []wug.TemplateInterface{{DefaultInterface: true, NetworkAddress: addr.String()}}}
}

// templateAddr returns the address a template's default interface carries.
func templateAddr(t wug.DeviceTemplate) netip.Addr {
	for _, i := range t.Interfaces {
		if a, err := netip.ParseAddr(i.NetworkAddress); err == nil {
			return a
		}
	}
	return netip.Addr{}
}
