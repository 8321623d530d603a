package wug_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/jarcoal/httpmock"

	"github.com/wugsync/wugsync/wug"
)

// decoderCase is one client operation and the answers that exercise its
// decoder: good is the promised shape, wrong a payload of the wrong type.
type decoderCase struct {
	name         string
	method, path string // path below /api/v1, a regular expression
	bare         bool   // the contract sends the result without "data"
	good, wrong  string
	call         func(context.Context, *wug.Client) error
}

func drain[T any](seq func(func(T, error) bool)) error {
	var first error
	seq(func(_ T, err error) bool {
		first = err
		return err == nil
	})
	return first
}

var decoderCases = []decoderCase{
	{name: "Devices.List", method: "GET", path: `/device-groups/0/devices/-`,
		good:  `{"paging":{"size":1},"data":{"devices":[{"id":"1","networkAddress":"10.0.0.1"}]}}`,
		wrong: `{"paging":{"size":1},"data":{"devices":{"id":"1"}}}`,
		call:  func(ctx context.Context, c *wug.Client) error { return drain(c.Devices.All(ctx)) }},
	{name: "Devices.Get", method: "GET", path: `/devices/1`,
		good: `{"data":{"id":"1","name":"core"}}`, wrong: `{"data":[{"id":"1"}]}`,
		call: func(ctx context.Context, c *wug.Client) error { _, err := c.Devices.Get(ctx, "1"); return err }},
	{name: "Devices.Status", method: "GET", path: `/devices/1/status`,
		good: `{"data":{"bestState":"Up","worstState":"Up"}}`, wrong: `{"data":"Up"}`,
		call: func(ctx context.Context, c *wug.Client) error { _, err := c.Devices.Status(ctx, "1"); return err }},
	{name: "Devices.Properties", method: "GET", path: `/devices/1/properties`,
		good: `{"data":{"id":"1","displayName":"core"}}`, wrong: `{"data":["core"]}`,
		call: func(ctx context.Context, c *wug.Client) error { _, err := c.Devices.Properties(ctx, "1"); return err }},
	{name: "Devices.UpdateProperties", method: "PUT", path: `/devices/1/properties`, bare: true,
		good: `{"data":{"success":true}}`, wrong: `{"data":{"success":"yes"}}`,
		call: func(ctx context.Context, c *wug.Client) error {
			n := "core"
			return c.Devices.UpdateProperties(ctx, "1", wug.PropertiesUpdate{DisplayName: &n})
		}},
	{name: "Devices.DeleteMany", method: "PATCH", path: `/devices/-`, bare: true,
		good: `{"data":{"successfulOperations":1,"success":true}}`, wrong: `{"data":{"successfulOperations":"one"}}`,
		call: func(ctx context.Context, c *wug.Client) error {
			_, err := c.Devices.DeleteMany(ctx, []string{"1"})
			return err
		}},
	{name: "Devices.Refresh", method: "PUT", path: `/devices/1/refresh`,
		good: `{"data":{"id":"s1","success":true}}`, wrong: `{"data":{"id":"s1","success":"true"}}`,
		call: func(ctx context.Context, c *wug.Client) error { _, err := c.Devices.Refresh(ctx, "1", nil); return err }},
	{name: "Devices.Groups", method: "GET", path: `/devices/1/group/-`,
		good: `{"paging":{"size":1},"data":[{"id":"0","name":"My Network"}]}`, wrong: `{"paging":{"size":1},"data":{"groups":[]}}`,
		call: func(ctx context.Context, c *wug.Client) error { return drain(c.Devices.Groups(ctx, "1")) }},
	{name: "Devices.BulkAdd", method: "PATCH", path: `/devices/-/config/template`,
		good: `{"data":{"idMap":[{"templateId":"t0","resultId":"7"}]}}`, wrong: `{"data":{"idMap":{"templateId":"t0","resultId":"7"}}}`,
		call: func(ctx context.Context, c *wug.Client) error {
			_, err := c.Devices.AddDeviceByIP(ctx, "10.0.0.1", nil)
			return err
		}},
	{name: "Attributes.List", method: "GET", path: `/devices/1/attributes/-`,
		good: `{"paging":{"size":1},"data":[{"attributeId":"a1","name":"k","value":"v"}]}`, wrong: `{"paging":{"size":1},"data":{"name":"k"}}`,
		call: func(ctx context.Context, c *wug.Client) error { return drain(c.Attributes.List(ctx, "1", nil)) }},
	{name: "Attributes.Batch", method: "PATCH", path: `/devices/1/attributes/-`, bare: true,
		good: `{"data":{"successfulOperations":1,"success":true}}`, wrong: `{"data":["ok"]}`,
		call: func(ctx context.Context, c *wug.Client) error {
			_, err := c.Attributes.Batch(ctx, "1", wug.AttributeBatch{AttributesToAdd: []wug.NameValue{{Name: "k", Value: "v"}}})
			return err
		}},
	{name: "Groups.List", method: "GET", path: `/device-groups/-`,
		good: `{"paging":{"size":1},"data":{"groups":[{"id":"0","name":"My Network"}]}}`, wrong: `{"paging":{"size":1},"data":{"groups":"My Network"}}`,
		call: func(ctx context.Context, c *wug.Client) error { _, err := c.Groups.List(ctx); return err }},
	{name: "Groups.Get", method: "GET", path: `/device-groups/5`,
		good: `{"data":{"id":"5","name":"Servers"}}`, wrong: `{"data":"Servers"}`,
		call: func(ctx context.Context, c *wug.Client) error { _, err := c.Groups.Get(ctx, "5"); return err }},
	{name: "Groups.CreateChild", method: "POST", path: `/device-groups/0/child`,
		good: `{"data":{"id":"6","name":"Servers"}}`, wrong: `{"data":[6]}`,
		call: func(ctx context.Context, c *wug.Client) error {
			_, err := c.Groups.CreateChild(ctx, "0", "Servers")
			return err
		}},
	{name: "Groups.Status", method: "GET", path: `/device-groups/5/status`,
		good: `{"data":{"id":"5","totalDevices":2}}`, wrong: `{"data":{"totalDevices":"two"}}`,
		call: func(ctx context.Context, c *wug.Client) error { _, err := c.Groups.Status(ctx, "5"); return err }},
	{name: "Groups.AddDevices", method: "POST", path: `/device-groups/5/devices/-`, bare: true,
		good: `{"successfulOperations":1,"resourcesWithErros":[],"success":true}`, wrong: `{"successfulOperations":1,"success":true,"resourcesNotAllowed":"7"}`,
		call: func(ctx context.Context, c *wug.Client) error {
			_, err := c.Groups.AddDevices(ctx, "5", []string{"7"})
			return err
		}},
	{name: "Groups.Delete", method: "DELETE", path: `/device-groups/5`, bare: true,
		good: `{"success":true}`, wrong: `{"success":1}`,
		call: func(ctx context.Context, c *wug.Client) error { return c.Groups.Delete(ctx, "5") }},
	{name: "Scans.ScanIPs", method: "PATCH", path: `/device-groups/0/newDevice`,
		good: `{"data":{"id":"s1","success":true}}`, wrong: `{"data":["s1"]}`,
		call: func(ctx context.Context, c *wug.Client) error {
			_, err := c.Scans.ScanIPs(ctx, "0", []string{"10.0.0.1"}, nil)
			return err
		}},
	{name: "Scans.Status", method: "GET", path: `/device-scan/s1/status`,
		good: `{"data":{"id":"s1","progress":50}}`, wrong: `{"data":{"id":"s1","progress":"half"}}`,
		call: func(ctx context.Context, c *wug.Client) error { _, err := c.Scans.Status(ctx, "s1"); return err }},
	{name: "Scans.Results", method: "GET", path: `/device-scan/s1/devices`,
		good: `{"paging":{"size":1},"data":{"id":"s1","devices":[{"id":"1"}]}}`, wrong: `{"paging":{"size":1},"data":{"id":"s1","devices":"1"}}`,
		call: func(ctx context.Context, c *wug.Client) error { return drain(c.Scans.Results(ctx, "s1")) }},
	{name: "Scans.Active", method: "GET", path: `/device-scan/-/status`,
		good: `{"paging":{"size":1},"data":[{"id":"s1","progress":100}]}`, wrong: `{"paging":{"size":1},"data":{"scans":[]}}`,
		call: func(ctx context.Context, c *wug.Client) error { return drain(c.Scans.Active(ctx, nil)) }},
	{name: "Scans.Cancel", method: "PUT", path: `/device-scan/s1/cancel`, bare: true,
		good: `{"success":true}`, wrong: `{"success":"true"}`,
		call: func(ctx context.Context, c *wug.Client) error { return c.Scans.Cancel(ctx, "s1") }},
	{name: "Product.Version", method: "GET", path: `/product/version`,
		good: `{"data":{"values":[{"name":"Version","value":"2026.0"}]}}`, wrong: `{"data":{"values":{"name":"Version"}}}`,
		call: func(ctx context.Context, c *wug.Client) error { _, err := c.Product.Version(ctx); return err }},
	{name: "Product.WhoAmI", method: "GET", path: `/product/whoAmI`,
		good: `{"data":"api-user"}`, wrong: `{"data":{"name":"api-user"}}`,
		call: func(ctx context.Context, c *wug.Client) error { _, err := c.Product.WhoAmI(ctx); return err }},
}

// TestStrictEnvelopes sends every decoder each bad shape and checks the
// error carries the status and WUG's message, never an empty value; the
// promised shape still decodes.
func TestStrictEnvelopes(t *testing.T) {
	t.Parallel()
	type shape struct {
		name      string
		status    int
		body      string
		malformed string // part of APIError.Malformed; empty for a non-2xx answer
		message   string // WUG's message the error must carry
	}
	shapes := func(dc decoderCase) []shape {
		out := []shape{
			{"error envelope at 200", 200, `{"error":{"code":"E1","message":"internal error"}}`, `"error" envelope`, "internal error"},
			{"errors envelope at 200", 200, `{"errors":[{"code":"E2","message":"database down"}]}`, `"errors" envelope`, "database down"},
			{"errors strings at 200", 200, `{"errors":["database down"]}`, `"errors" envelope`, "database down"},
			{"error envelope beside data", 200, `{"data":{},"error":{"message":"partial"}}`, `"error" envelope`, "partial"},
			{"error envelope at 500", 500, `{"error":{"message":"internal error"}}`, "", "internal error"},
			{"not JSON", 200, `internal error`, "not JSON", "internal error"},
			{"HTML", 200, `<html><body>Service Unavailable</body></html>`, "not JSON", "Service Unavailable"},
			{"JSON but not an object", 200, `["x"]`, "not a JSON object", ""},
			{"empty body", 200, ``, "empty answer", ""},
			{"wrong payload type", 200, dc.wrong, "not the promised", ""},
		}
		if dc.bare {
			out = append(out, shape{"no result keys", 200, `{}`, `no "success`, ""})
		} else {
			out = append(out,
				shape{"missing data", 200, `{"paging":{"size":0}}`, `no "data"`, ""},
				shape{"null data", 200, `{"data":null}`, `no "data"`, ""})
		}
		return out
	}
	for _, dc := range decoderCases {
		for _, sh := range append(shapes(dc), shape{name: "good"}) {
			t.Run(dc.name+"/"+sh.name, func(t *testing.T) {
				t.Parallel()
				m := newMockWUG(t)
				status, body := sh.status, sh.body
				if sh.name == "good" {
					status, body = 200, dc.good
				}
				m.mt.RegisterResponder(dc.method, `=~^`+mockBase+`/api/v1`+dc.path+`(\?.*)?$`, m.authed(func(*http.Request) (*http.Response, error) {
					r := httpmock.NewStringResponse(status, body)
					r.Header.Set("Content-Type", "application/json")
					return r, nil
				}))
				c := m.client(t, wug.WithRetry(wug.RetryPolicy{}))
				err := dc.call(context.Background(), c)
				if sh.name == "good" {
					if err != nil {
						t.Fatalf("promised shape refused: %v", err)
					}
					return
				}
				var ae *wug.APIError
				if !errors.As(err, &ae) {
					t.Fatalf("err = %v, want an *APIError", err)
				}
				if ae.StatusCode != sh.status || !strings.Contains(ae.Malformed, sh.malformed) || (sh.malformed == "") != (ae.Malformed == "") {
					t.Errorf("status %d, malformed %q; want %d, %q", ae.StatusCode, ae.Malformed, sh.status, sh.malformed)
				}
				if !strings.Contains(ae.Message, sh.message) || !strings.Contains(err.Error(), sh.message) {
					t.Errorf("err = %v (message %q), want WUG's message %q", err, ae.Message, sh.message)
				}
			})
		}
	}
}

// TestStrictResults pins how counted and started results are read:
// success:false fails whatever the counts, both spellings of the errors
// list are read, and ids may be numbers.
func TestStrictResults(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, body string
		want       *wug.CountedResult
		failed     bool
	}{
		{"success false with counts", `{"successfulOperations":3,"success":false}`,
			&wug.CountedResult{SuccessfulOperations: 3}, true},
		{"contract spelling", `{"successfulOperations":1,"resourcesWithErros":["8"],"success":true}`,
			&wug.CountedResult{SuccessfulOperations: 1, ResourcesWithErrors: []string{"8"}, Success: true}, true},
		{"corrected spelling", `{"successfulOperations":1,"resourcesWithErrors":["8"],"success":true}`,
			&wug.CountedResult{SuccessfulOperations: 1, ResourcesWithErrors: []string{"8"}, Success: true}, true},
		{"both spellings and numeric ids", `{"successfulOperations":0,"resourcesWithErros":[8],"resourcesWithErrors":[9],"resourcesNotAllowed":[10],"success":true}`,
			&wug.CountedResult{ResourcesWithErrors: []string{"8", "9"}, ResourcesNotAllowed: []string{"10"}, Success: true}, true},
		{"own errors list", `{"successfulOperations":1,"errors":["group 5 is dynamic"],"success":true}`,
			&wug.CountedResult{SuccessfulOperations: 1, Errors: []string{"group 5 is dynamic"}, Success: true}, true},
		{"no success, positive count", `{"successfulOperations":2}`,
			&wug.CountedResult{SuccessfulOperations: 2, Success: true}, false},
		{"no success, zero count", `{"successfulOperations":0}`,
			&wug.CountedResult{}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			m := newMockWUG(t)
			m.handle("POST", "/device-groups/5/devices/-", 200, tt.body)
			got, err := m.client(t).Groups.AddDevices(context.Background(), "5", []string{"7", "8"})
			if failed := errors.Is(err, wug.ErrOperationFailed); failed != tt.failed {
				t.Errorf("err = %v, want failure %v", err, tt.failed)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("result (-want +got):\n%s", diff)
			}
		})
	}
}

// TestNumericIDs checks that ids sent as JSON numbers decode as strings,
// including a template apply's resultId, which WUG sends after it created
// the device.
func TestNumericIDs(t *testing.T) {
	t.Parallel()
	m := newMockWUG(t)
	m.handle("PATCH", "/devices/-/config/template", 200, `{"data":{"idMap":[{"templateId":"t0","resultId":6433}],"errors":[{"templateId":"t0","messages":["credential not found"]}]}}`)
	m.handle("GET", "/devices/6433", 200, `{"data":{"id":6433,"name":"web-01","downActiveMonitors":[{"id":12,"monitorTypeId":3}]}}`)
	m.handle("GET", "/device-groups/-", 200, `{"paging":{"size":2,"nextPageId":""},"data":{"groups":[{"id":0,"name":"My Network"},{"id":5,"parentGroupId":0,"name":"Servers"}]}}`)
	m.handle("PATCH", "/device-groups/0/newDevice", 200, `{"data":{"id":42,"success":true}}`)
	c := m.client(t)
	ctx := context.Background()
	out, err := c.Devices.AddDeviceByIP(ctx, "10.0.0.5", nil)
	if err != nil || out.DeviceID != "6433" {
		t.Fatalf("AddDeviceByIP = %+v, %v; want device 6433", out, err)
	}
	d, err := c.Devices.Get(ctx, "6433")
	if err != nil {
		t.Fatal(err)
	}
	want := &wug.Device{ID: "6433", Name: "web-01", DownActiveMonitors: []wug.MonitorStatus{{ID: "12", MonitorTypeID: "3"}}}
	if diff := cmp.Diff(want, d); diff != "" {
		t.Errorf("device (-want +got):\n%s", diff)
	}
	groups, err := c.Groups.List(ctx)
	if err != nil || len(groups) != 2 || groups[1].Path != "My Network/Servers" {
		t.Errorf("groups = %+v, %v", groups, err)
	}
	st, err := c.Scans.ScanIPs(ctx, "0", []string{"10.0.0.6"}, nil)
	if err != nil || st.ID != "42" {
		t.Errorf("scan = %+v, %v", st, err)
	}
}

// TestMissingIDsRefused: a listed or returned object without its id is a
// malformed answer, not an object with an empty id.
func TestMissingIDsRefused(t *testing.T) {
	t.Parallel()
	tests := []decoderCase{
		{name: "device without id", method: "GET", path: "/devices/1", good: `{"data":{"name":"core"}}`,
			call: func(ctx context.Context, c *wug.Client) error { _, err := c.Devices.Get(ctx, "1"); return err }},
		{name: "listed device without id", method: "GET", path: "/device-groups/0/devices/-", good: `{"paging":{"size":1},"data":{"devices":[{"id":"1"},{"name":"x"}]}}`,
			call: func(ctx context.Context, c *wug.Client) error { return drain(c.Devices.All(ctx)) }},
		{name: "group without id", method: "POST", path: "/device-groups/0/child", good: `{"data":{"name":"Servers"}}`,
			call: func(ctx context.Context, c *wug.Client) error {
				_, err := c.Groups.CreateChild(ctx, "0", "Servers")
				return err
			}},
		{name: "idMap without resultId", method: "PATCH", path: "/devices/-/config/template", good: `{"data":{"idMap":[{"templateId":"t0"}]}}`,
			call: func(ctx context.Context, c *wug.Client) error {
				_, err := c.Devices.AddDeviceByIP(ctx, "10.0.0.1", nil)
				return err
			}},
		{name: "apply results without idMap or errors", method: "PATCH", path: "/devices/-/config/template", good: `{"data":{"operations":1}}`,
			call: func(ctx context.Context, c *wug.Client) error {
				_, err := c.Devices.AddDeviceByIP(ctx, "10.0.0.1", nil)
				return err
			}},
		{name: "scan started without id", method: "PATCH", path: "/device-groups/0/newDevice", good: `{"data":{"success":true}}`,
			call: func(ctx context.Context, c *wug.Client) error {
				_, err := c.Scans.ScanIPs(ctx, "0", []string{"10.0.0.1"}, nil)
				return err
			}},
		{name: "attribute without id", method: "GET", path: "/devices/1/attributes/-", good: `{"paging":{"size":1},"data":[{"name":"k","value":"v"}]}`,
			call: func(ctx context.Context, c *wug.Client) error { return drain(c.Attributes.List(ctx, "1", nil)) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			m := newMockWUG(t)
			m.handle(tt.method, tt.path, 200, tt.good)
			err := tt.call(context.Background(), m.client(t))
			var ae *wug.APIError
			if !errors.As(err, &ae) || ae.StatusCode != 200 || ae.Malformed == "" {
				t.Errorf("err = %v, want a malformed-answer *APIError", err)
			}
		})
	}
}
