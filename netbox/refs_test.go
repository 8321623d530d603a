package netbox_test

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/wugsync/wugsync/netbox"
	"github.com/wugsync/wugsync/netbox/netboxtest"
)

func TestParseRefs(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		in      string
		want    netbox.Refs
		wantErr string
	}{
		{in: `[1, 2]`, want: netbox.Refs{IDs: []int64{1, 2}}},
		{in: `["ams1", "fra-2"]`, want: netbox.Refs{Slugs: []string{"ams1", "fra-2"}}},
		{in: `[1, "ams1", 2147483647, "1"]`, want: netbox.Refs{IDs: []int64{1, 2147483647}, Slugs: []string{"ams1", "1"}}},
		{in: ` [] `, want: netbox.Refs{}},
		{in: `null`, want: netbox.Refs{}},
		{in: `[1.5]`, wantErr: "item 1: 1.5 is not a NetBox id"},
		{in: `[1, 0]`, wantErr: "item 2: 0 is not a NetBox id"},
		{in: `[-4]`, wantErr: "item 1: -4 is not a NetBox id"},
		{in: `[2147483648]`, wantErr: "item 1: 2147483648 is not a NetBox id"},
		{in: `[1e3]`, wantErr: "item 1: 1e3 is not a NetBox id"},
		{in: `["ams 1"]`, wantErr: `item 1: "ams 1" is not a slug`},
		{in: `[""]`, wantErr: `item 1: "" is not a slug`},
		{in: `[null]`, wantErr: "item 1: null is neither a NetBox id nor a slug"},
		{in: `[true]`, wantErr: "item 1: true is neither a NetBox id nor a slug"},
		{in: `[{"id": 1}]`, wantErr: `item 1: {"id":1} is neither a NetBox id nor a slug`},
		{in: `[[1]]`, wantErr: "item 1: [1] is neither a NetBox id nor a slug"},
		{in: `{"sites": [1]}`, wantErr: "want a list of NetBox ids and slugs, not a JSON object"},
		{in: `"ams1"`, wantErr: "want a list of NetBox ids and slugs, not a JSON string"},
		{in: `[1] [2]`, wantErr: "data after the list"},
		{in: `[1,`, wantErr: "want a list of NetBox ids and slugs"},
	} {
		got, err := netbox.ParseRefs([]byte(tc.in))
		switch {
		case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
			t.Errorf("ParseRefs(%s): error %v, want one containing %q", tc.in, err, tc.wantErr)
		case tc.wantErr == "" && err != nil:
			t.Errorf("ParseRefs(%s): %v", tc.in, err)
		case tc.wantErr == "":
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("ParseRefs(%s) (-want +got):\n%s", tc.in, diff)
			}
		}
	}
}

// TestRefsJSON reads the seed's REST example and a mix inside a request
// struct, refuses a bad item naming it, and writes the list back.
func TestRefsJSON(t *testing.T) {
	t.Parallel()
	var req struct {
		DeviceFilters struct {
			Sites netbox.Refs `json:"sites"`
			Roles netbox.Refs `json:"device_roles"`
		} `json:"device_filters"`
	}
	if err := json.Unmarshal([]byte(`{"device_filters": {"sites": [1, 2], "device_roles": ["edge-router", 4]}}`), &req); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(netbox.Refs{IDs: []int64{1, 2}}, req.DeviceFilters.Sites); diff != "" {
		t.Errorf("sites (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(netbox.Refs{IDs: []int64{4}, Slugs: []string{"edge-router"}}, req.DeviceFilters.Roles); diff != "" {
		t.Errorf("roles (-want +got):\n%s", diff)
	}
	b, err := json.Marshal(req.DeviceFilters.Roles)
	if err != nil || string(b) != `[4,"edge-router"]` {
		t.Errorf("Marshal = %s, %v", b, err)
	}
	err = json.Unmarshal([]byte(`{"device_filters": {"sites": [1, {"x": 2}]}}`), &req)
	if err == nil || !strings.Contains(err.Error(), `item 2: {"x":2} is neither a NetBox id nor a slug`) {
		t.Errorf("error %v does not name the bad item", err)
	}
}

// TestResolveRefs turns a mix of ids and slugs into ids with one lookup
// per type, and none when there is no slug.
func TestResolveRefs(t *testing.T) {
	t.Parallel()
	srv, c := fakeClient(t, []netboxtest.Option{netboxtest.WithDevices(50)})
	cat := srv.Catalog()
	for _, tc := range []struct {
		kind     netbox.RefKind
		refs     []netboxtest.Ref
		in       netbox.Refs
		want     []int64
		requests int
	}{
		{netbox.RefSite, cat.Sites, netbox.Refs{IDs: []int64{2, 1}}, []int64{1, 2}, 0},
		{netbox.RefSite, cat.Sites, netbox.Refs{IDs: []int64{1}, Slugs: []string{cat.Sites[2].Slug, cat.Sites[0].Slug}}, []int64{1, 3}, 1},
		{netbox.RefRole, cat.Roles, netbox.Refs{IDs: []int64{4}, Slugs: []string{"edge-router"}}, []int64{2, 4}, 1},
		{netbox.RefTag, cat.Tags, netbox.Refs{Slugs: []string{"monitored", "backup"}}, []int64{1, 5}, 1},
	} {
		srv.ResetRequests()
		got, err := c.ResolveRefs(context.Background(), tc.kind, tc.in)
		if err != nil {
			t.Errorf("%s %+v: %v", tc.kind, tc.in, err)
			continue
		}
		if diff := cmp.Diff(tc.want, got); diff != "" {
			t.Errorf("%s %+v (-want +got):\n%s", tc.kind, tc.in, diff)
		}
		if n := srv.Count(netboxtest.RouteAny); n != tc.requests {
			t.Errorf("%s %+v: %d requests, want %d", tc.kind, tc.in, n, tc.requests)
		}
		for _, id := range got {
			if !slices.ContainsFunc(tc.refs, func(r netboxtest.Ref) bool { return r.ID == id }) {
				t.Errorf("%s id %d is not in the fake's catalog", tc.kind, id)
			}
		}
	}
	_, err := c.ResolveRefs(context.Background(), netbox.RefTag, netbox.Refs{Slugs: []string{"monitored", "no-such-tag"}})
	if err == nil || !strings.Contains(err.Error(), `NetBox has no tag with slug "no-such-tag"`) {
		t.Errorf("unknown slug: error %v", err)
	}
	if _, err := c.ResolveRefs(context.Background(), "rack", netbox.Refs{Slugs: []string{"a"}}); err == nil {
		t.Error("unknown kind: no error")
	}
}

// TestSelectByIDs selects devices and VMs by site, role and tag ids
// against the fake, alone and with a resolved mix, and compares with the
// fake's own data.
func TestSelectByIDs(t *testing.T) {
	t.Parallel()
	srv, c := fakeClient(t, []netboxtest.Option{netboxtest.WithDevices(200), netboxtest.WithVirtualMachines(60)})
	cat := srv.Catalog()
	slugOf := func(refs []netboxtest.Ref, id int64) string {
		i := slices.IndexFunc(refs, func(r netboxtest.Ref) bool { return r.ID == id })
		return refs[i].Slug
	}
	// Resolve a mix the way a service would: [1, "<slug of site 3>"].
	sites, err := c.ResolveRefs(context.Background(), netbox.RefSite, netbox.Refs{IDs: []int64{1}, Slugs: []string{slugOf(cat.Sites, 3)}})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name  string
		sel   netbox.Selector
		match func(d netboxtest.Device) bool
	}{
		{"site ids", netbox.Selector{SiteIDs: []int64{1, 2}},
			func(d netboxtest.Device) bool {
				return d.Site == slugOf(cat.Sites, 1) || d.Site == slugOf(cat.Sites, 2)
			}},
		{"resolved site mix", netbox.Selector{SiteIDs: sites},
			func(d netboxtest.Device) bool {
				return d.Site == slugOf(cat.Sites, 1) || d.Site == slugOf(cat.Sites, 3)
			}},
		{"role id", netbox.Selector{RoleIDs: []int64{7}},
			func(d netboxtest.Device) bool { return d.Role == slugOf(cat.Roles, 7) }},
		{"tag ids, all of them", netbox.Selector{TagIDs: []int64{1, 5}},
			func(d netboxtest.Device) bool {
				return slices.Contains(d.Tags, slugOf(cat.Tags, 1)) && slices.Contains(d.Tags, slugOf(cat.Tags, 5))
			}},
		{"tag id and slug", netbox.Selector{TagIDs: []int64{1}, Tags: []string{slugOf(cat.Tags, 7)}},
			func(d netboxtest.Device) bool {
				return slices.Contains(d.Tags, slugOf(cat.Tags, 1)) && slices.Contains(d.Tags, slugOf(cat.Tags, 7))
			}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			sel := tc.sel
			sel.Statuses, sel.IncludeVMs = []string{netbox.AnyStatus}, true
			devs, derrs := drain(t, c.Devices(context.Background(), sel))
			if len(derrs) > 0 {
				t.Fatal(derrs[0])
			}
			type key struct {
				kind netbox.Kind
				id   int64
			}
			var got, want []key
			for _, d := range devs {
				got = append(got, key{d.Kind, d.ID})
			}
			for _, d := range srv.Devices() {
				if tc.match(d) {
					want = append(want, key{netbox.KindDevice, d.ID})
				}
			}
			for _, d := range srv.VirtualMachines() {
				if tc.match(d) {
					want = append(want, key{netbox.KindVirtualMachine, d.ID})
				}
			}
			if len(want) == 0 {
				t.Fatal("the case selects nothing in the fake; it would prove nothing")
			}
			if diff := cmp.Diff(want, got, cmp.AllowUnexported(key{})); diff != "" {
				t.Errorf("selected (-want +got):\n%s", diff)
			}
		})
	}
}

// FuzzParseRefs checks ParseRefs never panics, accepts only valid ids and
// slugs, and that what it accepts writes back to a list it reads the same.
func FuzzParseRefs(f *testing.F) {
	for _, s := range []string{`[1, 2]`, `[1, "ams1"]`, `[]`, `null`, `[1.5]`, `["a b"]`, `[{"x":1}]`, `{"a":1}`, `[2147483648]`, `["1"]`, `[-0]`, `[1e2]`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := netbox.ParseRefs(data)
		if err != nil {
			return
		}
		for _, id := range r.IDs {
			if id < 1 || id > 2147483647 {
				t.Fatalf("ParseRefs(%q) accepted id %d", data, id)
			}
		}
		b, err := json.Marshal(r)
		if err != nil {
			t.Fatalf("Marshal(%+v): %v", r, err)
		}
		back, err := netbox.ParseRefs(b)
		if err != nil {
			t.Fatalf("ParseRefs(%s) of its own output: %v", b, err)
		}
		if diff := cmp.Diff(r, back); diff != "" {
			t.Fatalf("round trip of %q (-first +second):\n%s", data, diff)
		}
		sel := netbox.Selector{SiteIDs: r.IDs, Sites: r.Slugs}
		if err := sel.Validate(); err != nil {
			t.Fatalf("ParseRefs(%q) = %+v, which a Selector refuses: %v", data, r, err)
		}
	})
}
