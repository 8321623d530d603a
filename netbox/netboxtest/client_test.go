package netboxtest_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/wugsync/wugsync/netbox"
	"github.com/wugsync/wugsync/netbox/netboxtest"
)

// TestClient streams the fake through wugsync's own NetBox client.
func TestClient(t *testing.T) {
	t.Parallel()
	s := netboxtest.NewServer(t, netboxtest.WithDevices(60), netboxtest.WithVirtualMachines(5))
	c := s.Client()
	ctx := context.Background()
	st, err := c.Status(ctx)
	if err != nil || st.Version != "4.3.0" || !st.Supported {
		t.Fatalf("Status: %+v, %v", st, err)
	}
	var got []int64
	for d, err := range c.Devices(ctx, netbox.Selector{Statuses: []string{netbox.AnyStatus}, IncludeVMs: true}) {
		if err != nil {
			t.Fatalf("Devices: %v", err)
		}
		if d.Kind == netbox.KindDevice {
			got = append(got, d.ID)
		}
	}
	var want []int64
	for _, d := range s.Devices() {
		want = append(want, d.ID)
	}
	slices.Sort(got)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("device ids (-want +got):\n%s", diff)
	}
}

// TestClientUndecodableDevice: against the opt-in undecodable device, the
// client reports that device (by id) and streams every other one, the
// custom status device included.
func TestClientUndecodableDevice(t *testing.T) {
	t.Parallel()
	s := netboxtest.NewServer(t, netboxtest.WithDevices(40), netboxtest.WithUndecodableDevice(), netboxtest.WithCustomStatus())
	bad := s.Quirky(netboxtest.QuirkUndecodable)[0]
	var errs []error
	n := 0
	for _, err := range s.Client().Devices(context.Background(), netbox.Selector{Statuses: []string{netbox.AnyStatus}}) {
		if err != nil {
			errs = append(errs, err)
			continue
		}
		n++
	}
	if len(errs) != 1 || !strings.Contains(errs[0].Error(), fmt.Sprint(bad.ID)) {
		t.Errorf("errors %v, want one naming device %d", errs, bad.ID)
	}
	if n != 39 {
		t.Errorf("%d devices streamed, want 39", n)
	}
}
