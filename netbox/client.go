// Package netbox reads devices, virtual machines and their IP addresses
// from NetBox (4.3 to 4.5) through go-netbox v4, and receives NetBox
// webhooks.
//
// A Client streams the objects a Selector picks as project-owned Device
// values: keyset paging by id, 1000 objects per page, IP addresses and site
// regions fetched in batches per page, and the next page fetched while the
// current one is consumed, so the number of requests grows with
// devices/1000 and memory stays flat. WebhookHandler turns NetBox event-rule
// deliveries into typed events.
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
	"time"

	nb "github.com/netbox-community/go-netbox/v4"

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
	api      *nb.APIClient
	base     *url.URL // without trailing slash
	logger   *slog.Logger
	pageSize int32
	maxURL   int
}

type config struct {
	logger     *slog.Logger
	httpClient *http.Client
	timeout    time.Duration
	rate       float64
	burst      int
	retry      *httpx.RetryPolicy
	tls        httpx.TLSOptions
	pageSize   int
	maxURL     int
}

// Option configures a Client. Options validate their arguments and may
// return an error, which NewClient reports.
type Option func(*config) error

// WithLogger sends request and warning records to l. The default is silent.
// Authorization headers and tokens are never logged.
func WithLogger(l *slog.Logger) Option {
	return func(c *config) error {
		if l == nil {
			return errors.New("WithLogger: nil logger")
		}
		c.logger = l
		return nil
	}
}

// WithHTTPClient uses hc's transport as the bottom of the stack (retries,
// rate limit and logging are still layered on top), its cookie jar and
// redirect policy, and its Timeout when set and WithTimeout is not.
func WithHTTPClient(hc *http.Client) Option {
	return func(c *config) error {
		if hc == nil {
			return errors.New("WithHTTPClient: nil client")
		}
		c.httpClient = hc
		return nil
	}
}

// WithTimeout bounds each request, retries included (default DefaultTimeout).
func WithTimeout(d time.Duration) Option {
	return func(c *config) error {
		if d <= 0 {
			return fmt.Errorf("WithTimeout: %v is not positive", d)
		}
		c.timeout = d
		return nil
	}
}

// WithRateLimit limits requests to perSecond with the given burst. NetBox
// itself does not rate-limit; this protects a shared server.
func WithRateLimit(perSecond float64, burst int) Option {
	return func(c *config) error {
		if perSecond <= 0 {
			return fmt.Errorf("WithRateLimit: rate %v is not positive", perSecond)
		}
		c.rate, c.burst = perSecond, max(burst, 1)
		return nil
	}
}

// WithRetry sets how often a failed request (transport error, 429, 502,
// 503, 504, 500 on GET) is retried and the backoff bounds. maxRetries 0
// disables retrying.
func WithRetry(maxRetries int, waitMin, waitMax time.Duration) Option {
	return func(c *config) error {
		if maxRetries < 0 || waitMin < 0 || waitMax < waitMin {
			return fmt.Errorf("WithRetry: invalid policy (%d retries, %v..%v)", maxRetries, waitMin, waitMax)
		}
		p := httpx.DefaultRetryPolicy()
		p.MaxRetries, p.WaitMin, p.WaitMax = maxRetries, waitMin, waitMax
		c.retry = &p
		return nil
	}
}

// WithCAFile trusts only the PEM CA certificates in path, for a NetBox
// behind a private CA.
func WithCAFile(path string) Option {
	return func(c *config) error {
		if path == "" {
			return errors.New("WithCAFile: empty path")
		}
		c.tls.CAFile = path
		return nil
	}
}

// WithPinnedCertificate trusts a server whose leaf certificate has the
// given hex SHA-256 fingerprint (colons and case ignored), for a
// self-signed NetBox.
func WithPinnedCertificate(sha256Hex string) Option {
	return func(c *config) error {
		if _, err := httpx.ParseFingerprint(sha256Hex); err != nil {
			return fmt.Errorf("WithPinnedCertificate: %w", err)
		}
		c.tls.PinnedSHA256 = sha256Hex
		return nil
	}
}

// WithInsecureSkipVerify turns off TLS certificate verification. Use it
// only for a lab NetBox; prefer WithCAFile or WithPinnedCertificate.
func WithInsecureSkipVerify() Option {
	return func(c *config) error {
		c.tls.InsecureSkipVerify = true
		return nil
	}
}

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

	cfg := config{pageSize: MaxPageSize, maxURL: 4000}
	for _, o := range opts {
		if err := o(&cfg); err != nil {
			return nil, fmt.Errorf("netbox: %w", err)
		}
	}
	logger := cfg.logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}

	hc := &http.Client{Timeout: cfg.timeout}
	if hc.Timeout == 0 {
		hc.Timeout = DefaultTimeout
		if cfg.httpClient != nil && cfg.httpClient.Timeout > 0 {
			hc.Timeout = cfg.httpClient.Timeout
		}
	}
	var base http.RoundTripper
	var tlsConfig *tls.Config
	if cfg.tls.Set() {
		if cfg.httpClient != nil {
			return nil, errors.New("netbox: TLS options apply to the default transport, not one from WithHTTPClient")
		}
		if tlsConfig, err = httpx.TLSConfig(cfg.tls); err != nil {
			return nil, fmt.Errorf("netbox: %w", err)
		}
	}
	if cfg.httpClient != nil {
		base = cfg.httpClient.Transport
		if base == nil {
			base = http.DefaultTransport
		}
		hc.Jar = cfg.httpClient.Jar
		hc.CheckRedirect = cfg.httpClient.CheckRedirect
	}
	stack := httpx.Build(httpx.Config{
		Base:      base,
		TLS:       tlsConfig,
		Retry:     cfg.retry,
		RateLimit: cfg.rate,
		Burst:     cfg.burst,
		Logger:    cfg.logger,
	})
	hc.Transport = hook{next: stack.Transport}

	nc := nb.NewConfiguration()
	nc.Servers = nb.ServerConfigurations{{URL: u.String()}}
	nc.HTTPClient = hc
	nc.UserAgent = "wugsync (go-netbox/4.3.0)"
	scheme := "Token"
	if strings.HasPrefix(token, "nbt_") {
		scheme = "Bearer"
	}
	nc.AddDefaultHeader("Authorization", scheme+" "+token)
	nc.AddDefaultHeader("Accept-Language", "en-US")

	return &Client{
		api:      nb.NewAPIClient(nc),
		base:     u,
		logger:   logger,
		pageSize: int32(cfg.pageSize),
		maxURL:   cfg.maxURL,
	}, nil
}

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
	m, resp, err := c.api.StatusAPI.StatusRetrieve(ctx).Execute()
	if err := wrapErr("status", resp, err); err != nil {
		return Status{}, err
	}
	str := func(k string) string { s, _ := m[k].(string); return s }
	st := Status{Version: str("netbox-version"), FullVersion: str("netbox-full-version"),
		Django: str("django-version"), Python: str("python-version")}
	if p, ok := m["plugins"].(map[string]any); ok && len(p) > 0 {
		st.Plugins = make(map[string]string, len(p))
		for k, v := range p {
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
	return st, nil
}

// supportedVersion reports whether v (e.g. "4.4.2") is 4.3, 4.4 or 4.5.
func supportedVersion(v string) bool {
	parts := strings.SplitN(v, ".", 3)
	if len(parts) < 2 {
		return false
	}
	major, err1 := strconv.Atoi(parts[0])
	minor, err2 := strconv.Atoi(strings.TrimFunc(parts[1], func(r rune) bool { return r < '0' || r > '9' }))
	return err1 == nil && err2 == nil && major == 4 && minor >= 3 && minor <= 5
}

// queryKey carries extra query parameters for one go-netbox call.
type queryKey struct{}

// withQuery returns ctx carrying query parameters that go-netbox cannot
// express (exclude=config_context, cf_*, null values); hook adds them to
// the request.
func withQuery(ctx context.Context, q url.Values) context.Context {
	if len(q) == 0 {
		return ctx
	}
	return context.WithValue(ctx, queryKey{}, q)
}

// captureKey carries a *captured for one go-netbox call.
type captureKey struct{}

// captured receives the body of a successful answer.
type captured struct{ data []byte }

// withCapture returns ctx under which hook keeps a successful (2xx)
// answer's body for the caller and hands go-netbox an empty body, which
// go-netbox answers with a nil result and no error. List pages are then
// decoded object by object (rawList) instead of twice as a whole.
func withCapture(ctx context.Context) (context.Context, *captured) {
	c := &captured{}
	return context.WithValue(ctx, captureKey{}, c), c
}

// hook is the outermost transport layer: it adds withQuery's parameters
// and serves withCapture.
type hook struct{ next http.RoundTripper }

func (h hook) RoundTrip(req *http.Request) (*http.Response, error) {
	if extra, _ := req.Context().Value(queryKey{}).(url.Values); len(extra) > 0 {
		r := req.Clone(req.Context())
		q := r.URL.Query()
		for k, vs := range extra {
			for _, v := range vs {
				q.Add(k, v)
			}
		}
		r.URL.RawQuery = q.Encode()
		req = r
	}
	resp, err := h.next.RoundTrip(req)
	c, _ := req.Context().Value(captureKey{}).(*captured)
	if err != nil || c == nil || resp.StatusCode < 200 || resp.StatusCode > 299 {
		return resp, err
	}
	data, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return nil, err
	}
	c.data = data
	resp.Body = http.NoBody
	resp.ContentLength = 0
	return resp, nil
}
