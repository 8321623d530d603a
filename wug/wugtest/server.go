package wugtest

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"sync"
	"testing"

	"github.com/wugsync/wugsync/wug"
)

// Server is a running fake WUG server on a loopback address. It embeds the
// [Handler], so every test control is a method of Server too.
type Server struct {
	*Handler
	// URL is the base URL, e.g. "https://127.0.0.1:41234" (no /api/v1).
	URL string

	srv *httptest.Server
	cfg config
	tb  testing.TB

	clientOnce sync.Once
	client     *wug.Client
}

// NewServer starts a fake WUG server over TLS on 127.0.0.1 and stops it when
// the test ends. Every request and response is checked against the WUG
// 2026.0 contract, and unknown routes are reported; each problem fails tb
// (see [WithoutContract] and [AllowUnknownRoutes]).
//
//	srv := wugtest.NewServer(t)
//	c := srv.Client()
func NewServer(tb testing.TB, opts ...Option) *Server {
	tb.Helper()
	s := NewHandler(append([]Option{WithReporter(tb.Errorf)}, opts...)...).serve(nil)
	s.tb = tb
	tb.Cleanup(s.Close)
	return s
}

// Start runs a fake WUG server outside tests, on a random loopback port (TLS
// unless [WithPlainHTTP]), for quick starts and examples. Contract
// violations and unknown routes are printed to standard error unless
// [WithReporter] says otherwise. Call Close when done.
func Start(opts ...Option) *Server {
	return NewHandler(withStderr(opts)...).serve(nil)
}

// Listen is [Start] on a chosen loopback address such as "127.0.0.1:9644"
// or "[::1]:0".
func Listen(addr string, opts ...Option) (*Server, error) {
	return NewHandler(withStderr(opts)...).Listen(addr)
}

// Listen serves h on a loopback address such as "127.0.0.1:9644" or
// "[::1]:0" (":0" style or non-loopback addresses are refused, so the fake
// never listens beyond the machine), over TLS unless h was made with
// [WithPlainHTTP]. Call Close on the returned Server when done.
func (h *Handler) Listen(addr string) (*Server, error) {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, fmt.Errorf("wugtest: listen address %q: %w", addr, err)
	}
	if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return nil, fmt.Errorf("wugtest: listen address %q is not a loopback address", addr)
	}
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("wugtest: %w", err)
	}
	return h.serve(l), nil
}

// withStderr puts the standard-error reporter before opts, so a
// WithReporter among them still wins.
func withStderr(opts []Option) []Option {
	return append([]Option{WithReporter(func(format string, args ...any) {
		fmt.Fprintf(os.Stderr, format+"\n", args...)
	})}, opts...)
}

// serve starts an httptest server for h on l (a random loopback port when
// nil).
func (h *Handler) serve(l net.Listener) *Server {
	ts := httptest.NewUnstartedServer(h)
	if l != nil {
		ts.Listener.Close()
		ts.Listener = l
	}
	if h.cfg.plainHTTP {
		ts.Start()
	} else {
		ts.StartTLS()
	}
	return &Server{Handler: h, URL: ts.URL, srv: ts, cfg: h.cfg}
}

// Client returns the server's wired *wug.Client, created on first use:
// wug.NewClient(URL, wug.WithCredentials(user, password),
// wug.WithTLSConfig(trusting the server), options from WithClientOptions…).
// A construction error fails the test (or panics, outside tests).
func (s *Server) Client() *wug.Client {
	s.clientOnce.Do(func() {
		c, err := s.NewClient()
		if err != nil {
			if s.tb != nil {
				s.tb.Fatalf("wugtest: %v", err)
			}
			panic(fmt.Sprintf("wugtest: %v", err))
		}
		s.client = c
	})
	return s.client
}

// NewClient builds a new *wug.Client for the server, wired like [Server.Client],
// with opts applied after the server's own (so they can override them).
func (s *Server) NewClient(opts ...wug.Option) (*wug.Client, error) {
	all := []wug.Option{wug.WithCredentials(s.cfg.user, s.cfg.password)}
	if cfg := s.TLSConfig(); cfg != nil {
		all = append(all, wug.WithTLSConfig(cfg))
	}
	all = append(all, s.cfg.clientOpts...)
	all = append(all, opts...)
	return wug.NewClient(s.URL, all...)
}

// Close stops the server and any pending scans, first releasing the answers
// that [ApplyThenLate] holds back.
func (s *Server) Close() {
	s.faults.stopHolding()
	s.srv.Close()
	s.stopScans()
}

// TLSConfig returns a TLS configuration that trusts the server's
// self-signed certificate (nil with [WithPlainHTTP]).
func (s *Server) TLSConfig() *tls.Config {
	cert := s.srv.Certificate()
	if cert == nil {
		return nil
	}
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
}

// Certificate returns the server's self-signed certificate (nil with
// [WithPlainHTTP]).
func (s *Server) Certificate() *x509.Certificate { return s.srv.Certificate() }

// HTTPClient returns an *http.Client that trusts the server, for raw calls.
func (s *Server) HTTPClient() *http.Client { return s.srv.Client() }
