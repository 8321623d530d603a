package netboxtest_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	gonetbox "github.com/netbox-community/go-netbox/v4"

	"github.com/wugsync/wugsync/netbox/netboxtest"
)

// send sends method path with a JSON body and content type ct and returns
// the status and body.
func send(t testing.TB, s *netboxtest.Server, method, path, ct, body string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, s.URL+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Token "+s.Token)
	if ct != "" {
		req.Header.Set("Content-Type", ct)
	}
	resp, err := s.HTTPClient().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// TestWritesConformToOpenAPI checks the answers of the write endpoints
// against NetBox's OpenAPI document, like the read endpoints'.
func TestWritesConformToOpenAPI(t *testing.T) {
	t.Parallel()
	s := netboxtest.NewServer(t, netboxtest.WithDevices(20), netboxtest.WithVirtualMachines(4))
	d, vm := s.Devices()[0], s.VirtualMachines()[0]
	for _, c := range []struct {
		method, spec, path, body string
		status                   int
	}{
		{"POST", "/api/extras/custom-fields/", "/api/extras/custom-fields/",
			`{"name":"wug_device_id","type":"integer","object_types":["dcim.device","virtualization.virtualmachine"],"label":"WUG device id","group_name":"WhatsUp Gold","ui_editable":"no"}`, 201},
		{"POST", "/api/extras/custom-fields/", "/api/extras/custom-fields/",
			`{"name":"wug_last_sync","type":"datetime","object_types":["dcim.device"]}`, 201},
		{"POST", "/api/extras/custom-fields/", "/api/extras/custom-fields/",
			`{"name":"wug_device_url","type":"url","object_types":["virtualization.virtualmachine"]}`, 201},
		{"GET", "/api/extras/custom-fields/", "/api/extras/custom-fields/?limit=1000", "", 200},
		{"GET", "/api/extras/custom-fields/", "/api/extras/custom-fields/?name=wug_device_id&name=ssh_port", "", 200},
		{"PATCH", "/api/dcim/devices/", "/api/dcim/devices/",
			fmt.Sprintf(`[{"id":%d,"custom_fields":{"wug_device_id":7,"wug_last_sync":"2026-12-04T15:00:00+00:00"}}]`, d.ID), 200},
		{"PATCH", "/api/virtualization/virtual-machines/", "/api/virtualization/virtual-machines/",
			fmt.Sprintf(`[{"id":%d,"custom_fields":{"wug_device_id":8,"wug_device_url":"https://wug.example.com/x"}}]`, vm.ID), 200},
		{"GET", "/api/dcim/devices/{id}/", fmt.Sprintf("/api/dcim/devices/%d/", d.ID), "", 200},
		{"GET", "/api/virtualization/virtual-machines/{id}/", fmt.Sprintf("/api/virtualization/virtual-machines/%d/", vm.ID), "", 200},
		{"POST", "/api/extras/journal-entries/", "/api/extras/journal-entries/",
			fmt.Sprintf(`{"assigned_object_type":"dcim.device","assigned_object_id":%d,"kind":"success","comments":"Added to WhatsUp Gold"}`, d.ID), 201},
		{"POST", "/api/extras/journal-entries/", "/api/extras/journal-entries/",
			fmt.Sprintf(`{"assigned_object_type":"virtualization.virtualmachine","assigned_object_id":%d,"comments":"note"}`, vm.ID), 201},
		{"GET", "/api/extras/journal-entries/", "/api/extras/journal-entries/?assigned_object_type=dcim.device", "", 200},
	} {
		if err := conformsTo(t, s, c.method, c.spec, c.path, c.body, c.status); err != nil {
			t.Errorf("%s %s does not conform:\n%s", c.method, c.path, limitText(err.Error(), 3000))
		}
	}
	// The check is not blind: a custom field's type object must be NetBox's.
	if err := conformsTo(t, s, "GET", "/api/extras/journal-entries/", "/api/extras/custom-fields/?name=wug_device_id", "", 200); err == nil {
		t.Error("a custom-field list validated as a journal-entry list")
	}
}

// TestWriteErrors checks the fake refuses what NetBox 4.3 refuses, with
// its status and body, and changes nothing then.
func TestWriteErrors(t *testing.T) {
	t.Parallel()
	s := netboxtest.NewServer(t, netboxtest.WithDevices(10), netboxtest.WithVirtualMachines(2))
	if code, body := send(t, s, "POST", "/api/extras/custom-fields/", "application/json",
		`[{"name":"dev_only","type":"integer","object_types":["dcim.device"]},{"name":"note","type":"text","object_types":["dcim.device","virtualization.virtualmachine"]}]`); code != 201 {
		t.Fatalf("create fields: %d %s", code, body)
	}
	d, vm := s.Devices()[0], s.VirtualMachines()[0]
	before := s.Devices()
	for _, c := range []struct {
		name, method, path, ct, body string
		status                       int
		want                         string
	}{
		{"not JSON", "PATCH", "/api/dcim/devices/", "text/plain", `[]`, 415, `{"detail":"Unsupported media type \"text/plain\" in request."}`},
		{"object, not list", "PATCH", "/api/dcim/devices/", "application/json", `{"id":1}`, 400,
			`{"non_field_errors":["Expected a list of items but got type \"dict\"."]}`},
		{"missing id", "PATCH", "/api/dcim/devices/", "application/json", `[{"id":1,"custom_fields":{}},{"custom_fields":{}}]`, 400,
			`[{},{"id":["This field is required."]}]`},
		{"string id", "PATCH", "/api/dcim/devices/", "application/json", `[{"id":"one"}]`, 400, `[{"id":["A valid integer is required."]}]`},
		{"unknown field", "PATCH", "/api/dcim/devices/", "application/json",
			fmt.Sprintf(`[{"id":%d,"custom_fields":{"note":"x","nope":1}}]`, d.ID), 400,
			`{"__all__":["Unknown field name 'nope' in custom field data."]}`},
		{"field not on VMs", "PATCH", "/api/virtualization/virtual-machines/", "application/json",
			fmt.Sprintf(`[{"id":%d,"custom_fields":{"dev_only":1}}]`, vm.ID), 400,
			`{"__all__":["Unknown field name 'dev_only' in custom field data."]}`},
		{"integer as text", "PATCH", "/api/dcim/devices/", "application/json",
			fmt.Sprintf(`[{"id":%d,"custom_fields":{"dev_only":"1"}}]`, d.ID), 400,
			`{"__all__":["Invalid value for custom field 'dev_only': Value must be an integer."]}`},
		{"integer as decimal", "PATCH", "/api/dcim/devices/", "application/json",
			fmt.Sprintf(`[{"id":%d,"custom_fields":{"dev_only":1.5}}]`, d.ID), 400,
			`{"__all__":["Invalid value for custom field 'dev_only': Value must be an integer."]}`},
		{"bad date", "PATCH", "/api/dcim/devices/", "application/json",
			fmt.Sprintf(`[{"id":%d,"custom_fields":{"decom_date":"4 Dec 2026"}}]`, d.ID), 400,
			`{"__all__":["Invalid value for custom field 'decom_date': Date values must be in ISO 8601 format (YYYY-MM-DD)."]}`},
		{"not custom fields", "PATCH", "/api/dcim/devices/", "application/json",
			fmt.Sprintf(`[{"id":%d,"name":"renamed"}]`, d.ID), 400, `{"name":["netboxtest writes only custom_fields in bulk updates."]}`},
		{"duplicate field", "POST", "/api/extras/custom-fields/", "application/json",
			`{"name":"note","object_types":["dcim.device"]}`, 400, `{"name":["custom field with this name already exists."]}`},
		{"field without object types", "POST", "/api/extras/custom-fields/", "application/json",
			`[{"name":"ok_one","object_types":["dcim.device"]},{"name":"no_types","object_types":[]}]`, 400,
			`[{},{"object_types":["This list may not be empty."]}]`},
		{"select without choices", "POST", "/api/extras/custom-fields/", "application/json",
			`{"name":"pick","type":"select","object_types":["dcim.device"]}`, 400,
			`{"choice_set":["Selection fields must specify a set of choices."]}`},
		{"journal without comments", "POST", "/api/extras/journal-entries/", "application/json",
			fmt.Sprintf(`{"assigned_object_type":"dcim.device","assigned_object_id":%d}`, d.ID), 400, `{"comments":["This field is required."]}`},
		{"journal on a missing device", "POST", "/api/extras/journal-entries/", "application/json",
			`[{"assigned_object_type":"dcim.device","assigned_object_id":999,"comments":"x"}]`, 400,
			`[{"__all__":["Related object not found using the provided numeric ID: 999"]}]`},
		{"journal bad kind", "POST", "/api/extras/journal-entries/", "application/json",
			fmt.Sprintf(`{"assigned_object_type":"dcim.device","assigned_object_id":%d,"comments":"x","kind":"loud"}`, d.ID), 400,
			`{"kind":["\"loud\" is not a valid choice."]}`},
		{"no delete", "DELETE", "/api/dcim/devices/", "application/json", `[]`, 405, `{"detail":"Method \"DELETE\" not allowed."}`},
	} {
		code, body := send(t, s, c.method, c.path, c.ct, c.body)
		if code != c.status || body != c.want {
			t.Errorf("%s: %d %s, want %d %s", c.name, code, body, c.status, c.want)
		}
	}
	if diff := cmp.Diff(before, s.Devices()); diff != "" {
		t.Errorf("refused writes changed devices (-before +after):\n%s", diff)
	}
	if n := len(s.JournalEntries()); n != 0 {
		t.Errorf("%d journal entries after refused creates", n)
	}
	if got := s.Writes(); got != 18 {
		t.Errorf("Writes() = %d, want 18 (every request above and the field creation)", got)
	}
}

// TestBulkPatch checks a bulk update sets and clears values, skips an
// unknown id, bumps last_updated, fires one webhook per object and
// answers with the objects.
func TestBulkPatch(t *testing.T) {
	t.Parallel()
	recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusNoContent) }))
	t.Cleanup(recv.Close)
	s := netboxtest.NewServer(t, netboxtest.WithDevices(10), netboxtest.WithWebhook(recv.URL, "s3cret"))
	if code, body := send(t, s, "POST", "/api/extras/custom-fields/", "application/json",
		`{"name":"wug_device_id","type":"integer","object_types":["dcim.device"]}`); code != 201 {
		t.Fatalf("create field: %d %s", code, body)
	}
	devs := s.Devices()
	a, b := devs[0], devs[1]
	code, body := send(t, s, "PATCH", "/api/dcim/devices/", "application/json",
		fmt.Sprintf(`[{"id":%d,"custom_fields":{"wug_device_id":11,"snmp_location":null}},{"id":99999,"custom_fields":{}},{"id":%d,"custom_fields":{"wug_device_id":12}}]`, b.ID, a.ID))
	if code != 200 {
		t.Fatalf("PATCH: %d %s", code, body)
	}
	var answered []struct {
		ID int64 `json:"id"`
	}
	if err := json.Unmarshal([]byte(body), &answered); err != nil {
		t.Fatal(err)
	}
	var ids []int64
	for _, x := range answered {
		ids = append(ids, x.ID)
	}
	if diff := cmp.Diff([]int64{a.ID, b.ID}, ids); diff != "" {
		t.Errorf("answered ids (-want +got):\n%s", diff)
	}
	gotA, _ := s.Device(a.ID)
	gotB, _ := s.Device(b.ID)
	wantA, wantB := a, b
	wantA.CustomFields = cloneCF(a.CustomFields, "wug_device_id", int64(12))
	wantB.CustomFields = cloneCF(b.CustomFields, "wug_device_id", int64(11))
	wantB.CustomFields["snmp_location"] = nil
	if diff := cmp.Diff([]netboxtest.Device{wantA, wantB}, []netboxtest.Device{gotA, gotB}, cmpopts.IgnoreFields(netboxtest.Device{}, "LastUpdated")); diff != "" {
		t.Errorf("devices (-want +got):\n%s", diff)
	}
	if !gotA.LastUpdated.After(a.LastUpdated) || !gotB.LastUpdated.After(b.LastUpdated) {
		t.Error("last_updated did not move")
	}
	var hooks []string
	for _, d := range s.Deliveries() {
		hooks = append(hooks, fmt.Sprintf("%s %s %d %d", d.Event, d.ObjectType, d.ID, d.Status))
	}
	wantHooks := []string{fmt.Sprintf("updated dcim.device %d 204", a.ID), fmt.Sprintf("updated dcim.device %d 204", b.ID)}
	if diff := cmp.Diff(wantHooks, hooks); diff != "" {
		t.Errorf("webhooks (-want +got):\n%s", diff)
	}
}

func cloneCF(m map[string]any, k string, v any) map[string]any {
	out := map[string]any{}
	for key, val := range m {
		out[key] = val
	}
	out[k] = v
	return out
}

// TestGoNetBoxWrites writes through go-netbox's own client (a custom
// field, a journal entry) and decodes every new list with its strict
// models.
func TestGoNetBoxWrites(t *testing.T) {
	t.Parallel()
	s := netboxtest.NewServer(t, netboxtest.WithDevices(10))
	c := goNetBox(s)
	ctx := t.Context()
	d := s.Devices()[0]

	cf := gonetbox.NewWritableCustomFieldRequest([]string{"dcim.device"}, "wug_state")
	typ := gonetbox.PATCHEDWRITABLECUSTOMFIELDREQUESTTYPE_TEXT
	cf.Type = &typ
	made, _, err := c.ExtrasAPI.ExtrasCustomFieldsCreate(ctx).WritableCustomFieldRequest(*cf).Execute()
	if err != nil {
		t.Fatalf("ExtrasCustomFieldsCreate: %v", err)
	}
	if made.Name != "wug_state" || made.Type.GetValue() != "text" || made.DataType != "string" {
		t.Errorf("created field decoded as %s %v %s", made.Name, made.Type.GetValue(), made.DataType)
	}
	fields, _, err := c.ExtrasAPI.ExtrasCustomFieldsList(ctx).Name([]string{"wug_state", "ssh_port"}).Execute()
	if err != nil || fields.Count != 2 {
		t.Fatalf("ExtrasCustomFieldsList: %v (count %v)", err, fields)
	}

	je := gonetbox.NewWritableJournalEntryRequest("dcim.device", d.ID, "Added to WhatsUp Gold")
	kind := gonetbox.JOURNALENTRYKINDVALUE_SUCCESS
	je.Kind = &kind
	entry, _, err := c.ExtrasAPI.ExtrasJournalEntriesCreate(ctx).WritableJournalEntryRequest(*je).Execute()
	if err != nil {
		t.Fatalf("ExtrasJournalEntriesCreate: %v", err)
	}
	if entry.AssignedObjectId != d.ID || entry.Kind.GetValue() != "success" {
		t.Errorf("journal entry decoded as %d %v", entry.AssignedObjectId, entry.Kind.GetValue())
	}
	entries, _, err := c.ExtrasAPI.ExtrasJournalEntriesList(ctx).AssignedObjectId([]int32{int32(d.ID)}).Execute()
	if err != nil || entries.Count != 1 {
		t.Fatalf("ExtrasJournalEntriesList: %v (%v)", err, entries)
	}

	roles, _, err := c.DcimAPI.DcimDeviceRolesList(ctx).Slug([]string{"core-router", "server"}).Execute()
	if err != nil || roles.Count != 2 {
		t.Fatalf("DcimDeviceRolesList: %v (%v)", err, roles)
	}
	tags, _, err := c.ExtrasAPI.ExtrasTagsList(ctx).Limit(1000).Execute()
	if err != nil || int(tags.Count) != len(s.Catalog().Tags) {
		t.Fatalf("ExtrasTagsList: %v (%v)", err, tags)
	}
	// The new field is on devices, null until written.
	dev, _, err := c.DcimAPI.DcimDevicesRetrieve(ctx, int32(d.ID)).Execute()
	if err != nil {
		t.Fatal(err)
	}
	if v, ok := dev.CustomFields["wug_state"]; !ok || v != nil {
		t.Errorf("device custom_fields[wug_state] = %v, %v; want null", v, ok)
	}
}
