package wugtest

import (
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

// withIface runs fn on the interface of the device named by the deviceId
// path parameter that match selects, answering 404 when either is missing.
func (c *call) withIface(what string, match func(*iface) bool, fn func(s *state, d *device, in *iface)) {
	c.withDevice(func(s *state, d *device) {
		for _, in := range d.interfaces {
			if match(in) {
				fn(s, d, in)
				return
			}
		}
		c.notFound("network interface", what)
	})
}

// withIfaceParam is withIface for the interfaceId path parameter.
func (c *call) withIfaceParam(fn func(s *state, d *device, in *iface)) {
	id := c.params["interfaceId"]
	c.withIface(id, func(in *iface) bool { return strconv.Itoa(in.id) == id }, fn)
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
	c.withIface("default", func(in *iface) bool { return in.isDefault }, func(_ *state, _ *device, in *iface) { c.data(renderIface(in)) })
}

// getInterface serves GET /devices/{deviceId}/interfaces/{interfaceId}.
func (h *Handler) getInterface(c *call) {
	c.withIfaceParam(func(_ *state, _ *device, in *iface) { c.data(renderIface(in)) })
}

// interfaceUpdate is NetworkInterfaceUpdate: empty or absent fields are
// left unchanged, and defaultInterface false changes nothing.
type interfaceUpdate struct {
	HostName         string     `json:"hostName"`
	Address          string     `json:"address"`
	DefaultInterface looseBool  `json:"defaultInterface"`
	PollUsingName    *looseBool `json:"pollUsingName"`
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
	addr := strings.TrimSpace(u.Address)
	if addr != "" {
		if _, err := netip.ParseAddr(addr); err != nil {
			c.fail(http.StatusBadRequest, "address %q is not a valid IP address", u.Address)
			return
		}
	}
	c.withIfaceParam(func(s *state, d *device, in *iface) {
		for _, other := range d.interfaces {
			if other != in && addr != "" && strings.EqualFold(other.addr, addr) {
				c.fail(http.StatusBadRequest, "device %d already has an interface with address %s", d.id, addr)
				return
			}
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
			for _, other := range d.interfaces {
				other.isDefault = other == in
			}
		}
		for _, x := range d.interfaces {
			if x.isDefault {
				s.setAddress(d, x.addr, x.name)
			}
		}
		c.data(renderIface(in))
	})
}
