package wugtest_test

import (
	"net/url"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/wugsync/wugsync/wug/wugtest"
)

type attr struct {
	AttributeID string `json:"attributeId"`
	Name        string `json:"name"`
	Value       string `json:"value"`
	ID          string `json:"id"`
}

type attrList = page[[]attr]

func attrMap(a *api, id string) map[string]string {
	a.t.Helper()
	d, _ := a.srv.Device(id)
	return d.Attributes
}

func TestAttributesCRUD(t *testing.T) {
	t.Parallel()
	a, _ := newLenientAPI(t)
	id := a.srv.AddDevice(wugtest.Device{Name: "d"})
	base := "/devices/" + id + "/attributes/"
	var added struct{ Data attr }
	a.call("POST", base+"-?"+url.Values{"name": {"Location"}, "value": {"DC 1 & 2"}}.Encode(), nil, 200, &added)
	if added.Data.AttributeID == "" || added.Data.Name != "Location" || added.Data.Value != "DC 1 & 2" || added.Data.ID != added.Data.AttributeID {
		t.Fatalf("added %+v", added.Data)
	}
	aid := added.Data.AttributeID
	// Names are unique per device, case-insensitively.
	a.call("POST", base+"-?name=LOCATION&value=x", nil, 400, nil)
	a.call("POST", base+"-?value=x", nil, 400, nil)
	a.call("POST", base+"-?name="+strings.Repeat("n", 151), nil, 400, nil)

	var one struct{ Data attr }
	a.call("GET", base+aid, nil, 200, &one)
	if one.Data.Value != "DC 1 & 2" {
		t.Errorf("get %+v", one.Data)
	}
	a.call("PUT", base+aid+"?name=Location&value=DC3", nil, 200, nil)
	a.call("PUT", base+"999?value=x", nil, 404, nil)
	if diff := cmp.Diff(map[string]string{"Location": "DC3"}, attrMap(a, id)); diff != "" {
		t.Errorf("after PUT (-want +got):\n%s", diff)
	}
	a.call("DELETE", base+aid, nil, 200, nil)
	a.call("DELETE", base+aid, nil, 404, nil)
	a.call("GET", base+aid, nil, 404, nil)
	a.call("GET", "/devices/999/attributes/-", nil, 404, nil)
}

func TestAttributesListFilters(t *testing.T) {
	t.Parallel()
	a := newAPI(t, wugtest.WithPageLimit(2))
	id := a.srv.AddDevice(wugtest.Device{Name: "d", Attributes: map[string]string{
		"NB_Site": "dc1", "NB_Role": "leaf", "Contact": "ops@example.net", "Location": "DC1 row 4",
	}})
	names := func(q url.Values) []string {
		var out []string
		for {
			var l attrList
			a.call("GET", "/devices/"+id+"/attributes/-?"+q.Encode(), nil, 200, &l)
			for _, x := range l.Data {
				out = append(out, x.Name)
			}
			if l.Paging.NextPageID == "" {
				return out
			}
			q.Set("pageId", l.Paging.NextPageID)
		}
	}
	tests := []struct {
		name string
		q    url.Values
		want []string
	}{
		{"all, paged by 2", url.Values{}, []string{"Contact", "Location", "NB_Role", "NB_Site"}},
		{"names repeatable, case-insensitive", url.Values{"names": {"nb_site", "CONTACT"}}, []string{"Contact", "NB_Site"}},
		{"nameContains", url.Values{"nameContains": {"nb_"}}, []string{"NB_Role", "NB_Site"}},
		{"valueContains", url.Values{"valueContains": {"DC1"}}, []string{"Location", "NB_Site"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, names(tc.q)); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestAttributesDeleteFiltered(t *testing.T) {
	t.Parallel()
	a := newAPI(t)
	id := a.srv.AddDevice(wugtest.Device{Name: "d", Attributes: map[string]string{"a1": "x", "a2": "obsolete", "b": "y", "tmp_c": "z"}})
	var res struct{ Data counted }
	a.call("DELETE", "/devices/"+id+"/attributes/-?names=A1&nameContains=TMP_&valueContains=obso", nil, 200, &res)
	if res.Data.SuccessfulOperations != 3 {
		t.Errorf("deleted %d, want 3", res.Data.SuccessfulOperations)
	}
	if diff := cmp.Diff(map[string]string{"b": "y"}, attrMap(a, id)); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	a.call("DELETE", "/devices/"+id+"/attributes/-", nil, 200, &res)
	if len(attrMap(a, id)) != 0 {
		t.Error("DELETE without filters kept attributes")
	}
}

func TestAttributesBatchStepOrder(t *testing.T) {
	t.Parallel()
	a := newAPI(t)
	id := a.srv.AddDevice(wugtest.Device{Name: "d", Attributes: map[string]string{"Keep": "1", "OldKey": "2", "tmp_x": "3", "Val": "obsolete", "Owner": "Dev"}})
	var l attrList
	a.call("GET", "/devices/"+id+"/attributes/-", nil, 200, &l)
	ids := map[string]string{}
	for _, x := range l.Data {
		ids[x.Name] = x.AttributeID
	}
	batch := map[string]any{
		"attributesToDelete":             []string{ids["Keep"], "99999"},
		"attributeNamesToDelete":         []string{"oldkey"},
		"attributeNameContainsToDelete":  []string{"TMP_"},
		"attributeValueContainsToDelete": []string{"obsolete"},
		// Modify runs after the deletes: the deleted "Keep" is skipped.
		"attributeToModify": []any{map[string]any{"attributeId": ids["Owner"], "name": "Owner", "value": "Ops"}, map[string]any{"attributeId": ids["Keep"], "value": "gone"}},
		// Add runs last; adding a name already present updates it.
		"attributesToAdd": []any{map[string]any{"name": "NetBoxId", "value": "123"}, map[string]any{"name": "owner", "value": "NOC"}},
	}
	var res struct{ Data counted }
	a.call("PATCH", "/devices/"+id+"/attributes/-", batch, 200, &res)
	if diff := cmp.Diff(map[string]string{"Owner": "NOC", "NetBoxId": "123"}, attrMap(a, id)); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	if res.Data.SuccessfulOperations != 7 || !res.Data.Success {
		t.Errorf("result %+v, want 7 operations", res.Data)
	}
	a.call("PATCH", "/devices/"+id+"/attributes/-", map[string]any{"deleteAllAttributes": true, "attributesToAdd": []any{map[string]any{"name": "Only", "value": "1"}}}, 200, &res)
	if diff := cmp.Diff(map[string]string{"Only": "1"}, attrMap(a, id)); diff != "" {
		t.Errorf("deleteAll then add (-want +got):\n%s", diff)
	}
}

func TestAttributesBatchRejectsOverlong(t *testing.T) {
	t.Parallel()
	a := newAPI(t)
	id := a.srv.AddDevice(wugtest.Device{Name: "d"})
	a.call("PATCH", "/devices/"+id+"/attributes/-", map[string]any{"attributesToAdd": []any{map[string]any{"name": "k", "value": strings.Repeat("v", 3001)}}}, 400, nil)
	if len(attrMap(a, id)) != 0 {
		t.Error("a rejected batch changed attributes")
	}
}
