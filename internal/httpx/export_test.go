package httpx

import "net/http"

// New returns an *http.Client on the stack Build makes from cfg, for tests.
func New(cfg Config) *http.Client { return &http.Client{Transport: Build(cfg).Transport} }
