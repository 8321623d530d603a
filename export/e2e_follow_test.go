package export

import (
	"net/netip"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/wugsync/wugsync/netbox/netboxtest"
	"github.com/wugsync/wugsync/wug/wugtest"
)

// addNetBoxDevice creates a NetBox device in site with one primary IPv4
// address and returns its id and the address's id.
func (e *e2e) addNetBoxDevice(t testing.TB, name, site, addr string) (devID, ipID int64) {
	t.Helper()
	dev, err := e.nb.CreateDevice(netboxtest.Device{Name: name, Site: site, Serial: "SN-" + name})
	if err != nil {
		t.Fatal(err)
	}
	ip, err := e.nb.CreateIP(netboxtest.IPAddress{Address: netip.MustParsePrefix(addr), DeviceID: dev.ID})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.nb.UpdateDevice(dev.ID, func(d *netboxtest.Device) { d.PrimaryIP4 = ip.ID }); err != nil {
		t.Fatal(err)
	}
	return dev.ID, ip.ID
}

// The display name and note of a device wugsync adopted stay as people set
// them in WUG, while its owned attributes follow NetBox in one request and
// attributes outside the prefix are never touched; with
// Mapping.WriteAdoptedProperties they follow NetBox too.
func TestE2EAdoptedDeviceKeepsNameAndNote(t *testing.T) {
	t.Parallel()
	for _, writeProps := range []bool{false, true} {
		t.Run(map[bool]string{false: "kept", true: "written"}[writeProps], func(t *testing.T) {
			t.Parallel()
			e := newE2E(t, []netboxtest.Option{netboxtest.WithDevices(10)})
			if writeProps {
				tr, err := newTransformer(Mapping{WriteAdoptedProperties: true})
				if err != nil {
					t.Fatal(err)
				}
				e.job.Transformer = tr
			}
			site := e.nb.Catalog().Sites[0].Slug
			devID, _ := e.addNetBoxDevice(t, "edge-7", site, "172.31.7.7/24")
			wugID := e.wug.AddDevice(wugtest.Device{Name: "Edge 7 (hand made)", Address: "172.31.7.7", Notes: "call ops first",
				Attributes: map[string]string{"Owner": "ops"}})

			if res := e.run(t, RunOptions{}); res.Counts.Adopted != 1 || res.Counts.Failed != 0 {
				t.Fatalf("first run: %+v, want the hand-made device adopted", res.Counts)
			}
			count := e.wug.DeviceCount()
			if _, err := e.nb.UpdateDevice(devID, func(d *netboxtest.Device) { d.Serial = "SN-SWAPPED" }); err != nil {
				t.Fatal(err)
			}
			e.wug.ResetRequests()
			if res := e.run(t, RunOptions{}); res.Counts.Updated != 1 || res.Counts.Failed != 0 {
				t.Fatalf("second run: %+v, want one update", res.Counts)
			}

			got, _ := e.wug.Device(wugID)
			wantName, wantNote := "Edge 7 (hand made)", "call ops first"
			if writeProps {
				wantName = "edge-7"
			}
			if got.Name != wantName || (got.Notes != wantNote) != writeProps {
				t.Errorf("adopted device's name %q and note %q; want name %q, note kept %v", got.Name, got.Notes, wantName, !writeProps)
			}
			if got.Attributes["NetBox.Serial"] != "SN-SWAPPED" || got.Attributes["Owner"] != "ops" {
				t.Errorf("attributes %v, want NetBox.Serial changed and Owner kept", got.Attributes)
			}
			if n := e.wug.DeviceCount(); n != count {
				t.Errorf("WUG holds %d devices after the second run, %d before", n, count)
			}
			wantRoutes := map[string]int{"PATCH /api/v1/devices/{deviceId}/attributes/-": 1}
			if diff := cmp.Diff(wantRoutes, e.changeRequests()); diff != "" {
				t.Errorf("second run's requests besides the listing (-want +got):\n%s", diff)
			}
		})
	}
}

// changeRequests counts the WUG requests by route, the device listing and
// logins aside.
func (e *e2e) changeRequests() map[string]int {
	out := map[string]int{}
	for route, n := range e.wug.Counts().ByRoute {
		switch route {
		case "GET /api/v1/device-groups/{groupId}/devices/-", "POST /api/v1/token":
			continue
		}
		out[route] += n
	}
	return out
}
