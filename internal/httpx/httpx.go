// Package httpx builds the layered HTTP client shared by the WUG and NetBox
// clients: a pooled go-cleanhttp transport at the bottom, then per-attempt
// logging, a concurrency cap, an adaptive rate limiter, retries through
// go-retryablehttp and a user agent on top.
//
// Layers from the caller down:
//
//	user agent → retry (go-retryablehttp) → rate limiter → concurrency cap → logging → base transport
//
// Retries sit above the limiter and the cap so a request waiting out a
// backoff holds neither a rate token nor a concurrency slot, and every
// attempt is logged and limited on its own.
package httpx

import (
	"crypto/tls"
	"log/slog"
	"net/http"
	"time"

	"github.com/hashicorp/go-cleanhttp"
)

// Config describes the transport stack Build assembles. The zero value is usable:
// a pooled transport with the default retry policy, no rate limit, no
// concurrency cap and no logging.
type Config struct {
	// Base is the bottom transport. Nil means a go-cleanhttp pooled
	// transport configured with TLS.
	Base http.RoundTripper
	// TLS configures the default base transport; ignored when Base is set.
	TLS *tls.Config
	// Retry is the retry policy; nil means DefaultRetryPolicy().
	Retry *RetryPolicy
	// RateLimit is the steady request rate per second; 0 or less disables
	// the limiter.
	RateLimit float64
	// Burst is the limiter's burst; values below 1 mean 1.
	Burst int
	// MaxConcurrency caps requests in flight (including reading the
	// response body); 0 or less means no cap.
	MaxConcurrency int
	// Logger receives one record per attempt; nil is silent.
	Logger *slog.Logger
	// UserAgent is set on requests that carry none; empty leaves it alone.
	UserAgent string
	// Hooks observe retries and throttling, e.g. for metrics.
	Hooks Hooks
}

// Hooks are optional callbacks for observing the stack. They run on the
// request's goroutine and must be quick and safe for concurrent use.
type Hooks struct {
	// OnAttempt is called after each attempt reaches the server or fails,
	// retries included, e.g. to count requests by status.
	OnAttempt func(AttemptEvent)
	// OnRetry is called when a failed attempt will be retried.
	OnRetry func(RetryEvent)
	// OnLimitChange is called when the adaptive limiter changes its rate.
	OnLimitChange func(newRate float64)
}

// RetryEvent describes one retry decision.
type RetryEvent struct {
	Method string
	// URL is sanitized (see SanitizeURL).
	URL string
	// Attempt is the attempt that failed, starting at 1.
	Attempt int
	// Status is the failed attempt's HTTP status, 0 on a transport error.
	Status int
	// Err is the failed attempt's transport error, if any.
	Err error
}

// AttemptEvent describes one attempt of a request.
type AttemptEvent struct {
	Method string
	// URL is sanitized (see SanitizeURL).
	URL string
	// Attempt numbers the attempts of one request, starting at 1.
	Attempt int
	// Status is the answer's HTTP status, 0 on a transport error.
	Status int
	// Err is the attempt's transport error, if any.
	Err error
	// Duration runs from sending the request to the answer's headers.
	Duration time.Duration
}

// Stack is the built transport with handles on its observable parts.
type Stack struct {
	// Transport is the top of the stack.
	Transport http.RoundTripper
	// Limiter is the adaptive limiter, nil when rate limiting is off.
	Limiter *AdaptiveLimiter
	// Retries counts retries performed since the stack was built.
	Retries func() int64
}

// Rate returns the adaptive limiter's current rate in requests per second,
// or 0 when rate limiting is off.
func (s *Stack) Rate() float64 {
	if s.Limiter == nil {
		return 0
	}
	return s.Limiter.Rate()
}

// Build assembles the transport layers described by cfg.
func Build(cfg Config) *Stack {
	base := cfg.Base
	if base == nil {
		t := cleanhttp.DefaultPooledTransport()
		if cfg.TLS != nil {
			t.TLSClientConfig = cfg.TLS.Clone()
		}
		base = t
	}
	var rt http.RoundTripper = &loggingTransport{next: base, logger: cfg.Logger, onAttempt: cfg.Hooks.OnAttempt}
	if cfg.MaxConcurrency > 0 {
		rt = newConcurrencyLimit(rt, cfg.MaxConcurrency)
	}
	s := &Stack{}
	if cfg.RateLimit > 0 {
		s.Limiter = NewAdaptiveLimiter(cfg.RateLimit, cfg.Burst)
		s.Limiter.OnChange = cfg.Hooks.OnLimitChange
		rt = &limitTransport{next: rt, limiter: s.Limiter}
	}
	policy := DefaultRetryPolicy()
	if cfg.Retry != nil {
		policy = *cfg.Retry
	}
	retry := newRetryTransport(rt, policy, cfg.Hooks.OnRetry)
	s.Retries = retry.retries.Load
	rt = retry
	if cfg.UserAgent != "" {
		rt = &userAgentTransport{next: rt, ua: cfg.UserAgent}
	}
	s.Transport = rt
	return s
}

type userAgentTransport struct {
	next http.RoundTripper
	ua   string
}

func (t *userAgentTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Header.Get("User-Agent") == "" {
		req = req.Clone(req.Context())
		req.Header.Set("User-Agent", t.ua)
	}
	return t.next.RoundTrip(req)
}
