package wugtest

import (
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
)

// deviceOverview is WUG's DeviceOverview. The display name goes out as
// "name".
type deviceOverview struct {
	ID                      string          `json:"id"`
	Name                    string          `json:"name,omitempty"`
	HostName                string          `json:"hostName,omitempty"`
	NetworkAddress          string          `json:"networkAddress,omitempty"`
	Role                    string          `json:"role,omitempty"`
	Brand                   string          `json:"brand,omitempty"`
	OS                      string          `json:"os,omitempty"`
	Notes                   string          `json:"notes,omitempty"`
	BestState               string          `json:"bestState,omitempty"`
	WorstState              string          `json:"worstState,omitempty"`
	TotalActiveMonitors     *int            `json:"totalActiveMonitors,omitempty"`
	TotalActiveMonitorsDown *int            `json:"totalActiveMonitorsDown,omitempty"`
	DownActiveMonitors      []monitorStatus `json:"downActiveMonitors,omitempty"`
}

type monitorStatus struct {
	ID              string `json:"id"`
	State           string `json:"state"`
	Reason          string `json:"reason,omitempty"`
	LastChangeUTC   string `json:"lastChangeUtc"`
	MonitorTypeID   string `json:"monitorTypeId"`
	MonitorTypeName string `json:"monitorTypeName"`
	Enabled         bool   `json:"enabled"`
}

func utc(t time.Time) string { return t.UTC().Format(time.RFC3339) }

// overview renders d for a view: id, basic, card (the default) or overview.
func (s *state) overview(d *device, view string) deviceOverview {
	o := deviceOverview{ID: strconv.Itoa(d.id)}
	if view == "id" {
		return o
	}
	o.Name, o.HostName, o.NetworkAddress = d.name, d.hostName, d.addr
	if view == "basic" {
		return o
	}
	o.Role, o.Brand, o.OS, o.Notes = d.role, d.brand, d.os, d.notes
	o.BestState, o.WorstState = d.best, d.worst
	if view == "overview" {
		total, down := len(d.active), 0
		o.TotalActiveMonitors, o.TotalActiveMonitorsDown = &total, &down
		if d.worst == "Down" && total > 0 {
			down = 1
			o.DownActiveMonitors = []monitorStatus{{
				ID: strconv.Itoa(d.id) + "-1", State: "Down", Reason: "No response",
				LastChangeUTC: utc(d.lastChange), MonitorTypeID: "1", MonitorTypeName: d.active[0], Enabled: true,
			}}
		}
	}
	return o
}

// view reads and checks the view query parameter.
func (c *call) view() (string, bool) {
	v := c.query.Get("view")
	switch v {
	case "":
		return "card", true
	case "id", "basic", "card", "overview":
		return v, true
	}
	c.fail(http.StatusBadRequest, "query parameter view: %q is not one of id, basic, card, overview", v)
	return "", false
}

var deviceStates = map[string]bool{"Unknown": true, "Up": true, "Down": true, "Maintenance": true, "Any": true, "UpWithDownMonitors": true}

func stateMatches(d *device, want string) bool {
	switch want {
	case "", "Any":
		return true
	case "UpWithDownMonitors":
		return d.best == "Up" && d.worst == "Down"
	}
	return d.best == want || d.worst == want
}

// matchesSearch is WUG's device search: a case-insensitive substring of the
// display name, host name or network address. needle is lower-case.
func matchesSearch(d *device, needle string) bool {
	return needle == "" ||
		strings.Contains(strings.ToLower(d.name), needle) ||
		strings.Contains(strings.ToLower(d.hostName), needle) ||
		strings.Contains(strings.ToLower(d.addr), needle)
}

// listGroupDevices serves GET /device-groups/{groupId}/devices/- (and its
// deprecated twin without "/-"): devices in a group, by default with every
// descendant group (returnHierarchy=true), filtered by state and search,
// paged by opaque page ids.
func (h *Handler) listGroupDevices(c *call) {
	view, ok := c.view()
	if !ok {
		return
	}
	hier, ok := c.queryBool("returnHierarchy", true)
	if !ok {
		return
	}
	st := c.query.Get("state")
	if st != "" && !deviceStates[st] {
		c.fail(http.StatusBadRequest, "query parameter state: %q is not a device state", st)
		return
	}
	limit, needle, ok := c.pageQuery()
	if !ok {
		return
	}
	c.withGroup(func(s *state, g *group) {
		var inGroup func(d *device) bool
		switch {
		case g.id == rootGroupID && hier:
			inGroup = func(*device) bool { return true }
		case hier:
			desc := s.descendants(g)
			inGroup = func(d *device) bool {
				for gid := range d.groups {
					if desc[gid] {
						return true
					}
				}
				return false
			}
		default:
			inGroup = func(d *device) bool { return g.devices[d.id] }
		}
		writePage(c, s.order, limit, func(id int) bool {
			d := s.devices[id]
			return d != nil && inGroup(d) && stateMatches(d, st) && matchesSearch(d, needle)
		}, func(id int) deviceOverview { return s.overview(s.devices[id], view) },
			func(out []deviceOverview) any { return map[string]any{"devices": out} })
	})
}

// withDevice runs fn on the device named by the deviceId path parameter,
// under the state lock, answering 404 when there is none.
func (c *call) withDevice(fn func(s *state, d *device)) {
	withObject(c, "device", "deviceId", func(s *state) map[int]*device { return s.devices }, fn)
}

// withObject runs fn, under the state lock, on the object of the map that
// objects picks whose decimal id is the path parameter param, answering 404
// naming what when there is none.
func withObject[T any](c *call, what, param string, objects func(*state) map[int]*T, fn func(*state, *T)) {
	c.h.mu.Lock()
	defer c.h.mu.Unlock()
	x := byID(objects(c.h.st), c.params[param])
	if x == nil {
		c.notFound(what, c.params[param])
		return
	}
	fn(c.h.st, x)
}

// getDevice serves GET /devices/{deviceId}.
func (h *Handler) getDevice(c *call) {
	view, ok := c.view()
	if !ok {
		return
	}
	c.withDevice(func(s *state, d *device) { c.data(s.overview(d, view)) })
}

// deviceStatus serves GET /devices/{deviceId}/status.
func (h *Handler) deviceStatus(c *call) {
	c.withDevice(func(s *state, d *device) {
		c.data(map[string]any{"bestState": d.best, "worstState": d.worst, "lastChangeUtc": utc(d.lastChange)})
	})
}

type namedResource struct {
	ID          string `json:"id,omitempty"`
	Name        string `json:"name,omitempty"`
	Description string `json:"description,omitempty"`
}

type deviceProperties struct {
	ID                 string         `json:"id"`
	DisplayName        string         `json:"displayName"`
	IsWireless         bool           `json:"isWireless"`
	CollectWireless    bool           `json:"collectWireless"`
	KeepDetailsCurrent bool           `json:"keepDetailsCurrent"`
	Note               string         `json:"note,omitempty"`
	SnmpOid            string         `json:"snmpOid,omitempty"`
	ActionPolicy       *namedResource `json:"actionPolicy,omitempty"`
}

// getProperties serves GET /devices/{deviceId}/properties.
func (h *Handler) getProperties(c *call) {
	c.withDevice(func(s *state, d *device) {
		p := deviceProperties{
			ID: strconv.Itoa(d.id), DisplayName: d.name, IsWireless: d.isWireless,
			CollectWireless: d.collectWireless, KeepDetailsCurrent: d.keepCurr, Note: d.notes, SnmpOid: d.snmpOid,
		}
		if d.actionPolicy != "" {
			p.ActionPolicy = &namedResource{Name: d.actionPolicy}
		}
		c.data(p)
	})
}

// propertiesUpdate is the body of PUT /devices/{id}/properties and, with
// devices, of PATCH /devices/-/properties. Absent fields are left unchanged.
type propertiesUpdate struct {
	Devices            idList         `json:"devices"`
	DisplayName        *string        `json:"displayName"`
	IsWireless         *looseBool     `json:"isWireless"`
	CollectWireless    *looseBool     `json:"collectWireless"`
	KeepDetailsCurrent *looseBool     `json:"keepDetailsCurrent"`
	Note               *string        `json:"note"`
	SnmpOid            *string        `json:"snmpOid"`
	ActionPolicy       *namedResource `json:"actionPolicy"`
}

func (u *propertiesUpdate) apply(d *device) {
	if u.DisplayName != nil {
		d.name = *u.DisplayName
	}
	if u.IsWireless != nil {
		d.isWireless = bool(*u.IsWireless)
	}
	if u.CollectWireless != nil {
		d.collectWireless = bool(*u.CollectWireless)
	}
	if u.KeepDetailsCurrent != nil {
		d.keepCurr = bool(*u.KeepDetailsCurrent)
	}
	if u.Note != nil {
		d.notes = *u.Note
	}
	if u.SnmpOid != nil {
		d.snmpOid = *u.SnmpOid
	}
	if u.ActionPolicy != nil {
		d.actionPolicy = u.ActionPolicy.Name
	}
}

// putProperties serves PUT /devices/{deviceId}/properties.
func (h *Handler) putProperties(c *call) {
	var u propertiesUpdate
	if !c.decode(&u) {
		return
	}
	if u.DisplayName != nil && (*u.DisplayName == "" || len([]rune(*u.DisplayName)) > 150) {
		c.fail(http.StatusBadRequest, "displayName must be 1 to 150 characters")
		return
	}
	c.withDevice(func(s *state, d *device) {
		u.apply(d)
		c.data(successResult{true})
	})
}

// patchProperties serves PATCH /devices/-/properties; it cannot change
// display names, as the contract says.
func (h *Handler) patchProperties(c *call) {
	var u propertiesUpdate
	if !c.decode(&u) {
		return
	}
	u.DisplayName = nil
	h.mu.Lock()
	defer h.mu.Unlock()
	c.data(h.st.eachDevice(u.Devices, func(d *device) error { u.apply(d); return nil }))
}

// successResult is WUG's SuccessResult.
type successResult struct {
	Success bool `json:"success"`
}

// countedResult is WUG's CountedSuccessResult, typo included.
type countedResult struct {
	SuccessfulOperations int      `json:"successfulOperations"`
	ResourcesNotAllowed  []string `json:"resourcesNotAllowed"`
	ResourcesWithErros   []string `json:"resourcesWithErros"`
	Errors               []string `json:"errors"`
	LimitReached         bool     `json:"limitReached"`
	MaximumReached       bool     `json:"maximumReached"`
	Success              bool     `json:"success"`
}

func newCounted() *countedResult {
	return &countedResult{ResourcesNotAllowed: []string{}, ResourcesWithErros: []string{}, Errors: []string{}}
}

// notAllowed records a refused item.
func (r *countedResult) notAllowed(id, msg string) {
	r.ResourcesNotAllowed = append(r.ResourcesNotAllowed, id)
	r.Errors = append(r.Errors, msg)
}

// failed records an item that could not be processed (e.g. unknown id).
func (r *countedResult) failed(id, msg string) {
	r.ResourcesWithErros = append(r.ResourcesWithErros, id)
	r.Errors = append(r.Errors, msg)
}

func (r *countedResult) done() *countedResult {
	r.Success = len(r.Errors) == 0
	return r
}

// applyEach runs fn on what find returns for each id and counts the outcome
// in r: an id find does not know fails as "<what> <id> not found", one fn
// refuses is not allowed.
func applyEach[T any](r *countedResult, what string, ids []string, find func(string) *T, fn func(*T) error) {
	for _, id := range ids {
		x := find(id)
		if x == nil {
			r.failed(id, what+" "+id+" not found")
			continue
		}
		if err := fn(x); err != nil {
			r.notAllowed(id, err.Error())
			continue
		}
		r.SuccessfulOperations++
	}
}

// eachDevice applies fn to each listed device id, counting outcomes.
func (s *state) eachDevice(ids []string, fn func(d *device) error) *countedResult {
	res := newCounted()
	applyEach(res, "device", ids, s.device, fn)
	return res.done()
}

// deleteDevice serves DELETE /devices/{deviceId}.
func (h *Handler) deleteDevice(c *call) {
	if _, ok := c.queryBool("deleteDiscoveredDevices", false); !ok {
		return
	}
	c.withDevice(func(s *state, d *device) {
		s.deleteDevice(d)
		c.data(successResult{true})
	})
}

// bulkDeviceOp serves PATCH /devices/- with {"operation":"delete","devices":[…]}.
func (h *Handler) bulkDeviceOp(c *call) {
	var b struct {
		Operation string `json:"operation"`
		Devices   idList `json:"devices"`
	}
	if !c.decode(&b) {
		return
	}
	if !strings.EqualFold(b.Operation, "delete") {
		c.fail(http.StatusBadRequest, "operation %q is not supported (only \"delete\")", b.Operation)
		return
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	c.data(h.st.eachDevice(b.Devices, func(d *device) error { h.st.deleteDevice(d); return nil }))
}

// poll marks a device polled: Up unless it is in maintenance.
func (s *state) poll(d *device) {
	d.polls++
	st := "Up"
	if d.maint.enabled {
		st = "Maintenance"
	}
	if d.best != st || d.worst != st {
		d.best, d.worst, d.lastChange = st, st, s.now().UTC()
	}
}

// pollNow serves PUT /devices/{deviceId}/poll-now.
func (h *Handler) pollNow(c *call) {
	c.withDevice(func(s *state, d *device) {
		s.poll(d)
		c.data(successResult{true})
	})
}

type bulkDevices struct {
	Devices idList `json:"devices"`
}

// bulkPollNow serves PATCH /devices/-/poll-now.
func (h *Handler) bulkPollNow(c *call) {
	var b bulkDevices
	if !c.decode(&b) {
		return
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	c.data(h.st.eachDevice(b.Devices, func(d *device) error { h.st.poll(d); return nil }))
}

// groupPollNow serves PUT /device-groups/{groupId}/poll-now; it answers a
// bare CountedSuccessResult, as the contract declares.
func (h *Handler) groupPollNow(c *call) {
	children, ok := c.queryBool("immediateChildren", false)
	if !ok {
		return
	}
	limit, needle, ok := c.pageQuery()
	if !ok {
		return
	}
	c.withGroup(func(s *state, g *group) {
		ids := s.groupDevices(g, !children)
		res := newCounted()
		for _, id := range ids {
			d := s.devices[id]
			if !matchesSearch(d, needle) {
				continue
			}
			if res.SuccessfulOperations == limit {
				res.LimitReached = true
				break
			}
			s.poll(d)
			res.SuccessfulOperations++
		}
		c.json(res.done())
	})
}

// groupDevices lists the ids of g's devices, ascending; with hierarchy,
// those of its descendants too.
func (s *state) groupDevices(g *group, hierarchy bool) []int {
	groups := map[int]bool{g.id: true}
	if hierarchy {
		groups = s.descendants(g)
	}
	seen := map[int]bool{}
	for gid := range groups {
		for id := range s.groups[gid].devices {
			seen[id] = true
		}
	}
	out := make([]int, 0, len(seen))
	for id := range seen {
		out = append(out, id)
	}
	slices.Sort(out)
	return out
}

// maintenanceUpdate is MaintenanceConfigBasic, plus devices for the batch form.
type maintenanceUpdate struct {
	Devices idList     `json:"devices"`
	Enabled *looseBool `json:"enabled"`
	EndUTC  string     `json:"endUtc"`
	Reason  string     `json:"reason"`
}

// maintenanceBody decodes and checks a maintenance body, answering 400 when
// it is malformed.
func (c *call) maintenanceBody() (*maintenanceUpdate, time.Time, bool) {
	var m maintenanceUpdate
	if !c.decode(&m) {
		return nil, time.Time{}, false
	}
	end, ok := c.checkMaintenance(&m)
	return &m, end, ok
}

func (c *call) checkMaintenance(m *maintenanceUpdate) (time.Time, bool) {
	if m.Enabled == nil {
		c.fail(http.StatusBadRequest, "enabled is required")
		return time.Time{}, false
	}
	if len([]rune(m.Reason)) > 250 {
		c.fail(http.StatusBadRequest, "reason exceeds 250 characters")
		return time.Time{}, false
	}
	var end time.Time
	if m.EndUTC != "" {
		t, err := time.Parse(time.RFC3339, m.EndUTC)
		if err != nil {
			// Without an offset the time is taken as UTC, as the field name says.
			t, err = time.Parse("2006-01-02T15:04:05", m.EndUTC)
		}
		if err != nil {
			c.fail(http.StatusBadRequest, "endUtc %q is not an ISO-8601 time", m.EndUTC)
			return time.Time{}, false
		}
		end = t
	}
	return end, true
}

func (s *state) setMaintenance(d *device, m *maintenanceUpdate, end time.Time) {
	d.maint = maintenance{enabled: bool(*m.Enabled), end: end, reason: m.Reason}
	if d.maint.enabled {
		d.best, d.worst = "Maintenance", "Maintenance"
	} else if d.best == "Maintenance" {
		d.best, d.worst = "Unknown", "Unknown"
	}
	d.lastChange = s.now().UTC()
}

// putMaintenance serves PUT /devices/{deviceId}/config/maintenance.
func (h *Handler) putMaintenance(c *call) {
	m, end, ok := c.maintenanceBody()
	if !ok {
		return
	}
	c.withDevice(func(s *state, d *device) {
		s.setMaintenance(d, m, end)
		c.data(successResult{true})
	})
}

// patchMaintenance serves PATCH /devices/-/config/maintenance.
func (h *Handler) patchMaintenance(c *call) {
	m, end, ok := c.maintenanceBody()
	if !ok {
		return
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	c.data(h.st.eachDevice(m.Devices, func(d *device) error { h.st.setMaintenance(d, m, end); return nil }))
}
