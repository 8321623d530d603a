package export

import (
	"fmt"
	"net/netip"
	"os"

	"github.com/wugsync/wugsync/netbox"
	"github.com/wugsync/wugsync/store"
)

// The planner decides, without touching any server, what an export would do:
// here one device is new, one already exists in WUG (created by hand) and
// is adopted, and one address is not exportable.
func Example_plan() {
	tr, err := newTransformer(Mapping{})
	if err != nil {
		panic(err)
	}
	device := func(id int64, name, addr string) *netbox.Device {
		return &netbox.Device{Kind: netbox.KindDevice, ID: id, Name: name, Status: "active",
			Site:        netbox.Ref{Name: "Site A", Slug: "site-a"},
			PrimaryIPv4: netbox.IPAddress{ID: id, Address: netip.MustParsePrefix(addr)}}
	}
	var cands []candidate
	for _, d := range []*netbox.Device{device(1, "core-1", "10.0.0.1/24"), device(2, "edge-1", "10.0.0.2/24"), device(3, "lab-1", "10.0.0.0/24")} {
		cands = append(cands, tr.Prepare(d, netbox.PrimaryIPv4, "wug1")...)
	}
	inWUG := []wugDevice{{ID: "17", Name: "edge-1", Address: netip.MustParseAddr("10.0.0.2")}}
	var recorded []store.Record

	plan := makePlan("wug1", cands, recorded, inWUG, planOptions{})
	fmt.Println(plan.Count()[ActionAdd], "to add")
	// WriteJSON renders the same plan for programs.
	_ = plan.WriteTable(os.Stdout)
	// Output:
	// 1 to add
	// ACTION  ADDRESS   VRF     NETBOX OBJECT    WUG DEVICE  REASON
	// add     10.0.0.1  global  device 1 core-1  -           new in the NetBox selection
	// adopt   10.0.0.2  global  device 2 edge-1  17          WUG device 17 already has this address
	// skip    10.0.0.0  global  device 3 lab-1   -           not exportable: network_address: 10.0.0.0 is the network address of its subnet 10.0.0.0/24, not a host.
	//
	// 3 decisions: add 1, adopt 1, skip 1
}
