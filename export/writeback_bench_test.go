package export

import (
	"testing"

	"github.com/wugsync/wugsync/netbox"
	"github.com/wugsync/wugsync/netbox/netboxtest"
	"github.com/wugsync/wugsync/store"
)

// BenchmarkWriteBack exports 1,000 devices with write-back on (page size
// 100), then in each iteration makes the NetBox fields of 250 of them
// stale and runs again. It reports the NetBox write requests of the first
// run, of a run with 250 changed objects, and of a run with none:
// ⌈changed / page size⌉, ⌈250 / 100⌉ = 3, and 0.
func BenchmarkWriteBack(b *testing.B) {
	const devices, changed, pageSize = 1000, 250, 100
	e := newWriteBackE2E(b, devices, WriteBack{PageSize: pageSize})
	res := e.run(b, RunOptions{})
	first, firstObjects := e.nb.Writes(), res.WriteBack.Written
	if want := (firstObjects + pageSize - 1) / pageSize; first != want {
		b.Fatalf("first run: %d NetBox writes for %d objects, want %d", first, firstObjects, want)
	}
	var exported []int64
	for _, r := range e.records(b) {
		if r.Status == store.StatusExported {
			exported = append(exported, r.ObjectID)
		}
	}
	if len(exported) < changed {
		b.Fatalf("only %d devices exported", len(exported))
	}
	var changedWrites, idleWrites int
	b.ResetTimer()
	for b.Loop() {
		b.StopTimer()
		for _, id := range exported[:changed] {
			if _, err := e.nb.UpdateDevice(id, func(d *netboxtest.Device) {
				d.CustomFields[netbox.FieldWUGSyncState] = "error: stale"
			}); err != nil {
				b.Fatal(err)
			}
		}
		e.nb.ResetRequests()
		b.StartTimer()
		res := e.run(b, RunOptions{})
		b.StopTimer()
		changedWrites = e.nb.Writes()
		if res.WriteBack.Written != changed {
			b.Fatalf("%d objects written back, want %d", res.WriteBack.Written, changed)
		}
		e.nb.ResetRequests()
		e.run(b, RunOptions{})
		idleWrites = e.nb.Writes()
		b.StartTimer()
	}
	b.ReportMetric(float64(firstObjects), "first-run-objects")
	b.ReportMetric(float64(first), "first-run-requests")
	b.ReportMetric(float64(changedWrites), "changed-250-requests")
	b.ReportMetric(float64(idleWrites), "no-change-requests")
}
