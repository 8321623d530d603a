// Package netbox reads devices, virtual machines and their IP addresses
// from NetBox (3.7 to 4.5; 4.3 to 4.5 supported), and receives NetBox
// webhooks.
//
// A Client streams the objects a Selector picks as project-owned Device
// values: keyset paging by id, 1000 objects per page, IP addresses and site
// regions fetched in batches per page, and the next page fetched while the
// current one is consumed, so the number of requests grows with
// devices/1000 and memory stays flat. WebhookHandler turns NetBox event-rule
// deliveries into typed events.
//
// # Reading: ask for less, decode once
//
// Each request is built here, sent through the HTTP stack the WUG client
// shares (internal/httpx: retries, rate limit, logging) and decoded as it
// streams in. Lists ask NetBox for only the fields a Device takes:
// fields= on NetBox 4.0 and later (the version is read from /api/status/
// once per Client), exclude=config_context before; custom fields only
// when the selector wants them. Each object of a page is decoded on its
// own, straight into the fields of Device, so one object NetBox sends in a
// shape we cannot read fails alone as a *DeviceError while the rest of the
// page streams on. Choice fields take any value, custom choices an
// administrator added included; null and unknown fields are accepted.
//
// The read path does not use go-netbox v4's generated client or models:
// they cannot send fields= or exclude=, their models reject custom choice
// values and the reduced objects fields= returns, and they decode every
// object twice (once into a map to check required keys). The decoder is
// encoding/json/v2's (github.com/go-json-experiment/json, which becomes
// the standard library's in Go 1.27). go-netbox stays the contract: the
// package's tests check the filters and fields the read path asks for
// against the OpenAPI document go-netbox ships, and the fake NetBox's
// answers against go-netbox's models.
//
// # Options and other endpoints
//
// The options for TLS, retries, rate limit, concurrency, logging, the HTTP
// client or base transport, timeout, user agent and hooks have the same
// names and types as package wug's. For an endpoint without a method,
// Client.NewRequest and Client.Do send a request with the token through
// the same stack; a POST or PATCH sent that way is repeated only when it
// never reached NetBox or NetBox refused it (429, 503), unless its context
// comes from SafeToRepeat.
package netbox

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"

	"github.com/wugsync/wugsync/internal/httpx"
)

// MaxPageSize is NetBox's default MAX_PAGE_SIZE: the most objects one
// list request returns.
const MaxPageSize = 1000

// DefaultTimeout bounds one request (with its retries) unless WithTimeout
// says otherwise; NetBox's own worker timeout is 120 s.
const DefaultTimeout = 90 * time.Second

// Client reads from one NetBox instance. It is safe for concurrent use.
type Client struct {
	hc       *http.Client // the shared HTTP stack
	stack    *httpx.Stack
	base     *url.URL // without trailing slash
	auth     string   // Authorization header value; never logged
	logger   *slog.Logger
	pageSize int
	maxURL   int

	verMu  sync.Mutex
	fields bool // NetBox takes fields= (4.0+); valid once verSet
	verSet bool

	requests, bytes, objects atomic.Int64
}

type config struct {
	http     httpx.Options
	pageSize int
	maxURL   int
}

// Option configures a Client. Options validate their arguments and may
// return an error, which NewClient reports.
type Option func(*config) error

// RetryPolicy says how often and how long to retry (MaxRetries, WaitMin,
// WaitMax, MaxRetryAfter); it is the same type as wug.RetryPolicy, whose
// documentation describes it. See DefaultRetryPolicy.
type RetryPolicy = httpx.RetryPolicy

// DefaultRetryPolicy returns the retry policy NewClient uses by default:
// 4 retries, exponential backoff with jitter from 250ms to 8s, Retry-After
// honoured up to 2 minutes.
func DefaultRetryPolicy() RetryPolicy { return httpx.DefaultRetryPolicy() }

// Hooks observe the client's HTTP traffic (OnAttempt, OnRetry,
// OnLimitChange), e.g. for metrics; it is the same type as wug.Hooks,
// whose documentation describes it.
type Hooks = httpx.Hooks

// AttemptEvent describes one HTTP attempt, passed to Hooks.OnAttempt; it
// is the same type as wug.AttemptEvent.
type AttemptEvent = httpx.AttemptEvent

// RetryEvent describes one retry, passed to Hooks.OnRetry; it is the same
// type as wug.RetryEvent.
type RetryEvent = httpx.RetryEvent

// httpOption makes an Option of a setting both clients share.
func httpOption(set httpx.Setter) Option {
	return func(c *config) error { return set(&c.http) }
}

// WithHTTPClient builds the client's stack (retry, rate limit, concurrency
// cap, logging) over hc's transport and takes hc's cookie jar, redirect
// policy and, unless WithTimeout is given, its Timeout. TLS options apply
// to a copy of hc's transport when it is an *http.Transport (nil means
// http.DefaultTransport).
func WithHTTPClient(hc *http.Client) Option { return httpOption(httpx.SetHTTPClient(hc)) }

// WithBaseTransport sets the bottom transport under the client's stack in
// place of a pooled go-cleanhttp transport, e.g. a proxy or a test's mock.
// TLS options apply to a copy of it, which must then be an *http.Transport.
func WithBaseTransport(rt http.RoundTripper) Option { return httpOption(httpx.SetBaseTransport(rt)) }

// WithTLSConfig sets the bottom transport's TLS configuration; it cannot be
// combined with the other TLS options.
func WithTLSConfig(cfg *tls.Config) Option { return httpOption(httpx.SetTLSConfig(cfg)) }

// WithCAFile trusts the CA certificates in the PEM file at path instead of
// the system roots, for a NetBox behind a private CA.
func WithCAFile(path string) Option { return httpOption(httpx.SetCAFile(path)) }

// WithCAPEM trusts the CA certificates in pem instead of the system roots.
func WithCAPEM(pem []byte) Option { return httpOption(httpx.SetCAPEM(pem)) }

// WithPinnedCertificate accepts exactly the server certificate whose SHA-256
// fingerprint is sha256Hex (64 hex digits; colons and case ignored), such as
// a self-signed NetBox certificate.
func WithPinnedCertificate(sha256Hex string) Option {
	return httpOption(httpx.SetPinnedCertificate(sha256Hex))
}

// WithInsecureSkipVerify turns off TLS certificate verification. Use it
// only for a lab NetBox; prefer WithCAFile or WithPinnedCertificate.
func WithInsecureSkipVerify() Option { return httpOption(httpx.SetInsecureSkipVerify()) }

// WithRateLimit limits requests to rps per second with the given burst;
// rps 0, the default, turns the limiter off. NetBox itself does not
// rate-limit; this protects a shared server. The limiter halves its rate
// when NetBox answers 429 or 503 and recovers gradually.
func WithRateLimit(rps float64, burst int) Option { return httpOption(httpx.SetRateLimit(rps, burst)) }

// WithRetry sets the retry policy; MaxRetries 0 turns retrying off.
// Transport errors, 408, 429, 502, 503 and 504 are retried, a 500 only
// for reads, and no other 4xx. Retry-After is honoured up to
// MaxRetryAfter.
func WithRetry(p RetryPolicy) Option { return httpOption(httpx.SetRetry(p)) }

// WithMaxConcurrency caps the requests in flight at n (default 0, no cap).
func WithMaxConcurrency(n int) Option { return httpOption(httpx.SetMaxConcurrency(n)) }

// WithLogger logs every HTTP attempt (method, sanitized URL, status,
// duration, attempt) at debug level, and warnings. Authorization headers,
// tokens and bodies are never logged. Nil is silent, the default.
func WithLogger(l *slog.Logger) Option { return httpOption(httpx.SetLogger(l)) }

// WithUserAgent sets the User-Agent header (default "wugsync").
func WithUserAgent(ua string) Option { return httpOption(httpx.SetUserAgent(ua)) }

// WithTimeout bounds each request, retries included (default
// DefaultTimeout); 0 means no bound beyond the caller's context.
func WithTimeout(d time.Duration) Option { return httpOption(httpx.SetTimeout(d)) }

// WithHooks observes attempts, retries and adaptive rate changes.
func WithHooks(h Hooks) Option { return httpOption(httpx.SetHooks(h)) }

// WithPageSize sets the objects per list request, 1 to MaxPageSize
// (default MaxPageSize).
func WithPageSize(n int) Option {
	return func(c *config) error {
		if n < 1 || n > MaxPageSize {
			return fmt.Errorf("WithPageSize: %d is outside 1..%d", n, MaxPageSize)
		}
		c.pageSize = n
		return nil
	}
}

// WithMaxURLLength bounds the length of request URLs built from id batches
// (default 4000, what proxies commonly accept).
func WithMaxURLLength(n int) Option {
	return func(c *config) error {
		if n < 512 {
			return fmt.Errorf("WithMaxURLLength: %d is below 512", n)
		}
		c.maxURL = n
		return nil
	}
}

// NewClient returns a client for the NetBox at baseURL (scheme, host and
// any BASE_PATH, e.g. "https://netbox.example.com" or
// "https://example.com/netbox") authenticating with token: a v2 token
// ("nbt_<key>.<secret>", NetBox 4.5+) is sent as "Bearer", any other as
// "Token". NewClient does no network I/O.
func NewClient(baseURL, token string, opts ...Option) (*Client, error) {
	u, err := httpx.ParseBaseURL(baseURL)
	if err != nil {
		return nil, fmt.Errorf("netbox: %w", err)
	}
	token = strings.TrimSpace(token)
	if token == "" {
		return nil, errors.New("netbox: empty API token")
	}
	if strings.ContainsAny(token, " \r\n\t") {
		return nil, errors.New("netbox: API token contains white space")
	}

	cfg := config{http: httpx.Options{UserAgent: "wugsync", Timeout: DefaultTimeout}, pageSize: MaxPageSize, maxURL: 4000}
	for _, o := range opts {
		if o == nil {
			continue
		}
		if err := o(&cfg); err != nil {
			return nil, fmt.Errorf("netbox: %w", err)
		}
	}
	hc, stack, err := cfg.http.Client()
	if err != nil {
		return nil, fmt.Errorf("netbox: %w", err)
	}
	logger := cfg.http.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}

	scheme := "Token"
	if strings.HasPrefix(token, "nbt_") {
		scheme = "Bearer"
	}
	return &Client{
		hc:       hc,
		stack:    stack,
		base:     u,
		auth:     scheme + " " + token,
		logger:   logger,
		pageSize: cfg.pageSize,
		maxURL:   cfg.maxURL,
	}, nil
}

// Retries returns how many retries the client has made.
func (c *Client) Retries() int64 { return c.stack.Retries() }

// RateLimit returns the adaptive limiter's current rate in requests per
// second, or 0 when there is no limiter.
func (c *Client) RateLimit() float64 { return c.stack.Rate() }

// BaseURL returns the NetBox base URL without a trailing slash.
func (c *Client) BaseURL() string { return c.base.String() }

// Status is what NetBox reports about itself at /api/status/.
type Status struct {
	Version     string            // "netbox-version", e.g. "4.3.0"
	FullVersion string            // "netbox-full-version", e.g. "4.3.0-Docker-3.3.0"
	Django      string            // "django-version"
	Python      string            // "python-version"
	Plugins     map[string]string // plugin name → version
	// Supported reports whether Version is in the range wugsync supports
	// (4.3 to 4.5).
	Supported bool
}

// Status calls GET /api/status/ and reports the NetBox version, logging a
// warning when it is outside 4.3–4.5.
func (c *Client) Status(ctx context.Context) (Status, error) {
	var raw struct {
		Version     string         `json:"netbox-version"`
		FullVersion string         `json:"netbox-full-version"`
		Django      string         `json:"django-version"`
		Python      string         `json:"python-version"`
		Plugins     map[string]any `json:"plugins"`
	}
	err := c.get(ctx, "status", "/api/status/", nil, func(dec *jsontext.Decoder) error {
		return json.UnmarshalDecode(dec, &raw, decodeOpts)
	})
	if err != nil {
		return Status{}, err
	}
	st := Status{Version: raw.Version, FullVersion: raw.FullVersion, Django: raw.Django, Python: raw.Python}
	if len(raw.Plugins) > 0 {
		st.Plugins = make(map[string]string, len(raw.Plugins))
		for k, v := range raw.Plugins {
			st.Plugins[k] = fmt.Sprint(v)
		}
	}
	if st.Version == "" {
		return st, errors.New("netbox: status: answer has no netbox-version")
	}
	st.Supported = supportedVersion(st.Version)
	if !st.Supported {
		c.logger.WarnContext(ctx, "netbox version outside the supported range 4.3-4.5",
			"version", st.Version, "url", c.BaseURL())
	}
	c.verMu.Lock()
	c.fields, c.verSet = takesFields(st.Version), true
	c.verMu.Unlock()
	return st, nil
}

// takesFields reports whether NetBox version v (e.g. "4.3.2") accepts the
// fields= parameter, which came with 4.0.
func takesFields(v string) bool {
	major, _, ok := parseVersion(v)
	return ok && major >= 4
}

// useFields reports whether list requests can ask for fields=, reading
// /api/status/ on the Client's first call. NetBox answering the status
// request with an error (a proxy that hides it) means no: exclude= works
// on every version. A transport failure is returned.
func (c *Client) useFields(ctx context.Context) (bool, error) {
	c.verMu.Lock()
	fields, known := c.fields, c.verSet
	c.verMu.Unlock()
	if known {
		return fields, nil
	}
	st, err := c.Status(ctx)
	if err == nil {
		return takesFields(st.Version), nil
	}
	if _, ok := errors.AsType[*APIError](err); !ok {
		return false, err
	}
	c.logger.WarnContext(ctx, "netbox: version unknown; lists will carry every field but the config context", "error", err)
	c.verMu.Lock()
	c.fields, c.verSet = false, true
	c.verMu.Unlock()
	return false, nil
}

// supportedVersion reports whether v (e.g. "4.4.2") is 4.3, 4.4 or 4.5.
func supportedVersion(v string) bool {
	major, minor, ok := parseVersion(v)
	return ok && major == 4 && minor >= 3 && minor <= 5
}

// parseVersion reads the major and minor numbers of a NetBox version such
// as "4.4.2" or "4.5-beta1".
func parseVersion(v string) (major, minor int, ok bool) {
	parts := strings.SplitN(v, ".", 3)
	if len(parts) < 2 {
		return 0, 0, false
	}
	major, err1 := strconv.Atoi(parts[0])
	minor, err2 := strconv.Atoi(strings.TrimRightFunc(parts[1], func(r rune) bool { return r < '0' || r > '9' }))
	return major, minor, err1 == nil && err2 == nil
}

// Traffic is what a Client has received from NetBox since it was made.
type Traffic struct {
	Requests int64 // answers read, errors included
	Bytes    int64 // body bytes read (after any transfer decompression)
	Objects  int64 // devices and virtual machines streamed by Devices
}

// Traffic reports what the Client has received so far; divide Bytes by
// Objects for the bytes NetBox sent per device.
func (c *Client) Traffic() Traffic {
	return Traffic{Requests: c.requests.Load(), Bytes: c.bytes.Load(), Objects: c.objects.Load()}
}

// get sends GET <base><path>?<query> through the HTTP stack and hands a
// 2xx answer's body, as a JSON stream, to decode; any other answer is an
// *APIError. Errors name op.
func (c *Client) get(ctx context.Context, op, path string, query url.Values, decode func(*jsontext.Decoder) error) error {
	u := c.base.String() + path
	if len(query) > 0 {
		u += "?" + query.Encode()
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return fmt.Errorf("netbox: %s: %w", op, err)
	}
	req.Header.Set("Accept", "application/json")
	if _, err := c.exchange(req, decode); err != nil {
		return fmt.Errorf("netbox: %s: %w", op, err)
	}
	return nil
}

// exchange sends req, which the caller owns no more, with the token through
// the HTTP stack and hands a 2xx answer's body, as a JSON stream, to decode
// (nil reads nothing); any other answer is an *APIError. The response
// comes back, body closed, after a 2xx answer.
func (c *Client) exchange(req *http.Request, decode func(*jsontext.Decoder) error) (*http.Response, error) {
	req.Header.Set("Authorization", c.auth)
	req.Header.Set("Accept-Language", "en-US")
	resp, err := c.hc.Do(req)
	if err != nil {
		return nil, err
	}
	body := countingReader{r: resp.Body}
	defer func() {
		// What the decoder left (trailing white space) is read so the
		// connection can be reused.
		_, _ = io.Copy(io.Discard, io.LimitReader(&body, 4<<10))
		resp.Body.Close()
		c.requests.Add(1)
		c.bytes.Add(body.n)
	}()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		b, _ := io.ReadAll(io.LimitReader(&body, 64<<10))
		e := newAPIError(resp, b)
		if e.Method == "" { // a transport that did not record the request
			e.Method, e.URL = req.Method, req.URL.RequestURI()
		}
		return nil, e
	}
	if decode == nil {
		return resp, nil
	}
	dec := decoders.Get().(*jsontext.Decoder)
	dec.Reset(&body, decodeOpts)
	defer func() {
		dec.Reset(http.NoBody)
		decoders.Put(dec)
	}()
	if err := decode(dec); err != nil {
		return nil, err
	}
	return resp, nil
}

// decoders recycles JSON decoders and their read buffers across requests.
var decoders = sync.Pool{New: func() any { return jsontext.NewDecoder(http.NoBody) }}

// countingReader counts the bytes read through it.
type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}
