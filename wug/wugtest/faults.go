package wugtest

import (
	"math/rand/v2"
	"sync"
	"time"
)

// faultState holds injected faults. It has its own lock so a slow request
// (latency) never blocks the state lock.
type faultState struct {
	mu       sync.Mutex
	queue    []*fault
	drops    []*fault
	rate     float64
	rng      *rand.Rand
	minDelay time.Duration
	maxDelay time.Duration
}

type fault struct {
	pattern    string
	status     int
	left       int
	retryAfter time.Duration
}

func newFaultState() faultState {
	return faultState{rng: rand.New(rand.NewPCG(1, 2))}
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

// ClearFaults removes queued faults, drops, the fault rate and latency.
func (h *Handler) ClearFaults() {
	h.faults.mu.Lock()
	defer h.faults.mu.Unlock()
	h.faults.queue, h.faults.drops = nil, nil
	h.faults.rate, h.faults.minDelay, h.faults.maxDelay = 0, 0, 0
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

func takeFault(list []*fault, method, path, routeName string) ([]*fault, *fault) {
	for i, fl := range list {
		if routeMatches(fl.pattern, method, path, routeName) {
			fl.left--
			if fl.left <= 0 {
				list = append(list[:i:i], list[i+1:]...)
			}
			return list, fl
		}
	}
	return list, nil
}

func (f *faultState) shouldDrop(method, path, routeName string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	var fl *fault
	f.drops, fl = takeFault(f.drops, method, path, routeName)
	return fl != nil
}

func (f *faultState) next(method, path, routeName string) (fault, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var fl *fault
	f.queue, fl = takeFault(f.queue, method, path, routeName)
	if fl != nil {
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
