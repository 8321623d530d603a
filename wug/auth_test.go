package wug_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/jarcoal/httpmock"

	"github.com/wugsync/wugsync/wug"
)

func TestLoginOnceAndBearer(t *testing.T) {
	t.Parallel()
	m := newMockWUG(t)
	m.serveWhoAmI()
	c := m.client(t)
	for range 3 {
		whoAmI(t, c)
	}
	m.wantGrants(t, "password")
}

func TestUnauthorizedRefreshesAndRetriesOnce(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		refreshToo bool
		want       []string
	}{
		{"refresh token still valid", false, []string{"password", "refresh_token"}},
		{"refresh token refused, log in again", true, []string{"password", "refresh_token", "password"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			m := newMockWUG(t)
			m.serveWhoAmI()
			c := m.client(t)
			whoAmI(t, c)
			m.revoke(tt.refreshToo)
			whoAmI(t, c)
			m.wantGrants(t, tt.want...)
			if n := m.calls("GET", "/product/whoAmI"); n != 3 {
				t.Errorf("whoAmI calls = %d, want 3 (ok, 401, retry)", n)
			}
		})
	}
}

func TestPersistentUnauthorizedIsAPIError(t *testing.T) {
	t.Parallel()
	m := newMockWUG(t)
	m.mt.RegisterResponder("GET", mockBase+"/api/v1/devices/7", func(*http.Request) (*http.Response, error) {
		return httpmock.NewStringResponse(401, `{"error":{"status":401,"code":"Unauthorized","message":"token rejected"}}`), nil
	})
	c := m.client(t)
	_, err := c.Devices.Get(context.Background(), "7")
	if !errors.Is(err, wug.ErrUnauthorized) {
		t.Fatalf("err = %v, want ErrUnauthorized", err)
	}
	var ae *wug.APIError
	if !errors.As(err, &ae) || ae.StatusCode != 401 || ae.Message != "token rejected" || ae.Method != "GET" {
		t.Errorf("APIError = %+v", ae)
	}
	if n := m.calls("GET", "/devices/7"); n != 2 {
		t.Errorf("calls = %d, want 2 (one retry after renewing)", n)
	}
}

func TestRefreshBeforeExpiry(t *testing.T) {
	t.Parallel()
	m := newMockWUG(t)
	m.expiresIn = 1 // renewed when a tenth of a second is left
	m.serveWhoAmI()
	c := m.client(t)
	whoAmI(t, c)
	time.Sleep(950 * time.Millisecond)
	whoAmI(t, c)
	m.wantGrants(t, "password", "refresh_token")
	if n := m.calls("GET", "/product/whoAmI"); n != 2 {
		t.Errorf("whoAmI calls = %d, want 2 (no 401 on the way)", n)
	}
}

func TestConcurrentCallersShareOneRefresh(t *testing.T) {
	t.Parallel()
	m := newMockWUG(t)
	m.serveWhoAmI()
	c := m.client(t, wug.WithMaxConcurrency(0))
	whoAmI(t, c)
	m.revoke(false)
	var wg sync.WaitGroup
	for range 16 {
		wg.Go(func() {
			if _, err := c.Product.WhoAmI(context.Background()); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	m.wantGrants(t, "password", "refresh_token")
}

func TestBadCredentials(t *testing.T) {
	t.Parallel()
	m := newMockWUG(t)
	m.serveWhoAmI()
	c, err := wug.NewClient(mockBase, wug.WithCredentials(mockUser, "wrong-Passw0rd"), wug.WithBaseTransport(m.mt), wug.WithRetry(fastRetry))
	if err != nil {
		t.Fatal(err)
	}
	for name, call := range map[string]func() error{
		"Login":  func() error { return c.Login(context.Background()) },
		"WhoAmI": func() error { _, err := c.Product.WhoAmI(context.Background()); return err },
	} {
		err := call()
		if !errors.Is(err, wug.ErrUnauthorized) {
			t.Fatalf("%s: err = %v, want ErrUnauthorized", name, err)
		}
		var ae *wug.AuthError
		if !errors.As(err, &ae) || ae.Code != "invalid_grant" || ae.StatusCode != 400 {
			t.Errorf("%s: AuthError = %+v", name, ae)
		}
		msg := err.Error()
		if !strings.Contains(msg, "Invalid username/password") || !strings.Contains(msg, "refused") || !strings.Contains(msg, mockUser) {
			t.Errorf("%s: error %q does not say the login was refused and why", name, msg)
		}
		if strings.Contains(msg, "wrong-Passw0rd") {
			t.Errorf("%s: error reveals the password: %q", name, msg)
		}
	}
	if n := m.calls("GET", "/product/whoAmI"); n != 0 {
		t.Errorf("whoAmI sent %d times without a token", n)
	}
}

// TestSecretsNeverLogged runs a login, a refresh, retries and a failing call
// with a debug logger and checks that no password, token or Authorization
// value shows up in the log or in any error.
func TestSecretsNeverLogged(t *testing.T) {
	t.Parallel()
	m := newMockWUG(t)
	m.serveWhoAmI()
	var calls int
	var mu sync.Mutex
	m.mt.RegisterResponder("GET", mockBase+"/api/v1/devices/9", m.authed(func(*http.Request) (*http.Response, error) {
		mu.Lock()
		defer mu.Unlock()
		calls++
		return httpmock.NewStringResponse(503, `{"error":{"status":503,"code":"Busy","message":"try later"}}`), nil
	}))
	var buf bytes.Buffer
	logger := slog.New(slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	c := m.client(t, wug.WithLogger(logger))
	ctx := context.Background()

	var errs []error
	whoAmI(t, c) // login
	m.revoke(false)
	whoAmI(t, c)                      // 401, refresh, retry
	_, err := c.Devices.Get(ctx, "9") // retried 503s, then a failure
	if err == nil {
		t.Fatal("want an error from the failing call")
	}
	errs = append(errs, err)
	bad, _ := wug.NewClient(mockBase, wug.WithCredentials(mockUser, "not-"+mockPassword), wug.WithBaseTransport(m.mt), wug.WithLogger(logger))
	errs = append(errs, bad.Login(ctx))

	if calls != 4 {
		t.Errorf("failing call attempts = %d, want 4", calls)
	}
	m.wantGrants(t, "password", "refresh_token", "password")
	secrets := append([]string{mockPassword, "Bearer", "Authorization", "access_token", "refresh_token="}, m.issued...)
	logText := buf.String()
	if !strings.Contains(logText, `"attempt":4`) || !strings.Contains(logText, "wug token refreshed") || !strings.Contains(logText, "wug answered 401") {
		t.Errorf("log lacks the expected records:\n%s", logText)
	}
	for _, s := range secrets {
		if strings.Contains(logText, s) {
			t.Errorf("log contains secret %q", s)
		}
		for _, err := range errs {
			if err != nil && strings.Contains(err.Error(), s) {
				t.Errorf("error %q contains secret %q", err, s)
			}
		}
	}
}

// TestTokenEndpointFailureIsNotARefusal checks that a token endpoint that
// keeps failing (503 after every retry) gives an *APIError with the status,
// not an *AuthError that would blame the credentials.
func TestTokenEndpointFailureIsNotARefusal(t *testing.T) {
	t.Parallel()
	m := newMockWUG(t)
	m.mt.RegisterResponder("POST", mockBase+"/api/v1/token",
		httpmock.NewStringResponder(503, `{"error":{"status":503,"code":"Busy","message":"try later"}}`))
	c := m.client(t)
	err := c.Login(context.Background())
	var ae *wug.AuthError
	if errors.Is(err, wug.ErrUnauthorized) || errors.As(err, &ae) {
		t.Fatalf("err = %v, want no login refusal for a 503", err)
	}
	var apiErr *wug.APIError
	if !errors.As(err, &apiErr) {
		t.Fatalf("err = %v (%T), want an *APIError", err, err)
	}
	want := &wug.APIError{StatusCode: 503, Method: "POST", URL: mockBase + "/api/v1/token", Code: "Busy", Message: "try later"}
	if diff := cmp.Diff(want, apiErr); diff != "" {
		t.Errorf("APIError (-want +got):\n%s", diff)
	}
	if n := m.calls("POST", "/token"); n != fastRetry.MaxRetries+1 {
		t.Errorf("token requests = %d, want %d (retried as a 503)", n, fastRetry.MaxRetries+1)
	}
}
