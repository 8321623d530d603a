package netbox_test

import (
	"context"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/wugsync/wugsync/netbox"
	"github.com/wugsync/wugsync/netbox/netboxtest"
)

// TestCustomFieldsOnly: a CustomFieldsOnly read asks NetBox for ids, names
// and custom fields only, one list request per page of objects and
// nothing else (no addresses, no sites), and gives back the values the
// full read gives.
func TestCustomFieldsOnly(t *testing.T) {
	t.Parallel()
	srv, c := fakeClient(t, []netboxtest.Option{netboxtest.WithDevices(25), netboxtest.WithVirtualMachines(5)}, netbox.WithPageSize(10))
	ctx := context.Background()
	if _, err := c.SetupCustomFields(ctx, netbox.WriteBackFields(true)); err != nil {
		t.Fatal(err)
	}
	updates := []netbox.FieldUpdate{
		{ObjectRef: netbox.ObjectRef{Kind: netbox.KindDevice, ID: 3}, Fields: map[string]any{netbox.FieldWUGState: "down"}},
		{ObjectRef: netbox.ObjectRef{Kind: netbox.KindVirtualMachine, ID: 2}, Fields: map[string]any{netbox.FieldWUGState: "up"}},
	}
	if _, err := c.UpdateCustomFields(ctx, updates, 0); err != nil {
		t.Fatal(err)
	}
	read := func(sel netbox.Selector) map[netbox.ObjectRef]any {
		t.Helper()
		out := map[netbox.ObjectRef]any{}
		for d, err := range c.Devices(ctx, sel) {
			if err != nil {
				t.Fatalf("%+v: %v", sel, err)
			}
			out[netbox.ObjectRef{Kind: d.Kind, ID: d.ID}] = d.CustomFields[netbox.FieldWUGState]
		}
		return out
	}
	sel := netbox.Selector{Statuses: []string{netbox.AnyStatus}, IncludeVMs: true}
	want := read(sel)

	srv.ResetRequests()
	sel.CustomFieldsOnly = true
	got := read(sel)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("custom fields (-full read +CustomFieldsOnly):\n%s", diff)
	}
	if got[netbox.ObjectRef{Kind: netbox.KindDevice, ID: 3}] != "down" {
		t.Errorf("device 3: %s = %v, want down", netbox.FieldWUGState, got[netbox.ObjectRef{Kind: netbox.KindDevice, ID: 3}])
	}
	pages := (25+9)/10 + (5+9)/10
	if n, lists := srv.Count(netboxtest.RouteAny), srv.Count(netboxtest.RouteDevices)+srv.Count(netboxtest.RouteVirtualMachines); n != pages || lists != pages {
		t.Errorf("%d requests, %d of them lists; want %d lists and nothing else", n, lists, pages)
	}
	for _, r := range srv.Requests() {
		if f := r.Query.Get("fields"); f != "id,name,custom_fields" {
			t.Errorf("%s %s: fields=%q, want id,name,custom_fields", r.Method, r.Path, f)
		}
	}

	sel.OmitCustomFields = true
	if err := sel.Validate(); err == nil {
		t.Error("OmitCustomFields with CustomFieldsOnly: no error")
	}
}
