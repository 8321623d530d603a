package export

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"testing"

	"github.com/wugsync/wugsync/netbox/netboxtest"
)

// Routes the re-run figures leave out: the one device listing every run
// reads, and signing in.
const (
	benchListingRoute = "GET /api/v1/device-groups/{groupId}/devices/-"
	benchTokenRoute   = "POST /api/v1/token"
)

// benchChange changes the description of every every-th NetBox device (by
// id order) to one that names mark, and returns how many it changed.
func benchChange(nb *netboxtest.Handler, every int, mark string) (int, error) {
	n := 0
	for i, d := range nb.Devices() {
		if i%every != 0 {
			continue
		}
		if _, err := nb.UpdateDevice(d.ID, func(d *netboxtest.Device) {
			d.Description = fmt.Sprintf("changed for %s (%d)", mark, i)
		}); err != nil {
			return n, err
		}
		n++
	}
	return n, nil
}

// change has the fake-server child change every every-th NetBox device.
func (f *benchFakes) change(b *testing.B, every int, mark string) int {
	b.Helper()
	resp, err := http.Post(f.Control+"/change?"+url.Values{"every": {strconv.Itoa(every)}, "mark": {mark}}.Encode(), "", nil)
	if err != nil {
		b.Fatal(err)
	}
	defer resp.Body.Close()
	var n int
	if err := json.NewDecoder(resp.Body).Decode(&n); err != nil || resp.StatusCode != http.StatusOK {
		b.Fatalf("changing NetBox devices: %s %v", resp.Status, err)
	}
	return n
}

// BenchmarkExportMetadataChange exports 1,000 generated NetBox devices,
// changes the description of a tenth of them in NetBox and times the
// re-run (every request to either fake takes 2 ms). wug_req/changed_device
// is the re-run's WUG requests, less its one device listing and any
// sign-in, per WUG device whose metadata changed; wug_reads counts the
// re-run's reads other than that listing. wug_req is every WUG request of
// the re-run.
func BenchmarkExportMetadataChange(b *testing.B) {
	const n, every = 1000, 10
	var perChange, reads, total, changed, updated float64
	var elapsed float64
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		f := startBenchFakes(b, n)
		job := benchJob(b, f, b.TempDir())
		if res, err := job.Run(context.Background(), RunOptions{}); err != nil || res.Counts.Failed != 0 {
			b.Fatalf("seeding run: %v %+v", err, res)
		}
		devices := f.change(b, every, fmt.Sprintf("iteration %d", i))
		f.reset(b)
		b.StartTimer()
		res, err := job.Run(context.Background(), RunOptions{})
		b.StopTimer()
		if err != nil || res.Counts.Failed != 0 {
			b.Fatalf("re-run: %v %+v", err, res)
		}
		if res.Counts.Updated == 0 || res.Counts.Added != 0 {
			b.Fatalf("re-run after changing %d devices: %+v, want updates and no adds", devices, res.Counts)
		}
		elapsed += res.FinishedAt.Sub(res.StartedAt).Seconds()
		c := f.counts(b)
		fixed := c.WUGRoutes[benchListingRoute] + c.WUGRoutes[benchTokenRoute]
		perChange += float64(c.WUG-fixed) / float64(res.Counts.Updated)
		reads += float64(c.WUG - c.WUGWrites - c.WUGRoutes[benchTokenRoute] - c.WUGRoutes[benchListingRoute])
		total += float64(c.WUG)
		changed += float64(devices)
		updated += float64(res.Counts.Updated)
		f.close()
	}
	per := float64(b.N)
	b.ReportMetric(perChange/per, "wug_req/changed_device")
	b.ReportMetric(reads/per, "wug_reads")
	b.ReportMetric(total/per, "wug_req")
	b.ReportMetric(changed/per, "netbox_changed")
	b.ReportMetric(updated/per, "wug_updated")
	b.ReportMetric(elapsed/per, "rerun_s")
}
