package httpx_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/jarcoal/httpmock"

	"github.com/wugsync/wugsync/internal/httpx"
)

// fastRetry keeps retry tests quick.
var fastRetry = httpx.RetryPolicy{MaxRetries: 3, WaitMin: time.Millisecond, WaitMax: 4 * time.Millisecond}

// sequence answers with the given statuses in turn, repeating the last.
func sequence(statuses ...int) (httpmock.Responder, *atomic.Int32) {
	var n atomic.Int32
	return func(req *http.Request) (*http.Response, error) {
		i := int(n.Add(1)) - 1
		st := statuses[min(i, len(statuses)-1)]
		return httpmock.NewStringResponse(st, `{}`), nil
	}, &n
}

// mockAnswering is a mock transport that answers method requests for
// https://wug.test/x with statuses in turn (see sequence), and the count of
// requests it answered.
func mockAnswering(method string, statuses ...int) (*httpmock.MockTransport, *atomic.Int32) {
	mt := httpmock.NewMockTransport()
	resp, n := sequence(statuses...)
	mt.RegisterResponder(method, "https://wug.test/x", resp)
	return mt, n
}

// resetOnce is a mock transport whose first POST for https://wug.test/x
// fails with a connection reset, after the request may have arrived, and
// whose later ones answer 200; and the count of attempts.
func resetOnce() (*httpmock.MockTransport, *atomic.Int32) {
	mt := httpmock.NewMockTransport()
	var n atomic.Int32
	mt.RegisterResponder("POST", "https://wug.test/x", func(*http.Request) (*http.Response, error) {
		if n.Add(1) == 1 {
			return nil, errors.New("read tcp: connection reset by peer")
		}
		return httpmock.NewStringResponse(200, ""), nil
	})
	return mt, &n
}

// send sends req through hc, fails the test on a transport error and
// closes the answer's body; its status and headers stay readable.
func send(t *testing.T, hc *http.Client, req *http.Request) *http.Response {
	t.Helper()
	res, err := hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	return res
}

// get sends a GET of rawURL through hc (see send).
func get(t *testing.T, hc *http.Client, rawURL string) *http.Response {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, rawURL, nil)
	if err != nil {
		t.Fatal(err)
	}
	return send(t, hc, req)
}

func TestRetryByStatusAndMethod(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		method   string
		statuses []int
		want     int // attempts
		status   int // final status
	}{
		{"503 then ok", "GET", []int{503, 503, 200}, 3, 200},
		{"429 then ok", "POST", []int{429, 200}, 2, 200},
		{"502 and 504 retried", "PATCH", []int{502, 504, 200}, 3, 200},
		{"500 retried for GET", "GET", []int{500, 200}, 2, 200},
		{"500 retried for PUT", "PUT", []int{500, 200}, 2, 200},
		{"500 not retried for POST", "POST", []int{500, 200}, 1, 500},
		{"500 not retried for PATCH", "PATCH", []int{500, 200}, 1, 500},
		{"404 not retried", "GET", []int{404, 200}, 1, 404},
		{"501 not retried", "GET", []int{501, 200}, 1, 501},
		{"exhausted returns last answer", "GET", []int{503}, 4, 503},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			mt, n := mockAnswering(tt.method, tt.statuses...)
			var events []httpx.RetryEvent
			var mu sync.Mutex
			s := httpx.Build(httpx.Options{Base: mt, Retry: &fastRetry, Hooks: httpx.Hooks{OnRetry: func(e httpx.RetryEvent) {
				mu.Lock()
				events = append(events, e)
				mu.Unlock()
			}}})
			hc := &http.Client{Transport: s.Transport}
			req, _ := http.NewRequest(tt.method, "https://wug.test/x", strings.NewReader(`{"a":1}`))
			res := send(t, hc, req)
			if res.StatusCode != tt.status {
				t.Errorf("status = %d, want %d", res.StatusCode, tt.status)
			}
			if got := int(n.Load()); got != tt.want {
				t.Errorf("attempts = %d, want %d", got, tt.want)
			}
			if got := s.Retries(); got != int64(tt.want-1) {
				t.Errorf("Retries() = %d, want %d", got, tt.want-1)
			}
			if len(events) != tt.want-1 {
				t.Fatalf("retry events = %d, want %d", len(events), tt.want-1)
			}
			for i, e := range events {
				want := httpx.RetryEvent{Method: tt.method, URL: "https://wug.test/x", Attempt: i + 1, Status: tt.statuses[min(i, len(tt.statuses)-1)]}
				if diff := cmp.Diff(want, e); diff != "" {
					t.Errorf("event %d (-want +got):\n%s", i, diff)
				}
			}
		})
	}
}

// TestRepeatMarks checks that a Repeat mark on the context overrides the
// method in deciding which answers are retried.
func TestRepeatMarks(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		repeat   httpx.Repeat
		method   string
		first    int // the first answer; 200 follows
		attempts int32
	}{
		{"POST marked safe retried after 500", httpx.RepeatSafe, "POST", 500, 2},
		{"POST by method not retried after 500", httpx.RepeatByMethod, "POST", 500, 1},
		{"POST by method retried after 502", httpx.RepeatByMethod, "POST", 502, 2},
		{"PUT by method retried after 500", httpx.RepeatByMethod, "PUT", 500, 2},
		{"PUT marked never not retried after 500", httpx.RepeatNever, "PUT", 500, 1},
		{"PATCH marked never not retried after 502", httpx.RepeatNever, "PATCH", 502, 1},
		{"PATCH marked never not retried after 504", httpx.RepeatNever, "PATCH", 504, 1},
		{"PATCH marked never not retried after 408", httpx.RepeatNever, "PATCH", 408, 1},
		{"PATCH marked never retried after 503", httpx.RepeatNever, "PATCH", 503, 2},
		{"PATCH marked never retried after 429", httpx.RepeatNever, "PATCH", 429, 2},
		{"GET retried after 408", httpx.RepeatByMethod, "GET", 408, 2},
		{"GET not retried after 409", httpx.RepeatByMethod, "GET", 409, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			mt, n := mockAnswering(tt.method, tt.first, 200)
			hc := httpx.New(httpx.Options{Base: mt, Retry: &fastRetry})
			req, _ := http.NewRequestWithContext(httpx.WithRepeat(context.Background(), tt.repeat), tt.method, "https://wug.test/x", strings.NewReader("x"))
			res := send(t, hc, req)
			if n.Load() != tt.attempts {
				t.Errorf("%d attempts (final status %d), want %d", n.Load(), res.StatusCode, tt.attempts)
			}
		})
	}
}

// TestRepeatNeverAfterTransportError checks that a request marked
// RepeatNever is not sent again after a transport error that may follow
// its arrival, while an unmarked POST is.
func TestRepeatNeverAfterTransportError(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		repeat   httpx.Repeat
		attempts int32
	}{{httpx.RepeatNever, 1}, {httpx.RepeatByMethod, 2}} {
		mt, n := resetOnce()
		hc := httpx.New(httpx.Options{Base: mt, Retry: &fastRetry})
		req, _ := http.NewRequestWithContext(httpx.WithRepeat(context.Background(), tt.repeat), "POST", "https://wug.test/x", strings.NewReader("x"))
		res, err := hc.Do(req)
		if err == nil {
			res.Body.Close()
		}
		if n.Load() != tt.attempts {
			t.Errorf("repeat %d: %d attempts (err %v), want %d", tt.repeat, n.Load(), err, tt.attempts)
		}
	}
}

func TestNeverSent(t *testing.T) {
	t.Parallel()
	refused := &net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED}
	tests := []struct {
		name string
		err  error
		want bool
	}{
		{"connection refused", &url.Error{Op: "Patch", URL: "https://wug.test/x", Err: refused}, true},
		{"no route", &net.OpError{Op: "dial", Net: "tcp", Err: syscall.EHOSTUNREACH}, true},
		{"dns failure", &net.OpError{Op: "dial", Net: "tcp", Err: &net.DNSError{Err: "no such host", Name: "wug.test", IsNotFound: true}}, true},
		{"proxy refused", &net.OpError{Op: "proxyconnect", Net: "tcp", Err: syscall.ECONNREFUSED}, true},
		{"reset after write", &net.OpError{Op: "read", Net: "tcp", Err: syscall.ECONNRESET}, false},
		{"write error", &net.OpError{Op: "write", Net: "tcp", Err: syscall.EPIPE}, false},
		{"eof", io.ErrUnexpectedEOF, false},
		{"deadline", context.DeadlineExceeded, false},
	}
	for _, tt := range tests {
		if got := httpx.NeverSent(tt.err); got != tt.want {
			t.Errorf("%s: NeverSent(%v) = %v, want %v", tt.name, tt.err, got, tt.want)
		}
	}
}

func TestRetryRewindsBody(t *testing.T) {
	t.Parallel()
	mt := httpmock.NewMockTransport()
	var bodies []string
	var n atomic.Int32
	mt.RegisterResponder("POST", "https://wug.test/token", func(req *http.Request) (*http.Response, error) {
		b, _ := io.ReadAll(req.Body)
		bodies = append(bodies, string(b))
		if n.Add(1) < 3 {
			return httpmock.NewStringResponse(502, ""), nil
		}
		return httpmock.NewStringResponse(200, "ok"), nil
	})
	hc := httpx.New(httpx.Options{Base: mt, Retry: &fastRetry})
	res, err := hc.Post("https://wug.test/token", "application/x-www-form-urlencoded", strings.NewReader("grant_type=password"))
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	want := []string{"grant_type=password", "grant_type=password", "grant_type=password"}
	if diff := cmp.Diff(want, bodies); diff != "" {
		t.Errorf("bodies (-want +got):\n%s", diff)
	}
}

func TestRetryOnConnectionError(t *testing.T) {
	t.Parallel()
	mt, n := resetOnce()
	var errs []string
	hc := httpx.New(httpx.Options{Base: mt, Retry: &fastRetry, Hooks: httpx.Hooks{OnRetry: func(e httpx.RetryEvent) {
		errs = append(errs, e.Err.Error())
	}}})
	res, err := hc.Post("https://wug.test/x", "text/plain", strings.NewReader("x"))
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if n.Load() != 2 || len(errs) != 1 || !strings.Contains(errs[0], "connection reset") {
		t.Errorf("attempts %d, retry errors %q; want 2 attempts and one connection-reset retry", n.Load(), errs)
	}
}

func TestRetryHonoursRetryAfter(t *testing.T) {
	t.Parallel()
	mt := httpmock.NewMockTransport()
	var n atomic.Int32
	mt.RegisterResponder("GET", "https://wug.test/x", func(*http.Request) (*http.Response, error) {
		if n.Add(1) == 1 {
			r := httpmock.NewStringResponse(429, "")
			r.Header.Set("Retry-After", "1")
			return r, nil
		}
		return httpmock.NewStringResponse(200, ""), nil
	})
	p := fastRetry
	p.MaxRetryAfter = 5 * time.Second
	hc := httpx.New(httpx.Options{Base: mt, Retry: &p})
	start := time.Now()
	get(t, hc, "https://wug.test/x")
	if el := time.Since(start); el < 900*time.Millisecond {
		t.Errorf("retried after %v, want about 1s from Retry-After", el)
	}
}

func TestRetryStopsWhenContextEnds(t *testing.T) {
	t.Parallel()
	mt, n := mockAnswering("GET", 503)
	slow := httpx.RetryPolicy{MaxRetries: 5, WaitMin: time.Minute, WaitMax: time.Minute}
	hc := httpx.New(httpx.Options{Base: mt, Retry: &slow})
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", "https://wug.test/x", nil)
	start := time.Now()
	_, err := hc.Do(req)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("err = %v, want deadline exceeded", err)
	}
	if el := time.Since(start); el > 5*time.Second {
		t.Errorf("took %v after the context ended", el)
	}
	if n.Load() != 1 {
		t.Errorf("attempts = %d, want 1", n.Load())
	}
}

func TestBackoff(t *testing.T) {
	t.Parallel()
	p := httpx.RetryPolicy{MaxRetries: 10, WaitMin: 100 * time.Millisecond, WaitMax: time.Second, MaxRetryAfter: 30 * time.Second}
	for attempt, ceil := range []time.Duration{100, 200, 400, 800, 1000, 1000} {
		ceil *= time.Millisecond
		for range 50 {
			d := p.Backoff(attempt, nil)
			if d < ceil/2 || d > ceil {
				t.Fatalf("Backoff(%d) = %v, want in [%v, %v]", attempt, d, ceil/2, ceil)
			}
		}
	}
	resp := &http.Response{StatusCode: 503, Header: http.Header{"Retry-After": {"7"}}}
	if d := p.Backoff(0, resp); d != 7*time.Second {
		t.Errorf("Retry-After 7 gave %v", d)
	}
	resp.Header.Set("Retry-After", "3600")
	if d := p.Backoff(0, resp); d != 30*time.Second {
		t.Errorf("Retry-After 3600 gave %v, want the 30s cap", d)
	}
	for _, huge := range []string{"9999999999", "9223372036854775807", "99999999999999999999999999"} {
		resp.Header.Set("Retry-After", huge)
		if d := p.Backoff(0, resp); d != 30*time.Second {
			t.Errorf("Retry-After %s gave %v, want the 30s cap", huge, d)
		}
	}
	resp.Header.Set("Retry-After", time.Now().Add(5*time.Second).UTC().Format(http.TimeFormat))
	if d := p.Backoff(0, resp); d < 3*time.Second || d > 5*time.Second {
		t.Errorf("Retry-After as date gave %v, want about 5s", d)
	}
}

func TestAdaptiveLimiter(t *testing.T) {
	t.Parallel()
	var changes []float64
	l := httpx.NewAdaptiveLimiter(16, 1)
	// Long enough that no stall of a loaded machine lets the rate recover
	// before the "too soon" check below.
	l.RecoverAfter = time.Hour
	l.OnChange = func(r float64) { changes = append(changes, r) }
	l.Observe(429)
	l.Observe(503)
	l.Observe(429)
	l.Observe(429)
	l.Observe(429) // floor: 1/16 of the base
	if got := l.Rate(); got != 1 {
		t.Errorf("rate after throttling = %v, want the floor 1", got)
	}
	l.Observe(200) // too soon to recover
	if got := l.Rate(); got != 1 {
		t.Errorf("rate recovered too soon: %v", got)
	}
	// Each quiet answer recovers at most one step however long it waited.
	l.RecoverAfter = 10 * time.Millisecond
	for l.Rate() < 16 {
		time.Sleep(15 * time.Millisecond)
		l.Observe(200)
	}
	want := []float64{8, 4, 2, 1, 5, 9, 13, 16}
	if diff := cmp.Diff(want, changes); diff != "" {
		t.Errorf("rate changes (-want +got):\n%s", diff)
	}
}

func TestRateLimitSlowsRequests(t *testing.T) {
	t.Parallel()
	mt, _ := mockAnswering("GET", 200)
	hc := httpx.New(httpx.Options{Base: mt, RateLimit: 50, Burst: 1})
	start := time.Now()
	for range 6 {
		get(t, hc, "https://wug.test/x")
	}
	// Six requests at 50/s with burst 1 need at least 5 intervals of 20ms.
	if el := time.Since(start); el < 90*time.Millisecond {
		t.Errorf("6 requests took %v, want at least 100ms at 50/s", el)
	}
}

func TestServerThrottlingSlowsLimiter(t *testing.T) {
	t.Parallel()
	mt, _ := mockAnswering("GET", 429, 503, 200)
	s := httpx.Build(httpx.Options{Base: mt, RateLimit: 1000, Burst: 10, Retry: &fastRetry})
	get(t, &http.Client{Transport: s.Transport}, "https://wug.test/x")
	if got := s.Limiter.Rate(); got != 250 {
		t.Errorf("rate after 429 and 503 = %v, want 250", got)
	}
}

func TestConcurrencyCap(t *testing.T) {
	t.Parallel()
	mt := httpmock.NewMockTransport()
	var inFlight, peak atomic.Int32
	mt.RegisterResponder("GET", "https://wug.test/x", func(*http.Request) (*http.Response, error) {
		n := inFlight.Add(1)
		for {
			p := peak.Load()
			if n <= p || peak.CompareAndSwap(p, n) {
				break
			}
		}
		time.Sleep(5 * time.Millisecond)
		inFlight.Add(-1)
		return httpmock.NewStringResponse(200, "body"), nil
	})
	hc := httpx.New(httpx.Options{Base: mt, MaxConcurrency: 2})
	var wg sync.WaitGroup
	for range 12 {
		wg.Go(func() {
			res, err := hc.Get("https://wug.test/x")
			if err != nil {
				t.Error(err)
				return
			}
			io.Copy(io.Discard, res.Body)
			res.Body.Close()
		})
	}
	wg.Wait()
	if p := peak.Load(); p > 2 || p < 1 {
		t.Errorf("peak in flight = %d, want at most 2", p)
	}
}

func TestConcurrencyCapHoldsSlotUntilBodyClosed(t *testing.T) {
	t.Parallel()
	mt, _ := mockAnswering("GET", 200)
	hc := httpx.New(httpx.Options{Base: mt, MaxConcurrency: 1})
	first, err := hc.Get("https://wug.test/x")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Millisecond)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", "https://wug.test/x", nil)
	if _, err := hc.Do(req); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("second request while the first body is open: err = %v, want deadline exceeded", err)
	}
	first.Body.Close()
	second, err := hc.Get("https://wug.test/x")
	if err != nil {
		t.Fatalf("after closing the first body: %v", err)
	}
	second.Body.Close()
}

func TestLoggingHidesSecrets(t *testing.T) {
	t.Parallel()
	mt := httpmock.NewMockTransport()
	resp, _ := sequence(503, 200)
	mt.RegisterNoResponder(resp)
	var buf bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	hc := httpx.New(httpx.Options{Base: mt, Logger: logger, Retry: &fastRetry, UserAgent: "ua-test"})
	req, _ := http.NewRequest("POST", "https://admin:hunter2@wug.test/api/v1/token?access_token=tok-SECRET&site=a", strings.NewReader("password=hunter2"))
	req.Header.Set("Authorization", "Bearer tok-SECRET")
	send(t, hc, req)
	out := buf.String()
	for _, secret := range []string{"hunter2", "tok-SECRET", "Bearer", "admin"} {
		if strings.Contains(out, secret) {
			t.Errorf("log contains %q:\n%s", secret, out)
		}
	}
	for _, want := range []string{"attempt=1", "attempt=2", "status=503", "status=200", "method=POST", "site=a", "duration="} {
		if !strings.Contains(out, want) {
			t.Errorf("log lacks %q:\n%s", want, out)
		}
	}
}

func TestUserAgent(t *testing.T) {
	t.Parallel()
	mt := httpmock.NewMockTransport()
	var got []string
	mt.RegisterResponder("GET", "https://wug.test/x", func(r *http.Request) (*http.Response, error) {
		got = append(got, r.Header.Get("User-Agent"))
		return httpmock.NewStringResponse(200, ""), nil
	})
	hc := httpx.New(httpx.Options{Base: mt, UserAgent: "wugsync/1"})
	get(t, hc, "https://wug.test/x")
	req, _ := http.NewRequest("GET", "https://wug.test/x", nil)
	req.Header.Set("User-Agent", "mine")
	send(t, hc, req)
	if diff := cmp.Diff([]string{"wugsync/1", "mine"}, got); diff != "" {
		t.Errorf("user agents (-want +got):\n%s", diff)
	}
}

func TestSanitizeURL(t *testing.T) {
	t.Parallel()
	tests := map[string]string{
		"https://u:p@h/x?a=1":                      "https://h/x?a=1",
		"https://h/x?password=p&q=1":               "https://h/x?password=REDACTED&q=1",
		"https://h/x?refresh_token=r":              "https://h/x?refresh_token=REDACTED",
		"https://h/api/v1/devices/-?search=10.0.0": "https://h/api/v1/devices/-?search=10.0.0",
	}
	for in, want := range tests {
		u, _ := http.NewRequest("GET", in, nil)
		if got := httpx.SanitizeURL(u.URL); got != want {
			t.Errorf("SanitizeURL(%q) = %q, want %q", in, got, want)
		}
	}
}
