package httpx

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
)

// ParseBaseURL parses a server's base URL: scheme http or https, a host and
// an optional path, with trailing slashes dropped. User info, a query or a
// fragment are refused. A rejected URL may carry a password or a token, so
// errors show it only sanitized (see SanitizeURL), and a parse error only
// its cause.
func ParseBaseURL(raw string) (*url.URL, error) {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // *url.Error quotes the whole URL
		}
		return nil, fmt.Errorf("invalid base URL: %w", err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return nil, fmt.Errorf("invalid base URL %q: scheme must be http or https", SanitizeURL(u))
	}
	if u.Host == "" {
		return nil, fmt.Errorf("invalid base URL %q: no host", SanitizeURL(u))
	}
	if u.User != nil || u.RawQuery != "" || u.Fragment != "" {
		return nil, fmt.Errorf("invalid base URL %q: user info, query and fragment are not allowed", SanitizeURL(u))
	}
	u.Path, u.RawPath = strings.TrimRight(u.Path, "/"), ""
	return u, nil
}
