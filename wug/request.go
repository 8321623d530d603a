package wug

import (
	"context"
	"fmt"
	"net/http"

	"github.com/wugsync/wugsync/internal/httpx"
)

// Response is WUG's answer to a request sent with Client.Do.
type Response struct {
	// Response is the HTTP answer; its body has been read and closed.
	*http.Response
	// Paging is the answer's paging block, zero when it has none; pass
	// its NextPageID as the pageId query parameter to read the next page.
	Paging Paging
}

// NewRequest builds a request for a WUG endpoint the client does not
// cover, to send with Do. path is relative to BaseURL (which ends in
// /api/v1) and may carry a query, e.g. "/devices/5/config/credentials"
// or "device-groups/-?limit=50"; a URL with a scheme or host is refused,
// so the token only goes to this client's server. A non-nil body is sent
// as JSON.
func (c *Client) NewRequest(method, path string, body any) (*http.Request, error) {
	req, err := httpx.NewRequest(c.root, method, path, body)
	if err != nil {
		return nil, fmt.Errorf("wug: %w", err)
	}
	return req, nil
}

// Do sends req, made by NewRequest, through the client's whole stack:
// login and token renewal (a 401 renews the token and repeats the request
// once), the rate limit, the concurrency cap and retries. It decodes WUG's
// envelope strictly into v: the answer's "data" (or a bare result) into
// v, its paging block into the Response. A 2xx answer that carries an
// "error" or "errors" envelope, has no "data" or holds data that does not
// fit v is an *APIError with Malformed set; v may be nil to ignore the
// payload, and an empty answer is then fine. A non-2xx answer is an
// *APIError.
//
// Repeats: a request whose method is safe to repeat (GET, HEAD, OPTIONS,
// PUT, DELETE) is retried like the client's own reads. Any other, such
// as a POST or PATCH, is sent again only when it never reached WUG or WUG
// refused it with 429 or 503, and its failures after it may have reached
// WUG match ErrOutcomeUnknown; make ctx with SafeToRepeat for one that WUG
// applies idempotently, to have it retried like a read.
func (c *Client) Do(ctx context.Context, req *http.Request, v any) (*Response, error) {
	if !httpx.SameServer(c.root, req.URL) {
		return nil, fmt.Errorf("wug: Do: %s %s is not on %s, the only server the client sends its token to", req.Method, httpx.SanitizeURL(req.URL), c.base)
	}
	ctx, repeat := httpx.CallerRepeat(ctx, req.Method)
	res := &Response{}
	resp, err := c.send(req.WithContext(ctx), repeat == httpx.RepeatNever, v, &res.Paging)
	if err != nil {
		return nil, fmt.Errorf("wug: %w", err)
	}
	res.Response = resp
	return res, nil
}

// SafeToRepeat returns a context under which Do retries a request as one
// WUG applies idempotently, whatever its method: after any transport
// error and after 408, 429, 500, 502, 503 and 504.
func SafeToRepeat(ctx context.Context) context.Context {
	return httpx.WithRepeat(ctx, httpx.RepeatSafe)
}
