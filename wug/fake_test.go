package wug_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/wugsync/wugsync/internal/httpx"
	"github.com/wugsync/wugsync/wug"
	"github.com/wugsync/wugsync/wug/wugtest"
)

// fake starts the fake WUG and a client wired to it the way users do.
func fake(t *testing.T, srvOpts []wugtest.Option, opts ...wug.Option) (*wugtest.Server, *wug.Client) {
	t.Helper()
	srv := wugtest.NewServer(t, srvOpts...)
	t.Cleanup(func() {
		if v := srv.Violations(); len(v) > 0 {
			t.Errorf("contract violations: %q", v)
		}
	})
	base := []wug.Option{wug.WithRetry(fastRetry), wug.WithRateLimit(0, 0)}
	c, err := srv.NewClient(append(base, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	return srv, c
}

func ids(ds []wug.Device) []string {
	out := make([]string, len(ds))
	for i, d := range ds {
		out[i] = d.ID
	}
	sort.Strings(out)
	return out
}

func TestFakeDeviceReads(t *testing.T) {
	t.Parallel()
	srv, c := fake(t, nil)
	ctx := context.Background()
	seeded := srv.AddDevices(
		wugtest.Device{Name: "core-1", HostName: "core-1.lab", Address: "10.0.0.1", Groups: []string{"My Network/Core"}, Notes: "n1"},
		wugtest.Device{Name: "core-10", Address: "10.0.0.10", Groups: []string{"My Network/Core"}},
		wugtest.Device{Name: "edge", Address: "10.0.0.100", State: "Down"},
	)

	all, err := wug.Collect(c.Devices.All(ctx))
	if err != nil {
		t.Fatal(err)
	}
	addrs := map[string]string{}
	for _, d := range all {
		addrs[d.ID] = d.NetworkAddress
	}
	want := map[string]string{seeded[0]: "10.0.0.1", seeded[1]: "10.0.0.10", seeded[2]: "10.0.0.100"}
	if diff := cmp.Diff(want, addrs); diff != "" {
		t.Errorf("All addresses (-want +got):\n%s", diff)
	}

	found, err := c.Devices.FindByAddress(ctx, "10.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{seeded[0]}, ids(found)); diff != "" {
		t.Errorf("FindByAddress (-want +got):\n%s", diff)
	}
	none, err := c.Devices.FindByAddress(ctx, "10.9.9.9")
	if err != nil || len(none) != 0 {
		t.Errorf("FindByAddress of an unknown address = %v, %v", none, err)
	}

	inCore, err := wug.Collect(c.Devices.List(ctx, srv.AddGroup("My Network/Core"), &wug.ListOptions{View: wug.ViewOverview}))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{seeded[0], seeded[1]}, ids(inCore)); diff != "" {
		t.Errorf("List in Core (-want +got):\n%s", diff)
	}

	d, err := c.Devices.Get(ctx, seeded[0])
	if err != nil {
		t.Fatal(err)
	}
	if d.Name != "core-1" || d.NetworkAddress != "10.0.0.1" {
		t.Errorf("Get = %+v", d)
	}
	st, err := c.Devices.Status(ctx, seeded[2])
	if err != nil {
		t.Fatal(err)
	}
	if st.WorstState != wug.StateDown {
		t.Errorf("Status = %+v", st)
	}
	if _, err := c.Devices.Get(ctx, "999999"); !errors.Is(err, wug.ErrNotFound) {
		t.Errorf("Get of a missing device: %v, want ErrNotFound", err)
	}

	p, err := c.Devices.Properties(ctx, seeded[0])
	if err != nil {
		t.Fatal(err)
	}
	if p.DisplayName != "core-1" || p.Note != "n1" {
		t.Errorf("Properties = %+v", p)
	}
	name, note := "core-1-renamed", "new note"
	if err := c.Devices.UpdateProperties(ctx, seeded[0], wug.PropertiesUpdate{DisplayName: &name, Note: &note}); err != nil {
		t.Fatal(err)
	}
	got, _ := srv.Device(seeded[0])
	if got.Name != name || got.Notes != note {
		t.Errorf("after UpdateProperties: %+v", got)
	}
}

func TestFakePaging(t *testing.T) {
	t.Parallel()
	srv, c := fake(t, []wugtest.Option{wugtest.WithPageLimit(3)})
	for i := range 10 {
		srv.AddDevice(wugtest.Device{Name: fmt.Sprintf("d%d", i), Address: fmt.Sprintf("192.0.2.%d", i+1)})
	}
	srv.ResetRequests()
	all, err := wug.Collect(c.Devices.All(context.Background()))
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != 10 {
		t.Errorf("All returned %d devices, want 10", len(all))
	}
	if n := srv.Count("GET /api/v1/device-groups/{groupId}/devices/-"); n != 4 {
		t.Errorf("pages fetched = %d, want 4", n)
	}
}

func TestFakeDeleteAndPoll(t *testing.T) {
	t.Parallel()
	srv, c := fake(t, nil)
	ctx := context.Background()
	id := srv.AddDevices(
		wugtest.Device{Name: "a", Address: "10.1.0.1"},
		wugtest.Device{Name: "b", Address: "10.1.0.2"},
		wugtest.Device{Name: "c", Address: "10.1.0.3"},
		wugtest.Device{Name: "d", Address: "10.1.0.4"},
	)
	if err := c.Devices.PollNow(ctx, id[0]); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Devices.PollNowMany(ctx, id[:2]); err != nil {
		t.Fatal(err)
	}
	if d, _ := srv.Device(id[0]); d.Polls != 2 {
		t.Errorf("polls of %s = %d, want 2", id[0], d.Polls)
	}
	end := time.Now().Add(time.Hour).UTC().Truncate(time.Second)
	if err := c.Devices.SetMaintenance(ctx, id[0], wug.Maintenance{Enabled: true, EndUTC: &end, Reason: "patching"}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Devices.SetMaintenanceMany(ctx, id[1:3], wug.Maintenance{Enabled: true, Reason: "window"}); err != nil {
		t.Fatal(err)
	}
	for _, i := range id[:3] {
		if d, _ := srv.Device(i); !d.Maintenance {
			t.Errorf("device %s not in maintenance", i)
		}
	}
	if err := c.Devices.Delete(ctx, id[0], true); err != nil {
		t.Fatal(err)
	}
	res, err := c.Devices.DeleteMany(ctx, id[1:3])
	if err != nil {
		t.Fatal(err)
	}
	if res.SuccessfulOperations != 2 {
		t.Errorf("DeleteMany = %+v", res)
	}
	if n := srv.DeviceCount(); n != 1 {
		t.Errorf("%d devices left, want 1", n)
	}
	if err := c.Devices.Delete(ctx, id[0], false); !errors.Is(err, wug.ErrNotFound) {
		t.Errorf("deleting twice: %v, want ErrNotFound", err)
	}
}

func TestFakeBulkAdd(t *testing.T) {
	t.Parallel()
	srv, c := fake(t, nil, wug.WithBatchSize(20))
	ctx := context.Background()
	srv.AddCredential("public-ro", "SNMP v2")
	place, err := wug.GroupTemplate("My Network/NetBox/Site A")
	if err != nil {
		t.Fatal(err)
	}
	ts := make([]wug.DeviceTemplate, 45)
	for i := range ts {
		ts[i] = wug.DeviceTemplate{
			TemplateID:   fmt.Sprintf("nb-%d", i),
			DisplayName:  fmt.Sprintf("web-%02d", i),
			Interfaces:   []wug.TemplateInterface{{DefaultInterface: true, NetworkAddress: fmt.Sprintf("10.2.0.%d", i+1), NetworkName: fmt.Sprintf("web-%02d.example.com", i)}},
			Attributes:   []wug.NameValue{{Name: "NetBoxId", Value: fmt.Sprint(i)}},
			Groups:       []wug.TemplateGroup{place},
			Credentials:  []wug.TemplateCredential{{CredentialType: "SNMP v2", Credential: "public-ro"}},
			PollInterval: "60",
			Note:         "added by sync",
		}
	}
	ts[7].Credentials = []wug.TemplateCredential{{CredentialType: "SNMP v2", Credential: "no-such-credential"}}
	srv.AddGroup("My Network/NetBox/Site A")
	srv.ResetRequests()
	outs, err := c.Devices.BulkAdd(ctx, ts)
	if err != nil {
		t.Fatal(err)
	}
	if n := srv.Count("PATCH /api/v1/devices/-/config/template"); n != 3 {
		t.Errorf("template calls = %d, want 3", n)
	}
	for i, o := range outs {
		if !o.Created() || o.Err != nil || o.TemplateID != ts[i].TemplateID {
			t.Fatalf("outcome %d = %+v", i, o)
		}
		d, ok := srv.Device(o.DeviceID)
		if !ok || d.Address != ts[i].Interfaces[0].NetworkAddress || d.Name != ts[i].DisplayName || d.Attributes["NetBoxId"] != fmt.Sprint(i) {
			t.Fatalf("device %s = %+v", o.DeviceID, d)
		}
		if !slices.Contains(d.Groups, "My Network/NetBox/Site A") {
			t.Errorf("device %s groups %v", o.DeviceID, d.Groups)
		}
	}
	if len(outs[7].Warnings) == 0 || len(outs[6].Warnings) != 0 {
		t.Errorf("warnings: 7 %q, 6 %q; want a warning for the unknown credential only", outs[7].Warnings, outs[6].Warnings)
	}

	one, err := c.Devices.AddDeviceByIP(ctx, "10.2.1.1", nil)
	if err != nil {
		t.Fatal(err)
	}
	if d, ok := srv.Device(one.DeviceID); !ok || d.Address != "10.2.1.1" || d.Name != "10.2.1.1" {
		t.Errorf("AddDeviceByIP created %+v", d)
	}
	if n := srv.DeviceCount(); n != 46 {
		t.Errorf("device count %d, want 46", n)
	}
}

func TestFakeUpdateMetadata(t *testing.T) {
	t.Parallel()
	srv, c := fake(t, nil)
	ctx := context.Background()
	id := srv.AddDevice(wugtest.Device{Name: "sw1", Address: "10.3.0.1", Notes: "old", Attributes: map[string]string{
		"NetBox_Site": "a", "NetBox_Role": "leaf", "Location": "DC1",
	}})
	name, note := "sw1.lab", "managed by wugsync"
	u := wug.MetadataUpdate{
		Attributes:  map[string]string{"NetBox_Site": "b", "NetBox_Id": "7"},
		OwnedPrefix: "NetBox_",
		DisplayName: &name,
		Note:        &note,
	}
	ch, err := c.Devices.UpdateMetadata(ctx, id, u)
	if err != nil {
		t.Fatal(err)
	}
	want := &wug.MetadataChange{
		Added:       []wug.NameValue{{Name: "NetBox_Id", Value: "7"}},
		Modified:    []wug.NameValue{{Name: "NetBox_Site", Value: "b"}},
		Deleted:     []string{"NetBox_Role"},
		DisplayName: true,
		Note:        true,
	}
	if diff := cmp.Diff(want, ch); diff != "" {
		t.Errorf("change (-want +got):\n%s", diff)
	}
	d, _ := srv.Device(id)
	wantAttrs := map[string]string{"NetBox_Site": "b", "NetBox_Id": "7", "Location": "DC1"}
	if diff := cmp.Diff(wantAttrs, d.Attributes); diff != "" {
		t.Errorf("attributes (-want +got):\n%s", diff)
	}
	if d.Name != name || d.Notes != note {
		t.Errorf("properties: %+v", d)
	}

	// A second run changes nothing: one read of the attributes and, as
	// the current device is passed in, no properties read and no write.
	cur, err := c.Devices.Get(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	u.Current = cur
	u.Note = nil // a card view need not carry notes
	srv.ResetRequests()
	ch, err = c.Devices.UpdateMetadata(ctx, id, u)
	if err != nil {
		t.Fatal(err)
	}
	if ch.Changed() {
		t.Errorf("second run changed %+v", ch)
	}
	counts := srv.Counts()
	if counts.Writes != 0 || counts.Reads != 1 {
		t.Errorf("second run: %d reads, %d writes (%v); want 1 read, no write", counts.Reads, counts.Writes, counts.ByRoute)
	}
}

func TestFakeGroups(t *testing.T) {
	t.Parallel()
	srv, c := fake(t, nil)
	ctx := context.Background()
	netbox := srv.AddGroup("My Network/NetBox")

	groups, err := c.Groups.List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	paths := map[string]string{}
	for _, g := range groups {
		paths[g.ID] = g.Path
	}
	if paths["0"] != "My Network" || paths[netbox] != "My Network/NetBox" {
		t.Errorf("paths = %v", paths)
	}

	srv.ResetRequests()
	var wg sync.WaitGroup
	got := make([]*wug.Group, 8)
	for i := range got {
		wg.Go(func() {
			g, err := c.Groups.EnsurePath(ctx, "My Network/NetBox/Site A/Rack 1")
			if err != nil {
				t.Error(err)
			}
			got[i] = g
		})
	}
	wg.Wait()
	if n := srv.Count("POST /api/v1/device-groups/{groupId}/child"); n != 2 {
		t.Errorf("groups created = %d, want 2 (Site A and Rack 1)", n)
	}
	if n := srv.Count("GET /api/v1/device-groups/-"); n != 8 {
		t.Errorf("listings = %d, want one per call (8)", n)
	}
	for _, g := range got {
		if g == nil || g.ID != got[0].ID || g.Path != "My Network/NetBox/Site A/Rack 1" {
			t.Fatalf("EnsurePath gave %+v, want the same group for every caller", g)
		}
	}
	if srvG, ok := srv.GroupByPath("My Network/NetBox/Site A/Rack 1"); !ok || srvG.ID != got[0].ID {
		t.Errorf("fake has %+v", srvG)
	}

	child, err := c.Groups.CreateChild(ctx, netbox, "Site B")
	if err != nil {
		t.Fatal(err)
	}
	if g, err := c.Groups.Get(ctx, child.ID); err != nil || g.Name != "Site B" {
		t.Errorf("Get = %+v, %v", g, err)
	}

	dev := srv.AddDevices(wugtest.Device{Name: "x", Address: "10.4.0.1"}, wugtest.Device{Name: "y", Address: "10.4.0.2"})
	if _, err := c.Groups.AddDevices(ctx, child.ID, dev); err != nil {
		t.Fatal(err)
	}
	if err := c.Devices.JoinGroup(ctx, dev[0], got[0].ID); err != nil {
		t.Fatal(err)
	}
	mine, err := wug.Collect(c.Devices.Groups(ctx, dev[0]))
	if err != nil {
		t.Fatal(err)
	}
	var mineIDs []string
	for _, g := range mine {
		mineIDs = append(mineIDs, g.ID)
	}
	for _, want := range []string{child.ID, got[0].ID} {
		if !slices.Contains(mineIDs, want) {
			t.Errorf("device groups %v lack %s", mineIDs, want)
		}
	}
	if err := c.Devices.LeaveGroup(ctx, dev[0], got[0].ID); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Devices.ChangeGroups(ctx, dev[1], []string{got[0].ID}, nil); err != nil {
		t.Fatal(err)
	}
	if err := c.Groups.RemoveDevice(ctx, got[0].ID, dev[1]); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Groups.RemoveDevices(ctx, child.ID, dev); err != nil {
		// Each device still has "My Network", so leaving Site B is allowed.
		t.Fatal(err)
	}
	if g, _ := srv.GroupByPath("My Network/NetBox/Site B"); g.Devices != 0 {
		t.Errorf("Site B still has %d devices", g.Devices)
	}
	if err := c.Groups.Delete(ctx, child.ID); err != nil {
		t.Fatal(err)
	}
	if _, ok := srv.GroupByPath("My Network/NetBox/Site B"); ok {
		t.Error("Site B still exists")
	}
	if st, err := c.Groups.Status(ctx, "0"); err != nil || st.TotalDevices != 2 {
		t.Errorf("Status = %+v, %v", st, err)
	}
}

func TestFakeScans(t *testing.T) {
	t.Parallel()
	// Scans finish only when the test says so (CompleteScans), so what is
	// active does not depend on timing.
	srv, c := fake(t, []wugtest.Option{wugtest.WithScanDelay(time.Hour)})
	ctx := context.Background()
	srv.SetReachable("10.5.0.1", "10.5.0.2", "10.5.0.3", "10.5.0.9", "10.5.0.10")
	gid := srv.AddGroup("My Network/Scanned")

	one, err := c.Scans.ScanIP(ctx, gid, "10.5.0.1", &wug.ScanOptions{ResolveDNSHostNames: true})
	if err != nil {
		t.Fatal(err)
	}
	many, err := c.Scans.ScanIPs(ctx, gid, []string{"10.5.0.2", "10.5.0.3"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	rng, err := c.Scans.ScanRange(ctx, gid, "10.5.0.8/29", nil)
	if err != nil {
		t.Fatal(err)
	}
	if sc := srv.Scans(); len(sc) != 3 || len(sc[2].Addresses) != 6 {
		t.Errorf("fake scans = %+v, want the /29 expanded to 6 hosts", sc)
	}
	active, err := wug.Collect(c.Scans.Active(ctx, &wug.ActiveOptions{Model: wug.ScanModelNewDevice}))
	if err != nil {
		t.Fatal(err)
	}
	if len(active) != 3 {
		t.Errorf("%d active scans listed, want 3", len(active))
	}
	if st, err := c.Scans.Status(ctx, one.ID); err != nil || st.Done() {
		t.Errorf("running scan status %+v, %v", st, err)
	}
	srv.CompleteScans()
	for _, s := range []*wug.ScanStarted{one, many, rng} {
		done, err := c.Scans.Wait(ctx, s.ID, 10*time.Millisecond)
		if err != nil {
			t.Fatal(err)
		}
		if !done.Done() {
			t.Errorf("scan %s not done: %+v", s.ID, done)
		}
	}
	found, err := wug.Collect(c.Scans.Results(ctx, many.ID))
	if err != nil {
		t.Fatal(err)
	}
	var addrs []string
	for _, d := range found {
		addrs = append(addrs, d.NetworkAddress)
	}
	sort.Strings(addrs)
	if diff := cmp.Diff([]string{"10.5.0.2", "10.5.0.3"}, addrs); diff != "" {
		t.Errorf("scan results (-want +got):\n%s", diff)
	}
	byRange, err := wug.Collect(c.Scans.Results(ctx, rng.ID))
	if err != nil || len(byRange) != 2 {
		t.Errorf("range scan found %d devices (%v), want 2", len(byRange), err)
	}
	all, err := wug.Collect(c.Scans.Active(ctx, &wug.ActiveOptions{IncludeFinished: true}))
	if err != nil || len(all) < 3 {
		t.Errorf("all scans: %d, %v", len(all), err)
	}

	srv.SetReachableHost("printer.lab", "10.5.2.1")
	byName, err := c.Scans.ScanIP(ctx, gid, "printer.lab", nil)
	if err != nil {
		t.Fatal(err)
	}
	srv.CompleteScans()
	if _, err := c.Scans.Wait(ctx, byName.ID, 10*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	if found, err := c.Devices.FindByAddress(ctx, "10.5.2.1"); err != nil || len(found) != 1 {
		t.Errorf("device scanned by name: %v, %v", found, err)
	}

	srv.SetReachable("10.5.1.1")
	slow, err := c.Scans.ScanIP(ctx, "0", "10.5.1.1", nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Scans.Cancel(ctx, slow.ID); err != nil {
		t.Fatal(err)
	}
	st, err := c.Scans.Status(ctx, slow.ID)
	if err != nil || !st.Done() {
		t.Errorf("cancelled scan status %+v, %v", st, err)
	}

	dev := srv.AddDevice(wugtest.Device{Name: "r", Address: "10.5.0.50"})
	refresh, err := c.Devices.Refresh(ctx, dev, nil)
	if err != nil {
		t.Fatal(err)
	}
	refreshMany, err := c.Devices.RefreshMany(ctx, []string{dev}, &wug.RefreshOptions{ResetOptions: []string{"attributes"}})
	if err != nil {
		t.Fatal(err)
	}
	srv.CompleteScans()
	for _, s := range []*wug.ScanStarted{refresh, refreshMany} {
		if _, err := c.Scans.Wait(ctx, s.ID, 10*time.Millisecond); err != nil {
			t.Fatal(err)
		}
	}
	if d, _ := srv.Device(dev); d.Refreshes != 2 {
		t.Errorf("refreshes = %d, want 2", d.Refreshes)
	}
}

func TestFakeProduct(t *testing.T) {
	t.Parallel()
	_, c := fake(t, nil)
	ctx := context.Background()
	v, err := c.Product.Version(ctx)
	if err != nil || len(v.Values) == 0 {
		t.Fatalf("Version = %+v, %v", v, err)
	}
	a, err := c.Product.API(ctx)
	if err != nil || len(a.Values) == 0 {
		t.Fatalf("API = %+v, %v", a, err)
	}
	who, err := c.Product.WhoAmI(ctx)
	if err != nil || who != wugtest.DefaultUser {
		t.Errorf("WhoAmI = %q, %v", who, err)
	}
}

func TestFakeTokenExpiryAndFaults(t *testing.T) {
	t.Parallel()
	srv, c := fake(t, nil)
	ctx := context.Background()
	id := srv.AddDevice(wugtest.Device{Name: "f", Address: "10.6.0.1"})
	if _, err := c.Devices.Get(ctx, id); err != nil {
		t.Fatal(err)
	}
	srv.ExpireTokens()
	if _, err := c.Devices.Get(ctx, id); err != nil {
		t.Fatalf("after token expiry: %v", err)
	}
	srv.FailNext(wugtest.Fault{Route: "GET /api/v1/devices/{deviceId}", Status: 503, Times: 2})
	before := c.Retries()
	if _, err := c.Devices.Get(ctx, id); err != nil {
		t.Fatalf("after two 503s: %v", err)
	}
	if n := c.Retries() - before; n != 2 {
		t.Errorf("retries = %d, want 2", n)
	}
	srv.DropNext("GET /api/v1/devices/{deviceId}/status", 1)
	if _, err := c.Devices.Status(ctx, id); err != nil {
		t.Fatalf("after a dropped connection: %v", err)
	}
	// Token requests and batch deletes are safe to repeat, so their 500s
	// are retried although they are POST and PATCH.
	srv.ExpireTokens()
	srv.FailNext(wugtest.Fault{Route: "POST /api/v1/token", Status: 500, Times: 1})
	spare := srv.AddDevice(wugtest.Device{Name: "spare", Address: "10.6.0.9"})
	srv.FailNext(wugtest.Fault{Route: "PATCH /api/v1/devices/-", Status: 500, Times: 1})
	if _, err := c.Devices.DeleteMany(ctx, []string{spare}); err != nil {
		t.Fatalf("batch delete after a token 500 and a delete 500: %v", err)
	}
	failed := map[string]int{}
	for _, r := range srv.Requests() {
		if r.Status == 500 {
			failed[r.Method+" "+r.Path]++
		}
	}
	if diff := cmp.Diff(map[string]int{"POST /api/v1/token": 1, "PATCH /api/v1/devices/-": 1}, failed); diff != "" {
		t.Errorf("500 answers (-want +got):\n%s", diff)
	}

	srv.FailNext(wugtest.Fault{Route: "PATCH /api/v1/devices/-/config/template", Status: 500, Times: 1})
	_, err := c.Devices.AddDeviceByIP(ctx, "10.6.0.2", nil)
	var ae *wug.APIError
	if !errors.As(err, &ae) || ae.StatusCode != 500 || !errors.Is(err, wug.ErrOutcomeUnknown) {
		t.Errorf("template apply 500: %v, want the APIError without retry, outcome unknown", err)
	}
	if n := srv.DeviceCount(); n != 1 {
		t.Errorf("device count %d, want 1 (no retry of the failed apply)", n)
	}
}

func TestFakeBadCredentialsAndPinning(t *testing.T) {
	t.Parallel()
	srv := wugtest.NewServer(t)
	bad, err := wug.NewClient(srv.URL, wug.WithCredentials(wugtest.DefaultUser, "nope-nope"), wug.WithTLSConfig(srv.TLSConfig()))
	if err != nil {
		t.Fatal(err)
	}
	err = bad.Login(context.Background())
	if !errors.Is(err, wug.ErrUnauthorized) {
		t.Errorf("bad password: %v, want ErrUnauthorized", err)
	}
	pinned, err := wug.NewClient(srv.URL, wug.WithCredentials(wugtest.DefaultUser, wugtest.DefaultPassword), wug.WithPinnedCertificate(httpx.Fingerprint(srv.Certificate().Raw)))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := pinned.Product.WhoAmI(context.Background()); err != nil {
		t.Errorf("pinned certificate: %v", err)
	}
	untrusted, _ := wug.NewClient(srv.URL, wug.WithCredentials(wugtest.DefaultUser, wugtest.DefaultPassword))
	if err := untrusted.Login(context.Background()); !errors.Is(err, wug.ErrUntrustedCertificate) || untrusted.Retries() != 0 {
		t.Errorf("self-signed certificate: %v after %d retries, want ErrUntrustedCertificate at once", err, untrusted.Retries())
	}
	mispinned, _ := wug.NewClient(srv.URL, wug.WithCredentials(wugtest.DefaultUser, wugtest.DefaultPassword), wug.WithPinnedCertificate(strings.Repeat("0", 64)))
	if _, err := mispinned.Devices.Get(context.Background(), "1"); !errors.Is(err, wug.ErrUntrustedCertificate) {
		t.Errorf("wrong pin: %v, want ErrUntrustedCertificate", err)
	}
}
