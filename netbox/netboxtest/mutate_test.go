package netboxtest_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	gonetbox "github.com/netbox-community/go-netbox/v4"

	"github.com/wugsync/wugsync/netbox/netboxtest"
)

func TestMutations(t *testing.T) {
	t.Parallel()
	clock := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	var mu sync.Mutex
	now := func() time.Time {
		mu.Lock()
		defer mu.Unlock()
		clock = clock.Add(time.Second)
		return clock
	}
	s := netboxtest.NewServer(t, netboxtest.WithDevices(30), netboxtest.WithClock(now))
	c := goNetBox(s)
	ctx := context.Background()

	d, err := s.CreateDevice(netboxtest.Device{Name: "lab-sw-01", Site: "lab1", Location: "lab1-room-1",
		Rack: "LAB1-R1", Position: 10, Role: "access-switch", Tenant: "acme", Platform: "eos", DeviceType: "dcs-7280r3",
		Tags: []string{"lab", "brand-new"}, CustomFields: map[string]any{"ssh_port": 2200, "owner": "netops"}})
	if err != nil {
		t.Fatal(err)
	}
	since := d.LastUpdated
	p, ids := list(t, s, "/api/dcim/devices/?tag=brand-new&tag=lab&cf_owner=netops&site=lab1")
	if p.Count != 1 || ids[0] != d.ID {
		t.Fatalf("new device not found by its tags, custom field and site: %v", ids)
	}
	got := all(t, s, "/api/dcim/devices/?ordering=id&last_updated__gte="+url.QueryEscape(since.Format(time.RFC3339Nano)))
	if diff := cmp.Diff([]int64{d.ID}, got); diff != "" {
		t.Errorf("last_updated__gte after create (-want +got):\n%s", diff)
	}

	ip4, err := s.CreateIP(netboxtest.IPAddress{DeviceID: d.ID, Interface: "Ethernet1",
		Address: netip.MustParsePrefix("10.250.0.10/24"), DNSName: "lab-sw-01.example.net", MakePrimary: true})
	if err != nil {
		t.Fatal(err)
	}
	ip6, err := s.CreateIP(netboxtest.IPAddress{DeviceID: d.ID, Interface: "Ethernet1",
		Address: netip.MustParsePrefix("2001:db8:250::10/64"), MakePrimary: true})
	if err != nil {
		t.Fatal(err)
	}
	dev, _, err := c.DcimAPI.DcimDevicesRetrieve(ctx, int32(d.ID)).Execute()
	if err != nil {
		t.Fatal(err)
	}
	if dev.PrimaryIp4.Get().GetAddress() != "10.250.0.10/24" || dev.PrimaryIp6.Get().GetAddress() != "2001:db8:250::10/64" ||
		dev.GetInterfaceCount() != 1 || dev.Position.Get() == nil || *dev.Position.Get() != 10 {
		t.Errorf("device after CreateIP: ip4 %v ip6 %v interfaces %d", dev.PrimaryIp4.Get(), dev.PrimaryIp6.Get(), dev.GetInterfaceCount())
	}
	if !dev.LastUpdated.Get().After(since) {
		t.Errorf("MakePrimary did not bump the device's last_updated")
	}
	ips, _, err := c.IpamAPI.IpamIpAddressesList(ctx).DeviceId([]int32{int32(d.ID)}).Execute()
	if err != nil || ips.Count != 2 {
		t.Fatalf("IPs of the new device: %v, %d", err, ips.GetCount())
	}

	before := dev.LastUpdated.Get()
	u, err := s.UpdateDevice(d.ID, func(d *netboxtest.Device) { d.Status = "planned"; d.Tags = []string{"lab"} })
	if err != nil {
		t.Fatal(err)
	}
	if !u.LastUpdated.After(*before) || !u.Created.Equal(d.Created) {
		t.Errorf("update stamps: created %v→%v, last_updated %v→%v", d.Created, u.Created, before, u.LastUpdated)
	}
	if _, ids := list(t, s, "/api/dcim/devices/?status=planned&tag=lab&site=lab1"); len(ids) != 1 {
		t.Errorf("updated device not found by status: %v", ids)
	}
	if _, ids := list(t, s, "/api/dcim/devices/?tag=brand-new"); len(ids) != 0 {
		t.Errorf("removed tag still matches: %v", ids)
	}

	ipu, err := s.UpdateIP(ip4.ID, func(ip *netboxtest.IPAddress) { ip.DNSName = "renamed.example.net" })
	if err != nil || !ipu.LastUpdated.After(ip4.LastUpdated) || ipu.DNSName != "renamed.example.net" {
		t.Errorf("UpdateIP: %v, %+v", err, ipu)
	}
	if err := s.DeleteIP(ip6.ID); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.Device(d.ID); got.PrimaryIP6 != 0 {
		t.Errorf("deleting the primary IPv6 left primary_ip6 = %d", got.PrimaryIP6)
	}

	if err := s.DeleteDevice(d.ID); err != nil {
		t.Fatal(err)
	}
	if status, _ := fetch(t, s, fmt.Sprintf("/api/dcim/devices/%d/", d.ID)); status != http.StatusNotFound {
		t.Errorf("deleted device: status %d", status)
	}
	if _, ids := list(t, s, fmt.Sprintf("/api/ipam/ip-addresses/?device_id=%d", d.ID)); len(ids) != 0 {
		t.Errorf("deleted device's IPs remain: %v", ids)
	}

	vm, err := s.CreateVirtualMachine(netboxtest.Device{Name: "vm-new", Cluster: "cl-new", Site: "lab1"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.CreateIP(netboxtest.IPAddress{VirtualMachineID: vm.ID, Address: netip.MustParsePrefix("10.251.0.5/24"), MakePrimary: true}); err != nil {
		t.Fatal(err)
	}
	v, _, err := c.VirtualizationAPI.VirtualizationVirtualMachinesRetrieve(ctx, int32(vm.ID)).Execute()
	if err != nil || v.PrimaryIp4.Get().GetAddress() != "10.251.0.5/24" || v.Cluster.Get().GetName() != "cl-new" {
		t.Errorf("new VM: %v, %+v", err, v)
	}
}

func TestMutationErrors(t *testing.T) {
	t.Parallel()
	s := netboxtest.NewServer(t)
	var withIP []netboxtest.Device
	for _, d := range s.Devices() {
		if d.PrimaryIP4 != 0 {
			withIP = append(withIP, d)
		}
	}
	if len(withIP) < 2 {
		t.Fatal("fewer than two generated devices have a primary IPv4")
	}
	one, other := withIP[0], withIP[1]
	for _, tc := range []struct {
		name string
		err  error
		want string
	}{
		{"update missing", func() error { _, err := s.UpdateDevice(9999, func(*netboxtest.Device) {}); return err }(), "not found"},
		{"delete missing", s.DeleteDevice(9999), "not found"},
		{"delete missing IP", s.DeleteIP(99999), "not found"},
		{"long name", func() error { _, err := s.CreateDevice(netboxtest.Device{Name: strings.Repeat("n", 65)}); return err }(), "longer than 64"},
		{"bad status", func() error { _, err := s.CreateDevice(netboxtest.Device{Name: "x", Status: "broken"}); return err }(), `unknown status "broken"`},
		{"VM without name", func() error { _, err := s.CreateVirtualMachine(netboxtest.Device{}); return err }(), "name is required"},
		{"foreign primary IP", func() error {
			_, err := s.UpdateDevice(one.ID, func(d *netboxtest.Device) { d.PrimaryIP4 = other.PrimaryIP4 })
			return err
		}(), "is not assigned to it"},
		{"IP on missing device", func() error {
			_, err := s.CreateIP(netboxtest.IPAddress{DeviceID: 9999, Address: netip.MustParsePrefix("10.0.0.1/24")})
			return err
		}(), "not found"},
		{"move a primary IP", func() error {
			_, err := s.UpdateIP(other.PrimaryIP4, func(ip *netboxtest.IPAddress) { ip.DeviceID = one.ID })
			return err
		}(), "unset that first"},
		{"bad custom field", func() error {
			_, err := s.CreateDevice(netboxtest.Device{Name: "y", CustomFields: map[string]any{"when": time.Now()}})
			return err
		}(), `custom field "when"`},
	} {
		if tc.err == nil || !strings.Contains(tc.err.Error(), tc.want) {
			t.Errorf("%s: error %v, want one containing %q", tc.name, tc.err, tc.want)
		}
	}
	_, err := s.UpdateDevice(9999, func(*netboxtest.Device) {})
	if !errors.Is(err, netboxtest.ErrNotFound) {
		t.Errorf("errors.Is(%v, ErrNotFound) = false", err)
	}

	// A rejected mutation leaves no new related objects behind.
	before := s.Catalog()
	if _, err := s.CreateDevice(netboxtest.Device{Name: "z", Site: "rollback-site", Tags: []string{"rollback-tag"},
		Location: "elsewhere", Rack: "R9", Position: 3, CustomFields: map[string]any{"bad": struct{}{}}}); err == nil {
		t.Fatal("a device with an unsupported custom field value was created")
	}
	if diff := cmp.Diff(before, s.Catalog()); diff != "" {
		t.Errorf("catalog changed by a rejected create (-before +after):\n%s", diff)
	}
	if _, err := s.CreateDevice(netboxtest.Device{Name: "p", Position: 4}); err == nil || !strings.Contains(err.Error(), "needs a rack") {
		t.Errorf("position without rack: %v", err)
	}
}

// hookSink records webhook deliveries and, like a real receiver might,
// reads from the fake while handling one.
type hookSink struct {
	mu     sync.Mutex
	bodies [][]byte
	sigs   []string
	fake   *netboxtest.Server
}

func (h *hookSink) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	if h.fake != nil {
		req, _ := http.NewRequest(http.MethodGet, h.fake.URL+"/api/status/", nil)
		req.Header.Set("Authorization", "Token "+h.fake.Token)
		if resp, err := h.fake.HTTPClient().Do(req); err == nil {
			resp.Body.Close()
		}
	}
	h.mu.Lock()
	h.bodies = append(h.bodies, b)
	h.sigs = append(h.sigs, r.Header.Get("X-Hook-Signature"))
	h.mu.Unlock()
	w.WriteHeader(http.StatusNoContent)
}

func TestWebhooks(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		version                   string
		model, objectType, reqKey bool
	}{
		{"4.3.0", true, false, false},
		{"4.4.2", true, true, false},
		{"4.5.0", false, true, false},
		{"4.6.0", false, true, true},
	} {
		t.Run(tc.version, func(t *testing.T) {
			t.Parallel()
			sink := &hookSink{}
			recv := httptest.NewServer(sink)
			defer recv.Close()
			s := netboxtest.NewServer(t, netboxtest.WithVersion(tc.version), netboxtest.WithWebhook(recv.URL, "s3cret"))
			sink.fake = s

			d, err := s.CreateDevice(netboxtest.Device{Name: "hook-dev", Status: "planned", Tags: []string{"monitored"}})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := s.UpdateDevice(d.ID, func(d *netboxtest.Device) { d.Status = "active" }); err != nil {
				t.Fatal(err)
			}
			if err := s.DeleteDevice(d.ID); err != nil {
				t.Fatal(err)
			}
			sink.mu.Lock()
			defer sink.mu.Unlock()
			if len(sink.bodies) != 3 {
				t.Fatalf("%d deliveries, want 3", len(sink.bodies))
			}
			for i, want := range []string{"created", "updated", "deleted"} {
				body := sink.bodies[i]
				if sink.sigs[i] != netboxtest.SignWebhook("s3cret", body) || len(sink.sigs[i]) != 128 {
					t.Errorf("%s: signature %q does not match the body", want, sink.sigs[i])
				}
				var msg struct {
					Event      string          `json:"event"`
					Timestamp  string          `json:"timestamp"`
					Model      *string         `json:"model"`
					ObjectType *string         `json:"object_type"`
					Username   string          `json:"username"`
					RequestID  string          `json:"request_id"`
					Request    json.RawMessage `json:"request"`
					Data       json.RawMessage `json:"data"`
					Snapshots  struct {
						Prechange  map[string]any `json:"prechange"`
						Postchange map[string]any `json:"postchange"`
					} `json:"snapshots"`
				}
				if err := json.Unmarshal(body, &msg); err != nil {
					t.Fatalf("%s: %v", want, err)
				}
				if msg.Event != want || (msg.Model != nil) != tc.model || (msg.ObjectType != nil) != tc.objectType ||
					(msg.Request != nil) != tc.reqKey || msg.Username == "" || len(msg.RequestID) != 36 {
					t.Errorf("%s: body keys wrong: %s", want, body)
				}
				if tc.model && *msg.Model != "device" || tc.objectType && *msg.ObjectType != "dcim.device" {
					t.Errorf("%s: model %v object_type %v", want, msg.Model, msg.ObjectType)
				}
				if _, err := time.Parse("2006-01-02T15:04:05.999999-07:00", msg.Timestamp); err != nil {
					t.Errorf("%s: timestamp %q: %v", want, msg.Timestamp, err)
				}
				var data gonetbox.DeviceWithConfigContext
				if err := json.Unmarshal(msg.Data, &data); err != nil {
					t.Errorf("%s: data does not decode as DeviceWithConfigContext: %v", want, err)
				}
				if data.Url != fmt.Sprintf("/api/dcim/devices/%d/", d.ID) || data.ConfigContext != nil {
					t.Errorf("%s: data url %q (want relative), config_context %v", want, data.Url, data.ConfigContext)
				}
				pre, post := msg.Snapshots.Prechange, msg.Snapshots.Postchange
				switch want {
				case "created":
					if pre != nil || post["status"] != "planned" {
						t.Errorf("created snapshots: %v / %v", pre, post)
					}
				case "updated":
					if pre["status"] != "planned" || post["status"] != "active" {
						t.Errorf("updated snapshots: %v / %v", pre["status"], post["status"])
					}
					if tags, _ := post["tags"].([]any); len(tags) != 1 || tags[0] != "monitored" {
						t.Errorf("snapshot tags %v", post["tags"])
					}
				case "deleted":
					if post != nil || pre["name"] != "hook-dev" || *data.Name.Get() != "hook-dev" {
						t.Errorf("deleted snapshots: %v / %v", pre, post)
					}
				}
			}
			ds := s.Deliveries()
			if len(ds) != 3 || ds[2].Status != http.StatusNoContent || ds[2].Event != "deleted" || ds[2].ID != d.ID {
				t.Errorf("Deliveries: %+v", ds)
			}
		})
	}
}

func TestWebhookNeedsLoopback(t *testing.T) {
	t.Parallel()
	if _, err := netboxtest.NewHandler(netboxtest.WithWebhook("http://192.0.2.1/hook", "")); err == nil {
		t.Error("a non-loopback webhook URL was accepted")
	}
	h, err := netboxtest.NewHandler()
	if err != nil {
		t.Fatal(err)
	}
	if err := h.SetWebhook("http://example.com/", "x"); err == nil {
		t.Error("SetWebhook accepted a non-loopback URL")
	}
}

func TestConcurrentReadsAndWrites(t *testing.T) {
	t.Parallel()
	s := netboxtest.NewServer(t, netboxtest.WithDevices(200))
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 20 {
				status, _ := fetch(t, s, fmt.Sprintf("/api/dcim/devices/?ordering=id&id__gt=%d&limit=20&status=active", i*w))
				if status != http.StatusOK {
					t.Errorf("status %d", status)
				}
			}
		}()
	}
	for i := range 20 {
		d, err := s.CreateDevice(netboxtest.Device{Name: fmt.Sprintf("c-%d", i)})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.UpdateDevice(d.ID, func(d *netboxtest.Device) { d.Status = "offline" }); err != nil {
			t.Fatal(err)
		}
	}
	wg.Wait()
	if p, _ := list(t, s, "/api/dcim/devices/?name__isw=c-&status=offline"); p.Count != 20 {
		t.Errorf("%d created devices found, want 20", p.Count)
	}
}
