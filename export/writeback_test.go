package export

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/wugsync/wugsync/netbox"
	"github.com/wugsync/wugsync/netbox/netboxtest"
	"github.com/wugsync/wugsync/store"
)

const testDeviceLink = "https://wug.example.com/NmConsole/#device/{id}"

// newWriteBackE2E is an e2e export with write-back on and the custom
// fields set up in the fake NetBox.
func newWriteBackE2E(t testing.TB, devices int, wb WriteBack) *e2e {
	t.Helper()
	e := newE2E(t, []netboxtest.Option{netboxtest.WithDevices(devices)})
	e.job.WriteBack = &wb
	e.job.Connection.Removal = RemoveDelete
	nbw := e.job.Source.(netBoxWriter)
	if _, err := nbw.SetupCustomFields(context.Background(), netbox.WriteBackFields(false)); err != nil {
		t.Fatal(err)
	}
	e.nb.ResetRequests()
	return e
}

// fakeObject returns the fake NetBox's device for a record.
func (e *e2e) fakeDevice(t testing.TB, id int64) netboxtest.Device {
	t.Helper()
	d, ok := e.nb.Device(id)
	if !ok {
		t.Fatalf("the fake NetBox has no device %d", id)
	}
	return d
}

func TestWriteBackEndToEnd(t *testing.T) {
	t.Parallel()
	e := newWriteBackE2E(t, 30, WriteBack{DeviceLink: testDeviceLink, Journal: true})
	res := e.run(t, RunOptions{})
	if res.WriteBack == nil || res.WriteBack.Written == 0 {
		t.Fatalf("first run wrote nothing back: %+v", res.WriteBack)
	}

	exported := 0
	for _, r := range e.records(t) {
		d := e.fakeDevice(t, r.ObjectID)
		cf := d.CustomFields
		if r.Status != store.StatusExported {
			if s, _ := cf[netbox.FieldWUGSyncState].(string); !strings.HasPrefix(s, "error: ") && s != netbox.SyncScanPending {
				t.Errorf("device %d (record %s): sync state %q", d.ID, r.Status, s)
			}
			continue
		}
		exported++
		want := map[string]any{
			netbox.FieldWUGDeviceID:  r.WUGDeviceID,
			netbox.FieldWUGDeviceURL: strings.ReplaceAll(testDeviceLink, "{id}", r.WUGDeviceID),
			netbox.FieldWUGSyncState: netbox.SyncExported,
		}
		got := map[string]any{
			netbox.FieldWUGDeviceID:  fmt.Sprint(cf[netbox.FieldWUGDeviceID]),
			netbox.FieldWUGDeviceURL: cf[netbox.FieldWUGDeviceURL],
			netbox.FieldWUGSyncState: cf[netbox.FieldWUGSyncState],
		}
		for k, w := range want {
			if got[k] != w {
				t.Errorf("device %d: %s = %v, want %v", d.ID, k, got[k], w)
			}
		}
		if cf[netbox.FieldWUGLastSync] == nil {
			t.Errorf("device %d: no %s", d.ID, netbox.FieldWUGLastSync)
		}
	}
	if exported == 0 || exported != res.Counts.Added {
		t.Fatalf("%d exported records, %d added", exported, res.Counts.Added)
	}
	if got := len(e.nb.JournalEntries()); got != res.Counts.Added {
		t.Errorf("%d journal entries after the first run, want one per added device (%d)", got, res.Counts.Added)
	}
	wantReq := (res.WriteBack.Written+netbox.DefaultWritePageSize-1)/netbox.DefaultWritePageSize + 1 // fields + journal
	if got := e.nb.Writes(); got != wantReq || res.WriteBack.Requests != wantReq {
		t.Errorf("first run: %d NetBox writes (result says %d), want %d", got, res.WriteBack.Requests, wantReq)
	}

	// An unchanged run writes nothing to NetBox.
	res = e.runWritesNothingToNetBox(t, "unchanged run")
	if res.WriteBack == nil || res.WriteBack.Requests != 0 || res.WriteBack.Written != 0 {
		t.Errorf("unchanged run: write-back %+v, want nothing", res.WriteBack)
	}

	// A device taken out of the selection: its WUG device is deleted, its
	// fields cleared and the removal journaled.
	gone := e.firstExported(t)
	e.updateDevice(t, gone.ObjectID, func(d *netboxtest.Device) { d.Status = "offline" })
	e.nb.ResetRequests()
	journal := len(e.nb.JournalEntries())
	res = e.run(t, RunOptions{ForceRemove: true})
	if res.Counts.Removed != 1 || res.WriteBack.Cleared != 1 {
		t.Fatalf("removal run: removed %d, cleared %d, want 1 and 1 (%v)", res.Counts.Removed, res.WriteBack.Cleared, res.Warnings)
	}
	cf := e.fakeDevice(t, gone.ObjectID).CustomFields
	for _, f := range []string{netbox.FieldWUGDeviceID, netbox.FieldWUGDeviceURL, netbox.FieldWUGSyncState} {
		if cf[f] != nil {
			t.Errorf("removed device %d: %s = %v, want null", gone.ObjectID, f, cf[f])
		}
	}
	entries := e.nb.JournalEntries()
	if len(entries) != journal+1 {
		t.Fatalf("%d journal entries after the removal, want %d", len(entries), journal+1)
	}
	last := entries[len(entries)-1]
	if last.ObjectID != gone.ObjectID || last.Kind != netbox.JournalWarning || !strings.Contains(last.Comments, gone.WUGDeviceID) {
		t.Errorf("removal journal entry %+v, want a warning on device %d naming WUG device %s", last, gone.ObjectID, gone.WUGDeviceID)
	}
	if got := e.nb.Writes(); got != 2 {
		t.Errorf("removal run: %d NetBox writes, want 2 (one bulk PATCH, one journal POST)", got)
	}
}

// TestWriteBackLastSyncFollowsChanges: a run that changes nothing but the
// clock leaves wug_last_sync as it was.
func TestWriteBackLastSyncFollowsChanges(t *testing.T) {
	t.Parallel()
	e := newWriteBackE2E(t, 10, WriteBack{})
	e.run(t, RunOptions{})
	before := map[int64]any{}
	for _, d := range e.nb.Devices() {
		before[d.ID] = d.CustomFields[netbox.FieldWUGLastSync]
		if d.CustomFields[netbox.FieldWUGSyncState] == nil {
			continue // not selected
		}
		if before[d.ID] == nil {
			t.Errorf("device %d has no %s after the first run", d.ID, netbox.FieldWUGLastSync)
		}
		if _, ok := d.CustomFields[netbox.FieldWUGDeviceURL]; ok && d.CustomFields[netbox.FieldWUGDeviceURL] != nil {
			t.Errorf("device %d: a link was written without a DeviceLink", d.ID)
		}
	}
	later := e.job.now().Add(3600e9)
	e.job.Now = func() time.Time { return later }
	e.run(t, RunOptions{})
	for _, d := range e.nb.Devices() {
		if got := d.CustomFields[netbox.FieldWUGLastSync]; got != before[d.ID] {
			t.Errorf("device %d: %s moved from %v to %v in an unchanged run", d.ID, netbox.FieldWUGLastSync, before[d.ID], got)
		}
	}
}

// TestWriteBackWUGState: with State, each exported object carries its WUG
// device's state from the device listing a run begins with (so a device
// added in a run gets its state in the next); then an unchanged run
// writes nothing.
func TestWriteBackWUGState(t *testing.T) {
	t.Parallel()
	e := newE2E(t, []netboxtest.Option{netboxtest.WithDevices(10)})
	e.job.WriteBack = &WriteBack{State: true}
	ctx := context.Background()
	if _, err := (&Connection{export: e.job}).SetupWriteBack(ctx); err != nil {
		t.Fatal(err)
	}
	e.run(t, RunOptions{}) // adds the devices
	e.run(t, RunOptions{}) // lists them with their states
	wugState := map[string]string{}
	for _, d := range e.wug.Devices() {
		wugState[d.ID] = strings.ToLower(d.State)
	}
	n := 0
	for _, r := range e.records(t) {
		if r.Status != store.StatusExported {
			continue
		}
		n++
		got := e.fakeDevice(t, r.ObjectID).CustomFields[netbox.FieldWUGState]
		if got != wugState[r.WUGDeviceID] || got == "" {
			t.Errorf("device %d: %s = %v, want WUG device %s's state %q", r.ObjectID, netbox.FieldWUGState, got, r.WUGDeviceID, wugState[r.WUGDeviceID])
		}
	}
	if n == 0 {
		t.Fatal("nothing exported")
	}
	e.runWritesNothingToNetBox(t, "unchanged run")
}

// TestWriteBackRefusedWriteIsRetriedNextRun: NetBox refuses the run's bulk
// PATCH (400, so the HTTP layer does not repeat it): the export succeeds
// with a warning and nothing written, and the next run writes the same
// objects, since they still differ.
func TestWriteBackRefusedWriteIsRetriedNextRun(t *testing.T) {
	t.Parallel()
	e := newWriteBackE2E(t, 10, WriteBack{})
	e.nb.FailNext(netboxtest.Fault{Route: netboxtest.RoutePatchDevices, Status: 400, Times: 1})
	res := e.run(t, RunOptions{})
	if res.Status != store.RunSucceeded || res.WriteBack == nil || len(res.WriteBack.Errors) == 0 || len(res.Warnings) == 0 {
		t.Fatalf("refused write-back: status %s, write-back %+v, warnings %v", res.Status, res.WriteBack, res.Warnings)
	}
	if got := e.nb.Count(netboxtest.RoutePatchDevices); got != 1 {
		t.Fatalf("%d bulk PATCHes reached NetBox, want the 1 refused", got)
	}
	for _, d := range e.nb.Devices() {
		if d.CustomFields[netbox.FieldWUGSyncState] != nil {
			t.Fatalf("device %d has a sync state after the refused write", d.ID)
		}
	}
	refused := res.WriteBack.Written

	res = e.run(t, RunOptions{})
	if res.WriteBack.Written != refused || len(res.WriteBack.Errors) != 0 {
		t.Errorf("next run wrote %d objects (%v), want the %d refused", res.WriteBack.Written, res.WriteBack.Errors, refused)
	}
	synced := 0
	for _, d := range e.nb.Devices() {
		if d.CustomFields[netbox.FieldWUGSyncState] != nil {
			synced++
		}
	}
	if synced != refused {
		t.Errorf("%d devices carry a sync state, want %d", synced, refused)
	}
}
