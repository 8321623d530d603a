package httpx

import (
	"net/http"
	"strings"
	"testing"
	"time"
)

// FuzzRetryAfter feeds arbitrary Retry-After values to the parser and to
// Backoff: no panic, no negative wait, every wait within the policy's cap,
// and a value of digits only is always read (saturating, never wrapping).
func FuzzRetryAfter(f *testing.F) {
	p := RetryPolicy{MaxRetries: 4, WaitMin: time.Millisecond, WaitMax: 8 * time.Millisecond, MaxRetryAfter: time.Minute}
	now := time.Date(2026, 12, 4, 12, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, v string) {
		d, ok := parseRetryAfter(v, now)
		if d < 0 {
			t.Fatalf("parseRetryAfter(%q) = %v, negative", v, d)
		}
		if tv := strings.TrimSpace(v); tv != "" && strings.Trim(tv, "0123456789") == "" && !ok {
			t.Fatalf("parseRetryAfter(%q) refused a delay in seconds", v)
		}
		if !ok && d != 0 {
			t.Fatalf("parseRetryAfter(%q) = %v without ok", v, d)
		}
		for _, status := range []int{http.StatusTooManyRequests, http.StatusServiceUnavailable} {
			resp := &http.Response{StatusCode: status, Header: http.Header{"Retry-After": {v}}}
			if w := p.Backoff(0, resp); w < 0 || w > p.MaxRetryAfter {
				t.Fatalf("Backoff with Retry-After %q = %v, want within [0, %v]", v, w, p.MaxRetryAfter)
			}
		}
	})
}
