package wugtest_test

import (
	"context"
	"fmt"

	"github.com/wugsync/wugsync/wug"
	"github.com/wugsync/wugsync/wug/wugtest"
)

// A device's interfaces read back after the code under test re-addressed
// it.
func ExampleHandler_Interfaces() {
	srv := wugtest.Start()
	defer srv.Close()
	id := srv.AddDevice(wugtest.Device{Name: "core-1", Address: "10.0.0.1"})
	if _, err := srv.Client().Devices.Readdress(context.Background(), id, "10.20.0.1"); err != nil {
		panic(err)
	}
	ifs, _ := srv.Interfaces(id)
	for _, in := range ifs {
		fmt.Println(in.Address, in.Default)
	}
	// Output: 10.20.0.1 true
}

// Group membership, maintenance and roles read back after many devices
// were moved, put in maintenance and given an OS.
func ExampleHandler_GroupMembers() {
	srv := wugtest.Start()
	defer srv.Close()
	c := srv.Client()
	ctx := context.Background()
	from, to := srv.AddGroup("NetBox/Site A"), srv.AddGroup("NetBox/Site B")
	ids := srv.AddDevices(wugtest.Device{Name: "a", Groups: []string{"NetBox/Site A"}}, wugtest.Device{Name: "b", Groups: []string{"NetBox/Site A"}})

	if _, err := c.Groups.MoveDevices(ctx, from, to, ids); err != nil {
		panic(err)
	}
	if _, err := c.Devices.SetMaintenanceMany(ctx, ids, wug.Maintenance{Enabled: true, Reason: "offline in NetBox"}); err != nil {
		panic(err)
	}
	if _, err := c.Devices.AssignRole(ctx, wug.RoleOS, "Junos", ids); err != nil {
		panic(err)
	}
	a, _ := srv.GroupMembers("NetBox/Site A")
	b, _ := srv.GroupMembers("NetBox/Site B")
	d, _ := srv.Device(ids[0])
	fmt.Println(len(a), len(b), d.Maintenance, d.MaintenanceReason, d.State, d.OS)
	// Output: 0 2 true offline in NetBox Maintenance Junos
}
