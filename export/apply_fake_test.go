package export

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"net/netip"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/wugsync/wugsync/netbox"
	"github.com/wugsync/wugsync/wug"
)

// fakeWUG is an in-memory WUG behind the engine's interface, with call
// counts and fault switches.
type fakeWUG struct {
	mu      sync.Mutex
	devs    map[string]*fakeDev
	nextID  int
	groups  map[string]string
	scans   map[string]*fakeScan
	calls   map[string]int
	writes  int
	batches []int // templates per BulkAdd call

	// addLost makes the next n BulkAdd calls apply their templates and
	// then return an error, as when the answer is lost.
	addLost int
	// addVanish makes the next n BulkAdd calls return an error without
	// applying, as when the request is lost on its way.
	addVanish int
	// addFails makes the next n BulkAdd calls fail before applying, as
	// WUG answers 503 when it is too busy to act.
	addFails int
	// scanLost makes the next n ScanIPs calls start their scan and then
	// return an error, as when the answer is lost.
	scanLost int
	// scanVanish makes the next n ScanIPs calls return an error without
	// starting a scan, as when the request is lost on its way.
	scanVanish int
	// scanForget makes scans finish at once and leave WUG's scan list.
	scanForget bool
	// rejectAddr makes templates for these addresses fail.
	rejectAddr map[netip.Addr]bool
	// updateFails makes the next n UpdateMetadata calls fail with a 500.
	updateFails int
	// scanDone says whether scans finish at once.
	scanDone bool
	// hook, when set, runs at the start of every call.
	hook func(op string)
}

type fakeDev struct {
	id, name    string
	addr        netip.Addr
	meta        string
	maintenance bool
}

type fakeScan struct {
	group     string
	addrs     []netip.Addr
	done      bool
	started   time.Time
	forgotten bool // aged out of WUG's scan list
}

func newFakeWUG() *fakeWUG {
	return &fakeWUG{devs: map[string]*fakeDev{}, groups: map[string]string{}, scans: map[string]*fakeScan{}, calls: map[string]int{}, scanDone: true}
}

func (f *fakeWUG) call(op string, write bool) {
	f.calls[op]++
	if write {
		f.writes++
	}
	if f.hook != nil {
		f.hook(op)
	}
}

// seed adds a device as if someone had created it in WUG.
func (f *fakeWUG) seed(name string, addr netip.Addr) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.create(name, addr, "")
}

func (f *fakeWUG) create(name string, addr netip.Addr, meta string) string {
	f.nextID++
	id := strconv.Itoa(f.nextID)
	f.devs[id] = &fakeDev{id: id, name: name, addr: addr, meta: meta}
	return id
}

// byAddr counts devices per address.
func (f *fakeWUG) byAddr() map[netip.Addr]int {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := map[netip.Addr]int{}
	for _, d := range f.devs {
		n[d.addr]++
	}
	return n
}

func (f *fakeWUG) stats() (writes int, calls map[string]int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.writes, maps(f.calls)
}

func maps(m map[string]int) map[string]int {
	out := make(map[string]int, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

func (f *fakeWUG) Devices(ctx context.Context) iter.Seq2[wugDevice, error] {
	return func(yield func(wugDevice, error) bool) {
		f.mu.Lock()
		f.call("Devices", false)
		list := make([]wugDevice, 0, len(f.devs))
		for _, d := range f.devs {
			list = append(list, wugDevice{ID: d.id, Name: d.name, Address: d.addr})
		}
		f.mu.Unlock()
		slices.SortFunc(list, func(a, b wugDevice) int { return compareStrings(a.ID, b.ID) })
		for _, d := range list {
			if !yield(d, nil) {
				return
			}
		}
	}
}

func (f *fakeWUG) FindByAddress(ctx context.Context, addr netip.Addr) ([]wugDevice, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.call("FindByAddress", false)
	var out []wugDevice
	for _, d := range f.devs {
		if d.addr == addr {
			out = append(out, wugDevice{ID: d.id, Name: d.name, Address: d.addr})
		}
	}
	return out, nil
}

func (f *fakeWUG) GroupPaths(ctx context.Context) (map[string]string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.call("GroupPaths", false)
	out := map[string]string{"My Network": "0"}
	for path, id := range f.groups {
		out[path] = id
	}
	return out, nil
}

func (f *fakeWUG) CreateGroup(ctx context.Context, parentID, name string) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.call("CreateGroup", true)
	path := "My Network"
	for p, id := range f.groups {
		if id == parentID {
			path = p
		}
	}
	id := "g" + strconv.Itoa(len(f.groups)+1)
	f.groups[path+"/"+name] = id
	return id, nil
}

func (f *fakeWUG) RemoveGroupIfEmpty(ctx context.Context, groupID string) (bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.call("RemoveGroupIfEmpty", true)
	return false, nil
}

func (f *fakeWUG) MoveDevice(ctx context.Context, deviceID, from, to string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.call("MoveDevice", true)
	return nil
}

func (f *fakeWUG) BulkAdd(ctx context.Context, ts []wug.DeviceTemplate) ([]addOutcome, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.call("BulkAdd", true)
	if f.addFails > 0 {
		f.addFails--
		return nil, &wug.APIError{StatusCode: 503, Method: "PATCH", URL: "/api/v1/devices/-/config/template", Message: "busy"}
	}
	if f.addVanish > 0 {
		f.addVanish--
		return nil, errors.New("read: connection reset by peer")
	}
	f.batches = append(f.batches, len(ts))
	out := make([]addOutcome, len(ts))
	for i, t := range ts {
		addr := templateAddr(t)
		if f.rejectAddr[addr] {
			out[i] = addOutcome{Err: fmt.Errorf("template %s: interface rejected", t.TemplateID)}
			continue
		}
		out[i] = addOutcome{DeviceID: f.create(t.DisplayName, addr, fmt.Sprint(t))}
	}
	if f.addLost > 0 {
		f.addLost--
		return nil, errors.New("connection reset by peer")
	}
	return out, nil
}

func (f *fakeWUG) UpdateMetadata(ctx context.Context, cur wugDevice, t wug.DeviceTemplate, _ string, _ bool) (bool, error) {
	id := cur.ID
	f.mu.Lock()
	defer f.mu.Unlock()
	f.call("UpdateMetadata", false)
	if f.updateFails > 0 {
		f.updateFails--
		return false, &wug.APIError{StatusCode: 500, Method: "PATCH", URL: "/api/v1/devices/" + id + "/attributes/-", Message: "internal error"}
	}
	d, ok := f.devs[id]
	if !ok {
		return false, fmt.Errorf("device %s: not found", id)
	}
	meta := fmt.Sprint(t)
	if d.meta == meta {
		return false, nil
	}
	f.writes++
	d.meta, d.name = meta, t.DisplayName
	return true, nil
}

func (f *fakeWUG) WriteMetadata(ctx context.Context, id string, remove []string, set []wug.NameValue, props *wug.PropertiesUpdate) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.call("WriteMetadata", false)
	if f.updateFails > 0 {
		f.updateFails--
		return &wug.APIError{StatusCode: 500, Method: "PATCH", URL: "/api/v1/devices/" + id + "/attributes/-", Message: "internal error"}
	}
	d, ok := f.devs[id]
	if !ok {
		return fmt.Errorf("device %s: not found", id)
	}
	if len(remove)+len(set) > 0 {
		f.writes++
		d.meta = fmt.Sprint(remove, set)
	}
	if props != nil {
		f.writes++
		if props.DisplayName != nil {
			d.name = *props.DisplayName
		}
	}
	return nil
}

func (f *fakeWUG) Readdress(ctx context.Context, id string, addr netip.Addr) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.call("Readdress", true)
	d, ok := f.devs[id]
	if !ok {
		return fmt.Errorf("device %s: not found", id)
	}
	d.addr = addr
	return nil
}

func (f *fakeWUG) ScanIPs(ctx context.Context, group string, ips []string) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.call("ScanIPs", true)
	if f.scanVanish > 0 {
		f.scanVanish--
		return "", errors.New("read: connection reset by peer")
	}
	s := &fakeScan{group: group, done: f.scanDone || f.scanForget, started: time.Now(), forgotten: f.scanForget}
	for _, ip := range ips {
		s.addrs = append(s.addrs, netip.MustParseAddr(ip))
	}
	id := "scan-" + strconv.Itoa(len(f.scans)+1)
	f.scans[id] = s
	if s.done {
		f.finishScan(s)
	}
	if f.scanLost > 0 {
		f.scanLost--
		return "", errors.New("connection reset by peer")
	}
	return id, nil
}

func (f *fakeWUG) Scans(ctx context.Context) ([]scanInfo, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.call("Scans", false)
	var out []scanInfo
	for id, s := range f.scans {
		if !s.forgotten {
			out = append(out, scanInfo{ID: id, Done: s.done, Model: "newDevice", Addresses: len(s.addrs), StartedAt: s.started})
		}
	}
	return out, nil
}

// finishScan creates a device for each scanned address that has none.
func (f *fakeWUG) finishScan(s *fakeScan) {
	s.done = true
	for _, a := range s.addrs {
		found := false
		for _, d := range f.devs {
			found = found || d.addr == a
		}
		if !found {
			f.create("scanned-"+a.String(), a, "")
		}
	}
}

func (f *fakeWUG) ScanStatus(ctx context.Context, id string) (scanInfo, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.call("ScanStatus", false)
	s, ok := f.scans[id]
	if !ok {
		return scanInfo{}, fmt.Errorf("scan %s: not found", id)
	}
	state := "Scanning"
	if s.done {
		state = "Complete"
	}
	return scanInfo{ID: id, Done: s.done, State: state}, nil
}

func (f *fakeWUG) ScanDevices(ctx context.Context, id string) ([]wugDevice, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.call("ScanDevices", false)
	s := f.scans[id]
	var out []wugDevice
	for _, d := range f.devs {
		if s != nil && slices.Contains(s.addrs, d.addr) {
			out = append(out, wugDevice{ID: d.id, Name: d.name, Address: d.addr})
		}
	}
	return out, nil
}

func (f *fakeWUG) SetMaintenance(ctx context.Context, ids []string, on bool, reason string, until time.Time) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.call("SetMaintenance", true)
	for _, id := range ids {
		if d, ok := f.devs[id]; ok {
			d.maintenance = on
		}
	}
	return nil
}

func (f *fakeWUG) DeleteDevices(ctx context.Context, ids []string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.call("DeleteDevices", true)
	for _, id := range ids {
		delete(f.devs, id)
	}
	return nil
}

// fakeSource serves devices from a slice, honouring explicit ids.
type fakeSource struct {
	mu      sync.Mutex
	devs    []netbox.Device
	errAt   map[int]error // yield this error instead of the device at index
	fatalAt int           // end the stream with an error at this index (0: never)
}

func (s *fakeSource) Devices(ctx context.Context, sel netbox.Selector) iter.Seq2[netbox.Device, error] {
	return func(yield func(netbox.Device, error) bool) {
		s.mu.Lock()
		devs := slices.Clone(s.devs)
		s.mu.Unlock()
		for i, d := range devs {
			if ctx.Err() != nil {
				yield(netbox.Device{}, ctx.Err())
				return
			}
			if s.fatalAt > 0 && i == s.fatalAt {
				yield(netbox.Device{}, errors.New("netbox: 502 bad gateway"))
				return
			}
			if len(sel.IDs)+len(sel.VMIDs) > 0 && !slices.Contains(sel.IDs, d.ID) {
				continue
			}
			if len(sel.Sites) > 0 && !slices.Contains(sel.Sites, d.Site.Slug) {
				continue
			}
			if err := s.errAt[i]; err != nil {
				if !yield(netbox.Device{}, err) {
					return
				}
				continue
			}
			if !yield(d, nil) {
				return
			}
		}
	}
}

func (s *fakeSource) set(i int, f func(*netbox.Device)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	f(&s.devs[i])
}

// testDevices returns n devices with primary IPv4 addresses 10.x.y.z.
func testDevices(n int) []netbox.Device {
	devs := make([]netbox.Device, n)
	for i := range devs {
		id := int64(i + 1)
		addr := netip.AddrFrom4([4]byte{10, byte(id >> 16), byte(id >> 8), byte(id)})
		devs[i] = netbox.Device{Kind: netbox.KindDevice, ID: id, Name: fmt.Sprintf("dev-%d", id),
			Site:        netbox.Ref{ID: 1 + id%3, Slug: fmt.Sprintf("site-%d", 1+id%3), Name: fmt.Sprintf("Site %d", 1+id%3)},
			PrimaryIPv4: netbox.IPAddress{ID: id, Address: netip.PrefixFrom(addr, 16), Status: "active"}}
	}
	return devs
}

// testTransformer is the default mapping.
func testTransformer(t testing.TB) *transformer {
	tr, err := newTransformer(Mapping{})
	if err != nil {
		t.Fatal(err)
	}
	return tr
}
