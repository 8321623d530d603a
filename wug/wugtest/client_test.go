package wugtest_test

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/wugsync/wugsync/wug"
	"github.com/wugsync/wugsync/wug/wugtest"
)

// These tests drive the fake through the project's own client, end to end.

func TestClientBulkAddAndFind(t *testing.T) {
	t.Parallel()
	srv := wugtest.NewServer(t)
	c := srv.Client()
	ctx := context.Background()
	tpl := func(id, name, addr string) wug.DeviceTemplate {
		return wug.DeviceTemplate{
			TemplateID: id, DisplayName: name,
			Interfaces: []wug.TemplateInterface{{DefaultInterface: true, NetworkAddress: addr}},
			Attributes: []wug.NameValue{{Name: "NetBoxId", Value: id}},
			Groups:     []wug.TemplateGroup{{Name: "Site A", Parents: []string{"My Network", "NetBox"}}},
		}
	}
	out, err := c.Devices.BulkAdd(ctx, []wug.DeviceTemplate{tpl("1", "a", "10.0.0.1"), tpl("2", "b", "10.0.0.10")})
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range out {
		if !o.Created() {
			t.Fatalf("template %s not created: %v", o.TemplateID, o.Err)
		}
	}
	found, err := c.Devices.FindByAddress(ctx, "10.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	if len(found) != 1 || found[0].ID != out[0].DeviceID {
		t.Fatalf("FindByAddress = %+v, want only device %s", found, out[0].DeviceID)
	}
	g, _ := srv.GroupByPath("My Network/NetBox/Site A")
	if g.Devices != 2 {
		t.Errorf("group = %+v", g)
	}
}

func TestClientPagesEverything(t *testing.T) {
	t.Parallel()
	srv := wugtest.NewServer(t, wugtest.WithPageLimit(7))
	want := srv.AddDevices(make([]wugtest.Device, 50)...)
	var got []string
	for d, err := range srv.Client().Devices.All(context.Background()) {
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, d.ID)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	if n := srv.Count("GET /api/v1/device-groups/{groupId}/devices/-"); n != 8 {
		t.Errorf("list requests = %d, want 8 pages", n)
	}
}

func TestClientEnsurePathAndMembership(t *testing.T) {
	t.Parallel()
	srv := wugtest.NewServer(t)
	c := srv.Client()
	ctx := context.Background()
	srv.AddGroup("My Network/NetBox")
	g, err := c.Groups.EnsurePath(ctx, "My Network/NetBox/Site A/Rack 1")
	if err != nil {
		t.Fatal(err)
	}
	got, ok := srv.GroupByPath("My Network/NetBox/Site A/Rack 1")
	if !ok || got.ID != g.ID {
		t.Fatalf("EnsurePath gave %+v; fake has %+v", g, got)
	}
	if n := srv.Count("POST /api/v1/device-groups/{groupId}/child"); n != 2 {
		t.Errorf("groups created = %d, want 2", n)
	}
	id := srv.AddDevice(wugtest.Device{Name: "d", Address: "10.1.1.1"})
	if err := c.Devices.JoinGroup(ctx, id, g.ID); err != nil {
		t.Fatal(err)
	}
	if err := c.Devices.LeaveGroup(ctx, id, "0"); err != nil {
		t.Fatal(err)
	}
	d, _ := srv.Device(id)
	if diff := cmp.Diff([]string{"My Network/NetBox/Site A/Rack 1"}, d.Groups); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	if err := c.Devices.LeaveGroup(ctx, id, g.ID); err == nil {
		t.Error("leaving the last static group succeeded")
	}
}

func TestClientScanFlow(t *testing.T) {
	t.Parallel()
	srv := wugtest.NewServer(t, wugtest.WithScanDelay(50*time.Millisecond))
	srv.SetReachable("192.0.2.10")
	c := srv.Client()
	ctx := context.Background()
	started, err := c.Scans.ScanIPs(ctx, "0", []string{"192.0.2.10", "192.0.2.11"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	sc, err := c.Scans.Wait(ctx, started.ID, 10*time.Millisecond)
	if err != nil || !sc.Done() {
		t.Fatalf("Wait = %+v, %v", sc, err)
	}
	var addrs []string
	for d, err := range c.Scans.Results(ctx, started.ID) {
		if err != nil {
			t.Fatal(err)
		}
		addrs = append(addrs, d.NetworkAddress)
	}
	if diff := cmp.Diff([]string{"192.0.2.10"}, addrs); diff != "" {
		t.Errorf("scan results (-want +got):\n%s", diff)
	}
}

func TestClientMetadataAndAuthRenewal(t *testing.T) {
	t.Parallel()
	srv := wugtest.NewServer(t)
	c := srv.Client()
	ctx := context.Background()
	id := srv.AddDevice(wugtest.Device{Name: "d", Attributes: map[string]string{"NB_Site": "old", "Other": "x"}})
	if err := c.Login(ctx); err != nil {
		t.Fatal(err)
	}
	srv.ExpireTokens()
	if _, err := c.Devices.UpdateMetadata(ctx, id, wug.MetadataUpdate{Attributes: map[string]string{"NB_Site": "new", "NB_Role": "leaf"}}); err != nil {
		t.Fatal(err)
	}
	d, _ := srv.Device(id)
	if diff := cmp.Diff(map[string]string{"NB_Site": "new", "NB_Role": "leaf", "Other": "x"}, d.Attributes); diff != "" {
		t.Errorf("attributes (-want +got):\n%s", diff)
	}
	// An injected 404 comes back as the client's typed error.
	srv.FailNext(wugtest.Fault{Route: "GET /api/v1/devices/{deviceId}", Status: 404})
	if _, err := c.Devices.Get(ctx, id); !errors.Is(err, wug.ErrNotFound) {
		t.Errorf("Get with injected 404: %v", err)
	}
	if !slices.ContainsFunc(srv.Requests(), func(r wugtest.Request) bool { return r.Status == 401 }) {
		t.Error("no 401 seen after ExpireTokens")
	}
}

func TestClientProduct(t *testing.T) {
	t.Parallel()
	srv := wugtest.NewServer(t, wugtest.WithCredentials("ops", "pw"))
	who, err := srv.Client().Product.WhoAmI(context.Background())
	if err != nil || who != "ops" {
		t.Fatalf("WhoAmI = %q, %v", who, err)
	}
	if _, err := srv.Client().Product.Version(context.Background()); err != nil {
		t.Fatal(err)
	}
}
