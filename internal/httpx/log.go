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
// status, duration and attempt number. Headers and bodies are never logged.
type loggingTransport struct {
	next   http.RoundTripper
	logger *slog.Logger
}

func (t *loggingTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	attempt := 1
	if c := attemptFrom(req.Context()); c != nil {
		attempt = int(c.n.Add(1))
	}
	if t.logger == nil {
		return t.next.RoundTrip(req)
	}
	start := time.Now()
	resp, err := t.next.RoundTrip(req)
	attrs := []slog.Attr{
		slog.String("method", req.Method),
		slog.String("url", SanitizeURL(req.URL)),
		slog.Int("attempt", attempt),
		slog.Duration("duration", time.Since(start)),
	}
	level := slog.LevelDebug
	switch {
	case err != nil:
		level = slog.LevelWarn
		attrs = append(attrs, slog.String("error", sanitizeError(err, req.URL)))
	default:
		attrs = append(attrs, slog.Int("status", resp.StatusCode))
		if resp.StatusCode >= 500 || resp.StatusCode == http.StatusTooManyRequests {
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
