package contract

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func mustLoad(t *testing.T) *Checker {
	t.Helper()
	c, err := Load()
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestEmbeddedSpecMatchesTestdata(t *testing.T) {
	t.Parallel()
	want, err := os.ReadFile("../../../testdata/wug-openapi-2026.0.json")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(want, Spec) {
		t.Error("the embedded contract differs from wug/testdata/wug-openapi-2026.0.json")
	}
}

func TestFind(t *testing.T) {
	t.Parallel()
	c := mustLoad(t)
	tests := []struct {
		method, path, wantOp string
		wantErr              error
	}{
		{"PATCH", "/api/v1/devices/-/config/template", "Device_ApplyTemplates", nil},
		{"GET", "/api/v1/devices/12/config/template", "Device_GetTemplate", nil},
		{"PATCH", "/api/v1/devices/-/refresh", "Device_BulkRefresh", nil},
		{"PUT", "/api/v1/devices/12/refresh", "Device_Refresh", nil},
		{"GET", "/api/v1/device-groups/0/devices/-", "DeviceGroup_SearchDevicesByGroup", nil},
		{"GET", "/api/v1/device-scan/-/status", "DeviceScan_ListStatus", nil},
		{"GET", "/api/v1/device-scan/abc/status", "DeviceScan_Status", nil},
		{"DELETE", "/api/v1/pollers/7", "Pollers_UpdatePoller_DELETE", nil},
		{"POST", "/api/v1/devices/12", "", ErrMethodNotAllowed},
		{"GET", "/api/v1/scan/network", "", ErrPathNotFound},
		{"POST", "/api/v1/token", "", ErrPathNotFound},
	}
	for _, tc := range tests {
		rt, err := c.Find(tc.method, tc.path)
		if err != tc.wantErr {
			t.Errorf("%s %s: err %v, want %v", tc.method, tc.path, err, tc.wantErr)
			continue
		}
		if err == nil && rt.OperationID != tc.wantOp {
			t.Errorf("%s %s: %s, want %s", tc.method, tc.path, rt.OperationID, tc.wantOp)
		}
	}
}

func TestCheckRequest(t *testing.T) {
	t.Parallel()
	c := mustLoad(t)
	tests := []struct {
		name, method, target, body string
		want                       []string // substrings, one per violation
	}{
		{"valid template", "PATCH", "/api/v1/devices/-/config/template", `{"options":["all"],"templates":[{"displayName":"a","interfaces":[{"networkAddress":"10.0.0.1","defaultInterface":true}]}]}`, nil},
		{"undeclared body property", "PATCH", "/api/v1/devices/-/config/template", `{"templates":[{"displayName":"a","pollIntervalSeconds":60}]}`, []string{`property "pollIntervalSeconds" is unsupported`}},
		{"wrong type", "PATCH", "/api/v1/devices/-/config/template", `{"templates":[{"displayName":"a","interfaces":[{"defaultInterface":"true"}]}]}`, []string{"must be a boolean"}},
		{"too long", "PATCH", "/api/v1/devices/-/config/template", `{"templates":[{"displayName":"` + strings.Repeat("x", 151) + `"}]}`, []string{"maximum string length"}},
		{"undeclared query", "GET", "/api/v1/device-groups/0/devices/-?serach=x", "", []string{`query parameter "serach" is not declared`}},
		{"bad enum", "GET", "/api/v1/device-groups/0/devices/-?view=full", "", []string{"allowed values"}},
		{"bad integer", "GET", "/api/v1/device-groups/0/devices/-?limit=ten", "", []string{"limit"}},
		{"repeatable names", "GET", "/api/v1/devices/1/attributes/-?names=a&names=b", "", nil},
		{"bare string body", "PUT", "/api/v1/devices/1/group/-", `"5"`, nil},
		{"object where string", "PUT", "/api/v1/devices/1/group/-", `{"groupId":"5"}`, []string{"must be a string"}},
		{"missing required body", "PUT", "/api/v1/devices/1/refresh", "", []string{"request body has an error"}},
		{"missing required query", "PUT", "/api/v1/device-groups/0/newDevice", `{}`, []string{`"ipOrName"`}},
		{"bulk newDevice needs ipOrNames", "PATCH", "/api/v1/device-groups/0/newDevice", `{}`, []string{"ipOrNames"}},
		{"no Authorization needed by the check", "GET", "/api/v1/product/version", "", nil},
		{"unknown route", "GET", "/api/v1/scan/network", "", []string{"no operation in the contract"}},
		{"token is exempt", "POST", "/api/v1/token", "grant_type=password", nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			req := httptest.NewRequest(tc.method, tc.target, nil)
			_, got := c.CheckRequest(req, []byte(tc.body))
			if len(got) != len(tc.want) {
				t.Fatalf("violations %q, want %d", got, len(tc.want))
			}
			for i, w := range tc.want {
				if !strings.Contains(got[i], w) {
					t.Errorf("violation %q lacks %q", got[i], w)
				}
			}
		})
	}
}

func TestCheckResponse(t *testing.T) {
	t.Parallel()
	c := mustLoad(t)
	h := http.Header{"Content-Type": {"application/json; charset=utf-8"}}
	tests := []struct {
		name, method, path string
		status             int
		body               string
		want               string
	}{
		{"valid page", "GET", "/api/v1/device-groups/0/devices/-", 200, `{"paging":{"size":1},"data":{"devices":[{"id":"1","name":"a","bestState":"Up"}]}}`, ""},
		{"undeclared property", "GET", "/api/v1/device-groups/0/devices/-", 200, `{"paging":{"size":0,"totalCount":0},"data":{"devices":[]}}`, `property "totalCount" is unsupported`},
		{"id not a string", "GET", "/api/v1/devices/1", 200, `{"data":{"id":1}}`, "must be a string"},
		{"bad enum", "GET", "/api/v1/devices/1/status", 200, `{"data":{"bestState":"Sideways"}}`, "allowed values"},
		{"null array", "PATCH", "/api/v1/devices/-/config/template", 200, `{"data":{"idMap":null}}`, "null"},
		{"typo kept", "POST", "/api/v1/device-groups/1/devices/-", 200, `{"successfulOperations":1,"resourcesWithErros":[]}`, ""},
		{"typo fixed is wrong", "POST", "/api/v1/device-groups/1/devices/-", 200, `{"resourcesWithErrors":[]}`, `"resourcesWithErrors" is unsupported`},
		{"bare string data", "GET", "/api/v1/product/whoAmI", 200, `{"data":"admin"}`, ""},
		{"errors are not declared", "GET", "/api/v1/devices/1", 404, `{"error":{"status":404}}`, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			req := httptest.NewRequest(tc.method, tc.path, nil)
			rt, err := c.Find(tc.method, tc.path)
			if err != nil {
				t.Fatal(err)
			}
			got := c.CheckResponse(req, rt, tc.status, h, []byte(tc.body))
			switch {
			case tc.want == "" && len(got) > 0:
				t.Errorf("violations %q, want none", got)
			case tc.want != "" && (len(got) != 1 || !strings.Contains(got[0], tc.want)):
				t.Errorf("violations %q, want one with %q", got, tc.want)
			}
		})
	}
}

func TestSchemaName(t *testing.T) {
	t.Parallel()
	got := []string{schemaName("PageResult[List[DeviceAttribute]]"), schemaName("Result[Dictionary[String,String]]"), schemaName("Plain.Name-1")}
	want := []string{"PageResult_List_DeviceAttribute__", "Result_Dictionary_String_String__", "Plain.Name-1"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}
