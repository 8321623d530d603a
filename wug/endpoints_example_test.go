package wug_test

import (
	"context"
	"fmt"
	"log"

	"github.com/wugsync/wugsync/wug"
	"github.com/wugsync/wugsync/wug/wugtest"
)

// Many group paths cost one group listing, plus one creation per group
// that is missing.
func ExampleGroupsService_EnsurePaths() {
	srv := wugtest.Start()
	defer srv.Close()
	c := srv.Client()
	srv.AddGroup("My Network/NetBox")

	ids, err := c.Groups.EnsurePaths(context.Background(), []string{
		"My Network/NetBox/Site A", "My Network/NetBox/Site B", "My Network/NetBox/Site A",
	})
	if err != nil {
		log.Fatal(err)
	}
	g, _ := srv.GroupByPath("My Network/NetBox/Site B")
	fmt.Println(ids["My Network/NetBox/Site B"] == g.ID)
	fmt.Println(srv.Count("GET /api/v1/device-groups/-"), "listing,", srv.Count("POST /api/v1/device-groups/{groupId}/child"), "groups created")
	// Output:
	// true
	// 1 listing, 2 groups created
}

// A renumbered device keeps its WUG device: its default interface moves to
// the new address.
func ExampleDevicesService_Readdress() {
	srv := wugtest.Start()
	defer srv.Close()
	c := srv.Client()
	id := srv.AddDevice(wugtest.Device{Name: "core-1", HostName: "core-1.lab", Address: "10.0.0.1"})

	in, err := c.Devices.Readdress(context.Background(), id, "10.20.0.1")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(in.Address, in.HostName, in.DefaultInterface)
	fmt.Println(len(srv.DevicesByAddress("10.0.0.1")), len(srv.DevicesByAddress("10.20.0.1")), srv.DeviceCount())
	// Output:
	// 10.20.0.1 core-1.lab true
	// 0 1 1
}

// Operating systems for many devices cost one request per distinct name.
func ExampleDevicesService_AssignRoles() {
	srv := wugtest.Start()
	defer srv.Close()
	c := srv.Client()
	ids := srv.AddDevices(wugtest.Device{Name: "a"}, wugtest.Device{Name: "b"}, wugtest.Device{Name: "c"})

	res, err := c.Devices.AssignRoles(context.Background(), wug.RoleOS, map[string]string{
		ids[0]: "Cisco IOS", ids[1]: "Cisco IOS", ids[2]: "Junos",
	})
	if err != nil {
		log.Fatal(err)
	}
	d, _ := srv.Device(ids[2])
	fmt.Println(res.SuccessfulOperations, "devices,", srv.Count("PATCH /api/v1/devices/-/roles/os"), "requests;", d.OS)
	// Output: 3 devices, 2 requests; Junos
}

// Owned attributes change with one request and no read: names that went
// away are deleted, changed values replaced, manual attributes untouched.
func ExampleAttributesService_Replace() {
	srv := wugtest.Start()
	defer srv.Close()
	c := srv.Client()
	id := srv.AddDevice(wugtest.Device{Name: "a", Attributes: map[string]string{
		"NetBox_Site": "A", "NetBox_Tenant": "t1", "Owner": "ops",
	}})

	_, err := c.Attributes.Replace(context.Background(), id, []string{"NetBox_Tenant"}, []wug.NameValue{{Name: "NetBox_Site", Value: "B"}})
	if err != nil {
		log.Fatal(err)
	}
	d, _ := srv.Device(id)
	fmt.Println(d.Attributes)
	// Output: map[NetBox_Site:B Owner:ops]
}
