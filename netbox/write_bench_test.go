package netbox_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/wugsync/wugsync/netbox"
	"github.com/wugsync/wugsync/netbox/netboxtest"
)

// BenchmarkUpdateCustomFields writes the sync fields of 1,000 devices of
// which a share changed, 100 per request, and reports the NetBox write
// requests per run (⌈changed / 100⌉; 0 when nothing changed) and the time
// per object written.
func BenchmarkUpdateCustomFields(b *testing.B) {
	for _, changedPct := range []int{100, 10, 0} {
		b.Run(fmt.Sprintf("changed=%d%%", changedPct), func(b *testing.B) {
			srv := netboxtest.NewServer(b, netboxtest.WithDevices(1000))
			c := srv.Client()
			ctx := context.Background()
			if _, err := c.SetupCustomFields(ctx, netbox.WriteBackFields(false)); err != nil {
				b.Fatal(err)
			}
			devs := srv.Devices()
			var requests, written int
			for i := 0; b.Loop(); i++ {
				var updates []netbox.FieldUpdate
				for j, d := range devs {
					have := map[string]any{netbox.FieldWUGDeviceID: nil}
					if j*100 >= changedPct*len(devs) {
						have[netbox.FieldWUGDeviceID] = float64(i)
					}
					want := map[string]any{netbox.FieldWUGDeviceID: i}
					if ch := netbox.ChangedFields(have, want); ch != nil {
						updates = append(updates, netbox.FieldUpdate{ObjectRef: netbox.ObjectRef{Kind: netbox.KindDevice, ID: d.ID}, Fields: ch})
					}
				}
				res, err := c.UpdateCustomFields(ctx, updates, 100)
				if err != nil {
					b.Fatal(err)
				}
				requests += res.Requests
				written += len(res.Written)
			}
			b.ReportMetric(float64(requests)/float64(b.N), "netbox_req/op")
			b.ReportMetric(float64(written)/float64(b.N), "objects/op")
			if written > 0 {
				b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(written), "ns/object")
			}
		})
	}
}
