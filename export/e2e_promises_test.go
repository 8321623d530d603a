package export

import (
	"context"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/wugsync/wugsync/netbox"
	"github.com/wugsync/wugsync/netbox/netboxtest"
	"github.com/wugsync/wugsync/store"
	"github.com/wugsync/wugsync/wug"
	"github.com/wugsync/wugsync/wug/wugtest"
)

// A template apply answered 500, 502 or 504, or answered only after the
// client gave up (after 3 s, long enough for a loaded machine's other
// requests), may have been applied: the export looks the addresses up
// in WUG before it sends the apply once more, as the README promises, and
// WUG ends with one device per address.
func TestE2ECreatingRequestOfUnknownOutcomeIsLookedUp(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		status int // the fault's answer; 0 when WUG answers late
	}{
		{name: "500", status: http.StatusInternalServerError},
		{name: "502", status: http.StatusBadGateway},
		{name: "504", status: http.StatusGatewayTimeout},
		{name: "late"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := newE2E(t, []netboxtest.Option{netboxtest.WithDevices(0)},
				wugtest.WithClientOptions(wug.WithTimeout(3*time.Second)))
			src := &fakeSource{devs: testDevices(10)}
			for i := range src.devs { // one group path: one template apply
				src.devs[i].Site = src.devs[0].Site
			}
			e.job.Source = src
			if tt.status != 0 {
				e.wug.FailNext(wugtest.Fault{Route: routeTemplate, Status: tt.status})
			} else {
				e.wug.MisbehaveNext(wugtest.Misbehave{Route: routeTemplate, Kind: wugtest.ApplyThenLate})
			}
			res := e.run(t, RunOptions{})
			// The fault landed on the apply, and the addresses were
			// looked up after it: an apply WUG refused is sent once
			// more, one it applied late is not.
			st := statuses(e.wug, routeTemplate)
			if tt.status != 0 && (len(st) != 2 || st[0] != tt.status) || tt.status == 0 && len(st) != 1 {
				t.Errorf("answers to the template apply %v; want %d then one more apply, or one late apply", st, tt.status)
			}
			if e.lookups() == 0 {
				t.Error("the addresses were not looked up after the unknown outcome")
			}
			if res.Counts.Added != 10 || res.Counts.Failed != 0 {
				t.Errorf("counts %+v, want 10 added", res.Counts)
			}
			e.checkDistinct(t, 10)
		})
	}
}

// Maintenance a person set in WUG on an active device stays: a run that
// updates the device's metadata sends no maintenance request, as the README
// promises ("maintenance set by hand stays").
func TestE2EMaintenanceSetByHandStays(t *testing.T) {
	t.Parallel()
	e := stateE2E(t, Mapping{})
	id, _ := e.addNetBoxDevice(t, "edge-4", e.nb.Catalog().Sites[0].Slug, "172.31.4.4/24")
	if res := e.run(t, RunOptions{}); res.Counts.Failed != 0 {
		t.Fatalf("first run: %+v", res.Counts)
	}
	rec, _ := e.device(t, "172.31.4.4")
	hand := wug.Maintenance{Enabled: true, Reason: "cabling work"}
	if err := e.wug.Client().Devices.SetMaintenance(context.Background(), rec.WUGDeviceID, hand); err != nil {
		t.Fatal(err)
	}
	e.rerun(t, func() { e.updateDevice(t, id, func(d *netboxtest.Device) { d.Serial = "SN-NEW" }) },
		map[string]int{"PATCH /api/v1/devices/{deviceId}/attributes/-": 1})
	if _, d := e.device(t, "172.31.4.4"); !d.Maintenance || d.MaintenanceReason != hand.Reason {
		t.Errorf("maintenance %v (%q) after the run, want the hand-set %q kept", d.Maintenance, d.MaintenanceReason, hand.Reason)
	}
}

// An object that leaves the selection keeps its write-back fields while
// its WUG device stays (removal keep, with no NetBox write), and has them
// cleared by the run that puts its device in maintenance, as the README
// promises. The delete policy is TestWriteBackEndToEnd's.
func TestWriteBackFieldsFollowTheRemovalPolicy(t *testing.T) {
	t.Parallel()
	for _, policy := range []RemovalPolicy{RemoveKeep, RemoveMaintenance} {
		t.Run(string(policy), func(t *testing.T) {
			t.Parallel()
			e := newWriteBackE2E(t, 10, WriteBack{})
			e.job.Connection.Removal = policy
			e.run(t, RunOptions{})
			gone := e.firstExported(t)
			if _, err := e.nb.UpdateDevice(gone.ObjectID, func(d *netboxtest.Device) { d.Status = "offline" }); err != nil {
				t.Fatal(err)
			}
			e.nb.ResetRequests()
			res := e.run(t, RunOptions{ForceRemove: true})
			cf := e.fakeDevice(t, gone.ObjectID).CustomFields
			if policy == RemoveKeep {
				if res.Counts.Removed != 0 || e.nb.Writes() != 0 || cf[netbox.FieldWUGSyncState] != netbox.SyncExported {
					t.Errorf("keep: removed %d, %d NetBox writes, sync state %v; want 0, 0 and %q kept",
						res.Counts.Removed, e.nb.Writes(), cf[netbox.FieldWUGSyncState], netbox.SyncExported)
				}
				return
			}
			if res.Counts.Removed != 1 || res.WriteBack == nil || res.WriteBack.Cleared != 1 {
				t.Fatalf("maintenance: removed %d, write-back %+v; want 1 removed and cleared", res.Counts.Removed, res.WriteBack)
			}
			if d, _ := e.wug.Device(gone.WUGDeviceID); !d.Maintenance {
				t.Error("the removed device is not in maintenance")
			}
			for _, f := range []string{netbox.FieldWUGDeviceID, netbox.FieldWUGSyncState} {
				if cf[f] != nil {
					t.Errorf("%s = %v after the removal, want it cleared", f, cf[f])
				}
			}
		})
	}
}

// A run with write-back on creates no custom field in NetBox, as the
// README promises ("created by an explicit step, never by a run"): without
// the setup step the export still succeeds, with a warning.
func TestWriteBackRunCreatesNoField(t *testing.T) {
	t.Parallel()
	e := newE2E(t, []netboxtest.Option{netboxtest.WithDevices(10)})
	e.job.WriteBack = &WriteBack{}
	res := e.run(t, RunOptions{})
	if n := e.nb.Count(netboxtest.RouteCreateCustomFields); n != 0 {
		t.Errorf("the run sent %d custom-field creations, want none", n)
	}
	if res.Status != store.RunSucceeded || res.Counts.Added == 0 || len(res.Warnings) == 0 {
		t.Errorf("run without setup: status %s, counts %+v, warnings %v; want it exported with a warning", res.Status, res.Counts, res.Warnings)
	}
	t.Logf("warnings: %v", res.Warnings)
}

// The fields write-back fills in NetBox are WUG's side, never sent back
// to WUG: after a run with write-back (and the WUG state) on, no WUG device
// carries them as attributes, and the next, unchanged run writes nothing
// to either server.
func TestWriteBackFieldsDoNotReachWUG(t *testing.T) {
	t.Parallel()
	e := newE2E(t, []netboxtest.Option{netboxtest.WithDevices(20)})
	e.job.WriteBack = &WriteBack{DeviceLink: testDeviceLink, State: true}
	if _, err := (&Connection{export: e.job}).SetupWriteBack(context.Background()); err != nil {
		t.Fatal(err)
	}
	e.run(t, RunOptions{})
	if res := e.run(t, RunOptions{}); res.WriteBack == nil || res.WriteBack.Written == 0 {
		t.Fatalf("the second run wrote no WUG state back: %+v", res.WriteBack)
	}
	e.nb.ResetRequests()
	e.wug.ResetRequests()
	res := e.run(t, RunOptions{})
	if w := e.wugWrites(); w != 0 || res.Counts.Updated != 0 {
		t.Errorf("unchanged run after write-back: %d WUG writes, counts %+v; want none", w, res.Counts)
	}
	if w := e.nb.Writes(); w != 0 {
		t.Errorf("unchanged run after write-back: %d NetBox writes, want none", w)
	}
	for _, d := range e.wug.Devices() {
		for _, f := range netbox.WriteBackFields(true) {
			if v, ok := d.Attributes["NetBox.CF."+f.Name]; ok {
				t.Errorf("WUG device %s carries write-back field %s = %q", d.ID, f.Name, v)
			}
		}
	}
}

// A device that an earlier version gave write-back fields as attributes
// loses them in one update, after which runs write nothing.
func TestWriteBackFieldsLeaveWUGAfterUpgrade(t *testing.T) {
	t.Parallel()
	e := newWriteBackE2E(t, 10, WriteBack{})
	e.run(t, RunOptions{})
	e.run(t, RunOptions{}) // NetBox now holds the write-back fields
	r := e.firstExported(t)
	// What the earlier version wrote: the field as an attribute, recorded
	// as written, under the fingerprint that included it.
	const attr = "NetBox.CF." + netbox.FieldWUGSyncState
	if _, err := e.wug.Client().Attributes.Replace(context.Background(), r.WUGDeviceID, nil, []wug.NameValue{{Name: attr, Value: netbox.SyncExported}}); err != nil {
		t.Fatal(err)
	}
	r.Written.Attributes[attr], r.Fingerprint = netbox.SyncExported, "fingerprint of the earlier version"
	if err := e.st.UpsertRecords(context.Background(), []store.Record{r}); err != nil {
		t.Fatal(err)
	}
	e.wug.ResetRequests()
	if res := e.run(t, RunOptions{}); res.Counts.Updated != 1 || e.wug.Count(routeAttributes) != 1 {
		t.Errorf("upgrade run: %+v with %d attribute writes, want one update in one", res.Counts, e.wug.Count(routeAttributes))
	}
	if d, _ := e.wug.Device(r.WUGDeviceID); d.Attributes[attr] != "" {
		t.Errorf("%s = %q after the upgrade run, want it gone", attr, d.Attributes[attr])
	}
	e.wug.ResetRequests()
	if res := e.run(t, RunOptions{}); e.wugWrites() != 0 || res.Counts.Updated != 0 {
		t.Errorf("run after the upgrade: %+v with %d WUG writes, want none", res.Counts, e.wugWrites())
	}
}

// A WUG metadata update changes no write-back field, so the run writes
// nothing to NetBox and wug_last_sync stays.
func TestWriteBackMetadataUpdateWritesNothing(t *testing.T) {
	t.Parallel()
	e := newWriteBackE2E(t, 10, WriteBack{DeviceLink: testDeviceLink})
	e.run(t, RunOptions{})
	r := e.firstExported(t)
	before := e.fakeDevice(t, r.ObjectID).CustomFields[netbox.FieldWUGLastSync]
	if _, err := e.nb.UpdateDevice(r.ObjectID, func(d *netboxtest.Device) { d.Serial = "SN-CHANGED" }); err != nil {
		t.Fatal(err)
	}
	e.nb.ResetRequests()
	e.wug.ResetRequests()
	later := e.job.now().Add(time.Hour)
	e.job.Now = func() time.Time { return later }
	if res := e.run(t, RunOptions{}); res.Counts.Updated != 1 {
		t.Fatalf("counts %+v, want one update", res.Counts)
	}
	if e.wug.Count(routeAttributes) != 1 {
		t.Fatalf("%d attribute writes to WUG, want the update's 1", e.wug.Count(routeAttributes))
	}
	if w := e.nb.Writes(); w != 0 {
		t.Errorf("the update run made %d NetBox writes, want 0", w)
	}
	if got := e.fakeDevice(t, r.ObjectID).CustomFields[netbox.FieldWUGLastSync]; got != before {
		t.Errorf("%s moved from %v to %v", netbox.FieldWUGLastSync, before, got)
	}
}

// The drift report reads WUG's device listing once and the selection once,
// and writes to neither server, as the README promises.
func TestDriftReadsOnceAndWritesNothing(t *testing.T) {
	t.Parallel()
	e := newE2E(t, []netboxtest.Option{netboxtest.WithDevices(30)})
	e.run(t, RunOptions{})
	e.nb.ResetRequests()
	e.wug.ResetRequests()
	if _, err := (&Connection{export: e.job}).Drift(context.Background()); err != nil {
		t.Fatal(err)
	}
	if w := e.wugWrites(); w != 0 {
		t.Errorf("the drift report sent %d WUG writes", w)
	}
	if w := e.nb.Writes(); w != 0 {
		t.Errorf("the drift report sent %d NetBox writes", w)
	}
	if n := e.wug.Count(routeListing); n != 1 {
		t.Errorf("the drift report listed WUG's devices in %d requests, want 1 (one page)", n)
	}
	if n := e.nb.Count(netboxtest.RouteDevices); n != 1 {
		t.Errorf("the drift report read NetBox's devices in %d requests, want 1 (one page)", n)
	}
}

// Objects exported by scan carry scan_pending until the scan monitor links
// their devices; the next export then writes their WUG device and, with the
// journal on, records in NetBox that each was added to WUG, as the README
// promises for every object added, once, even when NetBox refused the
// fields the first time; a run after that writes nothing.
func TestWriteBackScannedObjects(t *testing.T) {
	t.Parallel()
	e := newWriteBackE2E(t, 30, WriteBack{DeviceLink: testDeviceLink, Journal: true})
	e.job.Connection.Scan = true
	addrs := e.plannedScans(t)
	e.wug.SetReachable(addrs...)
	if res := e.run(t, RunOptions{}); res.Counts.Scanned != len(addrs) {
		t.Fatalf("scan run: %+v, want %d scanned", res.Counts, len(addrs))
	}
	pending := map[int64]bool{}
	for _, r := range e.records(t) {
		if r.Status != store.StatusScanTriggered {
			continue
		}
		pending[r.ObjectID] = true
		if s := e.fakeDevice(t, r.ObjectID).CustomFields[netbox.FieldWUGSyncState]; s != netbox.SyncScanPending {
			t.Errorf("device %d: sync state %v while its scan runs, want %q", r.ObjectID, s, netbox.SyncScanPending)
		}
	}
	if n := len(e.nb.JournalEntries()); n != 0 {
		t.Errorf("%d journal entries before any device was added", n)
	}

	e.wug.CompleteScans()
	mon := &scanJob{Connection: "wug1", WUG: e.job.WUG, Store: e.st, Source: e.job.Source,
		Selector: e.job.Connection.Selector, Transformer: e.tr}
	if sr, err := mon.Run(context.Background(), store.TriggerManual); err != nil || sr.Linked != len(addrs) {
		t.Fatalf("monitor: %+v, %v; want %d linked", sr, err, len(addrs))
	}
	added := func() map[int64]int {
		n := map[int64]int{}
		for _, j := range e.nb.JournalEntries() {
			if j.Kind == netbox.JournalSuccess {
				n[j.ObjectID]++
			}
		}
		return n
	}
	// NetBox refuses the fields once: nothing is journaled until it has
	// taken them, so the next run journals each object once.
	e.nb.FailNext(netboxtest.Fault{Route: netboxtest.RoutePatchDevices, Status: http.StatusBadRequest, Times: 1})
	if res := e.run(t, RunOptions{}); res.WriteBack == nil || len(res.WriteBack.Errors) == 0 {
		t.Fatalf("the refused write-back reported no error: %+v", res.WriteBack)
	}
	if n := len(added()); n != 0 {
		t.Fatalf("%d objects journaled as added while NetBox refused their fields", n)
	}
	e.run(t, RunOptions{})
	journaled := added()
	for _, r := range e.records(t) {
		if !pending[r.ObjectID] {
			continue
		}
		cf := e.fakeDevice(t, r.ObjectID).CustomFields
		if cf[netbox.FieldWUGSyncState] != netbox.SyncExported || fmt.Sprint(cf[netbox.FieldWUGDeviceID]) != r.WUGDeviceID {
			t.Errorf("device %d after linking: sync state %v, WUG device %v; want exported, %s",
				r.ObjectID, cf[netbox.FieldWUGSyncState], cf[netbox.FieldWUGDeviceID], r.WUGDeviceID)
		}
		if journaled[r.ObjectID] != 1 {
			t.Errorf("device %d: %d journal entries saying it was added, want 1", r.ObjectID, journaled[r.ObjectID])
		}
	}
	e.nb.ResetRequests()
	e.run(t, RunOptions{})
	if w := e.nb.Writes(); w != 0 {
		t.Errorf("the run after linking made %d NetBox writes, want 0", w)
	}
}

// firstExported returns the first exported record of the connection.
func (e *e2e) firstExported(t *testing.T) store.Record {
	t.Helper()
	for _, r := range e.records(t) {
		if r.Status == store.StatusExported {
			return r
		}
	}
	t.Fatal("nothing exported")
	return store.Record{}
}

// plannedScans returns the addresses a dry run plans to scan; it fails
// the test when there are none.
func (e *e2e) plannedScans(t *testing.T) []string {
	t.Helper()
	var addrs []string
	for _, d := range e.run(t, RunOptions{dryRun: true}).Plan.Decisions {
		if d.Action == ActionScan {
			addrs = append(addrs, d.Key.Address.String())
		}
	}
	if len(addrs) == 0 {
		t.Fatal("nothing to scan")
	}
	return addrs
}
