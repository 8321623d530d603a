package httpx_test

import (
	"strings"
	"testing"

	"github.com/wugsync/wugsync/internal/httpx"
)

func TestParseBaseURL(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, raw string
		want      string // the parsed URL, or a part of the error
		ok        bool
	}{
		{"plain", " https://wug.example.com:9644 ", "https://wug.example.com:9644", true},
		{"trailing slashes", "https://example.com/netbox//", "https://example.com/netbox", true},
		{"no scheme", "wug.example.com", "scheme must be http or https", false},
		{"no host", "https:///api", "no host", false},
		{"user info hidden", "https://admin:s3cr3t@wug", `"https://wug": user info, query and fragment are not allowed`, false},
		{"bad scheme hides password", "ftp://admin:s3cr3t@wug", `"ftp://wug": scheme must be http or https`, false},
		{"query token hidden", "https://nb/?token=s3cr3t", `"https://nb/?token=REDACTED"`, false},
		{"fragment", "https://nb/#x", "not allowed", false},
		{"unparseable hides password", "https://admin:s3cr3t@wug:port", `invalid base URL: invalid port ":port"`, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			u, err := httpx.ParseBaseURL(tt.raw)
			if tt.ok {
				if err != nil {
					t.Fatal(err)
				}
				if got := u.String(); got != tt.want {
					t.Errorf("ParseBaseURL(%q) = %q, want %q", tt.raw, got, tt.want)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("ParseBaseURL(%q) error = %v, want one containing %q", tt.raw, err, tt.want)
			}
			if strings.Contains(err.Error(), "s3cr3t") {
				t.Errorf("error reveals a secret: %v", err)
			}
		})
	}
}
