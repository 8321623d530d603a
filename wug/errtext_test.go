package wug_test

import (
	"context"
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/jarcoal/httpmock"

	"github.com/wugsync/wugsync/wug"
)

// TestErrorTextsNameEachLayerOnce pins what a caller reads: "wug:" once,
// the operation once, then the request and the cause.
func TestErrorTextsNameEachLayerOnce(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		call func(*mockWUG, *wug.Client) error
		want string
	}{
		{"login refused under a list", func(_ *mockWUG, c *wug.Client) error {
			for _, err := range c.Devices.All(context.Background()) {
				return err
			}
			return nil
		}, `wug: Devices.List: GET ` + mockBase + `/api/v1/device-groups/0/devices/-?view=card: login as "api-user" refused (HTTP 400, invalid_grant): Invalid username/password or not allowed to sign on from this location.`},
		{"login refused by Login", func(_ *mockWUG, c *wug.Client) error { return c.Login(context.Background()) },
			`wug: login as "api-user" refused (HTTP 400, invalid_grant): Invalid username/password or not allowed to sign on from this location.`},
		{"API error", func(m *mockWUG, _ *wug.Client) error {
			m.handle("GET", "/devices/5", 404, `{"error":{"code":"NotFound","message":"no device 5"}}`)
			_, err := m.client(t).Devices.Get(context.Background(), "5")
			return err
		}, `wug: Devices.Get: GET ` + mockBase + `/api/v1/devices/5: 404 Not Found: NotFound: no device 5`},
		{"transport error", func(m *mockWUG, _ *wug.Client) error {
			m.mt.RegisterResponder("GET", mockBase+"/api/v1/devices/6", m.authed(httpmock.NewErrorResponder(errors.New("connection reset by peer"))))
			_, err := m.client(t, wug.WithRetry(wug.RetryPolicy{})).Devices.Get(context.Background(), "6")
			return err
		}, `wug: Devices.Get: GET ` + mockBase + `/api/v1/devices/6: connection reset by peer`},
		{"input error", func(_ *mockWUG, c *wug.Client) error {
			_, err := c.Devices.BulkAdd(context.Background(), []wug.DeviceTemplate{{DisplayName: "x"}})
			return err
		}, `wug: Devices.BulkAdd: invalid templates[0].interfaces: at least one interface is required`},
		{"template refused", func(m *mockWUG, _ *wug.Client) error {
			m.handle("PATCH", "/devices/-/config/template", 200, `{"data":{"idMap":[],"errors":[{"templateId":"t0","messages":["bad type"]}]}}`)
			_, err := m.client(t).Devices.AddDeviceByIP(context.Background(), "10.0.0.1", nil)
			return err
		}, `wug: Devices.AddDeviceByIP: template "t0" created no device: bad type`},
		{"helper", func(*mockWUG, *wug.Client) error {
			_, err := wug.ExpandRange("10.0.0.9-10.0.0.1", 10)
			return err
		}, `wug: ExpandRange: invalid range: "10.0.0.9-10.0.0.1" ends before it starts`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			m := newMockWUG(t)
			refused, err := wug.NewClient(mockBase, wug.WithCredentials(mockUser, "wrong"), wug.WithBaseTransport(m.mt), wug.WithRetry(fastRetry))
			if err != nil {
				t.Fatal(err)
			}
			err = tt.call(m, refused)
			if err == nil {
				t.Fatal("no error")
			}
			if diff := cmp.Diff(tt.want, err.Error()); diff != "" {
				t.Errorf("error text (-want +got):\n%s", diff)
			}
		})
	}
}
