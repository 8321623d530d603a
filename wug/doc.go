// Package wug is a typed client for the Progress WhatsUp Gold (WUG) REST
// API v1 (contract 2026.0).
//
// A Client logs in with the OAuth2 password grant at POST /api/v1/token,
// renews its token before expiry with the refresh_token grant, and repeats
// a request once after a 401 with a fresh token. Under it sits a shared
// transport stack: a pooled connection transport, an adaptive rate limiter
// that slows down when WUG answers 429 or 503, a concurrency cap, retries
// with exponential backoff and jitter that honour Retry-After, and optional
// log/slog logging that never records secrets or bodies.
//
// Operations are grouped into services in the style of go-github:
//
//	c.Devices     list/search, get, status, properties, delete, poll, refresh,
//	              maintenance, BulkAdd/AddDeviceByIP (templates), UpdateMetadata,
//	              group membership from the device side, network interfaces
//	              and Readdress, roles (AssignRoles: one request per name)
//	c.Attributes  list and batch-change device attributes (Replace: one request)
//	c.Groups      list with paths, create, EnsurePath, EnsurePaths (one
//	              listing for many paths), membership, MoveDevices
//	c.Scans       ScanIP, ScanIPs, ScanRange (newDevice), status, results, cancel
//	c.Product     version, API info, whoAmI
//
// Lists are iter.Seq2[T, error] iterators that follow WUG's pageId and
// nextPageId. Errors from WUG are *APIError values that answer errors.Is for
// ErrNotFound, ErrUnauthorized and ErrRateLimited; a 200 answer that reports
// failure (success:false whatever the counts, errors[], either spelling of
// the resources-with-errors list) becomes a *ResultError; bad input is an
// *InputError returned before anything is sent. An error names "wug:" and
// the operation once ("wug: Devices.Get: GET …: 404 Not Found: …"), and a
// server certificate that is not trusted matches ErrUntrustedCertificate.
//
// The options for TLS, retries, rate limit, concurrency, logging, the HTTP
// client or base transport, timeout, user agent and hooks have the same
// names and types as package netbox's, and TLS options apply to a copy of a
// caller's *http.Transport. For an endpoint without a method,
// Client.NewRequest and Client.Do send a request through the same login,
// rate limit and retries and decode WUG's envelope strictly; a POST or
// PATCH sent that way is repeated only when it never reached WUG or WUG
// refused it (429, 503), unless its context comes from SafeToRepeat.
//
// Every answer is decoded against the shape its operation promises, never
// read as an empty value: a 2xx answer that is not JSON, carries an "error"
// or "errors" envelope, lacks "data", holds something other than the
// promised list or object, or lists an object without its id is an
// *APIError with the status, WUG's message and APIError.Malformed saying
// what is wrong. Ids are read whether WUG sends them as strings or numbers.
//
// Requests that create (a template apply, a newDevice scan) are never sent
// twice blind: the retry layer repeats one only when it never reached WUG
// (a failed dial) or WUG refused it with 429 or 503. When such a request may
// have been applied but its answer was lost, late or unreadable, or WUG
// answered 500, 502 or 504, its error matches ErrOutcomeUnknown: look the
// addresses up before sending it again. Other requests are retried after
// transport errors, 408, 429, 502, 503 and 504, and after a 500 when WUG
// applies them idempotently; no other 4xx is retried, and Retry-After is
// honoured up to a bound.
//
// Usage:
//
//	c, err := wug.NewClient("https://wug.example.com:9644",
//		wug.WithCredentials("api-user", password),
//		wug.WithPinnedCertificate("5f3c…e1"), // WUG's self-signed certificate
//	)
//	if err != nil {
//		return err
//	}
//	grp, err := c.Groups.EnsurePath(ctx, "My Network/NetBox/Site A")
//	if err != nil {
//		return err
//	}
//	place, _ := wug.GroupTemplate(grp.Path)
//	outcomes, err := c.Devices.BulkAdd(ctx, []wug.DeviceTemplate{{
//		TemplateID:  "nb-42",
//		DisplayName: "web-01",
//		Interfaces:  []wug.TemplateInterface{{DefaultInterface: true, NetworkAddress: "10.0.0.5"}},
//		Attributes:  []wug.NameValue{{Name: "NetBoxId", Value: "42"}},
//		Groups:      []wug.TemplateGroup{place},
//	}})
//	for _, o := range outcomes {
//		fmt.Println(o.TemplateID, o.DeviceID, o.Warnings, o.Err) // per template
//	}
//	for d, err := range c.Devices.All(ctx) {
//		if err != nil {
//			return err
//		}
//		fmt.Println(d.ID, d.NetworkAddress, d.Name)
//	}
//
// The in-process fake server in package wugtest serves the same API for tests.
package wug
