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

// scanLink is an export in scan mode of n test devices, all of which WUG's
// scans find once CompleteScans is called, and the scan monitor that links
// them: with NetBox at hand it applies their metadata, without it the next
// export does.
type scanLink struct {
	*e2e
	src *fakeSource
	mon *scanJob
}

// forEachLinker runs fn, in parallel subtests, once for each way a
// scanned device gets its metadata.
func forEachLinker(t *testing.T, n int, fn func(t *testing.T, s *scanLink, withNetBox bool)) {
	for _, withNetBox := range []bool{true, false} {
		t.Run(map[bool]string{true: "linked by the monitor", false: "linked by the next export"}[withNetBox], func(t *testing.T) {
			t.Parallel()
			e := newE2E(t, []netboxtest.Option{netboxtest.WithDevices(0)}, wugtest.WithScanDelay(time.Hour))
			s := &scanLink{e2e: e, src: &fakeSource{devs: testDevices(n)},
				mon: &scanJob{Connection: "wug1", WUG: e.job.WUG, Store: e.st}}
			e.job.Source = s.src
			e.job.Connection.Scan = true
			if withNetBox {
				s.mon.Source, s.mon.Transformer = e.job.Source, e.tr
			}
			for _, d := range s.src.devs {
				e.wug.SetReachable(d.PrimaryIPv4.Address.Addr().String())
			}
			if res := e.run(t, RunOptions{}); res.Counts.Scanned != n || res.Counts.Failed != 0 {
				t.Fatalf("export: %+v, want %d scanned", res.Counts, n)
			}
			fn(t, s, withNetBox)
		})
	}
}

// link completes the scans and has the monitor link what they found.
func (s *scanLink) link(t *testing.T) {
	t.Helper()
	s.wug.CompleteScans()
	n := len(s.src.devs)
	if sr, err := s.mon.Run(t.Context(), store.TriggerManual); err != nil || sr.Linked != n || sr.Failed != 0 {
		t.Fatalf("monitor: %+v, %v; want %d linked", sr, err, n)
	}
}

// A device a WUG scan discovered is linked to its NetBox object with the
// writes the contract needs (one attribute batch, and a properties write
// because WUG named the device by its address), and a second, unchanged
// run sends that device nothing: no attribute, property or group write.
// A later change of one attribute sends that one device one attribute
// batch, and nothing WUG already holds. Linking happens in the scan
// monitor when it can read NetBox, otherwise in the next export.
func TestE2EScanLinkedDeviceIsNotWrittenAgain(t *testing.T) {
	t.Parallel()
	const (
		routeAttrs = "PATCH /api/v1/devices/{deviceId}/attributes/-"
		routeProps = "PUT /api/v1/devices/{deviceId}/properties"
	)
	forEachLinker(t, 6, func(t *testing.T, s *scanLink, withNetBox bool) {
		n := len(s.src.devs)
		s.wug.ResetRequests()
		s.link(t)
		if !withNetBox {
			// The monitor linked the records only; the next export
			// applies the metadata.
			if w := s.wugWrites(); w != 0 {
				t.Fatalf("the monitor without NetBox sent %d writes", w)
			}
			s.wug.ResetRequests()
			if res := s.run(t, RunOptions{}); res.Counts.Updated != n || res.Counts.Failed != 0 {
				t.Fatalf("export after linking: %+v, want %d updated", res.Counts, n)
			}
		}
		linking := s.wug.Requests()
		recs := s.records(t)
		if len(recs) != n {
			t.Fatalf("%d records for %d devices", len(recs), n)
		}
		for _, r := range recs {
			dev, ok := s.wug.Device(r.WUGDeviceID)
			if !ok || dev.Address != r.Address.String() || dev.Name != "dev-"+itoa(r.ObjectID) || dev.Attributes["NetBox.ID"] != itoa(r.ObjectID) {
				t.Errorf("record %s: linked WUG device %+v, want its NetBox name and id", r.Key, dev)
				continue
			}
			// What linking sent this device: one attribute batch and one
			// properties write (WUG named it by its address).
			want := map[string]int{routeAttrs: 1, routeProps: 1}
			if diff := cmp.Diff(want, deviceWrites(linking, r.WUGDeviceID)); diff != "" {
				t.Errorf("device %s: linking writes (-want +got):\n%s", r.WUGDeviceID, diff)
			}
		}

		// The second, unchanged run: the export and the monitor again.
		s.wug.ResetRequests()
		if res := s.run(t, RunOptions{}); res.Counts.Unchanged != n {
			t.Errorf("unchanged run: %+v, want %d unchanged", res.Counts, n)
		}
		if _, err := s.mon.Run(t.Context(), store.TriggerManual); err != nil {
			t.Fatal(err)
		}
		again := s.wug.Requests()
		for _, r := range recs {
			if got := deviceWrites(again, r.WUGDeviceID); len(got) != 0 {
				t.Errorf("device %s: the unchanged run sent %v", r.WUGDeviceID, got)
			}
		}
		if w := s.wugWrites(); w != 0 {
			t.Errorf("the unchanged run sent %d WUG writes, want none", w)
		}

		// A change of one attribute costs that device one attribute
		// batch: its name, note and group, which WUG holds, are not sent
		// again.
		s.src.set(2, func(d *netbox.Device) { d.Serial = "SN-CHANGED" })
		s.wug.ResetRequests()
		if res := s.run(t, RunOptions{}); res.Counts.Updated != 1 || res.Counts.Failed != 0 {
			t.Errorf("run after a serial change: %+v, want one update", res.Counts)
		}
		changed := s.wug.Requests()
		for _, r := range recs {
			var want map[string]int
			if r.ObjectID == s.src.devs[2].ID {
				want = map[string]int{routeAttrs: 1}
			}
			if diff := cmp.Diff(want, deviceWrites(changed, r.WUGDeviceID), cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("device %s: writes after a serial change (-want +got):\n%s", r.WUGDeviceID, diff)
			}
		}
	})
}

// A device a WUG scan discovered follows its NetBox object's site into
// the new site's group, as a device wugsync added does: the scan put it
// in its group, so that group is wugsync's to leave. This holds when the
// object moves after the device was linked, when it moves while the scan
// runs, and for a scan recorded before records kept the scan's group,
// whether the monitor or the next export applied the metadata.
func TestE2EScanLinkedDeviceFollowsASiteMove(t *testing.T) {
	t.Parallel()
	for _, when := range []string{"after linking", "during the scan", "scan recorded without its group"} {
		t.Run(when, func(t *testing.T) {
			t.Parallel()
			duringScan := when == "during the scan"
			forEachLinker(t, 1, func(t *testing.T, s *scanLink, _ bool) {
				// testDevices gives each device its own site.
				sites := testDevices(2)
				move := func() { s.src.set(0, func(d *netbox.Device) { d.Site = sites[1].Site }) }
				if duringScan {
					move()
				}
				if when == "scan recorded without its group" {
					recs := s.records(t)
					recs[0].Written = store.Written{}
					if err := s.st.UpsertRecords(t.Context(), recs); err != nil {
						t.Fatal(err)
					}
				}
				s.link(t)
				if res := s.run(t, RunOptions{}); res.Counts.Failed != 0 {
					t.Fatalf("export after linking: %+v", res.Counts)
				}
				addr := s.src.devs[0].PrimaryIPv4.Address.Addr().String()
				if !duringScan {
					r, _ := s.recordAt(t, addr)
					oldGroup := "My Network/NetBox/" + sites[0].Site.Name
					if dev, _ := s.wug.Device(r.WUGDeviceID); !cmp.Equal(dev.Groups, []string{oldGroup}) {
						t.Fatalf("the scanned device is in %v, want %q", dev.Groups, oldGroup)
					}
					move()
					if res := s.run(t, RunOptions{}); res.Counts.Updated != 1 || res.Counts.Failed != 0 {
						t.Fatalf("move run: %+v, want one update", res.Counts)
					}
				}
				newGroup := "My Network/NetBox/" + sites[1].Site.Name
				r, _ := s.recordAt(t, addr)
				dev, _ := s.wug.Device(r.WUGDeviceID)
				if diff := cmp.Diff([]string{newGroup}, dev.Groups); diff != "" {
					t.Errorf("the scanned device's groups (-want +got):\n%s", diff)
				}
				if r.Status != store.StatusExported && r.Status != store.StatusScanCompleted || r.Written.GroupPath != newGroup {
					t.Errorf("record: status %s, group %q; want group %q", r.Status, r.Written.GroupPath, newGroup)
				}
				s.wug.ResetRequests()
				if res := s.run(t, RunOptions{}); s.wugWrites() != 0 || res.Counts.Updated != 0 {
					t.Errorf("the run after: %+v with %d writes, want nothing to do", res.Counts, s.wugWrites())
				}
			})
		})
	}
}

// A scanned device whose WUG name and note already are what the mapping
// wants gets only its attribute batch when it is linked: the properties
// WUG holds are not sent, whichever run applies the metadata.
func TestE2EScanLinkedDeviceKeepsMatchingProperties(t *testing.T) {
	t.Parallel()
	forEachLinker(t, 3, func(t *testing.T, s *scanLink, withNetBox bool) {
		// WUG names a scanned device by its address; so does this
		// mapping, with no note.
		tr, err := newTransformer(Mapping{DisplayName: func(src Source) string { return src.IP.Address.Addr().String() },
			Note: func(Source) string { return "" }})
		if err != nil {
			t.Fatal(err)
		}
		s.job.Transformer = tr
		if withNetBox {
			s.mon.Transformer = tr
		}
		s.wug.ResetRequests()
		s.link(t)
		if !withNetBox {
			s.run(t, RunOptions{})
		}
		got := map[string]int{}
		for _, r := range s.wug.Requests() {
			if r.IsWrite() && r.Route != "POST /api/v1/token" {
				got[r.Route]++
			}
		}
		want := map[string]int{"PATCH /api/v1/devices/{deviceId}/attributes/-": len(s.src.devs)}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("linking's writes (-want +got):\n%s", diff)
		}
	})
}
