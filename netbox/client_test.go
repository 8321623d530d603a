package netbox

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/jarcoal/httpmock"

	"github.com/wugsync/wugsync/internal/httpx"
)

func TestNewClientRequests(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, base, token string
		wantURL, wantAuth string
	}{
		{"v1 token", "https://netbox.example.com/", "0123456789abcdef0123456789abcdef01234567",
			"https://netbox.example.com/api/status/", "Token 0123456789abcdef0123456789abcdef01234567"},
		{"v2 token", "https://netbox.example.com", "nbt_abc123.s3cr3t",
			"https://netbox.example.com/api/status/", "Bearer nbt_abc123.s3cr3t"},
		{"base path", "https://example.com/netbox//", "tok",
			"https://example.com/netbox/api/status/", "Token tok"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			mt := httpmock.NewMockTransport()
			var got *http.Request
			mt.RegisterNoResponder(func(r *http.Request) (*http.Response, error) {
				got = r
				return jsonResponse(200, readTestdata(t, "status.json")), nil
			})
			c, err := NewClient(tt.base, tt.token, WithHTTPClient(&http.Client{Transport: mt}))
			if err != nil {
				t.Fatal(err)
			}
			st, err := c.Status(t.Context())
			if err != nil {
				t.Fatal(err)
			}
			if got.URL.String() != tt.wantURL || got.Header.Get("Authorization") != tt.wantAuth ||
				len(got.Header.Values("Authorization")) != 1 || got.Header.Get("Accept-Language") != "en-US" {
				t.Errorf("request %s with headers %v", got.URL, got.Header)
			}
			want := Status{Version: "4.3.0", FullVersion: "4.3.0", Django: "5.2", Python: "3.12.3", Supported: true}
			if diff := cmp.Diff(want, st); diff != "" {
				t.Errorf("status (-want +got):\n%s", diff)
			}
		})
	}
}

func TestNewClientRejects(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, base, token string
		opts              []Option
		want              string
	}{
		{"no scheme", "netbox.example.com", "t", nil, "scheme must be http or https"},
		{"query", "https://netbox.example.com/?x=1", "t", nil, "query and fragment are not allowed"},
		{"query token hidden", "https://netbox.example.com/?token=s3cr3t", "t", nil, `"https://netbox.example.com/?token=REDACTED"`},
		{"password hidden", "ftp://admin:s3cr3t@netbox.example.com", "t", nil, `"ftp://netbox.example.com"`},
		{"empty token", "https://netbox.example.com", " ", nil, "empty API token"},
		{"token with space", "https://netbox.example.com", "a b", nil, "white space"},
		{"page size", "https://netbox.example.com", "t", []Option{WithPageSize(1001)}, "outside 1..1000"},
		{"rate", "https://netbox.example.com", "t", []Option{WithRateLimit(-1, 1)}, "netbox: WithRateLimit: negative rate"},
		{"retry", "https://netbox.example.com", "t", []Option{WithRetry(RetryPolicy{MaxRetries: 1, WaitMin: 2, WaitMax: 1})}, "invalid policy"},
		{"missing CA file", "https://netbox.example.com", "t", []Option{WithCAFile("/nonexistent/ca.pem")}, "read CA file"},
		{"bad pin", "https://netbox.example.com", "t", []Option{WithPinnedCertificate("abc")}, "fingerprint"},
		{"two trust modes", "https://netbox.example.com", "t", []Option{WithInsecureSkipVerify(),
			WithPinnedCertificate(strings.Repeat("ab", 32))}, "choose one"},
		{"TLS on a wrapping transport", "https://netbox.example.com", "t", []Option{WithInsecureSkipVerify(),
			WithHTTPClient(&http.Client{Transport: httpmock.NewMockTransport()})}, "netbox: WithInsecureSkipVerify cannot apply to the *httpmock.MockTransport from WithHTTPClient"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := NewClient(tt.base, tt.token, tt.opts...)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("NewClient = %v, want an error containing %q", err, tt.want)
			}
			if err != nil && strings.Contains(err.Error(), "s3cr3t") {
				t.Errorf("error reveals a secret: %v", err)
			}
		})
	}
}

func TestTLSTrust(t *testing.T) {
	t.Parallel()
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write(readTestdata(t, "status.json"))
	}))
	defer srv.Close()
	pin := httpx.Fingerprint(srv.Certificate().Raw)
	tests := []struct {
		name string
		opts []Option
		ok   bool
	}{
		{"system roots", nil, false},
		{"pinned", []Option{WithPinnedCertificate(pin)}, true},
		{"wrong pin", []Option{WithPinnedCertificate(strings.Repeat("00", 32))}, false},
		{"pin on own transport", []Option{WithBaseTransport(&http.Transport{}), WithPinnedCertificate(pin)}, true},
		{"skip verify", []Option{WithInsecureSkipVerify()}, true},
	}
	for _, tt := range tests {
		c, err := NewClient(srv.URL, "tok", append(tt.opts, WithRetry(RetryPolicy{}))...)
		if err != nil {
			t.Fatal(err)
		}
		_, err = c.Status(t.Context())
		if (err == nil) != tt.ok || (err != nil && !errors.Is(err, ErrUntrustedCertificate)) {
			t.Errorf("%s: Status error %v, want ok=%v or ErrUntrustedCertificate", tt.name, err, tt.ok)
		}
	}
}

func TestSupportedVersion(t *testing.T) {
	t.Parallel()
	for v, want := range map[string]bool{"4.3.0": true, "4.4.10": true, "4.5.2-Docker": true, "4.5": true,
		"4.2.9": false, "4.6.0": false, "5.0.0": false, "": false, "x.y": false} {
		if got := supportedVersion(v); got != want {
			t.Errorf("supportedVersion(%q) = %v, want %v", v, got, want)
		}
	}
}

func TestErrorTextsNameEachLayerOnce(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		reply httpmock.Responder
		want  string
	}{
		{"transport error", httpmock.NewErrorResponder(errors.New("connection reset by peer")),
			`netbox: status: Get "` + testBase + `/api/status/": connection reset by peer`},
		{"API error", httpmock.NewStringResponder(403, `{"detail":"Invalid token"}`),
			"netbox: status: GET /api/status/: token refused (403): Invalid token"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			mt := httpmock.NewMockTransport()
			mt.RegisterNoResponder(tt.reply)
			c, err := NewClient(testBase, "tok", WithBaseTransport(mt), WithRetry(RetryPolicy{}))
			if err != nil {
				t.Fatal(err)
			}
			_, err = c.Status(t.Context())
			if err == nil {
				t.Fatal("no error")
			}
			if diff := cmp.Diff(tt.want, err.Error()); diff != "" {
				t.Errorf("error text (-want +got):\n%s", diff)
			}
		})
	}
}
