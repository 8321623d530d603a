package wugtest

import (
	"crypto/rand"
	"fmt"
	"net/http"
	"net/netip"
	"slices"
	"strings"
	"time"
)

// scan is one discovery scan started by newDevice, a refresh or a template
// update option. It runs for the configured delay, then takes effect.
type scan struct {
	seq        int
	id         string
	name, desc string
	model      string // "newDevice" or "refresh"
	started    time.Time
	delay      time.Duration
	addrs      []string // newDevice: addresses or names to scan
	targets    []int    // refresh: devices to rescan
	group      int
	opts       newDeviceOptions
	done       bool
	cancelled  bool
	found      []int // devices created or updated, once done
	responsive int
	timer      *time.Timer
}

// newDeviceOptions is NewDeviceOptions (plus ipOrNames for the bulk form).
type newDeviceOptions struct {
	IPOrNames                         []string  `json:"ipOrNames"`
	ForceAdd                          looseBool `json:"forceAdd"`
	ForceCreate                       looseBool `json:"forceCreate"`
	ForceRole                         string    `json:"forceRole"`
	PreferSnmpSystemNameAsDisplayName looseBool `json:"preferSnmpSystemNameAsDisplayName"`
	ResolveDNSHostNames               looseBool `json:"resolveDNSHostNames"`
	SnmpPortToUse                     int       `json:"snmpPortToUse"`
	UseAllCredentials                 *bool     `json:"useAllCredentials"`
	Credentials                       []string  `json:"credentials"`
	SetupAsPollByName                 looseBool `json:"setupAsPollByName"`
}

func newGUID() string {
	b := make([]byte, 16)
	rand.Read(b)
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

// startScanLocked registers a scan and arms its completion. h.mu is held.
func (h *Handler) startScanLocked(model, name string, addrs []string, targets []int, gid int, opts newDeviceOptions) *scan {
	s := h.st
	sc := &scan{
		seq: len(s.scanOrder) + 1, id: newGUID(), name: name, model: model,
		started: h.cfg.now(), delay: h.cfg.scanDelay, addrs: addrs, targets: targets, group: gid, opts: opts,
	}
	sc.desc = fmt.Sprintf("%s scan of %d item(s)", model, max(len(addrs), len(targets)))
	s.scans[sc.id] = sc
	s.scanOrder = append(s.scanOrder, sc.id)
	id := sc.id
	sc.timer = time.AfterFunc(sc.delay, func() { h.finishScan(id) })
	return sc
}

func (h *Handler) finishScan(id string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if sc := h.st.scans[id]; sc != nil {
		h.st.complete(sc)
	}
}

// complete applies a scan's effect: a newDevice scan creates a device for
// each reachable address not yet monitored (or updates the one that is); a
// refresh scan rescans its devices.
func (s *state) complete(sc *scan) {
	if sc.done {
		return
	}
	sc.done = true
	if sc.timer != nil {
		sc.timer.Stop()
	}
	seen := map[int]bool{}
	note := func(id int) {
		if !seen[id] {
			seen[id] = true
			sc.found = append(sc.found, id)
		}
	}
	for _, id := range sc.targets {
		if d := s.devices[id]; d != nil {
			d.refreshes++
			s.poll(d)
			note(id)
		}
	}
	g := s.groups[sc.group]
	if g == nil || g.typ != "static" {
		g = s.groups[rootGroupID]
	}
	for _, addr := range sc.addrs {
		key := strings.ToLower(strings.TrimSpace(addr))
		ok := s.reachable[key]
		if existing := s.devicesByAddress(key); len(existing) > 0 && !(sc.opts.ForceAdd && sc.opts.ForceCreate) {
			sc.responsive++
			d := s.devices[existing[0]]
			d.refreshes++
			s.join(d, g)
			note(d.id)
			continue
		}
		if !ok && !bool(sc.opts.ForceAdd) {
			continue
		}
		sc.responsive++
		d := s.newDevice()
		ip, host := key, ""
		if _, err := netip.ParseAddr(key); err != nil {
			ip, host = s.hostAddr[key], strings.TrimSpace(addr)
		}
		d.name = strings.TrimSpace(addr)
		if sc.opts.ForceRole != "" {
			d.role = sc.opts.ForceRole
		}
		d.active = []string{"Ping"}
		s.addIface(d, ip, host, true, bool(sc.opts.SetupAsPollByName))
		s.join(d, g)
		if ok {
			s.poll(d)
		}
		note(d.id)
	}
}

// activeScan renders WUG's ActiveScan. progress runs 0–100.
func (s *state) activeScan(sc *scan) map[string]any {
	total := max(len(sc.addrs), len(sc.targets))
	progress := 100.0
	phase := "Complete"
	attempts := total
	switch {
	case sc.cancelled:
		phase = "Cancelled"
	case !sc.done:
		frac := 1.0
		if sc.delay > 0 {
			frac = min(float64(s.now().Sub(sc.started))/float64(sc.delay), 0.99)
		}
		progress = float64(int(frac*1000)) / 10
		phase = "Scanning"
		attempts = int(frac * float64(total))
	}
	return map[string]any{
		"id": sc.id, "name": sc.name, "description": sc.desc, "isExport": false,
		"progress": progress, "phase": phase, "phaseProgress": progress,
		"scanUtc": utc(sc.started), "devicesFound": len(sc.found), "devicesComplete": len(sc.found),
		"addressResponsive": sc.responsive, "addressAttempts": attempts, "addressTotal": total,
		"model": sc.model, "type": "user",
	}
}

func (c *call) withScan(fn func(s *state, sc *scan)) {
	c.h.mu.Lock()
	defer c.h.mu.Unlock()
	sc := c.h.st.scans[c.params["scanId"]]
	if sc == nil {
		c.notFound("scan", c.params["scanId"])
		return
	}
	fn(c.h.st, sc)
}

// newDevice serves PUT /device-groups/{groupId}/newDevice?ipOrName=…: it
// starts a scan of one address or name and answers its id at once.
func (h *Handler) newDevice(c *call) {
	addr := strings.TrimSpace(c.query.Get("ipOrName"))
	if addr == "" {
		c.fail(http.StatusBadRequest, "query parameter ipOrName is required")
		return
	}
	var o newDeviceOptions
	if !c.decodeOptional(&o) {
		return
	}
	h.startNewDevice(c, []string{addr}, o)
}

// bulkNewDevice serves PATCH /device-groups/{groupId}/newDevice with
// ipOrNames (at least one) in the body.
func (h *Handler) bulkNewDevice(c *call) {
	var o newDeviceOptions
	if !c.decode(&o) {
		return
	}
	var addrs []string
	for _, a := range o.IPOrNames {
		if a = strings.TrimSpace(a); a != "" {
			addrs = append(addrs, a)
		}
	}
	if len(addrs) == 0 {
		c.fail(http.StatusBadRequest, "ipOrNames must list at least one address or name")
		return
	}
	h.startNewDevice(c, addrs, o)
}

func (h *Handler) startNewDevice(c *call, addrs []string, o newDeviceOptions) {
	for _, a := range addrs {
		if strings.ContainsAny(a, "/ ") || looksLikeRange(a) {
			c.fail(http.StatusBadRequest, "%q is not an IP address, host name or DNS name (ranges are not supported)", a)
			return
		}
	}
	c.withGroup(func(s *state, g *group) {
		if g.typ != "static" {
			c.fail(http.StatusBadRequest, "group %d is not a static group", g.id)
			return
		}
		sc := h.startScanLocked("newDevice", "New device scan", addrs, nil, g.id, o)
		c.data(scanStarted{ID: sc.id, Name: sc.name, Description: sc.desc, Success: true})
	})
}

// looksLikeRange spots "10.0.0.1-10.0.0.9" style input.
func looksLikeRange(a string) bool {
	lo, hi, ok := strings.Cut(a, "-")
	if !ok {
		return false
	}
	_, e1 := netip.ParseAddr(lo)
	_, e2 := netip.ParseAddr(hi)
	return e1 == nil || e2 == nil
}

// refreshOptions is DeviceRefreshOptions (and BulkDeviceRefresh with deviceIds).
type refreshOptions struct {
	DeviceIDs             idList    `json:"deviceIds"`
	UpdateNames           looseBool `json:"updateNamesForTableActiveMonitor"`
	UpdateEnable          looseBool `json:"updateEnableSettingsForTableActiveMonitor"`
	AddUseInRescan        looseBool `json:"addUseInRescanActiveMonitor"`
	IncludeAssignedRoles  looseBool `json:"includeAssignedRoles"`
	ResetOptions          []string  `json:"resetOptions"`
	DropDataOlderThanHour int       `json:"dropDataOlderThanHours"`
}

var resetOptions = set("inventory", "resources", "mac", "interfaces", "roles", "os", "brand", "snmp", "displayName",
	"attributes", "notes", "default", "monitors", "primaryIp", "history", "credentials", "allAttributes")

func (c *call) checkResetOptions(opts []string) bool {
	for _, o := range opts {
		if !resetOptions[strings.ToLower(o)] {
			c.fail(http.StatusBadRequest, "resetOptions: %q is not a known reset option", o)
			return false
		}
	}
	return true
}

// refreshDevice serves PUT /devices/{deviceId}/refresh (2026 JSON body of
// DeviceRefreshOptions); it starts a refresh scan and answers its id.
func (h *Handler) refreshDevice(c *call) {
	var o refreshOptions
	if !c.decodeOptional(&o) || !c.checkResetOptions(o.ResetOptions) {
		return
	}
	c.withDevice(func(s *state, d *device) {
		sc := h.startScanLocked("refresh", "Device refresh", nil, []int{d.id}, rootGroupID, newDeviceOptions{})
		c.data(scanStarted{ID: sc.id, Name: sc.name, Description: sc.desc, Success: true})
	})
}

// bulkRefresh serves PATCH /devices/-/refresh: one scan for all deviceIds.
func (h *Handler) bulkRefresh(c *call) {
	var o refreshOptions
	if !c.decode(&o) || !c.checkResetOptions(o.ResetOptions) {
		return
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	var ids []int
	for _, id := range o.DeviceIDs {
		if d := h.st.device(id); d != nil {
			ids = append(ids, d.id)
		}
	}
	if len(ids) == 0 {
		c.fail(http.StatusBadRequest, "deviceIds names no existing device")
		return
	}
	sc := h.startScanLocked("refresh", "Bulk device refresh", nil, ids, rootGroupID, newDeviceOptions{})
	c.data(scanStarted{ID: sc.id, Name: sc.name, Description: sc.desc, Success: true})
}

// groupRefresh serves PUT /device-groups/{groupId}/refresh (query options).
func (h *Handler) groupRefresh(c *call) {
	children, ok := c.queryBool("immediateChildren", false)
	if !ok || !c.checkResetOptions(c.query["resetOptions"]) {
		return
	}
	limit, needle, ok := c.pageQuery()
	if !ok {
		return
	}
	c.withGroup(func(s *state, g *group) {
		var ids []int
		for _, id := range s.groupDevices(g, !children) {
			if len(ids) < limit && matchesSearch(s.devices[id], needle) {
				ids = append(ids, id)
			}
		}
		sc := h.startScanLocked("refresh", "Group refresh", nil, ids, g.id, newDeviceOptions{})
		c.data(scanStarted{ID: sc.id, Name: sc.name, Description: sc.desc, Success: true})
	})
}

// listScans serves GET /device-scan/-/status: data is the array of
// ActiveScan; activeOnly defaults to true, so finished scans drop out.
func (h *Handler) listScans(c *call) {
	active, ok := c.queryBool("activeOnly", true)
	if !ok {
		return
	}
	model := c.query.Get("model")
	switch model {
	case "", "all", "standard", "newDevice", "refresh", "staging", "rescan":
	default:
		c.fail(http.StatusBadRequest, "query parameter model: %q is not a scan model", model)
		return
	}
	limit, needle, ok := c.pageQuery()
	if !ok {
		return
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	s := h.st
	seqs := make([]int, len(s.scanOrder))
	for i := range seqs {
		seqs[i] = i + 1
	}
	writePage(c, seqs, limit, func(seq int) bool {
		sc := s.scans[s.scanOrder[seq-1]]
		return (!active || !sc.done) && (model == "" || model == "all" || model == sc.model) &&
			strings.Contains(strings.ToLower(sc.name), needle)
	}, func(seq int) map[string]any { return s.activeScan(s.scans[s.scanOrder[seq-1]]) },
		func(out []map[string]any) any { return out })
}

// scanStatus serves GET /device-scan/{scanId}/status.
func (h *Handler) scanStatus(c *call) {
	c.withScan(func(s *state, sc *scan) { c.data(s.activeScan(sc)) })
}

// scanDevices serves GET /device-scan/{scanId}/devices: the devices the scan
// created or updated, empty until it completes.
func (h *Handler) scanDevices(c *call) {
	view, ok := c.view()
	if !ok {
		return
	}
	limit, needle, ok := c.pageQuery()
	if !ok {
		return
	}
	c.withScan(func(s *state, sc *scan) {
		ids := append([]int(nil), sc.found...)
		slices.Sort(ids)
		writePage(c, ids, limit, func(id int) bool {
			d := s.devices[id]
			return d != nil && matchesSearch(d, needle)
		}, func(id int) deviceOverview { return s.overview(s.devices[id], view) },
			func(out []deviceOverview) any {
				return map[string]any{"id": sc.id, "name": sc.name, "description": sc.desc, "devices": out}
			})
	})
}

// cancelScan serves PUT /device-scan/{scanId}/cancel: a bare SuccessResult,
// false when the scan had already finished.
func (h *Handler) cancelScan(c *call) {
	c.withScan(func(s *state, sc *scan) {
		if sc.done {
			c.json(successResult{false})
			return
		}
		sc.timer.Stop()
		sc.done, sc.cancelled = true, true
		c.json(successResult{true})
	})
}
