package wugtest_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/wugsync/wugsync/wug/wugtest"
)

func TestTokenPasswordGrant(t *testing.T) {
	t.Parallel()
	a := newAPI(t, wugtest.WithTokenLifetime(90*time.Second))
	tr := a.grant(url.Values{"grant_type": {"password"}, "username": {wugtest.DefaultUser}, "password": {wugtest.DefaultPassword}})
	if tr.TokenType != "bearer" || tr.ExpiresIn != 90 || tr.AccessToken == "" || tr.RefreshToken == "" || tr.AccessToken == tr.RefreshToken {
		t.Fatalf("token response = %+v", tr)
	}
	// Lower-case scheme works, as WUG accepts PS's "bearer <token>".
	if status, body := a.doAuth("GET", "/product/whoAmI", nil, "bearer "+tr.AccessToken); status != 200 || !strings.Contains(string(body), `"data":"admin"`) {
		t.Fatalf("whoAmI = %d %s", status, body)
	}
}

func TestTokenFormBodyWhateverContentType(t *testing.T) {
	t.Parallel()
	a := newAPI(t)
	form := url.Values{"grant_type": {"password"}, "username": {wugtest.DefaultUser}, "password": {wugtest.DefaultPassword}}.Encode()
	status, body := a.rawToken(form, "application/json")
	if status != 200 || !strings.Contains(string(body), "access_token") {
		t.Fatalf("status %d body %s", status, body)
	}
}

func TestTokenErrors(t *testing.T) {
	t.Parallel()
	a := newAPI(t, wugtest.WithCredentials("ops", "s3cret"))
	tests := []struct {
		name, form string
		wantErr    string
	}{
		{"bad password", "grant_type=password&username=ops&password=wrong", "invalid_grant"},
		{"unknown user", "grant_type=password&username=nobody&password=s3cret", "invalid_grant"},
		{"unknown refresh token", "grant_type=refresh_token&refresh_token=nope", "invalid_grant"},
		{"no grant type", "username=ops&password=s3cret", "invalid_request"},
		{"client credentials", "grant_type=client_credentials", "unsupported_grant_type"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			status, body := a.rawToken(tc.form, "application/x-www-form-urlencoded")
			var e tokenResp
			json.Unmarshal(body, &e)
			if status != http.StatusBadRequest || e.Error != tc.wantErr || e.Description == "" {
				t.Fatalf("status %d body %s; want 400 %s with a description", status, body, tc.wantErr)
			}
		})
	}
	status, body := a.rawToken("grant_type=password&username=ops&password=wrong", "application/x-www-form-urlencoded")
	if want := `{"error":"invalid_grant","error_description":"Invalid username/password or not allowed to sign on from this location."}`; status != 400 || string(body) != want {
		t.Errorf("bad credentials answer = %d %s, want 400 %s", status, body, want)
	}
}

func TestTokenRefreshRotates(t *testing.T) {
	t.Parallel()
	a := newAPI(t)
	first := a.grant(url.Values{"grant_type": {"password"}, "username": {wugtest.DefaultUser}, "password": {wugtest.DefaultPassword}})
	second := a.grant(url.Values{"grant_type": {"refresh_token"}, "refresh_token": {first.RefreshToken}})
	if second.RefreshToken == first.RefreshToken || second.AccessToken == first.AccessToken {
		t.Fatal("refresh did not rotate the tokens")
	}
	// The used refresh token is spent.
	status, _ := a.rawToken(url.Values{"grant_type": {"refresh_token"}, "refresh_token": {first.RefreshToken}}.Encode(), "application/x-www-form-urlencoded")
	if status != http.StatusBadRequest {
		t.Errorf("reusing a rotated refresh token: status %d, want 400", status)
	}
	if status, _ := a.doAuth("GET", "/product/version", nil, "Bearer "+second.AccessToken); status != 200 {
		t.Errorf("new access token: status %d", status)
	}
	if got, want := a.srv.TokenStats(), (wugtest.TokenStats{Issued: 2, Refreshed: 1}); got != want {
		t.Errorf("TokenStats() = %+v, want %+v", got, want)
	}
}

func TestUnauthorized(t *testing.T) {
	t.Parallel()
	a := newAPI(t, wugtest.WithTokenLifetime(time.Second))
	tok := a.login()
	tests := []struct{ name, auth string }{
		{"missing", ""},
		{"unknown token", "Bearer not-a-token"},
		{"wrong scheme", "Basic " + tok},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			status, body := a.doAuth("GET", "/device-groups/-", nil, tc.auth)
			if status != http.StatusUnauthorized || !strings.Contains(string(body), `"status":401`) {
				t.Fatalf("status %d body %s", status, body)
			}
		})
	}
}

func TestExpireTokens(t *testing.T) {
	t.Parallel()
	a := newAPI(t)
	tr := a.grant(url.Values{"grant_type": {"password"}, "username": {wugtest.DefaultUser}, "password": {wugtest.DefaultPassword}})
	if status, _ := a.doAuth("GET", "/product/api", nil, "Bearer "+tr.AccessToken); status != 200 {
		t.Fatalf("status %d before expiry", status)
	}
	a.srv.ExpireTokens()
	if status, _ := a.doAuth("GET", "/product/api", nil, "Bearer "+tr.AccessToken); status != 401 {
		t.Fatalf("status %d after ExpireTokens, want 401", status)
	}
	// Refresh tokens survive; the refreshed access token works.
	next := a.grant(url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tr.RefreshToken}})
	if status, _ := a.doAuth("GET", "/product/api", nil, "Bearer "+next.AccessToken); status != 200 {
		t.Fatalf("status %d after refresh", status)
	}
	a.srv.RevokeTokens()
	status, _ := a.rawToken(url.Values{"grant_type": {"refresh_token"}, "refresh_token": {next.RefreshToken}}.Encode(), "application/x-www-form-urlencoded")
	if status != 400 {
		t.Fatalf("refresh after RevokeTokens: status %d, want 400", status)
	}
}

func TestTokenExpiresByLifetime(t *testing.T) {
	t.Parallel()
	a := newAPI(t, wugtest.WithTokenLifetime(time.Second))
	tok := a.login()
	time.Sleep(1100 * time.Millisecond)
	if status, _ := a.doAuth("GET", "/product/api", nil, "Bearer "+tok); status != 401 {
		t.Fatalf("status %d after the lifetime passed, want 401", status)
	}
}

func TestTokenBodiesNotRecorded(t *testing.T) {
	t.Parallel()
	a := newAPI(t)
	a.login()
	reqs := a.srv.Requests()
	if len(reqs) != 1 || reqs[0].Route != "POST /api/v1/token" || reqs[0].Body != nil {
		t.Fatalf("recorded %+v; want the token request without its body", reqs)
	}
	if diff := cmp.Diff(200, reqs[0].Status); diff != "" {
		t.Errorf("status (-want +got):\n%s", diff)
	}
}

// TestNoSecretsKept checks that nothing the fake keeps or reports (recorded
// requests, violations) carries a password, token or Authorization value.
func TestNoSecretsKept(t *testing.T) {
	t.Parallel()
	rep := &reporter{}
	a := newAPI(t, wugtest.WithCredentials("ops", "pw-Secret-123"), wugtest.WithReporter(rep.Errorf))
	a.rawToken("grant_type=password&username=ops&password=wrong-Secret-456", "application/json")
	tr := a.grant(url.Values{"grant_type": {"password"}, "username": {"ops"}, "password": {"pw-Secret-123"}})
	next := a.grant(url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tr.RefreshToken}})
	a.doAuth("GET", "/device-groups/0/devices/-?bogus=1", nil, "Bearer "+next.AccessToken)
	a.doAuth("GET", "/nope", nil, "Bearer "+next.AccessToken)
	kept := fmt.Sprintf("%+v %q %+v", a.srv.Requests(), a.srv.Violations(), rep.all())
	for _, secret := range []string{"pw-Secret-123", "wrong-Secret-456", tr.AccessToken, tr.RefreshToken, next.AccessToken, next.RefreshToken} {
		if strings.Contains(kept, secret) {
			t.Errorf("a secret is kept: %.12s…", secret)
		}
	}
	if len(rep.all()) != 2 {
		t.Errorf("reports = %q, want the undeclared query and the unknown route", rep.all())
	}
}

func TestRefreshTokenLifetime(t *testing.T) {
	t.Parallel()
	a := newAPI(t, wugtest.WithRefreshTokenLifetime(0))
	tr := a.grant(url.Values{"grant_type": {"password"}, "username": {wugtest.DefaultUser}, "password": {wugtest.DefaultPassword}})
	status, body := a.rawToken(url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tr.RefreshToken}}.Encode(), "application/x-www-form-urlencoded")
	if status != 400 || !strings.Contains(string(body), "invalid_grant") {
		t.Errorf("expired refresh token: %d %s", status, body)
	}
}
