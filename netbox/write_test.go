package netbox_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/wugsync/wugsync/netbox"
	"github.com/wugsync/wugsync/netbox/netboxtest"
)

// TestSetupCustomFields creates the write-back fields once, with one list
// and one create request, and finds them on a second run without a write.
func TestSetupCustomFields(t *testing.T) {
	t.Parallel()
	srv, c := fakeClient(t, nil)
	ctx := context.Background()
	fields := netbox.WriteBackFields(true)
	names := make([]string, len(fields))
	for i, f := range fields {
		names[i] = f.Name
	}

	res, err := c.SetupCustomFields(ctx, fields)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(netbox.SetupResult{Created: names}, res); diff != "" {
		t.Errorf("first setup (-want +got):\n%s", diff)
	}
	if got := [2]int{srv.Count(netboxtest.RouteCustomFields), srv.Count(netboxtest.RouteCreateCustomFields)}; got != [2]int{1, 1} {
		t.Errorf("first setup: %d list and %d create requests, want 1 and 1", got[0], got[1])
	}
	var want []netboxtest.CustomField
	for _, f := range fields {
		want = append(want, netboxtest.CustomField{Name: f.Name, Label: f.Label, Type: string(f.Type), ObjectTypes: f.ObjectTypes,
			GroupName: "WhatsUp Gold", Description: f.Description, UIEditable: "no"})
	}
	got := slices.DeleteFunc(srv.CustomFields(), func(f netboxtest.CustomField) bool { return !strings.HasPrefix(f.Name, "wug_") })
	if diff := cmp.Diff(want, got, cmpopts.IgnoreFields(netboxtest.CustomField{}, "ID")); diff != "" {
		t.Errorf("fields in NetBox (-want +got):\n%s", diff)
	}

	srv.ResetRequests()
	res, err = c.SetupCustomFields(ctx, fields)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(netbox.SetupResult{Existing: names}, res); diff != "" {
		t.Errorf("second setup (-want +got):\n%s", diff)
	}
	if w := srv.Writes(); w != 0 {
		t.Errorf("second setup wrote %d times, want 0", w)
	}
}

// TestSetupCustomFieldsConflict leaves a field of another type, and one
// not enabled for virtual machines, alone, creates nothing and names both
// conflicts.
func TestSetupCustomFieldsConflict(t *testing.T) {
	t.Parallel()
	srv, c := fakeClient(t, nil)
	// A device made with a text value defines wug_device_id as text.
	if _, err := srv.CreateDevice(netboxtest.Device{Name: "pre", CustomFields: map[string]any{netbox.FieldWUGDeviceID: "x"}}); err != nil {
		t.Fatal(err)
	}
	// An administrator made wug_last_sync for devices only.
	devOnly := netbox.CustomField{Name: netbox.FieldWUGLastSync, Type: netbox.CustomFieldDateTime, ObjectTypes: []string{netbox.ObjectTypeDevice}}
	if _, err := c.SetupCustomFields(context.Background(), []netbox.CustomField{devOnly}); err != nil {
		t.Fatal(err)
	}
	srv.ResetRequests()
	before := srv.CustomFields()
	_, err := c.SetupCustomFields(context.Background(), netbox.WriteBackFields(false))
	var got []*netbox.FieldConflictError
	var walk func(error)
	walk = func(e error) {
		if ce, ok := e.(*netbox.FieldConflictError); ok {
			got = append(got, ce)
		}
		switch u := e.(type) {
		case interface{ Unwrap() []error }:
			for _, x := range u.Unwrap() {
				walk(x)
			}
		case interface{ Unwrap() error }:
			walk(u.Unwrap())
		}
	}
	walk(err)
	want := []*netbox.FieldConflictError{
		{Name: netbox.FieldWUGDeviceID, Want: netbox.CustomFieldInteger, Have: netbox.CustomFieldText},
		{Name: netbox.FieldWUGLastSync, Want: netbox.CustomFieldDateTime, Have: netbox.CustomFieldDateTime,
			MissingObjectTypes: []string{netbox.ObjectTypeVirtualMachine}},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("conflicts (-want +got):\n%s", diff)
	}
	for _, msg := range []string{`custom field "wug_device_id" exists but it has type "text", wugsync writes "integer"`,
		`custom field "wug_last_sync" exists but it is not enabled for virtualization.virtualmachine`} {
		if err == nil || !strings.Contains(err.Error(), msg) {
			t.Errorf("error %v does not say %q", err, msg)
		}
	}
	if diff := cmp.Diff(before, srv.CustomFields()); diff != "" {
		t.Errorf("fields changed (-before +after):\n%s", diff)
	}
	if w := srv.Writes(); w != 0 {
		t.Errorf("%d writes, want 0", w)
	}
}

func TestSetupCustomFieldsRejectsBadDefinitions(t *testing.T) {
	t.Parallel()
	srv, c := fakeClient(t, nil)
	for _, tc := range []struct {
		f    netbox.CustomField
		want string
	}{
		{netbox.CustomField{Name: "Bad-Name", Type: netbox.CustomFieldText, ObjectTypes: []string{netbox.ObjectTypeDevice}}, "lower-case"},
		{netbox.CustomField{Name: "x", Type: "colour", ObjectTypes: []string{netbox.ObjectTypeDevice}}, "colour"},
		{netbox.CustomField{Name: "x", Type: netbox.CustomFieldText}, "no object type"},
	} {
		_, err := c.SetupCustomFields(context.Background(), []netbox.CustomField{tc.f})
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: error %v, want one mentioning %q", tc.f, err, tc.want)
		}
	}
	if n := srv.Count(netboxtest.RouteAny); n != 0 {
		t.Errorf("%d requests for bad definitions, want 0", n)
	}
}

// setupFields creates the write-back fields in srv.
func setupFields(t *testing.T, c *netbox.Client) {
	t.Helper()
	if _, err := c.SetupCustomFields(context.Background(), netbox.WriteBackFields(true)); err != nil {
		t.Fatal(err)
	}
}

func wantValues(id int64) map[string]any {
	return map[string]any{
		netbox.FieldWUGDeviceID:  id + 1000,
		netbox.FieldWUGDeviceURL: fmt.Sprintf("https://wug.example.com/NmConsole/#v=Wug_view_dashboard_devicedetail/p=%%7B%%22deviceId%%22%%3A%d%%7D", id+1000),
		netbox.FieldWUGSyncState: netbox.SyncExported,
		netbox.FieldWUGLastSync:  netbox.FormatDateTime(time.Date(2026, 12, 4, 15, 0, 0, 0, time.UTC)),
	}
}

// TestUpdateCustomFields writes values in ⌈objects / page size⌉ requests
// per kind and reads them back through the read path.
func TestUpdateCustomFields(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		devices, vms, pageSize int
		wantRequests           int
	}{
		{devices: 0, vms: 0, pageSize: 10, wantRequests: 0},
		{devices: 25, vms: 7, pageSize: 10, wantRequests: 4},
		{devices: 20, vms: 0, pageSize: 10, wantRequests: 2},
		{devices: 1, vms: 1, pageSize: 0, wantRequests: 2},
		{devices: 30, vms: 12, pageSize: 1000, wantRequests: 2},
	} {
		t.Run(fmt.Sprintf("%d+%d/%d", tc.devices, tc.vms, tc.pageSize), func(t *testing.T) {
			t.Parallel()
			srv, c := fakeClient(t, []netboxtest.Option{netboxtest.WithDevices(30), netboxtest.WithVirtualMachines(12)})
			setupFields(t, c)
			srv.ResetRequests()
			var updates []netbox.FieldUpdate
			for _, d := range srv.Devices()[:tc.devices] {
				updates = append(updates, netbox.FieldUpdate{ObjectRef: netbox.ObjectRef{Kind: netbox.KindDevice, ID: d.ID}, Fields: wantValues(d.ID)})
			}
			for _, d := range srv.VirtualMachines()[:tc.vms] {
				updates = append(updates, netbox.FieldUpdate{ObjectRef: netbox.ObjectRef{Kind: netbox.KindVirtualMachine, ID: d.ID}, Fields: wantValues(d.ID)})
			}
			res, err := c.UpdateCustomFields(context.Background(), updates, tc.pageSize)
			if err != nil {
				t.Fatal(err)
			}
			if res.Requests != tc.wantRequests || srv.Writes() != tc.wantRequests {
				t.Errorf("%d requests reported, %d writes seen, want %d", res.Requests, srv.Writes(), tc.wantRequests)
			}
			if len(res.Written) != len(updates) {
				t.Errorf("%d objects written, want %d", len(res.Written), len(updates))
			}
			// Read back through the read path, as an export would.
			devs, derrs := drain(t, c.Devices(context.Background(), netbox.Selector{Statuses: []string{netbox.AnyStatus}, IncludeVMs: true}))
			if len(derrs) > 0 {
				t.Fatal(derrs[0])
			}
			written := map[netbox.ObjectRef]bool{}
			for _, u := range updates {
				written[u.ObjectRef] = true
			}
			for _, d := range devs {
				want := map[string]any{netbox.FieldWUGDeviceID: nil, netbox.FieldWUGDeviceURL: nil,
					netbox.FieldWUGSyncState: nil, netbox.FieldWUGLastSync: nil}
				if written[netbox.ObjectRef{Kind: d.Kind, ID: d.ID}] {
					want = wantValues(d.ID)
				}
				got := map[string]any{}
				for k := range want {
					got[k], want[k] = toFloat(d.CustomFields[k]), toFloat(want[k])
				}
				if diff := cmp.Diff(want, got); diff != "" {
					t.Errorf("%s %d custom fields (-want +got):\n%s", d.Kind, d.ID, diff)
				}
			}
		})
	}
}

// toFloat compares JSON numbers whatever Go type holds them.
func toFloat(v any) any {
	switch v := v.(type) {
	case int64:
		return float64(v)
	case int:
		return float64(v)
	}
	return v
}

// TestUpdateCustomFieldsRefused shows a request NetBox refuses failing its
// own objects while the other pages are written, objects NetBox skips
// reported as not updated, and updates that cannot be sent failing alone.
func TestUpdateCustomFieldsRefused(t *testing.T) {
	t.Parallel()
	srv, c := fakeClient(t, []netboxtest.Option{netboxtest.WithDevices(10)})
	setupFields(t, c)
	srv.ResetRequests()
	ids := func(ds []netboxtest.Device) []int64 {
		out := make([]int64, len(ds))
		for i, d := range ds {
			out[i] = d.ID
		}
		return out
	}(srv.Devices())
	ref := func(id int64) netbox.ObjectRef { return netbox.ObjectRef{Kind: netbox.KindDevice, ID: id} }
	good := map[string]any{netbox.FieldWUGSyncState: netbox.SyncScanPending}
	updates := []netbox.FieldUpdate{
		{ObjectRef: ref(ids[0]), Fields: good},
		{ObjectRef: ref(ids[1]), Fields: good},
		// Page 2: one unknown field fails the whole page, as NetBox does.
		{ObjectRef: ref(ids[2]), Fields: good},
		{ObjectRef: ref(ids[3]), Fields: map[string]any{"wug_no_such_field": "x"}},
		// Page 3: an id NetBox does not have is skipped by NetBox.
		{ObjectRef: ref(ids[4]), Fields: map[string]any{netbox.FieldWUGDeviceID: int64(7)}},
		{ObjectRef: ref(99999), Fields: good},
		// Page 4: a value of the wrong type.
		{ObjectRef: ref(ids[5]), Fields: map[string]any{netbox.FieldWUGDeviceID: "seven"}},
		// Not sent at all.
		{ObjectRef: ref(0), Fields: good},
		{ObjectRef: ref(ids[6]), Fields: map[string]any{"Bad Name": 1}},
		{ObjectRef: ref(ids[7]), Fields: map[string]any{netbox.FieldWUGLastSync: time.Now()}},
		{ObjectRef: ref(ids[0]), Fields: good},
	}
	res, err := c.UpdateCustomFields(context.Background(), updates, 2)
	if err == nil {
		t.Fatal("no error")
	}
	if res.Requests != 4 {
		t.Errorf("%d requests, want 4", res.Requests)
	}
	if diff := cmp.Diff([]netbox.ObjectRef{ref(ids[0]), ref(ids[1]), ref(ids[4])}, res.Written); diff != "" {
		t.Errorf("written (-want +got):\n%s", diff)
	}
	var unknown, skipped, wrongType []int64
	for _, f := range res.Failed {
		switch {
		case strings.Contains(f.Err.Error(), "Unknown field name 'wug_no_such_field' in custom field data."):
			unknown = append(unknown, f.IDs...)
		case errors.Is(f.Err, netbox.ErrNotUpdated):
			skipped = append(skipped, f.IDs...)
		case strings.Contains(f.Err.Error(), "Invalid value for custom field 'wug_device_id': Value must be an integer."):
			wrongType = append(wrongType, f.IDs...)
		}
	}
	if diff := cmp.Diff([][]int64{{ids[2], ids[3]}, {99999}, {ids[5]}}, [][]int64{unknown, skipped, wrongType}); diff != "" {
		t.Errorf("refused by NetBox: unknown field, skipped, wrong type (-want +got):\n%s", diff)
	}
	if len(res.Failed) != 7 {
		t.Errorf("%d failures, want 7:\n%v", len(res.Failed), err)
	}
	for _, msg := range []string{"device ids [0]: 0 is not a valid NetBox id", `device ids [7]: "Bad Name" is not a custom field name`,
		`custom field "wug_last_sync": a time.Time is not a value NetBox stores`, "named twice"} {
		if !strings.Contains(err.Error(), msg) {
			t.Errorf("error does not say %q:\n%v", msg, err)
		}
	}
	// What NetBox refused left the objects as they were.
	for _, id := range []int64{ids[2], ids[3], ids[5]} {
		d, _ := srv.Device(id)
		if d.CustomFields[netbox.FieldWUGSyncState] != nil || d.CustomFields[netbox.FieldWUGDeviceID] != nil {
			t.Errorf("device %d changed by a refused request: %v", id, d.CustomFields)
		}
	}
}

// TestUpdateCustomFieldsStopsOnServerError stops at the first request
// that fails for a reason the next requests share.
func TestUpdateCustomFieldsStopsOnServerError(t *testing.T) {
	t.Parallel()
	srv, c := fakeClient(t, []netboxtest.Option{netboxtest.WithDevices(10)})
	setupFields(t, c)
	srv.ResetRequests()
	srv.FailNext(netboxtest.Fault{Route: netboxtest.RoutePatchDevices, Status: 403})
	var updates []netbox.FieldUpdate
	for _, d := range srv.Devices() {
		updates = append(updates, netbox.FieldUpdate{ObjectRef: netbox.ObjectRef{Kind: netbox.KindDevice, ID: d.ID},
			Fields: map[string]any{netbox.FieldWUGSyncState: netbox.SyncExported}})
	}
	res, err := c.UpdateCustomFields(context.Background(), updates, 3)
	if !errors.Is(err, netbox.ErrTokenRefused) {
		t.Fatalf("error %v, want ErrTokenRefused", err)
	}
	if res.Requests != 1 || srv.Count(netboxtest.RoutePatchDevices) != 1 || len(res.Written) != 0 {
		t.Errorf("%d requests (%d seen), %d written; want 1 and none written", res.Requests, srv.Count(netboxtest.RoutePatchDevices), len(res.Written))
	}
}

// TestAddJournalEntries records additions and removals in ⌈entries / page
// size⌉ bulk creates.
func TestAddJournalEntries(t *testing.T) {
	t.Parallel()
	srv, c := fakeClient(t, []netboxtest.Option{netboxtest.WithDevices(10), netboxtest.WithVirtualMachines(3)})
	devs, vms := srv.Devices(), srv.VirtualMachines()
	var entries []netbox.JournalEntry
	var want []netboxtest.JournalEntry
	for i, d := range devs[:5] {
		obj := netbox.ObjectRef{Kind: netbox.KindDevice, ID: d.ID}
		e := netbox.AddedToWUG(obj, int64(100+i), fmt.Sprintf("https://wug.example.com/device/%d", 100+i))
		entries = append(entries, e)
		want = append(want, netboxtest.JournalEntry{ObjectType: "dcim.device", ObjectID: d.ID, Kind: "success",
			Comments: fmt.Sprintf("Added to WhatsUp Gold as device [%d](https://wug.example.com/device/%d) by wugsync.", 100+i, 100+i)})
	}
	vm := netbox.ObjectRef{Kind: netbox.KindVirtualMachine, ID: vms[0].ID}
	entries = append(entries, netbox.RemovedFromWUG(vm, 42, "left the selection"))
	want = append(want, netboxtest.JournalEntry{ObjectType: "virtualization.virtualmachine", ObjectID: vm.ID, Kind: "warning",
		Comments: "Removed from WhatsUp Gold (device 42) by wugsync: left the selection."})
	entries = append(entries, netbox.JournalEntry{ObjectRef: vm, Comments: "plain note"})
	want = append(want, netboxtest.JournalEntry{ObjectType: "virtualization.virtualmachine", ObjectID: vm.ID, Kind: "info", Comments: "plain note"})

	res, err := c.AddJournalEntries(context.Background(), entries, 3)
	if err != nil {
		t.Fatal(err)
	}
	if res.Requests != 3 || srv.Count(netboxtest.RouteCreateJournalEntries) != 3 {
		t.Errorf("%d requests (%d seen), want ⌈7/3⌉ = 3", res.Requests, srv.Count(netboxtest.RouteCreateJournalEntries))
	}
	if len(res.Written) != len(entries) {
		t.Errorf("%d written, want %d", len(res.Written), len(entries))
	}
	if diff := cmp.Diff(want, srv.JournalEntries(), cmpopts.IgnoreFields(netboxtest.JournalEntry{}, "ID", "Created")); diff != "" {
		t.Errorf("journal (-want +got):\n%s", diff)
	}
}

func TestAddJournalEntriesRefused(t *testing.T) {
	t.Parallel()
	srv, c := fakeClient(t, []netboxtest.Option{netboxtest.WithDevices(10)})
	d := srv.Devices()[0]
	ok := netbox.JournalEntry{ObjectRef: netbox.ObjectRef{Kind: netbox.KindDevice, ID: d.ID}, Comments: "fine"}
	res, err := c.AddJournalEntries(context.Background(), []netbox.JournalEntry{
		ok,
		{ObjectRef: netbox.ObjectRef{Kind: netbox.KindDevice, ID: 99999}, Comments: "no such device"},
		{ObjectRef: ok.ObjectRef, Comments: "  "},
		{ObjectRef: ok.ObjectRef, Level: "loud", Comments: "x"},
		ok,
	}, 2)
	if err == nil {
		t.Fatal("no error")
	}
	// The bad level and the empty comment are not sent; the unknown
	// device fails its page of two (NetBox creates all or nothing).
	if res.Requests != 2 || len(res.Written) != 1 || len(srv.JournalEntries()) != 1 {
		t.Errorf("%d requests, %d written, %d in NetBox; want 2, 1, 1\n%v", res.Requests, len(res.Written), len(srv.JournalEntries()), err)
	}
	for _, msg := range []string{"without comments", `'loud'`, "Related object not found"} {
		if !strings.Contains(err.Error(), msg) {
			t.Errorf("error does not say %q:\n%v", msg, err)
		}
	}
}

func TestSyncError(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ in, want string }{
		{"connection refused", "error: connection refused"},
		{"  two\nlines\t", "error: two lines"},
		{strings.Repeat("é", 300), "error: " + strings.Repeat("é", netbox.MaxSyncReason-1) + "…"},
	} {
		if got := netbox.SyncError(tc.in); got != tc.want {
			t.Errorf("SyncError(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
	if got := netbox.FormatDateTime(time.Date(2026, 12, 4, 16, 30, 5, 999, time.FixedZone("x", 3600))); got != "2026-12-04T15:30:05+00:00" {
		t.Errorf("FormatDateTime = %q", got)
	}
}

func TestChangedFields(t *testing.T) {
	t.Parallel()
	last := netbox.FormatDateTime(time.Date(2026, 12, 4, 15, 0, 0, 0, time.UTC))
	for _, tc := range []struct {
		name       string
		have, want map[string]any
		changed    map[string]any
	}{
		{"same, as read back", map[string]any{"wug_device_id": float64(7), "wug_sync_state": "exported", "wug_last_sync": last},
			map[string]any{"wug_device_id": int64(7), "wug_sync_state": "exported", "wug_last_sync": last}, nil},
		{"same instant, other form", map[string]any{"wug_last_sync": "2026-12-04T15:00:00Z"},
			map[string]any{"wug_last_sync": last}, nil},
		{"cleared stays cleared", map[string]any{"wug_device_id": nil}, map[string]any{"wug_device_id": nil}, nil},
		{"missing counts as null", map[string]any{}, map[string]any{"wug_device_id": nil}, nil},
		{"new id", map[string]any{"wug_device_id": float64(7)}, map[string]any{"wug_device_id": int64(8)},
			map[string]any{"wug_device_id": int64(8)}},
		{"first write", map[string]any{"wug_device_id": nil, "wug_sync_state": nil},
			map[string]any{"wug_device_id": 8, "wug_sync_state": "scan_pending"},
			map[string]any{"wug_device_id": 8, "wug_sync_state": "scan_pending"}},
		{"cleared", map[string]any{"wug_device_id": float64(7)}, map[string]any{"wug_device_id": nil},
			map[string]any{"wug_device_id": nil}},
		{"number and text differ", map[string]any{"x": "7"}, map[string]any{"x": 7}, map[string]any{"x": 7}},
		{"other instant", map[string]any{"wug_last_sync": "2026-12-04T15:00:01+00:00"}, map[string]any{"wug_last_sync": last},
			map[string]any{"wug_last_sync": last}},
		{"lists compare by content", map[string]any{"x": []any{"a"}}, map[string]any{"x": []any{"a"}}, nil},
	} {
		if diff := cmp.Diff(tc.changed, netbox.ChangedFields(tc.have, tc.want)); diff != "" {
			t.Errorf("%s (-want +got):\n%s", tc.name, diff)
		}
	}
}

// TestWriteRepeats checks the retry rules of each write: a bulk PATCH sets
// absolute values and is sent again after a lost answer; a journal create
// is not, so no entry can be made twice.
func TestWriteRepeats(t *testing.T) {
	t.Parallel()
	srv, c := fakeClient(t, []netboxtest.Option{netboxtest.WithDevices(10)})
	setupFields(t, c)
	d := srv.Devices()[0]
	ref := netbox.ObjectRef{Kind: netbox.KindDevice, ID: d.ID}

	srv.DropNext(netboxtest.RoutePatchDevices, 1)
	res, err := c.UpdateCustomFields(context.Background(), []netbox.FieldUpdate{{ObjectRef: ref,
		Fields: map[string]any{netbox.FieldWUGSyncState: netbox.SyncExported}}}, 0)
	if err != nil {
		t.Fatalf("PATCH after a dropped connection: %v", err)
	}
	if n := srv.Count(netboxtest.RoutePatchDevices); n != 2 || len(res.Written) != 1 {
		t.Errorf("PATCH reached the fake %d times and wrote %d objects; want 2 (one dropped) and 1", n, len(res.Written))
	}

	srv.DropNext(netboxtest.RouteCreateJournalEntries, 1)
	res, err = c.AddJournalEntries(context.Background(), []netbox.JournalEntry{netbox.AddedToWUG(ref, 5, "")}, 0)
	if err == nil || len(res.Failed) != 1 {
		t.Fatalf("journal create after a dropped connection: error %v, %d failures; want the entry failed", err, len(res.Failed))
	}
	if n := srv.Count(netboxtest.RouteCreateJournalEntries); n != 1 {
		t.Errorf("journal create reached the fake %d times, want 1: it must not be sent again blind", n)
	}
	if n := len(srv.JournalEntries()); n != 0 {
		t.Errorf("%d journal entries, want 0", n)
	}
}

func TestWritePageSizeChecked(t *testing.T) {
	t.Parallel()
	srv, c := fakeClient(t, []netboxtest.Option{netboxtest.WithDevices(10)})
	ref := netbox.ObjectRef{Kind: netbox.KindDevice, ID: srv.Devices()[0].ID}
	for _, n := range []int{-1, netbox.MaxPageSize + 1} {
		_, err := c.UpdateCustomFields(context.Background(), []netbox.FieldUpdate{{ObjectRef: ref, Fields: map[string]any{"x": 1}}}, n)
		if err == nil || !strings.Contains(err.Error(), fmt.Sprintf("page size %d is outside 0..1000", n)) {
			t.Errorf("UpdateCustomFields page size %d: error %v", n, err)
		}
		_, err = c.AddJournalEntries(context.Background(), []netbox.JournalEntry{{ObjectRef: ref, Comments: "x"}}, n)
		if err == nil || !strings.Contains(err.Error(), fmt.Sprintf("page size %d is outside 0..1000", n)) {
			t.Errorf("AddJournalEntries page size %d: error %v", n, err)
		}
	}
	if n := srv.Count(netboxtest.RouteAny); n != 0 {
		t.Errorf("%d requests, want 0", n)
	}
}
