package wugtest

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"testing"

	"github.com/wugsync/wugsync/wug/wugtest/internal/contract"
)

// Checker validates WUG requests and responses against Progress's Swagger
// 2.0 contract for WUG 2026.0, embedded in this package (the same file as
// wug/testdata/wug-openapi-2026.0.json). The fake uses it on every exchange;
// tests of other clients can use it directly or through [Checker.Transport].
//
// A request must name an operation of the contract (method and path), use
// only declared query parameters with valid values, and send a body that
// matches the operation's schema with no undeclared properties. A 2xx
// response must match the operation's response schema, again with no
// undeclared properties. POST /api/v1/token is outside the contract and is
// not checked. The narrow adjustments made to the contract are documented
// in the internal contract package.
type Checker struct {
	c *contract.Checker
}

// NewChecker returns a Checker; the contract is parsed once per process.
func NewChecker() (*Checker, error) {
	c, err := contract.Load()
	if err != nil {
		return nil, err
	}
	return &Checker{c: c}, nil
}

// Operation returns the contract's operationId for method and path
// (e.g. "Device_ApplyTemplates"), or an error naming why none matches.
func (k *Checker) Operation(method, path string) (string, error) {
	rt, err := k.c.Find(method, path)
	if err != nil {
		return "", fmt.Errorf("%s %s: %w", method, path, err)
	}
	return rt.OperationID, nil
}

// CheckRequest validates req, whose body is given separately (req.Body is
// not read). It returns one message per violation; none means conforming.
func (k *Checker) CheckRequest(req *http.Request, body []byte) []string {
	_, v := k.c.CheckRequest(req, body)
	return v
}

// CheckExchange validates a request and the response it got.
func (k *Checker) CheckExchange(req *http.Request, reqBody []byte, status int, header http.Header, respBody []byte) []string {
	rt, v := k.c.CheckRequest(req, reqBody)
	if status >= 200 && status < 300 {
		v = append(v, k.c.CheckResponse(req, rt, status, header, respBody)...)
	}
	return v
}

// Transport wraps base (http.DefaultTransport when nil) so every exchange
// through it is checked and each violation reported with tb.Errorf. Use it
// under a client talking to httpmock or any other stand-in for WUG.
func (k *Checker) Transport(tb testing.TB, base http.RoundTripper) http.RoundTripper {
	if base == nil {
		base = http.DefaultTransport
	}
	return &checkingTransport{k: k, tb: tb, base: base}
}

type checkingTransport struct {
	k    *Checker
	tb   testing.TB
	base http.RoundTripper
}

func (t *checkingTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	var body []byte
	if req.Body != nil && req.Body != http.NoBody {
		b, err := io.ReadAll(req.Body)
		req.Body.Close()
		if err != nil {
			return nil, err
		}
		body = b
		req = req.Clone(req.Context())
		req.Body = io.NopCloser(bytes.NewReader(b))
		req.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(b)), nil }
	}
	resp, err := t.base.RoundTrip(req)
	if err != nil {
		for _, v := range t.k.CheckRequest(req, body) {
			t.tb.Errorf("wugtest: contract: %s", v)
		}
		return resp, err
	}
	respBody, rerr := io.ReadAll(resp.Body)
	resp.Body.Close()
	resp.Body = io.NopCloser(bytes.NewReader(respBody))
	if rerr != nil {
		return resp, nil
	}
	for _, v := range t.k.CheckExchange(req, body, resp.StatusCode, resp.Header, respBody) {
		t.tb.Errorf("wugtest: contract: %s", v)
	}
	return resp, nil
}
