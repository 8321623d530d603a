package export

import (
	"encoding/pem"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/wugsync/wugsync/netbox"
	"github.com/wugsync/wugsync/netbox/netboxtest"
	"github.com/wugsync/wugsync/store"
	"github.com/wugsync/wugsync/store/sqlite"
	"github.com/wugsync/wugsync/wug"
	"github.com/wugsync/wugsync/wug/wugtest"
)

const (
	routeTemplate   = "PATCH /api/v1/devices/-/config/template"
	routeAttributes = "PATCH /api/v1/devices/{deviceId}/attributes/-"
	routeListing    = "GET /api/v1/device-groups/{groupId}/devices/-"
)

// lookups counts the address searches the fake received.
func (e *e2e) lookups() int {
	n := 0
	for _, r := range e.wug.Requests() {
		if r.Route == routeListing && r.Query.Get("search") != "" {
			n++
		}
	}
	return n
}

// Each fault class costs a pinned number of WUG requests end to end,
// through the real client's retry layer and the executor: a refusal is
// sent once, a 503 as often as the HTTP layer tries, and a request WUG may
// have acted on is looked up before it is sent at most once more.
func TestE2ERequestsPerFault(t *testing.T) {
	t.Parallel()
	httpAttempts := fastRetry.MaxRetries + 1
	tests := []struct {
		name   string
		update bool // the fault hits a metadata update instead of an add
		fault  func(*wugtest.Server)
		route  string
		want   int // requests on route
		lookup bool
		failed int
	}{
		{name: "add refused (400)", route: routeTemplate, want: 1, failed: 10,
			fault: func(s *wugtest.Server) {
				s.FailNext(wugtest.Fault{Route: routeTemplate, Status: http.StatusBadRequest, Times: 100})
			}},
		{name: "add unavailable (503)", route: routeTemplate, want: httpAttempts, failed: 10,
			fault: func(s *wugtest.Server) {
				s.FailNext(wugtest.Fault{Route: routeTemplate, Status: http.StatusServiceUnavailable, Times: 100})
			}},
		{name: "update refused (400)", update: true, route: routeAttributes, want: 1, failed: 1,
			fault: func(s *wugtest.Server) {
				s.FailNext(wugtest.Fault{Route: routeAttributes, Status: http.StatusBadRequest, Times: 100})
			}},
		{name: "update unavailable (503)", update: true, route: routeAttributes, want: httpAttempts, failed: 1,
			fault: func(s *wugtest.Server) {
				s.FailNext(wugtest.Fault{Route: routeAttributes, Status: http.StatusServiceUnavailable, Times: 100})
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := newE2E(t, []netboxtest.Option{netboxtest.WithDevices(0)})
			src := &fakeSource{devs: testDevices(10)}
			for i := range src.devs { // one group path: one template apply
				src.devs[i].Site = src.devs[0].Site
			}
			e.job.Source = src
			if tt.update {
				e.run(t, ExportOptions{})
				src.set(3, func(d *netbox.Device) { d.Description = "moved" })
			}
			e.wug.ResetRequests()
			tt.fault(e.wug)
			res, err := e.job.Run(t.Context(), ExportOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if got := e.wug.Count(tt.route); got != tt.want {
				t.Errorf("%d requests on %s, want %d", got, tt.route, tt.want)
			}
			if got := e.lookups(); (got > 0) != tt.lookup {
				t.Errorf("%d address lookups, want some: %v", got, tt.lookup)
			}
			if res.Counts.Failed != tt.failed {
				t.Errorf("counts %+v, want %d failed", res.Counts, tt.failed)
			}
			e.wug.ClearFaults()
			rest := e.run(t, ExportOptions{})
			if rest.Counts.Failed != 0 {
				t.Errorf("next run: %+v", rest.Counts)
			}
			e.checkDistinct(t, 10)
		})
	}
}

// checkDistinct asserts the end state every fault test must reach: WUG
// holds one device per distinct address, each linked by its record, and
// no record is left pending.
func (e *e2e) checkDistinct(t testing.TB, addrs int) {
	t.Helper()
	e.checkAgree(t, addrs)
	if n := e.wug.DeviceCount(); n != addrs {
		t.Errorf("WUG holds %d devices for %d distinct addresses", n, addrs)
	}
	for _, r := range e.records(t) {
		if r.Status == store.StatusPending {
			t.Errorf("record %s left pending", r.Key)
		}
	}
}

// A re-run whose device listing answers 200 with an error envelope, as a
// failing WUG may, adds nothing: the run fails before any write, with the
// decoder's error or the add guard's.
func TestE2EListingErrorEnvelopeOnReRun(t *testing.T) {
	t.Parallel()
	const n = 200
	h := wugtest.NewHandler(wugtest.WithReporter(t.Errorf))
	var envelopes atomic.Int32 // full listings still to answer with an error envelope
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodGet && strings.HasPrefix(r.URL.Path, "/api/v1/device-groups/") && strings.HasSuffix(r.URL.Path, "/devices/-") &&
			r.URL.Query().Get("search") == "" && envelopes.Add(-1) >= 0 {
			w.Header().Set("Content-Type", "application/json")
			io.WriteString(w, `{"error":{"message":"internal error"}}`)
			return
		}
		h.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	c, err := wug.NewClient(srv.URL, wug.WithCredentials(wugtest.DefaultUser, wugtest.DefaultPassword),
		wug.WithCAPEM(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw})),
		wug.WithRetry(fastRetry), wug.WithRateLimit(0, 0))
	if err != nil {
		t.Fatal(err)
	}
	st, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "wugsync.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	tr := testTransformer(t)
	job := &ExportJob{Connection: Connection{Name: "wug1"}, Source: &fakeSource{devs: testDevices(n)},
		WUG: NewWUGAPI(c, WUGClientOptions{AttributePrefix: tr.AttributePrefix()}), Store: st, Transformer: tr}
	writes := func() int {
		w := 0
		for _, r := range h.Requests() {
			if r.IsWrite() && r.Path != "/api/v1/token" {
				w++
			}
		}
		return w
	}

	if res, err := job.Run(t.Context(), ExportOptions{}); err != nil || res.Counts.Added != n {
		t.Fatalf("first run: %v, %+v", err, res.Counts)
	}
	before := writes()
	envelopes.Store(1)
	res, err := job.Run(t.Context(), ExportOptions{})
	if err == nil || !(errors.Is(err, ErrMissingDevices) || strings.Contains(err.Error(), "listing WUG devices")) {
		t.Fatalf("re-run: err %v, want the decoder's or the add guard's error", err)
	}
	if envelopes.Load() > 0 {
		t.Fatal("the listing never answered with the error envelope")
	}
	if w := writes() - before; res.Status != store.RunFailed || w != 0 || h.DeviceCount() != n {
		t.Errorf("re-run: status %s, %d writes, WUG holds %d devices; want failed, 0, %d", res.Status, w, h.DeviceCount(), n)
	}
	t.Logf("the re-run failed with: %v", err)

	again, err := job.Run(t.Context(), ExportOptions{})
	if err != nil || again.Counts.Unchanged != n {
		t.Fatalf("next run: %v, %+v", err, again.Counts)
	}
	addrs := map[string]bool{}
	for _, d := range h.Devices() {
		addrs[d.Address] = true
	}
	if h.DeviceCount() != len(addrs) || len(addrs) != n {
		t.Errorf("WUG holds %d devices for %d distinct addresses, want %d", h.DeviceCount(), len(addrs), n)
	}
	for r, err := range st.Records(t.Context(), store.Query{Connection: "wug1"}) {
		if err != nil {
			t.Fatal(err)
		}
		if r.Status != store.StatusExported {
			t.Errorf("record %s left %s", r.Key, r.Status)
		}
	}
}
