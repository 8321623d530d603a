package export

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"runtime/metrics"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/wugsync/wugsync/internal/childproc"
	"github.com/wugsync/wugsync/netbox"
	"github.com/wugsync/wugsync/netbox/netboxtest"
	"github.com/wugsync/wugsync/store/sqlite"
	"github.com/wugsync/wugsync/wug"
	"github.com/wugsync/wugsync/wug/wugtest"
)

// The benchmarks run the fake NetBox and the fake WUG in a child process
// (the test binary re-executed), so the heap they measure is the export
// engine's own, as it would be against real servers.
const (
	benchEnvChild   = "WUGSYNC_BENCH_FAKES"
	benchEnvDevices = "WUGSYNC_BENCH_DEVICES"
	benchLatency    = 2 * time.Millisecond
)

// benchCounts are the fakes' request counts since the last reset.
type benchCounts struct {
	NetBox     int `json:"netbox"`
	WUG        int `json:"wug"`
	WUGWrites  int `json:"wug_writes"`
	WUGDevices int `json:"wug_devices"`
	// WUGRoutes counts the WUG requests by route ("METHOD /api/v1/…").
	WUGRoutes map[string]int `json:"wug_routes"`
}

// benchAddrs are the child's server URLs; the fakes use their default
// credentials, which are not passed around.
type benchAddrs struct {
	NetBox, WUG, Control string
}

// TestBenchFakesChild serves the benchmark fakes; it does nothing in a
// normal test run.
func TestBenchFakesChild(t *testing.T) {
	if os.Getenv(benchEnvChild) != "1" {
		t.Skip("runs only as the fake-server child of the export benchmarks")
	}
	n, _ := strconv.Atoi(os.Getenv(benchEnvDevices))
	nb, err := netboxtest.NewHandler(netboxtest.WithDevices(n))
	if err != nil {
		t.Fatal(err)
	}
	nb.SetLatency(benchLatency)
	nbs := httptest.NewServer(nb)
	defer nbs.Close()
	w := wugtest.Start(wugtest.WithPlainHTTP(), wugtest.WithoutContract())
	defer w.Close()
	w.SetLatency(benchLatency, benchLatency)
	ctl := http.NewServeMux()
	ctl.HandleFunc("GET /counts", func(rw http.ResponseWriter, r *http.Request) {
		c := w.Counts()
		_ = json.NewEncoder(rw).Encode(benchCounts{NetBox: len(nb.Requests()), WUG: c.Reads + c.Writes,
			WUGWrites: c.Writes - w.Count("POST /api/v1/token"), WUGDevices: w.DeviceCount(), WUGRoutes: c.ByRoute})
	})
	ctl.HandleFunc("POST /reset", func(rw http.ResponseWriter, r *http.Request) {
		nb.ResetRequests()
		w.ResetRequests()
	})
	ctl.HandleFunc("POST /change", func(rw http.ResponseWriter, r *http.Request) {
		every, err := strconv.Atoi(r.URL.Query().Get("every"))
		if err != nil || every < 1 {
			http.Error(rw, "every: want a whole number from 1", http.StatusBadRequest)
			return
		}
		n, err := benchChange(nb, every, r.URL.Query().Get("mark"))
		if err != nil {
			http.Error(rw, err.Error(), http.StatusInternalServerError)
			return
		}
		_ = json.NewEncoder(rw).Encode(n)
	})
	cs := httptest.NewServer(ctl)
	defer cs.Close()
	addrs, _ := json.Marshal(benchAddrs{NetBox: nbs.URL, WUG: w.URL, Control: cs.URL})
	fmt.Printf("BENCHFAKES %s\n", addrs)
	childproc.Serve()
}

// benchFakes is a running fake-server child.
type benchFakes struct {
	benchAddrs
	close func() // stops the child early; the benchmark's end stops it otherwise
}

func startBenchFakes(b *testing.B, n int) *benchFakes {
	b.Helper()
	line, stop := childproc.Start(b, "BENCHFAKES ", []string{"-test.run=^TestBenchFakesChild$", "-test.count=1", "-test.v"},
		benchEnvChild+"=1", benchEnvDevices+"="+strconv.Itoa(n))
	f := &benchFakes{close: stop}
	if err := json.Unmarshal([]byte(line), &f.benchAddrs); err != nil {
		b.Fatal(err)
	}
	return f
}

func (f *benchFakes) counts(b *testing.B) benchCounts {
	b.Helper()
	resp, err := http.Get(f.Control + "/counts")
	if err != nil {
		b.Fatal(err)
	}
	defer resp.Body.Close()
	var c benchCounts
	if err := json.NewDecoder(resp.Body).Decode(&c); err != nil {
		b.Fatal(err)
	}
	return c
}

func (f *benchFakes) reset(b *testing.B) {
	b.Helper()
	resp, err := http.Post(f.Control+"/reset", "", nil)
	if err != nil {
		b.Fatal(err)
	}
	resp.Body.Close()
}

func (f *benchFakes) wugClient(b *testing.B) *wug.Client {
	b.Helper()
	// The client-side rate limit is off: the benchmark measures the
	// engine and its request pattern, not a configured throttle.
	c, err := wug.NewClient(f.WUG, wug.WithCredentials(wugtest.DefaultUser, wugtest.DefaultPassword), wug.WithRateLimit(0, 0))
	if err != nil {
		b.Fatal(err)
	}
	return c
}

func (f *benchFakes) netboxClient(b *testing.B) *netbox.Client {
	b.Helper()
	c, err := netbox.NewClient(f.NetBox, netboxtest.DefaultToken)
	if err != nil {
		b.Fatal(err)
	}
	return c
}

// benchJob wires an export to the fakes and a SQLite store in dir.
func benchJob(b *testing.B, f *benchFakes, dir string) *exportJob {
	b.Helper()
	st, err := sqlite.Open(context.Background(), filepath.Join(dir, "bench.db"))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { st.Close() })
	tr := testTransformer(b)
	return &exportJob{Connection: connSettings{Name: "bench"}, Source: f.netboxClient(b),
		WUG: newWUGAPI(f.wugClient(b), wugOptions{}), Store: st, Transformer: tr}
}

// peakHeap samples the live heap while it runs and reports the peak.
type peakHeap struct {
	peak atomic.Uint64
	stop chan struct{}
	wg   sync.WaitGroup
}

func startPeakHeap() *peakHeap {
	runtime.GC()
	p := &peakHeap{stop: make(chan struct{})}
	sample := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	read := func() {
		metrics.Read(sample)
		if v := sample[0].Value.Uint64(); v > p.peak.Load() {
			p.peak.Store(v)
		}
	}
	read()
	p.wg.Go(func() {
		t := time.NewTicker(5 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-p.stop:
				read()
				return
			case <-t.C:
				read()
			}
		}
	})
	return p
}

func (p *peakHeap) mb() float64 {
	close(p.stop)
	p.wg.Wait()
	return float64(p.peak.Load()) / (1 << 20)
}

func benchSizes() []int {
	if os.Getenv("WUGSYNC_BENCH_LARGE") == "1" {
		return []int{1000, 10000, 100000}
	}
	return []int{1000, 10000}
}

// BenchmarkExportFirstRun exports N generated NetBox devices into an empty
// WUG (every request to either fake takes 2 ms).
func BenchmarkExportFirstRun(b *testing.B) {
	for _, n := range benchSizes() {
		b.Run(fmt.Sprintf("devices=%d", n), func(b *testing.B) { benchExport(b, n, false) })
	}
}

// BenchmarkExportNoChange re-runs an export of N devices with no NetBox
// change; it should send no write to WUG.
func BenchmarkExportNoChange(b *testing.B) {
	for _, n := range benchSizes() {
		b.Run(fmt.Sprintf("devices=%d", n), func(b *testing.B) { benchExport(b, n, true) })
	}
}

func benchExport(b *testing.B, n int, rerun bool) {
	var total benchCounts
	var elapsed time.Duration
	var peak float64
	selected := 0
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		f := startBenchFakes(b, n) // a fresh, empty WUG each iteration
		job := benchJob(b, f, b.TempDir())
		if rerun {
			if res, err := job.Run(context.Background(), RunOptions{}); err != nil || res.Counts.Failed != 0 {
				b.Fatalf("seeding run: %v %+v", err, res)
			}
		}
		f.reset(b)
		heap := startPeakHeap()
		b.StartTimer()
		t0 := time.Now()
		res, err := job.Run(context.Background(), RunOptions{})
		elapsed += time.Since(t0)
		b.StopTimer()
		peak = max(peak, heap.mb())
		if err != nil || res.Counts.Failed != 0 {
			b.Fatalf("export: %v %+v", err, res)
		}
		c := f.counts(b)
		total.NetBox += c.NetBox
		total.WUG += c.WUG
		total.WUGWrites += c.WUGWrites
		selected = res.Counts.Selected
		f.close()
	}
	per := float64(b.N)
	b.ReportMetric(float64(total.NetBox)/per, "netbox_req")
	b.ReportMetric(float64(total.WUG)/per, "wug_req")
	b.ReportMetric(float64(total.WUG)/per/float64(n), "wug_req/device")
	b.ReportMetric(float64(total.WUGWrites)/per, "wug_writes")
	b.ReportMetric(float64(n)*per/elapsed.Seconds(), "devices/s")
	b.ReportMetric(peak, "peak_heap_MB")
	b.ReportMetric(float64(selected), "addresses")
}

// perDevice is the pattern existing tools use: for each device, search WUG
// by address, apply a one-device template, then add each attribute with
// its own POST request.
type perDevice struct {
	c     *wug.Client
	base  string
	token string
	hc    *http.Client
}

func newPerDevice(b *testing.B, f *benchFakes) *perDevice {
	b.Helper()
	p := &perDevice{c: f.wugClient(b), base: f.WUG, hc: &http.Client{Timeout: 30 * time.Second}}
	// POST /api/v1/token (password grant) for the attribute requests.
	resp, err := p.hc.PostForm(f.WUG+"/api/v1/token", url.Values{"grant_type": {"password"},
		"username": {wugtest.DefaultUser}, "password": {wugtest.DefaultPassword}})
	if err != nil {
		b.Fatal(err)
	}
	defer resp.Body.Close()
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&tok); err != nil || tok.AccessToken == "" {
		b.Fatalf("token: %v", err)
	}
	p.token = tok.AccessToken
	return p
}

func (p *perDevice) export(ctx context.Context, src netBoxSource, tr *transformer) (int, error) {
	n := 0
	for dev, err := range src.Devices(ctx, netbox.Selector{}) {
		if err != nil {
			return n, err
		}
		for _, c := range tr.Prepare(&dev, "", "bench") {
			if !c.Exportable() {
				continue
			}
			// GET /api/v1/device-groups/0/devices/-?search=
			found, err := p.c.Devices.FindByAddress(ctx, c.Key.Address.String())
			if err != nil {
				return n, err
			}
			if len(found) > 0 {
				continue
			}
			t := c.Template
			attrs := t.Attributes
			t.Attributes = nil
			// PATCH /api/v1/devices/-/config/template with one template.
			out, err := p.c.Devices.BulkAdd(ctx, []wug.DeviceTemplate{t})
			if err != nil {
				return n, err
			}
			for _, a := range attrs {
				// POST /api/v1/devices/{id}/attributes/-?name=&value=
				q := url.Values{"name": {a.Name}, "value": {a.Value}}
				req, _ := http.NewRequestWithContext(ctx, http.MethodPost,
					p.base+"/api/v1/devices/"+url.PathEscape(out[0].DeviceID)+"/attributes/-?"+q.Encode(), nil)
				req.Header.Set("Authorization", "Bearer "+p.token)
				resp, err := p.hc.Do(req)
				if err != nil {
					return n, err
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != http.StatusOK {
					return n, fmt.Errorf("attribute POST: %s", resp.Status)
				}
			}
			n++
		}
	}
	return n, nil
}

// BenchmarkExportVsPerDevice runs, at 1,000 devices, our export and the
// per-device pattern over the same fakes (each into an empty WUG) and
// reports the per-device wall time over ours: speedup_vs_per_device with
// both reading NetBox through the client (end to end), and
// speedup_wug_side with both reading the same devices from memory, which
// isolates the WUG request pattern.
func BenchmarkExportVsPerDevice(b *testing.B) {
	const n = 1000
	var ours, theirs, oursMem, theirsMem time.Duration
	var ourReq, theirReq int
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		d, req, added := vsRun(b, n, nil, true)
		ours += d
		ourReq += req
		d, req, theirAdded := vsRun(b, n, nil, false)
		theirs += d
		theirReq += req
		// The per-device pattern skips an address WUG already has, so an
		// address used in two VRFs gets one device there and two here.
		if diff := added - theirAdded; theirAdded == 0 || diff < 0 || diff > n/100 {
			b.Fatalf("per-device added %d, ours %d", theirAdded, added)
		}
		devs := benchDevices(b, n)
		d, _, _ = vsRun(b, n, devs, true)
		oursMem += d
		d, _, _ = vsRun(b, n, devs, false)
		theirsMem += d
	}
	b.ReportMetric(theirs.Seconds()/ours.Seconds(), "speedup_vs_per_device")
	b.ReportMetric(theirsMem.Seconds()/oursMem.Seconds(), "speedup_wug_side")
	b.ReportMetric(ours.Seconds()/float64(b.N), "ours_s")
	b.ReportMetric(theirs.Seconds()/float64(b.N), "per_device_s")
	b.ReportMetric(float64(ourReq)/float64(b.N), "wug_req")
	b.ReportMetric(float64(theirReq)/float64(b.N), "per_device_wug_req")
}

// benchDevices reads the generated NetBox devices once, for runs that
// take them from memory.
func benchDevices(b *testing.B, n int) []netbox.Device {
	b.Helper()
	f := startBenchFakes(b, n)
	defer f.close()
	var devs []netbox.Device
	for d, err := range f.netboxClient(b).Devices(context.Background(), netbox.Selector{}) {
		if err != nil {
			b.Fatal(err)
		}
		devs = append(devs, d)
	}
	return devs
}

// vsRun times one export into a fresh, empty WUG: ours or the per-device
// pattern, reading NetBox through the client or, when devs is set, from
// memory. It returns the wall time, the WUG requests and the addresses
// added.
func vsRun(b *testing.B, n int, devs []netbox.Device, ours bool) (time.Duration, int, int) {
	b.Helper()
	f := startBenchFakes(b, n)
	defer f.close()
	var src netBoxSource = f.netboxClient(b)
	if devs != nil {
		src = &fakeSource{devs: devs}
	}
	var added int
	var d time.Duration
	if ours {
		job := benchJob(b, f, b.TempDir())
		job.Source = src
		f.reset(b)
		b.StartTimer()
		t0 := time.Now()
		res, err := job.Run(context.Background(), RunOptions{})
		d = time.Since(t0)
		b.StopTimer()
		if err != nil || res.Counts.Failed != 0 {
			b.Fatalf("export: %v %+v", err, res)
		}
		added = res.Counts.Added
	} else {
		p := newPerDevice(b, f)
		tr := testTransformer(b)
		f.reset(b)
		t0 := time.Now()
		var err error
		added, err = p.export(context.Background(), src, tr)
		d = time.Since(t0)
		if err != nil {
			b.Fatalf("per-device: %v", err)
		}
	}
	return d, f.counts(b).WUG, added
}
