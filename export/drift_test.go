package export

import (
	"context"
	"net/netip"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/wugsync/wugsync/netbox/netboxtest"
	"github.com/wugsync/wugsync/store"
)

// TestDriftReport plants each kind of drift after a clean export and
// checks the report names exactly those.
func TestDriftReport(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := newE2E(t, []netboxtest.Option{netboxtest.WithDevices(30)})
	ex := &Connection{export: e.job}
	e.run(t, RunOptions{})

	rep, err := ex.Drift(ctx)
	if err != nil {
		t.Fatal(err)
	}
	// The generated fleet has objects that cannot be exported (no or bad
	// address); they are the only drift after a clean export.
	base := map[int64]bool{}
	for _, it := range rep.Items {
		if it.Kind != DriftNetBoxOnly || it.Reason == "" {
			t.Errorf("after a clean export: %+v", it)
		}
		base[it.ObjectID] = true
	}

	var exported []store.Record
	for _, r := range e.records(t) {
		if r.Status == store.StatusExported {
			exported = append(exported, r)
		}
	}
	if len(exported) < 3 {
		t.Fatalf("only %d exported records", len(exported))
	}
	gone, moved, holder := exported[0], exported[1], exported[2]

	// 1. WUG only: an object leaves the selection; its WUG device stays
	// (the default removal policy keeps it).
	e.updateDevice(t, gone.ObjectID, func(d *netboxtest.Device) { d.Status = "offline" })
	// 2. Address conflict: NetBox gives moved's address to holder's
	// address, which WUG's device for holder has.
	dev := e.fakeDevice(t, moved.ObjectID)
	if _, err := e.nb.UpdateIP(dev.PrimaryIP4, func(ip *netboxtest.IPAddress) {
		ip.Address = netip.PrefixFrom(holder.Address, ip.Address.Bits())
	}); err != nil {
		t.Fatal(err)
	}
	// 3. NetBox only: a new object nobody exported yet.
	nd, err := e.nb.CreateDevice(netboxtest.Device{Name: "drift-new"})
	if err != nil {
		t.Fatal(err)
	}
	newAddr := netip.MustParseAddr("198.51.100.77")
	if _, err := e.nb.CreateIP(netboxtest.IPAddress{Address: netip.PrefixFrom(newAddr, 24), DeviceID: nd.ID, MakePrimary: true}); err != nil {
		t.Fatal(err)
	}

	rep, err = ex.Drift(ctx)
	if err != nil {
		t.Fatal(err)
	}
	type item struct {
		Kind     DriftKind
		Address  netip.Addr
		ObjectID int64
		Device   string
	}
	var got []item
	for _, it := range rep.Items {
		if it.Kind == DriftNetBoxOnly && base[it.ObjectID] {
			continue
		}
		if it.Reason == "" {
			t.Errorf("item without a reason: %+v", it)
		}
		got = append(got, item{it.Kind, it.Address, it.ObjectID, it.WUGDeviceID})
	}
	want := []item{
		// gone's device no selected object maps to, then moved's old
		// device, which its object no longer maps to.
		{DriftWUGOnly, gone.Address, gone.ObjectID, gone.WUGDeviceID},
		{DriftWUGOnly, moved.Address, moved.ObjectID, moved.WUGDeviceID},
		// moved now holds holder's address, not exported under it; the
		// new device was never exported.
		{DriftNetBoxOnly, holder.Address, moved.ObjectID, ""},
		{DriftNetBoxOnly, newAddr, nd.ID, ""},
		{DriftAddressConflict, holder.Address, moved.ObjectID, holder.WUGDeviceID},
	}
	sortItems := func(s []item) {
		for i := range s {
			for j := i + 1; j < len(s); j++ {
				a, b := s[i], s[j]
				if a.Kind > b.Kind || (a.Kind == b.Kind && a.ObjectID > b.ObjectID) {
					s[i], s[j] = b, a
				}
			}
		}
	}
	sortItems(want)
	sortItems(got)
	if diff := cmp.Diff(want, got, cmp.Comparer(func(a, b netip.Addr) bool { return a == b })); diff != "" {
		t.Errorf("drift (-want +got):\n%s", diff)
	}
	if e.nb.Writes() != 0 {
		t.Errorf("the drift report wrote %d times to NetBox", e.nb.Writes())
	}
}
