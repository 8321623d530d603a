package wugtest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/wugsync/wugsync/wug/wugtest/internal/contract"
)

// Default credentials accepted by the fake unless [WithCredentials] changes them.
const (
	DefaultUser     = "admin"
	DefaultPassword = "wugtest-password"
)

// maxBody caps a request body; WUG bodies are small, and a runaway client
// should get a clear 413 rather than exhaust memory.
const maxBody = 32 << 20

// Handler is the fake WhatsUp Gold REST API as an [http.Handler]. Its
// methods are the test controls: seed data, inject faults, read back state
// and recorded requests. All methods are safe for concurrent use.
//
// Create one with [NewHandler] to mount it yourself or serve it with
// [Handler.Listen], or use [NewServer] (in tests) or [Start] to get a
// running TLS server and a wired client.
type Handler struct {
	cfg     config
	routes  []*route
	checker *contract.Checker

	mu       sync.Mutex
	st       *state
	tokens   tokenStore
	faults   faultState
	requests []Request
	viol     []string
	reportFn func(format string, args ...any)
}

// NewHandler returns a fake WUG server as an http.Handler, seeded with the
// groups a fresh installation has ("My Network" with id "0" and its child
// "Discovered Devices"). Mount it at the root: it serves /api/v1/….
//
// Outside tests, contract violations and unknown routes are reported through
// the function given with [WithReporter] (none by default) and are always
// available from [Handler.Violations].
func NewHandler(opts ...Option) *Handler {
	cfg := defaultConfig()
	for _, o := range opts {
		o(&cfg)
	}
	h := &Handler{cfg: cfg, st: newState(cfg.now), reportFn: cfg.reporter}
	h.tokens = newTokenStore()
	h.faults = newFaultState()
	h.routes = h.buildRoutes()
	if cfg.contract {
		c, err := contract.Load()
		if err != nil {
			// The contract is embedded; failing to load it is a build defect.
			panic(fmt.Sprintf("wugtest: %v", err))
		}
		h.checker = c
	}
	return h
}

// report records a problem the test that drove the fake should know about.
func (h *Handler) report(format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	h.mu.Lock()
	h.viol = append(h.viol, msg)
	fn := h.reportFn
	h.mu.Unlock()
	if fn != nil {
		fn("wugtest: %s", msg)
	}
}

// Violations returns every contract violation and unexpected route seen so
// far, in order. With [NewServer] each one has also failed the test.
func (h *Handler) Violations() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]string(nil), h.viol...)
}

// call carries one request through a route handler.
type call struct {
	h      *Handler
	w      http.ResponseWriter
	r      *http.Request
	params map[string]string
	body   []byte
	query  url.Values
}

// ServeHTTP implements http.Handler.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := h.cfg.now()
	body, err := io.ReadAll(io.LimitReader(r.Body, maxBody+1))
	if err != nil {
		writeError(w, http.StatusBadRequest, "BadRequest", "cannot read request body: "+err.Error())
		return
	}
	if len(body) > maxBody {
		writeError(w, http.StatusRequestEntityTooLarge, "RequestEntityTooLarge", "request body exceeds 32 MiB")
		return
	}
	rt, params, match := h.match(r.Method, r.URL.Path)
	routeName := rt.nameOrEmpty()
	// Each request is recorded before its answer leaves, so a test that has
	// its response also sees it in Requests and Count.
	rec := &recorder{header: http.Header{}}

	if d := h.faults.latency(); d > 0 {
		t := time.NewTimer(d)
		select {
		case <-t.C:
		case <-r.Context().Done():
			t.Stop()
			h.record(r, routeName, body, 499, start)
			return
		}
	}

	if h.faults.shouldDrop(r.Method, r.URL.Path, routeName) {
		h.record(r, routeName, body, -1, start)
		dropConn(w)
		return
	}
	out := h.handle(rec, r, body, rt, params, match)
	status := rec.statusCode()
	if out.misbehave.kind == ApplyThenDrop {
		status = -1
	}
	h.record(r, routeName, body, status, start)
	if out.applied {
		h.faults.observe(r.Method, r.URL.Path, routeName)
	}
	switch out.misbehave.kind {
	case ApplyThenDrop:
		dropConn(w)
		return
	case ApplyThenLate:
		var late <-chan time.Time
		if d := out.misbehave.delay; d > 0 {
			t := time.NewTimer(d)
			defer t.Stop()
			late = t.C
		}
		select {
		case <-late:
		case <-h.faults.heldUntil():
		case <-r.Context().Done():
			return
		}
	}
	rec.flush(w)
}

// dropConn closes the request's connection without an answer, so the client
// sees a connection reset or EOF.
func dropConn(w http.ResponseWriter) {
	if hj, ok := w.(http.Hijacker); ok {
		if conn, _, err := hj.Hijack(); err == nil {
			conn.Close()
			return
		}
	}
	panic(http.ErrAbortHandler)
}

// outcome is what handle did beyond the answer in its recorder.
type outcome struct {
	// applied is set when the route handler ran and answered 2xx.
	applied bool
	// misbehave is the misbehavior that still has to happen to the answer
	// (ApplyThenDrop or ApplyThenLate), if any.
	misbehave fault
}

// handle answers one request into rec: contract check, injected faults and
// misbehaviors, routing errors, authentication, then the route itself.
func (h *Handler) handle(rec *recorder, r *http.Request, body []byte, rt *route, params map[string]string, match matchResult) outcome {
	var crt *contract.Route
	if h.checker != nil && match == matchOK {
		var v []string
		crt, v = h.checker.CheckRequest(r, body)
		for _, msg := range v {
			h.report("contract: %s", msg)
		}
	}
	if f, ok := h.faults.next(r.Method, r.URL.Path, rt.nameOrEmpty()); ok {
		if f.retryAfter > 0 {
			rec.header.Set("Retry-After", fmt.Sprint(int((f.retryAfter+time.Second-1)/time.Second)))
		}
		writeError(rec, f.status, http.StatusText(f.status), "fault injected by wugtest")
		return outcome{}
	}
	mb, _ := h.faults.misbehavior(r.Method, r.URL.Path, rt.nameOrEmpty())
	if mb.kind == ErrorEnvelope || mb.kind == NonJSON {
		// Deliberately off the contract, so not checked against it.
		writeOffContract(rec, mb.kind)
		return outcome{}
	}
	h.route(rec, r, body, rt, params, match, crt)
	out := outcome{applied: match == matchOK && rec.statusCode() < 300}
	switch mb.kind {
	case NumericIDs, CorrectedSpelling:
		// The fake's own answer was checked in route; the rewrite is
		// deliberately off the contract.
		rewriteBody(rec, mb.kind)
	case ApplyThenDrop, ApplyThenLate:
		out.misbehave = mb
	}
	return out
}

// route answers a request that no fault or misbehavior took over: routing
// errors, authentication, then the route itself, its answer checked against
// the contract.
func (h *Handler) route(rec *recorder, r *http.Request, body []byte, rt *route, params map[string]string, match matchResult, crt *contract.Route) {
	if match != matchOK && h.checker != nil {
		if op, err := h.checker.Find(r.Method, r.URL.Path); err == nil {
			h.report("%s %s: %s is in the contract but wugtest does not implement it (501)", r.Method, r.URL.Path, op.OperationID)
			writeError(rec, http.StatusNotImplemented, "NotImplemented", "wugtest does not implement "+op.OperationID)
			return
		}
	}
	switch match {
	case matchNotFound:
		if !h.cfg.allowUnknown {
			h.report("%s %s: no such route (404)", r.Method, r.URL.Path)
		}
		writeError(rec, http.StatusNotFound, "NotFound", "No HTTP resource was found that matches the request URI '"+r.URL.Path+"'.")
		return
	case matchBadMethod:
		if !h.cfg.allowUnknown {
			h.report("%s %s: method not allowed on this route (405)", r.Method, r.URL.Path)
		}
		rec.header.Set("Allow", strings.Join(h.allowed(r.URL.Path), ", "))
		writeError(rec, http.StatusMethodNotAllowed, "MethodNotAllowed", "The requested resource does not support http method '"+r.Method+"'.")
		return
	}
	if !rt.public && !h.authorized(r) {
		rec.header.Set("WWW-Authenticate", "Bearer")
		writeError(rec, http.StatusUnauthorized, "Unauthorized", "Authorization has been denied for this request.")
		return
	}
	rt.fn(&call{h: h, w: rec, r: r, params: params, body: body, query: r.URL.Query()})
	if crt != nil && rec.statusCode() < 300 {
		for _, msg := range h.checker.CheckResponse(r, crt, rec.statusCode(), rec.header, rec.buf.Bytes()) {
			h.report("contract: %s", msg)
		}
	}
}

// recorder buffers a response so it can be checked against the contract
// before it is sent.
type recorder struct {
	header http.Header
	status int
	buf    bytes.Buffer
}

func (r *recorder) Header() http.Header { return r.header }

func (r *recorder) Write(p []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	return r.buf.Write(p)
}

func (r *recorder) WriteHeader(code int) {
	if r.status == 0 {
		r.status = code
	}
}

func (r *recorder) statusCode() int {
	if r.status == 0 {
		return http.StatusOK
	}
	return r.status
}

func (r *recorder) flush(w http.ResponseWriter) {
	for k, v := range r.header {
		w.Header()[k] = v
	}
	w.WriteHeader(r.statusCode())
	w.Write(r.buf.Bytes())
}

// writeJSON sends v as the JSON body with the given status.
func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		writeError(w, http.StatusInternalServerError, "InternalError", "encoding response: "+err.Error())
		return
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	w.Write(b)
}

// apiError is WUG's error body, as GET /api/v1/errors/{errorType} documents it.
type apiError struct {
	Error apiErrorBody `json:"error"`
}

type apiErrorBody struct {
	Status  int    `json:"status"`
	Code    string `json:"code"`
	Message string `json:"message"`
}

func writeError(w http.ResponseWriter, status int, code, msg string) {
	code = strings.ReplaceAll(code, " ", "")
	writeJSON(w, status, apiError{apiErrorBody{Status: status, Code: code, Message: msg}})
}

// Response helpers for route handlers.

func (c *call) json(v any) { writeJSON(c.w, http.StatusOK, v) }

func (c *call) data(v any) { c.json(map[string]any{"data": v}) }

func (c *call) fail(status int, format string, args ...any) {
	writeError(c.w, status, http.StatusText(status), fmt.Sprintf(format, args...))
}

func (c *call) notFound(what, id string) {
	c.fail(http.StatusNotFound, "%s %q not found", what, id)
}

// decode parses the JSON request body into v. Keys match struct fields
// case-insensitively, as WUG's ASP.NET binding does. It answers 400 and
// returns false on a malformed or missing body.
func (c *call) decode(v any) bool {
	if len(bytes.TrimSpace(c.body)) == 0 {
		c.fail(http.StatusBadRequest, "request body is required")
		return false
	}
	if err := json.Unmarshal(c.body, v); err != nil {
		c.fail(http.StatusBadRequest, "malformed JSON body: %v", err)
		return false
	}
	return true
}

// decodeOptional is decode for bodies the contract marks optional or that
// WUG tolerates being empty.
func (c *call) decodeOptional(v any) bool {
	if len(bytes.TrimSpace(c.body)) == 0 {
		return true
	}
	return c.decode(v)
}

// queryBool reads a boolean query parameter with a default.
func (c *call) queryBool(name string, def bool) (bool, bool) {
	s := c.query.Get(name)
	switch strings.ToLower(s) {
	case "":
		return def, true
	case "true", "1":
		return true, true
	case "false", "0":
		return false, true
	}
	c.fail(http.StatusBadRequest, "query parameter %s: %q is not a boolean", name, s)
	return false, false
}
