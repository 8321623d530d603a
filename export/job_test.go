package export

import (
	"context"
	"errors"
	"net/netip"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/wugsync/wugsync/netbox"
	"github.com/wugsync/wugsync/store"
	"github.com/wugsync/wugsync/store/memory"
)

type jobEnv struct {
	wug *fakeWUG
	src *fakeSource
	st  store.Store
	job *exportJob
}

func newJobEnv(t *testing.T, n int) *jobEnv {
	t.Helper()
	e := &jobEnv{wug: newFakeWUG(), src: &fakeSource{devs: testDevices(n)}, st: memory.New()}
	t.Cleanup(func() { e.st.Close() })
	e.job = &exportJob{Connection: connSettings{Name: "test"},
		Source: e.src, WUG: e.wug, Store: e.st, Transformer: testTransformer(t)}
	return e
}

func (e *jobEnv) run(t *testing.T, opts RunOptions) *Result {
	t.Helper()
	res, err := e.job.Run(context.Background(), opts)
	if err != nil {
		t.Fatalf("export: %v", err)
	}
	return res
}

// records returns the connection's records by address.
func (e *jobEnv) records(t *testing.T) map[netip.Addr]store.Record {
	t.Helper()
	out := map[netip.Addr]store.Record{}
	for r, err := range e.st.Records(context.Background(), store.Query{Connection: "test"}) {
		if err != nil {
			t.Fatal(err)
		}
		out[r.Address] = r
	}
	return out
}

// checkConsistent asserts that WUG holds each address at most once and
// that every exported record points at the WUG device with its address.
func (e *jobEnv) checkConsistent(t *testing.T, wantExported int) {
	t.Helper()
	for addr, n := range e.wug.byAddr() {
		if n > 1 {
			t.Errorf("WUG holds %d devices for %s", n, addr)
		}
	}
	exported := 0
	e.wug.mu.Lock()
	defer e.wug.mu.Unlock()
	for _, r := range e.records(t) {
		if r.Status != store.StatusExported {
			continue
		}
		exported++
		d, ok := e.wug.devs[r.WUGDeviceID]
		if !ok || d.addr != r.Address {
			t.Errorf("record %s points at WUG device %q, which does not hold the address", r.Key, r.WUGDeviceID)
		}
	}
	if exported != wantExported {
		t.Errorf("%d records exported, want %d", exported, wantExported)
	}
}

func TestExportAddsInBatchesAndIsIdempotent(t *testing.T) {
	t.Parallel()
	e := newJobEnv(t, 120)
	e.job.Connection.BatchSize = 50
	e.src.set(5, func(d *netbox.Device) { d.PrimaryIPv4.Address = netip.MustParsePrefix("127.0.0.1/8") })

	var last struct {
		done   int
		counts Counts
	}
	reports := 0
	res := e.run(t, RunOptions{Progress: func(done int, c Counts) { last.done, last.counts = done, c; reports++ }})
	if reports < 3 || last.done != 120 || last.counts.Added != 119 {
		t.Errorf("progress: %d reports, last %+v; want one per batch ending with 120 done", reports, last)
	}
	want := Counts{Selected: 120, Added: 119, Invalid: 1}
	if diff := cmp.Diff(want, res.Counts); diff != "" {
		t.Errorf("first run counts (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]int{50, 50, 19}, sortedInts(e.wug.batches)); diff != "" {
		t.Errorf("templates per request (-want +got):\n%s", diff)
	}
	_, calls := e.wug.stats()
	if calls["GroupPaths"] != 1 || calls["CreateGroup"] != 4 {
		t.Errorf("%d group listings and %d groups created, want one listing and 4 groups (NetBox and 3 sites)", calls["GroupPaths"], calls["CreateGroup"])
	}
	e.checkConsistent(t, 119)
	bad := e.records(t)[netip.MustParseAddr("127.0.0.1")]
	if bad.Status != store.StatusError || !strings.Contains(bad.LastError, "loopback") {
		t.Errorf("invalid address recorded as %s %q, want an error naming the reason", bad.Status, bad.LastError)
	}
	if res.Status != store.RunSucceeded {
		t.Errorf("run status %s, want succeeded", res.Status)
	}
	run, err := e.st.Run(context.Background(), res.RunID)
	if err != nil || run.Status != store.RunSucceeded || run.Counts.Added != 119 {
		t.Errorf("recorded run = %+v, %v", run, err)
	}

	w0, _ := e.wug.stats()
	res = e.run(t, RunOptions{})
	w1, _ := e.wug.stats()
	if w1 != w0 {
		t.Errorf("no-change re-run sent %d writes to WUG, want 0", w1-w0)
	}
	if res.Counts.Unchanged != 119 || res.Counts.Invalid != 1 || len(res.Outcomes) != 1 {
		t.Errorf("re-run counts %+v with %d outcomes, want 119 unchanged and the invalid one", res.Counts, len(res.Outcomes))
	}
}

func sortedInts(s []int) []int {
	out := append([]int(nil), s...)
	for i := range out {
		for j := i + 1; j < len(out); j++ {
			if out[j] > out[i] {
				out[i], out[j] = out[j], out[i]
			}
		}
	}
	return out
}

func TestExportMetadataChangeUpdatesOnlyThatDevice(t *testing.T) {
	t.Parallel()
	e := newJobEnv(t, 30)
	e.run(t, RunOptions{})
	e.src.set(3, func(d *netbox.Device) { d.Description = "moved to rack 9" })
	w0, calls0 := e.wug.stats()
	res := e.run(t, RunOptions{})
	w1, calls1 := e.wug.stats()
	if res.Counts.Updated != 1 || res.Counts.Unchanged != 29 {
		t.Errorf("counts %+v, want 1 updated and 29 unchanged", res.Counts)
	}
	if w1-w0 != 1 || calls1["WriteMetadata"]-calls0["WriteMetadata"] != 1 || calls1["BulkAdd"] != calls0["BulkAdd"] ||
		calls1["UpdateMetadata"] != calls0["UpdateMetadata"] {
		t.Errorf("writes %d, metadata writes %d, reading updates %d, adds %d; want one metadata write, no read, no add",
			w1-w0, calls1["WriteMetadata"]-calls0["WriteMetadata"], calls1["UpdateMetadata"]-calls0["UpdateMetadata"], calls1["BulkAdd"]-calls0["BulkAdd"])
	}
	e.checkConsistent(t, 30)
}

func TestExportAdoptsExistingDevices(t *testing.T) {
	t.Parallel()
	e := newJobEnv(t, 10)
	id := e.wug.seed("hand-made", netip.MustParseAddr("10.0.0.4"))
	e.wug.seed("similar", netip.MustParseAddr("10.0.0.40"))
	res := e.run(t, RunOptions{})
	if res.Counts.Adopted != 1 || res.Counts.Added != 9 {
		t.Errorf("counts %+v, want 1 adopted and 9 added", res.Counts)
	}
	if r := e.records(t)[netip.MustParseAddr("10.0.0.4")]; r.WUGDeviceID != id || r.Reason != store.ReasonAdopted {
		t.Errorf("adopted record = %+v, want linked to %s", r, id)
	}
	e.checkConsistent(t, 10)
}

func TestExportLostAnswersCreateNoDuplicates(t *testing.T) {
	t.Parallel()
	e := newJobEnv(t, 100)
	e.wug.addLost = 2 // the first two template applies succeed but their answers are lost
	res := e.run(t, RunOptions{})
	if res.Counts.Added != 100 || res.Counts.Failed != 0 {
		t.Errorf("counts %+v, want 100 added", res.Counts)
	}
	e.checkConsistent(t, 100)
}

// A refusal (WUG answered 503 before acting, or 500 on an update) is
// recorded on its items once, not retried by the executor; the next run
// plans them again.
func TestExportKnownFailuresAreRecordedOnce(t *testing.T) {
	t.Parallel()
	e := newJobEnv(t, 60)
	e.job.Connection.BatchSize = 50
	e.wug.addFails = 2 // both batches (50 and 10)
	res := e.run(t, RunOptions{})
	if _, calls := e.wug.stats(); res.Counts.Failed != 60 || calls["BulkAdd"] != 2 || calls["FindByAddress"] != 0 {
		t.Errorf("counts %+v with %d template applies and %d lookups; want 60 failed by 2 requests, no lookup",
			res.Counts, calls["BulkAdd"], calls["FindByAddress"])
	}
	for _, r := range e.records(t) {
		if r.Status != store.StatusError || !strings.Contains(r.LastError, "503") || r.Attempts != 1 {
			t.Errorf("record %s: %s %q attempts %d", r.Key, r.Status, r.LastError, r.Attempts)
		}
	}
	res = e.run(t, RunOptions{})
	if res.Counts.Added != 60 {
		t.Errorf("next run: %+v, want 60 added", res.Counts)
	}
	e.checkConsistent(t, 60)

	e.src.set(3, func(d *netbox.Device) { d.Description = "changed" })
	e.wug.updateFails = 1
	_, before := e.wug.stats()
	res = e.run(t, RunOptions{})
	_, after := e.wug.stats()
	if n := after["WriteMetadata"] - before["WriteMetadata"]; res.Counts.Failed != 1 || n != 1 {
		t.Errorf("update refused: %+v with %d update calls, want 1 failed by 1 call", res.Counts, n)
	}
	if res = e.run(t, RunOptions{}); res.Counts.Updated != 1 {
		t.Errorf("next run: %+v, want the update done", res.Counts)
	}
}

func TestExportItemFailureIsRecordedAndRunGoesOn(t *testing.T) {
	t.Parallel()
	e := newJobEnv(t, 10)
	e.wug.rejectAddr = map[netip.Addr]bool{netip.MustParseAddr("10.0.0.3"): true}
	res := e.run(t, RunOptions{})
	if res.Counts.Added != 9 || res.Counts.Failed != 1 || res.Status != store.RunPartial {
		t.Errorf("counts %+v status %s, want 9 added, 1 failed, partial", res.Counts, res.Status)
	}
	r := e.records(t)[netip.MustParseAddr("10.0.0.3")]
	if r.Status != store.StatusError || !strings.Contains(r.LastError, "interface rejected") || r.Attempts != 1 {
		t.Errorf("failed record = %s %q attempts %d", r.Status, r.LastError, r.Attempts)
	}
}

func TestExportFailedAddFallsBackToScan(t *testing.T) {
	t.Parallel()
	e := newJobEnv(t, 10)
	e.job.Connection.ScanFallback = true
	e.wug.rejectAddr = map[netip.Addr]bool{netip.MustParseAddr("10.0.0.3"): true}
	e.wug.scanDone = false
	res := e.run(t, RunOptions{})
	if res.Counts.Added != 9 || res.Counts.Scanned != 1 || res.Counts.Failed != 0 {
		t.Errorf("counts %+v, want 9 added and 1 scanned", res.Counts)
	}
	r := e.records(t)[netip.MustParseAddr("10.0.0.3")]
	if r.Status != store.StatusScanTriggered || r.ScanID == "" {
		t.Errorf("fallback record = %s scan %q", r.Status, r.ScanID)
	}
}

func TestExportScanModeAndScanMonitor(t *testing.T) {
	t.Parallel()
	e := newJobEnv(t, 12)
	e.job.Connection.Scan = true
	e.wug.scanDone = false
	res := e.run(t, RunOptions{})
	if res.Counts.Scanned != 12 {
		t.Fatalf("counts %+v, want 12 scanned", res.Counts)
	}
	_, calls := e.wug.stats()
	if calls["ScanIPs"] != 3 || calls["BulkAdd"] != 0 {
		t.Errorf("ScanIPs %d (want one per group path: 3), BulkAdd %d", calls["ScanIPs"], calls["BulkAdd"])
	}
	now := time.Now()
	mon := &scanJob{Connection: "test", WUG: e.wug, Store: e.st, Source: e.src, Transformer: e.job.Transformer,
		Now: func() time.Time { return now }}
	sr, err := mon.Run(context.Background(), store.TriggerManual)
	if err != nil || sr.Waiting != 12 || sr.Linked != 0 {
		t.Fatalf("while scanning: %+v, %v; want 12 waiting", sr, err)
	}
	// Finish two scans; let the third time out.
	e.wug.mu.Lock()
	e.wug.finishScan(e.wug.scans["scan-1"])
	e.wug.finishScan(e.wug.scans["scan-2"])
	e.wug.mu.Unlock()
	now = now.Add(2 * time.Hour)
	sr, err = mon.Run(context.Background(), store.TriggerManual)
	if err != nil {
		t.Fatal(err)
	}
	if sr.Linked != 8 || sr.TimedOut != 4 {
		t.Errorf("after: %+v, want 8 linked and 4 timed out", sr)
	}
	recs := e.records(t)
	linked := 0
	for _, r := range recs {
		switch r.Status {
		case store.StatusScanCompleted:
			linked++
			if !r.ScanDiscovered || r.WUGDeviceID == "" || r.Fingerprint == "" {
				t.Errorf("linked record %s: discovered %v device %q fingerprint %q", r.Key, r.ScanDiscovered, r.WUGDeviceID, r.Fingerprint)
			}
		case store.StatusError:
			if !strings.Contains(r.LastError, "did not finish within 1h") {
				t.Errorf("timed-out record %s: %q", r.Key, r.LastError)
			}
		default:
			t.Errorf("record %s left %s", r.Key, r.Status)
		}
	}
	// The metadata was applied: the next export has nothing to change
	// for the linked devices.
	e.wug.scanDone = true
	res = e.run(t, RunOptions{})
	if res.Counts.Unchanged != 8 || res.Counts.Scanned != 4 {
		t.Errorf("export after the scans: %+v, want 8 unchanged and the 4 timed out scanned again", res.Counts)
	}
}

func TestExportInterruptedRunResumesWithoutDuplicates(t *testing.T) {
	t.Parallel()
	e := newJobEnv(t, 300)
	ctx, cancel := context.WithCancel(context.Background())
	var adds atomic.Int32
	e.wug.hook = func(op string) {
		if op == "BulkAdd" && adds.Add(1) == 3 {
			// The third apply lands but its answer is lost as the run dies.
			e.wug.addLost = 1
			cancel()
		}
	}
	res, err := e.job.Run(ctx, RunOptions{})
	if !errors.Is(err, context.Canceled) || res.Status != store.RunInterrupted {
		t.Fatalf("interrupted run: status %v, err %v", res.Status, err)
	}
	run, _ := e.st.Run(context.Background(), res.RunID)
	if run.Status != store.RunInterrupted {
		t.Errorf("recorded run status %s, want interrupted", run.Status)
	}
	e.wug.hook = nil
	res = e.run(t, RunOptions{})
	if res.Counts.Failed != 0 {
		t.Errorf("resumed run: %+v", res.Counts)
	}
	e.checkConsistent(t, 300)
}

func TestExportDryRunTouchesNothing(t *testing.T) {
	t.Parallel()
	e := newJobEnv(t, 20)
	res := e.run(t, RunOptions{dryRun: true})
	if res.Plan == nil || len(res.Plan.Decisions) != 20 || res.Counts.Added != 20 || res.RunID != "" {
		t.Fatalf("dry run: plan %v counts %+v run %q", res.Plan != nil, res.Counts, res.RunID)
	}
	w, _ := e.wug.stats()
	runs, _ := e.st.Runs(context.Background(), store.RunQuery{})
	if w != 0 || len(e.records(t)) != 0 || len(runs) != 0 {
		t.Errorf("dry run wrote: %d WUG writes, %d records, %d runs", w, len(e.records(t)), len(runs))
	}
}

func TestExportRemovalPolicies(t *testing.T) {
	t.Parallel()
	e := newJobEnv(t, 10)
	e.run(t, RunOptions{})
	e.src.mu.Lock()
	e.src.devs = e.src.devs[:9]
	e.src.mu.Unlock()

	// keep: nothing happens.
	res := e.run(t, RunOptions{})
	if res.Counts.Removed != 0 || len(e.wug.byAddr()) != 10 {
		t.Errorf("keep: %+v", res.Counts)
	}
	// A partial selection never removes.
	e.job.Connection.Removal = RemoveDelete
	e.job.Connection.MaxRemoveShare = 0.5
	res = e.run(t, RunOptions{Sites: netbox.Refs{Slugs: []string{"site-1", "site-2", "site-3"}}})
	if res.Counts.Removed != 0 {
		t.Errorf("filtered run removed %d", res.Counts.Removed)
	}
	res = e.run(t, RunOptions{})
	if res.Counts.Removed != 1 || len(e.wug.byAddr()) != 9 {
		t.Errorf("delete: %+v, %d devices left", res.Counts, len(e.wug.byAddr()))
	}
	if r := e.records(t)[netip.MustParseAddr("10.0.0.10")]; r.Status != store.StatusRemoved {
		t.Errorf("removed record status %s", r.Status)
	}
}

func TestExportNetBoxObjectErrors(t *testing.T) {
	t.Parallel()
	e := newJobEnv(t, 10)
	e.job.Connection.Removal = RemoveDelete
	e.src.errAt = map[int]error{4: &netbox.DeviceError{Kind: netbox.KindDevice, ID: 5, Err: errors.New(`unknown status label "Retired"`)}}
	res := e.run(t, RunOptions{})
	if res.Counts.Added != 9 || res.Counts.Failed != 1 {
		t.Errorf("counts %+v, want 9 added, 1 failed", res.Counts)
	}
	var found bool
	for _, o := range res.Outcomes {
		found = found || (o.ObjectID == 5 && strings.Contains(o.Error, "Retired"))
	}
	if !found {
		t.Errorf("no outcome names device 5 and its reason: %+v", res.Outcomes)
	}

	e.src.fatalAt = 3
	res, err := e.job.Run(context.Background(), RunOptions{})
	if err == nil || res.Status != store.RunFailed || !strings.Contains(err.Error(), "502") {
		t.Errorf("fatal NetBox error: status %s err %v", res.Status, err)
	}
}

func TestExportBulkIPs(t *testing.T) {
	t.Parallel()
	e := newJobEnv(t, 10)
	res := e.run(t, RunOptions{Trigger: store.TriggerBulk,
		IPs: []netip.Addr{netip.MustParseAddr("10.0.0.2"), netip.MustParseAddr("10.0.0.7"), netip.MustParseAddr("192.0.2.1")}})
	if res.Counts.Added != 2 || res.Counts.Failed != 1 || res.Counts.Selected != 2 {
		t.Errorf("counts %+v, want 2 added and the unknown address failed", res.Counts)
	}
	if r := e.records(t)[netip.MustParseAddr("10.0.0.7")]; r.Reason != store.ReasonBulk {
		t.Errorf("bulk record reason %q", r.Reason)
	}
}

func TestExportTargetedObjectsRemoveDeselected(t *testing.T) {
	t.Parallel()
	e := newJobEnv(t, 10)
	e.job.Connection.Removal = RemoveMaintenance
	e.job.Connection.MaxRemoveShare = 0.5
	e.run(t, RunOptions{})
	// Device 4 leaves the selection; a webhook names it and device 5.
	e.src.mu.Lock()
	e.src.devs = append(e.src.devs[:3], e.src.devs[4:]...)
	e.src.mu.Unlock()
	e.src.set(3, func(d *netbox.Device) { d.Description = "changed" }) // device 5
	res := e.run(t, RunOptions{Trigger: store.TriggerWebhook,
		Objects: []netbox.ObjectRef{{Kind: netbox.KindDevice, ID: 4}, {Kind: netbox.KindDevice, ID: 5}}})
	if res.Counts.Removed != 1 || res.Counts.Updated != 1 || res.Counts.Selected != 1 {
		t.Errorf("counts %+v, want 1 selected and updated, 1 removed", res.Counts)
	}
	e.wug.mu.Lock()
	defer e.wug.mu.Unlock()
	for _, d := range e.wug.devs {
		if d.maintenance != (d.addr == netip.MustParseAddr("10.0.0.4")) {
			t.Errorf("device %s maintenance %v", d.addr, d.maintenance)
		}
	}
}

func TestExportScanBufferIsBounded(t *testing.T) {
	t.Parallel()
	e := newJobEnv(t, 90)
	e.job.Connection.Scan = true
	e.job.Connection.BatchSize = 2 // at most 20 addresses wait over all group paths
	e.wug.scanDone = false
	res := e.run(t, RunOptions{})
	_, calls := e.wug.stats()
	if res.Counts.Scanned != 90 || calls["ScanIPs"] < 90/20 {
		t.Errorf("%+v with %d scan requests; want 90 scanned, at most 20 addresses waiting", res.Counts, calls["ScanIPs"])
	}
	e.wug.mu.Lock()
	defer e.wug.mu.Unlock()
	for id, s := range e.wug.scans {
		if len(s.addrs) > 20 {
			t.Errorf("scan %s covers %d addresses, more than were allowed to wait", id, len(s.addrs))
		}
	}
}
