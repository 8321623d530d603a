package wug_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/jarcoal/httpmock"

	"github.com/wugsync/wugsync/wug"
)

const (
	mockBase     = "https://wug.test:9644"
	mockUser     = "api-user"
	mockPassword = "pw-Sekr3t!"
)

// mockWUG is a minimal token endpoint on an httpmock transport, enough to
// test the client's transport and auth behaviour in isolation.
type mockWUG struct {
	mt *httpmock.MockTransport

	mu        sync.Mutex
	grants    []string
	access    string
	refresh   string
	serial    int
	expiresIn int
	issued    []string // every token handed out, for the secret check
}

func newMockWUG(t *testing.T) *mockWUG {
	t.Helper()
	m := &mockWUG{mt: httpmock.NewMockTransport(), expiresIn: 86399}
	m.mt.RegisterResponder("POST", mockBase+"/api/v1/token", m.token)
	return m
}

func (m *mockWUG) token(req *http.Request) (*http.Response, error) {
	if err := req.ParseForm(); err != nil {
		return nil, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	grant := req.PostForm.Get("grant_type")
	m.grants = append(m.grants, grant)
	bad := func() (*http.Response, error) {
		return httpmock.NewJsonResponse(400, map[string]string{"error": "invalid_grant", "error_description": "Invalid username/password or not allowed to sign on from this location."})
	}
	switch grant {
	case "password":
		if req.PostForm.Get("username") != mockUser || req.PostForm.Get("password") != mockPassword {
			return bad()
		}
	case "refresh_token":
		if m.refresh == "" || req.PostForm.Get("refresh_token") != m.refresh {
			return bad()
		}
	default:
		return httpmock.NewJsonResponse(400, map[string]string{"error": "unsupported_grant_type"})
	}
	if req.Header.Get("Content-Type") != "application/x-www-form-urlencoded" {
		return httpmock.NewStringResponse(415, "form body expected"), nil
	}
	m.serial++
	m.access = fmt.Sprintf("acc-%d-XyZzY", m.serial)
	m.refresh = fmt.Sprintf("ref-%d-QwErT", m.serial)
	m.issued = append(m.issued, m.access, m.refresh)
	return httpmock.NewJsonResponse(200, map[string]any{"access_token": m.access, "token_type": "bearer", "expires_in": m.expiresIn, "refresh_token": m.refresh})
}

// revoke makes the server forget the current access token (and, with
// refreshToo, the refresh token), as after a server restart.
func (m *mockWUG) revoke(refreshToo bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.access = "revoked"
	if refreshToo {
		m.refresh = ""
	}
}

func (m *mockWUG) grantLog() []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]string(nil), m.grants...)
}

// authed wraps a responder with the bearer check WUG does.
func (m *mockWUG) authed(r httpmock.Responder) httpmock.Responder {
	return func(req *http.Request) (*http.Response, error) {
		m.mu.Lock()
		ok := req.Header.Get("Authorization") == "Bearer "+m.access
		m.mu.Unlock()
		if !ok {
			return httpmock.NewStringResponse(401, `{"message":"Authorization has been denied for this request."}`), nil
		}
		return r(req)
	}
}

// handle registers an authenticated JSON responder for method and path
// below /api/v1.
func (m *mockWUG) handle(method, path string, status int, body string) {
	m.mt.RegisterResponder(method, mockBase+"/api/v1"+path, m.authed(func(*http.Request) (*http.Response, error) {
		r := httpmock.NewStringResponse(status, body)
		r.Header.Set("Content-Type", "application/json")
		return r, nil
	}))
}

// serveWhoAmI answers GET /product/whoAmI with mockUser, behind the bearer
// check.
func (m *mockWUG) serveWhoAmI() {
	m.handle("GET", "/product/whoAmI", 200, mustJSON(map[string]string{"data": mockUser}))
}

// wantGrants fails t unless the token grants the mock saw, in order, are want.
func (m *mockWUG) wantGrants(t *testing.T, want ...string) {
	t.Helper()
	if diff := cmp.Diff(want, m.grantLog()); diff != "" {
		t.Errorf("token grants (-want +got):\n%s", diff)
	}
}

// whoAmI calls Product.WhoAmI, failing t on an error or on another user
// than mockUser.
func whoAmI(t *testing.T, c *wug.Client) {
	t.Helper()
	who, err := c.Product.WhoAmI(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if who != mockUser {
		t.Errorf("WhoAmI = %q, want %q", who, mockUser)
	}
}

// calls is how many times the mock answered method for path below /api/v1.
func (m *mockWUG) calls(method, path string) int {
	return m.mt.GetCallCountInfo()[method+" "+mockBase+"/api/v1"+path]
}

// fastRetry keeps tests quick.
var fastRetry = wug.RetryPolicy{MaxRetries: 3, WaitMin: time.Millisecond, WaitMax: 5 * time.Millisecond, MaxRetryAfter: 10 * time.Millisecond}

// client returns a client wired to the mock with fast retries and no rate limit.
func (m *mockWUG) client(t *testing.T, opts ...wug.Option) *wug.Client {
	t.Helper()
	base := []wug.Option{
		wug.WithCredentials(mockUser, mockPassword),
		wug.WithBaseTransport(m.mt),
		wug.WithRetry(fastRetry),
		wug.WithRateLimit(0, 0),
	}
	c, err := wug.NewClient(mockBase, append(base, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func mustJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return string(b)
}
