package export

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/wugsync/wugsync/netbox"
	"github.com/wugsync/wugsync/netbox/netboxtest"
	"github.com/wugsync/wugsync/store"
)

// wugListRoute is the one WUG route a state sync may call: the paged
// device listing the export reads.
const wugListRoute = "GET /api/v1/device-groups/{groupId}/devices/-"

// newStateSyncE2E exports n devices with WUG state write-back on, twice
// (the second run writes the states the first run's devices have), and
// returns the e2e with a device the export linked and the fakes' request
// logs cleared.
func newStateSyncE2E(t *testing.T, n int) (e *e2e, rec store.Record) {
	t.Helper()
	e = newE2E(t, []netboxtest.Option{netboxtest.WithDevices(n)})
	e.job.WriteBack = &WriteBack{State: true}
	if _, err := (&Connection{export: e.job}).SetupWriteBack(context.Background()); err != nil {
		t.Fatal(err)
	}
	e.run(t, RunOptions{})
	e.run(t, RunOptions{})
	for _, r := range e.records(t) {
		if r.Status == store.StatusExported && r.WUGDeviceID != "" {
			rec = r
			break
		}
	}
	if rec.WUGDeviceID == "" {
		t.Fatal("nothing exported")
	}
	if got := e.fakeDevice(t, rec.ObjectID).CustomFields[netbox.FieldWUGState]; got != "up" {
		t.Fatalf("after the export, device %d: %s = %v, want up", rec.ObjectID, netbox.FieldWUGState, got)
	}
	e.nb.ResetRequests()
	e.wug.ResetRequests()
	return e, rec
}

// wugStates returns the wug_state of every device in the fake NetBox.
func (e *e2e) wugStates() map[int64]any {
	out := map[int64]any{}
	for _, d := range e.nb.Devices() {
		out[d.ID] = d.CustomFields[netbox.FieldWUGState]
	}
	return out
}

// checkStateSyncRequests fails unless WUG saw only its device listing,
// one page at a time (no request per device), and NetBox only list reads
// of devices (no addresses, sites or single objects) and the PATCHes.
func checkStateSyncRequests(t *testing.T, e *e2e, patches int) {
	t.Helper()
	for route, n := range e.wug.Counts().ByRoute {
		if route != wugListRoute && route != "POST /api/v1/token" {
			t.Errorf("WUG: %d requests to %s, want only %s", n, route, wugListRoute)
		}
	}
	for _, r := range e.nb.Requests() {
		if r.Route != netboxtest.RouteDevices && r.Route != netboxtest.RoutePatchDevices {
			t.Errorf("NetBox: request %s %s, want only device lists and PATCHes", r.Method, r.Path)
		}
	}
	if got := e.nb.Count(netboxtest.RoutePatchDevices); got != patches || e.nb.Writes() != patches {
		t.Errorf("NetBox: %d device PATCHes and %d writes, want %d", got, e.nb.Writes(), patches)
	}
}

// TestSyncStateWritesWhatChanged: a device goes down in WUG; one
// SyncState writes "down" into its object's wug_state with one bulk
// PATCH, reading WUG's listing once and NetBox's selection once, and a
// second one, with nothing changed, writes nothing.
func TestSyncStateWritesWhatChanged(t *testing.T) {
	t.Parallel()
	e, rec := newStateSyncE2E(t, 12)
	conn := &Connection{export: e.job}
	ctx := context.Background()
	want := e.wugStates()
	if err := e.wug.SetState(rec.WUGDeviceID, "Down"); err != nil {
		t.Fatal(err)
	}
	want[rec.ObjectID] = "down"

	res, err := conn.SyncState(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(&WriteBackResult{Requests: 1, Written: 1}, res); diff != "" {
		t.Errorf("first sync (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(want, e.wugStates()); diff != "" {
		t.Errorf("wug_state in NetBox (-want +got):\n%s", diff)
	}
	checkStateSyncRequests(t, e, 1)
	t.Logf("one device down: WUG %d listing requests; NetBox %d device lists, %d PATCHes", e.wug.Count(wugListRoute),
		e.nb.Count(netboxtest.RouteDevices), e.nb.Count(netboxtest.RoutePatchDevices))
	if got := e.wug.Count(wugListRoute); got != 1 {
		t.Errorf("WUG: %d device listings, want 1", got)
	}
	if got := e.nb.Count(netboxtest.RouteDevices); got != 1 {
		t.Errorf("NetBox: %d device lists, want 1", got)
	}

	e.nb.ResetRequests()
	e.wug.ResetRequests()
	res, err = conn.SyncState(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(&WriteBackResult{}, res); diff != "" {
		t.Errorf("unchanged sync (-want +got):\n%s", diff)
	}
	checkStateSyncRequests(t, e, 0)
	t.Logf("nothing changed: WUG %d listing requests; NetBox %d device lists, %d PATCHes", e.wug.Count(wugListRoute),
		e.nb.Count(netboxtest.RouteDevices), e.nb.Count(netboxtest.RoutePatchDevices))

	// The export that follows agrees: it writes nothing either.
	e.runWritesNothingToNetBox(t, "export after the sync")
}

// TestSyncStateNeedsStateWriteBack: without WriteBack.State SyncState
// sends nothing and says why.
func TestSyncStateNeedsStateWriteBack(t *testing.T) {
	t.Parallel()
	e := newE2E(t, []netboxtest.Option{netboxtest.WithDevices(10)})
	e.job.WriteBack = &WriteBack{}
	_, err := (&Connection{export: e.job}).SyncState(context.Background())
	if err == nil || !strings.Contains(err.Error(), "WriteBack.State") {
		t.Errorf("SyncState without State: %v, want an error naming WriteBack.State", err)
	}
	if n := e.nb.Count(netboxtest.RouteAny) + len(e.wug.Requests()); n != 0 {
		t.Errorf("%d requests sent, want 0", n)
	}
}

// TestSchedulerSyncsStateOnScanTicks: a connection that adds devices (no
// scans to follow) but writes WUG states back gets its wug_state
// refreshed on the scan-monitor ticks between exports: a device that goes
// down is written once, and the ticks after that write nothing.
func TestSchedulerSyncsStateOnScanTicks(t *testing.T) {
	t.Parallel()
	e, rec := newStateSyncE2E(t, 10)
	s, err := newScheduler(e.st, []scheduledConnection{{Export: e.job, Interval: time.Hour, ScanInterval: 20 * time.Millisecond}}, SchedulerOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.wug.SetState(rec.WUGDeviceID, "Down"); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		s.Run(ctx)
	}()
	defer func() {
		cancel()
		<-stopped
	}()
	deadline := time.Now().Add(10 * time.Second)
	for e.fakeDevice(t, rec.ObjectID).CustomFields[netbox.FieldWUGState] != "down" || e.wug.Count(wugListRoute) < 4 {
		if time.Now().After(deadline) {
			t.Fatalf("after %d ticks, device %d: %s = %v, want down", e.wug.Count(wugListRoute), rec.ObjectID,
				netbox.FieldWUGState, e.fakeDevice(t, rec.ObjectID).CustomFields[netbox.FieldWUGState])
		}
		time.Sleep(5 * time.Millisecond)
	}
	cancel()
	<-stopped
	if runs, err := e.st.Runs(context.Background(), store.RunQuery{Connection: "wug1", Kind: store.RunExport, Limit: 10}); err != nil || len(runs) != 2 {
		t.Fatalf("%d export runs (%v), want the 2 before the scheduler started", len(runs), err)
	}
	checkStateSyncRequests(t, e, 1)
}
