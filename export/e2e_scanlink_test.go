package export

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/wugsync/wugsync/netbox"
	"github.com/wugsync/wugsync/netbox/netboxtest"
	"github.com/wugsync/wugsync/store"
	"github.com/wugsync/wugsync/wug/wugtest"
)

// deviceWrites counts, by route, the write requests in log that name WUG
// device id: in their path when the route names one device, otherwise in
// the body of a request for many devices.
func deviceWrites(log []wugtest.Request, id string) map[string]int {
	out := map[string]int{}
	for _, r := range log {
		if !r.IsWrite() || r.Route == "POST /api/v1/token" {
			continue
		}
		named := strings.Contains(string(r.Body), `"`+id+`"`)
		if strings.Contains(r.Route, "{deviceId}") {
			named = strings.HasPrefix(r.Path, "/api/v1/devices/"+id+"/") || strings.HasSuffix(r.Path, "/devices/"+id)
		}
		if named {
			out[r.Route]++
		}
	}
	return out
}

// A device a WUG scan discovered is linked to its NetBox object with the
// writes the contract needs (one attribute batch, and a properties write
// because WUG named the device by its address), and a second, unchanged
// run sends that device nothing: no attribute, property or group write.
// A later change of one attribute sends that one device one attribute
// batch, and nothing WUG already holds. Linking happens in the scan monitor when it can read NetBox, otherwise
// in the next export, which reads the device's attributes once.
func TestE2EScanLinkedDeviceIsNotWrittenAgain(t *testing.T) {
	t.Parallel()
	const (
		routeAttrs = "PATCH /api/v1/devices/{deviceId}/attributes/-"
		routeProps = "PUT /api/v1/devices/{deviceId}/properties"
	)
	for _, withNetBox := range []bool{true, false} {
		t.Run(map[bool]string{true: "linked by the monitor", false: "linked by the next export"}[withNetBox], func(t *testing.T) {
			t.Parallel()
			e := newE2E(t, []netboxtest.Option{netboxtest.WithDevices(0)}, wugtest.WithScanDelay(time.Hour))
			devs := testDevices(6)
			src := &fakeSource{devs: devs}
			e.job.Source = src
			e.job.Connection.Scan = true
			addrs := make([]string, len(devs))
			for i, d := range devs {
				addrs[i] = d.PrimaryIPv4.Address.Addr().String()
			}
			e.wug.SetReachable(addrs...)
			if res := e.run(t, RunOptions{}); res.Counts.Scanned != len(devs) || res.Counts.Failed != 0 {
				t.Fatalf("export: %+v, want %d scanned", res.Counts, len(devs))
			}
			mon := &scanJob{Connection: "wug1", WUG: e.job.WUG, Store: e.st}
			if withNetBox {
				mon.Source, mon.Transformer = e.job.Source, e.tr
			}
			e.wug.CompleteScans()
			e.wug.ResetRequests()
			if sr, err := mon.Run(t.Context(), store.TriggerManual); err != nil || sr.Linked != len(devs) || sr.Failed != 0 {
				t.Fatalf("monitor: %+v, %v; want %d linked", sr, err, len(devs))
			}
			if !withNetBox {
				// The monitor linked the records only; the next export
				// applies the metadata.
				if w := e.wugWrites(); w != 0 {
					t.Fatalf("the monitor without NetBox sent %d writes", w)
				}
				e.wug.ResetRequests()
				if res := e.run(t, RunOptions{}); res.Counts.Updated != len(devs) || res.Counts.Failed != 0 {
					t.Fatalf("export after linking: %+v, want %d updated", res.Counts, len(devs))
				}
			}
			linking := e.wug.Requests()
			recs := e.records(t)
			if len(recs) != len(devs) {
				t.Fatalf("%d records for %d devices", len(recs), len(devs))
			}
			for _, r := range recs {
				dev, ok := e.wug.Device(r.WUGDeviceID)
				if !ok || dev.Address != r.Address.String() || dev.Name != "dev-"+itoa(r.ObjectID) || dev.Attributes["NetBox.ID"] != itoa(r.ObjectID) {
					t.Errorf("record %s: linked WUG device %+v, want its NetBox name and id", r.Key, dev)
					continue
				}
				// What linking sent this device: one attribute batch and
				// one properties write (WUG named it by its address).
				want := map[string]int{routeAttrs: 1, routeProps: 1}
				if diff := cmp.Diff(want, deviceWrites(linking, r.WUGDeviceID)); diff != "" {
					t.Errorf("device %s: linking writes (-want +got):\n%s", r.WUGDeviceID, diff)
				}
			}

			// The second, unchanged run: the export and the monitor again.
			e.wug.ResetRequests()
			if res := e.run(t, RunOptions{}); res.Counts.Unchanged != len(devs) {
				t.Errorf("unchanged run: %+v, want %d unchanged", res.Counts, len(devs))
			}
			if _, err := mon.Run(t.Context(), store.TriggerManual); err != nil {
				t.Fatal(err)
			}
			again := e.wug.Requests()
			for _, r := range recs {
				if got := deviceWrites(again, r.WUGDeviceID); len(got) != 0 {
					t.Errorf("device %s: the unchanged run sent %v", r.WUGDeviceID, got)
				}
			}
			if w := e.wugWrites(); w != 0 {
				t.Errorf("the unchanged run sent %d WUG writes, want none", w)
			}

			// A change of one attribute costs that device one attribute
			// batch: its name, note and group, which WUG holds, are not
			// sent again.
			src.set(2, func(d *netbox.Device) { d.Serial = "SN-CHANGED" })
			e.wug.ResetRequests()
			if res := e.run(t, RunOptions{}); res.Counts.Updated != 1 || res.Counts.Failed != 0 {
				t.Errorf("run after a serial change: %+v, want one update", res.Counts)
			}
			changed := e.wug.Requests()
			for _, r := range recs {
				var want map[string]int
				if r.ObjectID == src.devs[2].ID {
					want = map[string]int{routeAttrs: 1}
				}
				if diff := cmp.Diff(want, deviceWrites(changed, r.WUGDeviceID), cmpopts.EquateEmpty()); diff != "" {
					t.Errorf("device %s: writes after a serial change (-want +got):\n%s", r.WUGDeviceID, diff)
				}
			}
		})
	}
}

// A device a WUG scan discovered follows its NetBox object's site into the
// new site's group, as a device wugsync added does: the scan put it in its
// group, so that group is wugsync's to leave. This holds whether the
// monitor or the next export applied its metadata.
func TestE2EScanLinkedDeviceFollowsASiteMove(t *testing.T) {
	t.Parallel()
	for _, withNetBox := range []bool{true, false} {
		t.Run(map[bool]string{true: "linked by the monitor", false: "linked by the next export"}[withNetBox], func(t *testing.T) {
			t.Parallel()
			e := newE2E(t, []netboxtest.Option{netboxtest.WithDevices(0)}, wugtest.WithScanDelay(time.Hour))
			src := &fakeSource{devs: testDevices(3)}
			e.job.Source = src
			e.job.Connection.Scan = true
			addr := src.devs[0].PrimaryIPv4.Address.Addr()
			e.wug.SetReachable(addr.String())
			e.run(t, RunOptions{})
			mon := &scanJob{Connection: "wug1", WUG: e.job.WUG, Store: e.st}
			if withNetBox {
				mon.Source, mon.Transformer = e.job.Source, e.tr
			}
			e.wug.CompleteScans()
			if sr, err := mon.Run(t.Context(), store.TriggerManual); err != nil || sr.Linked != 1 {
				t.Fatalf("monitor: %+v, %v; want 1 linked", sr, err)
			}
			e.run(t, RunOptions{})
			r, _ := e.recordAt(t, addr.String())
			oldGroup := "My Network/NetBox/" + src.devs[0].Site.Name
			if dev, _ := e.wug.Device(r.WUGDeviceID); !cmp.Equal(dev.Groups, []string{oldGroup}) {
				t.Fatalf("the scanned device is in %v, want %q", dev.Groups, oldGroup)
			}

			src.set(0, func(d *netbox.Device) { d.Site = src.devs[1].Site })
			newGroup := "My Network/NetBox/" + src.devs[1].Site.Name
			if res := e.run(t, RunOptions{}); res.Counts.Updated != 1 || res.Counts.Failed != 0 {
				t.Fatalf("move run: %+v, want one update", res.Counts)
			}
			dev, _ := e.wug.Device(r.WUGDeviceID)
			if diff := cmp.Diff([]string{newGroup}, dev.Groups); diff != "" {
				t.Errorf("the scanned device's groups after the site move (-want +got):\n%s", diff)
			}
			if r, _ := e.recordAt(t, addr.String()); r.Written.GroupPath != newGroup {
				t.Errorf("record names group %q, want %q", r.Written.GroupPath, newGroup)
			}
		})
	}
}

// A NetBox object that moves site while its discovery scan runs ends in
// the new site's group: the scan put its device in the old site's group,
// and linking it must not record the new group as already joined.
func TestE2EScanLinkedDeviceMovedDuringItsScan(t *testing.T) {
	t.Parallel()
	for _, withNetBox := range []bool{true, false} {
		t.Run(map[bool]string{true: "linked by the monitor", false: "linked by the next export"}[withNetBox], func(t *testing.T) {
			t.Parallel()
			e := newE2E(t, []netboxtest.Option{netboxtest.WithDevices(0)}, wugtest.WithScanDelay(time.Hour))
			src := &fakeSource{devs: testDevices(3)}
			e.job.Source = src
			e.job.Connection.Scan = true
			addr := src.devs[0].PrimaryIPv4.Address.Addr().String()
			e.wug.SetReachable(addr)
			e.run(t, RunOptions{})
			src.set(0, func(d *netbox.Device) { d.Site = src.devs[1].Site })
			newGroup := "My Network/NetBox/" + src.devs[1].Site.Name

			mon := &scanJob{Connection: "wug1", WUG: e.job.WUG, Store: e.st}
			if withNetBox {
				mon.Source, mon.Transformer = e.job.Source, e.tr
			}
			e.wug.CompleteScans()
			if sr, err := mon.Run(t.Context(), store.TriggerManual); err != nil || sr.Linked != 1 {
				t.Fatalf("monitor: %+v, %v; want 1 linked", sr, err)
			}
			if res := e.run(t, RunOptions{}); res.Counts.Failed != 0 {
				t.Fatalf("export after linking: %+v", res.Counts)
			}
			r, _ := e.recordAt(t, addr)
			dev, _ := e.wug.Device(r.WUGDeviceID)
			if diff := cmp.Diff([]string{newGroup}, dev.Groups); diff != "" {
				t.Errorf("the scanned device's groups (-want +got):\n%s", diff)
			}
			if r.Written.GroupPath != newGroup || r.Status == store.StatusError {
				t.Errorf("record: status %s, group %q; want group %q", r.Status, r.Written.GroupPath, newGroup)
			}
			e.wug.ResetRequests()
			if res := e.run(t, RunOptions{}); e.wugWrites() != 0 || res.Counts.Updated != 0 {
				t.Errorf("the run after: %+v with %d writes, want nothing to do", res.Counts, e.wugWrites())
			}
		})
	}
}
