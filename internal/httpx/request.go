package httpx

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
)

// NewRequest builds a request for ref, a path with an optional query taken
// relative to base (a leading slash is optional: "devices/5?view=card" and
// "/devices/5?view=card" are the same). A ref that names a scheme or a
// host is refused, so a client's credentials only ever go to its own
// server. A non-nil body is sent encoded as JSON; every request asks for
// JSON.
func NewRequest(base *url.URL, method, ref string, body any) (*http.Request, error) {
	u, err := url.Parse(ref)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // *url.Error quotes the whole ref, which may hold a secret
		}
		return nil, fmt.Errorf("NewRequest: invalid path: %w", err)
	}
	if u.Scheme != "" || u.Host != "" || u.User != nil {
		return nil, fmt.Errorf("NewRequest: %q is not a path below %s", SanitizeURL(u), SanitizeURL(base))
	}
	full := *base
	full.Path = strings.TrimRight(base.Path, "/") + "/" + strings.TrimLeft(u.Path, "/")
	full.RawPath = ""
	full.RawQuery, full.Fragment = u.RawQuery, ""
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return nil, fmt.Errorf("NewRequest: encode %s %s body: %w", method, u.Path, err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, full.String(), rd)
	if err != nil {
		return nil, fmt.Errorf("NewRequest: %w", err)
	}
	req.Header.Set("Accept", "application/json")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	return req, nil
}

// SameServer reports whether u is on base's server (scheme, host and
// port), the one a client may send its credentials to.
func SameServer(base, u *url.URL) bool {
	return u != nil && strings.EqualFold(u.Scheme, base.Scheme) && strings.EqualFold(u.Host, base.Host)
}

// CallerRepeat returns ctx for a request a library user built and sent
// with a client's Do, and the Repeat the retry layer applies to it: the
// mark WithRepeat left on ctx, else RepeatSafe for a method safe to repeat
// (GET, HEAD, OPTIONS, PUT, DELETE, TRACE) and RepeatNever for any other,
// so a POST or PATCH is sent again only when it never reached the server
// or the server refused it with 429 or 503.
func CallerRepeat(ctx context.Context, method string) (context.Context, Repeat) {
	if r, ok := ctx.Value(repeatKey{}).(Repeat); ok && r != RepeatByMethod {
		return ctx, r
	}
	if idempotent(method) {
		return ctx, RepeatSafe
	}
	return WithRepeat(ctx, RepeatNever), RepeatNever
}
