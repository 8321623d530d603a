// Package contract checks HTTP exchanges against Progress's Swagger 2.0
// contract for WhatsUp Gold 2026.0 (embedded from wug-openapi-2026.0.json).
//
// The document is converted to OpenAPI 3 with kin-openapi's openapi2conv and
// checked with openapi3filter. A few narrow adjustments are made to the
// converted document; each is listed in [Load] with its reason.
package contract

import (
	"bytes"
	"context"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"sync"

	"github.com/getkin/kin-openapi/openapi2"
	"github.com/getkin/kin-openapi/openapi2conv"
	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/legacy"
)

// Spec is the embedded Swagger 2.0 document, byte for byte as Progress ships it.
//
//go:embed wug-openapi-2026.0.json
var Spec []byte

// Checker validates requests and responses against the contract. It is safe
// for concurrent use.
type Checker struct {
	doc    *openapi3.T
	router routers.Router
	opts   *openapi3filter.Options
}

// Route describes the operation a request matched.
type Route struct {
	OperationID string // e.g. "Device_ApplyTemplates"
	Path        string // the contract's path template, e.g. "/api/v1/devices/-/config/template"
	route       *routers.Route
	params      map[string]string
}

var (
	loadOnce sync.Once
	loaded   *Checker
	loadErr  error
)

// Load parses the embedded contract once per process and returns the shared
// Checker.
//
// Adjustments made to the converted document, each narrow and deliberate:
//   - The servers list (from the spec's "host", a private address of
//     Progress's build machine) is dropped, so paths match on any host.
//   - The header parameter "Authorization", declared required on every
//     operation, is removed, and the oauth2 security requirement is not
//     evaluated: authentication is the server's job (a missing token must get
//     a 401 from the fake, not a contract violation).
//   - Every object schema that declares properties gets
//     additionalProperties:false, so a body property the contract does not
//     declare (a misspelt field, an invented one) is reported, in requests and
//     responses alike. Swagger 2.0 cannot say this itself, and Progress's
//     generator never does.
//   - Component names such as "Result[DeviceAttribute]" use characters
//     OpenAPI 3 forbids; they are renamed (brackets and commas become "_")
//     and references rewritten, which changes no schema.
//   - DELETE and PUT /api/v1/pollers/{pollerId} share the operationId
//     "Pollers_UpdatePoller", which OpenAPI 3 forbids; the later one in
//     matching order gets the method appended ("Pollers_UpdatePoller_DELETE").
//   - POST /api/v1/token is not in the contract (the spec's oauth2 tokenUrl
//     points at an internal listener); callers skip it, see [IsExempt].
func Load() (*Checker, error) {
	loadOnce.Do(func() { loaded, loadErr = load() })
	return loaded, loadErr
}

func load() (*Checker, error) {
	var doc2 openapi2.T
	if err := json.Unmarshal(Spec, &doc2); err != nil {
		return nil, fmt.Errorf("contract: parse swagger 2.0: %w", err)
	}
	doc, err := openapi2conv.ToV3(&doc2)
	if err != nil {
		return nil, fmt.Errorf("contract: convert to openapi 3: %w", err)
	}
	doc.Security = nil
	doc.Servers = nil
	seen := map[*openapi3.Schema]bool{}
	renamed := make(openapi3.Schemas, len(doc.Components.Schemas))
	for name, s := range doc.Components.Schemas {
		closeObjects(s, seen)
		renamed[schemaName(name)] = s
	}
	doc.Components.Schemas = renamed
	ids := map[string]bool{}
	for _, path := range doc.Paths.InMatchingOrder() {
		item := doc.Paths.Value(path)
		for _, method := range []string{"GET", "PUT", "POST", "PATCH", "DELETE"} {
			op := item.GetOperation(method)
			if op == nil {
				continue
			}
			if ids[op.OperationID] {
				op.OperationID += "_" + method
			}
			ids[op.OperationID] = true
		}
	}
	for _, item := range doc.Paths.Map() {
		for _, op := range item.Operations() {
			op.Security = &openapi3.SecurityRequirements{}
			kept := op.Parameters[:0]
			for _, p := range op.Parameters {
				if p.Value != nil && p.Value.In == openapi3.ParameterInHeader && strings.EqualFold(p.Value.Name, "Authorization") {
					continue
				}
				kept = append(kept, p)
			}
			op.Parameters = kept
			if op.RequestBody != nil && op.RequestBody.Value != nil {
				for _, mt := range op.RequestBody.Value.Content {
					closeObjects(mt.Schema, seen)
				}
			}
			for _, r := range op.Responses.Map() {
				if r.Value != nil {
					for _, mt := range r.Value.Content {
						closeObjects(mt.Schema, seen)
					}
				}
			}
		}
	}
	router, err := legacy.NewRouter(doc)
	if err != nil {
		return nil, fmt.Errorf("contract: build router: %w", err)
	}
	opts := &openapi3filter.Options{
		MultiError:          true,
		AuthenticationFunc:  openapi3filter.NoopAuthenticationFunc,
		SkipSettingDefaults: true,
	}
	opts.WithCustomSchemaErrorFunc(func(err *openapi3.SchemaError) string {
		return fmt.Sprintf("at %q: %s", "/"+strings.Join(err.JSONPointer(), "/"), err.Reason)
	})
	return &Checker{doc: doc, router: router, opts: opts}, nil
}

// schemaName maps Progress's generic-style definition names such as
// "PageResult[List[DeviceAttribute]]" onto the characters OpenAPI 3 allows
// in component names.
func schemaName(name string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '.', r == '-':
			return r
		}
		return '_'
	}, name)
}

// closeObjects rewrites component references to the names schemaName gives
// and sets additionalProperties:false on every object schema with
// declared properties reachable from s.
func closeObjects(s *openapi3.SchemaRef, seen map[*openapi3.Schema]bool) {
	if s == nil {
		return
	}
	if name, ok := strings.CutPrefix(s.Ref, "#/components/schemas/"); ok {
		s.Ref = "#/components/schemas/" + schemaName(name)
	}
	if s.Value == nil || seen[s.Value] {
		return
	}
	v := s.Value
	seen[v] = true
	if len(v.Properties) > 0 && v.AdditionalProperties.Has == nil && v.AdditionalProperties.Schema == nil {
		v.AdditionalProperties = openapi3.AdditionalProperties{Has: openapi3.Ptr(false)}
	}
	for _, p := range v.Properties {
		closeObjects(p, seen)
	}
	closeObjects(v.Items, seen)
	closeObjects(v.AdditionalProperties.Schema, seen)
	for _, group := range []openapi3.SchemaRefs{v.AllOf, v.AnyOf, v.OneOf} {
		for _, x := range group {
			closeObjects(x, seen)
		}
	}
}

// IsExempt reports whether a path lies outside the contract on purpose: the
// OAuth token endpoint, which WUG serves but the contract does not describe.
func IsExempt(path string) bool {
	return path == "/api/v1/token"
}

// Errors returned by Find.
var (
	ErrPathNotFound     = errors.New("no operation in the contract has this path")
	ErrMethodNotAllowed = errors.New("the contract declares this path but not this method")
)

// Find returns the operation that method and path name in the contract.
func (c *Checker) Find(method, path string) (*Route, error) {
	req := &http.Request{Method: method, URL: &url.URL{Path: path}}
	r, params, err := c.router.FindRoute(req)
	if err != nil {
		for _, m := range []string{"GET", "PUT", "POST", "PATCH", "DELETE"} {
			if m == method {
				continue
			}
			other := &http.Request{Method: m, URL: req.URL}
			if _, _, err := c.router.FindRoute(other); err == nil {
				return nil, ErrMethodNotAllowed
			}
		}
		return nil, ErrPathNotFound
	}
	return &Route{OperationID: r.Operation.OperationID, Path: r.Path, route: r, params: params}, nil
}

// CheckRequest validates a request whose body has already been read into
// body: method and path match an operation, every query parameter is
// declared and valid, and the body matches the operation's schema with no
// undeclared properties. It returns one message per violation.
func (c *Checker) CheckRequest(req *http.Request, body []byte) (*Route, []string) {
	if IsExempt(req.URL.Path) {
		return nil, nil
	}
	rt, err := c.Find(req.Method, req.URL.Path)
	if err != nil {
		return nil, []string{fmt.Sprintf("%s %s: %v", req.Method, req.URL.Path, err)}
	}
	var out []string
	declared := map[string]bool{}
	for _, p := range rt.route.Operation.Parameters {
		if p.Value != nil && p.Value.In == openapi3.ParameterInQuery {
			declared[p.Value.Name] = true
		}
	}
	var undeclared []string
	for name := range req.URL.Query() {
		if !declared[name] {
			undeclared = append(undeclared, name)
		}
	}
	sort.Strings(undeclared)
	for _, name := range undeclared {
		out = append(out, fmt.Sprintf("%s %s: query parameter %q is not declared by %s", req.Method, req.URL.Path, name, rt.OperationID))
	}
	r2 := req.Clone(context.Background())
	r2.Body = io.NopCloser(bytes.NewReader(body))
	r2.ContentLength = int64(len(body))
	if r2.Header.Get("Content-Type") == "" && len(body) > 0 {
		r2.Header.Set("Content-Type", "application/json")
	}
	in := &openapi3filter.RequestValidationInput{
		Request:    r2,
		PathParams: rt.params,
		Route:      rt.route,
		Options:    c.opts,
	}
	if err := openapi3filter.ValidateRequest(context.Background(), in); err != nil {
		out = append(out, flatten(fmt.Sprintf("%s %s (%s) request", req.Method, req.URL.Path, rt.OperationID), err)...)
	}
	return rt, out
}

// CheckResponse validates a response to a request that CheckRequest matched
// to rt. Only statuses the contract declares are checked (it declares no
// error responses at all).
func (c *Checker) CheckResponse(req *http.Request, rt *Route, status int, header http.Header, body []byte) []string {
	if rt == nil {
		return nil
	}
	in := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: &openapi3filter.RequestValidationInput{
			Request:    req,
			PathParams: rt.params,
			Route:      rt.route,
			Options:    c.opts,
		},
		Status:  status,
		Header:  header,
		Options: c.opts,
	}
	in.SetBodyBytes(body)
	if err := openapi3filter.ValidateResponse(context.Background(), in); err != nil {
		return flatten(fmt.Sprintf("%s %s (%s) response %d", req.Method, req.URL.Path, rt.OperationID, status), err)
	}
	return nil
}

// flatten turns a (multi) validation error into one line per violation.
func flatten(prefix string, err error) []string {
	var me openapi3.MultiError
	if errors.As(err, &me) {
		var out []string
		for _, e := range me {
			out = append(out, flatten(prefix, e)...)
		}
		return out
	}
	msg := strings.ReplaceAll(err.Error(), "\n", " ")
	return []string{prefix + ": " + msg}
}
