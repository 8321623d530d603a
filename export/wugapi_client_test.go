package export

import (
	"context"
	"net/netip"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/wugsync/wugsync/wug"
	"github.com/wugsync/wugsync/wug/wugtest"
)

func TestWUGAPIAdapter(t *testing.T) {
	t.Parallel()
	srv := wugtest.NewServer(t, wugtest.WithScanDelay(time.Hour))
	api := newWUGAPI(srv.Client(), wugOptions{})
	ctx := context.Background()
	ids := srv.AddDevices(
		wugtest.Device{Name: "a", Address: "10.0.0.1", Attributes: map[string]string{"NetBox.Old": "x", "Owner": "ops"}},
		wugtest.Device{Name: "b", Address: "10.0.0.10"},
		wugtest.Device{Name: "c", Address: "2001:db8::1"})

	var listed []wugDevice
	for d, err := range api.Devices(ctx) {
		if err != nil {
			t.Fatal(err)
		}
		listed = append(listed, d)
	}
	if len(listed) != 3 || listed[2].Address != netip.MustParseAddr("2001:db8::1") {
		t.Errorf("Devices = %+v", listed)
	}
	found, err := api.FindByAddress(ctx, netip.MustParseAddr("10.0.0.1"))
	if err != nil || len(found) != 1 || found[0].ID != ids[0] {
		t.Errorf("FindByAddress(10.0.0.1) = %+v, %v; want only device %s", found, err, ids[0])
	}

	// Metadata: owned attributes follow the template, others stay.
	tmpl := wug.DeviceTemplate{DisplayName: "a-renamed", Attributes: []wug.NameValue{{Name: "NetBox.Site", Value: "Site A"}}}
	changed, err := api.UpdateMetadata(ctx, found[0], tmpl, defaultAttributePrefix, true)
	if err != nil || !changed {
		t.Fatalf("UpdateMetadata = %v, %v", changed, err)
	}
	d, _ := srv.Device(ids[0])
	if diff := cmp.Diff(map[string]string{"NetBox.Site": "Site A", "Owner": "ops"}, d.Attributes); diff != "" || d.Name != "a-renamed" {
		t.Errorf("after update, name %q, attributes (-want +got):\n%s", d.Name, diff)
	}
	srv.ResetRequests()
	cur := found[0]
	cur.Name = "a-renamed"
	if changed, err := api.UpdateMetadata(ctx, cur, tmpl, defaultAttributePrefix, true); err != nil || changed {
		t.Errorf("second UpdateMetadata = %v, %v; want no change", changed, err)
	}
	if c := srv.Counts(); c.Writes != 0 || c.Reads != 1 {
		t.Errorf("unchanged device cost %d reads and %d writes, want 1 and 0", c.Reads, c.Writes)
	}

	// Scans.
	var groups groupIndex
	gid, err := groups.ensure(ctx, api, "My Network/NetBox/Site A")
	if err != nil {
		t.Fatal(err)
	}
	if again, err := groups.ensure(ctx, api, "my network/netbox/site a"); err != nil || again != gid {
		t.Errorf("the same path in other case = %q, %v; want group %s", again, err, gid)
	}
	srv.SetReachable("10.0.0.77")
	scanID, err := api.ScanIPs(ctx, gid, []string{"10.0.0.77"})
	if err != nil {
		t.Fatal(err)
	}
	if info, err := api.ScanStatus(ctx, scanID); err != nil || info.Done {
		t.Errorf("running scan: %+v, %v", info, err)
	}
	srv.CompleteScans()
	if info, err := api.ScanStatus(ctx, scanID); err != nil || !info.Done {
		t.Errorf("completed scan: %+v, %v", info, err)
	}
	got, err := api.ScanDevices(ctx, scanID)
	if err != nil || len(got) != 1 || got[0].Address != netip.MustParseAddr("10.0.0.77") {
		t.Errorf("ScanDevices = %+v, %v", got, err)
	}

	// Removal policies.
	if err := api.SetMaintenance(ctx, ids[1:2], true, "gone from NetBox", time.Time{}); err != nil {
		t.Fatal(err)
	}
	if d, _ := srv.Device(ids[1]); !d.Maintenance {
		t.Errorf("device %s not in maintenance", ids[1])
	}
	if err := api.DeleteDevices(ctx, ids[2:]); err != nil {
		t.Fatal(err)
	}
	if _, ok := srv.Device(ids[2]); ok {
		t.Errorf("device %s not deleted", ids[2])
	}
}
