package httpx_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/wugsync/wugsync/internal/httpx"
)

// TestRequestsPerFaultClass pins how many requests reach a real server per
// kind of fault, for requests that create (RepeatNever) and reads.
func TestRequestsPerFaultClass(t *testing.T) {
	t.Parallel()
	const clamp = 30 * time.Millisecond
	policy := httpx.RetryPolicy{MaxRetries: 3, WaitMin: time.Millisecond, WaitMax: 2 * time.Millisecond, MaxRetryAfter: clamp}
	all := policy.MaxRetries + 1
	status := func(code int, header ...string) http.HandlerFunc {
		return func(w http.ResponseWriter, _ *http.Request) {
			for i := 0; i+1 < len(header); i += 2 {
				w.Header().Set(header[i], header[i+1])
			}
			w.WriteHeader(code)
		}
	}
	// drop reads the request, then closes the connection without an answer,
	// as when the connection breaks after the server acted.
	drop := func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		conn, _, err := w.(http.Hijacker).Hijack()
		if err != nil {
			t.Error(err)
			return
		}
		conn.Close()
	}
	tests := []struct {
		name     string
		repeat   httpx.Repeat
		method   string
		handler  http.HandlerFunc // nil: nothing listens
		requests int              // requests the server saw
		retries  int64            // retries the layer made
		minWait  time.Duration
	}{
		{name: "persistent 400 on a create", repeat: httpx.RepeatNever, method: "PATCH", handler: status(400), requests: 1},
		{name: "persistent 400 on a read", method: "GET", handler: status(400), requests: 1},
		{name: "persistent 404 on a safe POST", repeat: httpx.RepeatSafe, method: "POST", handler: status(404), requests: 1},
		{name: "persistent 503 on a read", method: "GET", handler: status(503), requests: all, retries: 3},
		{name: "persistent 503 on a create", repeat: httpx.RepeatNever, method: "PATCH", handler: status(503), requests: all, retries: 3},
		{name: "persistent 429 on a create", repeat: httpx.RepeatNever, method: "PATCH", handler: status(429), requests: all, retries: 3},
		{name: "500 on a create", repeat: httpx.RepeatNever, method: "PATCH", handler: status(500), requests: 1},
		{name: "502 on a create", repeat: httpx.RepeatNever, method: "PATCH", handler: status(502), requests: 1},
		{name: "504 on a create", repeat: httpx.RepeatNever, method: "PUT", handler: status(504), requests: 1},
		{name: "dropped connection on a create", repeat: httpx.RepeatNever, method: "PATCH", handler: drop, requests: 1},
		{name: "dropped connection on a read", method: "GET", handler: drop, requests: all, retries: 3},
		{name: "connection refused on a create", repeat: httpx.RepeatNever, method: "PATCH", retries: 3},
		{name: "huge Retry-After is clamped", method: "GET", handler: status(503, "Retry-After", "9999999999"), requests: all, retries: 3, minWait: 3 * clamp},
		{name: "huge Retry-After date is clamped", method: "GET", handler: status(429, "Retry-After", "Fri, 31 Dec 9999 23:59:59 GMT"), requests: all, retries: 3, minWait: 3 * clamp},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var seen atomic.Int32
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				seen.Add(1)
				tt.handler(w, r)
			}))
			if tt.handler == nil {
				srv.Close() // the port now refuses connections
			} else {
				defer srv.Close()
			}
			s := httpx.Build(httpx.Options{Retry: &policy})
			req, _ := http.NewRequestWithContext(httpx.WithRepeat(context.Background(), tt.repeat), tt.method, srv.URL+"/x", strings.NewReader(`{"a":1}`))
			start := time.Now()
			res, err := (&http.Client{Transport: s.Transport}).Do(req)
			elapsed := time.Since(start)
			if err == nil {
				res.Body.Close()
			}
			if got := int(seen.Load()); got != tt.requests {
				t.Errorf("server saw %d requests, want %d (err %v)", got, tt.requests, err)
			}
			if got := s.Retries(); got != tt.retries {
				t.Errorf("retries = %d, want %d", got, tt.retries)
			}
			if tt.handler == nil && !httpx.NeverSent(err) {
				t.Errorf("err = %v, want a dial error", err)
			}
			if elapsed < tt.minWait {
				t.Errorf("took %v, want at least %v of clamped waits", elapsed, tt.minWait)
			}
			// The clamp bounds every wait; 10s is far above 3×30ms.
			if elapsed > 10*time.Second {
				t.Errorf("took %v; the waits were not clamped", elapsed)
			}
		})
	}
}
