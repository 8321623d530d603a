package wug

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"iter"
	"net/netip"
	"net/url"
	"strings"
)

// Interface is a device's network interface (WUG's NetworkInterface). The
// default interface is the one WUG polls; its address is the device's
// network address.
type Interface struct {
	ID               string `json:"interfaceId"`
	HostName         string `json:"hostName,omitempty"`
	Address          string `json:"address,omitempty"`
	DefaultInterface bool   `json:"defaultInterface,omitempty"`
	PollUsingName    bool   `json:"pollUsingName,omitempty"`
}

// UnmarshalJSON decodes an interface, accepting a numeric id and refusing
// one without an id.
func (i *Interface) UnmarshalJSON(b []byte) error {
	type wire Interface
	v := struct {
		*wire
		ID flexID `json:"interfaceId"`
	}{wire: (*wire)(i)}
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	if v.ID == "" {
		return errors.New(`network interface: no "interfaceId"`)
	}
	i.ID = string(v.ID)
	return nil
}

// InterfaceUpdate is the body of PUT /devices/{id}/interfaces/{interfaceId}
// (NetworkInterfaceUpdate). Empty fields are not sent and stay unchanged;
// DefaultInterface false changes nothing.
type InterfaceUpdate struct {
	HostName         string `json:"hostName,omitempty"`
	Address          string `json:"address,omitempty"`
	DefaultInterface bool   `json:"defaultInterface,omitempty"`
	PollUsingName    *bool  `json:"pollUsingName,omitempty"`
}

// Interfaces returns a device's network interfaces
// (GET /api/v1/devices/{deviceId}/interfaces/-), following pages; search,
// when set, is WUG's case-insensitive substring match on address and host
// name.
func (s *DevicesService) Interfaces(ctx context.Context, deviceID, search string) iter.Seq2[Interface, error] {
	q := url.Values{}
	if search != "" {
		q.Set("search", search)
	}
	return pager(ctx, s.c, "Devices.Interfaces", "/devices/"+escape(deviceID)+"/interfaces/-", q, arrayItems[Interface])
}

// DefaultInterface returns the interface WUG polls a device on
// (GET /api/v1/devices/{deviceId}/interfaces/default).
func (s *DevicesService) DefaultInterface(ctx context.Context, deviceID string) (*Interface, error) {
	return s.iface(ctx, "Devices.DefaultInterface", deviceID, "default")
}

// Interface returns one network interface
// (GET /api/v1/devices/{deviceId}/interfaces/{interfaceId}).
func (s *DevicesService) Interface(ctx context.Context, deviceID, interfaceID string) (*Interface, error) {
	return s.iface(ctx, "Devices.Interface", deviceID, escape(interfaceID))
}

func (s *DevicesService) iface(ctx context.Context, op, deviceID, seg string) (*Interface, error) {
	var in Interface
	if err := s.c.do(ctx, request{method: "GET", path: "/devices/" + escape(deviceID) + "/interfaces/" + seg}, &in, nil); err != nil {
		return nil, opErr(op, err)
	}
	return &in, nil
}

// UpdateInterface changes one network interface and returns it as WUG now
// holds it (PUT /api/v1/devices/{deviceId}/interfaces/{interfaceId}). A
// new address on the default interface re-addresses the device: WUG polls
// it there, and listings and searches show it. Address, when set, must be
// an IP address (an *InputError otherwise, and nothing is sent).
func (s *DevicesService) UpdateInterface(ctx context.Context, deviceID, interfaceID string, u InterfaceUpdate) (*Interface, error) {
	const op = "Devices.UpdateInterface"
	if u.Address != "" {
		if _, err := netip.ParseAddr(u.Address); err != nil {
			return nil, opErr(op, inputErr("address", "%q is not an IP address", u.Address))
		}
	}
	if u == (InterfaceUpdate{}) {
		return nil, opErr(op, inputErr("update", "nothing to change"))
	}
	var in Interface
	if err := s.c.do(ctx, request{method: "PUT", path: "/devices/" + escape(deviceID) + "/interfaces/" + escape(interfaceID), body: u}, &in, nil); err != nil {
		return nil, opErr(op, err)
	}
	return &in, nil
}

// Readdress moves a device to a new network address by changing the
// address of its default interface, so the device, its id, history and
// settings stay: one read of the default interface
// (GET /api/v1/devices/{deviceId}/interfaces/default) and, unless the
// address is already addr, one PUT /api/v1/devices/{deviceId}/interfaces/{interfaceId}.
// A host name that was the old address follows it; a real host name is
// kept. Callers that know the interface id can call UpdateInterface
// directly and save the read. It returns the interface as WUG holds it
// afterwards.
func (s *DevicesService) Readdress(ctx context.Context, deviceID, addr string) (*Interface, error) {
	const op = "Devices.Readdress"
	want, err := netip.ParseAddr(strings.TrimSpace(addr))
	if err != nil {
		return nil, opErr(op, inputErr("address", "%q is not an IP address", addr))
	}
	want = want.Unmap().WithZone("")
	cur, err := s.DefaultInterface(ctx, deviceID)
	if err != nil {
		return nil, opErr(op, err)
	}
	if old, err := netip.ParseAddr(cur.Address); err == nil && old.Unmap() == want {
		return cur, nil
	}
	u := InterfaceUpdate{Address: want.String()}
	if cur.HostName == "" || cur.HostName == cur.Address {
		u.HostName = u.Address
	}
	in, err := s.UpdateInterface(ctx, deviceID, cur.ID, u)
	if err != nil {
		return nil, opErr(op, err)
	}
	if got, err := netip.ParseAddr(in.Address); err != nil || got.Unmap() != want {
		return in, opErr(op, fmt.Errorf("interface %s answered address %q, want %s", in.ID, in.Address, want))
	}
	return in, nil
}
