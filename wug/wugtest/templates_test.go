package wugtest_test

import (
	"net/url"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/wugsync/wugsync/wug/wugtest"
)

func TestApplyTemplateAlwaysCreates(t *testing.T) {
	t.Parallel()
	a := newAPI(t)
	first := apply(a, template("nb-1", "web-01", "10.0.0.5"))
	second := apply(a, template("nb-1", "web-01", "10.0.0.5"))
	if len(first.Data.IDMap) != 1 || len(second.Data.IDMap) != 1 || first.Data.IDMap[0].ResultID == second.Data.IDMap[0].ResultID {
		t.Fatalf("idMaps %+v and %+v; want two distinct devices", first.Data.IDMap, second.Data.IDMap)
	}
	if got := a.srv.DevicesByAddress("10.0.0.5"); len(got) != 2 {
		t.Fatalf("devices at 10.0.0.5 = %d, want 2 (duplicates included)", len(got))
	}
	// A template read back from a device and applied again duplicates it.
	var rb struct {
		Data struct {
			Templates []map[string]any `json:"templates"`
		} `json:"data"`
	}
	a.call("GET", "/devices/"+first.Data.IDMap[0].ResultID+"/config/template", nil, 200, &rb)
	third := apply(a, rb.Data.Templates[0])
	if len(third.Data.IDMap) != 1 || len(a.srv.DevicesByAddress("10.0.0.5")) != 3 {
		t.Fatalf("re-applying a read-back template: %+v", third.Data)
	}
}

func TestApplyTemplateFullDevice(t *testing.T) {
	t.Parallel()
	a := newAPI(t)
	a.srv.AddCredential("public-ro", "SNMP v2")
	res := apply(a, template("t1", "sw-01", "10.9.0.1", func(m map[string]any) {
		m["primaryRole"] = "Switch"
		m["brand"] = "Cisco"
		m["os"] = "Cisco IOS"
		m["note"] = "added by sync"
		m["pollInterval"] = "60"
		m["credentials"] = []any{map[string]any{"credentialType": "SNMP v2", "credential": "public-ro"}}
		m["attributes"] = []any{map[string]any{"name": "NetBoxId", "value": "123"}, map[string]any{"name": "Site", "value": "A"}}
		m["activeMonitors"] = []any{map[string]any{"classId": "", "name": "Ping"}}
		m["groups"] = []any{map[string]any{"name": "Site A", "parents": []string{"My Network", "NetBox"}}}
	}))
	if len(res.Data.IDMap) != 1 || len(res.Data.Errors) != 0 || res.Data.Operations != 1 || res.Data.Successful != 1 {
		t.Fatalf("result = %+v", res.Data)
	}
	d, _ := a.srv.Device(res.Data.IDMap[0].ResultID)
	want := wugtest.Device{
		ID: res.Data.IDMap[0].ResultID, Name: "sw-01", HostName: "sw-01.example.net", Address: "10.9.0.1",
		Groups:     []string{"My Network/NetBox/Site A"},
		Attributes: map[string]string{"NetBoxId": "123", "Site": "A"},
		Role:       "Switch", Brand: "Cisco", OS: "Cisco IOS", Notes: "added by sync", State: "Up",
	}
	if diff := cmp.Diff(want, d); diff != "" {
		t.Errorf("device (-want +got):\n%s", diff)
	}
	// The same path again resolves to the existing groups.
	apply(a, template("t2", "sw-02", "10.9.0.2", func(m map[string]any) {
		m["groups"] = []any{map[string]any{"name": "site a", "parents": []string{"My Network", "NETBOX"}}}
	}))
	g, _ := a.srv.GroupByPath("My Network/NetBox/Site A")
	if g.Devices != 2 {
		t.Errorf("group %+v; want 2 devices", g)
	}
}

func TestApplyTemplateWarningsAndFailures(t *testing.T) {
	t.Parallel()
	a, _ := newLenientAPI(t)
	res := apply(a,
		template("warn", "w", "10.0.0.1", func(m map[string]any) {
			m["primaryRole"] = "Toaster"
			m["credentials"] = []any{map[string]any{"credentialType": "SNMP v2", "credential": "missing"}}
			m["activeMonitors"] = []any{map[string]any{"name": "Frobnicator"}}
		}),
		map[string]any{"templateId": "noif", "displayName": "x"},
		template("badip", "y", "10.0.0.300"),
		template("long", strings.Repeat("n", 151), "10.0.0.2"),
		template("attr", "z", "10.0.0.3", func(m map[string]any) {
			m["attributes"] = []any{map[string]any{"name": "k", "value": strings.Repeat("v", 3001)}}
		}),
		map[string]any{"displayName": "auto-id", "interfaces": []any{map[string]any{"networkAddress": "10.0.0.4"}}},
	)
	var created []string
	for _, m := range res.Data.IDMap {
		created = append(created, m.TemplateID)
	}
	if diff := cmp.Diff([]string{"warn", "6"}, created); diff != "" {
		t.Errorf("created templates (-want +got):\n%s", diff)
	}
	msgs := map[string]string{}
	for _, e := range res.Data.Errors {
		msgs[e.TemplateID] = strings.Join(e.Messages, "; ")
	}
	for id, want := range map[string]string{
		"warn":  "monitor \"Frobnicator\" not found",
		"noif":  "at least one interface",
		"badip": "not a valid IP",
		"long":  "limit is 150",
		"attr":  "exceeds 3000",
	} {
		if !strings.Contains(msgs[id], want) {
			t.Errorf("errors for %s = %q, want it to mention %q", id, msgs[id], want)
		}
	}
	if !strings.Contains(msgs["warn"], "Toaster") || !strings.Contains(msgs["warn"], "credential \"missing\"") {
		t.Errorf("warnings = %q", msgs["warn"])
	}
	if d, _ := a.srv.Device(res.Data.IDMap[0].ResultID); d.Role != "Device" {
		t.Errorf("unknown primary role: role %q, want fallback Device", d.Role)
	}
	if res.Data.Operations != 6 || res.Data.Successful != 2 {
		t.Errorf("operations/successful = %d/%d", res.Data.Operations, res.Data.Successful)
	}
}

func mustGroup(t *testing.T, a *api, path string) string {
	t.Helper()
	g, ok := a.srv.GroupByPath(path)
	if !ok {
		t.Fatalf("no group %q", path)
	}
	return g.ID
}

func TestApplyTemplateDefaultGroup(t *testing.T) {
	t.Parallel()
	a := newAPI(t)
	res := apply(a, template("a", "a", "10.0.0.1"))
	d, _ := a.srv.Device(res.Data.IDMap[0].ResultID)
	if diff := cmp.Diff([]string{"My Network/Discovered Devices"}, d.Groups); diff != "" {
		t.Errorf("without groups (-want +got):\n%s", diff)
	}
	dd := mustGroup(t, a, "My Network/Discovered Devices")
	// Leaving the last static group is refused.
	var c counted
	a.call("DELETE", "/device-groups/"+dd+"/devices/"+d.ID, nil, 200, &c)
	if len(c.ResourcesNotAllowed) != 1 || c.Success {
		t.Fatalf("leaving the last static group was allowed: %+v", c)
	}
	// Move the device to My Network, delete Discovered Devices: new devices
	// without groups then land in My Network.
	a.call("PUT", "/devices/"+d.ID+"/group/-", `"0"`, 200, nil)
	a.call("DELETE", "/devices/"+d.ID+"/group/"+dd, nil, 200, nil)
	a.call("DELETE", "/device-groups/"+dd, nil, 200, nil)
	res = apply(a, template("b", "b", "10.0.0.2"))
	d, _ = a.srv.Device(res.Data.IDMap[0].ResultID)
	if diff := cmp.Diff([]string{"My Network"}, d.Groups); diff != "" {
		t.Errorf("without Discovered Devices (-want +got):\n%s", diff)
	}
	// A group name without parents means the oldest group of that name.
	a.srv.AddGroup("My Network/X/Servers")
	a.srv.AddGroup("My Network/Y/Servers")
	res = apply(a, template("c", "c", "10.0.0.3", func(m map[string]any) {
		m["groups"] = []any{map[string]any{"name": "Servers"}}
	}))
	d, _ = a.srv.Device(res.Data.IDMap[0].ResultID)
	if diff := cmp.Diff([]string{"My Network/X/Servers"}, d.Groups); diff != "" {
		t.Errorf("name without parents (-want +got):\n%s", diff)
	}
}

func TestApplyTemplateCaseInsensitiveKeysAndLooseTypes(t *testing.T) {
	t.Parallel()
	a, rep := newLenientAPI(t)
	body := `{"Options":["all"],"TEMPLATES":[{"TemplateId":"k","DISPLAYNAME":"mixed","Interfaces":[{"DefaultInterface":"true","NetworkAddress":"10.7.0.1"}],"Attributes":[{"Name":"Owner","Value":"ops"}],"pollinterval":120}]}`
	var res applyResult
	a.call("PATCH", "/devices/-/config/template", body, 200, &res)
	if len(res.Data.IDMap) != 1 {
		t.Fatalf("result %+v", res.Data)
	}
	d, _ := a.srv.Device(res.Data.IDMap[0].ResultID)
	if d.Name != "mixed" || d.Address != "10.7.0.1" || d.Attributes["Owner"] != "ops" {
		t.Errorf("device = %+v", d)
	}
	if len(rep.all()) == 0 {
		t.Error("the contract check did not flag the non-camelCase keys")
	}
}

func TestApplyTemplateUpdateOptionStartsScan(t *testing.T) {
	t.Parallel()
	a := newAPI(t)
	var res applyResult
	a.call("PATCH", "/devices/-/config/template", map[string]any{"options": []string{"all", "update"}, "templates": []any{template("u", "u", "10.0.0.9")}}, 200, &res)
	if res.Data.Update == nil || res.Data.Update.ID == "" {
		t.Fatalf("no update scan in %+v", res.Data)
	}
	a.srv.CompleteScans()
	var devs struct {
		Data struct {
			Devices []devOverview `json:"devices"`
		} `json:"data"`
	}
	a.call("GET", "/device-scan/"+res.Data.Update.ID+"/devices", nil, 200, &devs)
	if len(devs.Data.Devices) != 1 || devs.Data.Devices[0].ID != res.Data.IDMap[0].ResultID {
		t.Errorf("scan devices = %+v", devs.Data.Devices)
	}
}

func TestApplyTemplateBadBody(t *testing.T) {
	t.Parallel()
	a, _ := newLenientAPI(t)
	a.call("PATCH", "/devices/-/config/template", `{"templates":`, 400, nil)
	a.call("PATCH", "/devices/-/config/template", nil, 400, nil)
	listed, _ := listAll(a, "0", url.Values{})
	if len(listed) != 0 {
		t.Errorf("devices after bad bodies: %d", len(listed))
	}
}

func TestLibraryControls(t *testing.T) {
	t.Parallel()
	a := newAPI(t)
	a.srv.AddRole("Load Balancer")
	a.srv.AddMonitor("active", "Custom Check")
	a.srv.AddMonitor("passive", "Syslog Match")
	a.srv.AddActionPolicy("Page Ops")
	a.srv.AddCredential("ssh-ops", "SSH")
	res := apply(a, template("lb", "lb-01", "10.5.0.1", func(m map[string]any) {
		m["primaryRole"] = "load balancer"
		m["actionPolicy"] = "Page Ops"
		m["activeMonitors"] = []any{map[string]any{"name": "custom check"}}
		m["passiveMonitors"] = []any{map[string]any{"name": "Syslog Match"}}
		m["credentials"] = []any{
			map[string]any{"credentialType": "SSH", "credential": "ssh-ops"},
			map[string]any{"credentialType": "SSH", "credential": "SSH-OPS"},
		}
	}))
	if len(res.Data.IDMap) != 1 || len(res.Data.Errors) != 1 || !strings.Contains(strings.Join(res.Data.Errors[0].Messages, ";"), "one credential per type") {
		t.Fatalf("result %+v", res.Data)
	}
	id := res.Data.IDMap[0].ResultID
	var props struct {
		Data struct {
			ActionPolicy struct{ Name string } `json:"actionPolicy"`
		}
	}
	a.call("GET", "/devices/"+id+"/properties", nil, 200, &props)
	if props.Data.ActionPolicy.Name != "Page Ops" {
		t.Errorf("action policy = %q", props.Data.ActionPolicy.Name)
	}
	if d, _ := a.srv.Device(id); d.Role != "load balancer" {
		t.Errorf("role = %q", d.Role)
	}
}
