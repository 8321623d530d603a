package httpx

import (
	"context"
	"io"
	"net/http"
	"sync"
	"time"

	"golang.org/x/sync/semaphore"
	"golang.org/x/time/rate"
)

// AdaptiveLimiter is a token-bucket limiter that halves its rate when the
// server answers 429 or 503 (down to a floor of 1/16 of the configured rate)
// and climbs back by a quarter of the configured rate per RecoverAfter of
// answers without throttling.
type AdaptiveLimiter struct {
	// RecoverAfter is the quiet time between two recovery steps.
	RecoverAfter time.Duration
	// OnChange, if set, is called with the new rate after each change.
	OnChange func(newRate float64)

	lim   *rate.Limiter
	base  rate.Limit
	floor rate.Limit

	mu   sync.Mutex
	last time.Time
}

// NewAdaptiveLimiter returns a limiter allowing rps requests per second with
// the given burst (at least 1).
func NewAdaptiveLimiter(rps float64, burst int) *AdaptiveLimiter {
	burst = max(burst, 1)
	return &AdaptiveLimiter{
		RecoverAfter: 2 * time.Second,
		lim:          rate.NewLimiter(rate.Limit(rps), burst),
		base:         rate.Limit(rps),
		floor:        rate.Limit(rps / 16),
	}
}

// Wait blocks until a request may go or ctx ends.
func (a *AdaptiveLimiter) Wait(ctx context.Context) error { return a.lim.Wait(ctx) }

// Rate returns the current rate in requests per second.
func (a *AdaptiveLimiter) Rate() float64 { return float64(a.lim.Limit()) }

// Observe adjusts the rate after a response with the given status.
func (a *AdaptiveLimiter) Observe(status int) {
	a.mu.Lock()
	now := time.Now()
	cur := a.lim.Limit()
	next := cur
	switch {
	case status == http.StatusTooManyRequests || status == http.StatusServiceUnavailable:
		next = max(cur/2, a.floor)
		a.last = now
	case cur < a.base && now.Sub(a.last) >= a.RecoverAfter:
		next = min(cur+a.base/4, a.base)
		a.last = now
	}
	if next != cur {
		a.lim.SetLimitAt(now, next)
	}
	a.mu.Unlock()
	if next != cur && a.OnChange != nil {
		a.OnChange(float64(next))
	}
}

type limitTransport struct {
	next    http.RoundTripper
	limiter *AdaptiveLimiter
}

func (t *limitTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if err := t.limiter.Wait(req.Context()); err != nil {
		closeBody(req)
		return nil, err
	}
	resp, err := t.next.RoundTrip(req)
	if err == nil {
		t.limiter.Observe(resp.StatusCode)
	}
	return resp, err
}

// concurrencyLimit is a RoundTripper that lets at most n requests be in
// flight at once; a slot is held until the response body is closed or
// fully read.
type concurrencyLimit struct {
	next http.RoundTripper
	sem  *semaphore.Weighted
}

// newConcurrencyLimit wraps next with a cap of n concurrent requests.
func newConcurrencyLimit(next http.RoundTripper, n int) *concurrencyLimit {
	return &concurrencyLimit{next: next, sem: semaphore.NewWeighted(int64(max(n, 1)))}
}

// RoundTrip waits for a slot (or the request's context) and sends req.
func (c *concurrencyLimit) RoundTrip(req *http.Request) (*http.Response, error) {
	if err := c.sem.Acquire(req.Context(), 1); err != nil {
		closeBody(req)
		return nil, err
	}
	resp, err := c.next.RoundTrip(req)
	if err != nil || resp.Body == nil {
		c.sem.Release(1)
		return resp, err
	}
	resp.Body = &releaseBody{ReadCloser: resp.Body, release: func() { c.sem.Release(1) }}
	return resp, nil
}

// releaseBody calls release once, at EOF or Close, whichever comes first.
type releaseBody struct {
	io.ReadCloser
	once    sync.Once
	release func()
}

func (b *releaseBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if err != nil {
		b.once.Do(b.release)
	}
	return n, err
}

func (b *releaseBody) Close() error {
	err := b.ReadCloser.Close()
	b.once.Do(b.release)
	return err
}

// closeBody honours the RoundTripper contract of closing the body even when
// the request is never sent.
func closeBody(req *http.Request) {
	if req.Body != nil {
		req.Body.Close()
	}
}
