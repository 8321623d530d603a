package httpx

import (
	"context"
	"errors"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/hashicorp/go-retryablehttp"
)

// RetryPolicy says how often and how long to retry. Retries happen on
// transport errors, 429, 502, 503 and 504, and on 500 for idempotent methods
// (GET, HEAD, OPTIONS, PUT, DELETE) or requests marked with MarkIdempotent,
// but not for requests marked with MarkNotIdempotent;
// never once the request's context ends.
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

// parseRetryAfter reads a Retry-After value: delay seconds or an HTTP date.
func parseRetryAfter(v string, now time.Time) (time.Duration, bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, false
	}
	if secs, err := strconv.ParseInt(v, 10, 64); err == nil {
		if secs < 0 {
			return 0, false
		}
		return time.Duration(secs) * time.Second, true
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(t.Sub(now), 0), true
	}
	return 0, false
}

type idempotentKey struct{}

// MarkIdempotent returns a context whose requests may be retried after a
// 500 whatever their method: for calls the server treats as idempotent,
// such as a token request or a batch delete, though sent with POST or PATCH.
func MarkIdempotent(ctx context.Context) context.Context {
	return context.WithValue(ctx, idempotentKey{}, true)
}

// MarkNotIdempotent returns a context whose requests are not retried after
// a 500 whatever their method: for a PUT that starts work on the server,
// such as a scan, which a repeat would start a second time.
func MarkNotIdempotent(ctx context.Context) context.Context {
	return context.WithValue(ctx, idempotentKey{}, false)
}

// markedIdempotent returns the mark MarkIdempotent or MarkNotIdempotent
// left on ctx, and whether there is one.
func markedIdempotent(ctx context.Context) (v, ok bool) {
	v, ok = ctx.Value(idempotentKey{}).(bool)
	return v, ok
}

// ShouldRetry reports whether a request with the given method that ended in
// resp or err is worth another attempt under the documented rules; a mark
// on ctx (MarkIdempotent, MarkNotIdempotent) overrides the method's
// idempotence.
func ShouldRetry(ctx context.Context, method string, resp *http.Response, err error) bool {
	if ctx.Err() != nil {
		return false
	}
	if err != nil {
		if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
			return false
		}
		// Reuse go-retryablehttp's judgement of which transport errors are
		// permanent (bad scheme, certificate failures, too many redirects).
		ok, _ := retryablehttp.DefaultRetryPolicy(ctx, nil, err)
		return ok
	}
	switch resp.StatusCode {
	case http.StatusTooManyRequests, http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		return true
	case http.StatusInternalServerError:
		if v, ok := markedIdempotent(ctx); ok {
			return v
		}
		return idempotent(method)
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
