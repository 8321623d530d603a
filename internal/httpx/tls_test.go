package httpx_test

import (
	"encoding/pem"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/wugsync/wugsync/internal/httpx"
)

func TestTLSConfig(t *testing.T) {
	t.Parallel()
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.Write([]byte("ok")) }))
	t.Cleanup(srv.Close)
	pemBytes := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw})
	caFile := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(caFile, pemBytes, 0o600); err != nil {
		t.Fatal(err)
	}
	pin := httpx.Fingerprint(srv.Certificate().Raw)
	colonPin := strings.ToUpper(pin[:2]) + ":" + pin[2:]
	wrongPin := strings.Repeat("ab", 32)

	tests := []struct {
		name    string
		opts    httpx.TLSOptions
		wantErr string // from the request; "" means success
	}{
		{"system roots reject self-signed", httpx.TLSOptions{}, "certificate"},
		{"CA file", httpx.TLSOptions{CAFile: caFile}, ""},
		{"CA PEM", httpx.TLSOptions{CAPEM: pemBytes}, ""},
		{"pinned", httpx.TLSOptions{PinnedSHA256: pin}, ""},
		{"pinned with colons and case", httpx.TLSOptions{PinnedSHA256: colonPin}, ""},
		{"wrong pin", httpx.TLSOptions{PinnedSHA256: wrongPin}, "does not match the pinned"},
		{"insecure", httpx.TLSOptions{InsecureSkipVerify: true}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			cfg, err := httpx.TLSConfig(tt.opts)
			if err != nil {
				t.Fatal(err)
			}
			hc := httpx.New(httpx.Options{TLSConfig: cfg, Retry: &httpx.RetryPolicy{}})
			res, err := hc.Get(srv.URL)
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("request failed: %v", err)
				}
				res.Body.Close()
				return
			}
			if err == nil {
				res.Body.Close()
				t.Fatalf("request succeeded, want error with %q", tt.wantErr)
			}
			if !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("err = %v, want it to mention %q", err, tt.wantErr)
			}
		})
	}
}

func TestTLSConfigErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		opts httpx.TLSOptions
		want string
	}{
		{"two modes", httpx.TLSOptions{CAPEM: []byte("x"), InsecureSkipVerify: true}, "choose one"},
		{"bad pin", httpx.TLSOptions{PinnedSHA256: "abc"}, "not a hex SHA-256"},
		{"missing file", httpx.TLSOptions{CAFile: "/nonexistent/ca.pem"}, "read CA file"},
		{"PEM without certificate", httpx.TLSOptions{CAPEM: []byte("hello")}, "holds no certificate"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := httpx.TLSConfig(tt.opts)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v, want it to mention %q", err, tt.want)
			}
		})
	}
}
