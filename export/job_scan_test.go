package export

import (
	"context"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/wugsync/wugsync/store"
	"github.com/wugsync/wugsync/store/memory"
)

// One address in two VRFs is two records, but a scan of it finds one WUG
// device: the scan monitor links that device to one record only, whether
// the other record waits on the same scan or was linked before.
func TestScanMonitorLinksOneDevicePerAddressAcrossVRFs(t *testing.T) {
	t.Parallel()
	addr := netip.MustParseAddr("10.9.9.9")
	key := func(vrf string) store.Key { return store.Key{Connection: "test", VRF: vrf, Address: addr} }
	tests := []struct {
		name   string
		before []store.Record // besides the two waiting records
		want   ScanResult     // counts only
	}{
		{name: "both VRFs wait on one scan", want: ScanResult{Scans: 1, Linked: 1, NotFound: 1}},
		{name: "a third VRF already links the device",
			before: []store.Record{{Key: key("red"), Status: store.StatusExported, WUGDeviceID: "1"}},
			want:   ScanResult{Scans: 1, NotFound: 2}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			w := newFakeWUG()
			st := memory.New()
			t.Cleanup(func() { st.Close() })
			scanID, err := w.ScanIPs(ctx, "0", []string{addr.String()}) // finishes at once: device "1"
			if err != nil {
				t.Fatal(err)
			}
			recs := append([]store.Record(nil), tt.before...)
			for _, vrf := range []string{"", "blue"} {
				recs = append(recs, store.Record{Key: key(vrf), ObjectKind: store.ObjectDevice, ObjectID: 7,
					Status: store.StatusScanTriggered, ScanID: scanID, ScanTriggeredAt: time.Now()})
			}
			if err := st.UpsertRecords(ctx, recs); err != nil {
				t.Fatal(err)
			}
			res, err := (&scanJob{Connection: "test", WUG: w, Store: st}).Run(ctx, store.TriggerManual)
			if err != nil {
				t.Fatal(err)
			}
			got := ScanResult{Scans: res.Scans, Linked: res.Linked, NotFound: res.NotFound, Failed: res.Failed}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("counts (-want +got):\n%s", diff)
			}
			linkedBy := map[string][]store.Key{}
			for r, err := range st.Records(ctx, store.Query{Connection: "test"}) {
				if err != nil {
					t.Fatal(err)
				}
				if r.WUGDeviceID != "" {
					linkedBy[r.WUGDeviceID] = append(linkedBy[r.WUGDeviceID], r.Key)
				}
				if r.Status == store.StatusScanCompleted && !r.ScanDiscovered && !strings.Contains(r.LastError, "another VRF") {
					t.Errorf("record %s found no device and says %q, want the VRF reason", r.Key, r.LastError)
				}
			}
			for id, keys := range linkedBy {
				if len(keys) != 1 {
					t.Errorf("WUG device %s is linked to %v", id, keys)
				}
			}
			if len(linkedBy) != 1 {
				t.Errorf("%d devices linked, want 1", len(linkedBy))
			}
		})
	}
}
