package httpx

import (
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/hashicorp/go-cleanhttp"
)

// Options collect the HTTP settings the WUG and NetBox clients both take.
// Each client's With… option of the same name is a thin wrapper around
// the setter here, so both clients validate, name and combine their
// settings the same way; Client turns them into an *http.Client. The
// zero value is usable: a pooled transport with the default retry policy,
// no rate limit, no concurrency cap and no logging.
type Options struct {
	// HTTPClient gives the bottom transport, cookie jar, redirect policy
	// and (unless SetTimeout was used) timeout; the stack is built over it.
	HTTPClient *http.Client
	// Base is the bottom transport; nil means a pooled go-cleanhttp one.
	Base http.RoundTripper
	// TLSConfig replaces the bottom transport's TLS configuration.
	TLSConfig *tls.Config
	// TLS adds trust settings to the bottom transport's TLS configuration.
	TLS TLSOptions
	// Retry is the retry policy; nil means DefaultRetryPolicy().
	Retry *RetryPolicy
	// RateLimit and Burst set the adaptive limiter; RateLimit 0 turns it off.
	RateLimit float64
	Burst     int
	// MaxConcurrency caps requests in flight; 0 means no cap.
	MaxConcurrency int
	// Logger receives one record per attempt; nil is silent.
	Logger *slog.Logger
	// UserAgent is set on requests that carry none.
	UserAgent string
	// Hooks observe attempts, retries and rate changes.
	Hooks Hooks
	// Timeout bounds each call with its retries; 0 means no bound.
	Timeout time.Duration

	timeoutSet bool
	tlsBy      string // the first TLS option given, for error messages
}

// Setter is one client option's effect on Options.
type Setter func(*Options) error

// SetHTTPClient takes hc's transport as the bottom of the stack, and its
// cookie jar, redirect policy and timeout.
func SetHTTPClient(hc *http.Client) Setter {
	return func(o *Options) error {
		if hc == nil {
			return errors.New("WithHTTPClient: nil client")
		}
		o.HTTPClient = hc
		return nil
	}
}

// SetBaseTransport sets the bottom transport.
func SetBaseTransport(rt http.RoundTripper) Setter {
	return func(o *Options) error {
		if rt == nil {
			return errors.New("WithBaseTransport: nil transport")
		}
		o.Base = rt
		return nil
	}
}

// SetTLSConfig sets the bottom transport's whole TLS configuration.
func SetTLSConfig(cfg *tls.Config) Setter {
	return func(o *Options) error {
		if cfg == nil {
			return errors.New("WithTLSConfig: nil config")
		}
		o.TLSConfig = cfg
		o.tlsUsed("WithTLSConfig")
		return nil
	}
}

// SetCAFile trusts the CA certificates in the PEM file at path.
func SetCAFile(path string) Setter {
	return func(o *Options) error {
		if path == "" {
			return errors.New("WithCAFile: empty path")
		}
		o.TLS.CAFile = path
		o.tlsUsed("WithCAFile")
		return nil
	}
}

// SetCAPEM trusts the CA certificates in pem.
func SetCAPEM(pem []byte) Setter {
	return func(o *Options) error {
		if len(pem) == 0 {
			return errors.New("WithCAPEM: empty PEM")
		}
		o.TLS.CAPEM = pem
		o.tlsUsed("WithCAPEM")
		return nil
	}
}

// SetPinnedCertificate accepts only the leaf certificate with the given
// hex SHA-256 fingerprint.
func SetPinnedCertificate(sha256Hex string) Setter {
	return func(o *Options) error {
		if _, err := ParseFingerprint(sha256Hex); err != nil {
			return fmt.Errorf("WithPinnedCertificate: %w", err)
		}
		o.TLS.PinnedSHA256 = sha256Hex
		o.tlsUsed("WithPinnedCertificate")
		return nil
	}
}

// SetInsecureSkipVerify turns certificate checks off.
func SetInsecureSkipVerify() Setter {
	return func(o *Options) error {
		o.TLS.InsecureSkipVerify = true
		o.tlsUsed("WithInsecureSkipVerify")
		return nil
	}
}

func (o *Options) tlsUsed(name string) {
	if o.tlsBy == "" {
		o.tlsBy = name
	}
}

// SetRetry sets the retry policy.
func SetRetry(p RetryPolicy) Setter {
	return func(o *Options) error {
		if p.MaxRetries < 0 || p.WaitMin < 0 || p.WaitMax < p.WaitMin || p.MaxRetryAfter < 0 {
			return fmt.Errorf("WithRetry: invalid policy (retries %d, wait %v..%v, Retry-After up to %v)", p.MaxRetries, p.WaitMin, p.WaitMax, p.MaxRetryAfter)
		}
		o.Retry = &p
		return nil
	}
}

// SetRateLimit sets the limiter to rps requests per second with burst;
// rps 0 turns it off.
func SetRateLimit(rps float64, burst int) Setter {
	return func(o *Options) error {
		if rps < 0 || burst < 0 {
			return fmt.Errorf("WithRateLimit: negative rate %v or burst %d", rps, burst)
		}
		o.RateLimit, o.Burst = rps, burst
		return nil
	}
}

// SetMaxConcurrency caps the requests in flight; 0 means no cap.
func SetMaxConcurrency(n int) Setter {
	return func(o *Options) error {
		if n < 0 {
			return fmt.Errorf("WithMaxConcurrency: negative %d", n)
		}
		o.MaxConcurrency = n
		return nil
	}
}

// SetLogger logs every attempt to l; nil is silent.
func SetLogger(l *slog.Logger) Setter {
	return func(o *Options) error {
		o.Logger = l
		return nil
	}
}

// SetUserAgent sets the User-Agent header of requests that carry none.
func SetUserAgent(ua string) Setter {
	return func(o *Options) error {
		if strings.ContainsAny(ua, "\r\n") {
			return errors.New("WithUserAgent: line break in user agent")
		}
		o.UserAgent = ua
		return nil
	}
}

// SetTimeout bounds each call with its retries; 0 means no bound beyond
// the caller's context.
func SetTimeout(d time.Duration) Setter {
	return func(o *Options) error {
		if d < 0 {
			return fmt.Errorf("WithTimeout: negative %v", d)
		}
		o.Timeout, o.timeoutSet = d, true
		return nil
	}
}

// SetHooks sets the callbacks that observe the stack.
func SetHooks(h Hooks) Setter {
	return func(o *Options) error {
		o.Hooks = h
		return nil
	}
}

// Client builds the *http.Client the options describe: the layers (see
// the package comment) over the bottom transport, with the TLS settings
// applied to a copy of that transport. Combinations that cannot work are
// errors that name the options involved.
func (o *Options) Client() (*http.Client, *Stack, error) {
	base, baseBy := o.Base, "WithBaseTransport"
	hc := &http.Client{Timeout: o.Timeout}
	if o.HTTPClient != nil {
		if o.Base != nil {
			return nil, nil, errors.New("WithHTTPClient and WithBaseTransport both set the bottom transport; give one")
		}
		base, baseBy = o.HTTPClient.Transport, "WithHTTPClient"
		if base == nil {
			base = http.DefaultTransport
		}
		if !o.timeoutSet && o.HTTPClient.Timeout > 0 {
			hc.Timeout = o.HTTPClient.Timeout
		}
		hc.Jar, hc.CheckRedirect = o.HTTPClient.Jar, o.HTTPClient.CheckRedirect
	}
	if o.TLSConfig != nil && o.TLS.Set() {
		return nil, nil, errors.New("WithTLSConfig cannot be combined with WithCAFile, WithCAPEM, WithPinnedCertificate or WithInsecureSkipVerify")
	}
	if base == nil {
		base = cleanhttp.DefaultPooledTransport()
	}
	if o.TLSConfig != nil || o.TLS.Set() {
		t, ok := base.(*http.Transport)
		if !ok {
			return nil, nil, fmt.Errorf("%s cannot apply to the %T from %s: TLS settings need an *http.Transport; configure TLS on that transport instead", o.tlsBy, base, baseBy)
		}
		t = t.Clone()
		if o.TLSConfig != nil {
			t.TLSClientConfig = o.TLSConfig.Clone()
		} else {
			cfg := t.TLSClientConfig // Clone copied it
			if cfg == nil {
				cfg = &tls.Config{}
			}
			if err := o.TLS.apply(cfg); err != nil {
				return nil, nil, err
			}
			t.TLSClientConfig = cfg
		}
		base = t
	}
	stack := o.build(base)
	hc.Transport = stack.Transport
	return hc, stack, nil
}
