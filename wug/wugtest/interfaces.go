package wugtest

import (
	"fmt"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
)

// networkInterface is WUG's NetworkInterface.
type networkInterface struct {
	InterfaceID      string `json:"interfaceId"`
	HostName         string `json:"hostName,omitempty"`
	Address          string `json:"address,omitempty"`
	DefaultInterface bool   `json:"defaultInterface"`
	PollUsingName    bool   `json:"pollUsingName"`
}

func renderIface(in *iface) networkInterface {
	return networkInterface{InterfaceID: strconv.Itoa(in.id), HostName: in.name, Address: in.addr, DefaultInterface: in.isDefault, PollUsingName: in.byName}
}

// Interface is a device's network interface as the fake holds it, read
// back with [Handler.Interfaces].
type Interface struct {
	ID       string
	Address  string
	HostName string
	// Default marks the interface WUG polls; its address is the device's.
	Default       bool
	PollUsingName bool
}

// Interfaces returns the network interfaces of the device with the given
// id, in the order they were added, and whether the device exists.
func (h *Handler) Interfaces(deviceID string) ([]Interface, bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	d := h.st.device(deviceID)
	if d == nil {
		return nil, false
	}
	out := make([]Interface, len(d.interfaces))
	for i, in := range d.interfaces {
		out[i] = Interface{ID: strconv.Itoa(in.id), Address: in.addr, HostName: in.name, Default: in.isDefault, PollUsingName: in.byName}
	}
	return out, true
}

// withIface runs fn on the interface find picks from the device named by
// the deviceId path parameter, answering 404 naming what when either is
// missing.
func (c *call) withIface(what string, find func(*device) *iface, fn func(s *state, d *device, in *iface)) {
	c.withDevice(func(s *state, d *device) {
		if in := find(d); in != nil {
			fn(s, d, in)
			return
		}
		c.notFound("network interface", what)
	})
}

// withIfaceParam is withIface for the interfaceId path parameter.
func (c *call) withIfaceParam(fn func(s *state, d *device, in *iface)) {
	id := c.params["interfaceId"]
	c.withIface(id, func(d *device) *iface { return findIface(d, id) }, fn)
}

// listInterfaces serves GET /devices/{deviceId}/interfaces/-: data is the
// array; search is a case-insensitive substring of address or host name.
func (h *Handler) listInterfaces(c *call) {
	limit, needle, ok := c.pageQuery()
	if !ok {
		return
	}
	c.withDevice(func(_ *state, d *device) {
		pageItems(c, limit, d.interfaces, func(in *iface) int { return in.id }, func(in *iface) bool {
			return strings.Contains(strings.ToLower(in.addr), needle) || strings.Contains(strings.ToLower(in.name), needle)
		}, renderIface)
	})
}

// getDefaultInterface serves GET /devices/{deviceId}/interfaces/default.
func (h *Handler) getDefaultInterface(c *call) {
	c.withIface("default", defaultIface, func(_ *state, _ *device, in *iface) { c.data(renderIface(in)) })
}

// getInterface serves GET /devices/{deviceId}/interfaces/{interfaceId}.
func (h *Handler) getInterface(c *call) {
	c.withIfaceParam(func(_ *state, _ *device, in *iface) { c.data(renderIface(in)) })
}

// interfaceUpdate is NetworkInterfaceUpdate and, with an id,
// NetworkInterfaceUpdateWithId: empty or absent fields are left unchanged,
// and defaultInterface false changes nothing.
type interfaceUpdate struct {
	InterfaceID      looseString `json:"interfaceId"`
	HostName         string      `json:"hostName"`
	Address          string      `json:"address"`
	DefaultInterface looseBool   `json:"defaultInterface"`
	PollUsingName    *looseBool  `json:"pollUsingName"`
}

// interfaceData is NetworkInterfaceData, an interface to add.
type interfaceData struct {
	HostName         string    `json:"hostName"`
	Address          string    `json:"address"`
	DefaultInterface looseBool `json:"defaultInterface"`
	PollUsingName    looseBool `json:"pollUsingName"`
}

// checkIfaceAddr refuses an address that is not an IP address or that
// another interface of d already has; "" passes (no change).
func checkIfaceAddr(d *device, self *iface, addr string) error {
	if addr == "" {
		return nil
	}
	if _, err := netip.ParseAddr(addr); err != nil {
		return fmt.Errorf("address %q is not a valid IP address", addr)
	}
	for _, other := range d.interfaces {
		if other != self && strings.EqualFold(other.addr, addr) {
			return fmt.Errorf("device %d already has an interface with address %s", d.id, addr)
		}
	}
	return nil
}

// makeDefault marks in as d's only default interface.
func makeDefault(d *device, in *iface) {
	for _, other := range d.interfaces {
		other.isDefault = other == in
	}
}

// syncAddress gives d its default interface's address and host name, so
// listings, searches and address lookups follow interface changes.
func (s *state) syncAddress(d *device) {
	if in := defaultIface(d); in != nil {
		s.setAddress(d, in.addr, in.name)
	}
}

// updateIface applies u to in, or changes nothing and says why not.
func (s *state) updateIface(d *device, in *iface, u *interfaceUpdate) error {
	addr := strings.TrimSpace(u.Address)
	if err := checkIfaceAddr(d, in, addr); err != nil {
		return err
	}
	if addr != "" {
		in.addr = addr
	}
	if h := strings.TrimSpace(u.HostName); h != "" {
		in.name = h
	}
	if u.PollUsingName != nil {
		in.byName = bool(*u.PollUsingName)
	}
	if u.DefaultInterface {
		makeDefault(d, in)
	}
	s.syncAddress(d)
	return nil
}

// addIfaceData adds an interface from its data, or says why not: the
// address is required, and a device's first interface is its default.
func (s *state) addIfaceData(d *device, v *interfaceData) (*iface, error) {
	addr := strings.TrimSpace(v.Address)
	if addr == "" {
		return nil, fmt.Errorf("address is required")
	}
	if err := checkIfaceAddr(d, nil, addr); err != nil {
		return nil, err
	}
	host := cmpOr(strings.TrimSpace(v.HostName), addr)
	s.addIface(d, addr, host, len(d.interfaces) == 0, bool(v.PollUsingName))
	in := d.interfaces[len(d.interfaces)-1]
	if v.DefaultInterface {
		makeDefault(d, in)
		s.syncAddress(d)
	}
	return in, nil
}

// removeIfaces drops the interfaces drop selects, never the default one,
// and returns how many went.
func removeIfaces(d *device, drop func(*iface) bool) int {
	kept := d.interfaces[:0]
	for _, in := range d.interfaces {
		if in.isDefault || !drop(in) {
			kept = append(kept, in)
		}
	}
	n := len(d.interfaces) - len(kept)
	clear(d.interfaces[len(kept):])
	d.interfaces = kept
	return n
}

// putInterface serves PUT /devices/{deviceId}/interfaces/{interfaceId}. The
// address must be an IP address no other interface of the device has; a
// change to the default interface changes the device's address and host
// name, and so its listing and lookups by address.
func (h *Handler) putInterface(c *call) {
	var u interfaceUpdate
	if !c.decode(&u) {
		return
	}
	c.withIfaceParam(func(s *state, d *device, in *iface) {
		if err := s.updateIface(d, in, &u); err != nil {
			c.fail(http.StatusBadRequest, "%v", err)
			return
		}
		c.data(renderIface(in))
	})
}

// addInterface serves POST /devices/{deviceId}/interfaces/- (a
// NetworkInterfaceData body); a host name left empty is the address.
func (h *Handler) addInterface(c *call) {
	var v interfaceData
	if !c.decode(&v) {
		return
	}
	c.withDevice(func(s *state, d *device) {
		in, err := s.addIfaceData(d, &v)
		if err != nil {
			c.fail(http.StatusBadRequest, "%v", err)
			return
		}
		c.data(renderIface(in))
	})
}

// deleteInterface serves DELETE /devices/{deviceId}/interfaces/{interfaceId};
// the default interface cannot be deleted.
func (h *Handler) deleteInterface(c *call) {
	c.withIfaceParam(func(_ *state, d *device, in *iface) {
		if in.isDefault {
			c.fail(http.StatusBadRequest, "interface %d is the default interface of device %d and cannot be deleted", in.id, d.id)
			return
		}
		removeIfaces(d, func(x *iface) bool { return x == in })
		c.data(successResult{true})
	})
}

// deleteInterfaces serves DELETE /devices/{deviceId}/interfaces/-: every
// interface but the default one goes.
func (h *Handler) deleteInterfaces(c *call) {
	c.withDevice(func(_ *state, d *device) {
		removeIfaces(d, func(*iface) bool { return true })
		c.data(successResult{true})
	})
}

// batchInterfaces serves PATCH /devices/{deviceId}/interfaces/-
// (BulkNetworkInterfaceBatch), steps in the contract's order:
// deleteAllInterfaces, interfacesToDelete (unknown ids skipped),
// addressOrHostNameToDelete (case-insensitive substrings), interfaceToModify,
// interfacesToAdd. The default interface is never deleted (an id naming it
// is refused); a modification or addition that breaks a rule is refused
// and the rest go on.
func (h *Handler) batchInterfaces(c *call) {
	var b struct {
		DeleteAllInterfaces       looseBool         `json:"deleteAllInterfaces"`
		InterfacesToDelete        idList            `json:"interfacesToDelete"`
		AddressOrHostNameToDelete []string          `json:"addressOrHostNameToDelete"`
		InterfaceToModify         []interfaceUpdate `json:"interfaceToModify"`
		InterfacesToAdd           []interfaceData   `json:"interfacesToAdd"`
	}
	if !c.decode(&b) {
		return
	}
	c.withDevice(func(s *state, d *device) {
		res := newCounted()
		if b.DeleteAllInterfaces {
			res.SuccessfulOperations += removeIfaces(d, func(*iface) bool { return true })
		}
		for _, id := range b.InterfacesToDelete {
			in := findIface(d, id)
			switch {
			case in == nil:
			case in.isDefault:
				res.notAllowed(id, "the default interface cannot be deleted")
			default:
				res.SuccessfulOperations += removeIfaces(d, func(x *iface) bool { return x == in })
			}
		}
		res.SuccessfulOperations += removeIfaces(d, func(in *iface) bool {
			return anyContains(in.addr, b.AddressOrHostNameToDelete) || anyContains(in.name, b.AddressOrHostNameToDelete)
		})
		for i := range b.InterfaceToModify {
			u := &b.InterfaceToModify[i]
			id := string(u.InterfaceID)
			in := findIface(d, id)
			if in == nil {
				res.failed(id, "network interface "+id+" not found")
				continue
			}
			if err := s.updateIface(d, in, u); err != nil {
				res.notAllowed(id, err.Error())
				continue
			}
			res.SuccessfulOperations++
		}
		for i := range b.InterfacesToAdd {
			v := &b.InterfacesToAdd[i]
			if _, err := s.addIfaceData(d, v); err != nil {
				res.notAllowed(v.Address, err.Error())
				continue
			}
			res.SuccessfulOperations++
		}
		c.data(res.done())
	})
}

// findIface returns d's interface with the given id, or nil.
func findIface(d *device, id string) *iface {
	for _, in := range d.interfaces {
		if strconv.Itoa(in.id) == id {
			return in
		}
	}
	return nil
}

// defaultIface returns d's default interface, or nil when it has none.
func defaultIface(d *device) *iface {
	for _, in := range d.interfaces {
		if in.isDefault {
			return in
		}
	}
	return nil
}
