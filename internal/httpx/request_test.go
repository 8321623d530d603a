package httpx_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/wugsync/wugsync/internal/httpx"
)

func TestNewRequest(t *testing.T) {
	t.Parallel()
	base, _ := url.Parse("https://wug.test:9644/prefix/api/v1")
	tests := []struct {
		ref, want, wantErr string
	}{
		{"/devices/5", "https://wug.test:9644/prefix/api/v1/devices/5", ""},
		{"devices/5?view=card&limit=2", "https://wug.test:9644/prefix/api/v1/devices/5?view=card&limit=2", ""},
		{"/device-groups/-/devices/-?search=10.0.0.1", "https://wug.test:9644/prefix/api/v1/device-groups/-/devices/-?search=10.0.0.1", ""},
		{"https://other.test/x", "", "is not a path below https://wug.test:9644/prefix/api/v1"},
		{"//other.test/x", "", "is not a path below"},
		{"/x%zz?token=s3cr3t", "", "invalid path"},
	}
	for _, tt := range tests {
		t.Run(tt.ref, func(t *testing.T) {
			t.Parallel()
			req, err := httpx.NewRequest(base, "POST", tt.ref, map[string]int{"a": 1})
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) || strings.Contains(err.Error(), "s3cr3t") {
					t.Fatalf("err = %v, want one saying %q and no secret", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if req.URL.String() != tt.want || req.Header.Get("Content-Type") != "application/json" || req.GetBody == nil {
				t.Errorf("request %s %v (GetBody set: %v), want %s with a JSON body that can be sent again", req.URL, req.Header, req.GetBody != nil, tt.want)
			}
		})
	}
}

func TestCallerRepeat(t *testing.T) {
	t.Parallel()
	tests := []struct {
		method string
		mark   httpx.Repeat
		want   httpx.Repeat
	}{
		{http.MethodGet, httpx.RepeatByMethod, httpx.RepeatSafe},
		{http.MethodPut, httpx.RepeatByMethod, httpx.RepeatSafe},
		{http.MethodDelete, httpx.RepeatByMethod, httpx.RepeatSafe},
		{http.MethodPost, httpx.RepeatByMethod, httpx.RepeatNever},
		{http.MethodPatch, httpx.RepeatByMethod, httpx.RepeatNever},
		{http.MethodPost, httpx.RepeatSafe, httpx.RepeatSafe},
		{http.MethodGet, httpx.RepeatNever, httpx.RepeatNever},
	}
	for _, tt := range tests {
		ctx := httpx.WithRepeat(context.Background(), tt.mark)
		if _, got := httpx.CallerRepeat(ctx, tt.method); got != tt.want {
			t.Errorf("%s marked %d: repeat %d, want %d", tt.method, tt.mark, got, tt.want)
		}
	}
}
