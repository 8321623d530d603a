package export

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/wugsync/wugsync/store"
	"github.com/wugsync/wugsync/wug"
)

// Each fault class costs a pinned number of WUG calls through the
// executor: a refusal is recorded at once, an unknown outcome is looked up
// and re-sent at most once.
func TestExecutorCallsPerFault(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		scan       bool
		fault      func(*fakeWUG)
		wantCalls  map[string]int // of the calls named here
		wantCounts Counts
	}{
		{name: "refused add", fault: func(f *fakeWUG) { f.addFails = 1 },
			wantCalls:  map[string]int{"BulkAdd": 1, "FindByAddress": 0},
			wantCounts: Counts{Selected: 10, Failed: 10}},
		{name: "answer lost after apply", fault: func(f *fakeWUG) { f.addLost = 1 },
			wantCalls:  map[string]int{"BulkAdd": 1, "FindByAddress": 10},
			wantCounts: Counts{Selected: 10, Added: 10}},
		{name: "request lost before apply", fault: func(f *fakeWUG) { f.addVanish = 1 },
			wantCalls:  map[string]int{"BulkAdd": 2, "FindByAddress": 10},
			wantCounts: Counts{Selected: 10, Added: 10}},
		{name: "request lost twice", fault: func(f *fakeWUG) { f.addVanish = 2 },
			wantCalls:  map[string]int{"BulkAdd": 2, "FindByAddress": 20},
			wantCounts: Counts{Selected: 10, Failed: 10}},
		{name: "scan answer lost while it runs", scan: true, fault: func(f *fakeWUG) { f.scanDone, f.scanLost = false, 1 },
			wantCalls:  map[string]int{"ScanIPs": 1, "Scans": 1, "FindByAddress": 0},
			wantCounts: Counts{Selected: 10, Scanned: 10}},
		{name: "scan answer lost after it ran", scan: true, fault: func(f *fakeWUG) { f.scanLost = 1 },
			wantCalls:  map[string]int{"ScanIPs": 1, "Scans": 1, "FindByAddress": 0},
			wantCounts: Counts{Selected: 10, Scanned: 10}},
		{name: "scan request lost before WUG read it", scan: true, fault: func(f *fakeWUG) { f.scanVanish = 1 },
			wantCalls:  map[string]int{"ScanIPs": 2, "Scans": 1, "FindByAddress": 10},
			wantCounts: Counts{Selected: 10, Scanned: 10}},
		{name: "scan request lost twice", scan: true, fault: func(f *fakeWUG) { f.scanVanish = 2 },
			wantCalls:  map[string]int{"ScanIPs": 2, "Scans": 2, "FindByAddress": 20},
			wantCounts: Counts{Selected: 10, Failed: 10}},
		{name: "scan answer lost, scan aged out", scan: true, fault: func(f *fakeWUG) { f.scanForget, f.scanLost = true, 1 },
			wantCalls:  map[string]int{"ScanIPs": 1, "Scans": 1, "FindByAddress": 10},
			wantCounts: Counts{Selected: 10, Scanned: 10}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := newJobEnv(t, 10)
			e.job.Connection.Scan = tt.scan
			for i := range e.src.devs { // one group path: one request
				e.src.devs[i].Site = e.src.devs[0].Site
			}
			tt.fault(e.wug)
			res := e.run(t, RunOptions{})
			if diff := cmp.Diff(tt.wantCounts, res.Counts); diff != "" {
				t.Errorf("counts (-want +got):\n%s", diff)
			}
			_, calls := e.wug.stats()
			got := map[string]int{}
			for op := range tt.wantCalls {
				got[op] = calls[op]
			}
			if diff := cmp.Diff(tt.wantCalls, got); diff != "" {
				t.Errorf("WUG calls (-want +got):\n%s", diff)
			}
			for addr, n := range e.wug.byAddr() {
				if n > 1 {
					t.Errorf("WUG holds %d devices for %s", n, addr)
				}
			}
		})
	}
}

// A run whose context ends (SIGTERM) leaves the batches it never sent
// untouched and the one in flight pending, recording no "context
// canceled" error; the next run finishes without a duplicate.
func TestExportCancelledRunLeavesWorkPending(t *testing.T) {
	t.Parallel()
	for _, scan := range []bool{false, true} {
		t.Run(fmt.Sprintf("scan=%t", scan), func(t *testing.T) {
			t.Parallel()
			const n = 300
			e := newJobEnv(t, n)
			e.job.Connection.Scan = scan
			e.job.Connection.BatchSize = 10
			ctx, cancel := context.WithCancel(context.Background())
			var sends atomic.Int32
			e.wug.hook = func(op string) {
				if (op == "BulkAdd" || op == "ScanIPs") && sends.Add(1) == 3 {
					// The third request reaches WUG as the run is told to stop.
					e.wug.addLost, e.wug.scanLost = 1, 1
					cancel()
				}
			}
			res, err := e.job.Run(ctx, RunOptions{})
			if !errors.Is(err, context.Canceled) || res.Status != store.RunInterrupted {
				t.Fatalf("cancelled run: status %s, err %v", res.Status, err)
			}
			byStatus := map[store.Status]int{}
			for _, r := range e.records(t) {
				byStatus[r.Status]++
				if strings.Contains(r.LastError, "context canceled") {
					t.Errorf("record %s: %s %q", r.Key, r.Status, r.LastError)
				}
			}
			if byStatus[store.StatusError] != 0 || byStatus[store.StatusPending] == 0 {
				t.Errorf("records by status %v: want the request in flight pending and no error", byStatus)
			}
			if len(e.records(t)) >= n {
				t.Fatalf("all %d addresses were recorded: the cancel landed after the work", n)
			}
			e.wug.hook = nil
			e.wug.scanDone = true
			res = e.run(t, RunOptions{})
			if res.Counts.Failed != 0 {
				t.Errorf("resumed run: %+v", res.Counts)
			}
			for addr, c := range e.wug.byAddr() {
				if c > 1 {
					t.Errorf("WUG holds %d devices for %s", c, addr)
				}
			}
			if got := len(e.wug.byAddr()); got != n {
				t.Errorf("WUG holds %d addresses, want %d", got, n)
			}
		})
	}
}

// Which failures leave a creating request's outcome unknown.
func TestOutcomeUnknown(t *testing.T) {
	t.Parallel()
	api := func(status int) error {
		return fmt.Errorf("Devices.BulkAdd: %w", &wug.APIError{StatusCode: status, Method: "PATCH", URL: "/api/v1/devices/-/config/template"})
	}
	tests := []struct {
		name string
		err  error
		want bool
	}{
		{"bad request", api(400), false},
		{"conflict", api(409), false},
		{"rate limited", api(429), false},
		{"unavailable", api(503), false},
		{"unauthorized", api(401), false},
		{"login refused", &wug.AuthError{}, false},
		{"invalid input", &wug.InputError{Field: "templates", Reason: "empty"}, false},
		{"internal error", api(500), true},
		{"bad gateway", api(502), true},
		{"gateway timeout", api(504), true},
		{"connection reset", errors.New("read tcp: connection reset by peer"), true},
		{"unreadable answer", fmt.Errorf("decode answer: %w", errors.New("invalid character '<'")), true},
		{"partial failure", &wug.ResultError{Op: "Devices.BulkAdd", Succeeded: 3}, true},
		{"marked unknown by the client", fmt.Errorf("%w: %w", wug.ErrOutcomeUnknown, api(400)), true},
		{"marked unknown by the client", fmt.Errorf("Devices.BulkAdd: %w (%w)", api(409), wug.ErrOutcomeUnknown), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := outcomeUnknown(tt.err); got != tt.want {
				t.Errorf("outcomeUnknown(%v) = %v, want %v", tt.err, got, tt.want)
			}
		})
	}
}
