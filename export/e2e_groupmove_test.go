package export

import (
	"context"
	"net/http"
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/wugsync/wugsync/netbox/netboxtest"
	"github.com/wugsync/wugsync/store"
	"github.com/wugsync/wugsync/wug/wugtest"
)

const (
	routeGroupChild = "POST /api/v1/device-groups/{groupId}/child"
	routeGroupJoin  = "POST /api/v1/device-groups/{groupId}/devices/-"
	routeGroupLeave = "DELETE /api/v1/device-groups/{groupId}/devices/-"
)

// moveSetup is a device exported into its site's group under "My
// Network/Moving", whose NetBox site has then changed to one whose group
// WUG does not hold yet, so the next run ensures that group and moves the
// device into it.
type moveSetup struct {
	e                  *e2e
	addr, deviceID     string
	ipID               int64 // the NetBox address's id
	oldGroup, newGroup string
	count              int
	kept               []string // groups a person put the device in
}

// useMovingGroups has the export map with m, whose Group it sets: devices
// named core-* go to "My Network/Moving/<site>", the others to "My
// Network/NetBox/<site>", so the moving devices have their sites' groups
// to themselves.
func (e *e2e) useMovingGroups(t testing.TB, m Mapping) {
	t.Helper()
	m.Group = func(s Source) string {
		if strings.HasPrefix(s.Device.Name, "core-") {
			return "My Network/Moving/" + s.Device.Site.Name
		}
		return "My Network/NetBox/" + s.Device.Site.Name
	}
	tr, err := newTransformer(m)
	if err != nil {
		t.Fatal(err)
	}
	e.job.Transformer = tr
}

// newMoveSetup builds the move with mapping m (see useMovingGroups).
func newMoveSetup(t *testing.T, m Mapping) *moveSetup {
	t.Helper()
	e := newE2E(t, []netboxtest.Option{netboxtest.WithDevices(10)})
	e.useMovingGroups(t, m)
	sites := e.nb.Catalog().Sites
	devID, ipID := e.addNetBoxDevice(t, "core-9", sites[0].Slug, "172.31.9.9/24")
	e.run(t, RunOptions{})
	ms := &moveSetup{e: e, addr: "172.31.9.9", ipID: ipID,
		oldGroup: "My Network/Moving/" + sites[0].Name, newGroup: "My Network/Moving/" + sites[1].Name}
	r, ok := e.recordAt(t, ms.addr)
	if !ok || r.WUGDeviceID == "" || r.Written.GroupPath != ms.oldGroup {
		t.Fatalf("first run's record %+v, want it linked in group %q", r, ms.oldGroup)
	}
	if _, exists := e.wug.GroupByPath(ms.newGroup); exists {
		t.Fatalf("group %q exists before the move", ms.newGroup)
	}
	ms.deviceID, ms.count = r.WUGDeviceID, e.wug.DeviceCount()
	if _, err := e.nb.UpdateDevice(devID, func(d *netboxtest.Device) { d.Site = sites[1].Slug }); err != nil {
		t.Fatal(err)
	}
	e.wug.ResetRequests()
	return ms
}

// statuses lists the statuses the fake answered on route, in order
// (-1 for a dropped connection).
func statuses(s *wugtest.Server, route string) []int {
	var out []int
	for _, r := range s.Requests() {
		if r.Route == route {
			out = append(out, r.Status)
		}
	}
	return out
}

// resume clears the faults and runs the export again, which must finish
// the move (see checkMoved), and once more, which must have nothing to do.
func (m *moveSetup) resume(t *testing.T) {
	t.Helper()
	e := m.e
	e.wug.ClearFaults()
	if res := e.run(t, RunOptions{}); res.Counts.Failed+res.Counts.Added+res.Counts.Adopted != 0 {
		t.Errorf("resumed run: %+v, want nothing failed or added", res.Counts)
	}
	m.checkMoved(t)
	e.wug.ResetRequests()
	if res := e.run(t, RunOptions{}); res.Counts.Updated != 0 || e.wugWrites() != 0 {
		t.Errorf("run after the move: %+v with %d writes, want nothing to do", res.Counts, e.wugWrites())
	}
}

// runKilledAt runs the export and kills it (cancels its context) once
// the fake has applied the first request on route, before answering it;
// it returns how many requests on route the fake applied.
func (e *e2e) runKilledAt(t *testing.T, route string) *atomic.Int32 {
	t.Helper()
	ctx, kill := context.WithCancel(t.Context())
	var hits atomic.Int32
	e.wug.Observe(route, func(int) {
		if hits.Add(1) == 1 {
			kill()
		}
	})
	if _, err := e.job.Run(ctx, RunOptions{}); err == nil {
		t.Fatal("the killed run reported no error")
	}
	return &hits
}

// checkMoved asserts the end state of a move: the WUG device is in the new
// group only, WUG holds no second device for it, the group exists once, and
// the record is exported, linked to the device and names the new group.
func (m *moveSetup) checkMoved(t *testing.T) {
	t.Helper()
	e := m.e
	dev, ok := e.wug.Device(m.deviceID)
	if !ok {
		t.Fatalf("WUG device %s is gone", m.deviceID)
	}
	if diff := cmp.Diff(slices.Sorted(slices.Values(append([]string{m.newGroup}, m.kept...))), slices.Sorted(slices.Values(dev.Groups))); diff != "" {
		t.Errorf("WUG device's groups (-want +got):\n%s", diff)
	}
	if n := e.wug.DeviceCount(); n != m.count {
		t.Errorf("WUG holds %d devices, %d before the move", n, m.count)
	}
	if same := e.wug.DevicesByAddress(m.addr); len(same) != 1 {
		t.Errorf("WUG holds %d devices at %s, want 1", len(same), m.addr)
	}
	paths := 0
	for _, g := range e.wug.Groups() {
		if strings.EqualFold(g.Path, m.newGroup) {
			paths++
		}
	}
	if paths != 1 {
		t.Errorf("WUG holds %d groups at %q, want 1", paths, m.newGroup)
	}
	r, _ := e.recordAt(t, m.addr)
	if r.Status != store.StatusExported || r.WUGDeviceID != m.deviceID || r.Written.GroupPath != m.newGroup {
		t.Errorf("record = status %s, device %q, group %q; want exported, %s, %q",
			r.Status, r.WUGDeviceID, r.Written.GroupPath, m.deviceID, m.newGroup)
	}
}

// A group move whose WUG request fails, or is applied with its answer
// lost, leaves a state the next run finishes: the device ends in the new
// group only, nothing is duplicated, and the record names the new group.
func TestE2EGroupMoveFault(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		route string
		fault func(*wugtest.Server, string)
		// fired is what the fake must have answered on route in the
		// faulty run, proving the fault landed there.
		fired func([]int) bool
		// both is whether the device is in both groups after the faulty
		// run (joined, not yet left).
		both bool
	}{
		{name: "join refused", route: routeGroupJoin,
			fault: func(s *wugtest.Server, r string) {
				s.FailNext(wugtest.Fault{Route: r, Status: http.StatusInternalServerError, Times: 100})
			},
			fired: func(st []int) bool { return len(st) > 0 && st[0] == http.StatusInternalServerError }},
		{name: "join applied, answer lost", route: routeGroupJoin,
			fault: func(s *wugtest.Server, r string) {
				s.MisbehaveNext(wugtest.Misbehave{Route: r, Kind: wugtest.ApplyThenDrop})
			},
			fired: func(st []int) bool { return len(st) == 2 && st[0] == -1 && st[1] == http.StatusOK }},
		{name: "join applied, every answer lost", route: routeGroupJoin, both: true,
			fault: func(s *wugtest.Server, r string) {
				s.MisbehaveNext(wugtest.Misbehave{Route: r, Kind: wugtest.ApplyThenDrop, Times: 100})
			},
			fired: func(st []int) bool { return len(st) > 0 && st[len(st)-1] == -1 }},
		{name: "leave refused", route: routeGroupLeave, both: true,
			fault: func(s *wugtest.Server, r string) {
				s.FailNext(wugtest.Fault{Route: r, Status: http.StatusBadRequest, Times: 100})
			},
			fired: func(st []int) bool { return len(st) > 0 && st[0] == http.StatusBadRequest }},
		{name: "leave applied, answer lost", route: routeGroupLeave,
			fault: func(s *wugtest.Server, r string) {
				s.MisbehaveNext(wugtest.Misbehave{Route: r, Kind: wugtest.ApplyThenDrop})
			},
			fired: func(st []int) bool { return len(st) > 0 && st[0] == -1 }},
		{name: "leave applied, every answer lost", route: routeGroupLeave,
			fault: func(s *wugtest.Server, r string) {
				s.MisbehaveNext(wugtest.Misbehave{Route: r, Kind: wugtest.ApplyThenDrop, Times: 100})
			},
			fired: func(st []int) bool { return len(st) > 0 && st[len(st)-1] == -1 }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			m := newMoveSetup(t, Mapping{})
			e := m.e
			tt.fault(e.wug, tt.route)
			res, err := e.job.Run(t.Context(), RunOptions{})
			if err != nil {
				t.Fatalf("faulty run: %v", err)
			}
			// The fault landed mid-move: the new group was ensured, and
			// the fake answered the move's request with the fault.
			if got := statuses(e.wug, tt.route); !tt.fired(got) {
				t.Fatalf("the fake answered %s with %v: the fault did not land", tt.route, got)
			}
			if n := e.wug.Count(routeGroupChild); n == 0 {
				t.Fatal("the faulty run never created the new group")
			}
			dev, _ := e.wug.Device(m.deviceID)
			if in := len(dev.Groups) == 2; in != tt.both {
				t.Errorf("after the faulty run the device is in %v (%d updated, %d failed)", dev.Groups, res.Counts.Updated, res.Counts.Failed)
			}
			t.Logf("faulty run: %+v, device in %v", res.Counts, dev.Groups)

			m.resume(t)
		})
	}
}

// A run killed mid-move leaves a state the next run finishes without a
// duplicate device or group: killed after WUG created the new group and
// before the device joined it, after WUG applied the join but before the
// device left the old group, and, with RemoveEmptyGroups, after the leave
// but before the emptied old group is removed (the next run removes it).
func TestE2EGroupMoveKilled(t *testing.T) {
	t.Parallel()
	const routeGroupDelete = "DELETE /api/v1/device-groups/{groupId}"
	for _, tt := range []struct {
		name, route string
		// sent and unsent are the routes the killed run must and must not
		// have sent.
		sent, unsent string
		// groups is how many groups the device is in after the kill.
		groups  int
		cleanup bool // Mapping.RemoveEmptyGroups
	}{
		{name: "between ensuring the group and the move", route: routeGroupChild,
			sent: routeGroupChild, unsent: routeGroupJoin, groups: 1},
		{name: "between the join and the leave", route: routeGroupJoin,
			sent: routeGroupJoin, unsent: routeGroupLeave, groups: 2},
		{name: "between the leave and removing the emptied group", route: routeGroupLeave, cleanup: true,
			sent: routeGroupLeave, unsent: routeGroupDelete, groups: 1},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			m := newMoveSetup(t, Mapping{RemoveEmptyGroups: tt.cleanup})
			e := m.e
			hits := e.runKilledAt(t, tt.route)
			// The kill landed mid-move: WUG applied the observed request,
			// and the run sent nothing after it.
			_, created := e.wug.GroupByPath(m.newGroup)
			dev, _ := e.wug.Device(m.deviceID)
			if hits.Load() != 1 || !created || e.wug.Count(tt.sent) != 1 || e.wug.Count(tt.unsent) != 0 || len(dev.Groups) != tt.groups {
				t.Fatalf("after the kill: %d hits, new group created %v, %d on %s, %d on %s, device in %v",
					hits.Load(), created, e.wug.Count(tt.sent), tt.sent, e.wug.Count(tt.unsent), tt.unsent, dev.Groups)
			}
			if r, _ := e.recordAt(t, m.addr); r.Written.GroupPath != m.oldGroup {
				t.Errorf("after the kill the record names group %q, want still %q", r.Written.GroupPath, m.oldGroup)
			}

			m.resume(t)
			if _, exists := e.wug.GroupByPath(m.oldGroup); exists == tt.cleanup {
				t.Errorf("old group %q exists %v after the resumed run, want %v", m.oldGroup, exists, !tt.cleanup)
			}
		})
	}
}

// Group moves off the plain path: a device renumbered and moved in one
// run, a device whose old group a person deleted (it only joins the new
// one, and keeps the group the person gave it), and, with
// RemoveEmptyGroups, an old group that still holds a child group, which
// stays.
func TestE2EGroupMoveEdges(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name    string
		mapping Mapping
		change  func(t *testing.T, m *moveSetup)
		check   func(t *testing.T, m *moveSetup)
	}{
		{name: "renumbered in the same run",
			change: func(t *testing.T, m *moveSetup) {
				m.e.renumber(t, m.ipID, "172.31.9.99/24")
				m.addr = "172.31.9.99"
			},
			check: func(t *testing.T, m *moveSetup) {
				if r, ok := m.e.recordAt(t, "172.31.9.9"); ok {
					t.Errorf("a record is left at the old address: %+v", r)
				}
			}},
		{name: "old group deleted by a person",
			change: func(t *testing.T, m *moveSetup) {
				c := m.e.wug.Client().Groups
				ops := m.e.wug.AddGroup("My Network/Ops")
				old, _ := m.e.wug.GroupByPath(m.oldGroup)
				if _, err := c.MoveDevices(t.Context(), old.ID, ops, []string{m.deviceID}); err != nil {
					t.Fatal(err)
				}
				if err := c.Delete(t.Context(), old.ID); err != nil {
					t.Fatal(err)
				}
				m.kept = []string{"My Network/Ops"}
			},
			check: func(t *testing.T, m *moveSetup) {
				if n := m.e.wug.Count(routeGroupLeave); n != 0 {
					t.Errorf("%d leave requests for a group WUG no longer has", n)
				}
			}},
		{name: "emptied old group with a child group kept", mapping: Mapping{RemoveEmptyGroups: true},
			change: func(t *testing.T, m *moveSetup) { m.e.wug.AddGroup(m.oldGroup + "/Lab") },
			check: func(t *testing.T, m *moveSetup) {
				if members, ok := m.e.wug.GroupMembers(m.oldGroup); !ok || len(members) != 0 {
					t.Errorf("old group: exists %v, members %v; want it kept, empty", ok, members)
				}
				if n := m.e.wug.Count("DELETE /api/v1/device-groups/{groupId}"); n != 0 {
					t.Errorf("%d group deletions sent for a group with a child group", n)
				}
			}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			m := newMoveSetup(t, tt.mapping)
			tt.change(t, m)
			m.e.wug.ResetRequests()
			if res := m.e.run(t, RunOptions{}); res.Counts.Updated != 1 || res.Counts.Failed+res.Counts.Added+res.Counts.Adopted != 0 {
				t.Errorf("move run: %+v, want one update", res.Counts)
			}
			tt.check(t, m)
			m.checkMoved(t)
		})
	}
}

// A device wugsync adopted was placed by a person: when its NetBox object
// moves site, its attributes follow but it stays in the groups it was in,
// and wugsync creates no group for it.
func TestE2EGroupMoveLeavesAnAdoptedDevice(t *testing.T) {
	t.Parallel()
	e := newE2E(t, []netboxtest.Option{netboxtest.WithDevices(10)})
	e.useMovingGroups(t, Mapping{})
	sites := e.nb.Catalog().Sites
	devID, _ := e.addNetBoxDevice(t, "core-9", sites[0].Slug, "172.31.9.9/24")
	id := e.wug.AddDevice(wugtest.Device{Name: "core 9", Address: "172.31.9.9", Groups: []string{"My Network/Hand"}})
	if res := e.run(t, RunOptions{}); res.Counts.Adopted != 1 {
		t.Fatalf("first run: %+v, want the device adopted", res.Counts)
	}
	if _, err := e.nb.UpdateDevice(devID, func(d *netboxtest.Device) { d.Site = sites[1].Slug }); err != nil {
		t.Fatal(err)
	}
	if res := e.run(t, RunOptions{}); res.Counts.Updated == 0 || res.Counts.Failed != 0 {
		t.Fatalf("move run: %+v, want the device updated", res.Counts)
	}
	dev, _ := e.wug.Device(id)
	if diff := cmp.Diff([]string{"My Network/Hand"}, dev.Groups); diff != "" {
		t.Errorf("adopted device's groups (-want +got):\n%s", diff)
	}
	if dev.Attributes["NetBox.Site"] != sites[1].Name {
		t.Errorf("NetBox.Site = %q, want %q", dev.Attributes["NetBox.Site"], sites[1].Name)
	}
	if _, ok := e.wug.GroupByPath("My Network/Moving/" + sites[1].Name); ok {
		t.Error("a group was created for the adopted device")
	}
}

// Two devices move into one new group, and WUG creates that group but its
// answer is lost: the export looks the group up before anything creates it
// again (WUG refuses a second group of the same name), so both devices move
// in that run and the group is created once.
func TestE2EGroupCreationAnswerLost(t *testing.T) {
	t.Parallel()
	e := newE2E(t, []netboxtest.Option{netboxtest.WithDevices(10)})
	e.useMovingGroups(t, Mapping{})
	sites := e.nb.Catalog().Sites
	var ids []int64
	for i, addr := range []string{"172.31.9.8/24", "172.31.9.9/24"} {
		id, _ := e.addNetBoxDevice(t, "core-"+itoa(int64(8+i)), sites[0].Slug, addr)
		ids = append(ids, id)
	}
	e.run(t, RunOptions{})
	count := e.wug.DeviceCount()
	for _, id := range ids {
		if _, err := e.nb.UpdateDevice(id, func(d *netboxtest.Device) { d.Site = sites[1].Slug }); err != nil {
			t.Fatal(err)
		}
	}
	newGroup := "My Network/Moving/" + sites[1].Name
	e.wug.ResetRequests()
	e.wug.MisbehaveNext(wugtest.Misbehave{Route: routeGroupChild, Kind: wugtest.ApplyThenDrop})
	res := e.run(t, RunOptions{})
	// The fault landed on the group's creation, which WUG applied.
	if st := statuses(e.wug, routeGroupChild); len(st) != 1 || st[0] != -1 {
		t.Fatalf("answers to the group creation: %v, want one, dropped", st)
	}
	if res.Counts.Updated != 2 || res.Counts.Failed != 0 {
		t.Errorf("move run: %+v, want both devices moved", res.Counts)
	}
	members, _ := e.wug.GroupMembers(newGroup)
	if len(members) != 2 || e.wug.DeviceCount() != count {
		t.Errorf("group %q holds %v, WUG %d devices (%d before); want both devices, none added", newGroup, members, e.wug.DeviceCount(), count)
	}
	for _, r := range e.records(t) {
		if strings.HasPrefix(r.Address.String(), "172.31.9.") && (r.Written.GroupPath != newGroup || r.Status != store.StatusExported) {
			t.Errorf("record %s: status %s, group %q; want exported in %q", r.Key, r.Status, r.Written.GroupPath, newGroup)
		}
	}
}
