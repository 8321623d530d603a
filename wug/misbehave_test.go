package wug_test

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/wugsync/wugsync/wug"
	"github.com/wugsync/wugsync/wug/wugtest"
)

// TestFakeMisbehaviour runs the client against each of the fake's
// misbehaving answers on the calls they matter for: a creating call whose
// answer is lost or late is sent once and its outcome is unknown although
// WUG created the device; a malformed answer is an error, never an empty
// value; numeric ids and the corrected spelling decode.
func TestFakeMisbehaviour(t *testing.T) {
	t.Parallel()
	const apply = "PATCH /api/v1/devices/-/config/template"
	const scan = "PATCH /api/v1/device-groups/{groupId}/newDevice"
	add := func(ctx context.Context, c *wug.Client) (string, error) {
		o, err := c.Devices.AddDeviceByIP(ctx, "10.9.0.1", nil)
		if o == nil {
			return "", err
		}
		return o.DeviceID, err
	}
	startScan := func(ctx context.Context, c *wug.Client) (string, error) {
		s, err := c.Scans.ScanIPs(ctx, "0", []string{"10.9.0.1"}, nil)
		if s == nil {
			return "", err
		}
		return s.ID, err
	}
	tests := []struct {
		name    string
		route   string
		opt     wug.Option // nil, or a client option the case needs
		mode    wugtest.Misbehavior
		call    func(context.Context, *wug.Client) (string, error)
		unknown bool // errors.Is ErrOutcomeUnknown
		failed  bool // an error at all
		devices int  // devices the fake holds afterwards
		scans   int  // scans the fake started
	}{
		{name: "apply then drop", route: apply, mode: wugtest.ApplyThenDrop, call: add, unknown: true, failed: true, devices: 1},
		{name: "apply then late", route: apply, mode: wugtest.ApplyThenLate, call: add, opt: wug.WithTimeout(300 * time.Millisecond), unknown: true, failed: true, devices: 1},
		{name: "apply error envelope", route: apply, mode: wugtest.ErrorEnvelope, call: add, unknown: true, failed: true},
		{name: "apply non-JSON", route: apply, mode: wugtest.NonJSON, call: add, unknown: true, failed: true},
		{name: "apply numeric ids", route: apply, mode: wugtest.NumericIDs, call: add, devices: 1},
		{name: "scan then drop", route: scan, mode: wugtest.ApplyThenDrop, call: startScan, unknown: true, failed: true, scans: 1},
		{name: "scan numeric ids", route: scan, mode: wugtest.NumericIDs, call: startScan, scans: 1},
		{name: "listing error envelope", route: "GET /api/v1/device-groups/{groupId}/devices/-", mode: wugtest.ErrorEnvelope, failed: true,
			call: func(ctx context.Context, c *wug.Client) (string, error) {
				_, err := c.Devices.FindByAddress(ctx, "10.9.0.1")
				return "", err
			}},
		{name: "get non-JSON", route: "GET /api/v1/devices/{deviceId}", mode: wugtest.NonJSON, failed: true,
			call: func(ctx context.Context, c *wug.Client) (string, error) {
				d, err := c.Devices.Get(ctx, "1")
				if d != nil {
					return d.ID, err
				}
				return "", err
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var opts []wug.Option
			if tt.opt != nil {
				opts = append(opts, tt.opt)
			}
			srv, c := fake(t, nil, opts...)
			srv.SetReachable("10.9.0.1")
			ctx := context.Background()
			if err := c.Login(ctx); err != nil {
				t.Fatal(err)
			}
			srv.MisbehaveNext(wugtest.Misbehave{Route: tt.route, Kind: tt.mode})
			id, err := tt.call(ctx, c)
			if (err != nil) != tt.failed || errors.Is(err, wug.ErrOutcomeUnknown) != tt.unknown {
				t.Errorf("err = %v; want failure %v, outcome unknown %v", err, tt.failed, tt.unknown)
			}
			if err != nil && !tt.unknown {
				var ae *wug.APIError
				if !errors.As(err, &ae) || ae.StatusCode != 200 || ae.Malformed == "" {
					t.Errorf("err = %v, want a malformed-answer *APIError", err)
				}
			}
			if srv.Count(tt.route) != 1 {
				t.Errorf("%d requests to %s, want 1", srv.Count(tt.route), tt.route)
			}
			if n := srv.DeviceCount(); n != tt.devices {
				t.Errorf("fake holds %d devices, want %d", n, tt.devices)
			}
			if n := len(srv.Scans()); n != tt.scans {
				t.Errorf("fake started %d scans, want %d", n, tt.scans)
			}
			if !tt.failed {
				if id == "" {
					t.Error("no id decoded")
				}
				if tt.route == apply {
					if _, ok := srv.Device(id); !ok {
						t.Errorf("decoded device id %q is not the fake's", id)
					}
				}
			}
		})
	}
}

// TestFakeCorrectedSpelling: a counted result that lists a failed device
// under "resourcesWithErrors" is a failure naming it.
func TestFakeCorrectedSpelling(t *testing.T) {
	t.Parallel()
	srv, c := fake(t, nil)
	ctx := context.Background()
	id := srv.AddDevice(wugtest.Device{Name: "a", Address: "10.9.1.1"})
	grp := srv.AddGroup("My Network/Spelling")
	srv.MisbehaveNext(wugtest.Misbehave{Route: "POST /api/v1/device-groups/{groupId}/devices/-", Kind: wugtest.CorrectedSpelling})
	res, err := c.Groups.AddDevices(ctx, grp, []string{id, "999999"})
	var re *wug.ResultError
	if !errors.As(err, &re) || !slices.Equal(re.Failed, []string{"999999"}) {
		t.Fatalf("AddDevices = %+v, %v; want a *ResultError naming the missing device", res, err)
	}
}
