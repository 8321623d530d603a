package netbox

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"sort"
	"strings"

	"github.com/wugsync/wugsync/internal/httpx"
)

// Sentinel errors that an *APIError answers through errors.Is.
var (
	// ErrTokenRefused means NetBox answered 403: the token is missing,
	// invalid, expired, not allowed from this address, or lacks permission.
	ErrTokenRefused = errors.New("netbox refused the API token")
	// ErrNotFound means NetBox answered 404.
	ErrNotFound = errors.New("netbox object not found")
	// ErrBadFilter means NetBox answered 400, usually for a filter value it
	// does not accept (an unknown site id, status or tag).
	ErrBadFilter = errors.New("netbox rejected a filter")
	// ErrUntrustedCertificate matches a request that failed because
	// NetBox's TLS certificate is not trusted: its chain does not verify
	// against the trusted roots (unknown authority, another host name,
	// expired) or it is not the pinned certificate. It is the same value as
	// wug.ErrUntrustedCertificate; crypto/x509's error stays reachable with
	// errors.As.
	ErrUntrustedCertificate = httpx.ErrUntrustedCertificate
)

// APIError is a NetBox answer with a status of 300 or more.
type APIError struct {
	StatusCode int
	Method     string
	URL        string // path and query; NetBox URLs carry no secrets
	// Detail is NetBox's {"detail": …} message, when there is one.
	Detail string
	// Params holds a 400 answer's messages per query parameter, e.g.
	// {"site_id": ["Select a valid choice. …"]}.
	Params map[string][]string
}

// Error describes the failure (method, URL, status and NetBox's message);
// a 400 names the offending parameters.
func (e *APIError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s: ", e.Method, e.URL)
	switch e.StatusCode {
	case http.StatusForbidden:
		b.WriteString("token refused (403)")
	case http.StatusBadRequest:
		b.WriteString("bad request (400)")
	default:
		fmt.Fprintf(&b, "HTTP %d", e.StatusCode)
	}
	if e.Detail != "" {
		b.WriteString(": " + e.Detail)
	}
	for _, p := range sortedKeys(e.Params) {
		fmt.Fprintf(&b, "; parameter %s: %s", p, strings.Join(e.Params[p], " "))
	}
	return b.String()
}

// Is reports whether the error matches ErrTokenRefused, ErrNotFound or
// ErrBadFilter.
func (e *APIError) Is(target error) bool {
	switch target {
	case ErrTokenRefused:
		return e.StatusCode == http.StatusForbidden
	case ErrNotFound:
		return e.StatusCode == http.StatusNotFound
	case ErrBadFilter:
		return e.StatusCode == http.StatusBadRequest
	}
	return false
}

// newAPIError builds an *APIError from a response and its body.
func newAPIError(resp *http.Response, body []byte) *APIError {
	e := &APIError{StatusCode: resp.StatusCode}
	if resp.Request != nil {
		e.Method = resp.Request.Method
		e.URL = resp.Request.URL.RequestURI()
	}
	var generic map[string]json.RawMessage
	if json.Unmarshal(body, &generic) != nil {
		if len(body) > 0 && len(body) < 200 && resp.StatusCode != http.StatusForbidden {
			e.Detail = strings.TrimSpace(string(body))
		}
		return e
	}
	for k, raw := range generic {
		var s string
		var list []string
		switch {
		case k == "detail" && json.Unmarshal(raw, &s) == nil:
			e.Detail = s
		case k == "error" && json.Unmarshal(raw, &s) == nil:
			e.Detail = s
		case json.Unmarshal(raw, &list) == nil:
			if e.Params == nil {
				e.Params = map[string][]string{}
			}
			e.Params[k] = list
		}
	}
	return e
}

// DeviceError is a per-object failure in a Devices stream: NetBox sent an
// object (or one of its IP addresses) that could not be decoded, for
// example a field of an unexpected JSON type or an address that is not
// "<address>/<length>". The stream goes on after a *DeviceError; any other
// error ends it.
//
// Callers tell the two apart with errors.As:
//
//	for d, err := range c.Devices(ctx, sel) {
//		var de *netbox.DeviceError
//		if errors.As(err, &de) {
//			// record the failure for de.Kind/de.ID and carry on
//			continue
//		}
//		if err != nil {
//			return err // fatal: the stream has ended
//		}
//		use(d)
//	}
type DeviceError struct {
	Kind Kind
	ID   int64
	Name string // when it could be read
	Err  error
}

// Error names the object and the reason.
func (e *DeviceError) Error() string {
	name := ""
	if e.Name != "" {
		name = fmt.Sprintf(" (%s)", e.Name)
	}
	return fmt.Sprintf("netbox: %s %d%s: %v", e.Kind, e.ID, name, e.Err)
}

// Unwrap returns the decoding error.
func (e *DeviceError) Unwrap() error { return e.Err }

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
