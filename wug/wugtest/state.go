package wugtest

import (
	"encoding/base64"
	"errors"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
)

// state is the fake's inventory; every access holds Handler.mu.
type state struct {
	now func() time.Time

	nextDevice int
	devices    map[int]*device
	order      []int // device ids ascending; may hold deleted ids (see stale)
	stale      int
	byAddr     map[string]map[int]struct{} // lower-case address or host name -> ids

	nextGroup  int
	groups     map[int]*group
	groupOrder []int // ascending ids, kept exact

	nextAttr  int
	nextIface int

	scans     map[string]*scan
	scanOrder []string

	credentials map[string]string          // lower-case name -> type display name
	monitors    map[string]map[string]bool // kind -> lower-case names
	roles       map[string]bool            // lower-case role names
	policies    map[string]bool            // lower-case action policy names

	reachable map[string]bool   // lower-case addresses and names a scan finds
	hostAddr  map[string]string // lower-case host name -> address it resolves to
}

type device struct {
	id                                    int
	name, hostName, addr                  string
	role, brand, os, notes                string
	deviceType, snmpOid, snmpPort         string
	pollInterval, actionPolicy            string
	isWireless, collectWireless, keepCurr bool
	best, worst                           string
	lastChange                            time.Time
	attrs                                 []*attribute
	groups                                map[int]bool
	maint                                 maintenance
	interfaces                            []*iface
	subRoles                              []string
	active, perf, passive                 []string
	credentials                           []credRef
	customLinks                           []nameValue
	polls, refreshes                      int
}

// iface is a network interface; a device's address and host name are its
// default interface's.
type iface struct {
	id                int
	addr, name        string
	isDefault, byName bool
}

type credRef struct{ typ, name string }

type nameValue struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

type attribute struct {
	id                      int
	name, value, discovered string
}

type maintenance struct {
	enabled bool
	end     time.Time
	reason  string
}

type group struct {
	id, parent int
	name, desc string
	typ        string // "static", "dynamic" or "layer2"
	filter     string
	children   []int
	devices    map[int]bool
}

const (
	rootGroupID       = 0
	discoveredGroupID = 1
)

func newState(now func() time.Time) *state {
	s := &state{
		now:         now,
		nextDevice:  1,
		devices:     map[int]*device{},
		byAddr:      map[string]map[int]struct{}{},
		groups:      map[int]*group{},
		scans:       map[string]*scan{},
		credentials: map[string]string{},
		monitors: map[string]map[string]bool{
			"active":      set("ping", "http content", "https", "dns", "snmp", "tcp/ip", "ssh", "smtp"),
			"performance": set("cpu utilization", "memory utilization", "disk utilization", "interface utilization", "ping latency and availability"),
			"passive":     set("cold start", "warm start", "link down", "link up", "authentication failure"),
		},
		roles:     set("device", "switch", "router", "firewall", "server", "workstation", "printer", "wireless", "resource attributes", "resource monitors", "cisco", "windows", "linux"),
		policies:  map[string]bool{},
		reachable: map[string]bool{},
		hostAddr:  map[string]string{},
	}
	s.groups[rootGroupID] = &group{id: rootGroupID, parent: -1, name: "My Network", typ: "static", devices: map[int]bool{}}
	s.groupOrder = []int{rootGroupID}
	s.nextGroup = 1
	s.addGroup(rootGroupID, "Discovered Devices", "Devices found by discovery", "static")
	return s
}

func set(items ...string) map[string]bool {
	m := make(map[string]bool, len(items))
	for _, it := range items {
		m[strings.ToLower(it)] = true
	}
	return m
}

// --- devices ---

func (s *state) newDevice() *device {
	d := &device{
		id: s.nextDevice, best: "Unknown", worst: "Unknown", lastChange: s.now().UTC(),
		role: "Device", brand: "Not Set", os: "Not Set", deviceType: "Workstation",
		keepCurr: true, groups: map[int]bool{},
	}
	s.nextDevice++
	s.devices[d.id] = d
	s.order = append(s.order, d.id)
	return d
}

// setAddress changes a device's network address and host name, keeping the
// address index current.
func (s *state) setAddress(d *device, addr, host string) {
	s.unindex(d)
	d.addr, d.hostName = addr, host
	s.index(d)
}

// addIface gives d a network interface; the default one also becomes the
// device's address and host name.
func (s *state) addIface(d *device, addr, name string, isDefault, byName bool) {
	s.nextIface++
	d.interfaces = append(d.interfaces, &iface{id: s.nextIface, addr: addr, name: name, isDefault: isDefault, byName: byName})
	if isDefault {
		s.setAddress(d, addr, name)
	}
}

func (s *state) index(d *device) {
	for _, k := range []string{d.addr, d.hostName} {
		if k == "" {
			continue
		}
		k = strings.ToLower(k)
		m := s.byAddr[k]
		if m == nil {
			m = map[int]struct{}{}
			s.byAddr[k] = m
		}
		m[d.id] = struct{}{}
	}
}

func (s *state) unindex(d *device) {
	for _, k := range []string{d.addr, d.hostName} {
		k = strings.ToLower(k)
		if m := s.byAddr[k]; m != nil {
			delete(m, d.id)
			if len(m) == 0 {
				delete(s.byAddr, k)
			}
		}
	}
}

func (s *state) deleteDevice(d *device) {
	s.unindex(d)
	for gid := range d.groups {
		if g := s.groups[gid]; g != nil {
			delete(g.devices, d.id)
		}
	}
	delete(s.devices, d.id)
	s.stale++
	if s.stale > 1024 && s.stale > len(s.order)/2 {
		live := s.order[:0]
		for _, id := range s.order {
			if _, ok := s.devices[id]; ok {
				live = append(live, id)
			}
		}
		s.order, s.stale = live, 0
	}
}

// devicesByAddress returns the ids of devices whose address or host name
// equals addr (case-insensitively), ascending.
func (s *state) devicesByAddress(addr string) []int {
	m := s.byAddr[strings.ToLower(addr)]
	ids := make([]int, 0, len(m))
	for id := range m {
		ids = append(ids, id)
	}
	sort.Ints(ids)
	return ids
}

func (s *state) device(id string) *device { return byID(s.devices, id) }

// byID finds the object with the decimal id in m, or nil.
func byID[T any](m map[int]*T, id string) *T {
	n, err := strconv.Atoi(id)
	if err != nil {
		return nil
	}
	return m[n]
}

// join puts d in static group g.
func (s *state) join(d *device, g *group) {
	d.groups[g.id] = true
	g.devices[d.id] = true
}

func (s *state) leave(d *device, g *group) {
	delete(d.groups, g.id)
	delete(g.devices, d.id)
}

// staticGroups counts the static groups d belongs to.
func (s *state) staticGroups(d *device) int {
	n := 0
	for gid := range d.groups {
		if g := s.groups[gid]; g != nil && g.typ == "static" {
			n++
		}
	}
	return n
}

// --- groups ---

func (s *state) group(id string) *group { return byID(s.groups, id) }

func (s *state) addGroup(parent int, name, desc, typ string) *group {
	g := &group{id: s.nextGroup, parent: parent, name: name, desc: desc, typ: typ, devices: map[int]bool{}}
	s.nextGroup++
	s.groups[g.id] = g
	s.groupOrder = append(s.groupOrder, g.id)
	p := s.groups[parent]
	p.children = append(p.children, g.id)
	return g
}

func (s *state) removeGroup(g *group) {
	p := s.groups[g.parent]
	p.children = removeInt(p.children, g.id)
	delete(s.groups, g.id)
	s.groupOrder = removeInt(s.groupOrder, g.id)
}

func removeInt(list []int, v int) []int {
	for i, x := range list {
		if x == v {
			return append(list[:i:i], list[i+1:]...)
		}
	}
	return list
}

// child finds the child of parent named name (case-insensitively).
func (s *state) child(parent *group, name string) *group {
	for _, id := range parent.children {
		if g := s.groups[id]; strings.EqualFold(g.name, name) {
			return g
		}
	}
	return nil
}

// groupPath returns "My Network/A/B" for g.
func (s *state) groupPath(g *group) string {
	var parts []string
	for x := g; x != nil; x = s.groups[x.parent] {
		parts = append(parts, x.name)
		if x.id == rootGroupID {
			break
		}
	}
	for i, j := 0, len(parts)-1; i < j; i, j = i+1, j-1 {
		parts[i], parts[j] = parts[j], parts[i]
	}
	return strings.Join(parts, "/")
}

// ensurePath walks names from the root, creating missing static groups. A
// leading "My Network" is optional.
func (s *state) ensurePath(names []string) *group { return s.walkPath(names, true) }

// findPath resolves a path like ensurePath but creates nothing.
func (s *state) findPath(names []string) *group { return s.walkPath(names, false) }

// walkPath follows names down from the root; a missing group is created
// when create is set, and otherwise ends the walk with nil.
func (s *state) walkPath(names []string, create bool) *group {
	g := s.groups[rootGroupID]
	if len(names) > 0 && strings.EqualFold(names[0], g.name) {
		names = names[1:]
	}
	for _, n := range names {
		if n == "" {
			continue
		}
		next := s.child(g, n)
		switch {
		case next != nil:
		case create:
			next = s.addGroup(g.id, n, "", "static")
		default:
			return nil
		}
		g = next
	}
	return g
}

// descendants returns g's id and the ids of every group below it.
func (s *state) descendants(g *group) map[int]bool {
	out := map[int]bool{g.id: true}
	stack := []int{g.id}
	for len(stack) > 0 {
		id := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		for _, c := range s.groups[id].children {
			out[c] = true
			stack = append(stack, c)
		}
	}
	return out
}

func (s *state) isAncestor(anc, g *group) bool {
	for x := g; x != nil; x = s.groups[x.parent] {
		if x.id == anc.id {
			return true
		}
		if x.id == rootGroupID {
			break
		}
	}
	return false
}

// --- paging ---

var errBadPage = errors.New("page id not issued by this server")

// encodePage makes an opaque page id from the last id returned.
func encodePage(last int) string {
	return base64.RawURLEncoding.EncodeToString([]byte("wug:" + strconv.Itoa(last)))
}

func decodePage(pageID string) (int, error) {
	if pageID == "" {
		return -1, nil
	}
	b, err := base64.RawURLEncoding.DecodeString(pageID)
	if err != nil {
		return 0, errBadPage
	}
	s, ok := strings.CutPrefix(string(b), "wug:")
	if !ok {
		return 0, errBadPage
	}
	n, err := strconv.Atoi(s)
	if err != nil {
		return 0, errBadPage
	}
	return n, nil
}

// pageInfo is WUG's PagingInfo; nextPageId is omitted on the last page.
type pageInfo struct {
	PageID     string `json:"pageId,omitempty"`
	NextPageID string `json:"nextPageId,omitempty"`
	Size       int    `json:"size"`
}

// writePage answers a list request with one page of ids (ascending, from
// the request's page cursor, those keep accepts, up to limit): each id
// rendered by render, the list wrapped by wrap as "data", beside the
// paging block. A bad page cursor is answered as such.
func writePage[T any](c *call, ids []int, limit int, keep func(int) bool, render func(int) T, wrap func([]T) any) {
	page, info, err := pageIDs(ids, c.query.Get("pageId"), limit, keep)
	if err != nil {
		c.badPage()
		return
	}
	out := make([]T, len(page))
	for i, id := range page {
		out[i] = render(id)
	}
	c.json(map[string]any{"paging": info, "data": wrap(out)})
}

// pageIDs walks ids (ascending) from after the page cursor, keeping those
// keep accepts, up to limit; it reports the paging block. Work is
// proportional to the ids it passes, never to the pages before.
func pageIDs(ids []int, pageID string, limit int, keep func(int) bool) ([]int, pageInfo, error) {
	last, err := decodePage(pageID)
	if err != nil {
		return nil, pageInfo{}, err
	}
	i := sort.SearchInts(ids, last+1)
	var out []int
	info := pageInfo{PageID: pageID}
	for ; i < len(ids); i++ {
		if !keep(ids[i]) {
			continue
		}
		if len(out) == limit {
			info.NextPageID = encodePage(out[len(out)-1])
			break
		}
		out = append(out, ids[i])
	}
	info.Size = len(out)
	return out, info, nil
}

// pageItems answers a paged listing of one device's items (attributes,
// interfaces) in id order, keeping those keep accepts, with data the array
// of rendered items.
func pageItems[T, R any](c *call, limit int, items []*T, id func(*T) int, keep func(*T) bool, render func(*T) R) {
	byID := make(map[int]*T, len(items))
	ids := make([]int, 0, len(items))
	for _, it := range items {
		byID[id(it)] = it
		ids = append(ids, id(it))
	}
	slices.Sort(ids)
	page, info, err := pageIDs(ids, c.query.Get("pageId"), limit, func(n int) bool { return keep(byID[n]) })
	if err != nil {
		c.badPage()
		return
	}
	out := make([]R, len(page))
	for i, n := range page {
		out[i] = render(byID[n])
	}
	c.json(map[string]any{"paging": info, "data": out})
}

// badPage answers a pageId this server never issued.
func (c *call) badPage() {
	c.fail(400, "query parameter pageId: not a page id this server issued")
}

// pageQuery reads a paged search's limit and its search text, lower-cased.
func (c *call) pageQuery() (limit int, needle string, ok bool) {
	limit, ok = c.limit()
	return limit, strings.ToLower(c.query.Get("search")), ok
}

// limit reads the limit query parameter, clamped to the server's maximum.
func (c *call) limit() (int, bool) {
	max := c.h.cfg.pageMax
	s := c.query.Get("limit")
	if s == "" {
		return max, true
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 {
		c.fail(400, "query parameter limit: %q is not a non-negative integer", s)
		return 0, false
	}
	if n == 0 || n > max {
		return max, true
	}
	return n, true
}
