package export

import (
	"context"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/wugsync/wugsync/netbox"
	"github.com/wugsync/wugsync/netbox/netboxtest"
	"github.com/wugsync/wugsync/store"
	"github.com/wugsync/wugsync/wug"
	"github.com/wugsync/wugsync/wug/wugtest"
)

// AssignRole records the role on the in-memory device.
func (f *fakeWUG) AssignRole(ctx context.Context, kind wug.RoleKind, name string, ids []string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.call("AssignRole", true)
	return nil
}

func TestStatePolicy(t *testing.T) {
	t.Parallel()
	p, err := newStatePolicy(Mapping{OSRoles: map[string]string{"IOS-XE": "Cisco IOS XE", "junos": "Juniper JUNOS"},
		BrandRoles: map[string]string{"Cisco Systems": "Cisco"}, Maintenance: map[string]bool{"Planned": false, "retired": true}})
	if err != nil {
		t.Fatal(err)
	}
	dev := func(platform, manufacturer netbox.Ref, status, label string) *netbox.Device {
		return &netbox.Device{Platform: platform, Manufacturer: manufacturer, Status: status, StatusLabel: label}
	}
	for _, tc := range []struct {
		name               string
		d                  *netbox.Device
		os, brand          string
		osMapped, brMapped bool
		maintenance        bool
	}{
		{"mapped by slug and name", dev(netbox.Ref{Slug: "ios-xe", Name: "IOS XE"}, netbox.Ref{Slug: "cisco", Name: "Cisco Systems"}, "active", "Active"),
			"Cisco IOS XE", "Cisco", true, true, false},
		{"unmapped gives its name", dev(netbox.Ref{Slug: "eos", Name: "Arista EOS"}, netbox.Ref{Slug: "arista", Name: "Arista"}, "offline", "Offline"),
			"Arista EOS", "Arista", false, false, true},
		{"none", dev(netbox.Ref{}, netbox.Ref{}, "decommissioning", ""), "", "", false, false, true},
		{"an entry turns a default off", dev(netbox.Ref{Slug: "junos"}, netbox.Ref{}, "planned", "Planned"), "Juniper JUNOS", "", true, false, false},
		{"a custom status by label", dev(netbox.Ref{}, netbox.Ref{}, "x-retired", "Retired"), "", "", false, false, true},
		{"an unknown status is out", dev(netbox.Ref{}, netbox.Ref{}, "inventory", "Inventory"), "", "", false, false, false},
	} {
		s := Source{Device: tc.d}
		osMapped, brMapped := p.rolesFor(tc.d)
		got := []any{p.os(s), p.brand(s), osMapped, brMapped, p.inMaintenance(tc.d)}
		if diff := cmp.Diff([]any{tc.os, tc.brand, tc.osMapped, tc.brMapped, tc.maintenance}, got); diff != "" {
			t.Errorf("%s: os, brand, mapped, mapped, maintenance (-want +got):\n%s", tc.name, diff)
		}
	}
	for _, m := range []Mapping{
		{OSRoles: map[string]string{"ios": " "}},
		{BrandRoles: map[string]string{"": "Cisco"}},
		{Maintenance: map[string]bool{" ": true}},
	} {
		if err := m.Validate(); err == nil {
			t.Errorf("Mapping %+v was accepted", m)
		}
	}
	if r := maintenanceReason(&netbox.Device{Status: "offline", StatusLabel: strings.Repeat("x", 300)}); len([]rune(r)) != maxMaintenanceReason {
		t.Errorf("a long status gives a %d-character reason, want WUG's %d", len([]rune(r)), maxMaintenanceReason)
	}
}

// stateE2E is an export of every status, so status changes are seen.
func stateE2E(t *testing.T, m Mapping, nbOpts ...netboxtest.Option) *e2e {
	t.Helper()
	e := newE2E(t, append([]netboxtest.Option{netboxtest.WithDevices(10)}, nbOpts...))
	e.useMapping(t, m)
	e.job.Connection.Selector = netbox.Selector{Statuses: []string{netbox.AnyStatus}}
	return e
}

// runWithoutFailures runs the export and stops the test if any object
// failed; what names the run in the message.
func (e *e2e) runWithoutFailures(t *testing.T, what string) {
	t.Helper()
	if res := e.run(t, RunOptions{}); res.Counts.Failed != 0 {
		t.Fatalf("%s: %+v", what, res.Counts)
	}
}

// device is the WUG device the record of addr links.
func (e *e2e) device(t *testing.T, addr string) (store.Record, wugtest.Device) {
	t.Helper()
	for _, r := range e.records(t) {
		if r.Address.String() == addr {
			d, ok := e.wug.Device(r.WUGDeviceID)
			if !ok {
				t.Fatalf("record of %s names WUG device %q, which WUG does not hold", addr, r.WUGDeviceID)
			}
			return r, d
		}
	}
	t.Fatalf("no record of %s", addr)
	return store.Record{}, wugtest.Device{}
}

// rerun runs the export again after change and checks that WUG's device
// count stayed and only the wanted requests were sent besides the listing.
func (e *e2e) rerun(t *testing.T, change func(), wantRequests map[string]int) *Result {
	t.Helper()
	count := e.wug.DeviceCount()
	change()
	e.wug.ResetRequests()
	res := e.run(t, RunOptions{})
	if res.Counts.Failed != 0 || res.Counts.Added != 0 {
		t.Fatalf("run: %+v", res.Counts)
	}
	if n := e.wug.DeviceCount(); n != count {
		t.Errorf("WUG holds %d devices after the run, %d before", n, count)
	}
	if diff := cmp.Diff(wantRequests, e.changeRequests()); diff != "" {
		t.Errorf("requests besides the listing (-want +got):\n%s", diff)
	}
	return res
}

// A platform change in NetBox reassigns the WUG OS role of the device, in
// the same run as its metadata, without a new device; the brand, which did
// not change, is not sent. An OSRoles entry names the role.
func TestE2EPlatformChangeAssignsOSRole(t *testing.T) {
	t.Parallel()
	e := stateE2E(t, Mapping{OSRoles: map[string]string{"mapped-os": "Cisco IOS"}})
	cat := e.nb.Catalog()
	if len(cat.Platforms) < 2 {
		t.Fatalf("the fake has %d platforms, want 2", len(cat.Platforms))
	}
	id, _ := e.addNetBoxDevice(t, "core-9", cat.Sites[0].Slug, "172.31.9.9/24")
	e.updateDevice(t, id, func(d *netboxtest.Device) { d.Platform = cat.Platforms[0].Slug })
	e.runWithoutFailures(t, "first run")
	rec, d := e.device(t, "172.31.9.9")
	if d.OS != cat.Platforms[0].Name || rec.Written.OSRole != d.OS || rec.Written.BrandRole != d.Brand {
		t.Fatalf("after the add: OS %q brand %q, recorded %q %q; want the platform's name, recorded as written", d.OS, d.Brand, rec.Written.OSRole, rec.Written.BrandRole)
	}

	e.rerun(t, func() { e.updateDevice(t, id, func(d *netboxtest.Device) { d.Platform = cat.Platforms[1].Slug }) },
		map[string]int{"PATCH /api/v1/devices/-/roles/os": 1, "PATCH /api/v1/devices/{deviceId}/attributes/-": 1})
	rec, d = e.device(t, "172.31.9.9")
	if d.OS != cat.Platforms[1].Name || rec.Written.OSRole != d.OS {
		t.Errorf("after the platform change: OS %q, recorded %q; want %q", d.OS, rec.Written.OSRole, cat.Platforms[1].Name)
	}

	// Mapped: the role named by the mapping, not the platform's name.
	e.updateDevice(t, id, func(d *netboxtest.Device) { d.Platform = cat.Platforms[0].Slug })
	e.useMapping(t, Mapping{OSRoles: map[string]string{cat.Platforms[0].Slug: "Cisco IOS"}})
	e.rerun(t, func() {}, map[string]int{"PATCH /api/v1/devices/-/roles/os": 1, "PATCH /api/v1/devices/{deviceId}/attributes/-": 1})
	if _, d = e.device(t, "172.31.9.9"); d.OS != "Cisco IOS" {
		t.Errorf("mapped platform: OS %q, want %q", d.OS, "Cisco IOS")
	}
	// Nothing changed: nothing is sent.
	e.rerun(t, func() {}, map[string]int{})
}

// A device whose NetBox status goes offline is put in WUG maintenance with
// a reason naming wugsync and the status, and taken out when it is active
// again; each in one batch request, with no new device.
func TestE2EStatusOfflineAndBackTogglesMaintenance(t *testing.T) {
	t.Parallel()
	e := stateE2E(t, Mapping{})
	id, _ := e.addNetBoxDevice(t, "edge-3", e.nb.Catalog().Sites[0].Slug, "172.31.3.3/24")
	e.runWithoutFailures(t, "first run")
	if _, d := e.device(t, "172.31.3.3"); d.Maintenance {
		t.Fatal("an active device was put in maintenance")
	}
	const maint = "PATCH /api/v1/devices/-/config/maintenance"
	const attrs = "PATCH /api/v1/devices/{deviceId}/attributes/-"

	e.rerun(t, func() { e.updateDevice(t, id, func(d *netboxtest.Device) { d.Status = "offline" }) }, map[string]int{maint: 1, attrs: 1})
	rec, d := e.device(t, "172.31.3.3")
	if !d.Maintenance || !rec.Written.Maintenance || !strings.Contains(d.MaintenanceReason, "wugsync") || !strings.Contains(d.MaintenanceReason, "Offline") {
		t.Fatalf("offline: maintenance %v (%q), recorded %v; want on, with a reason naming wugsync and the status", d.Maintenance, d.MaintenanceReason, rec.Written.Maintenance)
	}
	// Taken out by hand while still offline: wugsync does not fight it.
	if err := e.wug.Client().Devices.SetMaintenance(context.Background(), rec.WUGDeviceID, wug.Maintenance{Enabled: false}); err != nil {
		t.Fatal(err)
	}
	e.rerun(t, func() {}, map[string]int{})
	if _, d = e.device(t, "172.31.3.3"); d.Maintenance {
		t.Error("a device taken out of maintenance by hand was put back")
	}

	e.rerun(t, func() { e.updateDevice(t, id, func(d *netboxtest.Device) { d.Status = "active" }) }, map[string]int{maint: 1, attrs: 1})
	rec, d = e.device(t, "172.31.3.3")
	if d.Maintenance || rec.Written.Maintenance {
		t.Errorf("active again: maintenance %v, recorded %v; want off", d.Maintenance, rec.Written.Maintenance)
	}
}

// Devices that change status together share one request per status, and a
// custom status is mapped by its label.
func TestE2EMaintenanceBatchesAndCustomStatus(t *testing.T) {
	t.Parallel()
	e := stateE2E(t, Mapping{Maintenance: map[string]bool{"Maintenance": true}}, netboxtest.WithCustomStatus())
	site := e.nb.Catalog().Sites[0].Slug
	var ids []int64
	for i, addr := range []string{"172.31.4.1/24", "172.31.4.2/24", "172.31.4.3/24", "172.31.4.4/24"} {
		id, _ := e.addNetBoxDevice(t, "rack-"+string(rune('a'+i)), site, addr)
		ids = append(ids, id)
	}
	e.runWithoutFailures(t, "first run")
	status := []string{"offline", "offline", "planned", "maintenance"}
	e.rerun(t, func() {
		for i, id := range ids {
			e.updateDevice(t, id, func(d *netboxtest.Device) { d.Status = status[i] })
		}
	}, map[string]int{"PATCH /api/v1/devices/-/config/maintenance": 3, "PATCH /api/v1/devices/{deviceId}/attributes/-": 4})
	want := map[string]string{"172.31.4.1": `"Offline"`, "172.31.4.2": `"Offline"`, "172.31.4.3": `"Planned"`, "172.31.4.4": `"Maintenance"`}
	for addr, label := range want {
		if _, d := e.device(t, addr); !d.Maintenance || !strings.Contains(d.MaintenanceReason, label) {
			t.Errorf("%s: maintenance %v (%q), want on naming %s", addr, d.Maintenance, d.MaintenanceReason, label)
		}
	}
}

// With the removal policy "maintenance", a device that leaves the
// selection is put in maintenance by the removal; when it comes back
// active, wugsync takes it out again, since it put it there.
func TestE2EMaintenanceAfterRemovalEndsWhenTheDeviceReturns(t *testing.T) {
	t.Parallel()
	e := newE2E(t, []netboxtest.Option{netboxtest.WithDevices(20)})
	e.job.Connection.Removal, e.job.Connection.MaxRemoveShare = RemoveMaintenance, 1
	id, _ := e.addNetBoxDevice(t, "edge-5", e.nb.Catalog().Sites[0].Slug, "172.31.5.5/24")
	e.runWithoutFailures(t, "first run")
	e.updateDevice(t, id, func(d *netboxtest.Device) { d.Status = "offline" }) // the selector takes active devices only
	if res := e.run(t, RunOptions{}); res.Counts.Removed != 1 || res.Counts.Failed != 0 {
		t.Fatalf("removal run: %+v, want one removal", res.Counts)
	}
	rec, d := e.device(t, "172.31.5.5")
	if !d.Maintenance || !rec.Written.Maintenance {
		t.Fatalf("removed: maintenance %v, recorded %v; want on", d.Maintenance, rec.Written.Maintenance)
	}
	count := e.wug.DeviceCount()
	e.updateDevice(t, id, func(d *netboxtest.Device) { d.Status = "active" })
	e.runWithoutFailures(t, "return run")
	if rec, d = e.device(t, "172.31.5.5"); d.Maintenance || rec.Written.Maintenance || e.wug.DeviceCount() != count {
		t.Errorf("returned: maintenance %v, recorded %v, %d devices (%d before); want off and no new device", d.Maintenance, rec.Written.Maintenance, e.wug.DeviceCount(), count)
	}
	// The device is still wugsync's own, not adopted: its name follows
	// NetBox and it follows its object to another site's group.
	if rec.Adopted || rec.Written.GroupPath == "" {
		t.Errorf("returned: record adopted %v, group %q; want wugsync's own device with its group recorded", rec.Adopted, rec.Written.GroupPath)
	}
	site := e.nb.Catalog().Sites[1].Slug
	e.updateDevice(t, id, func(d *netboxtest.Device) { d.Name, d.Site = "edge-5-renamed", site })
	e.runWithoutFailures(t, "rename run")
	if rec, d = e.device(t, "172.31.5.5"); !strings.Contains(d.Name, "edge-5-renamed") || !strings.Contains(strings.ToLower(rec.Written.GroupPath), site) {
		t.Errorf("renamed and moved after returning: WUG name %q, recorded group %q; want the new name and a group of site %s", d.Name, rec.Written.GroupPath, site)
	}
	var in []string
	for _, g := range e.wug.Groups() {
		if members, _ := e.wug.GroupMembers(g.Path); slices.Contains(members, rec.WUGDeviceID) {
			in = append(in, g.Path)
		}
	}
	if len(in) != 1 || !strings.EqualFold(in[0], rec.Written.GroupPath) {
		t.Errorf("moved after returning: device in groups %q, want only %q", in, rec.Written.GroupPath)
	}
}

// An adopted device keeps the OS and brand WUG gave it unless the mapping
// chooses them; its maintenance follows NetBox like any managed device.
func TestE2EAdoptedDeviceRoles(t *testing.T) {
	t.Parallel()
	forBoth(t, "kept", "mapped", func(t *testing.T, e *e2e, mapped bool) {
		cat := e.nb.Catalog()
		if mapped {
			e.useMapping(t, Mapping{OSRoles: map[string]string{cat.Platforms[0].Slug: "Cisco IOS"}})
		}
		id, _ := e.addNetBoxDevice(t, "edge-8", cat.Sites[0].Slug, "172.31.8.8/24")
		e.updateDevice(t, id, func(d *netboxtest.Device) { d.Platform = cat.Platforms[0].Slug })
		wugID := e.wug.AddDevice(wugtest.Device{Name: "edge 8", Address: "172.31.8.8", OS: "Discovered OS", Brand: "Discovered Brand"})
		if res := e.run(t, RunOptions{}); res.Counts.Adopted != 1 || res.Counts.Failed != 0 {
			t.Fatalf("first run: %+v, want one adopt", res.Counts)
		}
		d, _ := e.wug.Device(wugID)
		wantOS := "Discovered OS"
		if mapped {
			wantOS = "Cisco IOS"
		}
		if d.OS != wantOS || d.Brand != "Discovered Brand" {
			t.Errorf("adopted device's OS %q brand %q, want %q and the brand kept", d.OS, d.Brand, wantOS)
		}
	})
}

// A role request WUG refuses fails the devices it covers, keeps their
// record as it was, and the next run sends it again.
func TestE2ERoleFailureIsReportedAndRetried(t *testing.T) {
	t.Parallel()
	e := stateE2E(t, Mapping{})
	cat := e.nb.Catalog()
	id, _ := e.addNetBoxDevice(t, "core-6", cat.Sites[0].Slug, "172.31.6.6/24")
	e.runWithoutFailures(t, "first run")
	e.updateDevice(t, id, func(d *netboxtest.Device) { d.Platform = cat.Platforms[1].Slug })
	e.wug.FailNext(wugtest.Fault{Route: "PATCH /api/v1/devices/-/roles/os", Status: http.StatusBadRequest})
	res := e.run(t, RunOptions{})
	var failed []Outcome
	for _, o := range res.Outcomes {
		if o.Kind == OutcomeFailed {
			failed = append(failed, o)
		}
	}
	if res.Status != store.RunPartial || len(failed) != 1 || failed[0].Key.Address.String() != "172.31.6.6" || !strings.Contains(failed[0].Error, "OS role") {
		t.Fatalf("run with a refused role: %s, failed outcomes %+v; want partial, one failure naming the OS role", res.Status, failed)
	}
	if rec, d := e.device(t, "172.31.6.6"); rec.Written.OSRole == cat.Platforms[1].Name || d.OS == cat.Platforms[1].Name {
		t.Fatalf("refused role recorded %q, WUG holds %q", rec.Written.OSRole, d.OS)
	}
	e.rerun(t, func() {}, map[string]int{"PATCH /api/v1/devices/-/roles/os": 1})
	if rec, d := e.device(t, "172.31.6.6"); rec.Written.OSRole != cat.Platforms[1].Name || d.OS != cat.Platforms[1].Name {
		t.Errorf("retried: recorded %q, WUG holds %q, want %q", rec.Written.OSRole, d.OS, cat.Platforms[1].Name)
	}
}
