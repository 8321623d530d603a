package wugtest

import (
	"time"

	"github.com/wugsync/wugsync/wug"
)

// Option configures a fake server or handler.
type Option func(*config)

type config struct {
	user, password string
	tokenTTL       time.Duration
	refreshTTL     time.Duration
	pageMax        int
	scanDelay      time.Duration
	contract       bool
	allowUnknown   bool
	reporter       func(format string, args ...any)
	plainHTTP      bool
	clientOpts     []wug.Option
	now            func() time.Time
}

func defaultConfig() config {
	return config{
		user:       DefaultUser,
		password:   DefaultPassword,
		tokenTTL:   86399 * time.Second,
		refreshTTL: 14 * 24 * time.Hour,
		pageMax:    250,
		scanDelay:  200 * time.Millisecond,
		contract:   true,
		now:        time.Now,
	}
}

// WithCredentials sets the one user name and password the token endpoint
// accepts (default [DefaultUser] / [DefaultPassword]).
func WithCredentials(user, password string) Option {
	return func(c *config) { c.user, c.password = user, password }
}

// WithTokenLifetime sets the access-token lifetime announced in expires_in
// and enforced on every call (default 86399 s, as WUG). It is rounded down to
// whole seconds, with a minimum of one second.
func WithTokenLifetime(d time.Duration) Option {
	return func(c *config) {
		c.tokenTTL = max(d.Truncate(time.Second), time.Second)
	}
}

// WithRefreshTokenLifetime sets how long a refresh token stays usable
// (default 14 days). Each refresh token is single-use: a refresh rotates it.
func WithRefreshTokenLifetime(d time.Duration) Option {
	return func(c *config) { c.refreshTTL = d }
}

// WithPageLimit sets the largest page the fake returns (default 250). A
// request without limit, with limit=0 or with a larger limit gets this many
// items, as WUG clamps limit to its own maximum.
func WithPageLimit(n int) Option {
	return func(c *config) { c.pageMax = max(n, 1) }
}

// WithScanDelay sets how long a newDevice or refresh scan runs before it
// completes and its devices appear (default 200 ms).
// [Handler.CompleteScans] ends all running scans at once.
func WithScanDelay(d time.Duration) Option {
	return func(c *config) { c.scanDelay = d }
}

// WithoutContract turns off checking each request and response against the
// embedded WUG 2026.0 contract.
func WithoutContract() Option {
	return func(c *config) { c.contract = false }
}

// AllowUnknownRoutes stops 404 (unknown route) and 405 (wrong method)
// answers from being reported as test failures; for tests that probe them.
func AllowUnknownRoutes() Option {
	return func(c *config) { c.allowUnknown = true }
}

// WithReporter sets the function that hears about contract violations and
// unexpected routes (for [NewServer] it is tb.Errorf).
func WithReporter(fn func(format string, args ...any)) Option {
	return func(c *config) { c.reporter = fn }
}

// WithPlainHTTP makes [NewServer] and [Start] listen with plain HTTP instead
// of TLS.
func WithPlainHTTP() Option {
	return func(c *config) { c.plainHTTP = true }
}

// WithClientOptions adds options for the client [Server.Client] builds (a
// logger, a retry policy, a batch size…).
func WithClientOptions(opts ...wug.Option) Option {
	return func(c *config) { c.clientOpts = append(c.clientOpts, opts...) }
}
