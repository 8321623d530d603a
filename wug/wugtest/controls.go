package wugtest

import (
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Device is a device as the fake holds it, for seeding ([Handler.AddDevice])
// and reading back ([Handler.Devices]).
type Device struct {
	ID       string // assigned by the fake; ignored when seeding
	Name     string // display name ("name" in WUG's device overview)
	HostName string
	Address  string // network address of the default interface
	// Groups are full group paths such as "My Network/NetBox/Site A".
	// Seeding creates missing groups; no groups means "My Network".
	Groups     []string
	Attributes map[string]string
	Role       string
	Brand      string
	OS         string
	// SubRoles are the device's sub-roles (read back only).
	SubRoles []string
	Notes    string
	// State is the device's best and worst state: "Up", "Down", "Unknown"
	// or "Maintenance". Seeding defaults to "Up".
	State       string
	Maintenance bool
	// MaintenanceReason is the reason given with manual maintenance.
	MaintenanceReason string
	// Polls and Refreshes count poll-now calls and completed refresh or
	// newDevice scans that touched the device (read back only).
	Polls     int
	Refreshes int
}

// Group is a device group as the fake holds it.
type Group struct {
	ID          string
	ParentID    string // empty for the root "My Network"
	Name        string
	Description string
	Path        string // e.g. "My Network/NetBox/Site A"
	Type        string // "static", "dynamic" or "layer2"
	Devices     int    // devices directly in the group
}

// Scan is a scan as the fake holds it.
type Scan struct {
	ID        string
	Model     string   // "newDevice" or "refresh"
	Addresses []string // what a newDevice scan was asked to scan
	Done      bool
	Cancelled bool
	DeviceIDs []string // devices created or updated, once done
}

// AddGroup creates the static groups along path ("My Network/A/B", the root
// name optional) that do not exist yet and returns the id of the last one.
func (h *Handler) AddGroup(path string) string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return strconv.Itoa(h.st.ensurePath(splitPath(path)).id)
}

func splitPath(path string) []string {
	return strings.Split(strings.Trim(path, "/"), "/")
}

// AddDevice seeds one device and returns its id.
func (h *Handler) AddDevice(d Device) string {
	return h.AddDevices(d)[0]
}

// AddDevices seeds devices in one step (one lock) and returns their ids.
func (h *Handler) AddDevices(ds ...Device) []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	s := h.st
	ids := make([]string, len(ds))
	for i, in := range ds {
		d := s.newDevice()
		d.name = in.Name
		if d.name == "" {
			d.name = cmpOr(in.HostName, in.Address, "device-"+strconv.Itoa(d.id))
		}
		d.role = cmpOr(in.Role, d.role)
		d.brand = cmpOr(in.Brand, d.brand)
		d.os = cmpOr(in.OS, d.os)
		d.notes = in.Notes
		st := cmpOr(in.State, "Up")
		d.best, d.worst = st, st
		if in.Maintenance {
			d.maint = maintenance{enabled: true, reason: in.MaintenanceReason}
			d.best, d.worst = "Maintenance", "Maintenance"
		}
		if in.Address != "" || in.HostName != "" {
			s.addIface(d, in.Address, in.HostName, true, false)
		}
		names := make([]string, 0, len(in.Attributes))
		for k := range in.Attributes {
			names = append(names, k)
		}
		sort.Strings(names)
		for _, k := range names {
			s.addAttr(d, k, in.Attributes[k])
		}
		if len(in.Groups) == 0 {
			s.join(d, s.groups[rootGroupID])
		}
		for _, p := range in.Groups {
			s.join(d, s.ensurePath(splitPath(p)))
		}
		ids[i] = strconv.Itoa(d.id)
	}
	return ids
}

func cmpOr(vals ...string) string {
	for _, v := range vals {
		if v != "" {
			return v
		}
	}
	return ""
}

func (s *state) export(d *device) Device {
	out := Device{
		ID: strconv.Itoa(d.id), Name: d.name, HostName: d.hostName, Address: d.addr,
		Attributes: make(map[string]string, len(d.attrs)),
		Role:       d.role, Brand: d.brand, OS: d.os, SubRoles: slices.Clone(d.subRoles), Notes: d.notes, State: d.worst,
		Maintenance: d.maint.enabled, MaintenanceReason: d.maint.reason, Polls: d.polls, Refreshes: d.refreshes,
	}
	for _, a := range d.attrs {
		out.Attributes[a.name] = a.value
	}
	for _, gid := range sortedKeys(d.groups) {
		out.Groups = append(out.Groups, s.groupPath(s.groups[gid]))
	}
	return out
}

// Devices returns every device, ordered by id.
func (h *Handler) Devices() []Device {
	h.mu.Lock()
	defer h.mu.Unlock()
	out := make([]Device, 0, len(h.st.devices))
	for _, id := range h.st.order {
		if d := h.st.devices[id]; d != nil {
			out = append(out, h.st.export(d))
		}
	}
	return out
}

// DeviceCount returns the number of devices.
func (h *Handler) DeviceCount() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.st.devices)
}

// Device returns the device with the given id.
func (h *Handler) Device(id string) (Device, bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	d := h.st.device(id)
	if d == nil {
		return Device{}, false
	}
	return h.st.export(d), true
}

// DevicesByAddress returns the devices whose network address or host name
// equals addr exactly (case-insensitively), ordered by id. It uses an index:
// no scan of the inventory.
func (h *Handler) DevicesByAddress(addr string) []Device {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []Device
	for _, id := range h.st.devicesByAddress(addr) {
		out = append(out, h.st.export(h.st.devices[id]))
	}
	return out
}

func (s *state) exportGroup(g *group) Group {
	out := Group{
		ID: strconv.Itoa(g.id), Name: g.name, Description: g.desc, Path: s.groupPath(g),
		Type: g.typ, Devices: len(g.devices),
	}
	if g.id != rootGroupID {
		out.ParentID = strconv.Itoa(g.parent)
	}
	return out
}

// Groups returns every group, ordered by id (the root "My Network" first).
func (h *Handler) Groups() []Group {
	h.mu.Lock()
	defer h.mu.Unlock()
	out := make([]Group, 0, len(h.st.groupOrder))
	for _, id := range h.st.groupOrder {
		out = append(out, h.st.exportGroup(h.st.groups[id]))
	}
	return out
}

// GroupByPath finds a group by its path ("My Network/A/B"; names compare
// case-insensitively, the root name is optional).
func (h *Handler) GroupByPath(path string) (Group, bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	g := h.st.findPath(splitPath(path))
	if g == nil {
		return Group{}, false
	}
	return h.st.exportGroup(g), true
}

// GroupMembers returns the ids of the devices directly in the group at
// path (as in [Handler.GroupByPath]), ascending, and whether the group
// exists. Devices in its descendant groups are not included.
func (h *Handler) GroupMembers(path string) ([]string, bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	g := h.st.findPath(splitPath(path))
	if g == nil {
		return nil, false
	}
	ids := make([]string, 0, len(g.devices))
	for _, id := range sortedKeys(g.devices) {
		ids = append(ids, strconv.Itoa(id))
	}
	return ids, true
}

// SetReachable marks IP addresses (or names) that a newDevice scan will
// find; any other address is scanned and nothing is found.
func (h *Handler) SetReachable(addrs ...string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, a := range addrs {
		h.st.reachable[strings.ToLower(strings.TrimSpace(a))] = true
	}
}

// SetReachableHost marks a host name reachable by scans, resolving to ip.
func (h *Handler) SetReachableHost(name, ip string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	key := strings.ToLower(strings.TrimSpace(name))
	h.st.reachable[key] = true
	h.st.hostAddr[key] = ip
}

// AddCredential adds a credential to the library that templates refer to by
// name; typ is its display type, e.g. "SNMP v2".
func (h *Handler) AddCredential(name, typ string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.st.credentials[strings.ToLower(name)] = typ
}

// AddMonitor adds a monitor to the library; kind is "active",
// "performance" or "passive". Ping, CPU Utilization, Cold Start and a few
// other common ones exist from the start.
func (h *Handler) AddMonitor(kind, name string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	m := h.st.monitors[strings.ToLower(kind)]
	if m == nil {
		m = map[string]bool{}
		h.st.monitors[strings.ToLower(kind)] = m
	}
	m[strings.ToLower(name)] = true
}

// AddRole adds a device role that templates may name (Device, Switch,
// Router, Server and other common ones exist from the start).
func (h *Handler) AddRole(name string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.st.roles[strings.ToLower(name)] = true
}

// AddActionPolicy adds an action policy that templates may name.
func (h *Handler) AddActionPolicy(name string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.st.policies[strings.ToLower(name)] = true
}

// CompleteScans finishes every running scan now, as if its delay had passed.
func (h *Handler) CompleteScans() {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, id := range h.st.scanOrder {
		h.st.complete(h.st.scans[id])
	}
}

// stopScans disarms pending scan timers when the server shuts down.
func (h *Handler) stopScans() {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, sc := range h.st.scans {
		if sc.timer != nil {
			sc.timer.Stop()
		}
	}
}

// Scans returns every scan started so far, oldest first.
func (h *Handler) Scans() []Scan {
	h.mu.Lock()
	defer h.mu.Unlock()
	out := make([]Scan, 0, len(h.st.scanOrder))
	for _, id := range h.st.scanOrder {
		sc := h.st.scans[id]
		x := Scan{ID: sc.id, Model: sc.model, Addresses: append([]string(nil), sc.addrs...), Done: sc.done, Cancelled: sc.cancelled}
		for _, d := range sc.found {
			x.DeviceIDs = append(x.DeviceIDs, strconv.Itoa(d))
		}
		out = append(out, x)
	}
	return out
}

// Request is one request the fake received. Bodies of token requests
// (which carry passwords and refresh tokens) are not kept, and headers are
// not recorded at all.
type Request struct {
	Method string
	Path   string     // the literal path
	Route  string     // "METHOD /api/v1/template/{param}"; empty for unknown routes
	Query  url.Values // the query parameters
	Body   []byte
	Status int // the status answered; -1 for a dropped connection, 499 when the client gave up during injected latency
	Time   time.Time
}

// IsWrite reports whether the request could change state (any method but GET).
func (r Request) IsWrite() bool { return r.Method != http.MethodGet && r.Method != http.MethodHead }

func (h *Handler) record(r *http.Request, routeName string, body []byte, status int, at time.Time) {
	rec := Request{Method: r.Method, Path: r.URL.Path, Route: routeName, Query: r.URL.Query(), Status: status, Time: at}
	if r.URL.Path != "/api/v1/token" && len(body) > 0 {
		rec.Body = body
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	h.requests = append(h.requests, rec)
}

// Requests returns the requests received so far, in order of arrival.
func (h *Handler) Requests() []Request {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]Request(nil), h.requests...)
}

// ResetRequests forgets the recorded requests.
func (h *Handler) ResetRequests() {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.requests = nil
}

// Count returns how many recorded requests match route, a pattern as in
// [Fault.Route]: "PATCH /api/v1/devices/-/config/template",
// "/api/v1/devices/{deviceId}", or a literal path.
func (h *Handler) Count(route string) int {
	h.mu.Lock()
	defer h.mu.Unlock()
	n := 0
	for _, r := range h.requests {
		if routeMatches(route, r.Method, r.Path, r.Route) {
			n++
		}
	}
	return n
}

// RequestCounts summarises the recorded requests.
type RequestCounts struct {
	Reads   int            // GET requests
	Writes  int            // any other method
	ByRoute map[string]int // keyed by route ("METHOD /api/v1/…"), or "METHOD path" when unknown
}

// Counts summarises the recorded requests by kind and route.
func (h *Handler) Counts() RequestCounts {
	h.mu.Lock()
	defer h.mu.Unlock()
	out := RequestCounts{ByRoute: map[string]int{}}
	for _, r := range h.requests {
		if r.IsWrite() {
			out.Writes++
		} else {
			out.Reads++
		}
		key := r.Route
		if key == "" {
			key = r.Method + " " + r.Path
		}
		out.ByRoute[key]++
	}
	return out
}
