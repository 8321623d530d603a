package wugtest

import (
	"crypto/rand"
	"encoding/base64"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// tokenStore holds issued tokens; guarded by Handler.mu.
type tokenStore struct {
	access    map[string]time.Time // access token -> expiry
	refresh   map[string]time.Time // refresh token -> expiry
	issued    int
	refreshed int
}

func newTokenStore() tokenStore {
	return tokenStore{access: map[string]time.Time{}, refresh: map[string]time.Time{}}
}

// newToken returns an opaque random token, shaped like WUG's (URL-safe text,
// not a JWT).
func newToken() string {
	b := make([]byte, 48)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// tokenResponse is the OAuth2 token response WUG sends.
type tokenResponse struct {
	AccessToken  string `json:"access_token"`
	TokenType    string `json:"token_type"`
	ExpiresIn    int64  `json:"expires_in"`
	RefreshToken string `json:"refresh_token"`
}

type oauthError struct {
	Error       string `json:"error"`
	Description string `json:"error_description"`
}

// token serves POST /api/v1/token: the password and refresh_token grants.
// The body is parsed as a form whatever the Content-Type says, as WUG does.
// A refresh token is single-use: each refresh rotates it.
func (h *Handler) token(c *call) {
	form, err := url.ParseQuery(string(c.body))
	if err != nil {
		writeJSON(c.w, http.StatusBadRequest, oauthError{"invalid_request", "The request body is not a valid form."})
		return
	}
	now := h.cfg.now()
	h.mu.Lock()
	defer h.mu.Unlock()
	switch form.Get("grant_type") {
	case "password":
		if form.Get("username") != h.cfg.user || form.Get("password") != h.cfg.password {
			writeJSON(c.w, http.StatusBadRequest, oauthError{"invalid_grant", "Invalid username/password or not allowed to sign on from this location."})
			return
		}
	case "refresh_token":
		rt := form.Get("refresh_token")
		exp, ok := h.tokens.refresh[rt]
		if !ok || !now.Before(exp) {
			writeJSON(c.w, http.StatusBadRequest, oauthError{"invalid_grant", "The refresh token is invalid or has expired."})
			return
		}
		delete(h.tokens.refresh, rt)
		h.tokens.refreshed++
	case "":
		writeJSON(c.w, http.StatusBadRequest, oauthError{"invalid_request", "The grant_type field is required."})
		return
	default:
		writeJSON(c.w, http.StatusBadRequest, oauthError{"unsupported_grant_type", "The grant type is not supported."})
		return
	}
	access, refresh := newToken(), newToken()
	h.tokens.access[access] = now.Add(h.cfg.tokenTTL)
	h.tokens.refresh[refresh] = now.Add(h.cfg.refreshTTL)
	h.tokens.issued++
	c.w.Header().Set("Cache-Control", "no-store")
	writeJSON(c.w, http.StatusOK, tokenResponse{
		AccessToken:  access,
		TokenType:    "bearer",
		ExpiresIn:    int64(h.cfg.tokenTTL / time.Second),
		RefreshToken: refresh,
	})
}

// authorized reports whether r carries a live bearer token. The scheme is
// matched case-insensitively ("bearer" works, as WUG accepts it).
func (h *Handler) authorized(r *http.Request) bool {
	scheme, tok, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return false
	}
	tok = strings.TrimSpace(tok)
	h.mu.Lock()
	defer h.mu.Unlock()
	exp, ok := h.tokens.access[tok]
	return ok && h.cfg.now().Before(exp)
}

// ExpireTokens makes every access token issued so far expired, as if their
// lifetime had passed; refresh tokens stay valid. The next call with an old
// token gets 401.
func (h *Handler) ExpireTokens() {
	h.mu.Lock()
	defer h.mu.Unlock()
	for k := range h.tokens.access {
		h.tokens.access[k] = time.Time{}
	}
}

// RevokeTokens forgets every access and refresh token, so a client must log
// in again with its password.
func (h *Handler) RevokeTokens() {
	h.mu.Lock()
	defer h.mu.Unlock()
	clear(h.tokens.access)
	clear(h.tokens.refresh)
}

// TokenStats counts the token endpoint's successful grants.
type TokenStats struct {
	Issued    int // tokens issued by any grant
	Refreshed int // of which by the refresh_token grant
}

// TokenStats reports how many tokens the fake has issued.
func (h *Handler) TokenStats() TokenStats {
	h.mu.Lock()
	defer h.mu.Unlock()
	return TokenStats{Issued: h.tokens.issued, Refreshed: h.tokens.refreshed}
}
