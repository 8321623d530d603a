package wug_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log"
	"sort"
	"time"

	"github.com/wugsync/wugsync/wug"
	"github.com/wugsync/wugsync/wug/wugtest"
)

// A client for a WUG server with a self-signed certificate, trusted by its
// pinned SHA-256 fingerprint.
func ExampleNewClient() {
	srv := wugtest.Start()
	defer srv.Close()
	sum := sha256.Sum256(srv.Certificate().Raw)

	c, err := wug.NewClient(srv.URL,
		wug.WithCredentials(wugtest.DefaultUser, wugtest.DefaultPassword),
		wug.WithPinnedCertificate(hex.EncodeToString(sum[:])),
	)
	if err != nil {
		log.Fatal(err)
	}
	who, err := c.Product.WhoAmI(context.Background())
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("logged in as", who)
	// Output: logged in as admin
}

// Wrong credentials give an error that says so, with WUG's reason.
func ExampleClient_Login() {
	srv := wugtest.Start()
	defer srv.Close()
	c, err := srv.NewClient(wug.WithCredentials("admin", "not-the-password"))
	if err != nil {
		log.Fatal(err)
	}
	err = c.Login(context.Background())
	fmt.Println(errors.Is(err, wug.ErrUnauthorized))
	fmt.Println(err)
	// Output:
	// true
	// wug: login as "admin" refused (HTTP 400, invalid_grant): Invalid username/password or not allowed to sign on from this location.
}

func ExampleDevicesService_BulkAdd() {
	srv := wugtest.Start()
	defer srv.Close()
	c := srv.Client()
	ctx := context.Background()

	place, _ := wug.GroupTemplate("My Network/NetBox/Site A")
	outcomes, err := c.Devices.BulkAdd(ctx, []wug.DeviceTemplate{
		{
			TemplateID:  "nb-1",
			DisplayName: "web-01",
			Interfaces:  []wug.TemplateInterface{{DefaultInterface: true, NetworkAddress: "10.0.0.5"}},
			Attributes:  []wug.NameValue{{Name: "NetBoxId", Value: "1"}},
			Groups:      []wug.TemplateGroup{place},
		},
		{
			TemplateID:  "nb-2",
			DisplayName: "web-02",
			Interfaces:  []wug.TemplateInterface{{DefaultInterface: true, NetworkAddress: "10.0.0.6"}},
			Groups:      []wug.TemplateGroup{place},
		},
	})
	if err != nil {
		log.Fatal(err)
	}
	for _, o := range outcomes {
		d, _ := c.Devices.Get(ctx, o.DeviceID)
		fmt.Println(o.TemplateID, o.Created(), d.Name, d.NetworkAddress)
	}
	// Output:
	// nb-1 true web-01 10.0.0.5
	// nb-2 true web-02 10.0.0.6
}

// FindByAddress matches exactly, although WUG's search is a substring match.
func ExampleDevicesService_FindByAddress() {
	srv := wugtest.Start()
	defer srv.Close()
	srv.AddDevices(
		wugtest.Device{Name: "core-1", Address: "10.0.0.1"},
		wugtest.Device{Name: "core-10", Address: "10.0.0.10"},
	)
	found, err := srv.Client().Devices.FindByAddress(context.Background(), "10.0.0.1")
	if err != nil {
		log.Fatal(err)
	}
	for _, d := range found {
		fmt.Println(d.Name, d.NetworkAddress)
	}
	// Output: core-1 10.0.0.1
}

// All lists every device with its address, following WUG's pages.
func ExampleDevicesService_All() {
	srv := wugtest.Start(wugtest.WithPageLimit(2))
	defer srv.Close()
	srv.AddDevices(
		wugtest.Device{Name: "a", Address: "192.0.2.1"},
		wugtest.Device{Name: "b", Address: "192.0.2.2"},
		wugtest.Device{Name: "c", Address: "192.0.2.3"},
	)
	var lines []string
	for d, err := range srv.Client().Devices.All(context.Background()) {
		if err != nil {
			log.Fatal(err)
		}
		lines = append(lines, d.NetworkAddress+" "+d.Name)
	}
	sort.Strings(lines)
	for _, l := range lines {
		fmt.Println(l)
	}
	// Output:
	// 192.0.2.1 a
	// 192.0.2.2 b
	// 192.0.2.3 c
}

// UpdateMetadata writes only what differs and deletes only attributes the
// caller owns.
func ExampleDevicesService_UpdateMetadata() {
	srv := wugtest.Start()
	defer srv.Close()
	id := srv.AddDevice(wugtest.Device{Name: "sw1", Address: "10.1.0.1", Attributes: map[string]string{
		"NetBox_Site": "site-a", "NetBox_Role": "leaf", "Location": "DC1",
	}})
	c := srv.Client()
	ctx := context.Background()
	u := wug.MetadataUpdate{
		Attributes:  map[string]string{"NetBox_Site": "site-b", "NetBox_Id": "42"},
		OwnedPrefix: "NetBox_",
	}
	ch, err := c.Devices.UpdateMetadata(ctx, id, u)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("added:", ch.Added)
	fmt.Println("modified:", ch.Modified)
	fmt.Println("deleted:", ch.Deleted)
	ch, _ = c.Devices.UpdateMetadata(ctx, id, u)
	fmt.Println("second run changed:", ch.Changed())
	// Output:
	// added: [{NetBox_Id 42}]
	// modified: [{NetBox_Site site-b}]
	// deleted: [NetBox_Role]
	// second run changed: false
}

func ExampleGroupsService_EnsurePath() {
	srv := wugtest.Start()
	defer srv.Close()
	c := srv.Client()
	ctx := context.Background()
	g, err := c.Groups.EnsurePath(ctx, "My Network/NetBox/Site A")
	if err != nil {
		log.Fatal(err)
	}
	again, _ := c.Groups.EnsurePath(ctx, "NetBox/Site A")
	fmt.Println(g.Path, g.ID == again.ID)
	// Output: My Network/NetBox/Site A true
}

// ScanRange expands a CIDR block into addresses for one newDevice scan;
// Wait follows the scan and Results lists what it found.
func ExampleScansService_ScanRange() {
	srv := wugtest.Start(wugtest.WithScanDelay(20 * time.Millisecond))
	defer srv.Close()
	srv.SetReachable("10.9.0.2", "10.9.0.5")
	c := srv.Client()
	ctx := context.Background()

	scan, err := c.Scans.ScanRange(ctx, "0", "10.9.0.0/29", nil)
	if err != nil {
		log.Fatal(err)
	}
	if _, err := c.Scans.Wait(ctx, scan.ID, 10*time.Millisecond); err != nil {
		log.Fatal(err)
	}
	var addrs []string
	for d, err := range c.Scans.Results(ctx, scan.ID) {
		if err != nil {
			log.Fatal(err)
		}
		addrs = append(addrs, d.NetworkAddress)
	}
	sort.Strings(addrs)
	fmt.Println(addrs)

	_, err = c.Scans.ScanRange(ctx, "0", "10.0.0.0/16", nil)
	fmt.Println(err)
	// Output:
	// [10.9.0.2 10.9.0.5]
	// wug: Scans.ScanRange: invalid range: 10.0.0.0/16 holds 65536 addresses, more than the limit of 1024
}
