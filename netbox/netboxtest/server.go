package netboxtest

import (
	"crypto/rand"
	"errors"
	"fmt"
	mrand "math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wugsync/wugsync/netbox"
)

// DefaultToken is the API token a fake accepts unless [WithToken] sets
// another: a 40-hex-character NetBox v1 token.
const DefaultToken = "0123456789abcdef0123456789abcdef01234567"

// Route names an endpoint of the fake for fault injection and request
// counting.
type Route string

// The routes the fake serves. RouteAny matches every route in
// [Handler.FailNext] and [Handler.DropNext].
const (
	RouteAny             Route = "*"
	RouteStatus          Route = "GET /api/status/"
	RouteDevices         Route = "GET /api/dcim/devices/"
	RouteDevice          Route = "GET /api/dcim/devices/{id}/"
	RouteVirtualMachines Route = "GET /api/virtualization/virtual-machines/"
	RouteVirtualMachine  Route = "GET /api/virtualization/virtual-machines/{id}/"
	RouteIPAddresses     Route = "GET /api/ipam/ip-addresses/"
	RouteIPAddress       Route = "GET /api/ipam/ip-addresses/{id}/"
	RouteInterfaces      Route = "GET /api/dcim/interfaces/"
	RouteSites           Route = "GET /api/dcim/sites/"
	RouteSite            Route = "GET /api/dcim/sites/{id}/"
	// Catalog lists that slug lookups read.
	RouteRoles Route = "GET /api/dcim/device-roles/"
	RouteTags  Route = "GET /api/extras/tags/"
	// Write-back: custom-field definitions, bulk custom-field updates of
	// devices and VMs, and journal entries.
	RouteCustomFields         Route = "GET /api/extras/custom-fields/"
	RouteCreateCustomFields   Route = "POST /api/extras/custom-fields/"
	RoutePatchDevices         Route = "PATCH /api/dcim/devices/"
	RoutePatchVirtualMachines Route = "PATCH /api/virtualization/virtual-machines/"
	RouteJournalEntries       Route = "GET /api/extras/journal-entries/"
	RouteCreateJournalEntries Route = "POST /api/extras/journal-entries/"
)

// Option configures a fake.
type Option func(*config) error

type config struct {
	token       string
	devices     int
	vms         int
	seed        uint64
	undecodable bool
	custom      bool
	version     string
	hookURL     string
	hookSecret  string
	maxPage     int
	now         func() time.Time
	hookClient  *http.Client
	strict      bool
}

// WithToken sets the API token the fake accepts. Tokens starting with
// "nbt_" (NetBox 4.5 v2 tokens) are accepted with the Bearer keyword as
// well as Token.
func WithToken(token string) Option {
	return func(c *config) error {
		if token == "" || strings.ContainsAny(token, " \t\r\n") {
			return errors.New("netboxtest: WithToken: token must be non-empty and without spaces")
		}
		c.token = token
		return nil
	}
}

// WithDevices sets how many devices the generator makes: 0 (none), or 10
// to 100,000. The default is 10.
func WithDevices(n int) Option {
	return func(c *config) error {
		if n != 0 && (n < 10 || n > 100_000) {
			return fmt.Errorf("netboxtest: WithDevices(%d): want 0 or 10 to 100000", n)
		}
		c.devices = n
		return nil
	}
}

// WithVirtualMachines sets how many virtual machines the generator makes
// (0 to 100,000; default 0).
func WithVirtualMachines(n int) Option {
	return func(c *config) error {
		if n < 0 || n > 100_000 {
			return fmt.Errorf("netboxtest: WithVirtualMachines(%d): want 0 to 100000", n)
		}
		c.vms = n
		return nil
	}
}

// WithSeed sets the generator's seed; the same seed and sizes give the
// same data. The default seed is 1.
func WithSeed(seed uint64) Option {
	return func(c *config) error { c.seed = seed; return nil }
}

// WithUndecodableDevice plants one device whose data no client can
// decode, flagged [QuirkUndecodable]: its primary IPv4 address is rendered
// with an impossible prefix length, in the device and in the address
// lists, as a damaged record would be. Tests use it to check that one bad
// object fails alone.
func WithUndecodableDevice() Option {
	return func(c *config) error { c.undecodable = true; return nil }
}

// WithCustomStatus plants one device whose status is a choice an
// administrator added through NetBox's FIELD_CHOICES ("maintenance",
// label "Maintenance"), flagged [QuirkCustomStatus]. NetBox serves and
// filters it like any status; go-netbox v4.3.0's models reject it.
func WithCustomStatus() Option {
	return func(c *config) error { c.custom = true; return nil }
}

// WithVersion sets the NetBox version the fake reports in /api/status/ and
// the API-Version header, which parameters it takes and the webhook body
// form. fields= is honoured from 4.0 on (3.x ignores it, as NetBox does);
// webhooks send "model" up to 4.4, "object_type" from 4.4, and from 4.6
// also "request". The default is "4.3.0"; 3.7 to 4.x are accepted.
func WithVersion(v string) Option {
	return func(c *config) error {
		var major, minor, patch int
		if n, _ := fmt.Sscanf(v, "%d.%d.%d", &major, &minor, &patch); n != 3 || major < 3 || major > 4 || major == 3 && minor < 7 {
			return fmt.Errorf("netboxtest: WithVersion(%q): want 3.7.y or 4.x.y", v)
		}
		c.version = v
		return nil
	}
}

// WithWebhook makes every device and VM mutation POST a NetBox webhook to
// url (a loopback address), signed with secret in X-Hook-Signature when
// secret is non-empty.
func WithWebhook(url, secret string) Option {
	return func(c *config) error {
		if err := checkLoopback(url); err != nil {
			return err
		}
		c.hookURL, c.hookSecret = url, secret
		return nil
	}
}

// WithMaxPageSize sets MAX_PAGE_SIZE, the largest page the fake returns
// (default 1000).
func WithMaxPageSize(n int) Option {
	return func(c *config) error {
		if n < 1 {
			return fmt.Errorf("netboxtest: WithMaxPageSize(%d): want at least 1", n)
		}
		c.maxPage = n
		return nil
	}
}

// WithStrictParams makes list endpoints answer 400 for query parameters
// no filter of that endpoint understands, naming them, to catch a client's
// misspelt filters. NetBox itself ignores unknown parameters, which is the
// default.
func WithStrictParams() Option {
	return func(c *config) error { c.strict = true; return nil }
}

// WithClock sets the clock that stamps mutations (default time.Now).
func WithClock(now func() time.Time) Option {
	return func(c *config) error {
		if now == nil {
			return errors.New("netboxtest: WithClock: nil clock")
		}
		c.now = now
		return nil
	}
}

func checkLoopback(raw string) error {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") {
		return fmt.Errorf("netboxtest: webhook URL %q: want an http(s) URL", raw)
	}
	host := u.Hostname()
	if host == "localhost" {
		return nil
	}
	if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
		return fmt.Errorf("netboxtest: webhook URL %q: the fake only sends to loopback addresses", raw)
	}
	return nil
}

// Handler is the fake NetBox as an [http.Handler], with its data and test
// controls. It is safe for concurrent use.
type Handler struct {
	cfg config
	mux *http.ServeMux

	mu      sync.RWMutex // guards the data below
	cat     catalog
	cfs     []cfDef
	devices *table[object]
	vms     *table[object]
	ips     *table[ipAddr]
	ifaces  *table[iface]
	journal []journalEntry
	lastUS  int64 // last mutation stamp, to keep last_updated strictly increasing

	ctl      sync.Mutex // guards the controls below
	faults   map[Route][]fault
	minDelay time.Duration
	maxDelay time.Duration
	rng      *mrand.Rand
	counts   map[Route]int
	log      []Request
	hooks    []Delivery
	hookURL  string
	hookKey  string
	requests int
	writes   int
}

// Request is one request the fake received, as recorded by
// [Handler.Requests]. It holds no headers, so no token.
type Request struct {
	Route  Route
	Method string
	Path   string
	Query  url.Values
	Status int
}

type fault struct {
	status     int
	drop       bool
	times      int
	retryAfter time.Duration
}

// Fault describes an injected error answer (see [Handler.FailNext]).
type Fault struct {
	Route  Route // the route whose requests fail; RouteAny for all
	Status int   // the HTTP status to answer with, e.g. 500, 503, 429
	Times  int   // how many requests fail (at least 1)
	// RetryAfter, when positive, is sent as a Retry-After header in whole
	// seconds (rounded up), as a proxy in front of NetBox would.
	RetryAfter time.Duration
}

const maxLog = 10_000

// NewHandler builds a fake NetBox with generated data. It serves the API
// at /api/... below whatever path it is mounted on.
func NewHandler(opts ...Option) (*Handler, error) {
	cfg := config{token: DefaultToken, devices: 10, seed: 1, version: "4.3.0", maxPage: 1000, now: time.Now,
		hookClient: &http.Client{Timeout: 10 * time.Second}}
	for _, o := range opts {
		if err := o(&cfg); err != nil {
			return nil, err
		}
	}
	h := &Handler{cfg: cfg, faults: map[Route][]fault{}, counts: map[Route]int{}, rng: mrand.New(mrand.NewPCG(cfg.seed, 2)),
		hookURL: cfg.hookURL, hookKey: cfg.hookSecret}
	h.devices = newTable(func(o *object) int64 { return o.id }, h.objectKeys)
	h.vms = newTable(func(o *object) int64 { return o.id }, h.objectKeys)
	h.ips = newTable(func(ip *ipAddr) int64 { return ip.id }, ipKeys)
	h.ifaces = newTable(func(i *iface) int64 { return i.id }, ifaceKeys)
	generate(h)
	h.routes()
	return h, nil
}

// Server is a fake NetBox listening on a loopback address, with the
// [Handler] controls.
type Server struct {
	*Handler
	URL   string // base URL, e.g. http://127.0.0.1:41234 (no trailing slash)
	Token string // the token the fake accepts

	srv *httptest.Server
	tb  testing.TB
}

// NewServer starts a fake NetBox for a test and stops it when the test
// ends. It fails the test on a bad option.
func NewServer(tb testing.TB, opts ...Option) *Server {
	tb.Helper()
	s, err := Start(opts...)
	if err != nil {
		tb.Fatal(err)
	}
	s.tb = tb
	tb.Cleanup(s.Close)
	return s
}

// Start runs a fake NetBox outside tests, on a random loopback port, for
// quick starts and examples. Call Close when done.
func Start(opts ...Option) (*Server, error) {
	h, err := NewHandler(opts...)
	if err != nil {
		return nil, err
	}
	s := httptest.NewServer(h)
	return &Server{Handler: h, URL: s.URL, Token: h.cfg.token, srv: s}, nil
}

// Close shuts the server down; in a test, early, to test a NetBox that
// went away (the test's cleanup closes it otherwise).
func (s *Server) Close() { s.srv.Close() }

// HTTPClient returns an HTTP client for the server.
func (s *Server) HTTPClient() *http.Client { return s.srv.Client() }

// NewClient builds a wugsync NetBox client for the fake:
// netbox.NewClient(s.URL, s.Token, …) over the server's HTTP client; opts
// follow and may override that.
func (s *Server) NewClient(opts ...netbox.Option) (*netbox.Client, error) {
	return netbox.NewClient(s.URL, s.Token, append([]netbox.Option{netbox.WithHTTPClient(s.HTTPClient())}, opts...)...)
}

// Client returns a client built as [Server.NewClient] does. It fails the
// test if the client cannot be built (and panics outside tests).
func (s *Server) Client(opts ...netbox.Option) *netbox.Client {
	c, err := s.NewClient(opts...)
	if err != nil {
		if s.tb != nil {
			s.tb.Helper()
			s.tb.Fatalf("netboxtest: Client: %v", err)
		}
		panic(fmt.Sprintf("netboxtest: Client: %v", err))
	}
	return c
}

func (h *Handler) routes() {
	m := http.NewServeMux()
	for _, rt := range []struct {
		route Route
		ok    int // the status of a success
		fn    func(r *http.Request, base string) ([]byte, *apiError)
	}{
		{RouteStatus, http.StatusOK, h.getStatus},
		{RouteDevices, http.StatusOK, h.listDevices},
		{RouteDevice, http.StatusOK, h.getDevice},
		{RouteVirtualMachines, http.StatusOK, h.listVMs},
		{RouteVirtualMachine, http.StatusOK, h.getVM},
		{RouteIPAddresses, http.StatusOK, h.listIPs},
		{RouteIPAddress, http.StatusOK, h.getIP},
		{RouteInterfaces, http.StatusOK, h.listInterfaces},
		{RouteSites, http.StatusOK, h.listSites},
		{RouteSite, http.StatusOK, h.getSite},
		{RouteRoles, http.StatusOK, h.listRoles},
		{RouteTags, http.StatusOK, h.listTags},
		{RouteCustomFields, http.StatusOK, h.listCustomFields},
		{RouteCreateCustomFields, http.StatusCreated, h.createCustomFields},
		{RoutePatchDevices, http.StatusOK, h.patchObjects(h.devices, false)},
		{RoutePatchVirtualMachines, http.StatusOK, h.patchObjects(h.vms, true)},
		{RouteJournalEntries, http.StatusOK, h.listJournalEntries},
		{RouteCreateJournalEntries, http.StatusCreated, h.createJournalEntries},
	} {
		m.HandleFunc(string(rt.route)+"{$}", h.serveStatus(rt.route, rt.ok, rt.fn))
	}
	m.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		// A known path with a method the fake does not serve there.
		if allow := allowed(m, r); allow != "" {
			h.count("", r, http.StatusMethodNotAllowed)
			w.Header().Set("Allow", allow)
			writeJSON(w, h.apiVersion(), http.StatusMethodNotAllowed, detail(0, `Method "`+r.Method+`" not allowed.`).body)
			return
		}
		h.count("", r, http.StatusNotFound)
		writeJSON(w, h.apiVersion(), http.StatusNotFound, detail(0, "Not found.").body)
	})
	h.mux = m
}

// allowed lists the methods m serves at r's path, or "" for none.
func allowed(m *http.ServeMux, r *http.Request) string {
	var out []string
	for _, method := range []string{http.MethodGet, http.MethodPost, http.MethodPatch} {
		probe := r.Clone(r.Context())
		probe.Method = method
		if _, pattern := m.Handler(probe); pattern != "/" {
			out = append(out, method)
			if method == http.MethodGet {
				out = append(out, http.MethodHead)
			}
		}
	}
	return strings.Join(out, ", ")
}

// ServeHTTP serves the NetBox REST API.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) { h.mux.ServeHTTP(w, r) }

// apiError is a response other than 200, with NetBox's JSON body.
type apiError struct {
	status int
	body   []byte
}

func detail(status int, msg string) *apiError {
	e := enc{}
	e.open()
	e.k("detail")
	e.str(msg)
	e.close()
	return &apiError{status: status, body: e.b}
}

// serve wraps an endpoint with counting, fault injection, latency and
// authentication.
func (h *Handler) serve(route Route, fn func(r *http.Request, base string) ([]byte, *apiError)) http.HandlerFunc {
	return h.serveStatus(route, http.StatusOK, fn)
}

// serveStatus is serve for an endpoint whose success status is ok.
func (h *Handler) serveStatus(route Route, ok int, fn func(r *http.Request, base string) ([]byte, *apiError)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		h.ctl.Lock()
		lat := h.minDelay
		if h.maxDelay > h.minDelay {
			lat += time.Duration(h.rng.Int64N(int64(h.maxDelay - h.minDelay + 1)))
		}
		f, hit := h.takeFault(route)
		h.ctl.Unlock()
		if lat > 0 {
			select {
			case <-time.After(lat):
			case <-r.Context().Done():
				h.count(route, r, 0)
				return // the client gave up
			}
		}
		if hit && f.drop {
			h.count(route, r, 0)
			if hj, ok := w.(http.Hijacker); ok {
				if c, _, err := hj.Hijack(); err == nil {
					c.Close()
					return
				}
			}
			panic(http.ErrAbortHandler)
		}
		if hit {
			h.count(route, r, f.status)
			if f.retryAfter > 0 {
				w.Header().Set("Retry-After", strconv.FormatInt(int64((f.retryAfter+time.Second-1)/time.Second), 10))
			}
			if f.status == http.StatusBadGateway || f.status == http.StatusGatewayTimeout {
				// A proxy in front of NetBox answers these, in HTML.
				w.Header().Set("Content-Type", "text/html")
				w.WriteHeader(f.status)
				fmt.Fprintf(w, "<html><body><h1>%d %s</h1></body></html>\n", f.status, http.StatusText(f.status))
				return
			}
			writeJSON(w, h.apiVersion(), f.status, faultBody(f.status, h.cfg.version))
			return
		}
		if e := h.authenticate(r); e != nil {
			h.count(route, r, e.status)
			writeJSON(w, h.apiVersion(), e.status, e.body)
			return
		}
		body, e := fn(r, baseURL(r))
		if e != nil {
			h.count(route, r, e.status)
			writeJSON(w, h.apiVersion(), e.status, e.body)
			return
		}
		h.count(route, r, ok)
		writeJSON(w, h.apiVersion(), ok, body)
		release(body)
	}
}

func faultBody(status int, version string) []byte {
	switch {
	case status == http.StatusForbidden:
		return detail(status, "You do not have permission to perform this action.").body
	case status == http.StatusNotFound:
		return detail(status, "Not found.").body
	case status == http.StatusTooManyRequests:
		return detail(status, "Request was throttled.").body
	case status == http.StatusInternalServerError:
		return []byte(`{"error":"injected fault","exception":"RuntimeError","netbox_version":"` + version + `","python_version":"3.12.3"}`)
	}
	return detail(status, http.StatusText(status)).body
}

func writeJSON(w http.ResponseWriter, apiVersion string, status int, body []byte) {
	hd := w.Header()
	hd.Set("Content-Type", "application/json")
	hd.Set("API-Version", apiVersion)
	hd.Set("X-Request-ID", newUUID())
	hd.Set("Vary", "Accept, Cookie, Origin")
	w.WriteHeader(status)
	w.Write(body)
}

func (h *Handler) apiVersion() string {
	v := h.cfg.version
	if i := strings.LastIndexByte(v, '.'); i > 0 {
		return v[:i]
	}
	return v
}

// since reports whether the fake's NetBox version is major.minor or later.
func (h *Handler) since(major, minor int) bool {
	var maj, min int
	fmt.Sscanf(h.cfg.version, "%d.%d", &maj, &min)
	return maj > major || maj == major && min >= minor
}

// authenticate checks the Authorization header as NetBox does: a missing
// header and a refused token both give 403.
func (h *Handler) authenticate(r *http.Request) *apiError {
	v := r.Header.Get("Authorization")
	if len(r.Header.Values("Authorization")) > 1 {
		return detail(http.StatusForbidden, "Invalid token header. Token string should not contain spaces.")
	}
	keyword, key, ok := strings.Cut(v, " ")
	if v == "" || !ok {
		return detail(http.StatusForbidden, "Authentication credentials were not provided.")
	}
	v2 := strings.HasPrefix(key, "nbt_")
	switch {
	case strings.EqualFold(keyword, "Token"):
	case strings.EqualFold(keyword, "Bearer") && v2:
	default:
		return detail(http.StatusForbidden, "Authentication credentials were not provided.")
	}
	if key != h.cfg.token {
		switch {
		case h.since(4, 5) && v2:
			return detail(http.StatusForbidden, "Invalid v2 token")
		case h.since(4, 5):
			return detail(http.StatusForbidden, "Invalid v1 token")
		}
		return detail(http.StatusForbidden, "Invalid token")
	}
	return nil
}

// baseURL is the scheme and host NetBox builds absolute URLs from.
func baseURL(r *http.Request) string {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	if p := r.Header.Get("X-Forwarded-Proto"); p == "http" || p == "https" {
		scheme = p
	}
	return scheme + "://" + r.Host
}

func (h *Handler) takeFault(route Route) (fault, bool) {
	for _, k := range []Route{route, RouteAny} {
		q := h.faults[k]
		if len(q) == 0 {
			continue
		}
		f := q[0]
		q[0].times--
		if q[0].times <= 0 {
			q = q[1:]
		}
		h.faults[k] = q
		return f, true
	}
	return fault{}, false
}

func (h *Handler) count(route Route, r *http.Request, status int) {
	h.ctl.Lock()
	defer h.ctl.Unlock()
	h.counts[route]++
	h.requests++
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		h.writes++
	}
	if len(h.log) >= maxLog {
		h.log = append(h.log[:0], h.log[maxLog/2:]...)
	}
	h.log = append(h.log, Request{Route: route, Method: r.Method, Path: r.URL.Path, Query: r.URL.Query(), Status: status})
}

// FailNext makes the next f.Times requests on f.Route (every route, with
// RouteAny) answer f.Status, before authentication and without touching the
// data: 502 and 504 with a proxy's HTML page, other statuses with a
// NetBox-style JSON body. Faults queue in order.
func (h *Handler) FailNext(f Fault) {
	h.ctl.Lock()
	defer h.ctl.Unlock()
	h.faults[f.Route] = append(h.faults[f.Route], fault{status: f.Status, times: max(f.Times, 1), retryAfter: f.RetryAfter})
}

// DropNext makes the next n requests on route (every route, with RouteAny)
// lose their connection before any answer; the client sees EOF.
func (h *Handler) DropNext(route Route, n int) {
	h.ctl.Lock()
	defer h.ctl.Unlock()
	h.faults[route] = append(h.faults[route], fault{drop: true, times: max(n, 1)})
}

// SetLatency delays every request: by d with one argument, or by a
// duration drawn uniformly from [d, hi[0]] with two (as wugtest's
// SetLatency does). Zero turns it off. A request whose context ends while
// it waits is abandoned.
func (h *Handler) SetLatency(d time.Duration, hi ...time.Duration) {
	h.ctl.Lock()
	defer h.ctl.Unlock()
	h.minDelay, h.maxDelay = d, d
	if len(hi) > 0 {
		h.maxDelay = max(d, hi[0])
	}
}

// ClearFaults removes queued faults and drops, and the latency.
func (h *Handler) ClearFaults() {
	h.ctl.Lock()
	defer h.ctl.Unlock()
	h.faults = map[Route][]fault{}
	h.minDelay, h.maxDelay = 0, 0
}

// Count returns how many requests reached route (RouteAny: all routes,
// including unknown paths), whatever their outcome.
func (h *Handler) Count(route Route) int {
	h.ctl.Lock()
	defer h.ctl.Unlock()
	if route == RouteAny {
		return h.requests
	}
	return h.counts[route]
}

// Requests returns the recorded requests, oldest first (the most recent
// 10,000 at most).
func (h *Handler) Requests() []Request {
	h.ctl.Lock()
	defer h.ctl.Unlock()
	return append([]Request(nil), h.log...)
}

// ResetRequests clears the request counts and log.
func (h *Handler) ResetRequests() {
	h.ctl.Lock()
	defer h.ctl.Unlock()
	h.counts = map[Route]int{}
	h.requests, h.writes = 0, 0
	h.log = nil
}

func newUUID() string {
	var b [16]byte
	rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	const x = "0123456789abcdef"
	out := make([]byte, 0, 36)
	for i, c := range b {
		if i == 4 || i == 6 || i == 8 || i == 10 {
			out = append(out, '-')
		}
		out = append(out, x[c>>4], x[c&0xf])
	}
	return string(out)
}
