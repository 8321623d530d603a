// Package wugsync keeps Progress WhatsUp Gold (WUG) monitoring in step with
// NetBox, the network source of truth. This package holds no code: it is the
// overview of the packages below it.
//
//   - [github.com/wugsync/wugsync/wug]: a typed client for the WUG REST API v1
//     (contract 2026.0); wug/wugtest is a fake WUG server for tests.
//   - [github.com/wugsync/wugsync/netbox]: device and virtual-machine
//     selectors (NetBox 4.3 to 4.5) that ask for only the fields they use
//     and decode each object once, a project-owned Device model and a
//     webhook receiver; netbox/netboxtest is a fake NetBox.
//   - [github.com/wugsync/wugsync/export]: validation, the mapping to WUG
//     device templates, the planner and executor, the export and scan-status
//     jobs and a scheduler.
//   - [github.com/wugsync/wugsync/store]: the state store recording every
//     exported IP address, with store/memory, store/sqlite (embedded, the
//     default) and store/postgres (shared by replicas); store/storetest is
//     the conformance suite.
//
// Runnable programs live in examples/: quickstart (everything in one
// process, against the fakes), export (a CLI for real servers) and server
// (an HTTP service with schedules, webhooks and an API).
//
// # Data flow
//
//	NetBox ──selector──▶ netbox.Device ──validate, map──▶ a wug.DeviceTemplate per address
//	                                                             │
//	store.Record (what was done) ────────────────────────────────┼──▶ planner: add, adopt, update, scan, skip, remove
//	WUG inventory (one paged listing, indexed by address) ───────┘                         │
//	                                                              executor (batched, bounded, rate-limited)
//	                                                                                       │
//	                           store updated per item ◀── WUG answers (device ids, errors, scan ids)
//
// An export.Connection, built by export.New from the two clients and a
// store, streams the objects a netbox.Selector picks,
// validates each address (bad, special-purpose and duplicate addresses get a
// verdict with a reason, never a crash), maps it to a WUG device template by
// an export.Mapping, and plans it against what the store recorded and what
// WUG holds: a WUG device that already has the address is adopted, never
// duplicated. Adds go to WUG as batched template applies, metadata updates
// change only what changed, and scans are bulk discovery requests that an
// Connection.FollowScans follows to completion. Each item is recorded as
// pending before the request that acts on it and with its outcome after, so
// a run killed at any point is finished by the next one. An
// export.Scheduler runs Connections on an interval, on NetBox webhooks and
// on demand.
//
// # Authentication and TLS
//
// The WUG client logs in with the OAuth2 password grant
// (POST /api/v1/token), renews its token before expiry with the
// refresh-token grant, and repeats a request once with a fresh token after a
// 401. The NetBox client sends its API token as "Token", or as "Bearer" for
// a NetBox 4.5 v2 token ("nbt_…"). Neither constructor does network I/O;
// wug.Client.Login and netbox.Client.Status check the credentials early.
//
// The two clients take the same options, with the same names and types,
// for TLS, retries, rate limit, concurrency, logger, HTTP client or base
// transport, timeout, user agent and hooks. Certificates are checked
// against the system roots unless an option says otherwise: a CA bundle
// (WithCAFile, WithCAPEM), a pinned certificate fingerprint for a
// self-signed server (WithPinnedCertificate), a whole TLS configuration
// (WithTLSConfig), or, asked for by name in a lab, no check at all
// (WithInsecureSkipVerify). They apply to a copy of a caller's
// *http.Transport given with WithBaseTransport or WithHTTPClient. A
// certificate that is not trusted fails at once with an error matching
// wug.ErrUntrustedCertificate, the same value as
// netbox.ErrUntrustedCertificate.
//
// # Errors
//
// A WUG answer with an error status is a *wug.APIError holding the status,
// method, sanitized URL and WUG's message; it answers [errors.Is] for
// wug.ErrNotFound, wug.ErrUnauthorized and wug.ErrRateLimited. A
// refused login is a *wug.AuthError, a 200 answer that reports failure a
// *wug.ResultError, and bad input a *wug.InputError returned before
// anything is sent. NetBox answers are *netbox.APIError values matching
// netbox.ErrTokenRefused, netbox.ErrNotFound and netbox.ErrBadFilter;
// a NetBox object that cannot be decoded is a *netbox.DeviceError in the
// stream, which goes on after it.
//
// An export returns an error only when the run itself failed. One address's
// failure is recorded on that address and counted in the
// export.Result, with an export.Outcome saying why; a run asked for
// while one is in progress (in this process, or in another sharing the
// store: every writing run holds the connection's store lease) gets an
// *export.RunInProgressError naming that run and its lease holder, and a
// run that loses its lease stops with export.ErrLeaseLost. Store
// errors wrap store.ErrNotFound, store.ErrLeaseHeld, store.ErrLeaseLost
// or store.ErrNewerSchema. No error holds a password, a token or an
// Authorization header.
//
// # Retries and rate limits
//
// Both clients share one HTTP stack: a pooled go-cleanhttp transport, a
// concurrency cap, an adaptive token-bucket rate limiter that halves its
// rate when the server answers 429 or 503 and recovers gradually, and
// retries through go-retryablehttp with exponential backoff and jitter that
// honour a bounded Retry-After. Transport errors, 408, 429, 502, 503 and
// 504 are retried, a 500 only for idempotent requests, and no other 4xx. A
// template apply or newDevice scan, which always creates, is sent again
// only when it never reached WUG or WUG refused it with 429 or 503; any
// other failure matches wug.ErrOutcomeUnknown. The WUG client's defaults
// are 20 requests per second with a burst of 10, 4 in flight and 4 retries
// from 250 ms to 8 s (wug.WithRateLimit, wug.WithMaxConcurrency,
// wug.WithRetry); the NetBox client retries the same way and is
// rate-limited only when asked (netbox.WithRateLimit). Hooks
// (WithHooks) report each attempt, each retry and each rate change, for
// metrics. The export retries
// nothing itself: a template apply or newDevice scan whose answer is lost
// or unreadable is resolved by looking the addresses up in WUG, then sent
// at most once more; a refusal is recorded on its items, and the next run
// plans them again.
//
// # Logging
//
// Logging goes through [log/slog] and is off by default: pass a logger with
// wug.WithLogger, netbox.WithLogger, export.WithLogger or the scheduler's
// options. Each request attempt is logged at debug level (warning
// when it fails) with its method, sanitized URL, status and duration;
// Authorization headers, passwords, tokens and bodies are never logged.
//
// # Testing
//
// The fakes are products, made to be imported in users' tests. One line
// starts each and hands back a wired client:
//
//	nb := netboxtest.NewServer(t, netboxtest.WithDevices(500)) // generated data, awkward records included
//	w := wugtest.NewServer(t)                                   // every request checked against WUG's 2026.0 contract
//	conn, err := export.New(nb.Client(), w.Client(), memory.New())            // then conn.Run(ctx, export.RunOptions{})
//
// [github.com/wugsync/wugsync/wug/wugtest] seeds devices and groups, marks
// addresses that scans will find, injects faults and latency, and counts
// requests; [github.com/wugsync/wugsync/netbox/netboxtest] changes devices
// and addresses (sending signed webhooks when asked), injects faults and
// counts requests. Outside tests, wugtest.Start serves the fake WUG on a
// loopback port, and both packages' NewHandler functions return plain
// http.Handler values to serve yourself, as examples/quickstart does. A new
// store.Store backend proves itself with one call to
// [github.com/wugsync/wugsync/store/storetest.Run].
package wugsync
