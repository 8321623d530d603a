package netbox

import (
	"encoding/json"
	"net/url"
	"os"
	"slices"
	"strings"
	"testing"
	"time"
)

// servedSpec is the part of NetBox's OpenAPI document (as go-netbox v4.3.0
// ships it) that the fake serves, cut by netboxtest's tests.
const servedSpec = "netboxtest/testdata/openapi-served.json"

// TestReadPathMatchesOpenAPI checks every filter and paging parameter the
// read path sends, and every field it asks for with fields=, against
// NetBox's OpenAPI document: a misspelt name would be ignored by NetBox,
// silently widening a selection or leaving a field out. fields=, exclude=
// and the cf_ filters are not in the document (NetBox adds them at run
// time) and are left out of the check.
func TestReadPathMatchesOpenAPI(t *testing.T) {
	t.Parallel()
	b, err := os.ReadFile(servedSpec)
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Paths map[string]struct {
			Get struct {
				Parameters []struct {
					Name string `json:"name"`
				} `json:"parameters"`
			} `json:"get"`
		} `json:"paths"`
		Components struct {
			Schemas map[string]struct {
				Properties map[string]any `json:"properties"`
			} `json:"schemas"`
		} `json:"components"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	params := func(path string) []string {
		var out []string
		for _, p := range doc.Paths[path].Get.Parameters {
			out = append(out, p.Name)
		}
		if len(out) == 0 {
			t.Fatalf("%s has no parameters in %s", path, servedSpec)
		}
		return out
	}

	yes := true
	sel := Selector{
		SiteIDs: []int64{1}, Sites: []string{"a"}, LocationIDs: []int64{1}, Locations: []string{"a"},
		RoleIDs: []int64{1}, Roles: []string{"a"}, Tags: []string{"a"}, TagIDs: []int64{1}, ExcludeTags: []string{"b"},
		Statuses: []string{"active"}, TenantIDs: []int64{1}, Tenants: []string{"a"}, NoTenant: true,
		PlatformIDs: []int64{1}, Platforms: []string{"a"}, ManufacturerIDs: []int64{1}, Manufacturers: []string{"a"},
		CustomFields: map[string][]string{"owner": {"x"}}, HasPrimaryIP: &yes, ChangedSince: time.Now(),
		IDs: []int64{1}, VMIDs: []int64{1},
	}
	f := fetcher{c: &Client{pageSize: MaxPageSize}, sel: &sel, fields: true}
	for _, kind := range []Kind{KindDevice, KindVirtualMachine} {
		path, _ := listPath(kind)
		sent := f.listQuery(kind, "c", 1)
		checkParams(t, path, sent, params(path))
	}
	ipQuery := url.Values{"device_id": nil, "virtual_machine_id": nil, "ordering": nil, "limit": nil, "id__gt": nil}
	checkParams(t, "/api/ipam/ip-addresses/", ipQuery, params("/api/ipam/ip-addresses/"))
	checkParams(t, "/api/dcim/sites/", url.Values{"id": nil, "limit": nil}, params("/api/dcim/sites/"))
	// Slug lookups (ResolveRefs) and the custom-field check of setup.
	for _, kind := range []RefKind{RefSite, RefRole, RefTag} {
		path, _ := kind.path()
		checkParams(t, path, url.Values{"slug": nil, "limit": nil}, params(path))
	}
	checkParams(t, "/api/extras/custom-fields/", url.Values{"name": nil, "limit": nil}, params("/api/extras/custom-fields/"))

	for schema, fields := range map[string]string{
		"DeviceWithConfigContext":         objectFields[KindDevice] + ",custom_fields",
		"VirtualMachineWithConfigContext": objectFields[KindVirtualMachine] + ",custom_fields",
		"IPAddress":                       ipFields,
		"Site":                            "id,region",
	} {
		props := doc.Components.Schemas[schema].Properties
		if len(props) == 0 {
			t.Fatalf("schema %s has no properties in %s", schema, servedSpec)
		}
		for _, name := range strings.Split(fields, ",") {
			if _, ok := props[name]; !ok {
				t.Errorf("fields= asks %s for %q, which it does not have", schema, name)
			}
		}
	}
}

func checkParams(t *testing.T, path string, sent url.Values, known []string) {
	t.Helper()
	for name := range sent {
		if name == "fields" || name == "exclude" || strings.HasPrefix(name, "cf_") {
			continue
		}
		if !slices.Contains(known, name) {
			t.Errorf("GET %s sends %q, a parameter NetBox does not define", path, name)
		}
	}
}
