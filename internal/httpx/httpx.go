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
	"net/http"
	"time"
)

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

// build assembles the layers o describes over base.
func (o *Options) build(base http.RoundTripper) *Stack {
	var rt http.RoundTripper = &loggingTransport{next: base, logger: o.Logger, onAttempt: o.Hooks.OnAttempt}
	if o.MaxConcurrency > 0 {
		rt = newConcurrencyLimit(rt, o.MaxConcurrency)
	}
	s := &Stack{}
	if o.RateLimit > 0 {
		s.Limiter = NewAdaptiveLimiter(o.RateLimit, o.Burst)
		s.Limiter.OnChange = o.Hooks.OnLimitChange
		rt = &limitTransport{next: rt, limiter: s.Limiter}
	}
	policy := DefaultRetryPolicy()
	if o.Retry != nil {
		policy = *o.Retry
	}
	retry := newRetryTransport(rt, policy, o.Hooks.OnRetry)
	s.Retries = retry.retries.Load
	rt = retry
	if o.UserAgent != "" {
		rt = &userAgentTransport{next: rt, ua: o.UserAgent}
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
