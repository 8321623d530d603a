package httpx_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/jarcoal/httpmock"

	"github.com/wugsync/wugsync/internal/httpx"
)

// build applies setters to fresh Options and builds the client.
func build(t *testing.T, sets ...httpx.Setter) (*http.Client, error) {
	t.Helper()
	var o httpx.Options
	for _, set := range sets {
		if err := set(&o); err != nil {
			return nil, err
		}
	}
	hc, _, err := o.Client()
	return hc, err
}

// roundTripperFunc is a RoundTripper that is not an *http.Transport.
type roundTripperFunc func(*http.Request) (*http.Response, error)

func (f roundTripperFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

func TestOptionsTLSOnCallersTransport(t *testing.T) {
	t.Parallel()
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.Write([]byte("ok")) }))
	t.Cleanup(srv.Close)
	pin := httpx.Fingerprint(srv.Certificate().Raw)
	caPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw})
	pool := x509.NewCertPool()
	pool.AddCert(srv.Certificate())

	// The caller's transport carries a setting of its own (a header
	// size limit) and no TLS configuration; both must survive.
	callers := &http.Transport{MaxResponseHeaderBytes: 1 << 20}
	noRetry := httpx.SetRetry(httpx.RetryPolicy{})
	tests := []struct {
		name string
		sets []httpx.Setter
	}{
		{"pin on base transport", []httpx.Setter{httpx.SetBaseTransport(callers), httpx.SetPinnedCertificate(pin)}},
		{"CA PEM on base transport", []httpx.Setter{httpx.SetBaseTransport(callers), httpx.SetCAPEM(caPEM)}},
		{"TLS config on base transport", []httpx.Setter{httpx.SetBaseTransport(callers), httpx.SetTLSConfig(&tls.Config{RootCAs: pool})}},
		{"pin on HTTP client's transport", []httpx.Setter{httpx.SetHTTPClient(&http.Client{Transport: callers}), httpx.SetPinnedCertificate(pin)}},
		{"pin on HTTP client without transport", []httpx.Setter{httpx.SetHTTPClient(&http.Client{}), httpx.SetPinnedCertificate(pin)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			hc, err := build(t, append(tt.sets, noRetry)...)
			if err != nil {
				t.Fatal(err)
			}
			res, err := hc.Get(srv.URL)
			if err != nil {
				t.Fatalf("request through the caller's transport with TLS settings: %v", err)
			}
			res.Body.Close()
		})
	}
	t.Cleanup(func() {
		// net/http itself fills in TLSClientConfig's NextProtos on Clone.
		if c := callers.TLSClientConfig; c != nil && (c.RootCAs != nil || c.InsecureSkipVerify || c.VerifyConnection != nil) {
			t.Errorf("the caller's transport took the TLS settings: %+v", c)
		}
	})
}

func TestOptionsKeepCallersTLSSettings(t *testing.T) {
	t.Parallel()
	own := &tls.Config{ServerName: "wug.internal", MinVersion: tls.VersionTLS13}
	var o httpx.Options
	for _, set := range []httpx.Setter{httpx.SetBaseTransport(&http.Transport{TLSClientConfig: own}), httpx.SetInsecureSkipVerify()} {
		if err := set(&o); err != nil {
			t.Fatal(err)
		}
	}
	if _, _, err := o.Client(); err != nil {
		t.Fatal(err)
	}
	if own.InsecureSkipVerify {
		t.Error("the caller's tls.Config was changed")
	}
}

func TestOptionsRefuseCombinations(t *testing.T) {
	t.Parallel()
	wrapped := roundTripperFunc(http.DefaultTransport.RoundTrip)
	pin := strings.Repeat("ab", 32)
	tests := []struct {
		name string
		sets []httpx.Setter
		want []string // each must appear in the error
	}{
		{"TLS on a wrapping transport", []httpx.Setter{httpx.SetBaseTransport(wrapped), httpx.SetCAPEM([]byte("x"))},
			[]string{"WithCAPEM", "WithBaseTransport", "httpx_test.roundTripperFunc", "*http.Transport"}},
		{"pin on a client's wrapping transport", []httpx.Setter{httpx.SetPinnedCertificate(pin), httpx.SetHTTPClient(&http.Client{Transport: wrapped})},
			[]string{"WithPinnedCertificate", "WithHTTPClient"}},
		{"first TLS option named", []httpx.Setter{httpx.SetInsecureSkipVerify(), httpx.SetTLSConfig(&tls.Config{}), httpx.SetBaseTransport(wrapped)},
			[]string{"WithTLSConfig cannot be combined"}},
		{"client and base transport", []httpx.Setter{httpx.SetHTTPClient(&http.Client{}), httpx.SetBaseTransport(wrapped)},
			[]string{"WithHTTPClient and WithBaseTransport"}},
		{"two trust modes", []httpx.Setter{httpx.SetPinnedCertificate(pin), httpx.SetInsecureSkipVerify()}, []string{"choose one"}},
		{"nil client", []httpx.Setter{httpx.SetHTTPClient(nil)}, []string{"WithHTTPClient: nil client"}},
		{"nil transport", []httpx.Setter{httpx.SetBaseTransport(nil)}, []string{"WithBaseTransport: nil transport"}},
		{"nil TLS config", []httpx.Setter{httpx.SetTLSConfig(nil)}, []string{"WithTLSConfig: nil config"}},
		{"bad pin", []httpx.Setter{httpx.SetPinnedCertificate("abc")}, []string{"WithPinnedCertificate", "64 hex digits"}},
		{"bad retry", []httpx.Setter{httpx.SetRetry(httpx.RetryPolicy{WaitMin: time.Second})}, []string{"WithRetry: invalid policy"}},
		{"negative rate", []httpx.Setter{httpx.SetRateLimit(-1, 1)}, []string{"WithRateLimit: negative rate"}},
		{"negative concurrency", []httpx.Setter{httpx.SetMaxConcurrency(-1)}, []string{"WithMaxConcurrency: negative"}},
		{"negative timeout", []httpx.Setter{httpx.SetTimeout(-time.Second)}, []string{"WithTimeout: negative"}},
		{"user agent line break", []httpx.Setter{httpx.SetUserAgent("a\r\nX-Evil: 1")}, []string{"WithUserAgent"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := build(t, tt.sets...)
			if err == nil {
				t.Fatalf("accepted; want an error naming %q", tt.want)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("err = %v, want it to name %q", err, w)
				}
			}
		})
	}
}

func TestOptionsTimeout(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		sets []httpx.Setter
		want time.Duration
	}{
		{"default", nil, 0},
		{"from the HTTP client", []httpx.Setter{httpx.SetHTTPClient(&http.Client{Timeout: time.Minute})}, time.Minute},
		{"WithTimeout wins", []httpx.Setter{httpx.SetHTTPClient(&http.Client{Timeout: time.Minute}), httpx.SetTimeout(0)}, 0},
		{"WithTimeout", []httpx.Setter{httpx.SetTimeout(time.Second)}, time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			hc, err := build(t, tt.sets...)
			if err != nil {
				t.Fatal(err)
			}
			if hc.Timeout != tt.want {
				t.Errorf("timeout %v, want %v", hc.Timeout, tt.want)
			}
		})
	}
}

func TestUntrustedCertificate(t *testing.T) {
	t.Parallel()
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.Write([]byte("ok")) }))
	t.Cleanup(srv.Close)
	other := otherCertificate(t)
	tests := []struct {
		name string
		sets []httpx.Setter
		as   func(error) bool // the crypto error stays reachable
	}{
		{"unknown authority", nil, func(err error) bool {
			var u x509.UnknownAuthorityError
			return errors.As(err, &u)
		}},
		{"another CA", []httpx.Setter{httpx.SetCAPEM(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: other.Raw}))}, func(err error) bool {
			var v *tls.CertificateVerificationError
			return errors.As(err, &v)
		}},
		{"wrong pin", []httpx.Setter{httpx.SetPinnedCertificate(httpx.Fingerprint(other.Raw))}, func(err error) bool {
			return strings.Contains(err.Error(), "does not match the pinned one")
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var mu sync.Mutex
			var attempts []int
			hooks := httpx.Hooks{OnAttempt: func(ev httpx.AttemptEvent) {
				mu.Lock()
				attempts = append(attempts, ev.Attempt)
				mu.Unlock()
				if !errors.Is(ev.Err, httpx.ErrUntrustedCertificate) {
					t.Errorf("attempt error %v does not match ErrUntrustedCertificate", ev.Err)
				}
			}}
			retry := httpx.RetryPolicy{MaxRetries: 3, WaitMin: time.Millisecond, WaitMax: time.Millisecond}
			hc, err := build(t, append(tt.sets, httpx.SetHooks(hooks), httpx.SetRetry(retry))...)
			if err != nil {
				t.Fatal(err)
			}
			res, err := hc.Get(srv.URL)
			if err == nil {
				res.Body.Close()
				t.Fatal("request succeeded")
			}
			if !errors.Is(err, httpx.ErrUntrustedCertificate) || !tt.as(err) {
				t.Errorf("err = %v: want ErrUntrustedCertificate with the crypto error inside", err)
			}
			mu.Lock()
			defer mu.Unlock()
			if diff := cmp.Diff([]int{1}, attempts); diff != "" {
				t.Errorf("attempts (-want +got), a certificate failure is never retried:\n%s", diff)
			}
		})
	}
}

func TestOtherTransportErrorsAreNotUntrusted(t *testing.T) {
	t.Parallel()
	mt := httpmock.NewMockTransport()
	mt.RegisterNoResponder(httpmock.ConnectionFailure)
	hc := httpx.New(httpx.Options{Base: mt, Retry: &httpx.RetryPolicy{}})
	_, err := hc.Get("https://wug.test/x")
	if err == nil || errors.Is(err, httpx.ErrUntrustedCertificate) {
		t.Errorf("err = %v, want a failure that is not ErrUntrustedCertificate", err)
	}
}

func TestOnAttempt(t *testing.T) {
	t.Parallel()
	mt := httpmock.NewMockTransport()
	resp, _ := sequence(503, 200)
	mt.RegisterNoResponder(resp)
	var got []httpx.AttemptEvent
	hooks := httpx.Hooks{OnAttempt: func(ev httpx.AttemptEvent) { got = append(got, ev) }}
	hc := httpx.New(httpx.Options{Base: mt, Retry: &fastRetry, Hooks: hooks})
	get(t, hc, "https://wug.test/api/v1/token?password=hunter2")
	u := "https://wug.test/api/v1/token?password=REDACTED"
	want := []httpx.AttemptEvent{
		{Method: "GET", URL: u, Attempt: 1, Status: 503},
		{Method: "GET", URL: u, Attempt: 2, Status: 200},
	}
	if diff := cmp.Diff(want, got, cmpopts.IgnoreFields(httpx.AttemptEvent{}, "Duration")); diff != "" {
		t.Errorf("attempts (-want +got):\n%s", diff)
	}
}

// otherCertificate returns a self-signed certificate that is not the one
// httptest's servers use.
func otherCertificate(t *testing.T) *x509.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "other.test"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
		DNSNames:              []string{"example.com"},
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1)},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return cert
}
