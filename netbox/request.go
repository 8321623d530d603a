package netbox

import (
	"context"
	"fmt"
	"net/http"

	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"

	"github.com/wugsync/wugsync/internal/httpx"
)

// Response is NetBox's answer to a request sent with Client.Do.
type Response struct {
	// Response is the HTTP answer; its body has been read and closed.
	*http.Response
}

// NewRequest builds a request for a NetBox endpoint the client does not
// cover, to send with Do. path is relative to BaseURL and may carry a
// query, e.g. "/api/dcim/sites/?slug=ams1"; a URL with a scheme or host is
// refused, so the token only goes to this client's server. A non-nil body
// is sent as JSON.
func (c *Client) NewRequest(method, path string, body any) (*http.Request, error) {
	req, err := httpx.NewRequest(c.base, method, path, body)
	if err != nil {
		return nil, fmt.Errorf("netbox: %w", err)
	}
	return req, nil
}

// Do sends req, made by NewRequest, with the client's token through its
// stack (rate limit, concurrency cap, retries) and decodes a 2xx answer's
// JSON into v; v may be nil to ignore the answer. Any other answer is an
// *APIError.
//
// Repeats: a request whose method is safe to repeat (GET, HEAD, OPTIONS,
// PUT, DELETE) is retried like the client's own reads. Any other, such
// as a POST or PATCH, is sent again only when it never reached NetBox or
// NetBox refused it with 429 or 503; make ctx with SafeToRepeat for one
// that NetBox applies idempotently, to have it retried like a read.
func (c *Client) Do(ctx context.Context, req *http.Request, v any) (*Response, error) {
	if !httpx.SameServer(c.base, req.URL) {
		return nil, fmt.Errorf("netbox: Do: %s %s is not on %s, the only server the client sends its token to", req.Method, httpx.SanitizeURL(req.URL), c.BaseURL())
	}
	ctx, _ = httpx.CallerRepeat(ctx, req.Method)
	var decode func(*jsontext.Decoder) error
	if v != nil {
		decode = func(dec *jsontext.Decoder) error {
			if err := json.UnmarshalDecode(dec, v, decodeOpts); err != nil {
				return fmt.Errorf("%s %s: answer is not the promised %T: %w", req.Method, req.URL.RequestURI(), v, err)
			}
			return nil
		}
	}
	resp, err := c.exchange(req.Clone(ctx), decode)
	if err != nil {
		return nil, fmt.Errorf("netbox: %w", err)
	}
	return &Response{Response: resp}, nil
}

// SafeToRepeat returns a context under which Do retries a request as one
// NetBox applies idempotently, whatever its method: after any transport
// error and after 408, 429, 500, 502, 503 and 504.
func SafeToRepeat(ctx context.Context) context.Context {
	return httpx.WithRepeat(ctx, httpx.RepeatSafe)
}
