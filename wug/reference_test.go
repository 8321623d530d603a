package wug_test

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/wugsync/wugsync/wug"
)

// strictDecode decodes raw into out refusing unknown fields, unwrapping a
// {"paging":…, "data":…} envelope first when there is one.
func strictDecode(raw string, out any) error {
	var env map[string]json.RawMessage
	body := []byte(raw)
	if json.Unmarshal(body, &env) == nil {
		if data, ok := env["data"]; ok {
			if pg, ok := env["paging"]; ok {
				if err := strict(pg, &wug.Paging{}); err != nil {
					return err
				}
			}
			body = data
		}
	}
	return strict(body, out)
}

func strict(b []byte, out any) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	return dec.Decode(out)
}

// TestReferenceExamplesDecode decodes every JSON example of the WUG
// reference (wug-api.md: the fenced blocks and the inline samples that are
// valid JSON) into the client's types, refusing unknown fields.
func TestReferenceExamplesDecode(t *testing.T) {
	t.Parallel()
	type applyBatch struct {
		Options   []string             `json:"options"`
		Templates []wug.DeviceTemplate `json:"templates"`
	}
	type bulkDelete struct {
		Operation string   `json:"operation"`
		Devices   []string `json:"devices"`
	}
	type groupBatch struct {
		GroupsToAdd    []string `json:"groupsToAdd"`
		GroupsToDelete []string `json:"groupsToDelete"`
	}
	type devicePage struct {
		Devices []wug.Device `json:"devices"`
	}
	tests := []struct {
		name string
		json string
		into any
	}{
		{"§3.3 error", `{"error":{"status":400,"code":"ERRORTYPE","message":"ERRORMESSAGE"}}`, &struct {
			Error struct {
				Status  int    `json:"status"`
				Code    string `json:"code"`
				Message string `json:"message"`
			} `json:"error"`
		}{}},
		{"§4.1 device list", `{"paging":{"pageId":"…","nextPageId":"…","size":2},
 "data":{"devices":[{"id":"14","name":"core-sw1","description":"","hostName":"core-sw1.lab","networkAddress":"10.0.0.2",
   "role":"Switch","brand":"Cisco","os":"Cisco IOS","notes":"","bestState":"Up","worstState":"Down",
   "totalActiveMonitors":3,"totalActiveMonitorsDown":1,
   "downActiveMonitors":[{"id":"…","state":"Down","reason":"…","lastChangeUtc":"2024-01-01T00:00:00Z",
      "monitorTypeId":"…","monitorTypeName":"Ping","comment":"","enabled":true}]}]}}`, &devicePage{}},
		{"§4.2 device status", `{"data":{"bestState":"Up","worstState":"Up","lastChangeUtc":"…"}}`, &wug.DeviceStatus{}},
		{"§4.3 properties", `{"data":{"id":"14","displayName":"core-sw1","isWireless":false,"collectWireless":false,"keepDetailsCurrent":true,
         "note":"…","snmpOid":"1.3.6.1.4.1.9.1.1227","actionPolicy":{"id":"…","name":"…","description":"…"}}}`, &struct {
			wug.DeviceProperties
			ActionPolicy *struct {
				ID          string `json:"id"`
				Name        string `json:"name"`
				Description string `json:"description"`
			} `json:"actionPolicy"`
		}{}},
		{"§4.3 PUT result", `{"data":{"success":true}}`, &wug.SuccessResult{}},
		{"§3.1 bare success", `{"success": true}`, &wug.SuccessResult{}},
		{"§4.4 bulk delete body", `{"operation":"delete","devices":["101","102"]}`, &bulkDelete{}},
		{"§4.5 refresh result", `{"data":{"id":"<scanId>","name":"…","description":"…","success":true}}`, &wug.ScanStarted{}},
		{"§4.5 empty refresh options", `{}`, &wug.RefreshOptions{}},
		{"§5.A template batch", `{
  "options": ["all"],
  "templates": [{
    "templateId": "nb-10.0.0.5",
    "displayName": "web-01",
    "deviceType": "Workstation",
    "snmpOid": "", "snmpPort": "161", "pollInterval": "60",
    "primaryRole": "Device", "subRoles": ["Resource Attributes","Resource Monitors"],
    "os": "Not Set", "brand": "Not Set",
    "actionPolicy": "", "note": "added by sync", "autoRefresh": "true",
    "credentials": [{"credentialType": "SNMP v2", "credential": "public-ro"}],
    "interfaces": [{"defaultInterface": true, "pollUsingNetworkName": false,
                    "networkAddress": "10.0.0.5", "networkName": "web-01.example.com"}],
    "attributes": [{"name": "NetBoxId", "value": "123"}],
    "customLinks": [{"name": "Browse", "value": "http://%Device.UrlAddress/"}],
    "activeMonitors": [{"classId": "", "name": "Ping"}],
    "performanceMonitors": [{"classId": "", "name": "CPU Utilization", "pollingInterval": "10"}],
    "passiveMonitors": [{"classId": "", "name": "Cold Start", "actions": []}],
    "dependencies": [], "ncmTasks": [], "applicationProfiles": [],
    "layer2Data": "",
    "groups": [{"name": "Servers", "parents": ["My Network", "Datacenter A"]}]
  }]
}`, &applyBatch{}},
		{"§5.A apply results", `{"data":{
  "idMap":[{"templateId":"nb-10.0.0.5","resultId":"6433"}],
  "errors":[{"templateId":"nb-10.0.0.5","messages":["…warning or error text…"]}],
  "update":{"success":true,"id":"<scanId>","name":"…","description":"…"},
  "operations":1, "successful":1}}`, &wug.ApplyTemplateResults{}},
		{"§5.A group read-back", `{"parents":["My Network"],"name":"Discovered Devices"}`, &wug.TemplateGroup{}},
		{"§6 attribute", `{"attributeId":"28852","name":"Location","value":"DC1","discovered":"","id":"…"}`, &wug.Attribute{}},
		{"§6 attribute batch", `{"deleteAllAttributes":false,
 "attributesToDelete":["28852"],
 "attributeNamesToDelete":["OldKey"],
 "attributeNameContainsToDelete":["tmp_"],
 "attributeValueContainsToDelete":["obsolete"],
 "attributeToModify":[{"attributeId":"28853","name":"Owner","value":"Ops"}],
 "attributesToAdd":[{"name":"NetBoxId","value":"123"}]}`, &wug.AttributeBatch{}},
		{"§7 members body", `{"devices":["12","13"]}`, &wug.BulkDevices{}},
		{"§7 membership batch", `{"groupsToAdd":["5"],"groupsToDelete":["3"]}`, &groupBatch{}},
		{"§7 group summary", `{"id":"12","parentGroupId":"0","name":"Servers","description":"…","details":{"groupType":"…","monitorState":"…","childrenCount":0,"deviceChildrenCount":4,"deviceDescendantCount":4}}`, &wug.Group{}},
		{"§9 whoAmI", `{"data":"<user name string>"}`, new(string)},
		{"§9 installation id", `{"data":"<string>"}`, new(string)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if err := strictDecode(tt.json, tt.into); err != nil {
				t.Fatalf("decode: %v", err)
			}
			// Round trip: encoding the decoded value gives the sample back,
			// apart from empty values the types omit.
			again, err := json.Marshal(tt.into)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(pruned(t, payload(tt.json)), pruned(t, again)); diff != "" {
				t.Errorf("round trip (-sample +encoded):\n%s", diff)
			}
		})
	}
}

// payload returns the data of an envelope, or the sample itself.
func payload(raw string) []byte {
	var env map[string]json.RawMessage
	if json.Unmarshal([]byte(raw), &env) == nil {
		if data, ok := env["data"]; ok {
			return data
		}
	}
	return []byte(raw)
}

// pruned decodes b generically and drops empty values (false, 0, "", [],
// {}, null), which the client's types leave out when encoding.
func pruned(t *testing.T, b []byte) any {
	t.Helper()
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatal(err)
	}
	var prune func(any) any
	prune = func(v any) any {
		switch x := v.(type) {
		case map[string]any:
			out := map[string]any{}
			for k, e := range x {
				if e = prune(e); e != nil {
					out[k] = e
				}
			}
			if len(out) == 0 {
				return nil
			}
			return out
		case []any:
			var out []any
			for _, e := range x {
				if e = prune(e); e != nil {
					out = append(out, e)
				}
			}
			if len(out) == 0 {
				return nil
			}
			return out
		case bool:
			if !x {
				return nil
			}
		case float64:
			if x == 0 {
				return nil
			}
		case string:
			if x == "" {
				return nil
			}
		}
		return v
	}
	return prune(v)
}

// TestReferenceGroupCreationBody: the reference shows a description in the
// group creation body, but the 2026.0 schema (DeviceGroupCreation) has no
// such field, so NewGroup leaves it out and the client never sends it.
func TestReferenceGroupCreationBody(t *testing.T) {
	t.Parallel()
	var g wug.NewGroup
	if err := json.Unmarshal([]byte(`{"name":"Servers","description":"…","groupType":"static"}`), &g); err != nil {
		t.Fatal(err)
	}
	if g.Name != "Servers" || g.GroupType != "static" {
		t.Errorf("NewGroup = %+v", g)
	}
}

func TestTimeDecoding(t *testing.T) {
	t.Parallel()
	tests := map[string]string{
		`"2024-01-01T00:00:00Z"`:        "2024-01-01T00:00:00Z",
		`"2024-01-01T02:00:00+02:00"`:   "2024-01-01T00:00:00Z",
		`"2024-01-01T00:00:00"`:         "2024-01-01T00:00:00Z",
		`"2024-01-01T00:00:00.1234567"`: "2024-01-01T00:00:00.1234567Z",
	}
	for in, want := range tests {
		var tm wug.Time
		if err := json.Unmarshal([]byte(in), &tm); err != nil {
			t.Fatal(err)
		}
		if got := tm.Format("2006-01-02T15:04:05.9999999Z07:00"); got != want {
			t.Errorf("%s decoded to %s, want %s", in, got, want)
		}
	}
	var tm wug.Time
	if err := json.Unmarshal([]byte(`"…"`), &tm); err != nil || !tm.Time.IsZero() || tm.Raw != "…" {
		t.Errorf("placeholder: %+v, %v", tm, err)
	}
}
