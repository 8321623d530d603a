package httpx

import (
	"context"
	"errors"
	"math"
	"math/rand/v2"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/hashicorp/go-retryablehttp"
)

// RetryPolicy says how often and how long to retry. Which failures are
// retried depends on what a repeat of the request does on the server; see
// Repeat. Nothing is retried once the request's context ends, and a 4xx
// other than 408 and 429 never is.
type RetryPolicy struct {
	// MaxRetries is the number of retries after the first attempt; 0 disables retrying.
	MaxRetries int
	// WaitMin is the first backoff; later ones double up to WaitMax.
	WaitMin time.Duration
	// WaitMax caps the exponential backoff.
	WaitMax time.Duration
	// MaxRetryAfter caps how long a server's Retry-After is honoured;
	// 0 means WaitMax*10.
	MaxRetryAfter time.Duration
}

// DefaultRetryPolicy returns 4 retries with backoff from 250ms up to 8s and
// Retry-After honoured up to 2 minutes.
func DefaultRetryPolicy() RetryPolicy {
	return RetryPolicy{MaxRetries: 4, WaitMin: 250 * time.Millisecond, WaitMax: 8 * time.Second, MaxRetryAfter: 2 * time.Minute}
}

// Backoff returns the wait before retry number attempt (0-based) after resp:
// the server's Retry-After on 429/503 when present (capped by MaxRetryAfter),
// otherwise exponential backoff with jitter in [d/2, d] where d = WaitMin·2^attempt ≤ WaitMax.
func (p RetryPolicy) Backoff(attempt int, resp *http.Response) time.Duration {
	if resp != nil && (resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode == http.StatusServiceUnavailable) {
		if d, ok := parseRetryAfter(resp.Header.Get("Retry-After"), time.Now()); ok {
			limit := p.MaxRetryAfter
			if limit <= 0 {
				limit = p.WaitMax * 10
			}
			return min(d, limit)
		}
	}
	d := p.WaitMin
	for i := 0; i < attempt && d < p.WaitMax; i++ {
		d *= 2
	}
	d = min(d, p.WaitMax)
	if d <= 0 {
		return 0
	}
	half := d / 2
	return half + rand.N(d-half+1)
}

// maxRetryAfterSeconds is the largest Retry-After delay in seconds that
// fits a time.Duration; larger ones are read as that much.
const maxRetryAfterSeconds = int64(math.MaxInt64 / time.Second)

// parseRetryAfter reads a Retry-After value: delay seconds or an HTTP date.
// A delay too large for a time.Duration saturates instead of overflowing,
// so the caller's cap applies; a negative or malformed value is not ok.
func parseRetryAfter(v string, now time.Time) (time.Duration, bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, false
	}
	if strings.Trim(v, "0123456789") == "" {
		secs, err := strconv.ParseInt(v, 10, 64)
		if err != nil || secs > maxRetryAfterSeconds {
			// Only digits, so the one possible error is a value out of range.
			return time.Duration(math.MaxInt64), true
		}
		return time.Duration(secs) * time.Second, true
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(t.Sub(now), 0), true
	}
	return 0, false
}

// Repeat says what sending a request again does on the server, which
// decides the failures the retry layer may repeat it after. A context
// carries it (WithRepeat); without one, the method decides (RepeatByMethod).
type Repeat uint8

const (
	// RepeatByMethod treats GET, HEAD, OPTIONS, PUT, DELETE and TRACE as
	// RepeatSafe. Other methods are retried after a transport error and
	// after 408, 429, 502, 503 and 504, but not after a 500.
	RepeatByMethod Repeat = iota
	// RepeatSafe marks a request the server applies idempotently whatever
	// its method, such as a token request or a batch delete: retried after
	// any transport error and after 408, 429, 500, 502, 503 and 504.
	RepeatSafe
	// RepeatNever marks a request that acts anew each time it arrives, such
	// as one that creates a device or starts a scan. It is sent again only
	// when it never reached the server (see NeverSent) or when the server
	// refused it before acting, with 429 or 503; never after a transport
	// error once it may have been sent, nor after 408, 500, 502 or 504.
	RepeatNever
)

type repeatKey struct{}

// WithRepeat returns a context whose requests the retry layer repeats
// according to r instead of their method.
func WithRepeat(ctx context.Context, r Repeat) context.Context {
	return context.WithValue(ctx, repeatKey{}, r)
}

// repeatOf returns the Repeat a request with method and ctx is retried
// under: the mark WithRepeat left on ctx, or what the method implies.
func repeatOf(ctx context.Context, method string) Repeat {
	if r, ok := ctx.Value(repeatKey{}).(Repeat); ok && r != RepeatByMethod {
		return r
	}
	if idempotent(method) {
		return RepeatSafe
	}
	return RepeatByMethod
}

// NeverSent reports whether a transport error shows that the request never
// reached the server: a failed dial (connection refused, DNS failure, no
// route, dial timeout) to the server or to a proxy. Any other transport
// error (a write error, EOF, reset or timeout) may come after the server
// received the request.
func NeverSent(err error) bool {
	var dns *net.DNSError
	if errors.As(err, &dns) {
		return true
	}
	var op *net.OpError
	return errors.As(err, &op) && (op.Op == "dial" || op.Op == "proxyconnect")
}

// ShouldRetry reports whether a request with the given method that ended in
// resp or err is worth another attempt under the documented rules (see
// Repeat; a mark on ctx overrides the method).
func ShouldRetry(ctx context.Context, method string, resp *http.Response, err error) bool {
	if ctx.Err() != nil {
		return false
	}
	repeat := repeatOf(ctx, method)
	if err != nil {
		if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) || errors.Is(err, ErrUntrustedCertificate) {
			return false
		}
		if repeat == RepeatNever && !NeverSent(err) {
			return false
		}
		// Reuse go-retryablehttp's judgement of which transport errors are
		// permanent (bad scheme, certificate failures, too many redirects).
		ok, _ := retryablehttp.DefaultRetryPolicy(ctx, nil, err)
		return ok
	}
	switch resp.StatusCode {
	case http.StatusTooManyRequests, http.StatusServiceUnavailable:
		return true
	case http.StatusRequestTimeout, http.StatusBadGateway, http.StatusGatewayTimeout:
		return repeat != RepeatNever
	case http.StatusInternalServerError:
		return repeat == RepeatSafe
	}
	return false
}

func idempotent(method string) bool {
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodOptions, http.MethodPut, http.MethodDelete, http.MethodTrace:
		return true
	}
	return false
}

type attemptKey struct{}

// attemptCounter numbers the attempts of one logical request so the lower
// layers can log which attempt they carry and the retry hook can report it.
type attemptCounter struct {
	n      atomic.Int32
	method string
	url    string
}

func attemptFrom(ctx context.Context) *attemptCounter {
	c, _ := ctx.Value(attemptKey{}).(*attemptCounter)
	return c
}

// retryTransport drives go-retryablehttp as a RoundTripper: it rewinds
// bodies, waits with RetryPolicy.Backoff and hands back the last response
// unchanged once retries are exhausted, so callers still see the real status.
type retryTransport struct {
	rt      *retryablehttp.RoundTripper
	retries atomic.Int64
}

func newRetryTransport(next http.RoundTripper, p RetryPolicy, onRetry func(RetryEvent)) *retryTransport {
	t := &retryTransport{}
	inner := &http.Client{
		Transport: next,
		// Redirects are followed by the outer client only.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	maxRetries := max(p.MaxRetries, 0)
	rc := &retryablehttp.Client{
		HTTPClient:   inner,
		RetryWaitMin: p.WaitMin,
		RetryWaitMax: p.WaitMax,
		RetryMax:     maxRetries,
		// Logger stays nil: the logging layer below reports every attempt.
		ErrorHandler: retryablehttp.PassthroughErrorHandler,
		Backoff: func(_, _ time.Duration, attempt int, resp *http.Response) time.Duration {
			return p.Backoff(attempt, resp)
		},
	}
	rc.CheckRetry = func(ctx context.Context, resp *http.Response, err error) (bool, error) {
		c := attemptFrom(ctx)
		if c == nil || (resp == nil && err == nil) {
			return false, nil
		}
		if !ShouldRetry(ctx, c.method, resp, err) {
			return false, nil
		}
		n := int(c.n.Load())
		if n > maxRetries {
			return true, nil // go-retryablehttp stops here; nothing to count
		}
		t.retries.Add(1)
		if onRetry != nil {
			ev := RetryEvent{Method: c.method, URL: c.url, Attempt: n, Err: err}
			if resp != nil {
				ev.Status = resp.StatusCode
			}
			onRetry(ev)
		}
		return true, nil
	}
	t.rt = &retryablehttp.RoundTripper{Client: rc}
	return t
}

func (t *retryTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	c := &attemptCounter{method: req.Method, url: SanitizeURL(req.URL)}
	req = req.WithContext(context.WithValue(req.Context(), attemptKey{}, c))
	return t.rt.RoundTrip(req)
}
