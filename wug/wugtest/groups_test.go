package wugtest_test

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/wugsync/wugsync/wug/wugtest"
)

type groupList = page[struct {
	ParentGroupID string     `json:"parentGroupId"`
	Groups        []groupSum `json:"groups"`
}]

func TestGroupsListFlatWithParents(t *testing.T) {
	t.Parallel()
	a := newAPI(t)
	a.srv.AddGroup("My Network/NetBox/Site A")
	var gl groupList
	a.call("GET", "/device-groups/-", nil, 200, &gl)
	type row struct{ ID, Parent, Name string }
	var got []row
	for _, g := range gl.Data.Groups {
		got = append(got, row{g.ID, g.ParentGroupID, g.Name})
	}
	want := []row{{"0", "", "My Network"}, {"1", "0", "Discovered Devices"}, {"2", "0", "NetBox"}, {"3", "2", "Site A"}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	a.call("GET", "/device-groups/-?search=site&limit=1", nil, 200, &gl)
	if len(gl.Data.Groups) != 1 || gl.Data.Groups[0].Name != "Site A" || gl.Paging.NextPageID != "" {
		t.Errorf("search: %+v", gl)
	}
	a.call("GET", "/device-groups/-?limit=1", nil, 200, &gl)
	if gl.Paging.NextPageID == "" || gl.Paging.Size != 1 {
		t.Errorf("paging: %+v", gl.Paging)
	}
	a.call("GET", "/device-groups/-?groupType=dynamic_group", nil, 200, &gl)
	if len(gl.Data.Groups) != 0 {
		t.Errorf("dynamic groups: %+v", gl.Data.Groups)
	}
}

func TestGroupCreateGetChildrenDefinitionDelete(t *testing.T) {
	t.Parallel()
	a, _ := newLenientAPI(t)
	var created struct{ Data groupSum }
	a.call("POST", "/device-groups/0/child", map[string]any{"name": "NetBox", "description": "synced", "groupType": "static"}, 200, &created)
	nb := created.Data.ID
	if created.Data.ParentGroupID != "0" || created.Data.Name != "NetBox" {
		t.Fatalf("created %+v", created.Data)
	}
	// Names are unique under a parent, case-insensitively; required.
	a.call("POST", "/device-groups/0/child", map[string]any{"name": "netbox"}, 400, nil)
	a.call("POST", "/device-groups/0/child", map[string]any{"description": "no name"}, 400, nil)
	a.call("POST", "/device-groups/999/child", map[string]any{"name": "x"}, 404, nil)
	a.call("POST", "/device-groups/"+nb+"/child", map[string]any{"name": "Site A"}, 200, &created)
	site := created.Data.ID
	a.call("POST", "/device-groups/"+site+"/child", map[string]any{"name": "Rack 1"}, 200, nil)

	var one struct{ Data groupSum }
	a.call("GET", "/device-groups/"+nb+"?view=detail", nil, 200, &one)
	if one.Data.Details == nil || one.Data.Details.ChildrenCount != 1 || one.Data.Details.GroupType != "static" {
		t.Errorf("detail = %+v", one.Data)
	}
	var ch groupList
	a.call("GET", "/device-groups/"+nb+"/children", nil, 200, &ch)
	if ch.Data.ParentGroupID != nb || len(ch.Data.Groups) != 1 {
		t.Errorf("children = %+v", ch.Data)
	}
	a.call("GET", "/device-groups/"+nb+"/children?returnHierarchy=true", nil, 200, &ch)
	if len(ch.Data.Groups) != 2 {
		t.Errorf("descendants = %+v", ch.Data)
	}

	// Rename and move Site A under My Network.
	a.call("PUT", "/device-groups/"+site+"/definition", map[string]any{"name": "Site A1", "parentGroupId": "0"}, 200, nil)
	var def struct {
		Data struct{ ID, Name, ParentGroupID, GroupType string }
	}
	a.call("GET", "/device-groups/"+site+"/definition", nil, 200, &def)
	if def.Data.Name != "Site A1" || def.Data.ParentGroupID != "0" || def.Data.GroupType != "static" {
		t.Errorf("definition = %+v", def.Data)
	}
	if _, ok := a.srv.GroupByPath("My Network/Site A1/Rack 1"); !ok {
		t.Error("moved subtree not found by path")
	}
	a.call("PUT", "/device-groups/"+site+"/definition", map[string]any{"parentGroupId": mustGroup(t, a, "Site A1/Rack 1")}, 400, nil)
	a.call("PUT", "/device-groups/"+site+"/definition", map[string]any{"name": "netbox"}, 400, nil)

	// Delete only when empty.
	a.call("DELETE", "/device-groups/"+site, nil, 400, nil)
	a.call("DELETE", "/device-groups/0", nil, 400, nil)
	id := a.srv.AddDevice(wugtest.Device{Name: "d", Groups: []string{"My Network/NetBox"}})
	a.call("DELETE", "/device-groups/"+nb, nil, 400, nil)
	a.call("DELETE", "/devices/"+id, nil, 200, nil)
	var ok struct{ Success bool }
	a.call("DELETE", "/device-groups/"+nb, nil, 200, &ok)
	if !ok.Success {
		t.Error("delete of empty group: success false")
	}
	a.call("GET", "/device-groups/"+nb, nil, 404, nil)
}

func TestGroupStatus(t *testing.T) {
	t.Parallel()
	a := newAPI(t)
	a.srv.AddDevices(wugtest.Device{Name: "a", Groups: []string{"G"}}, wugtest.Device{Name: "b", State: "Down", Groups: []string{"G/H"}})
	var st struct {
		Data struct {
			TotalDevices   int `json:"totalDevices"`
			StateSummaries []struct {
				State       string
				DeviceCount int
			} `json:"stateSummaries"`
		}
	}
	a.call("GET", "/device-groups/"+mustGroup(t, a, "G")+"/status", nil, 200, &st)
	if st.Data.TotalDevices != 2 || len(st.Data.StateSummaries) != 2 {
		t.Errorf("status = %+v", st.Data)
	}
}

func TestMembershipBothSides(t *testing.T) {
	t.Parallel()
	a, _ := newLenientAPI(t)
	id := a.srv.AddDevice(wugtest.Device{Name: "d", Groups: []string{"A"}})
	ga, gb, gc := mustGroup(t, a, "A"), a.srv.AddGroup("B"), a.srv.AddGroup("C")

	var c counted
	a.call("POST", "/device-groups/"+gb+"/devices/-", map[string]any{"devices": []string{id, "404"}}, 200, &c)
	if c.SuccessfulOperations != 1 || !cmp.Equal(c.ResourcesWithErros, []string{"404"}) {
		t.Errorf("group add = %+v", c)
	}
	// PUT with the bare JSON string body.
	a.call("PUT", "/devices/"+id+"/group/-", `"`+gc+`"`, 200, nil)
	a.call("PUT", "/devices/"+id+"/group/-", map[string]any{"groupId": gc}, 400, nil)
	a.call("PUT", "/devices/"+id+"/group/-", `"999"`, 404, nil)
	a.call("PUT", "/devices/"+id+"/group/-", gc, 200, nil) // a bare number works too

	var groups page[[]groupSum]
	a.call("GET", "/devices/"+id+"/group/-", nil, 200, &groups)
	var names []string
	for _, g := range groups.Data {
		names = append(names, g.Name)
	}
	if diff := cmp.Diff([]string{"A", "B", "C"}, names); diff != "" {
		t.Errorf("device groups (-want +got):\n%s", diff)
	}
	var member struct{ Success bool }
	a.call("GET", "/devices/"+id+"/group/"+gb+"/is-member", nil, 200, &member)
	if !member.Success {
		t.Error("is-member B = false")
	}

	// PATCH: deletes first, then adds.
	var res struct{ Data counted }
	a.call("PATCH", "/devices/"+id+"/group/-", map[string]any{"groupsToDelete": []string{ga, gb}, "groupsToAdd": []string{ga}}, 200, &res)
	if res.Data.SuccessfulOperations != 3 {
		t.Errorf("patch = %+v", res.Data)
	}
	d, _ := a.srv.Device(id)
	if diff := cmp.Diff([]string{"My Network/A", "My Network/C"}, d.Groups); diff != "" {
		t.Errorf("after patch (-want +got):\n%s", diff)
	}
	a.call("DELETE", "/device-groups/"+gc+"/devices/-", map[string]any{"devices": []string{id}}, 200, &c)
	if c.SuccessfulOperations != 1 {
		t.Errorf("group remove = %+v", c)
	}
	// The last static group cannot be left, from either side.
	a.call("DELETE", "/devices/"+id+"/group/"+ga, nil, 400, nil)
	a.call("DELETE", "/device-groups/"+ga+"/devices/"+id, nil, 200, &c)
	if len(c.ResourcesNotAllowed) != 1 {
		t.Errorf("remove last group = %+v", c)
	}
	a.call("PATCH", "/devices/"+id+"/group/-", map[string]any{"groupsToDelete": []string{ga}}, 200, &res)
	if len(res.Data.ResourcesNotAllowed) != 1 {
		t.Errorf("patch away last group = %+v", res.Data)
	}
	if d, _ := a.srv.Device(id); len(d.Groups) != 1 {
		t.Errorf("device groups = %v", d.Groups)
	}
	// An unknown group is reported by its id; the others still change.
	var unknown struct{ Data counted }
	a.call("PATCH", "/devices/"+id+"/group/-", map[string]any{"groupsToAdd": []string{"999", gb}}, 200, &unknown)
	want := counted{SuccessfulOperations: 1, ResourcesNotAllowed: []string{}, ResourcesWithErros: []string{"999"}, Errors: []string{"device group 999 not found"}}
	if diff := cmp.Diff(want, unknown.Data); diff != "" {
		t.Errorf("patch with an unknown group (-want +got):\n%s", diff)
	}
	// Dynamic groups do not take static members.
	var dyn struct{ Data groupSum }
	a.call("POST", "/device-groups/0/child", map[string]any{"name": "Dyn", "groupType": "dynamic", "dynamicDefinition": map[string]any{"filter": "1=1"}}, 200, &dyn)
	a.call("PUT", "/devices/"+id+"/group/-", `"`+dyn.Data.ID+`"`, 400, nil)
}
