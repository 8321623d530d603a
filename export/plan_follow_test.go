package export

import (
	"net/netip"
	"testing"

	"github.com/wugsync/wugsync/netbox"
	"github.com/wugsync/wugsync/store"
)

// objCands returns candidates for one NetBox device (id 9, the object rec
// records) at addrs.
func objCands(addrs ...string) []candidate {
	dev := &netbox.Device{Kind: netbox.KindDevice, ID: 9, Name: "sw-9"}
	out := make([]candidate, len(addrs))
	for i, a := range addrs {
		addr := netip.MustParseAddr(a)
		out[i] = candidate{Key: store.Key{Connection: "test", Address: addr}, Device: dev, Fingerprint: "f",
			Template: testTemplate(dev.Name, addr, ""), GroupPath: "My Network/NetBox/A"}
	}
	return out
}

func TestPlanFollowsTheObject(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name    string
		cands   []candidate
		records []store.Record
		devices []wugDevice
		want    []planLine
	}{{
		name:    "renumbered: the device follows",
		cands:   objCands("10.0.0.2"),
		records: []store.Record{rec("10.0.0.1", store.StatusExported, "5", "f")},
		devices: []wugDevice{wdev("5", "10.0.0.1")},
		want:    []planLine{{"10.0.0.2", ActionReaddress, "5", "moved from 10.0.0.1 to 10.0.0.2"}},
	}, {
		name:    "the old address is still the object's: a second address is added",
		cands:   objCands("10.0.0.2", "10.0.0.1"),
		records: []store.Record{rec("10.0.0.1", store.StatusExported, "5", "f")},
		devices: []wugDevice{wdev("5", "10.0.0.1")},
		want:    []planLine{{"10.0.0.2", ActionAdd, "", "new"}, {"10.0.0.1", ActionSkip, "5", "unchanged"}},
	}, {
		name:    "the new address belongs to another WUG device: conflict, nothing moves",
		cands:   objCands("10.0.0.2"),
		records: []store.Record{rec("10.0.0.1", store.StatusExported, "5", "f")},
		devices: []wugDevice{wdev("5", "10.0.0.1"), wdev("6", "10.0.0.2")},
		want:    []planLine{{"10.0.0.2", ActionSkip, "5", "belongs to WUG device 6"}},
	}, {
		name:    "a move recorded but not made: the device is re-addressed",
		cands:   objCands("10.0.0.2"),
		records: []store.Record{rec("10.0.0.2", store.StatusPending, "5", "f")},
		devices: []wugDevice{wdev("5", "10.0.0.1")},
		want:    []planLine{{"10.0.0.2", ActionReaddress, "5", "is at 10.0.0.1"}},
	}, {
		name:    "the old device is gone from WUG: added again",
		cands:   objCands("10.0.0.2"),
		records: []store.Record{rec("10.0.0.1", store.StatusExported, "5", "f")},
		want:    []planLine{{"10.0.0.2", ActionAdd, "", "new"}, {"10.0.0.1", ActionRemove, "", "WUG has no device"}},
	}} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p := makePlan("test", tt.cands, tt.records, tt.devices, planOptions{Now: planNow, Removal: RemoveDelete, RemovalScope: func(store.Record) bool { return true }, ForceRemove: true})
			checkPlan(t, tt.want, p)
		})
	}
}
