package wug

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/wugsync/wugsync/internal/httpx"
)

// Defaults applied by NewClient.
const (
	// DefaultBatchSize is the number of templates per template-apply call;
	// the contract sets no limit, and 100 keeps a 1,000-device first
	// export to about ten calls.
	DefaultBatchSize = 100
	// DefaultMaxScanRange is the most addresses ScanRange expands.
	DefaultMaxScanRange = 1024
	// DefaultRateLimit is the default steady request rate per second.
	DefaultRateLimit = 20
	// DefaultBurst is the default limiter burst.
	DefaultBurst = 10
	// DefaultMaxConcurrency is the default cap on requests in flight.
	DefaultMaxConcurrency = 4
	// RootGroupID is the id of the root group "My Network".
	RootGroupID = "0"
	// RootGroupName is the name of the root group.
	RootGroupName = "My Network"
)

const apiPrefix = "/api/v1"

// maxErrorBody bounds how much of an error answer is read.
const maxErrorBody = 64 << 10

// RetryPolicy says how often and how long to retry: MaxRetries after the
// first attempt (0 turns retrying off), a backoff from WaitMin doubling up
// to WaitMax with jitter, and a server's Retry-After honoured up to
// MaxRetryAfter (0 means WaitMax×10). See DefaultRetryPolicy.
type RetryPolicy = httpx.RetryPolicy

// DefaultRetryPolicy returns the retry policy NewClient uses by default:
// 4 retries, exponential backoff with jitter from 250ms to 8s, Retry-After
// honoured up to 2 minutes.
func DefaultRetryPolicy() RetryPolicy { return httpx.DefaultRetryPolicy() }

// Hooks observe the client's HTTP traffic, e.g. for metrics: OnAttempt
// after each attempt, OnRetry when a failed attempt will be retried, and
// OnLimitChange with the adaptive limiter's new rate. They run on the
// request's goroutine and must be quick and safe for concurrent use. The
// netbox package takes the same type.
type Hooks = httpx.Hooks

// AttemptEvent describes one HTTP attempt, passed to Hooks.OnAttempt: its
// Method, sanitized URL, Attempt number (from 1), Status (0 on a transport
// error), Err, and Duration until the answer's headers.
type AttemptEvent = httpx.AttemptEvent

// RetryEvent describes one retry, passed to Hooks.OnRetry: the Method,
// sanitized URL and number of the Attempt that failed (from 1), its Status
// (0 on a transport error) and Err.
type RetryEvent = httpx.RetryEvent

// Client talks to one WUG server. It is safe for concurrent use.
type Client struct {
	// Devices lists, reads, changes, adds and removes devices.
	Devices *DevicesService
	// Attributes reads and changes device attributes.
	Attributes *AttributesService
	// Groups manages device groups and their members.
	Groups *GroupsService
	// Scans starts and follows WUG scans (newDevice, refresh).
	Scans *ScansService
	// Product reads product and API information.
	Product *ProductService

	base         string   // scheme://host[:port]/prefix/api/v1, no trailing slash
	root         *url.URL // base, parsed
	hc           *http.Client
	stack        *httpx.Stack
	auth         *tokenSource
	logger       *slog.Logger
	batchSize    int
	maxScanRange int
}

type options struct {
	username, password string
	http               httpx.Options
	batchSize          int
	maxScanRange       int
}

// Option configures a Client; it returns an error for invalid values.
type Option func(*options) error

// httpOption makes an Option of a setting both clients share.
func httpOption(set httpx.Setter) Option {
	return func(o *options) error { return set(&o.http) }
}

// WithCredentials sets the WUG user name and password used for the OAuth2
// password grant at POST /api/v1/token.
func WithCredentials(username, password string) Option {
	return func(o *options) error {
		if username == "" {
			return errors.New("WithCredentials: empty user name")
		}
		if password == "" {
			return errors.New("WithCredentials: empty password")
		}
		o.username, o.password = username, password
		return nil
	}
}

// WithHTTPClient builds the client's stack (retry, rate limit, concurrency
// cap, logging) over hc's transport and takes hc's cookie jar, redirect
// policy and, unless WithTimeout is given, its Timeout. TLS options apply
// to a copy of hc's transport when it is an *http.Transport (nil means
// http.DefaultTransport). Authentication is layered on top.
func WithHTTPClient(hc *http.Client) Option { return httpOption(httpx.SetHTTPClient(hc)) }

// WithBaseTransport sets the bottom transport under the client's stack in
// place of a pooled go-cleanhttp transport, e.g. a proxy or a test's mock.
// TLS options apply to a copy of it, which must then be an *http.Transport.
func WithBaseTransport(rt http.RoundTripper) Option { return httpOption(httpx.SetBaseTransport(rt)) }

// WithTLSConfig sets the bottom transport's TLS configuration; it cannot be
// combined with the other TLS options.
func WithTLSConfig(cfg *tls.Config) Option { return httpOption(httpx.SetTLSConfig(cfg)) }

// WithCAFile trusts the CA certificates in the PEM file at path instead of
// the system roots.
func WithCAFile(path string) Option { return httpOption(httpx.SetCAFile(path)) }

// WithCAPEM trusts the CA certificates in pem instead of the system roots.
func WithCAPEM(pem []byte) Option { return httpOption(httpx.SetCAPEM(pem)) }

// WithPinnedCertificate accepts exactly the server certificate whose SHA-256
// fingerprint is sha256Hex (64 hex digits; colons and case ignored), such as
// a self-signed WUG certificate.
func WithPinnedCertificate(sha256Hex string) Option {
	return httpOption(httpx.SetPinnedCertificate(sha256Hex))
}

// WithInsecureSkipVerify turns off TLS certificate verification. Use it only
// for tests and labs; prefer WithPinnedCertificate or WithCAFile.
func WithInsecureSkipVerify() Option { return httpOption(httpx.SetInsecureSkipVerify()) }

// WithRateLimit sets the client-side limit to rps requests per second with
// the given burst (default DefaultRateLimit and DefaultBurst); rps 0 turns
// the limiter off. The limiter halves its rate when WUG answers 429 or 503
// and recovers gradually.
func WithRateLimit(rps float64, burst int) Option { return httpOption(httpx.SetRateLimit(rps, burst)) }

// WithRetry sets the retry policy; MaxRetries 0 turns retrying off.
// Transport errors, 408, 429, 502, 503 and 504 are retried, a 500 only for
// requests WUG applies idempotently, and no other 4xx (a 401 renews the
// token once instead). A template apply or a request that starts a scan is
// sent again only when it never reached WUG (a failed dial) or WUG refused
// it with 429 or 503; its other failures match ErrOutcomeUnknown.
// Retry-After is honoured up to MaxRetryAfter.
func WithRetry(p RetryPolicy) Option { return httpOption(httpx.SetRetry(p)) }

// WithMaxConcurrency caps the requests in flight at n (default
// DefaultMaxConcurrency; 0 means no cap).
func WithMaxConcurrency(n int) Option { return httpOption(httpx.SetMaxConcurrency(n)) }

// WithLogger logs every HTTP attempt (method, sanitized URL, status,
// duration, attempt) and token refreshes at debug level. Secrets and bodies
// are never logged. Nil is silent, the default.
func WithLogger(l *slog.Logger) Option { return httpOption(httpx.SetLogger(l)) }

// WithUserAgent sets the User-Agent header.
func WithUserAgent(ua string) Option { return httpOption(httpx.SetUserAgent(ua)) }

// WithTimeout bounds each call, including its retries and any login, to d
// (http.Client.Timeout). The default, 0, is no bound beyond the caller's
// context.
func WithTimeout(d time.Duration) Option { return httpOption(httpx.SetTimeout(d)) }

// WithHooks observes attempts, retries and adaptive rate changes.
func WithHooks(h Hooks) Option { return httpOption(httpx.SetHooks(h)) }

// WithBatchSize sets how many templates Devices.BulkAdd sends per call
// (default DefaultBatchSize).
func WithBatchSize(n int) Option {
	return func(o *options) error {
		if n < 1 {
			return fmt.Errorf("WithBatchSize: %d is not positive", n)
		}
		o.batchSize = n
		return nil
	}
}

// WithMaxScanRange sets the most addresses Scans.ScanRange expands
// (default 1024).
func WithMaxScanRange(n int) Option {
	return func(o *options) error {
		if n < 1 {
			return fmt.Errorf("WithMaxScanRange: %d is not positive", n)
		}
		o.maxScanRange = n
		return nil
	}
}

// NewClient returns a client for the WUG server at baseURL, such as
// "https://wug.example.com:9644" (a trailing "/api/v1" is accepted). It does
// no network I/O; the first request logs in.
func NewClient(baseURL string, opts ...Option) (*Client, error) {
	base, err := parseBaseURL(baseURL)
	if err != nil {
		return nil, err
	}
	o := options{
		http: httpx.Options{
			RateLimit:      DefaultRateLimit,
			Burst:          DefaultBurst,
			MaxConcurrency: DefaultMaxConcurrency,
			UserAgent:      "wugsync-wug/1",
		},
		batchSize:    DefaultBatchSize,
		maxScanRange: DefaultMaxScanRange,
	}
	for _, opt := range opts {
		if opt == nil {
			continue
		}
		if err := opt(&o); err != nil {
			return nil, fmt.Errorf("wug: %w", err)
		}
	}
	plain, stack, err := o.http.Client()
	if err != nil {
		return nil, fmt.Errorf("wug: %w", err)
	}
	root, err := url.Parse(base)
	if err != nil {
		return nil, fmt.Errorf("wug: %w", err)
	}
	c := &Client{base: base, root: root, hc: plain, stack: stack, logger: o.http.Logger, batchSize: o.batchSize, maxScanRange: o.maxScanRange}
	if o.username != "" {
		c.auth = newTokenSource(base+"/token", o.username, o.password, plain, o.http.Logger)
		c.hc = &http.Client{
			Transport:     &authTransport{next: plain.Transport, src: c.auth},
			Timeout:       plain.Timeout,
			CheckRedirect: plain.CheckRedirect,
			Jar:           plain.Jar,
		}
	}
	c.Devices = &DevicesService{c: c}
	c.Attributes = &AttributesService{c: c}
	c.Groups = &GroupsService{c: c}
	c.Scans = &ScansService{c: c}
	c.Product = &ProductService{c: c}
	return c, nil
}

func parseBaseURL(raw string) (string, error) {
	u, err := httpx.ParseBaseURL(raw)
	if err != nil {
		return "", fmt.Errorf("wug: %w", err)
	}
	u.Path = strings.TrimSuffix(u.Path, apiPrefix) + apiPrefix
	return u.String(), nil
}

// BaseURL returns the API root the client calls, ending in /api/v1.
func (c *Client) BaseURL() string { return c.base }

// Retries returns how many retries the client has made.
func (c *Client) Retries() int64 { return c.stack.Retries() }

// RateLimit returns the adaptive limiter's current rate in requests per
// second, or 0 when there is no limiter.
func (c *Client) RateLimit() float64 { return c.stack.Rate() }

// Login fetches a token now (POST /api/v1/token) instead of on the first
// request, so bad credentials show up early.
func (c *Client) Login(ctx context.Context) error {
	if c.auth == nil {
		return opErr("Login", errors.New("no credentials configured"))
	}
	if _, err := c.auth.login(ctx); err != nil {
		return fmt.Errorf("wug: %w", err) // the error names the login already
	}
	return nil
}

// escape escapes one path segment (an id).
func escape(s string) string { return url.PathEscape(s) }

// request describes one API call.
type request struct {
	method string
	path   string // below /api/v1, starting with '/'
	query  url.Values
	body   any
	// repeat says what sending the request again does on WUG, which decides
	// what the retry layer may repeat it after; the zero value goes by the
	// method. httpx.RepeatSafe marks a POST or PATCH WUG applies
	// idempotently (a batch delete, a membership change, a maintenance
	// setting); httpx.RepeatNever marks a request that creates (a template
	// apply, a newDevice scan), whose failures after it may have reached
	// WUG also match ErrOutcomeUnknown.
	repeat httpx.Repeat
}

// creates reports whether each arrival of r acts anew on WUG.
func (r request) creates() bool { return r.repeat == httpx.RepeatNever }

// checked sends r and decodes WUG's answer into res, a *SuccessResult or
// *CountedResult, failing op when the request fails or the answer reports
// a failure.
func (c *Client) checked(ctx context.Context, op string, r request, res interface{ check(string) error }) error {
	if err := c.do(ctx, r, res, nil); err != nil {
		return opErr(op, err)
	}
	return res.check(op)
}

// do sends r and decodes the answer's payload into out (which may be nil)
// and its paging block into pg (which may be nil).
func (c *Client) do(ctx context.Context, r request, out any, pg *Paging) error {
	u := c.base + r.path
	if len(r.query) > 0 {
		u += "?" + r.query.Encode()
	}
	var body io.Reader
	if r.body != nil {
		b, err := json.Marshal(r.body)
		if err != nil {
			return fmt.Errorf("encode %s %s body: %w", r.method, r.path, err)
		}
		body = bytes.NewReader(b)
	}
	if r.repeat != httpx.RepeatByMethod {
		ctx = httpx.WithRepeat(ctx, r.repeat)
	}
	req, err := http.NewRequestWithContext(ctx, r.method, u, body)
	if err != nil {
		return fmt.Errorf("build request: %w", err)
	}
	req.Header.Set("Accept", "application/json")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	_, err = c.send(req, r.creates(), out, pg)
	return err
}

// send sends req and decodes the answer's payload into out and its paging
// block into pg; with both nil, or an empty answer and out nil, it decodes
// nothing. creates says that each arrival of req acts anew on WUG, so its
// failures after it may have reached WUG match ErrOutcomeUnknown. The
// response comes back, body closed, whenever WUG answered with 2xx.
func (c *Client) send(req *http.Request, creates bool, out any, pg *Paging) (*http.Response, error) {
	resp, err := c.hc.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			// Report the sanitized URL and keep the cause.
			err = ue.Err
		}
		err = fmt.Errorf("%s %s: %w", req.Method, httpx.SanitizeURL(req.URL), err)
		if creates && !neverSent(err) {
			return nil, outcomeUnknown(err)
		}
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		data, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
		code, msg := parseErrorBody(data)
		err := &APIError{StatusCode: resp.StatusCode, Method: req.Method, URL: httpx.SanitizeURL(req.URL), Code: code, Message: msg}
		if creates && mayHaveActed(resp.StatusCode) {
			return nil, outcomeUnknown(err)
		}
		return nil, err
	}
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		err = fmt.Errorf("%s %s: read answer: %w", req.Method, httpx.SanitizeURL(req.URL), err)
		if creates {
			return nil, outcomeUnknown(err)
		}
		return nil, err
	}
	if out == nil && (pg == nil || len(bytes.TrimSpace(data)) == 0) {
		return resp, nil // the caller wants nothing from the answer
	}
	if err := decodeAnswer(data, out, pg); err != nil {
		var se *shapeError
		if errors.As(err, &se) {
			err = &APIError{StatusCode: resp.StatusCode, Method: req.Method, URL: httpx.SanitizeURL(req.URL), Code: se.Code, Message: se.Message, Malformed: se.Problem}
		}
		if creates {
			return nil, outcomeUnknown(err)
		}
		return nil, err
	}
	return resp, nil
}

// mayHaveActed reports whether a creating request answered with status may
// still have been applied: WUG failed while handling it (500) or a gateway
// lost or gave up on its answer (502, 504). Other statuses are refusals.
func mayHaveActed(status int) bool {
	switch status {
	case http.StatusInternalServerError, http.StatusBadGateway, http.StatusGatewayTimeout:
		return true
	}
	return false
}

// neverSent reports whether a transport error shows the request never left
// the client: a failed dial, or a login that failed before it was sent.
func neverSent(err error) bool {
	var bs *beforeSendError
	return httpx.NeverSent(err) || errors.As(err, &bs)
}

func lookupKey(env map[string]json.RawMessage, key string) (json.RawMessage, bool) {
	if v, ok := env[key]; ok {
		return v, true
	}
	for k, v := range env {
		if strings.EqualFold(k, key) {
			return v, true
		}
	}
	return nil, false
}

func isNull(raw json.RawMessage) bool { return string(bytes.TrimSpace(raw)) == "null" }

// opErr names the package and the client operation in front of err, once:
// the errors below it (an *APIError, an *AuthError, a transport failure)
// name neither.
func opErr(op string, err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("wug: %s: %w", op, err)
}
