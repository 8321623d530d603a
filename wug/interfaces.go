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

// InterfaceData is a network interface to add (WUG's NetworkInterfaceData).
// Address is required and must be an IP address.
type InterfaceData struct {
	HostName         string `json:"hostName,omitempty"`
	Address          string `json:"address"`
	DefaultInterface bool   `json:"defaultInterface,omitempty"`
	PollUsingName    bool   `json:"pollUsingName,omitempty"`
}

// InterfaceModify changes one interface in an InterfaceBatch
// (NetworkInterfaceUpdateWithId).
type InterfaceModify struct {
	InterfaceID string `json:"interfaceId"`
	InterfaceUpdate
}

// InterfaceBatch is the body of PATCH /devices/{id}/interfaces/-
// (BulkNetworkInterfaceBatch). WUG runs the steps in field order; the
// default interface is never deleted, and a device keeps exactly one.
type InterfaceBatch struct {
	DeleteAllInterfaces       bool              `json:"deleteAllInterfaces,omitempty"`
	InterfacesToDelete        []string          `json:"interfacesToDelete,omitempty"`
	AddressOrHostNameToDelete []string          `json:"addressOrHostNameToDelete,omitempty"`
	InterfaceToModify         []InterfaceModify `json:"interfaceToModify,omitempty"`
	InterfacesToAdd           []InterfaceData   `json:"interfacesToAdd,omitempty"`
}

// AddInterface adds a network interface to a device
// (POST /api/v1/devices/{deviceId}/interfaces/-) and returns it.
func (s *DevicesService) AddInterface(ctx context.Context, deviceID string, in InterfaceData) (*Interface, error) {
	const op = "Devices.AddInterface"
	if _, err := netip.ParseAddr(in.Address); err != nil {
		return nil, opErr(op, inputErr("address", "%q is not an IP address", in.Address))
	}
	var out Interface
	if err := s.c.do(ctx, request{method: "POST", path: "/devices/" + escape(deviceID) + "/interfaces/-", body: in}, &out, nil); err != nil {
		return nil, opErr(op, err)
	}
	return &out, nil
}

// DeleteInterface removes a network interface other than the default one
// (DELETE /api/v1/devices/{deviceId}/interfaces/{interfaceId}).
func (s *DevicesService) DeleteInterface(ctx context.Context, deviceID, interfaceID string) error {
	return s.c.checked(ctx, "Devices.DeleteInterface", request{method: "DELETE", path: "/devices/" + escape(deviceID) + "/interfaces/" + escape(interfaceID)}, new(SuccessResult))
}

// DeleteOtherInterfaces removes every network interface of a device but the
// default one (DELETE /api/v1/devices/{deviceId}/interfaces/-).
func (s *DevicesService) DeleteOtherInterfaces(ctx context.Context, deviceID string) error {
	return s.c.checked(ctx, "Devices.DeleteOtherInterfaces", request{method: "DELETE", path: "/devices/" + escape(deviceID) + "/interfaces/-"}, new(SuccessResult))
}

// BatchInterfaces deletes, changes and adds a device's network interfaces
// in one request (PATCH /api/v1/devices/{deviceId}/interfaces/-). Steps WUG
// refused come back in a *ResultError next to the result.
func (s *DevicesService) BatchInterfaces(ctx context.Context, deviceID string, b InterfaceBatch) (*CountedResult, error) {
	const op = "Devices.BatchInterfaces"
	for i, m := range b.InterfaceToModify {
		if _, err := netip.ParseAddr(m.Address); m.Address != "" && err != nil {
			return nil, opErr(op, inputErr(fmt.Sprintf("interfaceToModify[%d].address", i), "%q is not an IP address", m.Address))
		}
	}
	for i, in := range b.InterfacesToAdd {
		if _, err := netip.ParseAddr(in.Address); err != nil {
			return nil, opErr(op, inputErr(fmt.Sprintf("interfacesToAdd[%d].address", i), "%q is not an IP address", in.Address))
		}
	}
	var res CountedResult
	if err := s.c.do(ctx, request{method: "PATCH", path: "/devices/" + escape(deviceID) + "/interfaces/-", body: b}, &res, nil); err != nil {
		return nil, opErr(op, err)
	}
	return &res, res.check(op)
}
