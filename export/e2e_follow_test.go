package export

import (
	"net/netip"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/wugsync/wugsync/netbox/netboxtest"
	"github.com/wugsync/wugsync/store"
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
	e.updateDevice(t, dev.ID, func(d *netboxtest.Device) { d.PrimaryIP4 = ip.ID })
	return dev.ID, ip.ID
}

// The display name and note of a device wugsync adopted stay as people set
// them in WUG, while its owned attributes follow NetBox in one request and
// attributes outside the prefix are never touched; with
// Mapping.WriteAdoptedProperties they follow NetBox too.
func TestE2EAdoptedDeviceKeepsNameAndNote(t *testing.T) {
	t.Parallel()
	forBoth(t, "kept", "written", func(t *testing.T, e *e2e, writeProps bool) {
		if writeProps {
			e.useMapping(t, Mapping{WriteAdoptedProperties: true})
		}
		site := e.nb.Catalog().Sites[0].Slug
		devID, _ := e.addNetBoxDevice(t, "edge-7", site, "172.31.7.7/24")
		wugID := e.wug.AddDevice(wugtest.Device{Name: "Edge 7 (hand made)", Address: "172.31.7.7", Notes: "call ops first",
			Attributes: map[string]string{"Owner": "ops"}})

		if res := e.run(t, RunOptions{}); res.Counts.Adopted != 1 || res.Counts.Failed != 0 {
			t.Fatalf("first run: %+v, want the hand-made device adopted", res.Counts)
		}
		count := e.wug.DeviceCount()
		e.updateDevice(t, devID, func(d *netboxtest.Device) { d.Serial = "SN-SWAPPED" })
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

// recordAt returns the record of the connection at an address.
func (e *e2e) recordAt(t testing.TB, addr string) (store.Record, bool) {
	t.Helper()
	for _, r := range e.records(t) {
		if r.Address == netip.MustParseAddr(addr) {
			return r, true
		}
	}
	return store.Record{}, false
}

// renumber changes the NetBox address ipID to addr.
func (e *e2e) renumber(t testing.TB, ipID int64, addr string) {
	t.Helper()
	if _, err := e.nb.UpdateIP(ipID, func(ip *netboxtest.IPAddress) { ip.Address = netip.MustParsePrefix(addr) }); err != nil {
		t.Fatal(err)
	}
}

// A NetBox device whose primary address is renumbered keeps its WUG
// device: the device moves to the new address, the record moves with it,
// and nothing is created.
func TestE2ERenumberMovesTheDevice(t *testing.T) {
	t.Parallel()
	e := newE2E(t, []netboxtest.Option{netboxtest.WithDevices(10)})
	_, ipID := e.addNetBoxDevice(t, "core-9", e.nb.Catalog().Sites[0].Slug, "172.31.9.9/24")
	first := e.run(t, RunOptions{})
	before, ok := e.recordAt(t, "172.31.9.9")
	if !ok || before.WUGDeviceID == "" {
		t.Fatalf("first run left no linked record for 172.31.9.9: %+v", before)
	}
	count := e.wug.DeviceCount()

	e.renumber(t, ipID, "172.31.9.99/24")
	res := e.run(t, RunOptions{})
	if res.Counts.Updated != 1 || res.Counts.Added+res.Counts.Adopted+res.Counts.Failed != 0 {
		t.Errorf("renumber run: %+v, want one update and nothing added", res.Counts)
	}
	dev, _ := e.wug.Device(before.WUGDeviceID)
	if dev.Address != "172.31.9.99" || dev.Attributes["NetBox.IP"] != "" && dev.Attributes["NetBox.IP"] != "172.31.9.99/24" {
		t.Errorf("WUG device %s after the renumber: address %q, attributes %v", dev.ID, dev.Address, dev.Attributes)
	}
	if n := e.wug.DeviceCount(); n != count {
		t.Errorf("WUG holds %d devices after the renumber, %d before", n, count)
	}
	if r, ok := e.recordAt(t, "172.31.9.9"); ok {
		t.Errorf("a record is left at the old address: %+v", r)
	}
	after, ok := e.recordAt(t, "172.31.9.99")
	if !ok || after.WUGDeviceID != before.WUGDeviceID || after.Status != store.StatusExported || after.ObjectID != before.ObjectID {
		t.Errorf("record at the new address = %+v, want exported and linked to %s", after, before.WUGDeviceID)
	}

	e.wug.ResetRequests()
	if res := e.run(t, RunOptions{}); res.Counts.Updated != 0 || e.wugWrites() != 0 {
		t.Errorf("run after the renumber: %+v with %d writes, want nothing to do", res.Counts, e.wugWrites())
	}
	e.checkAgree(t, first.Counts.Added)
}

// A renumber onto an address another WUG device holds changes nothing in
// WUG: the item is reported with a finding that names both devices, and
// the record stays where it was.
func TestE2ERenumberOntoAnotherDeviceIsAConflict(t *testing.T) {
	t.Parallel()
	e := newE2E(t, []netboxtest.Option{netboxtest.WithDevices(10)})
	_, ipID := e.addNetBoxDevice(t, "core-9", e.nb.Catalog().Sites[0].Slug, "172.31.9.9/24")
	e.run(t, RunOptions{})
	before, _ := e.recordAt(t, "172.31.9.9")
	other := e.wug.AddDevice(wugtest.Device{Name: "someone else's", Address: "172.31.9.99"})
	devsBefore := e.wug.Devices()

	e.renumber(t, ipID, "172.31.9.99/24")
	e.wug.ResetRequests()
	res := e.run(t, RunOptions{})
	if w := e.wugWrites(); w != 0 {
		t.Errorf("the conflicting run sent %d WUG writes, want none", w)
	}
	var found *Finding
	for _, o := range res.Outcomes {
		for i, f := range o.Findings {
			if f.Code == codeAddressConflict {
				found = &o.Findings[i]
			}
		}
	}
	if found == nil {
		t.Fatalf("no %s finding in %+v", codeAddressConflict, res.Outcomes)
	}
	if diff := cmp.Diff([]string{before.WUGDeviceID, other}, found.WUGDevices); diff != "" {
		t.Errorf("conflict's WUG devices (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(devsBefore, e.wug.Devices()); diff != "" {
		t.Errorf("WUG changed (-before +after):\n%s", diff)
	}
	if r, ok := e.recordAt(t, "172.31.9.9"); !ok || r.WUGDeviceID != before.WUGDeviceID || r.Status != store.StatusExported {
		t.Errorf("record at the old address = %+v, want it kept", r)
	}
	if _, ok := e.recordAt(t, "172.31.9.99"); ok {
		t.Error("a record was written at the conflicting address")
	}
}

// A run killed while it moves a renumbered device leaves a state the next
// run finishes without creating anything: killed after WUG read the
// device's interface (not yet moved), and killed after WUG applied the
// move but before its answer.
func TestE2ERenumberKilledMidMove(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name, route string
		moved       bool // whether WUG holds the new address when the run dies
	}{
		{"before the move", "GET /api/v1/devices/{deviceId}/interfaces/default", false},
		{"after the move", "PUT /api/v1/devices/{deviceId}/interfaces/{interfaceId}", true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := newE2E(t, []netboxtest.Option{netboxtest.WithDevices(10)})
			_, ipID := e.addNetBoxDevice(t, "core-9", e.nb.Catalog().Sites[0].Slug, "172.31.9.9/24")
			e.run(t, RunOptions{})
			before, _ := e.recordAt(t, "172.31.9.9")
			count := e.wug.DeviceCount()
			e.renumber(t, ipID, "172.31.9.99/24")

			hits := e.runKilledAt(t, tt.route)
			// The kill landed mid-move: the record has moved to the new
			// address as pending, and WUG is where the kill left it.
			dev, _ := e.wug.Device(before.WUGDeviceID)
			r, ok := e.recordAt(t, "172.31.9.99")
			if hits.Load() != 1 || !ok || r.Status != store.StatusPending || r.WUGDeviceID != before.WUGDeviceID ||
				(dev.Address == "172.31.9.99") != tt.moved {
				t.Fatalf("after the kill: %d hits, record %+v, WUG device at %s", hits.Load(), r, dev.Address)
			}

			res := e.run(t, RunOptions{})
			if res.Counts.Added+res.Counts.Adopted+res.Counts.Failed != 0 {
				t.Errorf("resumed run: %+v, want nothing added", res.Counts)
			}
			dev, _ = e.wug.Device(before.WUGDeviceID)
			r, _ = e.recordAt(t, "172.31.9.99")
			if dev.Address != "172.31.9.99" || r.Status != store.StatusExported || r.WUGDeviceID != before.WUGDeviceID {
				t.Errorf("after the resumed run: WUG device at %s, record %+v", dev.Address, r)
			}
			if n := e.wug.DeviceCount(); n != count {
				t.Errorf("WUG holds %d devices, %d before", n, count)
			}
			if _, ok := e.recordAt(t, "172.31.9.9"); ok {
				t.Error("a record is left at the old address")
			}
		})
	}
}

// A NetBox device that moves to another site moves its WUG device to that
// site's group, out of the group wugsync put it in; a group a person added
// it to stays, and nothing is created. The group left empty stays too,
// unless Mapping.RemoveEmptyGroups.
func TestE2ESiteMoveMovesTheGroup(t *testing.T) {
	t.Parallel()
	forBoth(t, "empty group kept", "empty group removed", func(t *testing.T, e *e2e, cleanup bool) {
		// The moving device has its sites' groups to itself, so the
		// group it leaves is left empty.
		e.useMovingGroups(t, Mapping{RemoveEmptyGroups: cleanup})
		sites := e.nb.Catalog().Sites
		from, to := 0, 1
		devID, _ := e.addNetBoxDevice(t, "core-9", sites[from].Slug, "172.31.9.9/24")
		e.run(t, RunOptions{})
		r, _ := e.recordAt(t, "172.31.9.9")
		oldGroup, newGroup := "My Network/Moving/"+sites[from].Name, "My Network/Moving/"+sites[to].Name
		if r.Written.GroupPath != oldGroup {
			t.Fatalf("first run recorded group %q, want %q", r.Written.GroupPath, oldGroup)
		}
		ops := e.wug.AddGroup("My Network/Ops")
		if _, err := e.wug.Client().Groups.AddDevices(t.Context(), ops, []string{r.WUGDeviceID}); err != nil {
			t.Fatal(err)
		}
		count := e.wug.DeviceCount()

		e.updateDevice(t, devID, func(d *netboxtest.Device) { d.Site = sites[to].Slug })
		e.wug.ResetRequests()
		if res := e.run(t, RunOptions{}); res.Counts.Updated != 1 || res.Counts.Failed+res.Counts.Added != 0 {
			t.Fatalf("move run: %+v, want one update", res.Counts)
		}
		dev, _ := e.wug.Device(r.WUGDeviceID)
		want := slices.Sorted(slices.Values([]string{"My Network/Ops", newGroup}))
		if diff := cmp.Diff(want, slices.Sorted(slices.Values(dev.Groups))); diff != "" {
			t.Errorf("WUG device's groups after the move (-want +got):\n%s", diff)
		}
		if n := e.wug.DeviceCount(); n != count {
			t.Errorf("WUG holds %d devices after the move, %d before", n, count)
		}
		if r, _ := e.recordAt(t, "172.31.9.9"); r.Written.GroupPath != newGroup {
			t.Errorf("record's group %q, want %q", r.Written.GroupPath, newGroup)
		}
		if n := e.wug.Count("GET /api/v1/device-groups/-"); n != 1 {
			t.Errorf("the move run listed WUG's groups %d times, want once", n)
		}
		members, exists := e.wug.GroupMembers(oldGroup)
		if exists == cleanup || len(members) != 0 {
			t.Errorf("old group %q: exists %v with members %v; want it empty and removed %v", oldGroup, exists, members, cleanup)
		}
		if _, ok := e.wug.GroupByPath("My Network/Ops"); !ok {
			t.Error("the group a person made is gone")
		}
	})
}
