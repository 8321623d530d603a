package httpx

import (
	"crypto/tls"
	"net/http"
)

// New returns an *http.Client on the stack o describes, for tests.
func New(o Options) *http.Client {
	hc, _, err := o.Client()
	if err != nil {
		panic(err)
	}
	return hc
}

// Build returns the stack o describes, for tests.
func Build(o Options) *Stack {
	_, s, err := o.Client()
	if err != nil {
		panic(err)
	}
	return s
}

// TLSConfig builds a *tls.Config (TLS 1.2 or later) from o, for tests.
func TLSConfig(o TLSOptions) (*tls.Config, error) {
	cfg := &tls.Config{}
	if err := o.apply(cfg); err != nil {
		return nil, err
	}
	return cfg, nil
}
