package export

import (
	"context"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/wugsync/wugsync/netbox"
	"github.com/wugsync/wugsync/netbox/netboxtest"
	"github.com/wugsync/wugsync/store"
	"github.com/wugsync/wugsync/store/sqlite"
	"github.com/wugsync/wugsync/wug"
	"github.com/wugsync/wugsync/wug/wugtest"
)

// e2e is an export against the fake NetBox, the fake WUG and a SQLite
// store, through the real clients.
type e2e struct {
	nb  *netboxtest.Server
	wug *wugtest.Server
	st  *sqlite.Store
	job *exportJob
	tr  *transformer
}

// fastRetry keeps fault tests quick: short backoff, Retry-After capped.
var fastRetry = wug.RetryPolicy{MaxRetries: 4, WaitMin: 2 * time.Millisecond, WaitMax: 20 * time.Millisecond, MaxRetryAfter: 20 * time.Millisecond}

func newE2E(t testing.TB, nbOpts []netboxtest.Option, wugOpts ...wugtest.Option) *e2e {
	t.Helper()
	e := &e2e{nb: netboxtest.NewServer(t, nbOpts...),
		wug: wugtest.NewServer(t, append([]wugtest.Option{wugtest.WithClientOptions(wug.WithRetry(fastRetry), wug.WithRateLimit(0, 0))}, wugOpts...)...)}
	nc, err := netbox.NewClient(e.nb.URL, e.nb.Token, netbox.WithRetry(netbox.RetryPolicy{MaxRetries: 4, WaitMin: time.Millisecond, WaitMax: 20 * time.Millisecond}))
	if err != nil {
		t.Fatal(err)
	}
	e.st, err = sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "wugsync.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.st.Close() })
	e.tr = testTransformer(t)
	e.job = &exportJob{Connection: connSettings{Name: "wug1"},
		Source: nc, WUG: newWUGAPI(e.wug.Client(), wugOptions{}),
		Store: e.st, Transformer: e.tr}
	return e
}

func (e *e2e) run(t testing.TB, opts RunOptions) *Result {
	t.Helper()
	res, err := e.job.Run(context.Background(), opts)
	if err != nil {
		t.Fatalf("export: %v", err)
	}
	return res
}

// runWritesNothingToNetBox runs the export once more and checks that it
// sent NetBox no write; what names the run in the error.
func (e *e2e) runWritesNothingToNetBox(t testing.TB, what string) *Result {
	t.Helper()
	e.nb.ResetRequests()
	res := e.run(t, RunOptions{})
	if w := e.nb.Writes(); w != 0 {
		t.Errorf("%s: %d NetBox writes, want 0 (write-back %+v)", what, w, res.WriteBack)
	}
	return res
}

// updateDevice changes NetBox device id with fn in the fake.
func (e *e2e) updateDevice(t testing.TB, id int64, fn func(*netboxtest.Device)) {
	t.Helper()
	if _, err := e.nb.UpdateDevice(id, fn); err != nil {
		t.Fatal(err)
	}
}

// useMapping has the export map with m.
func (e *e2e) useMapping(t testing.TB, m Mapping) {
	t.Helper()
	tr, err := newTransformer(m)
	if err != nil {
		t.Fatal(err)
	}
	e.job.Transformer = tr
}

// forBoth runs body twice as parallel subtests named off and on, with flag
// false and true, each on its own export of ten NetBox devices.
func forBoth(t *testing.T, off, on string, body func(t *testing.T, e *e2e, flag bool)) {
	for _, flag := range []bool{false, true} {
		t.Run(map[bool]string{false: off, true: on}[flag], func(t *testing.T) {
			t.Parallel()
			body(t, newE2E(t, []netboxtest.Option{netboxtest.WithDevices(10)}), flag)
		})
	}
}

// wugWrites counts the requests that could change WUG (logins excepted).
func (e *e2e) wugWrites() int {
	return e.wug.Counts().Writes - e.wug.Count("POST /api/v1/token")
}

// records reads every record of the connection.
func (e *e2e) records(t testing.TB) []store.Record {
	t.Helper()
	var out []store.Record
	for r, err := range e.st.Records(context.Background(), store.Query{Connection: "wug1"}) {
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, r)
	}
	return out
}

// wugDevices indexes the fake WUG's devices by id and counts them per
// address.
func (e *e2e) wugDevices() (byID map[string]wugtest.Device, perAddr map[string]int) {
	byID, perAddr = map[string]wugtest.Device{}, map[string]int{}
	for _, d := range e.wug.Devices() {
		byID[d.ID] = d
		perAddr[d.Address]++
	}
	return byID, perAddr
}

// holdsAddress reports whether the device byID names for r holds r's address.
func holdsAddress(byID map[string]wugtest.Device, r store.Record) bool {
	d, ok := byID[r.WUGDeviceID]
	return ok && d.Address == r.Address.String()
}

// checkAgree asserts that WUG holds one device per exported key and that
// every exported record names a WUG device with its address.
func (e *e2e) checkAgree(t testing.TB, wantExported int) {
	t.Helper()
	devs, perAddr := e.wugDevices()
	keysPerAddr := map[string]int{}
	exported := 0
	for _, r := range e.records(t) {
		keysPerAddr[r.Address.String()]++
		if r.Status != store.StatusExported {
			continue
		}
		exported++
		if !holdsAddress(devs, r) {
			t.Errorf("record %s: WUG device %q does not hold the address", r.Key, r.WUGDeviceID)
		}
	}
	for addr, n := range perAddr {
		if n > keysPerAddr[addr] {
			t.Errorf("WUG holds %d devices for %s, recorded keys %d", n, addr, keysPerAddr[addr])
		}
	}
	if exported != wantExported {
		t.Errorf("%d records exported, want %d", exported, wantExported)
	}
}

// Scenario 1: a new NetBox device appears in WUG with its metadata.
func TestE2ENewDeviceReachesWUG(t *testing.T) {
	t.Parallel()
	e := newE2E(t, []netboxtest.Option{netboxtest.WithDevices(20)})
	first := e.run(t, RunOptions{})
	if first.Counts.Failed != 0 || first.Counts.Added == 0 {
		t.Fatalf("first run: %+v", first.Counts)
	}
	exported := first.Counts.Added

	cat := e.nb.Catalog()
	devID, _ := e.addNetBoxDevice(t, "new-core-1", cat.Sites[0].Slug, "172.31.9.10/24")
	e.wug.ResetRequests()
	res := e.run(t, RunOptions{})
	if res.Counts.Added != 1 || res.Counts.Unchanged != exported {
		t.Errorf("second run: %+v, want 1 added and %d unchanged", res.Counts, exported)
	}
	if n := e.wug.Count("PATCH /api/v1/devices/-/config/template"); n != 1 {
		t.Errorf("%d template applies, want 1", n)
	}
	found := e.wug.DevicesByAddress("172.31.9.10")
	if len(found) != 1 {
		t.Fatalf("WUG holds %d devices for the new address", len(found))
	}
	d := found[0]
	if d.Name != "new-core-1" || d.Attributes["NetBox.Serial"] != "SN-new-core-1" ||
		d.Attributes["NetBox.ID"] != itoa(devID) || d.Attributes["NetBox.Site"] == "" {
		t.Errorf("new WUG device = %+v", d)
	}
	if want := "My Network/NetBox/" + cat.Sites[0].Name; !slices.Contains(d.Groups, want) {
		t.Errorf("groups %v, want %q", d.Groups, want)
	}
	e.checkAgree(t, exported+1)
}

func itoa(i int64) string { return strconv.FormatInt(i, 10) }

// Scenario 2: a site/role selection exported for discovery by scans,
// followed to completion and linked.
func TestE2EScanSelectionFollowedAndLinked(t *testing.T) {
	t.Parallel()
	e := newE2E(t, []netboxtest.Option{netboxtest.WithDevices(400)}, wugtest.WithScanDelay(time.Hour))
	cat := e.nb.Catalog()
	e.job.Connection.Scan = true
	e.job.Connection.ScanRanges = true
	e.job.Connection.Selector = netbox.Selector{Sites: []string{cat.Sites[0].Slug}, Roles: []string{cat.Roles[0].Slug}}

	addrs := e.plannedScans(t)
	e.wug.SetReachable(addrs...)
	res := e.run(t, RunOptions{})
	if res.Counts.Scanned != len(addrs) || res.Counts.Failed != 0 {
		t.Fatalf("export: %+v, want %d scanned", res.Counts, len(addrs))
	}
	swept := 0
	for _, sc := range e.wug.Scans() {
		swept += len(sc.Addresses)
	}
	if n := len(e.wug.Scans()); n == 0 || swept < len(addrs) {
		t.Errorf("%d scans sweeping %d addresses for %d selected", n, swept, len(addrs))
	}
	t.Logf("%d addresses scanned by %d newDevice requests sweeping %d addresses", len(addrs), len(e.wug.Scans()), swept)
	mon := &scanJob{Connection: "wug1", WUG: e.job.WUG, Store: e.st, Source: e.job.Source,
		Selector: e.job.Connection.Selector, Transformer: e.tr}
	sr, err := mon.Run(context.Background(), store.TriggerManual)
	if err != nil || sr.Waiting != len(addrs) {
		t.Fatalf("monitor while scanning: %+v, %v", sr, err)
	}
	e.wug.CompleteScans()
	e.wug.ResetRequests()
	sr, err = mon.Run(context.Background(), store.TriggerManual)
	if err != nil || sr.Linked != len(addrs) || sr.Failed != 0 {
		t.Fatalf("monitor after the scans: %+v, %v", sr, err)
	}
	// Linking reads no attributes and sets them in one batch per device;
	// the properties follow only where WUG's name or note differ.
	routes := e.wug.Counts().ByRoute
	if n, reads := routes["PATCH /api/v1/devices/{deviceId}/attributes/-"], routes["GET /api/v1/devices/{deviceId}/attributes/-"]; n != len(addrs) || reads != 0 {
		t.Errorf("linking %d devices sent %d attribute batches and %d attribute reads, want one batch each and no read", len(addrs), n, reads)
	}
	t.Logf("linking %d devices: %d properties writes", len(addrs), routes["PUT /api/v1/devices/{deviceId}/properties"])
	for _, r := range e.records(t) {
		if r.Status != store.StatusScanCompleted || !r.ScanDiscovered || r.WUGDeviceID == "" || r.Fingerprint == "" {
			t.Errorf("record %s: %s discovered=%v device=%q", r.Key, r.Status, r.ScanDiscovered, r.WUGDeviceID)
			continue
		}
		d, ok := e.wug.Device(r.WUGDeviceID)
		if !ok || d.Address != r.Address.String() || d.Attributes["NetBox.ID"] != itoa(r.ObjectID) {
			t.Errorf("linked device for %s = %+v", r.Key, d)
		}
	}
	// Linked and up to date: the next export changes nothing.
	e.wug.ResetRequests()
	res = e.run(t, RunOptions{})
	if w := e.wugWrites(); w != 0 || res.Counts.Unchanged != len(addrs) {
		t.Errorf("export after linking: %d writes, %+v", w, res.Counts)
	}
}

// Scenario 3: metadata changes reach the existing WUG device and nothing
// else changes; with no NetBox change a run writes nothing.
func TestE2EMetadataChangeAndIdempotence(t *testing.T) {
	t.Parallel()
	e := newE2E(t, []netboxtest.Option{netboxtest.WithDevices(40)})
	first := e.run(t, RunOptions{})
	before := map[string]wugtest.Device{}
	for _, d := range e.wug.Devices() {
		before[d.ID] = d
	}

	e.wug.ResetRequests()
	res := e.run(t, RunOptions{})
	if w := e.wugWrites(); w != 0 || res.Counts.Unchanged != first.Counts.Added {
		t.Fatalf("no-change run: %d writes, %+v", w, res.Counts)
	}

	var target netboxtest.Device
	for _, d := range e.nb.Devices() {
		if d.Quirks == 0 && d.PrimaryIP4 != 0 {
			target = d
			break
		}
	}
	e.updateDevice(t, target.ID, func(d *netboxtest.Device) { d.Serial = "SN-CHANGED" })
	e.wug.ResetRequests()
	res = e.run(t, RunOptions{})
	if res.Counts.Updated != 1 || res.Counts.Added != 0 {
		t.Errorf("change run: %+v, want exactly one update", res.Counts)
	}
	c := e.wug.Counts()
	if w := e.wugWrites(); w != 1 || c.ByRoute["PATCH /api/v1/devices/{deviceId}/attributes/-"] != 1 {
		t.Errorf("change run sent %d writes (%v), want one attribute PATCH", w, c.ByRoute)
	}
	for _, d := range e.wug.Devices() {
		old := before[d.ID]
		if d.Attributes["NetBox.ID"] == itoa(target.ID) {
			if d.Attributes["NetBox.Serial"] != "SN-CHANGED" {
				t.Errorf("changed device serial %q", d.Attributes["NetBox.Serial"])
			}
			continue
		}
		if d.Name != old.Name || !mapsEqual(d.Attributes, old.Attributes) {
			t.Errorf("device %s changed though its NetBox object did not", d.ID)
		}
	}
	e.checkAgree(t, first.Counts.Added)
}

func mapsEqual(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

// Every awkward case of the generator ends as a per-record error or
// warning with a reason, and the run completes.
func TestE2EBadNetBoxData(t *testing.T) {
	t.Parallel()
	e := newE2E(t, []netboxtest.Option{netboxtest.WithDevices(120), netboxtest.WithUndecodableDevice(), netboxtest.WithCustomStatus()})
	e.job.Connection.Selector.IPPolicy = netbox.AllIPs
	e.job.Connection.Selector.Statuses = []string{netbox.AnyStatus}
	res := e.run(t, RunOptions{})
	if res.Status != store.RunPartial && res.Status != store.RunSucceeded {
		t.Fatalf("run status %s", res.Status)
	}
	byObject := map[int64][]Outcome{}
	for _, o := range res.Outcomes {
		byObject[o.ObjectID] = append(byObject[o.ObjectID], o)
	}
	has := func(id int64, pred func(Outcome) bool) bool {
		return slices.ContainsFunc(byObject[id], pred)
	}
	for _, q := range netboxtest.AllQuirks() {
		devs := e.nb.Quirky(q)
		if len(devs) == 0 {
			t.Errorf("quirk %s: the generator planted none", q)
			continue
		}
		for _, d := range devs {
			var ok bool
			switch q {
			case netboxtest.QuirkUndecodable:
				ok = has(d.ID, func(o Outcome) bool { return o.Error != "" && o.Action == ActionSkip })
			case netboxtest.QuirkNetworkAddress, netboxtest.QuirkBroadcastAddress:
				ok = has(d.ID, func(o Outcome) bool {
					return o.Status == store.StatusError && (strings.Contains(o.Error, codeNetworkAddress) || strings.Contains(o.Error, codeBroadcastAddress))
				})
			case netboxtest.QuirkSameAddressTwoVRFs:
				ok = has(d.ID, func(o Outcome) bool { return o.Status == store.StatusExported && o.Key.Address.IsValid() })
			case netboxtest.QuirkNoPrimaryIP:
				// Exported by its interface address, or reported as having none.
				ok = has(d.ID, func(o Outcome) bool { return o.Status == store.StatusExported || warned(o, codeNoAddress) })
			default: // unnamed, IPv6 only, long text, unicode: exported
				ok = has(d.ID, func(o Outcome) bool { return o.Status == store.StatusExported })
			}
			if !ok {
				t.Errorf("quirk %s, device %d: outcomes %+v", q, d.ID, byObject[d.ID])
			}
		}
	}
	for _, o := range res.Outcomes {
		if o.Error != "" && o.Reason == "" && o.ObjectID == 0 {
			t.Errorf("outcome without a reason or object: %+v", o)
		}
	}
}

func warned(o Outcome, code string) bool {
	return slices.ContainsFunc(o.Findings, func(f Finding) bool { return f.Code == code })
}

// With 20% of WUG requests failing and random latency, every device ends
// up in WUG exactly once and every record is right. An add whose outcome
// stays unknown after a lookup and one re-send is recorded as failed; the
// next run finishes it.
func TestE2EFaults(t *testing.T) {
	t.Parallel()
	n := 2000
	if testing.Short() {
		n = 300
	}
	// NetBox is not under test here: an in-memory source keeps it quick.
	e := newE2E(t, []netboxtest.Option{netboxtest.WithDevices(0)})
	e.job.Source = &fakeSource{devs: testDevices(n)}
	e.wug.SetFaultRate(0.2, 7)
	e.wug.SetLatency(0, 3*time.Millisecond)
	res := e.run(t, RunOptions{})
	if res.Counts.Added+res.Counts.Failed != n || res.Counts.Added < n*9/10 {
		t.Errorf("faulty run: %+v", res.Counts)
	}
	for _, o := range res.Outcomes {
		if o.Error != "" && o.Status != store.StatusError {
			t.Errorf("failed item %s recorded as %q: %s", o.Key, o.Status, o.Error)
		}
	}
	e.wug.ClearFaults()
	e.checkAgree(t, res.Counts.Added)
	rest := e.run(t, RunOptions{})
	if rest.Counts.Added != res.Counts.Failed || rest.Counts.Failed != 0 {
		t.Errorf("run after faults: %+v, want the %d failed ones added", rest.Counts, res.Counts.Failed)
	}
	e.checkAgree(t, n)
	e.wug.ResetRequests()
	again := e.run(t, RunOptions{})
	if w := e.wugWrites(); w != 0 || again.Counts.Unchanged != n {
		t.Errorf("re-run after faults: %d writes, %+v", w, again.Counts)
	}
}
