package httpx

import (
	"context"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// loggingTransport writes one record per attempt: method, sanitized URL,
// status, duration and attempt number, and reports the attempt to the
// OnAttempt hook. Headers and bodies are never logged. Sitting right on the
// bottom transport, it also marks certificate failures as matching
// ErrUntrustedCertificate.
type loggingTransport struct {
	next      http.RoundTripper
	logger    *slog.Logger
	onAttempt func(AttemptEvent)
}

func (t *loggingTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	attempt := 1
	if c := attemptFrom(req.Context()); c != nil {
		attempt = int(c.n.Add(1))
	}
	start := time.Now()
	resp, err := t.next.RoundTrip(req)
	err = markUntrusted(err)
	if t.logger == nil && t.onAttempt == nil {
		return resp, err
	}
	elapsed := time.Since(start)
	status := 0
	if err == nil {
		status = resp.StatusCode
	}
	if t.onAttempt != nil {
		t.onAttempt(AttemptEvent{Method: req.Method, URL: SanitizeURL(req.URL), Attempt: attempt, Status: status, Err: err, Duration: elapsed})
	}
	if t.logger == nil {
		return resp, err
	}
	attrs := []slog.Attr{
		slog.String("method", req.Method),
		slog.String("url", SanitizeURL(req.URL)),
		slog.Int("attempt", attempt),
		slog.Duration("duration", elapsed),
	}
	level := slog.LevelDebug
	switch {
	case err != nil:
		level = slog.LevelWarn
		attrs = append(attrs, slog.String("error", sanitizeError(err, req.URL)))
	default:
		attrs = append(attrs, slog.Int("status", status))
		if status >= 500 || status == http.StatusTooManyRequests {
			level = slog.LevelWarn
		}
	}
	t.logger.LogAttrs(context.WithoutCancel(req.Context()), level, "http request", attrs...)
	return resp, err
}

// sanitizeError renders err with the raw URL replaced by its sanitized form.
func sanitizeError(err error, u *url.URL) string {
	s := err.Error()
	if u != nil {
		s = strings.ReplaceAll(s, u.String(), SanitizeURL(u))
	}
	return s
}

// sensitiveParams are query parameter names whose values are redacted.
var sensitiveParams = []string{"password", "passwd", "token", "secret", "key", "auth", "credential", "session", "signature"}

// SanitizeURL renders u without user info and with the values of query
// parameters whose names suggest secrets (password, token, key, ...) replaced
// by "REDACTED".
func SanitizeURL(u *url.URL) string {
	if u == nil {
		return ""
	}
	c := *u
	c.User = nil
	if c.RawQuery != "" {
		q := c.Query()
		changed := false
		for name := range q {
			if isSensitive(name) {
				q[name] = []string{"REDACTED"}
				changed = true
			}
		}
		if changed {
			c.RawQuery = q.Encode()
		}
	}
	return c.String()
}

func isSensitive(name string) bool {
	n := strings.ToLower(name)
	for _, s := range sensitiveParams {
		if strings.Contains(n, s) {
			return true
		}
	}
	return false
}
