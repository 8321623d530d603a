package wugtest_test

import (
	"net/url"
	"sort"
	"testing"
	"time"

	"github.com/wugsync/wugsync/wug/wugtest"
)

// TestEveryRouteConformsToContract drives every route the fake serves with
// a valid request, in every view, on a server that fails the test on any
// contract violation in a request or a response. It then checks that each
// route answered at least one 2xx, so no endpoint escapes the check.
func TestEveryRouteConformsToContract(t *testing.T) {
	t.Parallel()
	a := newAPI(t, wugtest.WithScanDelay(time.Hour), wugtest.WithPageLimit(2))
	a.srv.AddCredential("public-ro", "SNMP v2")
	a.srv.SetReachable("192.0.2.1")
	ids := a.srv.AddDevices(
		wugtest.Device{Name: "a", HostName: "a.lab", Address: "10.0.0.1", Groups: []string{"NetBox/Site A"}, Attributes: map[string]string{"k1": "v1", "k2": "v2", "k3": "v3"}, Role: "Switch"},
		wugtest.Device{Name: "b", Address: "10.0.0.2", Groups: []string{"NetBox/Site A"}, State: "Down"},
		wugtest.Device{Name: "c", Address: "10.0.0.3", Maintenance: true},
	)
	dev, dev2 := ids[0], ids[1]
	site := mustGroup(t, a, "NetBox/Site A")
	netbox := mustGroup(t, a, "NetBox")
	spare := a.srv.AddGroup("Spare")

	var tpl applyResult
	a.call("PATCH", "/devices/-/config/template", map[string]any{"options": []string{"all", "update"}, "templates": []any{
		template("full", "full", "10.0.0.9", func(m map[string]any) {
			m["deviceType"], m["snmpOid"], m["snmpPort"], m["pollInterval"] = "Switch", "1.3.6.1.4.1.9", "161", "60"
			m["primaryRole"], m["subRoles"], m["os"], m["brand"] = "Switch", []string{"Resource Monitors"}, "IOS", "Cisco"
			m["actionPolicy"], m["note"], m["autoRefresh"] = "Default", "n", "true"
			m["credentials"] = []any{map[string]any{"credentialType": "SNMP v2", "credential": "public-ro"}}
			m["attributes"] = []any{map[string]any{"name": "NetBoxId", "value": "1"}}
			m["customLinks"] = []any{map[string]any{"name": "Browse", "value": "http://%Device.UrlAddress/"}}
			m["activeMonitors"] = []any{map[string]any{"classId": "", "name": "Ping", "pollingInterval": "60", "isCritical": "true", "pollingOrder": "1"}}
			m["performanceMonitors"] = []any{map[string]any{"name": "CPU Utilization", "pollingInterval": "10"}}
			m["passiveMonitors"] = []any{map[string]any{"name": "Cold Start", "actions": []string{}}}
			m["dependencies"], m["ncmTasks"], m["applicationProfiles"], m["layer2Data"] = []any{}, []any{}, []any{}, ""
			m["groups"] = []any{map[string]any{"name": "Site B", "parents": []string{"My Network", "NetBox"}}}
		}),
		template("warn", "warn", "10.0.0.10", func(m map[string]any) { m["activeMonitors"] = []any{map[string]any{"name": "Nope"}} }),
		map[string]any{"templateId": "bad", "displayName": "bad"},
	}}, 200, &tpl)

	views := []string{"", "id", "basic", "card", "overview"}
	for _, v := range views {
		q := url.Values{}
		if v != "" {
			q.Set("view", v)
		}
		listAll(a, "0", q)
		a.call("GET", "/device-groups/"+site+"/devices?"+q.Encode(), nil, 200, nil)
		a.call("GET", "/devices/"+dev+"?"+q.Encode(), nil, 200, nil)
		a.call("GET", "/devices/"+dev2+"?"+q.Encode(), nil, 200, nil)
	}
	listAll(a, netbox, url.Values{"returnHierarchy": {"false"}, "state": {"Up"}, "search": {"a"}, "limit": {"1"}})
	a.call("GET", "/devices/"+dev+"/status", nil, 200, nil)
	a.call("GET", "/devices/"+dev+"/properties", nil, 200, nil)
	a.call("PUT", "/devices/"+dev+"/properties", map[string]any{"displayName": "a2", "isWireless": false, "collectWireless": false, "keepDetailsCurrent": true, "note": "x", "snmpOid": "1.3", "actionPolicy": map[string]any{"name": "p"}}, 200, nil)
	a.call("GET", "/devices/"+dev+"/properties", nil, 200, nil)
	a.call("PATCH", "/devices/-/properties", map[string]any{"devices": []string{dev, "999"}, "note": "y"}, 200, nil)
	a.call("PUT", "/devices/"+dev+"/poll-now", nil, 200, nil)
	a.call("PATCH", "/devices/-/poll-now", map[string]any{"devices": []string{dev}}, 200, nil)
	a.call("PUT", "/device-groups/"+netbox+"/poll-now?immediateChildren=false&search=a&limit=5", nil, 200, nil)
	a.call("PUT", "/devices/"+dev+"/config/maintenance", map[string]any{"enabled": true, "endUtc": "2030-01-01T00:00:00Z", "reason": "r"}, 200, nil)
	a.call("PATCH", "/devices/-/config/maintenance", map[string]any{"devices": []string{dev}, "enabled": false}, 200, nil)
	a.call("GET", "/devices/"+dev+"/config/template", nil, 200, nil)
	a.call("GET", "/devices/"+tpl.Data.IDMap[0].ResultID+"/config/template", nil, 200, nil)

	var ifs struct{ Data []netIface }
	a.call("GET", "/devices/"+dev+"/interfaces/-?search=10.0&limit=1", nil, 200, &ifs)
	a.call("GET", "/devices/"+dev+"/interfaces/default", nil, 200, nil)
	a.call("GET", "/devices/"+dev+"/interfaces/"+ifs.Data[0].InterfaceID, nil, 200, nil)
	a.call("PUT", "/devices/"+dev+"/interfaces/"+ifs.Data[0].InterfaceID, map[string]any{"hostName": "a.lab", "address": "10.0.0.11", "defaultInterface": true, "pollUsingName": false}, 200, nil)
	var addedIf struct{ Data netIface }
	a.call("POST", "/devices/"+dev+"/interfaces/-", map[string]any{"hostName": "a2.lab", "address": "192.0.2.11", "defaultInterface": false, "pollUsingName": false}, 200, &addedIf)
	a.call("PATCH", "/devices/"+dev+"/interfaces/-", map[string]any{
		"deleteAllInterfaces": false, "interfacesToDelete": []string{"999"}, "addressOrHostNameToDelete": []string{"zz"},
		"interfaceToModify": []any{map[string]any{"interfaceId": addedIf.Data.InterfaceID, "hostName": "a3.lab", "address": "192.0.2.12", "defaultInterface": false, "pollUsingName": true}},
		"interfacesToAdd":   []any{map[string]any{"hostName": "a4.lab", "address": "192.0.2.13", "defaultInterface": false, "pollUsingName": false}},
	}, 200, nil)
	a.call("DELETE", "/devices/"+dev+"/interfaces/"+addedIf.Data.InterfaceID, nil, 200, nil)
	a.call("DELETE", "/devices/"+dev+"/interfaces/-", nil, 200, nil)

	for _, k := range []string{"all", "role", "brand", "os", "subRole"} {
		a.call("GET", "/devices/"+dev+"/roles/-?kind="+k, nil, 200, nil)
	}
	a.call("PUT", "/devices/"+dev+"/roles/primary?primary=Router", nil, 200, nil)
	a.call("PUT", "/devices/"+dev+"/roles/os?osName=IOS", nil, 200, nil)
	a.call("PUT", "/devices/"+dev+"/roles/brand?brand=Cisco", nil, 200, nil)
	a.call("PATCH", "/devices/-/roles/primary", map[string]any{"devices": []string{dev, "999"}, "name": "Switch"}, 200, nil)
	a.call("PATCH", "/devices/-/roles/os", map[string]any{"devices": []string{dev}, "name": "IOS-XE"}, 200, nil)
	a.call("PATCH", "/devices/-/roles/brand", map[string]any{"devices": []string{dev}, "name": "Cisco"}, 200, nil)
	a.call("PATCH", "/devices/-/roles/sub-role", map[string]any{"devices": []string{dev}, "operation": "add", "subroles": []string{"Resource Monitors"}}, 200, nil)
	a.call("GET", "/devices/"+dev+"/roles/-", nil, 200, nil)

	var l attrList
	a.call("GET", "/devices/"+dev+"/attributes/-?names=k1&names=k2&nameContains=k&valueContains=v&limit=1", nil, 200, &l)
	a.call("GET", "/devices/"+dev+"/attributes/-?pageId="+l.Paging.NextPageID+"&names=k1&names=k2&nameContains=k&valueContains=v&limit=1", nil, 200, nil)
	var added struct{ Data attr }
	a.call("POST", "/devices/"+dev+"/attributes/-?name=new&value=1", nil, 200, &added)
	a.call("GET", "/devices/"+dev+"/attributes/"+added.Data.AttributeID, nil, 200, nil)
	a.call("PUT", "/devices/"+dev+"/attributes/"+added.Data.AttributeID+"?name=new&value=2", nil, 200, nil)
	a.call("PATCH", "/devices/"+dev+"/attributes/-", map[string]any{
		"deleteAllAttributes": false, "attributesToDelete": []string{"999"}, "attributeNamesToDelete": []string{"k3"},
		"attributeNameContainsToDelete": []string{"zz"}, "attributeValueContainsToDelete": []string{"zz"},
		"attributeToModify": []any{map[string]any{"attributeId": added.Data.AttributeID, "name": "new", "value": "3"}},
		"attributesToAdd":   []any{map[string]any{"name": "added", "value": "4"}},
	}, 200, nil)
	a.call("DELETE", "/devices/"+dev+"/attributes/"+added.Data.AttributeID, nil, 200, nil)
	a.call("DELETE", "/devices/"+dev+"/attributes/-?names=k1&nameContains=zz&valueContains=zz", nil, 200, nil)

	for _, v := range []string{"", "summary", "detail"} {
		q := url.Values{}
		if v != "" {
			q.Set("view", v)
		}
		a.call("GET", "/device-groups/-?"+q.Encode(), nil, 200, nil)
		a.call("GET", "/device-groups/0?"+q.Encode(), nil, 200, nil)
		a.call("GET", "/device-groups/"+site+"?"+q.Encode(), nil, 200, nil)
		a.call("GET", "/device-groups/"+netbox+"/children?returnHierarchy=true&"+q.Encode(), nil, 200, nil)
		a.call("GET", "/devices/"+dev+"/group/-?"+q.Encode(), nil, 200, nil)
	}
	a.call("GET", "/device-groups/-?search=site&groupType=static_group&limit=1", nil, 200, nil)
	a.call("GET", "/devices/"+dev+"/group/-?view=id&type=static_group", nil, 200, nil)
	a.call("GET", "/device-groups/"+netbox+"/status", nil, 200, nil)
	a.call("GET", "/device-groups/"+site+"/definition", nil, 200, nil)
	a.call("GET", "/device-groups/0/definition", nil, 200, nil)
	var child struct{ Data groupSum }
	a.call("POST", "/device-groups/"+netbox+"/child", map[string]any{"name": "Site C", "description": "d", "groupType": "static"}, 200, &child)
	var dyn struct{ Data groupSum }
	a.call("POST", "/device-groups/0/child", map[string]any{"name": "Dyn", "groupType": "dynamic", "dynamicDefinition": map[string]any{"filter": "1=1"}}, 200, &dyn)
	a.call("GET", "/device-groups/"+dyn.Data.ID+"/definition", nil, 200, nil)
	a.call("PUT", "/device-groups/"+child.Data.ID+"/definition", map[string]any{"name": "Site C2", "description": "d2", "parentGroupId": "0"}, 200, nil)
	a.call("POST", "/device-groups/"+spare+"/devices/-", map[string]any{"devices": []string{dev, dev2}}, 200, nil)
	a.call("DELETE", "/device-groups/"+spare+"/devices/-", map[string]any{"devices": []string{dev2}}, 200, nil)
	a.call("DELETE", "/device-groups/"+spare+"/devices/"+dev, nil, 200, nil)
	a.call("PUT", "/devices/"+dev+"/group/-", `"`+spare+`"`, 200, nil)
	a.call("PATCH", "/devices/"+dev+"/group/-", map[string]any{"groupsToAdd": []string{child.Data.ID}, "groupsToDelete": []string{spare}}, 200, nil)
	a.call("GET", "/devices/"+dev+"/group/"+child.Data.ID+"/is-member", nil, 200, nil)
	a.call("DELETE", "/devices/"+dev+"/group/"+child.Data.ID, nil, 200, nil)
	a.call("DELETE", "/device-groups/"+spare, nil, 200, nil)

	var scan scanStarted
	a.call("PUT", "/device-groups/0/newDevice?ipOrName=192.0.2.1", map[string]any{
		"forceAdd": false, "forceCreate": false, "forceRole": "", "preferSnmpSystemNameAsDisplayName": false,
		"resolveDNSHostNames": false, "snmpPortToUse": 0, "expandVirtualEnvironment": true, "expandWirelessEnvironment": true,
		"includeWirelessClients": true, "expandStorageEnvironment": true, "useAllCredentials": true, "credentials": []string{"public-ro"}, "setupAsPollByName": false,
	}, 200, &scan)
	running := scan.Data.ID
	a.call("PATCH", "/device-groups/"+site+"/newDevice", map[string]any{"ipOrNames": []string{"192.0.2.1", "192.0.2.2"}}, 200, &scan)
	a.call("PUT", "/devices/"+dev+"/refresh", map[string]any{"updateNamesForTableActiveMonitor": true, "updateEnableSettingsForTableActiveMonitor": false, "addUseInRescanActiveMonitor": true, "includeAssignedRoles": true, "resetOptions": []string{"default"}, "dropDataOlderThanHours": 1}, 200, nil)
	a.call("PATCH", "/devices/-/refresh", map[string]any{"deviceIds": []string{dev, dev2}, "resetOptions": []string{"attributes"}}, 200, nil)
	a.call("PUT", "/device-groups/"+netbox+"/refresh?immediateChildren=false&search=a&updateNamesForInterfaceActiveMonitor=true&updateEnableSettingsForInterfaceActiveMonitor=false&addUseInRescanActiveMonitors=true&limit=10&includeAssignedRoles=true&resetOptions=mac&resetOptions=os&dropDataOlderThanHours=2", nil, 200, nil)
	for _, q := range []string{"", "?activeOnly=false&model=all&search=scan&limit=1", "?model=refresh"} {
		a.call("GET", "/device-scan/-/status"+q, nil, 200, nil)
	}
	a.call("GET", "/device-scan/"+running+"/status", nil, 200, nil)
	a.call("GET", "/device-scan/"+running+"/devices", nil, 200, nil)
	a.call("PUT", "/device-scan/"+running+"/cancel", nil, 200, nil)
	a.srv.CompleteScans()
	for _, v := range views[1:] {
		a.call("GET", "/device-scan/"+scan.Data.ID+"/devices?search=192&limit=1&view="+v, nil, 200, nil)
	}
	a.call("GET", "/device-scan/"+scan.Data.ID+"/status", nil, 200, nil)
	a.call("GET", "/device-scan/"+running+"/status", nil, 200, nil)
	a.call("GET", "/device-scan/-/status?activeOnly=false", nil, 200, nil)
	a.call("PUT", "/device-scan/"+running+"/cancel", nil, 200, nil)
	a.call("GET", "/product/version", nil, 200, nil)
	a.call("GET", "/product/api", nil, 200, nil)
	a.call("GET", "/product/whoAmI", nil, 200, nil)
	a.call("GET", "/product/installationId", nil, 200, nil)
	a.call("GET", "/product/timezone", nil, 200, nil)
	a.call("DELETE", "/devices/"+dev2+"?deleteDiscoveredDevices=true", nil, 200, nil)
	a.call("PATCH", "/devices/-", map[string]any{"operation": "delete", "devices": []string{dev}}, 200, nil)

	ok := map[string]bool{}
	for _, r := range a.srv.Requests() {
		if r.Status >= 200 && r.Status < 300 {
			ok[r.Route] = true
		}
	}
	var missing []string
	for _, name := range wugtest.RouteNames(a.srv.Handler) {
		if !ok[name] && name != "GET /api/v1/errors/{errorType}" {
			missing = append(missing, name)
		}
	}
	sort.Strings(missing)
	if len(missing) > 0 {
		t.Errorf("routes never answered 2xx in this test: %q", missing)
	}
}
