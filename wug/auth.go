package wug

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"time"

	"golang.org/x/oauth2"

	"github.com/wugsync/wugsync/internal/httpx"
)

// maxRefreshMargin is the most time before expiry at which a token is
// renewed; shorter-lived tokens are renewed when a tenth of their life is left.
const maxRefreshMargin = 5 * time.Minute

// tokenSource holds WUG's bearer token. It logs in with the OAuth2 password
// grant and renews with the refresh_token grant, both through
// golang.org/x/oauth2 against POST /api/v1/token (form body, no client id).
//
// x/oauth2's own ReuseTokenSource and Transport are not used: they renew
// only 10 seconds before expiry (not configurable per token), cannot be told
// that the server rejected a token early (a 401), and fall back to nothing
// when a refresh token is refused. This type keeps x/oauth2 for the wire
// protocol and adds those three rules; one lock makes concurrent callers
// share one renewal.
type tokenSource struct {
	cfg      oauth2.Config
	username string
	password string
	hc       *http.Client
	logger   *slog.Logger

	lock chan struct{} // a mutex that honours contexts
	tok  *oauth2.Token
}

func newTokenSource(tokenURL, username, password string, hc *http.Client, logger *slog.Logger) *tokenSource {
	return &tokenSource{
		cfg: oauth2.Config{Endpoint: oauth2.Endpoint{
			TokenURL: tokenURL,
			// No client id or secret exists; credentials go in the form.
			AuthStyle: oauth2.AuthStyleInParams,
		}},
		username: username,
		password: password,
		hc:       hc,
		logger:   logger,
		lock:     make(chan struct{}, 1),
	}
}

func (s *tokenSource) acquire(ctx context.Context) error {
	select {
	case s.lock <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (s *tokenSource) release() { <-s.lock }

// fresh reports whether t can be used without renewing it first.
func fresh(t *oauth2.Token, now time.Time) bool {
	if t == nil || t.AccessToken == "" {
		return false
	}
	if t.Expiry.IsZero() {
		return true
	}
	margin := maxRefreshMargin
	if t.ExpiresIn > 0 {
		margin = min(margin, time.Duration(t.ExpiresIn)*time.Second/10)
	}
	return now.Add(margin).Before(t.Expiry)
}

// token returns a usable access token, renewing or logging in as needed.
func (s *tokenSource) token(ctx context.Context) (string, error) {
	if err := s.acquire(ctx); err != nil {
		return "", err
	}
	defer s.release()
	if fresh(s.tok, time.Now()) {
		return s.tok.AccessToken, nil
	}
	tok, err := s.renewLocked(ctx)
	if err != nil {
		return "", err
	}
	return tok.AccessToken, nil
}

// rejected records that WUG answered 401 to access token used, so the next
// token call renews it unless another caller already did.
func (s *tokenSource) rejected(used string) {
	s.lock <- struct{}{}
	defer s.release()
	if s.tok != nil && s.tok.AccessToken == used {
		s.tok.AccessToken = ""
	}
}

// login runs the password grant now.
func (s *tokenSource) login(ctx context.Context) (*oauth2.Token, error) {
	if err := s.acquire(ctx); err != nil {
		return nil, err
	}
	defer s.release()
	return s.loginLocked(ctx)
}

func (s *tokenSource) renewLocked(ctx context.Context) (*oauth2.Token, error) {
	if s.tok != nil && s.tok.RefreshToken != "" {
		octx := s.tokenContext(ctx)
		tok, err := s.cfg.TokenSource(octx, &oauth2.Token{RefreshToken: s.tok.RefreshToken}).Token()
		if err == nil {
			s.debug("wug token refreshed", tok)
			s.tok = tok
			return tok, nil
		}
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		if s.logger != nil {
			s.logger.LogAttrs(context.WithoutCancel(ctx), slog.LevelDebug, "wug token refresh refused; logging in again", slog.String("reason", authErrorText(err)))
		}
	}
	return s.loginLocked(ctx)
}

// tokenContext makes x/oauth2 use the client's transport stack and lets a
// token request be retried after a 500: asking for a token twice is harmless.
func (s *tokenSource) tokenContext(ctx context.Context) context.Context {
	return context.WithValue(httpx.WithRepeat(ctx, httpx.RepeatSafe), oauth2.HTTPClient, s.hc)
}

func (s *tokenSource) loginLocked(ctx context.Context) (*oauth2.Token, error) {
	octx := s.tokenContext(ctx)
	tok, err := s.cfg.PasswordCredentialsToken(octx, s.username, s.password)
	if err != nil {
		return nil, s.loginError(err)
	}
	s.debug("wug login", tok)
	s.tok = tok
	return tok, nil
}

func (s *tokenSource) debug(msg string, tok *oauth2.Token) {
	if s.logger == nil {
		return
	}
	s.logger.LogAttrs(context.Background(), slog.LevelDebug, msg,
		slog.String("user", s.username),
		slog.Int64("expires_in", tok.ExpiresIn),
		slog.Bool("refresh_token", tok.RefreshToken != ""))
}

// AuthError is a refused login: WUG answered the token request with 400,
// 401 or 403 (bad credentials give 400 invalid_grant), or with an OAuth
// error in a 200 answer. It matches ErrUnauthorized. Any other failed
// answer from the token endpoint (a 503, say) is an *APIError, since it
// says nothing about the credentials.
type AuthError struct {
	// Username is the user that tried to log in.
	Username string
	// StatusCode is the token endpoint's HTTP status.
	StatusCode int
	// Code is the OAuth error, e.g. "invalid_grant".
	Code string
	// Description is WUG's error_description.
	Description string
}

// Error says the login was refused and why.
func (e *AuthError) Error() string {
	msg := fmt.Sprintf("login as %q refused (HTTP %d", e.Username, e.StatusCode)
	if e.Code != "" {
		msg += ", " + e.Code
	}
	msg += ")"
	if e.Description != "" {
		msg += ": " + e.Description
	}
	return msg
}

// Is matches ErrUnauthorized.
func (e *AuthError) Is(target error) bool { return target == ErrUnauthorized }

// loginError turns an x/oauth2 error into an error that names the user and
// WUG's reason but never the body of the exchange: an *AuthError when WUG
// refused the credentials, an *APIError for any other failed answer.
func (s *tokenSource) loginError(err error) error {
	var re *oauth2.RetrieveError
	if !errors.As(err, &re) {
		return fmt.Errorf("login as %q: %w", s.username, err)
	}
	status := 0
	if re.Response != nil {
		status = re.Response.StatusCode
	}
	code, msg := re.ErrorCode, re.ErrorDescription
	if code == "" && msg == "" {
		code, msg = parseErrorBody(re.Body)
	}
	// 400 is OAuth's refusal; some servers refuse with 401 or 403, or with
	// an error code in a 200 answer.
	if status == http.StatusBadRequest || status == http.StatusUnauthorized || status == http.StatusForbidden ||
		(status >= 200 && status <= 299) {
		return &AuthError{Username: s.username, StatusCode: status, Code: code, Description: msg}
	}
	return &APIError{StatusCode: status, Method: http.MethodPost, URL: s.cfg.Endpoint.TokenURL, Code: code, Message: msg}
}

// authErrorText describes a token error without its body.
func authErrorText(err error) string {
	var re *oauth2.RetrieveError
	if errors.As(err, &re) {
		status := 0
		if re.Response != nil {
			status = re.Response.StatusCode
		}
		return fmt.Sprintf("HTTP %d %s %s", status, re.ErrorCode, re.ErrorDescription)
	}
	return err.Error()
}

// authTransport adds "Authorization: Bearer" to every request and, on a
// 401, renews the token once and repeats the request.
type authTransport struct {
	next http.RoundTripper
	src  *tokenSource
}

func (t *authTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	ctx := req.Context()
	tok, err := t.src.token(ctx)
	if err != nil {
		if req.Body != nil {
			req.Body.Close()
		}
		return nil, &beforeSendError{err}
	}
	resp, err := t.next.RoundTrip(withBearer(req, tok))
	if err != nil || resp.StatusCode != http.StatusUnauthorized {
		return resp, err
	}
	if req.Body != nil && req.Body != http.NoBody && req.GetBody == nil {
		return resp, nil // cannot resend the body
	}
	if l := t.src.logger; l != nil {
		l.LogAttrs(context.WithoutCancel(ctx), slog.LevelDebug, "wug answered 401; renewing the token and repeating once",
			slog.String("method", req.Method), slog.String("url", httpx.SanitizeURL(req.URL)))
	}
	t.src.rejected(tok)
	tok2, terr := t.src.token(ctx)
	if terr != nil {
		resp.Body.Close()
		return nil, &beforeSendError{terr}
	}
	retry := withBearer(req, tok2)
	if req.GetBody != nil {
		body, berr := req.GetBody()
		if berr != nil {
			return resp, nil
		}
		retry.Body = body
	}
	io.Copy(io.Discard, io.LimitReader(resp.Body, maxErrorBody))
	resp.Body.Close()
	return t.next.RoundTrip(retry)
}

func withBearer(req *http.Request, tok string) *http.Request {
	r := req.Clone(req.Context())
	r.Header.Set("Authorization", "Bearer "+tok)
	return r
}
