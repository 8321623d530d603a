package wug_test

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/jarcoal/httpmock"

	"github.com/wugsync/wugsync/wug"
)

// TestCreatingCallsOutcomeUnknown pins, for each creating call, which
// failures leave its outcome unknown (errors.Is ErrOutcomeUnknown) and how
// many requests reach WUG, next to a read that fails the same way.
func TestCreatingCallsOutcomeUnknown(t *testing.T) {
	t.Parallel()
	type fault struct {
		name     string
		answer   httpmock.Responder
		unknown  bool // for a creating call
		requests int  // a creating call's requests
		status   int  // the *APIError's status, 0 for none
	}
	status := func(code int, body string) httpmock.Responder {
		return func(*http.Request) (*http.Response, error) { return httpmock.NewStringResponse(code, body), nil }
	}
	refused := func(*http.Request) (*http.Response, error) {
		return nil, &net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED}
	}
	late := func(req *http.Request) (*http.Response, error) {
		<-req.Context().Done() // WUG answers after the client's timeout
		return nil, req.Context().Err()
	}
	all := fastRetry.MaxRetries + 1
	faults := []fault{
		{name: "dropped after sending", answer: httpmock.NewErrorResponder(io.ErrUnexpectedEOF), unknown: true, requests: 1},
		{name: "reset after sending", answer: httpmock.NewErrorResponder(&net.OpError{Op: "read", Net: "tcp", Err: syscall.ECONNRESET}), unknown: true, requests: 1},
		{name: "late answer", answer: late, unknown: true, requests: 1},
		{name: "500", answer: status(500, `{"error":{"message":"database busy"}}`), unknown: true, requests: 1, status: 500},
		{name: "502", answer: status(502, `bad gateway`), unknown: true, requests: 1, status: 502},
		{name: "504", answer: status(504, ``), unknown: true, requests: 1, status: 504},
		{name: "2xx not JSON", answer: status(200, `<html>ok</html>`), unknown: true, requests: 1, status: 200},
		{name: "connection refused", answer: refused, requests: all},
		{name: "503", answer: status(503, `{"error":{"message":"busy"}}`), requests: all, status: 503},
		{name: "429", answer: status(429, ``), requests: all, status: 429},
		{name: "400", answer: status(400, `{"error":{"message":"bad template"}}`), requests: 1, status: 400},
	}
	calls := []struct {
		name, method, path string
		call               func(context.Context, *wug.Client) error
	}{
		{"BulkAdd", "PATCH", "/devices/-/config/template", func(ctx context.Context, c *wug.Client) error {
			_, err := c.Devices.AddDeviceByIP(ctx, "10.0.0.1", nil)
			return err
		}},
		{"ScanIPs", "PATCH", "/device-groups/0/newDevice", func(ctx context.Context, c *wug.Client) error {
			_, err := c.Scans.ScanIPs(ctx, "0", []string{"10.0.0.1"}, nil)
			return err
		}},
		{"ScanIP", "PUT", "/device-groups/0/newDevice", func(ctx context.Context, c *wug.Client) error {
			_, err := c.Scans.ScanIP(ctx, "0", "10.0.0.1", nil)
			return err
		}},
		{"read", "GET", "/devices/7", func(ctx context.Context, c *wug.Client) error {
			_, err := c.Devices.Get(ctx, "7")
			return err
		}},
	}
	for _, call := range calls {
		for _, f := range faults {
			t.Run(call.name+"/"+f.name, func(t *testing.T) {
				t.Parallel()
				m := newMockWUG(t)
				var n atomic.Int32
				m.mt.RegisterResponder(call.method, `=~^`+mockBase+`/api/v1`+call.path+`(\?.*)?$`, m.authed(func(req *http.Request) (*http.Response, error) {
					n.Add(1)
					return f.answer(req)
				}))
				c := m.client(t, wug.WithTimeout(300*time.Millisecond))
				if err := c.Login(context.Background()); err != nil {
					t.Fatal(err)
				}
				err := call.call(context.Background(), c)
				if err == nil {
					t.Fatal("no error")
				}
				wantUnknown := f.unknown && call.name != "read"
				if got := errors.Is(err, wug.ErrOutcomeUnknown); got != wantUnknown {
					t.Errorf("errors.Is(%v, ErrOutcomeUnknown) = %v, want %v", err, got, wantUnknown)
				}
				var ae *wug.APIError
				if got := 0; errors.As(err, &ae) {
					got = ae.StatusCode
					if got != f.status {
						t.Errorf("APIError status %d, want %d", got, f.status)
					}
				} else if f.status != 0 {
					t.Errorf("err = %v, want an *APIError with status %d", err, f.status)
				}
				if call.name != "read" && int(n.Load()) != f.requests {
					t.Errorf("%d requests, want %d", n.Load(), f.requests)
				}
			})
		}
	}
}

// TestCreatingCallLoginFailure checks that a creating call whose login
// fails before it is sent is a known failure, not an unknown outcome.
func TestCreatingCallLoginFailure(t *testing.T) {
	t.Parallel()
	m := newMockWUG(t)
	var applied atomic.Int32
	m.mt.RegisterResponder("PATCH", mockBase+"/api/v1/devices/-/config/template", func(*http.Request) (*http.Response, error) {
		applied.Add(1)
		return httpmock.NewStringResponse(200, `{"data":{"idMap":[{"templateId":"t0","resultId":"1"}]}}`), nil
	})
	m.mt.RegisterResponder("POST", mockBase+"/api/v1/token", httpmock.NewErrorResponder(&net.OpError{Op: "read", Net: "tcp", Err: syscall.ECONNRESET}))
	c := m.client(t)
	_, err := c.Devices.AddDeviceByIP(context.Background(), "10.0.0.1", nil)
	if err == nil || errors.Is(err, wug.ErrOutcomeUnknown) || applied.Load() != 0 {
		t.Errorf("err = %v after %d applies; want a known login failure and no apply", err, applied.Load())
	}
}
