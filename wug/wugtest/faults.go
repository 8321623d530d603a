package wugtest

import (
	"fmt"
	"math/rand/v2"
	"sync"
	"time"
)

// faultState holds injected faults. It has its own lock so a slow request
// (latency) never blocks the state lock.
type faultState struct {
	mu        sync.Mutex
	queue     []*fault
	drops     []*fault
	rate      float64
	rng       *rand.Rand
	minDelay  time.Duration
	maxDelay  time.Duration
	misbehave []*fault
	mbRates   []*misbehaveRate
	observers []*observer
	// held is closed to release every answer that ApplyThenLate holds back.
	held    chan struct{}
	stopped bool // held stays closed: the server is closing
}

type fault struct {
	pattern    string
	status     int
	left       int
	retryAfter time.Duration
	kind       Misbehavior
	delay      time.Duration
}

func newFaultState() faultState {
	return faultState{rng: rand.New(rand.NewPCG(1, 2)), held: make(chan struct{})}
}

// Fault describes an injected error answer.
type Fault struct {
	// Route selects the requests: "[METHOD ]PATH", where PATH is a route
	// template as the contract spells it ("/api/v1/devices/{deviceId}") or a
	// literal path ("/api/v1/devices/12"); METHOD "*" or none means any.
	Route string
	// Status is the HTTP status to answer with, e.g. 500, 503, 429.
	Status int
	// Times is how many matching requests fail (at least 1).
	Times int
	// RetryAfter, when positive, is sent as a Retry-After header in
	// whole seconds (rounded up).
	RetryAfter time.Duration
}

// FailNext makes the next f.Times requests matching f.Route answer f.Status
// with WUG's error body, without touching state. Faults queue in order.
func (h *Handler) FailNext(f Fault) {
	h.faults.mu.Lock()
	defer h.faults.mu.Unlock()
	h.faults.queue = append(h.faults.queue, &fault{pattern: f.Route, status: f.Status, left: max(f.Times, 1), retryAfter: f.RetryAfter})
}

// DropNext makes the next n requests matching route lose their connection
// before any answer (the client sees a connection reset or EOF).
func (h *Handler) DropNext(route string, n int) {
	h.faults.mu.Lock()
	defer h.faults.mu.Unlock()
	h.faults.drops = append(h.faults.drops, &fault{pattern: route, left: max(n, 1)})
}

// SetFaultRate makes each API request (the token endpoint excepted) fail with
// probability rate, answering 500, 503 or 429 in turn chosen at random; 503
// and 429 carry "Retry-After: 1". The seed makes the sequence reproducible
// for a given order of requests. A rate of 0 turns it off.
func (h *Handler) SetFaultRate(rate float64, seed uint64) {
	h.faults.mu.Lock()
	defer h.faults.mu.Unlock()
	h.faults.rate = rate
	h.faults.rng = rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
}

// SetLatency delays every request by a duration drawn uniformly from
// [min, max] (fixed when they are equal; zero turns it off). A request whose
// context ends while it waits is abandoned.
func (h *Handler) SetLatency(min, max time.Duration) {
	h.faults.mu.Lock()
	defer h.faults.mu.Unlock()
	if max < min {
		max = min
	}
	h.faults.minDelay, h.faults.maxDelay = min, max
}

// ClearFaults removes queued faults, drops, the fault rate, latency, queued
// misbehaviors, misbehavior rates and observers, and releases the answers
// that [ApplyThenLate] holds back.
func (h *Handler) ClearFaults() {
	h.faults.mu.Lock()
	defer h.faults.mu.Unlock()
	h.faults.queue, h.faults.drops = nil, nil
	h.faults.rate, h.faults.minDelay, h.faults.maxDelay = 0, 0, 0
	h.faults.misbehave, h.faults.mbRates, h.faults.observers = nil, nil, nil
	h.faults.releaseLocked()
}

func (f *faultState) latency() time.Duration {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.maxDelay <= 0 {
		return 0
	}
	if f.maxDelay == f.minDelay {
		return f.minDelay
	}
	return f.minDelay + time.Duration(f.rng.Int64N(int64(f.maxDelay-f.minDelay)+1))
}

// takeFault takes one use of the first fault in *list that matches the
// request, dropping it from *list once it is used up; nil when none matches.
func takeFault(list *[]*fault, method, path, routeName string) *fault {
	for i, fl := range *list {
		if routeMatches(fl.pattern, method, path, routeName) {
			fl.left--
			if fl.left <= 0 {
				*list = append((*list)[:i:i], (*list)[i+1:]...)
			}
			return fl
		}
	}
	return nil
}

func (f *faultState) shouldDrop(method, path, routeName string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return takeFault(&f.drops, method, path, routeName) != nil
}

func (f *faultState) next(method, path, routeName string) (fault, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if fl := takeFault(&f.queue, method, path, routeName); fl != nil {
		return *fl, true
	}
	if f.rate > 0 && path != "/api/v1/token" && f.rng.Float64() < f.rate {
		switch f.rng.IntN(3) {
		case 0:
			return fault{status: 500}, true
		case 1:
			return fault{status: 503, retryAfter: time.Second}, true
		default:
			return fault{status: 429, retryAfter: time.Second}, true
		}
	}
	return fault{}, false
}

// Misbehavior is a way the fake can answer wrongly on purpose, to test how a
// client copes with a lost, late or malformed answer. The package
// documentation describes each one.
type Misbehavior string

// The misbehaviors the fake can inject.
const (
	// ApplyThenDrop handles the request (state changes), then drops the
	// connection without an answer.
	ApplyThenDrop Misbehavior = "apply-then-drop"
	// ApplyThenLate handles the request, then answers only after
	// [Misbehave.Delay], or holds the answer until the client gives up when
	// the delay is zero.
	ApplyThenLate Misbehavior = "apply-then-late"
	// ErrorEnvelope answers HTTP 200 with {"error":{"message":"..."}} and no
	// data, leaving state untouched.
	ErrorEnvelope Misbehavior = "error-envelope"
	// NonJSON answers HTTP 200 with a text/html body, leaving state
	// untouched.
	NonJSON Misbehavior = "non-json"
	// NumericIDs handles the request normally and renders id fields (id,
	// deviceId, resultId, parentGroupId, deviceIds, …) as JSON numbers.
	NumericIDs Misbehavior = "numeric-ids"
	// CorrectedSpelling handles the request normally and spells the
	// contract's "resourcesWithErros" list as "resourcesWithErrors".
	CorrectedSpelling Misbehavior = "corrected-spelling"
)

func (k Misbehavior) valid() bool {
	switch k {
	case ApplyThenDrop, ApplyThenLate, ErrorEnvelope, NonJSON, NumericIDs, CorrectedSpelling:
		return true
	}
	return false
}

// Misbehave describes misbehaving answers to inject with
// [Handler.MisbehaveNext].
type Misbehave struct {
	// Route selects the requests, as in [Fault.Route].
	Route string
	// Kind is how the answer misbehaves.
	Kind Misbehavior
	// Times is how many matching requests misbehave (at least 1).
	Times int
	// Delay is how long [ApplyThenLate] holds the answer back; zero holds
	// it until the client gives up (or [Handler.ClearFaults] or Close).
	Delay time.Duration
}

// MisbehaveNext makes the next m.Times requests matching m.Route misbehave
// as m.Kind says. Queued faults ([Handler.FailNext]) take precedence;
// misbehaviors queue in order. It panics on an unknown Kind.
func (h *Handler) MisbehaveNext(m Misbehave) {
	if !m.Kind.valid() {
		panic(fmt.Sprintf("wugtest: MisbehaveNext: unknown misbehavior %q", m.Kind))
	}
	h.faults.mu.Lock()
	defer h.faults.mu.Unlock()
	h.faults.misbehave = append(h.faults.misbehave, &fault{pattern: m.Route, left: max(m.Times, 1), kind: m.Kind, delay: m.Delay})
}

// misbehaveRate is one SetMisbehaveRate setting, with its own random source
// so its draws do not depend on other settings.
type misbehaveRate struct {
	pattern string
	kind    Misbehavior
	rate    float64
	rng     *rand.Rand
}

// SetMisbehaveRate makes each request matching route (as in [Fault.Route])
// misbehave as kind says with probability rate, reproducibly for a seed and
// a given order of matching requests. Each (route, kind) pair has one rate;
// setting it again replaces it and a rate of 0 turns it off. When several
// fire for one request, the one set first wins; [ApplyThenLate] then holds
// the answer until the client gives up. It panics on an unknown kind or a
// rate outside [0, 1].
func (h *Handler) SetMisbehaveRate(route string, kind Misbehavior, rate float64, seed uint64) {
	if !kind.valid() {
		panic(fmt.Sprintf("wugtest: SetMisbehaveRate: unknown misbehavior %q", kind))
	}
	if !(rate >= 0 && rate <= 1) {
		panic(fmt.Sprintf("wugtest: SetMisbehaveRate: rate %v is outside [0, 1]", rate))
	}
	h.faults.mu.Lock()
	defer h.faults.mu.Unlock()
	rates := h.faults.mbRates[:0:0]
	for _, r := range h.faults.mbRates {
		if r.pattern != route || r.kind != kind {
			rates = append(rates, r)
		}
	}
	if rate > 0 {
		rates = append(rates, &misbehaveRate{pattern: route, kind: kind, rate: rate, rng: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))})
	}
	h.faults.mbRates = rates
}

// observer is one Observe registration and its count of applied requests.
type observer struct {
	pattern string
	fn      func(n int)
	n       int
}

// Observe calls fn after the fake has applied the n-th request matching
// route (as in [Fault.Route]), counting from 1, and before its answer is
// written: a test can stop or kill a client mid-work, for example at the
// Nth template apply. A request counts as applied when its route handler
// answered 2xx (an injected fault, error envelope or non-JSON answer is
// not applied; an apply-then-drop or apply-then-late one is). fn runs on
// the request's goroutine without any lock of the fake held, so it may
// block or call the fake; concurrent requests may run fn concurrently.
func (h *Handler) Observe(route string, fn func(n int)) {
	if fn == nil {
		return
	}
	h.faults.mu.Lock()
	defer h.faults.mu.Unlock()
	h.faults.observers = append(h.faults.observers, &observer{pattern: route, fn: fn})
}

// misbehavior takes the misbehavior for a request: a queued one first, else
// one drawn from the rates.
func (f *faultState) misbehavior(method, path, routeName string) (fault, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if fl := takeFault(&f.misbehave, method, path, routeName); fl != nil {
		return *fl, true
	}
	var picked *misbehaveRate
	for _, r := range f.mbRates {
		// Every matching setting draws, so each one's sequence depends only
		// on its seed and the matching requests.
		if routeMatches(r.pattern, method, path, routeName) && r.rng.Float64() < r.rate && picked == nil {
			picked = r
		}
	}
	if picked != nil {
		return fault{kind: picked.kind}, true
	}
	return fault{}, false
}

// observe counts an applied request for every matching observer and runs
// their callbacks once the lock is released.
func (f *faultState) observe(method, path, routeName string) {
	type due struct {
		fn func(int)
		n  int
	}
	var calls []due
	f.mu.Lock()
	for _, o := range f.observers {
		if routeMatches(o.pattern, method, path, routeName) {
			o.n++
			calls = append(calls, due{o.fn, o.n})
		}
	}
	f.mu.Unlock()
	for _, c := range calls {
		c.fn(c.n)
	}
}

// heldUntil returns the channel that closes when held answers are released.
func (f *faultState) heldUntil() <-chan struct{} {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.held
}

// stopHolding lets every answer held back by ApplyThenLate go, now and from
// now on, so a closing server does not wait for them.
func (f *faultState) stopHolding() {
	f.mu.Lock()
	defer f.mu.Unlock()
	if !f.stopped {
		close(f.held)
		f.stopped = true
	}
}

// releaseLocked lets the answers held back so far go.
func (f *faultState) releaseLocked() {
	if !f.stopped {
		close(f.held)
		f.held = make(chan struct{})
	}
}
